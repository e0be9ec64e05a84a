//! Step 1, names: user code that names generated items by prost's spelling moves to buffa's,
//! and `const fn`s that the message rewrites make non-const lose their `const`.
//!
//! prost-build re-cases proto names (`HashKVRequest` -> `HashKvRequest`, a field `TTL` ->
//! `ttl`); buffa keeps them as written ([`crate::schema::naming::prost_ident`] and
//! [`crate::schema::naming::buffa_ident`]). A name is renamed only where its meaning is known:
//!
//! - a path (in `use`, types, expressions, patterns) whose prefix resolves to a generated
//!   message, enum or oneof enum: the segments written in prost's spelling, and an enum variant
//!   or oneof variant after it;
//! - a field of a message literal or pattern whose path resolves to a message;
//! - a field read `x.f` whose receiver's type is known: `self` in an impl, parameters, annotated
//!   or literal-initialised lets, fields of the crate's structs (tuple fields of this file's
//!   structs included), and fields of messages.
//!
//! A field read whose receiver's type is unknown, of a name that some message spells
//! differently, is reported (`unsure`) and left as written.
//!
//! Before:
//! ```text
//! use pb::{HashKvRequest, LeaseGrantRequest as Grant};
//! struct Opts(Grant);
//! impl Opts { const fn new() -> Self { Self(Grant { ttl: 0, ..Grant::default() }) } fn id(&self) -> i64 { self.0.id } }
//! ```
//! After (the message pass added the literal's rest; `const` is dropped and listed):
//! ```text
//! use pb::{HashKVRequest, LeaseGrantRequest as Grant};
//! struct Opts(Grant);
//! impl Opts { fn new() -> Self { Self(Grant { TTL: 0, ..Grant::default() }) } fn id(&self) -> i64 { self.0.ID } }
//! ```
//!
//! Runs after [`super::messages::MessagesPass`] (see [`super::definition`]): it reads the edits
//! already made to know which `const fn` bodies now call non-const code, and to join a renamed
//! shorthand field with the value that pass wrote after it.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::messages::Named;
use super::types::{path_without_last, Ty, Types};
use super::CrateCtx;
use crate::edit::Edit;
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};
use crate::schema::{Message, Schema};

pub const RULE_TYPE: &str = "step01/name-type";
pub const RULE_FIELD: &str = "step01/name-field";
pub const RULE_UNSURE: &str = "step01/name-field-unsure";
pub const RULE_CONST: &str = "step01/const-fn";

pub struct NamesPass<'c> {
    pub ctx: &'c CrateCtx,
}

impl Pass for NamesPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let Some(schema) = self.ctx.schema.as_deref() else {
            return;
        };
        let mut w = Walker {
            ctx: self.ctx,
            schema,
            idx: file.index,
            tr: ScopeTracker::new(file.index),
            out,
            types: Types::new(self.ctx, file.index, file.file),
            const_fns: Vec::new(),
            unsure: Vec::new(),
            names_generated: false,
            edits: Vec::new(),
        };
        w.visit_file(file.file);
        let Walker {
            edits,
            const_fns,
            unsure,
            names_generated,
            ..
        } = w;
        if names_generated {
            out.items.extend(unsure);
        }
        for (at, e) in edits {
            if let Err(o) = out.commit(e) {
                out.items.push(item(
                    at,
                    RULE_TYPE,
                    format!("not renamed: {o}"),
                    "rename it to buffa's spelling by hand",
                    ItemKind::Manual,
                ));
            }
        }
        const_fns_made_runtime(file.text, &const_fns, out);
    }
}

fn item(offset: usize, rule: &str, message: String, note: &str, kind: ItemKind) -> ManualItem {
    ManualItem {
        offset,
        rule: rule.to_string(),
        message,
        note: note.to_string(),
        kind,
    }
}

/// A `const fn`: the range of its `const` keyword and of its body.
struct ConstFn {
    name: String,
    keyword: Range<usize>,
    body: Range<usize>,
}

struct Walker<'a, 'o> {
    ctx: &'a CrateCtx,
    schema: &'a Schema,
    idx: &'a FileIndex,
    tr: ScopeTracker,
    out: &'o mut PassOutput,
    /// Types of receivers, parameters and locals.
    types: Types<'a>,
    const_fns: Vec<ConstFn>,
    /// Field reads of unknown receivers, listed when the file names generated code.
    unsure: Vec<ManualItem>,
    /// A path of this file resolved to a generated message, enum or oneof.
    names_generated: bool,
    /// Edit groups with their offset, committed after the walk (so a failed group is listed).
    edits: Vec<(usize, Vec<Edit>)>,
}

fn unraw(s: &str) -> &str {
    s.strip_prefix("r#").unwrap_or(s)
}

/// Some message spells a field of this prost name differently in buffa.
fn differs_somewhere(schema: &Schema, name: &str) -> bool {
    schema.messages.iter().any(|m| {
        m.fields
            .iter()
            .any(|f| unraw(&f.prost_name) == name && f.prost_name != f.buffa_name)
            || m.oneofs
                .iter()
                .any(|o| unraw(&o.prost_field) == name && o.prost_field != o.buffa_field)
    })
}

/// buffa's name of the member `name` of message `m` when `name` is prost's spelling and
/// buffa's differs.
fn member_rename(m: &Message, name: &str) -> Option<String> {
    if let Some(f) = m.fields.iter().find(|f| unraw(&f.prost_name) == name) {
        return (f.prost_name != f.buffa_name).then(|| f.buffa_name.clone());
    }
    m.oneofs
        .iter()
        .find(|o| unraw(&o.prost_field) == name && o.prost_field != o.buffa_field)
        .map(|o| o.buffa_field.clone())
}

impl<'a> Walker<'a, '_> {
    fn resolve(&self, p: &syn::Path) -> Option<Named<'a>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => self.ctx.named(&r.full),
            Resolution::Ambiguous(_) => None,
        }
    }

    fn push(&mut self, at: usize, edits: Vec<Edit>) {
        if !edits.is_empty() {
            self.edits.push((at, edits));
        }
    }

    /// Rename the segments of `segs` (ident text and range, the last one naming `named`) that
    /// are written in prost's spelling; `after` is the segment following it (a variant).
    fn rename_segments(
        &mut self,
        segs: &[(String, Range<usize>)],
        named: Named<'a>,
        after: Option<&(String, Range<usize>)>,
    ) {
        self.names_generated = true;
        let (prost, buffa): (&[String], &[String]) = match named {
            Named::Message(m) => (&m.prost_path, &m.buffa_path),
            Named::Enum(e) => (&e.prost_path, &e.buffa_path),
            Named::Oneof(_, o) => (&o.prost_enum_path, &o.buffa_enum_path),
            Named::Wkt(_) => return,
        };
        let mut edits = Vec::new();
        if prost.len() == buffa.len() {
            for ((text, r), (p, b)) in segs
                .iter()
                .rev()
                .zip(prost.iter().rev().zip(buffa.iter().rev()))
            {
                if text == p && p != b {
                    edits.push(Edit::replace(r.clone(), b.clone(), RULE_TYPE));
                }
            }
        }
        if let Some((text, r)) = after {
            let new = match named {
                Named::Enum(e) => e
                    .values
                    .iter()
                    .find(|v| v.prost_variant.as_deref() == Some(text.as_str()))
                    .filter(|v| {
                        v.buffa_variant != *text && v.buffa_alias.as_deref() != Some(text.as_str())
                    })
                    .map(|v| v.buffa_variant.clone()),
                Named::Oneof(_, o) => o
                    .variants
                    .iter()
                    .find(|v| v.prost_variant == *text && v.buffa_variant != *text)
                    .map(|v| v.buffa_variant.clone()),
                _ => None,
            };
            if let Some(new) = new {
                edits.push(Edit::replace(r.clone(), new, RULE_TYPE));
            }
        }
        let at = segs.first().map_or(0, |s| s.1.start);
        self.push(at, edits);
    }

    /// A path anywhere: its longest prefix naming a generated type.
    fn path(&mut self, p: &syn::Path) {
        let segs: Vec<(String, Range<usize>)> = p
            .segments
            .iter()
            .map(|s| (s.ident.to_string(), range(s.ident.span())))
            .collect();
        for k in (1..=segs.len()).rev() {
            let prefix = path_without_last(p, k);
            if let Some(named) = self.resolve(&prefix) {
                self.rename_segments(&segs[..k], named, segs.get(k));
                return;
            }
        }
    }

    /// A `use` tree: each leaf resolved like a path.
    fn use_tree(
        &mut self,
        t: &syn::UseTree,
        prefix: &mut Vec<(String, Range<usize>)>,
        colon: bool,
    ) {
        match t {
            syn::UseTree::Path(p) => {
                prefix.push((p.ident.to_string(), range(p.ident.span())));
                self.use_tree(&p.tree, prefix, colon);
                prefix.pop();
            }
            syn::UseTree::Name(syn::UseName { ident })
            | syn::UseTree::Rename(syn::UseRename { ident, .. }) => {
                if ident == "self" {
                    return;
                }
                prefix.push((ident.to_string(), range(ident.span())));
                let names: Vec<String> = prefix.iter().map(|s| s.0.clone()).collect();
                let scope = self.tr.current();
                for k in (1..=prefix.len()).rev() {
                    let named = match self.idx.resolve_segments(scope, &names[..k], colon) {
                        Some(Resolution::One(r)) => self.ctx.named(&self.idx.canonical(r.full)),
                        _ => None,
                    };
                    if let Some(named) = named {
                        let segs = prefix[..k].to_vec();
                        let after = prefix.get(k).cloned();
                        self.rename_segments(&segs, named, after.as_ref());
                        break;
                    }
                }
                prefix.pop();
            }
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(t, prefix, colon);
                }
            }
            syn::UseTree::Glob(_) => {}
        }
    }

    /// `x.f` on a receiver of known type; reported when unknown and `f` is spelled differently.
    fn field_read(&mut self, f: &syn::ExprField) {
        let syn::Member::Named(ident) = &f.member else {
            return;
        };
        let name = ident.to_string();
        let r = range(ident.span());
        match self.types.ty_of_expr(&f.base, self.tr.current()) {
            Some(Ty::Message(m) | Ty::Boxed(m)) => {
                if let Some(new) = member_rename(m, &name) {
                    self.push(r.start, vec![Edit::replace(r, new, RULE_FIELD)]);
                }
            }
            Some(Ty::Struct(s)) if self.types.knows_struct(&s) => {}
            _ => {
                if differs_somewhere(self.schema, &name) {
                    let spelled: Vec<String> = self
                        .schema
                        .messages
                        .iter()
                        .filter_map(|m| member_rename(m, &name))
                        .collect::<std::collections::BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    self.unsure.push(item(
                        r.start,
                        RULE_UNSURE,
                        format!(
                            "`.{name}`: the receiver's type is unknown here; if it is a generated message, buffa spells this field `{}`",
                            spelled.join("` or `")
                        ),
                        "rename the field read to buffa's spelling if the receiver is a message (annotate the binding's type to let the step do it)",
                        ItemKind::Unsure,
                    ));
                }
            }
        }
    }

    /// Members of a message literal or pattern written in prost's spelling.
    fn members<'m>(
        &mut self,
        path: &syn::Path,
        members: impl Iterator<Item = (&'m syn::Member, bool, Range<usize>)>,
    ) {
        let m = if path.is_ident("Self") {
            match self.types.self_ty().as_ref().and_then(Ty::message) {
                Some(m) => m,
                _ => return,
            }
        } else {
            match self.resolve(path) {
                Some(Named::Message(m)) => m,
                _ => return,
            }
        };
        for (member, shorthand, whole) in members {
            let syn::Member::Named(ident) = member else {
                continue;
            };
            let name = ident.to_string();
            let Some(new) = member_rename(m, &name) else {
                continue;
            };
            let r = range(ident.span());
            let edit = if !shorthand {
                Edit::replace(r.clone(), new, RULE_FIELD)
            } else if self.value_written_after(r.end) {
                // The message pass wrote `: name.into()` after the shorthand.
                Edit::replace(r.clone(), new, RULE_FIELD)
            } else {
                Edit::insert(whole.start, format!("{new}: "), RULE_FIELD)
            };
            self.push(r.start, vec![edit]);
        }
    }

    fn value_written_after(&self, at: usize) -> bool {
        self.out
            .buffer
            .edits()
            .iter()
            .any(|e| e.range == (at..at) && e.text.starts_with(':'))
    }

    /// A function: its signature visited (paths renamed), then its parameters typed, then its
    /// body walked with them.
    fn walk_function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        body: Option<&syn::Block>,
    ) {
        if let Some(b) = body {
            self.const_fns.extend(const_fn(sig, b));
        }
        for a in attrs {
            self.visit_attribute(a);
        }
        self.visit_signature(sig);
        self.types.enter_fn(sig, self.tr.current());
        if let Some(b) = body {
            self.visit_block(b);
        }
        self.types.leave_fn();
    }
}

/// `const fn`s whose bodies now hold a step-1 message rewrite (a `..Default::default()`, an
/// `.into()`, ..): none of them is const in buffa, so the `const` goes and the site is listed.
fn const_fns_made_runtime(text: &str, fns: &[ConstFn], out: &mut PassOutput) {
    let mut drops = Vec::new();
    for f in fns {
        let touched = out.buffer.edits().iter().any(|e| {
            f.body.start <= e.range.start
                && e.range.end <= f.body.end
                && e.rule.starts_with("step01/")
                && ![RULE_TYPE, RULE_FIELD].contains(&e.rule.as_str())
        });
        if !touched {
            continue;
        }
        let after = text[f.keyword.end..]
            .find(|c: char| !c.is_whitespace())
            .map_or(f.keyword.end, |n| f.keyword.end + n);
        drops.push((f, Edit::delete(f.keyword.start..after, RULE_CONST)));
    }
    for (f, e) in drops {
        let at = f.keyword.start;
        let (message, note) = match out.commit(vec![e]) {
            Ok(()) => (
                format!("`const fn {}` builds or converts a buffa message, which a const context cannot (non-const `Default` and `From`, a destructor): it is no longer `const`", f.name),
                "an API change: callers that used it in a `const` or `static` must call it at run time (for example through `std::sync::LazyLock`)",
            ),
            Err(_) => (
                format!("`const fn {}` builds or converts a buffa message, which a const context cannot", f.name),
                "remove `const` from it by hand",
            ),
        };
        out.items
            .push(item(at, RULE_CONST, message, note, ItemKind::Manual));
    }
}

fn const_fn(sig: &syn::Signature, body: &syn::Block) -> Option<ConstFn> {
    let c = sig.constness.as_ref()?;
    Some(ConstFn {
        name: sig.ident.to_string(),
        keyword: range(c.span),
        body: range(body.span()),
    })
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    crate::scoped_visit!();
    crate::typed_visit!();

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.use_tree(&u.tree, &mut Vec::new(), u.leading_colon.is_some());
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.path(p);
        syn::visit::visit_path(self, p);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.walk_function(&f.attrs, &f.sig, Some(&f.block));
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.walk_function(&f.attrs, &f.sig, Some(&f.block));
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.walk_function(&f.attrs, &f.sig, f.default.as_ref());
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        for p in &c.inputs {
            self.visit_pat(p);
        }
        if let syn::ReturnType::Type(_, t) = &c.output {
            self.visit_type(t);
        }
        let saved = self.types.enter_closure(c, self.tr.current());
        self.visit_expr(&c.body);
        self.types.leave_closure(saved);
    }

    fn visit_pat_tuple_struct(&mut self, p: &'ast syn::PatTupleStruct) {
        syn::visit::visit_pat_tuple_struct(self, p);
        self.types.tuple_struct_pat(p, self.tr.current());
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        for a in &l.attrs {
            self.visit_attribute(a);
        }
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, d)) = &init.diverge {
                self.visit_expr(d);
            }
        }
        let ty = self.types.init_ty(l, self.tr.current());
        self.visit_pat(&l.pat);
        self.types.local(l, ty, self.tr.current());
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.types.call_closures(c, self.tr.current());
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        for a in &m.attrs {
            self.visit_attribute(a);
        }
        let ty = self.types.ty_of_expr(&m.expr, self.tr.current());
        self.visit_expr(&m.expr);
        for arm in &m.arms {
            let saved = self.types.save();
            self.visit_pat(&arm.pat);
            self.types.bind_pattern(&arm.pat, ty.clone());
            if let Some((_, g)) = &arm.guard {
                self.visit_expr(g);
            }
            self.visit_expr(&arm.body);
            self.types.restore(saved);
        }
    }

    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        let ty = self.types.ty_of_expr(&l.expr, self.tr.current());
        syn::visit::visit_expr_let(self, l);
        self.types.bind_pattern(&l.pat, ty);
    }

    fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
        self.field_read(f);
        syn::visit::visit_expr_field(self, f);
    }

    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        if e.qself.is_none() {
            let members: Vec<(&syn::Member, bool, Range<usize>)> = e
                .fields
                .iter()
                .map(|f| (&f.member, f.colon_token.is_none(), range(f.member.span())))
                .collect();
            self.members(&e.path, members.into_iter());
        }
        syn::visit::visit_expr_struct(self, e);
    }

    fn visit_pat_struct(&mut self, p: &'ast syn::PatStruct) {
        if p.qself.is_none() {
            let members: Vec<(&syn::Member, bool, Range<usize>)> = p
                .fields
                .iter()
                .map(|f| (&f.member, f.colon_token.is_none(), range(f.pat.span())))
                .collect();
            self.members(&p.path, members.into_iter());
        }
        syn::visit::visit_pat_struct(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Expressions inside `vec![..]`, `format!(..)`, `assert_eq!(..)`.
        if let Some(es) = crate::resolve::macro_exprs(m) {
            for e in es {
                self.visit_expr(&e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::CrateCtx;
    use crate::engine::{process, FileMeta, ManualItem, Outcome};
    use crate::schema::Schema;
    use crate::steps;

    const PROTO: &str = r#"
        syntax = "proto3";
        package kv.v1;
        enum Addr { ADDR_UNSPECIFIED = 0; IPv4 = 1; }
        enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; }
        message HashKVRequest { int64 revision = 1; }
        message LeaseGrantRequest { int64 TTL = 1; int64 ID = 2; }
        message Member {
          uint64 ID = 1;
          repeated string peerURLs = 2;
          LeaseGrantRequest grant = 3;
          Addr addr = 4;
          oneof HTTPChoice { string HTTPCode = 5; int64 plain = 6; }
          repeated LeaseGrantRequest grants = 7;
        }
        message Plain { string name = 1; int64 id = 2; }
        service Kv {
          rpc HashKV(HashKVRequest) returns (Member);
          rpc KeepAlive(stream LeaseGrantRequest) returns (stream LeaseGrantRequest);
        }
    "#;

    fn ctx() -> Arc<CrateCtx> {
        let schema = Schema::from_sources(&[("kv/v1/kv.proto", PROTO)], 1).unwrap();
        Arc::new(CrateCtx {
            schema: Some(Arc::new(schema)),
            modules: vec![(vec!["crate".into(), "pb".into()], "kv.v1".into())],
            ..Default::default()
        })
    }

    fn run(before: &str) -> (String, Vec<ManualItem>) {
        run_with(before, false)
    }

    /// With `symbols`, the file is indexed as the whole crate (functions' return types).
    fn run_with(before: &str, symbols: bool) -> (String, Vec<ManualItem>) {
        let all = steps::all().unwrap();
        let step = steps::get(&all, 1);
        let root = vec!["crate".to_string()];
        let symbols = symbols.then(|| {
            let file = syn::parse_file(before).unwrap();
            crate::index::FileSymbols {
                index: Arc::new(crate::index::CrateIndex::build([(Some(&root[..]), &file)])),
                slot: None,
            }
        });
        let meta = FileMeta {
            module_path: Some(root.clone()),
            crate_ctx: Some(ctx()),
            symbols,
            ..Default::default()
        };
        match process(step, before, &meta) {
            Outcome::Rewritten {
                new_text, items, ..
            } => (new_text.unwrap_or_else(|| before.to_string()), items),
            o => panic!("{o:?}"),
        }
    }

    /// Step 1 on `before` gives `after` (with the message pass's own edits), twice is once,
    /// and the items listed carry these rules.
    #[track_caller]
    fn check(before: &str, after: &str, rules: &[&str]) {
        let (got, items) = run(before);
        assert_eq!(got, after, "\n--- got ---\n{got}");
        let (again, _) = run(&got);
        assert_eq!(again, got, "a second run changed the text");
        let got_rules: Vec<&str> = items.iter().map(|i| i.rule.as_str()).collect();
        assert_eq!(got_rules, rules, "{items:#?}");
    }

    #[test]
    fn type_paths_in_uses_types_and_expressions() {
        check(
            "use crate::pb::{HashKvRequest, LeaseGrantRequest as Grant};\n\
             fn f(r: HashKvRequest) -> Vec<crate::pb::HashKvRequest> { let _ = HashKvRequest::default(); vec![r] }\n\
             fn g(_: Grant) {}\n",
            "use crate::pb::{HashKVRequest, LeaseGrantRequest as Grant};\n\
             fn f(r: HashKVRequest) -> Vec<crate::pb::HashKVRequest> { let _ = HashKVRequest::default(); vec![r] }\n\
             fn g(_: Grant) {}\n",
            &[],
        );
        // An alias keeps its own name: only the imported segment changes.
        check(
            "use crate::pb::HashKvRequest as Hkv;\nfn f(_: Hkv) {}\n",
            "use crate::pb::HashKVRequest as Hkv;\nfn f(_: Hkv) {}\n",
            &[],
        );
    }

    #[test]
    fn oneof_enums_and_their_variants() {
        check(
            "use crate::pb::member::HttpChoice;\nfn f(c: HttpChoice) -> bool { matches!(c, HttpChoice::HttpCode(_)) || matches!(c, HttpChoice::Plain(_)) }\n",
            "use crate::pb::member::HTTPChoice;\nfn f(c: HTTPChoice) -> bool { matches!(c, HTTPChoice::HTTPCode(_)) || matches!(c, HTTPChoice::Plain(_)) }\n",
            &[],
        );
    }

    #[test]
    fn enum_variants_without_a_buffa_alias() {
        // `Addr`'s values do not all carry its prefix: buffa makes no `Unspecified` alias, so
        // prost's `Unspecified` is the value's own name; `IPv4` is spelled alike. `Color` has
        // idiomatic aliases (`Red`): prost's names stay.
        check(
            "use crate::pb::{Addr, Color};\nfn f() -> ([Addr; 2], Color) { ([Addr::Unspecified, Addr::IPv4], Color::Red) }\n",
            "use crate::pb::{Addr, Color};\nfn f() -> ([Addr; 2], Color) { ([Addr::ADDR_UNSPECIFIED, Addr::IPv4], Color::Red) }\n",
            &[],
        );
    }

    #[test]
    fn fields_of_literals_and_patterns() {
        check(
            "use crate::pb::{LeaseGrantRequest, Member};\n\
             fn f(ttl: i64) -> LeaseGrantRequest { LeaseGrantRequest { ttl, id: 0, ..Default::default() } }\n\
             fn g(m: Member) -> u64 { let Member { id, peer_ur_ls: urls, .. } = m; id + urls.len() as u64 }\n\
             impl From<i64> for LeaseGrantRequest { fn from(ttl: i64) -> Self { Self { ttl, ..Default::default() } } }\n",
            "use crate::pb::{LeaseGrantRequest, Member};\n\
             fn f(ttl: i64) -> LeaseGrantRequest { LeaseGrantRequest { TTL: ttl, ID: 0, ..Default::default() } }\n\
             fn g(m: Member) -> u64 { let Member { ID: id, peerURLs: urls, .. } = m; id + urls.len() as u64 }\n\
             impl From<i64> for LeaseGrantRequest { fn from(ttl: i64) -> Self { Self { TTL: ttl, ..Default::default() } } }\n",
            &[],
        );
    }

    #[test]
    fn a_renamed_shorthand_joins_the_value_the_message_pass_wrote() {
        check(
            "use crate::pb::{LeaseGrantRequest, Member};\nfn f(grant: LeaseGrantRequest, peer_ur_ls: Vec<String>) -> Member { Member { grant: Some(grant), peer_ur_ls } }\n",
            "use crate::pb::{LeaseGrantRequest, Member};\nfn f(grant: LeaseGrantRequest, peer_ur_ls: Vec<String>) -> Member { Member { grant: grant.into(), peerURLs: peer_ur_ls, ..Default::default() } }\n",
            &[],
        );
    }

    #[test]
    fn field_reads_of_known_receivers() {
        check(
            "use crate::pb::{LeaseGrantRequest as PbGrant, Member};\n\
             pub struct Opts(PbGrant);\n\
             pub struct Wrap { inner: Member }\n\
             impl Opts {\n    pub fn ttl(&self) -> i64 { self.0.ttl }\n    pub fn set(mut self, id: i64) -> Self { self.0.id = id; self }\n}\n\
             impl PartialEq for Wrap { fn eq(&self, other: &Self) -> bool { self.inner.id == other.inner.id } }\n\
             fn f(src: &Member, boxed: Box<PbGrant>) -> i64 { let m: Member = src.clone(); let g = PbGrant::default(); m.grant.ttl + boxed.ttl + g.id + src.peer_ur_ls.len() as i64 + make().ttl }\n",
            "use crate::pb::{LeaseGrantRequest as PbGrant, Member};\n\
             pub struct Opts(PbGrant);\n\
             pub struct Wrap { inner: Member }\n\
             impl Opts {\n    pub fn ttl(&self) -> i64 { self.0.TTL }\n    pub fn set(mut self, id: i64) -> Self { self.0.ID = id; self }\n}\n\
             impl PartialEq for Wrap { fn eq(&self, other: &Self) -> bool { self.inner.ID == other.inner.ID } }\n\
             fn f(src: &Member, boxed: Box<PbGrant>) -> i64 { let m: Member = src.clone(); let g = PbGrant::default(); m.grant.TTL + boxed.TTL + g.ID + src.peerURLs.len() as i64 + make().ttl }\n",
            // `make()`'s type needs the crate's symbol index (below): listed, not guessed.
            &["step01/name-field-unsure"],
        );
    }

    #[test]
    fn return_types_of_the_crates_functions_and_methods() {
        let before = "use crate::pb::LeaseGrantRequest as PbGrant;\n\
                      pub struct Opts(PbGrant);\n\
                      impl Opts { pub fn new() -> Self { Opts(PbGrant::default()) } pub fn req(self) -> PbGrant { self.0 } }\n\
                      fn make() -> PbGrant { PbGrant::default() }\n\
                      fn f() -> i64 { let o = Opts::new(); o.req().ttl + make().id + Opts::new().req().ttl }\n";
        let after = "use crate::pb::LeaseGrantRequest as PbGrant;\n\
                     pub struct Opts(PbGrant);\n\
                     impl Opts { pub fn new() -> Self { Opts(PbGrant::default()) } pub fn req(self) -> PbGrant { self.0 } }\n\
                     fn make() -> PbGrant { PbGrant::default() }\n\
                     fn f() -> i64 { let o = Opts::new(); o.req().TTL + make().ID + Opts::new().req().TTL }\n";
        let (got, items) = run_with(before, true);
        assert_eq!(got, after, "\n--- got ---\n{got}");
        assert!(items.is_empty(), "{items:#?}");
        // Without the index the same reads are listed.
        let (got, items) = run_with(before, false);
        assert_eq!(got, before);
        assert_eq!(items.len(), 3, "{items:#?}");
    }

    #[test]
    fn responses_and_stream_items_of_the_generated_clients_calls() {
        // The RPC's output types what a client call gives, through `.await`, `?`,
        // `.into_inner()`, a stream's `.message()` / `.next()` and `Some(x)` / `Ok(x)`.
        check(
            "use crate::pb::kv_client::KvClient as PbKv;
             use tonic::Streaming;
             struct C { inner: PbKv<tonic::transport::Channel> }
             struct S { stream: Streaming<crate::pb::LeaseGrantRequest> }
             impl C {
    async fn f(&mut self, rx: R) -> Result<u64, tonic::Status> {
        let mut stream = self.inner.keep_alive(rx).await?.into_inner();
        let id = match stream.message().await? {
            Some(resp) => resp.id,
            None => 0,
        };
        while let Some(r) = stream.message().await? { let _ = r.ttl; }
        let m = self.inner.hash_kv(H::default()).await?.into_inner();
        Ok(id as u64 + m.id)
    }
}
             impl S { async fn g(&mut self) -> i64 { if let Some(Ok(x)) = self.stream.next().await { x.ttl } else { 0 } } }
             async fn h(url: String) -> u64 { let mut c = PbKv::connect(url).await.unwrap(); let resp = c.hash_kv(H::default()).await.unwrap(); resp.get_ref().id }
",
            "use crate::pb::kv_client::KvClient as PbKv;
             use tonic::Streaming;
             struct C { inner: PbKv<tonic::transport::Channel> }
             struct S { stream: Streaming<crate::pb::LeaseGrantRequest> }
             impl C {
    async fn f(&mut self, rx: R) -> Result<u64, tonic::Status> {
        let mut stream = self.inner.keep_alive(rx).await?.into_inner();
        let id = match stream.message().await? {
            Some(resp) => resp.ID,
            None => 0,
        };
        while let Some(r) = stream.message().await? { let _ = r.TTL; }
        let m = self.inner.hash_kv(H::default()).await?.into_inner();
        Ok(id as u64 + m.ID)
    }
}
             impl S { async fn g(&mut self) -> i64 { if let Some(Ok(x)) = self.stream.next().await { x.TTL } else { 0 } } }
             async fn h(url: String) -> u64 { let mut c = PbKv::connect(url).await.unwrap(); let resp = c.hash_kv(H::default()).await.unwrap(); resp.get_ref().ID }
",
            &[],
        );
    }

    #[test]
    fn methods_of_the_files_traits_and_options_matched() {
        // A trait's default method reads through the trait's own method; a struct of the file
        // calls the one trait method of that name; a parameter `Option<M>` matched by
        // `Some(mut x)` binds `x` to `M`.
        check(
            "use crate::pb::{LeaseGrantRequest as Grant, Member};
             pub trait HasGrant {
    fn grant(&self) -> &Grant;
    fn grant_mut(&mut self) -> Option<&mut Grant>;
    fn ttl(&self) -> i64 { self.grant().ttl }
}
             pub struct Lease { g: Grant }
             impl HasGrant for Lease {
    fn grant(&self) -> &Grant { &self.g }
    fn grant_mut(&mut self) -> Option<&mut Grant> { Some(&mut self.g) }
}
             fn f(l: &mut Lease, m: Option<Member>) -> u64 {
    l.grant_mut().unwrap().id = 1;
    match m {
        Some(mut m) => { m.id += 1; m.id }
        None => l.grant().id as u64,
    }
}
",
            "use crate::pb::{LeaseGrantRequest as Grant, Member};
             pub trait HasGrant {
    fn grant(&self) -> &Grant;
    fn grant_mut(&mut self) -> Option<&mut Grant>;
    fn ttl(&self) -> i64 { self.grant().TTL }
}
             pub struct Lease { g: Grant }
             impl HasGrant for Lease {
    fn grant(&self) -> &Grant { &self.g }
    fn grant_mut(&mut self) -> Option<&mut Grant> { Some(&mut self.g) }
}
             fn f(l: &mut Lease, m: Option<Member>) -> u64 {
    l.grant_mut().unwrap().ID = 1;
    match m {
        Some(mut m) => { m.ID += 1; m.ID }
        None => l.grant().ID as u64,
    }
}
",
            &[],
        );
        // Two traits of the file declaring the method: not guessed, listed.
        let before = "use crate::pb::{LeaseGrantRequest as Grant, Member};
                      pub trait A { fn get(&self) -> &Grant; }
                      pub trait B { fn get(&self) -> &Member; }
                      pub struct S;
                      fn f(s: &S) -> i64 { s.get().ttl }
";
        let (got, items) = run(before);
        assert_eq!(got, before);
        assert_eq!(items.len(), 1, "{items:#?}");
    }

    #[test]
    fn a_patterns_bindings_end_with_its_arm_or_branch() {
        // `r` is the stream's item inside the arm and the `if let` branch only: after them it
        // is the parameter again, of unknown type (listed).
        let before = "use tonic::Streaming;
                      async fn f(mut s: Streaming<crate::pb::Member>, r: R) -> u64 {
    match s.message().await.unwrap() { Some(r) => r.id, None => 0 };
    if let Some(r) = s.message().await.unwrap() { r.id; }
    r.id
}
";
        let (got, items) = run(before);
        assert_eq!(
            got,
            before
                .replacen("r.id,", "r.ID,", 1)
                .replacen("r.id;", "r.ID;", 1),
            "\n--- got ---\n{got}"
        );
        let rules: Vec<&str> = items.iter().map(|i| i.rule.as_str()).collect();
        assert_eq!(rules, ["step01/name-field-unsure"], "{items:#?}");
        assert_eq!(items[0].offset, before.rfind("r.id").unwrap() + 2);
    }

    #[test]
    fn held_return_types_trait_impl_methods_and_repeated_elements() {
        // Through the crate's index: `Option<M>` / `&M` returns, a method of a trait impl
        // (the trait declared elsewhere), an element of a repeated message field.
        let before = "use crate::pb::{LeaseGrantRequest as PbGrant, Member};\n\
                      pub struct Ctx(Vec<Member>);\n\
                      impl other::Last for Ctx { fn last_grant(&self) -> Option<&PbGrant> { None } }\n\
                      impl Ctx { pub fn first(&self) -> Option<Member> { None } }\n\
                      fn f(c: Ctx) -> i64 { c.first().unwrap().id as i64 + c.last_grant().unwrap().ttl + c.first().unwrap().grants[0].ttl }\n";
        let after = "use crate::pb::{LeaseGrantRequest as PbGrant, Member};\n\
                     pub struct Ctx(Vec<Member>);\n\
                     impl other::Last for Ctx { fn last_grant(&self) -> Option<&PbGrant> { None } }\n\
                     impl Ctx { pub fn first(&self) -> Option<Member> { None } }\n\
                     fn f(c: Ctx) -> i64 { c.first().unwrap().ID as i64 + c.last_grant().unwrap().TTL + c.first().unwrap().grants[0].TTL }\n";
        let (got, items) = run_with(before, true);
        assert_eq!(got, after, "\n--- got ---\n{got}");
        assert!(items.is_empty(), "{items:#?}");
    }

    #[test]
    fn closures_passed_to_the_files_impl_fn_parameters() {
        check(
            "use crate::pb::{LeaseGrantRequest as Grant, Member};\n\
             struct Mock;\n\
             impl Mock {\n    fn with(f1: impl FnOnce(u8) -> u8, f2: impl FnOnce(&Grant, Member)) { let _ = (f1, f2); }\n    fn again() { Self::with(|n| n, |g, m| { g.ttl + m.id as i64; }); }\n}\n\
             fn each(f: impl Fn(&Grant) -> i64) -> i64 { f(&Grant::default()) }\n\
             fn t() { Mock::with(|n| n, |g, _| { g.id; }); each(|g| g.ttl); }\n",
            "use crate::pb::{LeaseGrantRequest as Grant, Member};\n\
             struct Mock;\n\
             impl Mock {\n    fn with(f1: impl FnOnce(u8) -> u8, f2: impl FnOnce(&Grant, Member)) { let _ = (f1, f2); }\n    fn again() { Self::with(|n| n, |g, m| { g.TTL + m.ID as i64; }); }\n}\n\
             fn each(f: impl Fn(&Grant) -> i64) -> i64 { f(&Grant::default()) }\n\
             fn t() { Mock::with(|n| n, |g, _| { g.ID; }); each(|g| g.TTL); }\n",
            &[],
        );
    }

    #[test]
    fn elements_of_sequences_of_messages_and_wrapped_values() {
        // `for` over a `Vec<M>` or a repeated field, `.iter().next()`, `.last()`, `[i]`; a
        // struct's derived `default()` in an `Arc`.
        check(
            "use std::collections::LinkedList;\nuse std::sync::Arc;\nuse crate::pb::{LeaseGrantRequest as Grant, Member};\n\
             #[derive(Default)]\nstruct Rep { last: Grant }\n\
             fn f(ms: Vec<Member>, l: &LinkedList<Member>, s: &[Grant]) -> i64 {\n    let mut n = 0;\n    for m in &ms { n += m.id as i64; for g in m.grants.iter() { n += g.ttl; } }\n    let mut it = l.iter();\n    let first = it.next().unwrap();\n    let rep = Arc::new(Rep::default());\n    n + first.grants.last().unwrap().ttl + ms[0].grants[1].id + s[0].ttl + rep.last.ttl\n}\n",
            "use std::collections::LinkedList;\nuse std::sync::Arc;\nuse crate::pb::{LeaseGrantRequest as Grant, Member};\n\
             #[derive(Default)]\nstruct Rep { last: Grant }\n\
             fn f(ms: Vec<Member>, l: &LinkedList<Member>, s: &[Grant]) -> i64 {\n    let mut n = 0;\n    for m in &ms { n += m.ID as i64; for g in m.grants.iter() { n += g.TTL; } }\n    let mut it = l.iter();\n    let first = it.next().unwrap();\n    let rep = Arc::new(Rep::default());\n    n + first.grants.last().unwrap().TTL + ms[0].grants[1].ID + s[0].TTL + rep.last.TTL\n}\n",
            &[],
        );
    }

    #[test]
    fn unknown_receivers_are_listed_not_renamed() {
        let before = "use crate::pb::Member;\n\
                      struct Mine { id: u64 }\n\
                      fn f(ms: impl IntoIterator<Item = Member>, mine: Mine) -> u64 { let mut n = mine.id; for m in ms { n += m.id; } let p = |x| x; n + p(ms2()).ttl }\n\
                      fn ms2() -> Mine { Mine { id: 1 } }\n";
        let (got, items) = run(before);
        assert_eq!(got, before);
        let lines: Vec<(usize, &str)> = items.iter().map(|i| (i.offset, i.rule.as_str())).collect();
        // `m.id` (a loop over a collection of unknown type) and `.ttl` on a call; `mine.id` is
        // the user's struct.
        assert_eq!(lines.len(), 2, "{items:#?}");
        assert!(lines.iter().all(|(_, r)| *r == "step01/name-field-unsure"));
        assert!(items[0].message.contains("`ID`"), "{}", items[0].message);
        // A field no message spells differently is never listed.
        let (_, items) = run("use crate::pb::Plain;\nfn f(xs: Vec<Plain>) -> usize { xs.iter().map(|p| p.name.len()).sum() }\n");
        assert!(items.is_empty(), "{items:#?}");
        // A file that names no generated item lists nothing either.
        let (_, items) = run("fn f(x: Vec<(u8, u8)>) -> u8 { x.iter().map(|p| p.id).sum() }\n");
        assert!(items.is_empty(), "{items:#?}");
    }

    #[test]
    fn const_fns_building_messages_lose_const_and_are_listed() {
        check(
            "use crate::pb::{LeaseGrantRequest as PbGrant, Member};\n\
             pub struct Opts(PbGrant);\n\
             impl Opts {\n    pub const fn new() -> Self { Self(PbGrant { ttl: 0, id: 0 }) }\n    pub const fn with_id(mut self, id: i64) -> Self { self.0.id = id; self }\n    pub const fn of(g: PbGrant) -> Self { Self(g) }\n}\n\
             const fn addr(m: &mut Member) { m.addr = crate::pb::Addr::IPv4 as i32; }\n",
            "use crate::pb::{LeaseGrantRequest as PbGrant, Member};\n\
             pub struct Opts(PbGrant);\n\
             impl Opts {\n    pub fn new() -> Self { Self(PbGrant { TTL: 0, ID: 0, ..Default::default() }) }\n    pub const fn with_id(mut self, id: i64) -> Self { self.0.ID = id; self }\n    pub const fn of(g: PbGrant) -> Self { Self(g) }\n}\n\
             fn addr(m: &mut Member) { m.addr = crate::pb::Addr::IPv4.into(); }\n",
            &["step01/const-fn", "step01/const-fn"],
        );
    }

    #[test]
    fn comments_and_code_without_generated_names_survive() {
        let src = "// HashKvRequest { ttl }\nstruct HashKvRequest { ttl: i64 }\nfn f(h: HashKvRequest) -> i64 { /* ttl */ h.ttl }\n";
        let (got, items) = run(src);
        assert_eq!(got, src);
        assert!(items.is_empty(), "{items:#?}");
    }
}
