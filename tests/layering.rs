//! The layering check (issue 17): the arrows of the code point down.
//!
//! Read from the sources under `src/` with syn, not grepped: every `use` tree (groups, renames,
//! globs) and every qualified path (in expressions, types, patterns, attributes' paths and the
//! tokens of macro calls) is resolved to a crate-absolute module path, following `crate::`,
//! `self::`, `super::` (through inline modules) and the names that `use` items bring into scope
//! (`use super::super::step03; step03::flatten(..)`). Two rules:
//!
//! 1. **The core names nothing above it.** The core modules ([`CORE`]: the pure engine, the edit
//!    buffer, name resolution, the proto schema, Cargo.toml edits, the crate context and the side
//!    evidence) reference nothing from the layers above ([`UPPER`]).
//! 2. **Steps never import another step.** Code in a step-level module names no other step's
//!    module. A step is `steps/stepNN` with all it holds. `steps/details` is decided to be
//!    step-level on its *using* side: it is the error-details feature that steps 3 and 7 both
//!    run, so it names no step (steps 3 and 7 must not reach each other through it), while
//!    steps may use it as they use any shared module (`steps/common`, `steps/metadata`,
//!    `steps/mod.rs`'s list).
//!
//! The still-failing references are listed in [`ALLOWED`], an allow-list that may only shrink.
//! Test code counts too: a test of one step that drives another step's code is a reference.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The pure core (first segment of a crate-absolute module path).
const CORE: &[&str] = &[
    "edit", "engine", "resolve", "schema", "manifest", "context", "evidence", "index",
];
/// The layers above the core.
const UPPER: &[&str] = &[
    "rules",
    "steps",
    "run",
    "app",
    "report",
    "workspace",
    "cli",
    "buildrs",
    "verify",
    "repairs",
    "shim",
    "demo",
    "options",
    "lock",
];

/// Violations still in the tree (`from-file -> target-module`), to be emptied.
const ALLOWED: &[&str] = &[];

/// One reference found in a file: where, and the crate-absolute path it names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Ref {
    line: usize,
    /// The module the reference is written in (inline modules included).
    from: Vec<String>,
    target: Vec<String>,
}

/// The module path of a file under `src/`: `steps/step06/channel.rs` -> `[steps, step06,
/// channel]`, `steps/step06/mod.rs` -> `[steps, step06]`, `lib.rs` -> `[]`.
fn file_module(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.strip_suffix(".rs").unwrap_or(&last).to_string();
    if !matches!(stem.as_str(), "mod" | "lib" | "main") {
        parts.push(stem);
    }
    parts
}

/// Collects the references of one file.
struct Collector {
    /// The current module (the file's, plus the inline modules entered).
    module: Vec<String>,
    /// Per module: names brought into scope by `use` (and child modules), as absolute paths.
    scope: HashMap<Vec<String>, HashMap<String, Vec<String>>>,
    refs: Vec<Ref>,
}

impl Collector {
    fn new(module: Vec<String>) -> Collector {
        Collector {
            module,
            scope: HashMap::new(),
            refs: Vec::new(),
        }
    }

    /// Resolve a path's segments (as written) to a crate-absolute module path, or `None` when it
    /// starts outside the crate (`std::`, `syn::`, a local variable's field, ..).
    fn resolve(&self, segs: &[String]) -> Option<Vec<String>> {
        let first = segs.first()?;
        let mut base: Vec<String>;
        let mut rest = &segs[1..];
        match first.as_str() {
            "crate" => base = Vec::new(),
            "self" => base = self.module.clone(),
            "super" => {
                base = self.module.clone();
                base.pop();
                while rest.first().map(String::as_str) == Some("super") {
                    base.pop();
                    rest = &rest[1..];
                }
            }
            name => {
                let known = self
                    .scope
                    .get(&self.module)
                    .and_then(|m| m.get(name))
                    .cloned()
                    // Top-level modules are in scope at the crate root.
                    .or_else(|| {
                        (self.module.is_empty() && is_top_module(name)).then(|| vec![name.into()])
                    })?;
                base = known;
            }
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn record(&mut self, line: usize, segs: &[String]) {
        if let Some(target) = self.resolve(segs) {
            self.refs.push(Ref {
                line,
                from: self.module.clone(),
                target,
            });
        }
    }

    /// Flatten a `use` tree into (segments, name bound or `None` for a glob).
    fn use_paths(
        tree: &syn::UseTree,
        prefix: &mut Vec<String>,
        out: &mut Vec<(Vec<String>, Option<String>)>,
    ) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::use_paths(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    out.push((prefix.clone(), prefix.last().cloned()));
                } else {
                    let mut p = prefix.clone();
                    p.push(name.clone());
                    out.push((p, Some(name)));
                }
            }
            syn::UseTree::Rename(r) => {
                let name = r.ident.to_string();
                let mut p = prefix.clone();
                if name != "self" {
                    p.push(name);
                }
                out.push((p, Some(r.rename.to_string())));
            }
            syn::UseTree::Glob(_) => out.push((prefix.clone(), None)),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    Self::use_paths(t, prefix, out);
                }
            }
        }
    }

    /// Paths written in a token stream (macro bodies): runs of `ident (:: ident)*` starting with
    /// `crate`, `self`, `super` or a name in scope.
    fn tokens(&mut self, ts: TokenStream) {
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                TokenTree::Group(g) => {
                    self.tokens(g.stream());
                    i += 1;
                }
                TokenTree::Ident(id) => {
                    // Not the tail of a path already read (`a::b`: `b` follows `::`).
                    let after_colons = i >= 2
                        && matches!((&toks[i - 1], &toks[i - 2]), (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
                    let line = id.span().start().line;
                    let mut segs = vec![id.to_string()];
                    let mut j = i + 1;
                    while j + 2 < toks.len() {
                        let colons = matches!((&toks[j], &toks[j + 1]), (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
                        match (colons, &toks[j + 2]) {
                            (true, TokenTree::Ident(next)) => {
                                segs.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if !after_colons && segs.len() > 1 {
                        self.record(line, &segs);
                    }
                    i = j.max(i + 1);
                }
                _ => i += 1,
            }
        }
    }
}

fn is_top_module(name: &str) -> bool {
    CORE.contains(&name) || UPPER.contains(&name)
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let name = m.ident.to_string();
        let mut child = self.module.clone();
        child.push(name.clone());
        self.scope
            .entry(self.module.clone())
            .or_default()
            .insert(name, child.clone());
        if let Some((_, items)) = &m.content {
            for a in &m.attrs {
                self.visit_attribute(a);
            }
            let outer = std::mem::replace(&mut self.module, child);
            self.bind_uses(items);
            for i in items {
                self.visit_item(i);
            }
            self.module = outer;
        }
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let line = u.use_token.span.start().line;
        let mut out = Vec::new();
        Collector::use_paths(&u.tree, &mut Vec::new(), &mut out);
        for (segs, _) in out {
            // `use step03;` of a name already in scope counts as much as `use super::step03;`.
            self.record(line, &segs);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let line = p
            .segments
            .first()
            .map(|s| s.ident.span().start().line)
            .unwrap_or(0);
        if segs.len() > 1 {
            self.record(line, &segs);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.tokens(m.tokens.clone());
    }
}

impl Collector {
    /// Bind the names the `use` items of a module bring into scope, before its paths are read
    /// (a `use` may come after the code that relies on it).
    fn bind_uses(&mut self, items: &[syn::Item]) {
        // Two rounds: `use super::super::step03; use step03::flatten;` binds in either order.
        for _ in 0..2 {
            for item in items {
                match item {
                    syn::Item::Use(u) => {
                        let mut out = Vec::new();
                        Collector::use_paths(&u.tree, &mut Vec::new(), &mut out);
                        for (segs, name) in out {
                            let (Some(name), Some(abs)) = (name, self.resolve(&segs)) else {
                                continue;
                            };
                            self.scope
                                .entry(self.module.clone())
                                .or_default()
                                .insert(name, abs);
                        }
                    }
                    syn::Item::Mod(m) => {
                        let mut child = self.module.clone();
                        child.push(m.ident.to_string());
                        self.scope
                            .entry(self.module.clone())
                            .or_default()
                            .insert(m.ident.to_string(), child);
                    }
                    _ => {}
                }
            }
        }
    }
}

/// The references of one file's text, the file being the module `module`.
fn references(module: Vec<String>, text: &str) -> Vec<Ref> {
    let file = syn::parse_file(text).expect("the source parses");
    let mut c = Collector::new(module);
    c.bind_uses(&file.items);
    c.visit_file(&file);
    c.refs
}

/// The layer a crate-absolute module path belongs to (its first segment).
fn layer(path: &[String]) -> Option<&str> {
    path.first().map(String::as_str)
}

/// The step a path sits in: `stepNN` under `steps`.
fn step_of(path: &[String]) -> Option<&str> {
    match path {
        [s, m, ..] if s == "steps" => {
            let m = m.as_str();
            let step =
                m.len() == 6 && m.starts_with("step") && m[4..].bytes().all(|b| b.is_ascii_digit());
            step.then_some(m)
        }
        _ => None,
    }
}

/// The step-level module code is written in: a step, or `steps/details` (see the module doc).
fn step_level(path: &[String]) -> Option<&str> {
    match path {
        [s, m, ..] if s == "steps" && m == "details" => Some("details"),
        _ => step_of(path),
    }
}

/// The violations of one file (`"rel:line from -> target"` with the rule broken).
fn violations(rel: &str, module: Vec<String>, text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for r in references(module, text) {
        let from_layer = layer(&r.from);
        let to_layer = layer(&r.target);
        let target = r.target.join("::");
        if let (Some(f), Some(t)) = (from_layer, to_layer) {
            if CORE.contains(&f) && UPPER.contains(&t) {
                out.push((
                    format!("{rel} -> {t}"),
                    format!(
                        "{rel}:{}: core module `{f}` names `crate::{target}`",
                        r.line
                    ),
                ));
            }
        }
        if let (Some(a), Some(b)) = (step_level(&r.from), step_of(&r.target)) {
            if a != b {
                out.push((
                    format!("{rel} -> {b}"),
                    format!(
                        "{rel}:{}: step module `{a}` names `crate::{target}`",
                        r.line
                    ),
                ));
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src") {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn core_names_nothing_above_it_and_steps_never_import_another_step() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "the sources are found");
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut details: Vec<String> = Vec::new();
    for p in &files {
        let rel = p.strip_prefix(&src).unwrap();
        let text = std::fs::read_to_string(p).unwrap();
        let rel_s = rel.to_string_lossy().replace('\\', "/");
        for (key, detail) in violations(&rel_s, file_module(rel), &text) {
            if !ALLOWED.contains(&key.as_str()) {
                details.push(detail);
            }
            found.insert(key);
        }
    }
    details.sort();
    details.dedup();
    assert!(
        details.is_empty(),
        "{} layering violation(s):\n{}",
        details.len(),
        details.join("\n")
    );
    let stale: Vec<&&str> = ALLOWED.iter().filter(|a| !found.contains(**a)).collect();
    assert!(
        stale.is_empty(),
        "allow-list entries no longer needed (remove them): {stale:?}"
    );
}

// The check itself: each spelling of a reference is caught, and the allowed ones pass.

fn keys(rel: &str, text: &str) -> Vec<String> {
    let module = file_module(Path::new(rel));
    let mut v: Vec<String> = violations(rel, module, text)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn module_paths_of_files() {
    assert_eq!(file_module(Path::new("lib.rs")), Vec::<String>::new());
    assert_eq!(file_module(Path::new("engine.rs")), vec!["engine"]);
    assert_eq!(
        file_module(Path::new("steps/step06/mod.rs")),
        vec!["steps", "step06"]
    );
    assert_eq!(
        file_module(Path::new("steps/step06/channel.rs")),
        vec!["steps", "step06", "channel"]
    );
}

#[test]
fn catches_a_use_of_crate_paths_in_the_core() {
    let k = keys("engine.rs", "use crate::steps::Step;\n");
    assert_eq!(k, vec!["engine.rs -> steps"]);
    let k = keys("edit.rs", "use crate::{resolve::X, run::ItemReport};\n");
    assert_eq!(k, vec!["edit.rs -> run"]);
    let k = keys("schema.rs", "use crate::report as r;\n");
    assert_eq!(k, vec!["schema.rs -> report"]);
    let k = keys("manifest.rs", "use crate::workspace::*;\n");
    assert_eq!(k, vec!["manifest.rs -> workspace"]);
}

#[test]
fn catches_qualified_paths_in_code_types_and_macros_of_the_core() {
    let k = keys("engine.rs", "fn f() { let _ = crate::steps::all(); }\n");
    assert_eq!(k, vec!["engine.rs -> steps"]);
    let k = keys(
        "resolve.rs",
        "struct S { x: Option<crate::rules::StepRules> }\n",
    );
    assert_eq!(k, vec!["resolve.rs -> rules"]);
    let k = keys(
        "manifest.rs",
        "fn f() { println!(\"{}\", crate::app::NAME); }\n",
    );
    assert_eq!(k, vec!["manifest.rs -> app"]);
    // Through `super::` from a test module inside a core file, and through a name in scope.
    let k = keys(
        "engine.rs",
        "mod tests { fn t() { super::super::run::go(); } }\n",
    );
    assert_eq!(k, vec!["engine.rs -> run"]);
    let k = keys("engine.rs", "use crate::steps;\nfn f() { steps::all(); }\n");
    assert_eq!(k, vec!["engine.rs -> steps"]);
}

#[test]
fn the_core_may_use_the_core_and_outside_crates() {
    let src = "use crate::edit::Edit;\nuse std::path::Path;\nuse syn::visit::Visit;\nfn f() { crate::resolve::range(); let x = a.b; }\n";
    assert!(keys("engine.rs", src).is_empty());
    // An upper layer may name the core and itself.
    assert!(keys(
        "run.rs",
        "use crate::engine::process;\nuse crate::steps::Step;\n"
    )
    .is_empty());
}

#[test]
fn catches_each_spelling_of_a_step_reaching_into_another() {
    let rel = "steps/step06/channel.rs";
    assert_eq!(
        keys(rel, "use crate::steps::step03::{flatten, Tok};\n"),
        vec![format!("{rel} -> step03")]
    );
    assert_eq!(
        keys(rel, "use super::super::step01::CrateCtx;\n"),
        vec![format!("{rel} -> step01")]
    );
    assert_eq!(
        keys(rel, "fn f() { super::super::step03::flatten(); }\n"),
        vec![format!("{rel} -> step03")]
    );
    assert_eq!(
        keys(
            rel,
            "use super::super::step03;\nfn f() { step03::flatten(); }\n"
        ),
        vec![format!("{rel} -> step03")]
    );
    assert_eq!(
        keys(rel, "fn f() -> crate::steps::step09::Plan { make() }\n"),
        vec![format!("{rel} -> step09")]
    );
    assert_eq!(
        keys(
            "steps/step01/mod.rs",
            "use crate::steps::{step05::strip_parens, Step};\n"
        ),
        vec!["steps/step01/mod.rs -> step05"]
    );
    assert_eq!(
        keys(
            "steps/step01/mod.rs",
            "fn f() { super::step05::strip_parens(e); }\n"
        ),
        vec!["steps/step01/mod.rs -> step05"]
    );
    // From a test module in a step file, and into `details`, and from `details`.
    assert_eq!(
        keys(
            "steps/step09/mod.rs",
            "#[cfg(test)]\nmod tests { use super::super::step03::Tok; }\n"
        ),
        vec!["steps/step09/mod.rs -> step03"]
    );
    assert_eq!(
        keys(
            "steps/details/mod.rs",
            "use crate::steps::step09::scan::cfg_test_ranges;\n"
        ),
        vec!["steps/details/mod.rs -> step09"]
    );
}

#[test]
fn a_step_may_use_itself_shared_modules_and_details() {
    let rel = "steps/step06/channel.rs";
    let src = "use super::Walker;\nuse crate::steps::step06::mod_fn;\nuse crate::steps::common::flatten;\nuse crate::steps::details::converts;\nuse crate::engine::Pass;\nfn f() { super::super::metadata::x(); }\n";
    assert!(keys(rel, src).is_empty(), "{:?}", keys(rel, src));
    // `steps/mod.rs` lists the steps: it is no step.
    assert!(keys("steps/mod.rs", "use step01::X;\nfn f() { step03::g(); }\n").is_empty());
}

/// The names under `src/` and `src/steps/` the README's module map ("## Layout") names, and
/// those missing from it: every top-level module of the crate and every step folder.
fn unmapped_modules(layout: &str, root: &std::path::Path) -> Vec<String> {
    let mut missing = Vec::new();
    let mut check = |dir: &std::path::Path, prefix: &str| {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".rs") || !n.contains('.'))
            .filter(|n| !matches!(n.as_str(), "lib.rs" | "main.rs" | "mod.rs"))
            .collect();
        names.sort();
        for n in names {
            let shown = if n.ends_with(".rs") {
                format!("{prefix}{n}")
            } else {
                format!("{prefix}{n}/")
            };
            // `src/steps/step06/` is written `step06/` inside the steps entry.
            let short = shown.trim_start_matches("src/steps/").to_string();
            if !layout.contains(&shown) && !layout.contains(&short) {
                missing.push(shown);
            }
        }
    };
    check(&root.join("src"), "src/");
    check(&root.join("src/steps"), "src/steps/");
    missing
}

/// Issue 17: the README's module map matches the tree (a new module or step folder must be
/// placed in it).
#[test]
fn the_readme_layout_names_every_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let layout = readme
        .split("## Layout")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("README has a Layout section");
    let missing = unmapped_modules(layout, root);
    assert!(
        missing.is_empty(),
        "README's Layout does not name: {missing:?}"
    );
    // The check itself finds a module the map leaves out.
    let without_lock = layout.replace("src/lock.rs", "");
    assert_eq!(unmapped_modules(&without_lock, root), ["src/lock.rs"]);
}

/// Functions outside tests longer than `limit` lines (from `fn` to the closing brace):
/// `path:line name (lines)`. Test modules (`#[cfg(test)]`) and `tests.rs` files are left out.
fn long_functions(rel: &str, src: &str, limit: usize) -> Vec<String> {
    struct Finder<'a> {
        rel: &'a str,
        limit: usize,
        out: Vec<String>,
    }
    impl Finder<'_> {
        fn check(
            &mut self,
            name: &syn::Ident,
            fn_token: proc_macro2::Span,
            end: proc_macro2::Span,
        ) {
            let (a, b) = (fn_token.start().line, end.end().line);
            if b + 1 - a > self.limit {
                self.out
                    .push(format!("{}:{a} {name} ({} lines)", self.rel, b + 1 - a));
            }
        }
    }
    fn is_test(attrs: &[syn::Attribute]) -> bool {
        attrs.iter().any(|a| {
            a.path().is_ident("cfg")
                && a.parse_args::<syn::Meta>()
                    .is_ok_and(|m| m.path().is_ident("test"))
        }) || attrs.iter().any(|a| a.path().is_ident("test"))
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
            if !is_test(&m.attrs) {
                syn::visit::visit_item_mod(self, m);
            }
        }
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            if !is_test(&f.attrs) {
                use syn::spanned::Spanned;
                self.check(&f.sig.ident, f.sig.fn_token.span, f.block.span());
                syn::visit::visit_item_fn(self, f);
            }
        }
        fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
            use syn::spanned::Spanned;
            self.check(&f.sig.ident, f.sig.fn_token.span, f.block.span());
            syn::visit::visit_impl_item_fn(self, f);
        }
        fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
            if let Some(b) = &f.default {
                use syn::spanned::Spanned;
                self.check(&f.sig.ident, f.sig.fn_token.span, b.span());
            }
            syn::visit::visit_trait_item_fn(self, f);
        }
    }
    if rel.ends_with("/tests.rs") || rel == "tests.rs" {
        return Vec::new();
    }
    let file = syn::parse_file(src).expect("parses");
    let mut f = Finder {
        rel,
        limit,
        out: Vec::new(),
    };
    f.visit_file(&file);
    f.out
}

/// Issue 17: no function outside tests over 150 lines (the decisions a reader must follow stay
/// in pieces of a screen or two).
#[test]
fn no_function_outside_tests_is_over_150_lines() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut long = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                long.extend(long_functions(
                    &rel,
                    &std::fs::read_to_string(&p).unwrap(),
                    150,
                ));
            }
        }
    }
    assert!(long.is_empty(), "functions over 150 lines: {long:#?}");
    // The check finds one: a 152-line function, and not the same in a test module.
    let body = "    let x = 1;\n".repeat(150);
    let src = format!("fn long() {{\n{body}}}\n#[cfg(test)]\nmod tests {{\n    fn long_test() {{\n{body}    }}\n}}\n");
    assert_eq!(
        long_functions("a.rs", &src, 150),
        ["a.rs:1 long (152 lines)"]
    );
}
