//! The generic rename pass: every path that resolves to a rule's `from` is rewritten to its `to`,
//! narrowly (only the identifiers that change), with the imports it needs added next to the old
//! ones and the old imports removed once nothing refers to them.
//!
//! Before (step 3, server side):
//! ```text
//! use tonic::{Request, Response, Status};
//! fn check(id: u32) -> Result<(), Status> { Err(Status::not_found("no such id")) }
//! ```
//! After:
//! ```text
//! use tonic::{Request, Response};
//! use connectrpc::ConnectError;
//! fn check(id: u32) -> Result<(), ConnectError> { Err(ConnectError::not_found("no such id")) }
//! ```
//!
//! # Which side a site is on
//! A rule says whether it is for server code (step 3) or client code (step 7). The side of a
//! function is decided, in order, by: the impl it is in (an impl of a `*_server` trait is server
//! code); the paths it uses (a `*_client` module, `tonic::transport::{Channel, Endpoint}` make it
//! client code; `*_server`, `tonic::transport::Server` server code); then the same evidence over
//! the whole file; then over the whole crate. When none of these decides, the site is reported,
//! not edited.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::{Action, Rule, Side, StepRules};
use crate::edit::{indent_at, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass};
use crate::resolve::{
    range, FileIndex, LeafId, Resolution, Resolved, ScopeId, ScopeTracker, UTree, Via,
};

use crate::evidence::SideEvidence;

fn path_evidence(full: &[String], workspace_libs: &[String]) -> SideEvidence {
    // Generated modules are `<service>_server` / `<service>_client`; the last segment is the
    // item itself (a local `fn start_server` is no evidence), and a first segment naming a
    // crate of the workspace is that crate (`platform_server::run` in its own tests).
    let modules = &full[..full.len().saturating_sub(1)];
    let modules = match modules.first() {
        Some(first) if workspace_libs.contains(first) => &modules[1..],
        _ => modules,
    };
    let has = |suffix: &str| {
        modules
            .iter()
            .any(|s| s.ends_with(suffix) && s.len() > suffix.len())
    };
    let starts = |p: &[&str]| full.len() >= p.len() && full.iter().zip(p).all(|(a, b)| a == b);
    SideEvidence {
        server: has("_server")
            || starts(&["tonic", "transport", "Server"])
            || starts(&["tonic", "server"])
            || starts(&["connectrpc", "RequestContext"])
            || starts(&["connectrpc", "ServiceRequest"])
            || starts(&["connectrpc", "ServiceResult"]),
        client: has("_client")
            || starts(&["tonic", "transport", "Channel"])
            || starts(&["tonic", "transport", "Endpoint"])
            || starts(&["tonic", "client"])
            || starts(&["connectrpc", "client"]),
        connect_client: false,
        connect_server: false,
    }
}

/// One path that a rule matched.
struct Hit {
    rule: usize,
    resolved: Resolved,
    /// Ident ranges of the written segments, and whether a segment carries generic arguments.
    segs: Vec<(Range<usize>, bool)>,
    scope: ScopeId,
    func: usize,
    suppressed: bool,
}

struct Walker<'a> {
    idx: &'a FileIndex,
    rules: &'a StepRules,
    tr: ScopeTracker,
    /// Stack of function contexts; 0 is "outside any function".
    func_stack: Vec<usize>,
    funcs: Vec<FuncCtx>,
    hits: Vec<Hit>,
    ambiguous: Vec<(usize, usize)>,
    /// Every path that resolved through a `use` leaf: how many times.
    leaf_refs: HashMap<LeafId, usize>,
    /// Identifiers seen inside macro bodies that could not be parsed.
    opaque_idents: Vec<(String, usize, String)>,
    file_evidence: SideEvidence,
    /// Start offsets of enclosing items and statements (for the ignore comment).
    enclosing: Vec<usize>,
    suppress_lines: &'a BTreeSet<usize>,
    ctx_text: &'a str,
    workspace_libs: &'a [String],
}

#[derive(Default, Clone)]
struct FuncCtx {
    forced: Option<Side>,
    evidence: SideEvidence,
    /// Crate-absolute path of a free function (to let its callers inherit its side).
    name: Option<Vec<String>>,
    /// Local items this function refers to (calls among them).
    locals: Vec<Vec<String>>,
}

impl Walker<'_> {
    fn current_func(&self) -> usize {
        *self.func_stack.last().unwrap()
    }

    fn is_suppressed(&self) -> bool {
        if self.suppress_lines.is_empty() {
            return false;
        }
        self.enclosing.iter().any(|&off| {
            let line = crate::edit::line_col(self.ctx_text, off).0;
            self.suppress_lines.contains(&line) || self.suppress_lines.contains(&(line - 1))
        })
    }

    fn on_path(&mut self, p: &syn::Path) {
        let scope = self.tr.current();
        let Some(res) = self.idx.resolve(scope, p) else {
            return;
        };
        let resolved = match res {
            Resolution::One(r) => r,
            Resolution::Ambiguous(cands) => {
                if cands
                    .iter()
                    .any(|c| self.rules.longest_match(&c.full, 1).is_some())
                {
                    self.ambiguous
                        .push((range(p.span()).start, self.current_func()));
                }
                return;
            }
        };
        if let Via::Import(l) = resolved.via {
            *self.leaf_refs.entry(l).or_default() += 1;
        }
        if resolved.via == Via::Local {
            let f = self.current_func();
            self.funcs[f].locals.push(resolved.full.clone());
        }
        let ev = path_evidence(&resolved.full, self.workspace_libs);
        let f = self.current_func();
        self.funcs[f].evidence.add(ev);
        self.file_evidence.add(ev);
        // The rule must cover at least what the first written segment stands for.
        let anchor_len = resolved.full.len() + 1 - resolved.written.min(resolved.full.len());
        let Some(rule) = self.rules.longest_match(&resolved.full, anchor_len) else {
            return;
        };
        let rule = self
            .rules
            .rules
            .iter()
            .position(|r| std::ptr::eq(r, rule))
            .unwrap();
        let segs = p
            .segments
            .iter()
            .map(|s| (range(s.ident.span()), !s.arguments.is_none()))
            .collect();
        let suppressed = self.is_suppressed();
        self.hits.push(Hit {
            rule,
            resolved,
            segs,
            scope,
            func: f,
            suppressed,
        });
    }

    /// A function taking a `tonic::Request<T>` and returning a `tonic::Response` is an RPC
    /// handler: server code (interceptors return a `Request`, clients take `impl IntoRequest`).
    fn handler_signature(&self, sig: &syn::Signature) -> bool {
        struct Paths<'a, 'b> {
            w: &'a Walker<'b>,
            found: Vec<Vec<String>>,
        }
        impl<'ast> Visit<'ast> for Paths<'_, '_> {
            fn visit_path(&mut self, p: &'ast syn::Path) {
                if let Some(Resolution::One(r)) = self.w.idx.resolve(self.w.tr.current(), p) {
                    self.found.push(r.full);
                }
                syn::visit::visit_path(self, p);
            }
        }
        let is = |found: &[Vec<String>], item: &str| {
            found
                .iter()
                .any(|f| f.len() == 2 && f[0] == "tonic" && f[1] == item)
        };
        let mut inputs = Paths {
            w: self,
            found: Vec::new(),
        };
        for i in &sig.inputs {
            inputs.visit_fn_arg(i);
        }
        if !is(&inputs.found, "Request") {
            return false;
        }
        let mut output = Paths {
            w: self,
            found: Vec::new(),
        };
        output.visit_return_type(&sig.output);
        is(&output.found, "Response")
    }

    fn enter_func(&mut self, forced: Option<Side>, name: Option<Vec<String>>) {
        let parent = self.current_func();
        let forced = forced.or(self.funcs[parent].forced);
        self.funcs.push(FuncCtx {
            forced,
            name,
            ..Default::default()
        });
        self.func_stack.push(self.funcs.len() - 1);
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    crate::scoped_visit!();

    fn visit_item(&mut self, i: &'ast syn::Item) {
        // Offsets are only needed to honour ignore comments (and `span()` re-walks the
        // subtree): skip them in the common file without any.
        let track = !self.suppress_lines.is_empty();
        if track {
            self.enclosing.push(range(i.span()).start);
        }
        syn::visit::visit_item(self, i);
        if track {
            self.enclosing.pop();
        }
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        // Offsets are only needed to honour ignore comments (and `span()` re-walks the
        // subtree): skip them in the common file without any.
        let track = !self.suppress_lines.is_empty();
        if track {
            self.enclosing.push(range(s.span()).start);
        }
        syn::visit::visit_stmt(self, s);
        if track {
            self.enclosing.pop();
        }
    }

    fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
        // Offsets are only needed to honour ignore comments (and `span()` re-walks the
        // subtree): skip them in the common file without any.
        let track = !self.suppress_lines.is_empty();
        if track {
            self.enclosing.push(range(i.span()).start);
        }
        syn::visit::visit_impl_item(self, i);
        if track {
            self.enclosing.pop();
        }
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {
        // Imports are handled by the import phase, not as paths.
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        let forced = i.trait_.as_ref().and_then(|(_, path, _)| {
            match self.idx.resolve(self.tr.current(), path) {
                Some(Resolution::One(r)) => path_evidence(&r.full, self.workspace_libs).decide(),
                _ => None,
            }
        });
        // The impl header itself (`impl From<E> for Status`) belongs to the impl's own context.
        self.enter_func(forced, None);
        syn::visit::visit_item_impl(self, i);
        self.func_stack.pop();
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let mut name = self.idx.module_path(self.tr.current()).to_vec();
        name.push(f.sig.ident.to_string());
        let forced = self.handler_signature(&f.sig).then_some(Side::Server);
        self.enter_func(forced, Some(name));
        syn::visit::visit_item_fn(self, f);
        self.func_stack.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let forced = self.handler_signature(&f.sig).then_some(Side::Server);
        self.enter_func(forced, None);
        syn::visit::visit_impl_item_fn(self, f);
        self.func_stack.pop();
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.on_path(p);
        syn::visit::visit_path(self, p);
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if e.qself.is_none() {
            self.visit_path(&e.path);
        }
    }

    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        if let Some(q) = &t.qself {
            self.visit_type(&q.ty);
            for seg in &t.path.segments {
                self.visit_path_arguments(&seg.arguments);
            }
        } else {
            self.visit_path(&t.path);
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        // Most macros take comma-separated expressions (format!, vec!, assert_eq!, matches!);
        // their paths are real code and are rewritten like any other.
        match crate::resolve::macro_exprs(m) {
            Some(exprs) => {
                for e in &exprs {
                    self.visit_expr(e);
                }
            }
            None => {
                let name = m
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                collect_idents(m.tokens.clone(), &name, &mut self.opaque_idents);
            }
        }
    }
}

fn collect_idents(ts: proc_macro2::TokenStream, mac: &str, out: &mut Vec<(String, usize, String)>) {
    for tt in ts {
        match tt {
            proc_macro2::TokenTree::Ident(i) => {
                out.push((i.to_string(), range(i.span()).start, mac.to_string()))
            }
            proc_macro2::TokenTree::Group(g) => collect_idents(g.stream(), mac, out),
            _ => {}
        }
    }
}

/// The rename pass of one step over one file.
/// Removals of the private `use` leaves `candidate` accepts (by the leaf's full path) that
/// nothing in the file refers to any more: an identifier counts as a use when it is outside every
/// `use` item and outside the `replaced` ranges (text a pass rewrote). Edits carry `rule`.
pub fn unused_import_removals(
    file: &syn::File,
    idx: &FileIndex,
    text: &str,
    replaced: &[Range<usize>],
    candidate: impl Fn(&[&str]) -> bool,
    rule: &str,
) -> Vec<Edit> {
    unused_import_removals_named(file, idx, text, replaced, |segs, _| candidate(segs), rule)
}

/// [`unused_import_removals`] with the name a leaf binds (its alias, if any) passed to
/// `candidate` after the full path.
pub fn unused_import_removals_named(
    file: &syn::File,
    idx: &FileIndex,
    text: &str,
    replaced: &[Range<usize>],
    candidate: impl Fn(&[&str], &str) -> bool,
    rule: &str,
) -> Vec<Edit> {
    // An identifier after `::` is a later segment of a path (`connectrpc::Response`), not a use
    // of an imported name.
    fn walk(t: proc_macro2::TokenStream, out: &mut HashMap<String, Vec<usize>>) {
        let mut colons = 0;
        for tt in t {
            match tt {
                proc_macro2::TokenTree::Group(g) => {
                    walk(g.stream(), out);
                    colons = 0;
                }
                proc_macro2::TokenTree::Ident(i) => {
                    if colons < 2 {
                        out.entry(i.to_string())
                            .or_default()
                            .push(range(i.span()).start);
                    }
                    colons = 0;
                }
                proc_macro2::TokenTree::Punct(p) => {
                    colons = if p.as_char() == ':' { colons + 1 } else { 0 };
                }
                proc_macro2::TokenTree::Literal(_) => colons = 0,
            }
        }
    }
    let mut idents: HashMap<String, Vec<usize>> = HashMap::new();
    walk(quote::ToTokens::to_token_stream(file), &mut idents);
    let in_use = |at: usize| idx.use_items.iter().any(|u| u.range.contains(&at));
    let in_replaced = |at: usize| replaced.iter().any(|r| r.contains(&at));
    let mut removed: HashSet<LeafId> = HashSet::new();
    for (id, leaf) in idx.leaves.iter().enumerate() {
        if leaf.is_glob || leaf.name.is_empty() || idx.use_items[leaf.item].is_pub {
            continue;
        }
        let full = idx.leaf_path(id);
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        if !candidate(&segs, &leaf.name) {
            continue;
        }
        let used = idents
            .get(&leaf.name)
            .is_some_and(|v| v.iter().any(|&at| !in_use(at) && !in_replaced(at)));
        if !used {
            removed.insert(id);
        }
    }
    let mut edits = Vec::new();
    if removed.is_empty() {
        return edits;
    }
    for ui in &idx.use_items {
        match removal(&ui.tree, &removed, text) {
            Removal::All => edits.push(Edit::delete(
                crate::edit::whole_lines_tidy(text, ui.range.clone()),
                rule,
            )),
            Removal::Partial(v) => edits.extend(v.into_iter().map(|mut e| {
                e.rule = rule.to_string();
                e
            })),
            Removal::None => {}
        }
    }
    edits
}

/// Takes back the rename edits (rule ids starting with `prefix`, e.g. `step03/`) inside `r`
/// after a later pass of the step decided the region keeps tonic's names. The import edits of
/// the renames may already have dropped the tonic imports, so a taken-back name that is not part
/// of a qualified path is written as its explicit path (`Status` -> `tonic::Status`); those edits
/// are returned (rule `<prefix>keep-tonic`) for the caller to commit.
pub fn take_back_renames(
    out: &mut crate::engine::PassOutput,
    text: &str,
    idx: &FileIndex,
    scope: crate::resolve::ScopeId,
    r: &Range<usize>,
    prefix: &str,
) -> Vec<Edit> {
    let taken = out.buffer.remove_within(r);
    let mut edits = Vec::new();
    for e in taken {
        if !e.rule.starts_with(prefix) {
            // Another pass's edit: it stays.
            let _ = out.buffer.commit(vec![e]);
            continue;
        }
        // A segment inside a qualified path (`tonic::Status`) reads right once the rename is
        // dropped.
        if e.range.is_empty() || text[..e.range.start].trim_end().ends_with("::") {
            continue;
        }
        let original = &text[e.range.clone()];
        let Ok(p) = syn::parse_str::<syn::Path>(original) else {
            continue;
        };
        let Some(full) = idx
            .resolve(scope, &p)
            .and_then(|r| r.resolved().cloned())
            .map(|r| r.full)
        else {
            continue;
        };
        if full.first().map(String::as_str) == Some("tonic") && original != full.join("::") {
            edits.push(Edit::replace(
                e.range.clone(),
                full.join("::"),
                &format!("{prefix}keep-tonic"),
            ));
        }
    }
    edits
}

pub struct RenamePass<'r> {
    pub rules: &'r StepRules,
    pub checks: super::Checks,
}

impl Pass for RenamePass<'_> {
    fn run(&self, ctx: &FileCtx<'_>, out: &mut crate::engine::PassOutput) {
        run(self.rules, ctx, out, &self.checks)
    }
}

/// What decides whether a rule renames in this file: the checks passed in by the steps, and the
/// guards' verdicts, each computed once per file.
struct Gate<'c> {
    guard: std::cell::OnceCell<Result<(), String>>,
    upgrade: std::cell::OnceCell<Result<(), String>>,
    checks: &'c super::Checks,
}

impl Gate<'_> {
    /// Why the rule does not rename in this file, if it does not (`unless_file_contains`, guard).
    fn disabled(&self, rule: &Rule, ctx: &FileCtx<'_>) -> Option<String> {
        if let Some(why) = rule.disabled_for(ctx, self.checks) {
            return Some(why);
        }
        match rule.guard {
            None => None,
            Some(super::Guard::Descriptors) => self
                .guard
                .get_or_init(|| (self.checks.descriptors_migrate)(ctx))
                .clone()
                .err(),
            Some(super::Guard::TonicUpgrade) => self
                .upgrade
                .get_or_init(|| (self.checks.tonic_upgrade)(ctx))
                .clone()
                .err(),
        }
    }
}

fn run(
    rules: &StepRules,
    ctx: &FileCtx<'_>,
    out: &mut crate::engine::PassOutput,
    checks: &super::Checks,
) {
    let idx = ctx.index;
    let gate = Gate {
        guard: std::cell::OnceCell::new(),
        upgrade: std::cell::OnceCell::new(),
        checks,
    };
    let mut w = Walker {
        idx,
        rules,
        tr: ScopeTracker::new(idx),
        func_stack: vec![0],
        funcs: vec![FuncCtx::default()],
        hits: Vec::new(),
        ambiguous: Vec::new(),
        leaf_refs: HashMap::new(),
        opaque_idents: Vec::new(),
        file_evidence: SideEvidence::default(),
        enclosing: Vec::new(),
        suppress_lines: &ctx.suppress_lines,
        ctx_text: ctx.text,
        workspace_libs: ctx.workspace_libs,
    };
    w.visit_file(ctx.file);
    // What the file imports is evidence of its side too (`use pb::greeter_server::Greeter;`).
    for leaf in 0..idx.leaves.len() {
        w.file_evidence
            .add(path_evidence(&idx.leaf_path(leaf), ctx.workspace_libs));
    }
    // A file reached through `include!`: what the including module imports too.
    for s in idx.outer.iter().flat_map(|o| o.names.values()) {
        if let crate::index::Sym::Import { target, .. } = s {
            w.file_evidence
                .add(path_evidence(target, ctx.workspace_libs));
        }
    }
    let sides = function_sides(&w, ctx);

    for &(at, _) in &w.ambiguous {
        out.items.push(ManualItem {
            offset: at,
            rule: format!("step{:02}/ambiguous-glob", rules.step),
            message:
                "this name could come from more than one glob import, one of them a migrated crate"
                    .into(),
            note: "import the name explicitly (`use tonic::Status;`) and run the step again".into(),
            kind: ItemKind::Manual,
        });
    }

    let mut imports = ImportPlan::default();
    swap_kept_name_imports(rules, ctx, &gate, &mut imports);
    for hit in &w.hits {
        apply_hit(hit, rules, ctx, &gate, sides[hit.func], &mut imports, out);
    }
    report_opaque(&w, rules, out);

    let opaque: HashSet<&str> = w.opaque_idents.iter().map(|(n, _, _)| n.as_str()).collect();
    let edits = imports.finish(idx, ctx.text, &w.leaf_refs, &opaque, rules.step);
    if let Err(o) = out.commit(edits) {
        out.items.push(ManualItem {
            offset: 0,
            rule: format!("step{:02}/imports", rules.step),
            message: format!("imports were not updated: {o}"),
            note: "add the `use` items the new paths need by hand".into(),
            kind: ItemKind::Manual,
        });
    }
}

/// The side of each function of the walk, when known: its own evidence, else that of the
/// local functions it calls (one level: `let mut c = client().await;` where
/// `fn client() -> FooClient<Channel>`), else the file's, else the crate's.
fn function_sides(w: &Walker<'_>, ctx: &FileCtx<'_>) -> Vec<Option<Side>> {
    let own: HashMap<&[String], SideEvidence> = w
        .funcs
        .iter()
        .filter_map(|f| Some((f.name.as_deref()?, f.evidence)))
        .collect();
    w.funcs
        .iter()
        .map(|f| {
            let mut inherited = SideEvidence::default();
            for l in &f.locals {
                if let Some(e) = own.get(l.as_slice()) {
                    inherited.add(*e);
                }
            }
            f.forced
                .or_else(|| f.evidence.decide())
                .or_else(|| inherited.decide())
                .or_else(|| w.file_evidence.decide())
                .or_else(|| ctx.crate_evidence.decide())
        })
        .collect()
}

/// Imports of an item that keeps its name are replaced in place.
fn swap_kept_name_imports(
    rules: &StepRules,
    ctx: &FileCtx<'_>,
    gate: &Gate<'_>,
    imports: &mut ImportPlan,
) {
    let idx = ctx.index;
    for (l, leaf) in idx.leaves.iter().enumerate() {
        if leaf.is_glob || leaf.name.is_empty() || idx.use_items[leaf.item].is_pub {
            continue;
        }
        let path = idx.leaf_path(l);
        let Some(rule) = rules
            .rules
            .iter()
            .find(|r| r.from == path && r.side == Side::Any)
        else {
            continue;
        };
        if gate.disabled(rule, ctx).is_some() {
            continue;
        }
        let Action::Rename(to) = &rule.action else {
            continue;
        };
        if to.last() != path.last() {
            continue;
        }
        // `use prost::Message as _;` becomes `use buffa::Message as _;`.
        let alias = (Some(&leaf.name) != path.last()).then(|| leaf.name.clone());
        imports.swapped.insert(l, to.clone());
        imports
            .add
            .entry(leaf.item)
            .or_default()
            .insert((to.clone(), alias));
    }
}

/// One path a rule matched: renamed (when its side is this step's and nothing disables the
/// rule here), or reported.
fn apply_hit(
    hit: &Hit,
    rules: &StepRules,
    ctx: &FileCtx<'_>,
    gate: &Gate<'_>,
    side: Option<Side>,
    imports: &mut ImportPlan,
    out: &mut crate::engine::PassOutput,
) {
    let rule = &rules.rules[hit.rule];
    let start = hit.segs[0].0.start;
    if hit.suppressed {
        out.items.push(ManualItem {
            offset: start,
            rule: rule.id.clone(),
            message: format!("skipped: {}", rule.message),
            note: "suppressed by a `// connect-migrate: ignore` comment".into(),
            kind: ItemKind::Skipped,
        });
        return;
    }
    match (rule.side, side) {
        (Side::Any, _) => {}
        (want, Some(got)) if want == got => {}
        (_, Some(_)) => return, // the other step's business
        (_, None) => {
            out.items.push(ManualItem {
                offset: start,
                rule: rule.id.clone(),
                message: format!(
                    "{}; not changed: cannot tell whether this code runs on the server or the client side",
                    rule.message
                ),
                note: format!(
                    "if it is {} code, make the change by hand (or add `// connect-migrate: ignore` to keep it); {}",
                    if rule.side == Side::Server { "server" } else { "client" },
                    rule.note
                ),
                kind: ItemKind::Unsure,
            });
            return;
        }
    }
    let why = match &rule.action {
        Action::Rename(_) => gate.disabled(rule, ctx),
        Action::Report => None,
    };
    if let Some(why) = why {
        if rule.guard.is_some() {
            // The guard's own pass lists the sites it keeps.
            return;
        }
        out.items.push(ManualItem {
            offset: start,
            rule: rule.id.clone(),
            message: format!("{}; not changed in this file: {why}", rule.message),
            note: rule.note.clone(),
            kind: ItemKind::Manual,
        });
        return;
    }
    match &rule.action {
        Action::Report => out.items.push(ManualItem {
            offset: start,
            rule: rule.id.clone(),
            message: rule.message.clone(),
            note: rule.note.clone(),
            kind: ItemKind::Manual,
        }),
        Action::Rename(to) => match plan_rename(ctx.index, ctx.text, hit, rule, to, imports) {
            Ok(edits) => {
                if let Err(o) = out.commit(edits) {
                    out.items.push(ManualItem {
                        offset: start,
                        rule: rule.id.clone(),
                        message: format!("{}; not changed: {o}", rule.message),
                        note: "change it by hand".into(),
                        kind: ItemKind::Manual,
                    });
                } else if let Via::Import(l) = hit.resolved.via {
                    *imports.rewritten.entry(l).or_default() += 1;
                }
            }
            Err(why) => out.items.push(ManualItem {
                offset: start,
                rule: rule.id.clone(),
                message: format!("{}; not changed: {why}", rule.message),
                note: rule.note.clone(),
                kind: ItemKind::Manual,
            }),
        },
    }
}

/// Paths inside macros whose body is not Rust expressions: those that name a rule are
/// reported.
fn report_opaque(w: &Walker<'_>, rules: &StepRules, out: &mut crate::engine::PassOutput) {
    let idx = w.idx;
    for (name, at, mac) in &w.opaque_idents {
        let scope = idx.root();
        if let Some(full) = idx.binding_of(scope, name) {
            if let Some(rule) = rules.longest_match(&full, full.len()) {
                out.items.push(ManualItem {
                    offset: *at,
                    rule: rule.id.clone(),
                    message: format!("`{name}` inside `{mac}!` is not rewritten: the macro's input is not Rust expressions"),
                    note: rule.note.clone(),
                    kind: ItemKind::Manual,
                });
            }
        }
    }
}

/// An import to add: the absolute path and an `as` alias.
type NewImport = (Vec<String>, Option<String>);

/// Imports to add (per use item they go after) and references rewritten (per leaf).
#[derive(Default)]
struct ImportPlan {
    /// use item index -> absolute paths (with an `as` alias) to import after it.
    add: BTreeMap<usize, BTreeSet<NewImport>>,
    /// Imports replaced in place because the new item has the same name
    /// (`use prost_types::Timestamp;` -> `use buffa_types::google::protobuf::Timestamp;`): the
    /// leaf and the path it now binds. References through it keep their text.
    swapped: HashMap<LeafId, Vec<String>>,
    /// Scope -> names promised by `add` (so two hits agree and conflicts are seen).
    promised: HashMap<(ScopeId, String), Vec<String>>,
    rewritten: HashMap<LeafId, usize>,
}

fn plan_rename(
    idx: &FileIndex,
    text: &str,
    hit: &Hit,
    rule: &Rule,
    to: &[String],
    imports: &mut ImportPlan,
) -> Result<Vec<Edit>, String> {
    let r = &hit.resolved;
    let mut new_full = to.to_vec();
    new_full.extend_from_slice(&r.full[rule.from.len()..]);
    let written = hit.segs.len();
    let id = rule.id.as_str();

    // Segment-wise replacement when the written path keeps its length.
    let segmentwise = |new_written: &[String]| -> Vec<Edit> {
        hit.segs
            .iter()
            .zip(new_written)
            .filter(|((r, _), new)| &text[r.clone()] != new.as_str())
            .map(|((r, _), new)| Edit::replace(r.clone(), new.clone(), id))
            .collect()
    };
    // The written segments after the rule's `from` (`decode` in `prost_types::X::decode`) stay
    // as written: only the part the rule covers is replaced.
    let tail = (r.full.len() - rule.from.len()).min(written - 1);
    let whole = |prefix: &str, new_full: &[String]| -> Result<Vec<Edit>, String> {
        let last = written - 1 - tail;
        if hit.segs[..last].iter().any(|(_, g)| *g) {
            return Err("the path has generic arguments in the middle".into());
        }
        let start = hit.segs[0].0.start;
        let end = hit.segs[last].0.end;
        let new_text = format!("{prefix}{}", new_full[..new_full.len() - tail].join("::"));
        Ok(vec![Edit::replace(start..end, new_text, id)])
    };

    match &r.via {
        Via::Absolute | Via::Local => {
            if written == r.full.len() && new_full.len() == written {
                Ok(segmentwise(&new_full))
            } else {
                whole("", &new_full)
            }
        }
        Via::Import(_) | Via::Glob(_) => {
            if new_full.len() < written {
                return whole("", &new_full);
            }
            let old_anchor = &r.full[..r.full.len() + 1 - written];
            let new_anchor = &new_full[..new_full.len() + 1 - written];
            let new_written: Vec<String> = new_full[new_full.len() - written..].to_vec();
            if old_anchor == new_anchor {
                return Ok(segmentwise(&new_written));
            }
            if let Via::Import(l) = r.via {
                if imports.swapped.get(&l).map(Vec::as_slice) == Some(new_anchor) {
                    // The import keeps its local name (an alias stays an alias).
                    let mut kept = new_written.clone();
                    kept[0] = text[hit.segs[0].0.clone()].to_string();
                    return Ok(segmentwise(&kept));
                }
            }
            let name = new_anchor.last().unwrap().clone();
            let leaf = match r.via {
                Via::Import(l) | Via::Glob(l) => l,
                _ => unreachable!(),
            };
            let target_scope = idx.leaves[leaf].scope;
            let bound_here = idx.binding_of(hit.scope, &name);
            let bound_there = idx.binding_of(target_scope, &name);
            let promised = imports.promised.get(&(target_scope, name.clone()));
            let ok_here = bound_here.as_deref().is_none_or(|b| b == new_anchor);
            let ok_there = bound_there.as_deref().is_none_or(|b| b == new_anchor)
                && promised.is_none_or(|p| p == new_anchor);
            if ok_here && ok_there {
                if bound_here.is_none() && bound_there.is_none() && promised.is_none() {
                    imports
                        .add
                        .entry(idx.leaves[leaf].item)
                        .or_default()
                        .insert((new_anchor.to_vec(), None));
                    imports
                        .promised
                        .insert((target_scope, name), new_anchor.to_vec());
                }
                Ok(segmentwise(&new_written))
            } else {
                // The short name is taken: write the full path instead.
                let root = &new_full[0];
                if idx.binding_of(hit.scope, root).is_some() {
                    whole("::", &new_full)
                } else {
                    whole("", &new_full)
                }
            }
        }
    }
}

impl ImportPlan {
    /// The edits that add the planned imports and remove the imports nothing uses any more.
    fn finish(
        &self,
        idx: &FileIndex,
        text: &str,
        refs: &HashMap<LeafId, usize>,
        opaque: &HashSet<&str>,
        step: u8,
    ) -> Vec<Edit> {
        let id = format!("step{step:02}/imports");
        let mut removed: HashSet<LeafId> = self
            .rewritten
            .iter()
            .filter(|(l, n)| {
                let leaf = &idx.leaves[**l];
                refs.get(l) == Some(n)
                    && !idx.use_items[leaf.item].is_pub
                    && !opaque.contains(leaf.name.as_str())
                    // A module that `include!`s a file: that file may use the import too.
                    && !idx.scopes[idx.module_scope(leaf.scope)].opaque
            })
            .map(|(l, _)| *l)
            .collect();
        removed.extend(self.swapped.keys().copied());
        let mut items: BTreeSet<usize> = self.add.keys().copied().collect();
        items.extend(removed.iter().map(|l| idx.leaves[*l].item));
        let mut edits = Vec::new();
        for item in items {
            let u = &idx.use_items[item];
            let new_text = self.add.get(&item).map(render_imports);
            match removal(&u.tree, &removed, text) {
                Removal::All => {
                    let indent = indent_at(text, u.range.start).to_string();
                    match new_text {
                        Some(t) => edits.push(Edit::replace(
                            u.range.clone(),
                            t.replace('\n', &format!("\n{indent}")),
                            &id,
                        )),
                        None => edits.push(Edit::delete(
                            crate::edit::whole_lines_tidy(text, u.range.clone()),
                            &id,
                        )),
                    }
                }
                Removal::None => {
                    if let Some(t) = new_text {
                        let indent = indent_at(text, u.range.start).to_string();
                        let t = format!("\n{indent}{}", t.replace('\n', &format!("\n{indent}")));
                        edits.push(Edit::insert(u.range.end, t, &id));
                    }
                }
                Removal::Partial(mut v) => {
                    for e in &mut v {
                        e.rule = id.clone();
                    }
                    edits.extend(v);
                    if let Some(t) = new_text {
                        let indent = indent_at(text, u.range.start).to_string();
                        let t = format!("\n{indent}{}", t.replace('\n', &format!("\n{indent}")));
                        edits.push(Edit::insert(u.range.end, t, &id));
                    }
                }
            }
        }
        edits
    }
}

/// `use a::B;` or `use a::{B, C as D};` per parent path, one per line.
fn render_imports(paths: &BTreeSet<NewImport>) -> String {
    let mut by_parent: BTreeMap<&[String], Vec<String>> = BTreeMap::new();
    for (p, alias) in paths {
        let last = p.last().unwrap();
        by_parent
            .entry(&p[..p.len() - 1])
            .or_default()
            .push(match alias {
                Some(a) => format!("{last} as {a}"),
                None => last.clone(),
            });
    }
    let lines: Vec<String> = by_parent
        .into_iter()
        .map(|(parent, names)| {
            if names.len() == 1 {
                format!("use {}::{};", parent.join("::"), names[0])
            } else {
                format!("use {}::{{{}}};", parent.join("::"), names.join(", "))
            }
        })
        .collect();
    lines.join("\n")
}

pub(crate) enum Removal {
    All,
    None,
    Partial(Vec<Edit>),
}

/// What removing `removed` leaves of a use tree: everything, nothing, or these edits.
pub(crate) fn removal(t: &UTree, removed: &HashSet<LeafId>, text: &str) -> Removal {
    match t {
        UTree::Leaf(l, _) => {
            if removed.contains(l) {
                Removal::All
            } else {
                Removal::None
            }
        }
        UTree::Path(inner, _) => removal(inner, removed, text),
        UTree::Group(elems, _) => {
            let states: Vec<Removal> = elems.iter().map(|e| removal(e, removed, text)).collect();
            if !elems.is_empty() && states.iter().all(|s| matches!(s, Removal::All)) {
                return Removal::All;
            }
            if states.iter().all(|s| matches!(s, Removal::None)) {
                return Removal::None;
            }
            // One untouched element left: `{Request, Status}` minus `Status` reads `Request`, as
            // rustfmt would write it (not for `self`, and not when the braces hold a comment).
            let kept: Vec<usize> = (0..elems.len())
                .filter(|&k| !matches!(states[k], Removal::All))
                .collect();
            if let [k] = kept[..] {
                let group = &text[t.range()];
                let survivor = &text[elems[k].range()];
                if matches!(states[k], Removal::None)
                    && !survivor.starts_with("self")
                    && !group.contains("//")
                    && !group.contains("/*")
                {
                    return Removal::Partial(vec![Edit::replace(
                        t.range(),
                        survivor.to_string(),
                        "",
                    )]);
                }
            }
            let mut edits = Vec::new();
            let mut all_flags: Vec<bool> = Vec::new();
            let mut partials = Vec::new();
            for s in states {
                all_flags.push(matches!(s, Removal::All));
                if let Removal::Partial(v) = s {
                    partials.extend(v);
                }
            }
            // Maximal runs of fully removed elements.
            let n = elems.len();
            let mut k = 0;
            while k < n {
                if !all_flags[k] {
                    k += 1;
                    continue;
                }
                let run_start = k;
                while k < n && all_flags[k] {
                    k += 1;
                }
                let run_end = k - 1;
                if k < n {
                    edits.push(Edit::delete(
                        elems[run_start].range().start..elems[k].range().start,
                        "",
                    ));
                } else {
                    edits.push(Edit::delete(
                        elems[run_start - 1].range().end..elems[run_end].range().end,
                        "",
                    ));
                }
            }
            edits.extend(partials);
            Removal::Partial(edits)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{process, FileMeta, ItemKind, Outcome};
    use crate::steps::{self, Step};

    fn step(n: u8) -> Step {
        steps::all()
            .unwrap()
            .into_iter()
            .nth(n as usize - 1)
            .unwrap()
    }

    /// Run step `n` on `before`; return the new text (or `before` when nothing changed) and the
    /// manual items as `kind rule` strings.
    fn run(n: u8, before: &str) -> (String, Vec<String>) {
        let s = step(n);
        // A file of a workspace where step 2 converted some handler.
        let meta = FileMeta {
            crate_evidence: super::SideEvidence {
                connect_server: true,
                ..Default::default()
            },
            ..Default::default()
        };
        match process(&s, before, &meta) {
            Outcome::NotApplicable => (before.to_string(), Vec::new()),
            Outcome::Rewritten {
                new_text, items, ..
            } => (
                new_text.unwrap_or_else(|| before.to_string()),
                items
                    .iter()
                    .map(|i| format!("{:?} {}", i.kind, i.rule))
                    .collect(),
            ),
            o => panic!("unexpected outcome {o:?}"),
        }
    }

    #[track_caller]
    fn check_step(n: u8, before: &str, after: &str) {
        let (got, _) = run(n, before);
        assert_eq!(got, after, "\n--- got ---\n{got}\n--- want ---\n{after}");
        // Idempotent: a second run changes nothing.
        let (again, _) = run(n, &got);
        assert_eq!(again, got, "second run changed the text");
    }

    #[track_caller]
    fn check_not_applicable(n: u8, before: &str) {
        let (got, items) = run(n, before);
        assert_eq!(got, before);
        assert!(items.is_empty(), "{items:?}");
    }

    const SERVER: &str = r#"use tonic::{Request, Response, Status};
use crate::pb::greeter_server::Greeter;

pub struct Svc;

#[tonic::async_trait]
impl Greeter for Svc {
    async fn say_hello(&self, req: Request<Hello>) -> Result<Response<Reply>, Status> {
        // An empty name is the caller's fault.
        if req.get_ref().name.is_empty() {
            return Err(Status::invalid_argument("name is empty")); // keep this comment
        }

        Err(Status::not_found(format!("no greeting for {}", req.get_ref().name)))
    }
}
"#;

    #[test]
    fn server_impl_still_on_tonic_is_left_for_step_2() {
        // The whole step 3 leaves an impl still on tonic's trait alone (step 2 comes first).
        let (got, items) = run(3, SERVER);
        assert_eq!(got, SERVER);
        assert!(
            items.iter().any(|i| i.contains("step03/step2-first")),
            "{items:?}"
        );
        // Step 7 is for client code: nothing here.
        check_not_applicable(7, SERVER);
    }

    /// One case per edit kind: identifier rename, full-path fallback, import insertion, whole
    /// import removal, group-leaf removal. Comments, blank lines and odd spacing around and inside
    /// each edit survive byte for byte.
    #[test]
    fn comments_and_blank_lines_survive_every_edit_kind() {
        // Identifier rename, with comments inside the path and the call.
        check_step(
            3,
            "use x_server::A;\nfn f() {\n    let _ = tonic::Status :: /* why */ not_found( /* arg */ \"x\" ); // end\n}\n",
            "use x_server::A;\nfn f() {\n    let _ = connectrpc::ConnectError :: /* why */ not_found( /* arg */ \"x\" ); // end\n}\n",
        );
        // Full-path fallback (the short name is taken), comments on both sides.
        check_step(
            3,
            "use tonic::Code;\nuse x_server::A;\nenum ErrorCode {}\n\n\nfn f() { /* a */ Code::Internal /* b */; }\n",
            "use x_server::A;\nenum ErrorCode {}\n\n\nfn f() { /* a */ connectrpc::ErrorCode::Internal /* b */; }\n",
        );
        // Import insertion after a kept import, and whole-item removal: the comment above the
        // removed item and the blank lines around it stay.
        check_step(
            3,
            "//! Module docs.\n\n// Transport types.\nuse tonic::Request;\n\n// Errors.\nuse tonic::Status;\n\nuse x_server::A;\n\nfn f(_: Request<()>) -> Status { todo_later() }\n",
            "//! Module docs.\n\n// Transport types.\nuse tonic::Request;\n\n// Errors.\nuse connectrpc::ConnectError;\n\nuse x_server::A;\n\nfn f(_: Request<()>) -> ConnectError { todo_later() }\n",
        );
        // Group-leaf removal with a comment inside the group and an attribute on the item.
        check_step(
            3,
            "#[allow(unused_imports)]\nuse tonic::{Request /* req */, Status, Response};\nuse x_server::A;\nfn f() -> Status { g() }\n",
            "#[allow(unused_imports)]\nuse tonic::{Request /* req */, Response};\nuse connectrpc::ConnectError;\nuse x_server::A;\nfn f() -> ConnectError { g() }\n",
        );
    }

    #[test]
    fn code_cancelled_is_canceled_and_import_is_replaced() {
        let before =
            "use tonic::Code;\nuse foo_server::X;\n\nfn f() -> Code {\n    Code::Cancelled\n}\n";
        let after = "use connectrpc::ErrorCode;\nuse foo_server::X;\n\nfn f() -> ErrorCode {\n    ErrorCode::Canceled\n}\n";
        check_step(3, before, after);
    }

    #[test]
    fn fully_qualified_paths_keep_their_form() {
        let before = "use a_server::S;\nfn f() {\n    let _ = tonic::Status::cancelled(\"x\");\n    let _ = ::tonic::Code::Internal;\n}\n";
        let after = "use a_server::S;\nfn f() {\n    let _ = connectrpc::ConnectError::canceled(\"x\");\n    let _ = ::connectrpc::ErrorCode::Internal;\n}\n";
        check_step(3, before, after);
    }

    #[test]
    fn renamed_import_and_taken_name() {
        let before = "use tonic::Status as RpcStatus;\nuse x_server::S;\nfn f() -> RpcStatus { RpcStatus::internal(\"boom\") }\n";
        let after = "use connectrpc::ConnectError;\nuse x_server::S;\nfn f() -> ConnectError { ConnectError::internal(\"boom\") }\n";
        check_step(3, before, after);
        // A local item already called ConnectError: write the full path instead.
        let before = "use tonic::Status;\nuse x_server::S;\nstruct ConnectError;\nfn f() -> Status { Status::internal(\"boom\") }\n";
        let after = "use x_server::S;\nstruct ConnectError;\nfn f() -> connectrpc::ConnectError { connectrpc::ConnectError::internal(\"boom\") }\n";
        check_step(3, before, after);
    }

    #[test]
    fn multi_line_group_loses_only_the_migrated_leaf() {
        let before = "use tonic::{\n    // the request side\n    Request,\n    Status,\n};\nuse y_server::S;\n\nfn f(_: Request<()>) -> Status { Status::aborted(\"x\") }\n";
        let after = "use tonic::{\n    // the request side\n    Request,\n};\nuse connectrpc::ConnectError;\nuse y_server::S;\n\nfn f(_: Request<()>) -> ConnectError { ConnectError::aborted(\"x\") }\n";
        check_step(3, before, after);
    }

    #[test]
    fn import_still_used_elsewhere_is_kept() {
        // The client function keeps tonic::Status: its import stays.
        let before = "use tonic::Status;\nuse pb::a_server::A;\nuse pb::b_client::BClient;\n\nfn serve(_: &A) -> Status { Status::unknown(\"u\") }\n\nfn call(c: BClient<()>) -> Result<(), Status> { Ok(()) }\n";
        let after = "use tonic::Status;\nuse connectrpc::ConnectError;\nuse pb::a_server::A;\nuse pb::b_client::BClient;\n\nfn serve(_: &A) -> ConnectError { ConnectError::unknown(\"u\") }\n\nfn call(c: BClient<()>) -> Result<(), Status> { Ok(()) }\n";
        check_step(3, before, after);
        // Step 7 leaves a file still on tonic's generated clients alone (step 6 first).
        let (got, items) = run(7, after);
        assert_eq!(got, after);
        assert!(
            items.iter().any(|i| i.contains("step07/kept-tonic")),
            "{items:?}"
        );
    }

    #[test]
    fn a_workspace_crate_named_like_a_generated_module_is_no_side_evidence() {
        // An integration test of crate `shop_server` starts the server and calls it through a
        // connect client: it is client code (step 7), whatever the crate is called.
        let before = "use tonic::Code;\nuse tonic::transport::Channel;\nuse pb::StoreClient;\n\nasync fn get(c: &mut StoreClient<Channel>) -> bool {\n    tokio::spawn(shop_server::run());\n    c.get(()).await.map_err(connect_shim::status::to_status).unwrap_err().code() == Code::NotFound\n}\n";
        let run_with = |n: u8, libs: &[&str]| {
            let meta = FileMeta {
                crate_evidence: super::SideEvidence {
                    connect_server: true,
                    ..Default::default()
                },
                workspace_libs: libs.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            };
            match process(&step(n), before, &meta) {
                Outcome::Rewritten { new_text, .. } => new_text,
                _ => None,
            }
        };
        // Known as a workspace crate: the client side only, step 7 converts, step 3 does not.
        let got = run_with(7, &["shop_server"]).expect("step 7 converts");
        assert!(got.contains("== ErrorCode::NotFound"), "{got}");
        assert_eq!(run_with(3, &["shop_server"]), None);
        // Unknown first segment (it could be a generated module at the crate root): both sides
        // seen, so step 7 does not take the file on its own.
        assert_eq!(run_with(7, &[]), None);
    }

    #[test]
    fn client_code_is_step_7() {
        let before = "use tonic::Code;\nuse pb::store_client::StoreClient;\n\nasync fn get(c: &mut StoreClient<Ch>) -> bool {\n    match c.get(()).await {\n        Err(e) if e.code() == Code::NotFound => false,\n        _ => true,\n    }\n}\n";
        check_not_applicable(3, before);
        // Client code, but still on tonic's generated client: step 7 waits for step 6.
        let (got, items) = run(7, before);
        assert_eq!(got, before);
        assert!(
            items.iter().any(|i| i.contains("step07/kept-tonic")),
            "{items:?}"
        );
        // On a connect client (after step 6) it is step 7's.
        let after6 = "use tonic::Code;\nuse pb::StoreClient;\n\nasync fn get(c: &mut StoreClient<Ch>) -> bool {\n    match c.get(()).await.map_err(connect_shim::status::to_status) {\n        Err(e) if e.code() == Code::NotFound => false,\n        _ => true,\n    }\n}\nfn channel() -> tonic::transport::Channel { tonic::transport::Channel::from_static(\"http://[::1]:50051\").connect_lazy() }\n";
        let after7 = "use connectrpc::ErrorCode;\nuse pb::StoreClient;\n\nasync fn get(c: &mut StoreClient<Ch>) -> bool {\n    match c.get(()).await {\n        Err(e) if e.code == ErrorCode::NotFound => false,\n        _ => true,\n    }\n}\nfn channel() -> tonic::transport::Channel { tonic::transport::Channel::from_static(\"http://[::1]:50051\").connect_lazy() }\n";
        check_step(7, after6, after7);
    }

    #[test]
    fn handler_signatures_are_server_code() {
        // A library trait (not a generated `*_server` one) implemented with tonic handler
        // signatures.
        let before = "use tonic::{Request, Response, Status};\n\nimpl FlightService for Svc {\n    async fn get(&self, _r: Request<Ticket>) -> Result<Response<Data>, Status> {\n        Err(Status::unimplemented(\"get\"))\n    }\n}\n\nfn intercept(r: Request<()>) -> Result<Request<()>, Status> { Ok(r) }\n";
        let (got, items) = run(3, before);
        assert!(
            got.contains("Result<Response<Data>, ConnectError>"),
            "{got}"
        );
        assert!(
            got.contains("Err(ConnectError::unimplemented(\"get\"))"),
            "{got}"
        );
        // The interceptor is not a handler: it stays, reported.
        assert!(
            got.contains("fn intercept(r: Request<()>) -> Result<Request<()>, Status>"),
            "{got}"
        );
        assert_eq!(items, ["Unsure step03/status-type"]);
    }

    #[test]
    fn unknown_side_is_reported_not_edited() {
        let before =
            "use tonic::Status;\n\npub fn helper() -> Status {\n    Status::internal(\"x\")\n}\n";
        let (got, items) = run(3, before);
        assert_eq!(got, before);
        assert!(
            items.iter().all(|i| i.starts_with("Unsure step03/")),
            "{items:?}"
        );
        // The return type and the constructor.
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn ignore_comment_skips_the_statement() {
        let before = "use tonic::Status;\nuse a_server::A;\nfn f() {\n    // connect-migrate: ignore\n    let a = Status::internal(\"kept\");\n    let b = Status::internal(\"moved\");\n}\n";
        let (got, items) = run(3, before);
        assert!(got.contains("let a = Status::internal(\"kept\")"), "{got}");
        assert!(
            got.contains("let b = ConnectError::internal(\"moved\")"),
            "{got}"
        );
        // The import is still used by the skipped statement.
        assert!(
            got.starts_with("use tonic::Status;\nuse connectrpc::ConnectError;\n"),
            "{got}"
        );
        assert!(
            items.contains(&"Skipped step03/status-internal".to_string()),
            "{items:?}"
        );
    }

    #[test]
    fn paths_without_an_equivalent_are_reported() {
        let before = "use tonic::{Code, Status};\nuse a_server::A;\nfn f() -> Status { Status::ok(\"fine\") }\nfn g(c: Code) -> bool { c == Code::Ok }\n";
        let (got, items) = run(3, before);
        assert!(got.contains("Status::ok(\"fine\")"), "{got}");
        assert!(got.contains("c == Code::Ok"), "{got}");
        assert!(
            items.contains(&"Manual step03/status-ok".to_string()),
            "{items:?}"
        );
        assert!(
            items.contains(&"Manual step03/code-ok".to_string()),
            "{items:?}"
        );
        // Their imports stay: something still uses them.
        assert!(got.starts_with("use tonic::{Code, Status};"), "{got}");
    }

    #[test]
    fn code_without_tonic_is_never_touched() {
        let own = "pub enum Code { Ok, NotFound }\npub struct Status { pub code: Code }\nimpl Status {\n    pub fn not_found() -> Status { Status { code: Code::NotFound } }\n}\n// tonic::Status is not used here\nfn f() -> &'static str { \"tonic::Status\" }\n";
        check_not_applicable(3, own);
        check_not_applicable(7, own);
        // A bare `Status` that no import binds is not tonic's.
        let bare = "use a_server::A;\nfn f() { Status::not_found(); }\nmod tonic_stuff {}\n";
        check_not_applicable(3, bare);
    }

    #[test]
    fn macros_with_expressions_are_rewritten_others_reported() {
        let before = "use tonic::Status;\nuse a_server::A;\nfn f() {\n    assert_eq!(g(), Err(Status::internal(\"x\")));\n    my_dsl!(fail => Status::internal);\n}\n";
        let (got, items) = run(3, before);
        assert!(
            got.contains("assert_eq!(g(), Err(ConnectError::internal(\"x\")));"),
            "{got}"
        );
        assert!(got.contains("my_dsl!(fail => Status::internal);"), "{got}");
        assert!(
            got.starts_with("use tonic::Status;\nuse connectrpc::ConnectError;"),
            "{got}"
        );
        assert!(
            items.iter().any(|i| i.starts_with("Manual step03/status")),
            "{items:?}"
        );
    }

    #[test]
    fn test_module_through_super_glob() {
        let before = "use tonic::Status;\nuse a_server::A;\npub fn f() -> Status { Status::aborted(\"x\") }\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn t() {\n        assert_eq!(f().code(), tonic::Code::Aborted);\n        let _s: Status = f();\n    }\n}\n";
        let after = "use connectrpc::ConnectError;\nuse a_server::A;\npub fn f() -> ConnectError { ConnectError::aborted(\"x\") }\n\n#[cfg(test)]\nmod tests {\n    use super::*;\n\n    #[test]\n    fn t() {\n        assert_eq!(f().code(), connectrpc::ErrorCode::Aborted);\n        let _s: ConnectError = f();\n    }\n}\n";
        check_step(3, before, after);
    }

    #[test]
    fn one_import_left_in_braces_loses_them_unless_self_or_commented() {
        let (got, _) = run(3, "use tonic::{Request, Status};\nuse a_server::A;\nfn f(_: Request<()>) -> Status { Status::internal(\"x\") }\n");
        assert!(got.starts_with("use tonic::Request;\n"), "{got}");
        let (got, _) = run(3, "use tonic::{self, Status};\nuse a_server::A;\nfn f(_: tonic::Request<()>) -> Status { Status::internal(\"x\") }\n");
        assert!(got.starts_with("use tonic::{self};\n"), "{got}");
        let (got, _) = run(3, "use tonic::{Request, /* errors */ Status};\nuse a_server::A;\nfn f(_: Request<()>) -> Status { Status::internal(\"x\") }\n");
        assert!(!got.starts_with("use tonic::Request;"), "{got}");
    }

    #[test]
    fn crlf_and_bom_are_preserved() {
        let before = "\u{feff}use tonic::Status;\r\nuse a_server::A;\r\n\r\nfn f() -> Status {\r\n    Status::internal(\"x\")\r\n}\r\n";
        let after = "\u{feff}use connectrpc::ConnectError;\r\nuse a_server::A;\r\n\r\nfn f() -> ConnectError {\r\n    ConnectError::internal(\"x\")\r\n}\r\n";
        check_step(3, before, after);
        // Inserted lines use CRLF too.
        let before = "use tonic::{Request, Status};\r\nuse a_server::A;\r\nfn f(_: Request<()>) -> Status { Status::internal(\"x\") }\r\n";
        let (got, _) = run(3, before);
        assert_eq!(got, "use tonic::Request;\r\nuse connectrpc::ConnectError;\r\nuse a_server::A;\r\nfn f(_: Request<()>) -> ConnectError { ConnectError::internal(\"x\") }\r\n");
    }

    #[test]
    fn use_inside_a_function_gets_its_import_there() {
        let before =
            "use a_server::A;\nfn f() {\n    use tonic::Code;\n    let _ = Code::Unavailable;\n}\n";
        let after = "use a_server::A;\nfn f() {\n    use connectrpc::ErrorCode;\n    let _ = ErrorCode::Unavailable;\n}\n";
        check_step(3, before, after);
    }

    #[test]
    fn ambiguous_globs_are_reported() {
        let before =
            "use tonic::*;\nuse other::*;\nuse a_server::A;\nfn f() { Status::internal(\"x\"); }\n";
        let (got, items) = run(3, before);
        assert_eq!(got, before);
        assert_eq!(items, ["Manual step03/ambiguous-glob"]);
        // With one glob the name is tonic's.
        let before = "use tonic::*;\nuse a_server::A;\nfn f() { Status::internal(\"x\"); }\n";
        let (got, items) = run(3, before);
        assert_eq!(got, "use tonic::*;\nuse connectrpc::ConnectError;\nuse a_server::A;\nfn f() { ConnectError::internal(\"x\"); }\n");
        assert!(items.is_empty(), "{items:?}");
        let _ = ItemKind::Manual;
    }
}
