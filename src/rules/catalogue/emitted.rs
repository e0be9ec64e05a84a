//! The rule ids the sources emit, found by reading them (not by a hand list), and the test that
//! each is in the catalogue.
//!
//! An id is emitted as a string literal `stepNN/<id>` (a `const`, an `Edit`'s rule, an item's
//! rule) or through a helper that formats a parameter into one (`fn item(.., rule: &str, ..)`
//! with `format!("step02/{rule}")`): such a parameter is a *sink*, and so is every parameter of
//! another function passed straight into a sink. Each call of a sink contributes the string
//! literals its argument can be: a literal, a `const`, a local `let`, the branches of an `if` or a
//! `match`. An argument that is none of these is listed as unresolved and fails the test (make
//! it a literal or extend [`Scan::values`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// `stepNN/<id>`, `stepNN` known; `step??/<id>` when the number is formatted in at run time.
#[derive(Debug, Default)]
pub struct Emitted {
    /// id -> where (`file:line`, every site).
    pub ids: BTreeMap<String, BTreeSet<String>>,
    /// Sink arguments whose values could not be found.
    pub unresolved: Vec<String>,
}

struct Fn {
    file: usize,
    name: String,
    params: Vec<String>,
    body: syn::Block,
}

/// A parameter that ends up in a rule id: `prefix/{param}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Sink {
    file: usize,
    name: String,
    index: usize,
    prefix: String,
}

struct FileInfo {
    rel: String,
    /// `src/steps/stepNN/...` or `src/steps/details/...`: the folder, for calls into `super`.
    folder: String,
    consts: BTreeMap<String, String>,
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn lit_str(tt: &proc_macro2::Literal) -> Option<String> {
    syn::parse_str::<syn::LitStr>(&tt.to_string())
        .ok()
        .map(|l| l.value())
}

fn string_literals(ts: TokenStream, out: &mut Vec<(String, usize)>) {
    for tt in ts {
        match tt {
            TokenTree::Group(g) => string_literals(g.stream(), out),
            TokenTree::Literal(l) => {
                if let Some(s) = lit_str(&l) {
                    out.push((s, l.span().start().line));
                }
            }
            _ => {}
        }
    }
}

fn is_step_prefix(s: &str) -> bool {
    s.len() == 6 && s.starts_with("step") && s[4..].bytes().all(|b| b.is_ascii_digit())
}

fn is_id_word(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A format template `<prefix>/{<param>}` or `<prefix>/<id>` whose prefix is `stepNN`, a
/// formatted number (`step{:02}`, `step{step:02}`) or a `const` holding `stepNN`.
enum Template {
    Param { prefix: String, param: String },
    Fixed(String),
}

fn template(s: &str, consts: &BTreeMap<String, String>) -> Option<Template> {
    let (head, tail) = s.split_once('/')?;
    let prefix = if is_step_prefix(head) {
        head.to_string()
    } else if head.starts_with("step{") && head.ends_with('}') {
        "step??".to_string()
    } else if let Some(c) = head.strip_prefix('{').and_then(|h| h.strip_suffix('}')) {
        consts.get(c).filter(|v| is_step_prefix(v))?.clone()
    } else {
        return None;
    };
    if let Some(p) = tail.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        if let Some(v) = consts.get(p) {
            return is_id_word(v).then(|| Template::Fixed(format!("{prefix}/{v}")));
        }
        if p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !p.is_empty() {
            return Some(Template::Param {
                prefix,
                param: p.to_string(),
            });
        }
        return None;
    }
    // `compile-{code}`: a family of ids, `compile-*` in the catalogue.
    if let Some((word, rest)) = tail.split_once("-{") {
        if is_id_word(word) && rest.ends_with('}') && !rest.contains('{') {
            return Some(Template::Fixed(format!("{prefix}/{word}-*")));
        }
    }
    is_id_word(tail).then(|| Template::Fixed(format!("{prefix}/{tail}")))
}

struct Collect<'a> {
    file: usize,
    out: &'a mut Vec<Fn>,
}

fn params_of(sig: &syn::Signature) -> Vec<String> {
    sig.inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(match &*t.pat {
                syn::Pat::Ident(i) => i.ident.to_string(),
                _ => String::new(),
            }),
            syn::FnArg::Receiver(_) => None,
        })
        .collect()
}

impl<'ast> Visit<'ast> for Collect<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.out.push(Fn {
            file: self.file,
            name: f.sig.ident.to_string(),
            params: params_of(&f.sig),
            body: (*f.block).clone(),
        });
        syn::visit::visit_item_fn(self, f);
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.out.push(Fn {
            file: self.file,
            name: f.sig.ident.to_string(),
            params: params_of(&f.sig),
            body: f.block.clone(),
        });
        syn::visit::visit_impl_item_fn(self, f);
    }
}

struct Consts<'a>(&'a mut BTreeMap<String, String>);

impl<'ast> Visit<'ast> for Consts<'_> {
    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        if let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &*c.expr
        {
            self.0.insert(c.ident.to_string(), s.value());
        }
    }
}

/// Calls in a body: (callee name, args).
#[derive(Default)]
struct Calls<'a> {
    calls: Vec<(String, Vec<&'a syn::Expr>, usize)>,
    lets: BTreeMap<String, Vec<&'a syn::Expr>>,
    /// Fields of struct literals: (field, value, line).
    fields: Vec<(String, &'a syn::Expr, usize)>,
}

impl<'a> Visit<'a> for Calls<'a> {
    fn visit_expr_call(&mut self, c: &'a syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            if let Some(last) = p.path.segments.last() {
                let line = last.ident.span().start().line;
                self.calls
                    .push((last.ident.to_string(), c.args.iter().collect(), line));
            }
        }
        syn::visit::visit_expr_call(self, c);
    }
    fn visit_expr_method_call(&mut self, c: &'a syn::ExprMethodCall) {
        let line = c.method.span().start().line;
        self.calls
            .push((c.method.to_string(), c.args.iter().collect(), line));
        syn::visit::visit_expr_method_call(self, c);
    }
    fn visit_expr_struct(&mut self, e: &'a syn::ExprStruct) {
        for f in &e.fields {
            if let syn::Member::Named(m) = &f.member {
                self.fields
                    .push((m.to_string(), &f.expr, m.span().start().line));
            }
        }
        syn::visit::visit_expr_struct(self, e);
    }
    fn visit_local(&mut self, l: &'a syn::Local) {
        if let (syn::Pat::Ident(i), Some(init)) = (&l.pat, &l.init) {
            self.lets
                .entry(i.ident.to_string())
                .or_default()
                .push(&init.expr);
        }
        syn::visit::visit_local(self, l);
    }
}

/// What an argument can be: string literals, or a parameter of the enclosing function.
#[derive(Default)]
struct Values {
    literals: Vec<String>,
    params: Vec<usize>,
    /// `x.field`: the values that struct literals of the file give `field`.
    fields: Vec<String>,
    unresolved: bool,
}

struct Scan<'a> {
    consts: &'a BTreeMap<String, String>,
    params: &'a [String],
    lets: &'a BTreeMap<String, Vec<&'a syn::Expr>>,
}

impl Scan<'_> {
    fn values(&self, e: &syn::Expr, v: &mut Values, depth: usize) {
        if depth > 8 {
            v.unresolved = true;
            return;
        }
        match e {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => v.literals.push(s.value()),
            syn::Expr::Reference(r) => self.values(&r.expr, v, depth + 1),
            syn::Expr::Paren(p) => self.values(&p.expr, v, depth + 1),
            syn::Expr::Field(f) => match &f.member {
                syn::Member::Named(m) => v.fields.push(m.to_string()),
                syn::Member::Unnamed(_) => v.unresolved = true,
            },
            syn::Expr::Group(g) => self.values(&g.expr, v, depth + 1),
            syn::Expr::MethodCall(m)
                if m.args.is_empty()
                    && ["into", "to_string", "to_owned", "as_str", "as_ref"]
                        .contains(&m.method.to_string().as_str()) =>
            {
                self.values(&m.receiver, v, depth + 1)
            }
            syn::Expr::If(i) => {
                self.block(&i.then_branch, v, depth);
                match &i.else_branch {
                    Some((_, e)) => self.values(e, v, depth + 1),
                    None => v.unresolved = true,
                }
            }
            syn::Expr::Block(b) => self.block(&b.block, v, depth),
            syn::Expr::Match(m) => {
                for arm in &m.arms {
                    self.values(&arm.body, v, depth + 1)
                }
            }
            // A diverging arm adds no value.
            syn::Expr::Return(_) | syn::Expr::Continue(_) | syn::Expr::Break(_) => {}
            syn::Expr::Macro(m) if m.mac.path.is_ident("unreachable") => {}
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident().unwrap().to_string();
                if let Some(i) = self.params.iter().position(|x| *x == name) {
                    v.params.push(i);
                } else if let Some(inits) = self.lets.get(&name) {
                    for init in inits {
                        self.values(init, v, depth + 1);
                    }
                } else if let Some(c) = self.consts.get(&name) {
                    v.literals.push(c.clone());
                } else {
                    v.unresolved = true;
                }
            }
            _ => v.unresolved = true,
        }
    }

    fn block(&self, b: &syn::Block, v: &mut Values, depth: usize) {
        match b.stmts.last() {
            Some(syn::Stmt::Expr(e, None)) => self.values(e, v, depth + 1),
            _ => v.unresolved = true,
        }
    }
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<syn::Ident>().is_ok_and(|i| i == "test")
    })
}

/// Remove `#[cfg(test)]` items (recursively through inline modules); the names of the
/// out-of-line test modules removed.
fn strip_tests(items: &mut Vec<syn::Item>) -> Vec<String> {
    let mut files = Vec::new();
    items.retain(|it| {
        let attrs: &[syn::Attribute] = match it {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            _ => &[],
        };
        if !is_cfg_test(attrs) {
            return true;
        }
        if let syn::Item::Mod(m) = it {
            if m.content.is_none() {
                files.push(m.ident.to_string());
            }
        }
        false
    });
    for it in items.iter_mut() {
        if let syn::Item::Mod(syn::ItemMod {
            content: Some((_, inner)),
            ..
        }) = it
        {
            files.extend(strip_tests(inner));
        }
    }
    files
}

/// The ids emitted by the Rust sources under `src` (test code left out).
/// The sources under `src`, sorted, parsed with their `#[cfg(test)]` items stripped, and the
/// files of `#[cfg(test)] mod x;` (test code is left out of the scan).
fn parse_sources(src: &Path) -> (Vec<PathBuf>, Vec<syn::File>, BTreeSet<PathBuf>) {
    let mut paths = Vec::new();
    rs_files(src, &mut paths);
    paths.sort();
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    let mut asts = Vec::new();
    for p in &paths {
        let text = std::fs::read_to_string(p).unwrap();
        let mut ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        for name in strip_tests(&mut ast.items) {
            let dir = match p.file_stem().and_then(|s| s.to_str()) {
                Some("mod" | "lib" | "main") => p.parent().unwrap().to_path_buf(),
                _ => p.with_extension(""),
            };
            test_only.insert(dir.join(format!("{name}.rs")));
            test_only.insert(dir.join(name).join("mod.rs"));
        }
        asts.push(ast);
    }
    (paths, asts, test_only)
}

/// Every literal `stepNN/<id>` of a file, and fixed templates (`step{:02}/imports`); a literal
/// that looks like an id but that the scan cannot read is listed as unresolved (but in the
/// loaders, which make the ids of the TOML files).
fn literal_ids(rel: &str, ast: &syn::File, consts: &BTreeMap<String, String>, em: &mut Emitted) {
    let mut lits = Vec::new();
    string_literals(quote::quote!(#ast), &mut lits);
    let loader = rel == "src/rules/mod.rs" || rel == "src/rules/catalogue.rs";
    for (s, line) in &lits {
        let looks_like_id = !loader
            && s.split_once('/').is_some_and(|(head, tail)| {
                (is_step_prefix(head) || head.starts_with("step{"))
                    && !tail.is_empty()
                    && !tail.contains(char::is_whitespace)
            });
        if looks_like_id && template(s, consts).is_none() {
            em.unresolved.push(format!("{rel}:{line}: `{s}`"));
        }
        if let Some(Template::Fixed(id)) = template(s, consts) {
            em.ids
                .entry(id)
                .or_default()
                .insert(format!("{rel}:{line}"));
        }
    }
}

/// The sinks: parameters formatted into an id (`format!("step08/{rule}")`) in a function's body.
fn direct_sinks(fns: &[Fn], files: &[FileInfo]) -> BTreeSet<Sink> {
    let mut sinks = BTreeSet::new();
    for f in fns {
        let b = &f.body;
        let mut lits = Vec::new();
        string_literals(quote::quote!(#b), &mut lits);
        for (s, _) in &lits {
            if let Some(Template::Param { prefix, param }) = template(s, &files[f.file].consts) {
                if let Some(index) = f.params.iter().position(|p| *p == param) {
                    sinks.insert(Sink {
                        file: f.file,
                        name: f.name.clone(),
                        index,
                        prefix,
                    });
                }
            }
        }
    }
    sinks
}

pub fn scan(src: &Path) -> Emitted {
    let (paths, asts, test_only) = parse_sources(src);
    let mut files = Vec::new();
    let mut fns = Vec::new();
    let mut em = Emitted::default();
    for (p, ast) in paths.iter().zip(asts) {
        let rel = p
            .strip_prefix(src.parent().unwrap())
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if test_only.contains(p) {
            continue;
        }
        let mut consts = BTreeMap::new();
        Consts(&mut consts).visit_file(&ast);
        literal_ids(&rel, &ast, &consts, &mut em);
        Collect {
            file: files.len(),
            out: &mut fns,
        }
        .visit_file(&ast);
        let folder = match rel.strip_prefix("src/steps/") {
            Some(r) => format!("src/steps/{}", r.split('/').next().unwrap()),
            None => rel.clone(),
        };
        files.push(FileInfo {
            rel,
            folder,
            consts,
        });
    }
    let mut sinks = direct_sinks(&fns, &files);
    // The sinks a call can reach: a function of the same file by that name, else one of the
    // same folder (`super::item`).
    let targets = |sinks: &BTreeSet<Sink>, file: usize, name: &str| -> Vec<Sink> {
        let same: Vec<Sink> = sinks
            .iter()
            .filter(|s| s.file == file && s.name == name)
            .cloned()
            .collect();
        let defined_here = fns.iter().any(|f| f.file == file && f.name == name);
        if !same.is_empty() || defined_here {
            return same;
        }
        sinks
            .iter()
            .filter(|s| s.name == name && files[s.file].folder == files[file].folder)
            .cloned()
            .collect()
    };
    // Propagate to a fixpoint, then read the literals.
    let mut field_sinks: BTreeSet<(usize, String, String)> = BTreeSet::new();
    loop {
        let mut new = Vec::new();
        let mut new_fields = Vec::new();
        let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        let mut unresolved = Vec::new();
        for f in &fns {
            let mut calls = Calls::default();
            calls.visit_block(&f.body);
            let scan = Scan {
                consts: &files[f.file].consts,
                params: &f.params,
                lets: &calls.lets,
            };
            for (name, args, line) in &calls.calls {
                for s in targets(&sinks, f.file, name) {
                    let Some(arg) = args.get(s.index) else {
                        continue;
                    };
                    let mut v = Values::default();
                    scan.values(arg, &mut v, 0);
                    let at = format!("{}:{line}", files[f.file].rel);
                    for l in v.literals {
                        ids.entry(format!("{}/{l}", s.prefix))
                            .or_default()
                            .insert(at.clone());
                    }
                    for index in v.params {
                        new.push(Sink {
                            file: f.file,
                            name: f.name.clone(),
                            index,
                            prefix: s.prefix.clone(),
                        });
                    }
                    for field in v.fields {
                        new_fields.push((f.file, field, s.prefix.clone()));
                    }
                    if v.unresolved {
                        unresolved.push(format!("{at}: argument {} of `{name}`", s.index + 1));
                    }
                }
            }
            for (field, value, line) in &calls.fields {
                // `rule: format!("step08/{rule}")`: a template, read above.
                if matches!(value, syn::Expr::Macro(_)) {
                    continue;
                }
                for (_, _, prefix) in field_sinks
                    .iter()
                    .filter(|(file, name, _)| *file == f.file && name == field)
                {
                    let mut v = Values::default();
                    scan.values(value, &mut v, 0);
                    let at = format!("{}:{line}", files[f.file].rel);
                    // A full id (`rule: "step08/manifest".into()` of another struct) is read
                    // as a literal above.
                    for l in v.literals.into_iter().filter(|l| !l.contains('/')) {
                        ids.entry(format!("{prefix}/{l}"))
                            .or_default()
                            .insert(at.clone());
                    }
                    for index in v.params {
                        new.push(Sink {
                            file: f.file,
                            name: f.name.clone(),
                            index,
                            prefix: prefix.clone(),
                        });
                    }
                    if v.unresolved || !v.fields.is_empty() {
                        unresolved.push(format!("{at}: field `{field}`"));
                    }
                }
            }
        }
        let before = sinks.len() + field_sinks.len();
        sinks.extend(new);
        field_sinks.extend(new_fields);
        if sinks.len() + field_sinks.len() == before {
            for (id, at) in ids {
                em.ids.entry(id).or_default().extend(at);
            }
            em.unresolved.extend(unresolved);
            return em;
        }
    }
}

/// The steps a site runs for when it formats the step number in at run time (`step{:02}/..`):
/// the handler pass (`steps/handlers`, its modules `step03`/`step04`) runs as steps 3 and 4, `details` for steps 3 and 7, the renames of
/// `rules::rename` for the steps with TOML rules, and the run layer for every step.
fn steps_of_site(site: &str) -> Vec<u8> {
    if [
        "src/steps/handlers/",
        "src/steps/step03/",
        "src/steps/step04/",
    ]
    .iter()
    .any(|dir| site.starts_with(dir))
    {
        vec![3, 4]
    } else if site.starts_with("src/steps/details/") {
        vec![3, 7]
    } else if site.starts_with("src/rules/rename.rs") {
        crate::rules::load_embedded()
            .unwrap()
            .iter()
            .filter(|s| !s.rules.is_empty())
            .map(|s| s.step)
            .collect()
    } else {
        (1..=9).collect()
    }
}

#[test]
fn every_emitted_id_is_in_the_catalogue() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let em = scan(&src);
    assert!(
        em.unresolved.is_empty(),
        "rule ids that the scan cannot read (write them as literals, a const or a let):\n{}",
        em.unresolved.join("\n")
    );
    let cat = super::embedded();
    let mut missing = Vec::new();
    for (id, sites) in &em.ids {
        let wanted: Vec<String> = match id.strip_prefix("step??/") {
            Some(name) => sites
                .iter()
                .flat_map(|s| steps_of_site(s))
                .map(|n| format!("step{n:02}/{name}"))
                .collect(),
            None => vec![id.clone()],
        };
        for w in wanted {
            if !cat.contains(&w) && !missing.iter().any(|m: &String| m.starts_with(&w)) {
                let at: Vec<&str> = sites.iter().map(String::as_str).collect();
                missing.push(format!("{w} (emitted at {})", at.join(", ")));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "rule ids emitted by the code but not in the catalogue (add them to rules/code/stepNN.toml):\n{}",
        missing.join("\n")
    );
    // And the other way: a code rule that nothing emits is stale.
    let stale: Vec<&str> = cat
        .iter()
        .filter(|r| r.kind == "code")
        .map(|r| r.id.as_str())
        .filter(|id| {
            let (step, name) = id.split_once('/').unwrap();
            let formatted = em.ids.get(&format!("step??/{name}")).is_some_and(|sites| {
                sites
                    .iter()
                    .flat_map(|s| steps_of_site(s))
                    .any(|n| format!("step{n:02}") == step)
            });
            !em.ids.contains_key(*id) && !formatted && *id != "connect-migrate/file"
        })
        .collect();
    assert!(
        stale.is_empty(),
        "catalogue entries that no code emits (remove them): {stale:?}"
    );
}

#[test]
fn the_scan_follows_helpers_lets_and_branches() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("steps/step05")).unwrap();
    std::fs::write(
        src.join("steps/step05/mod.rs"),
        r#"
const RULE: &str = "step05/by-const";
fn item(offset: usize, rule: &str) -> String { format!("step05/{rule}") }
fn push(rule: &str) { item(0, rule); }
fn f(x: bool) {
    item(1, "direct");
    let r = if x { "from-if" } else { "from-else" };
    push(r);
    item(2, match x { true => "arm-a", false => "arm-b" });
    item(3, RULE_NAME);
    let family = format!("step05/family-{}", 7);
    let unreadable = format!("step05/{}-{}", 1, 2);
    let k = keep("by-field");
    item(5, k.rule);
}
struct Keep { rule: &'static str }
fn keep(rule: &'static str) -> Keep { Keep { rule } }
"#,
    )
    .unwrap();
    std::fs::write(
        src.join("steps/step05/other.rs"),
        "fn g() { super::item(4, \"in-folder\"); }\n",
    )
    .unwrap();
    let em = scan(&src);
    let ids: Vec<&str> = em.ids.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            "step05/arm-a",
            "step05/arm-b",
            "step05/by-const",
            "step05/by-field",
            "step05/direct",
            "step05/family-*",
            "step05/from-else",
            "step05/from-if",
            "step05/in-folder",
        ]
    );
    assert_eq!(em.unresolved.len(), 2, "{:?}", em.unresolved);
    assert!(
        em.unresolved
            .iter()
            .any(|u| u.contains("mod.rs:10: argument 2 of `item`")),
        "{:?}",
        em.unresolved
    );
    assert!(
        em.unresolved.iter().any(|u| u.contains("`step05/{}-{}`")),
        "{:?}",
        em.unresolved
    );
}
