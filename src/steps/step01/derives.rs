//! Step 1, messages the code needs `Eq` / `Hash` on: prost derived both for every message whose
//! fields allow it, buffa derives neither (its messages carry an unknown-fields member that is
//! not `Eq`). This module finds, by syntax, name resolution and the schema, the messages the
//! crate's code uses where the traits are required, and says which buffa can derive them for.
//!
//! Where the traits are needed:
//! - the key of a `HashMap` / `HashSet` (`IndexMap`, `IndexSet`) type written anywhere
//!   (`HashMap<Point, Vec<Note>>`, `HashSet<(Point, u32)>`): `Eq + Hash`;
//! - a field of a type deriving `Eq` or `Hash` (`#[derive(PartialEq, Eq, Hash)] struct K { p: Point }`);
//! - the key given to `.entry(k)` / `.insert(k, ..)` of a local built by `HashMap::new()` (and
//!   the other constructors), when `k` is a message: a struct literal or constructor of one, a
//!   message field read (`note.location.clone().unwrap()`: the schema knows `location` when
//!   every message with a field of that name gives it the same message type), or a local bound
//!   to one of those.
//!
//! What buffa allows ([`plan_derives`]): with `preserve_unknown_fields = false` (prost never
//! kept unknown fields either) a message derives `Eq` when its fields are `Eq` (no `float` /
//! `double`, sub-messages that derive it too, no well-known type), and `Hash` as well when it
//! has no message field at all (buffa's `MessageField` is not `Hash`) and no map. The attribute
//! goes through `message_attributes` (a proto-path prefix: nested messages get it too, so they
//! must qualify) and `oneof_attributes` for the oneofs.
//!
//! Before (user code):
//! ```text
//! let mut notes = HashMap::new();
//! let location = note.location.unwrap();
//! notes.entry(location).or_insert(vec![]);
//! ```
//! After (build.rs, connectrpc-build's buffa config):
//! ```text
//! config.preserve_unknown_fields = false;
//! config.message_attributes.push((".routeguide.Point".into(), "#[derive(Eq, Hash)]".into()));
//! ```

use std::collections::{BTreeMap, HashMap};

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::messages::field_kind_by_name;
use super::CrateCtx;
use crate::resolve::{range, FileIndex, ScopeTracker};
use crate::schema::{FieldKind, Label, ScalarType, Schema};

/// The traits a use needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Traits {
    Eq,
    EqHash,
}

/// One use of a message that needs `Eq` (and `Hash`): the message's full proto name (no
/// leading dot) and the byte offset of the use in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub message: String,
    pub traits: Traits,
    pub offset: usize,
}

const KEYED: &[&str] = &["HashMap", "HashSet", "IndexMap", "IndexSet"];
const CTORS: &[&str] = &["new", "default", "with_capacity", "with_hasher"];
/// Methods that give back (a copy of, or the inside of) their receiver's value.
const SAME_VALUE: &[&str] = &[
    "clone",
    "unwrap",
    "expect",
    "to_owned",
    "take",
    "unwrap_or_default",
    "into",
];

/// The uses of the schema's messages in one parsed file that need `Eq` / `Hash`.
pub fn find_needs(ctx: &CrateCtx, file: &syn::File, idx: &FileIndex) -> Vec<Need> {
    let mut f = Finder {
        ctx,
        idx,
        tr: ScopeTracker::new(idx),
        locals: HashMap::new(),
        keyed_locals: Vec::new(),
        out: Vec::new(),
    };
    f.visit_file(file);
    f.out
}

struct Finder<'a> {
    ctx: &'a CrateCtx,
    idx: &'a FileIndex,
    tr: ScopeTracker,
    /// `let name = init;` of the current function (flow-insensitive: the last one wins).
    locals: HashMap<String, syn::Expr>,
    /// Locals built by a `HashMap::new()`-like constructor.
    keyed_locals: Vec<String>,
    out: Vec<Need>,
}

impl Finder<'_> {
    fn message_of_path(&self, p: &syn::Path) -> Option<String> {
        let full = self.idx.resolve_full(self.tr.current(), p)?;
        match self.ctx.named(&full)? {
            super::messages::Named::Message(m) => Some(m.full_name.clone()),
            _ => None,
        }
    }

    /// Messages a type names where the type's own `Eq`/`Hash` needs theirs: the type itself,
    /// tuple members, references, arrays, and generic arguments (`Option<M>`, `Vec<M>`, `Box<M>`).
    fn messages_in_type(&self, ty: &syn::Type, out: &mut Vec<String>) {
        match ty {
            syn::Type::Path(tp) => {
                if let Some(m) = self.message_of_path(&tp.path) {
                    out.push(m);
                    return;
                }
                for seg in &tp.path.segments {
                    if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                        for arg in &a.args {
                            if let syn::GenericArgument::Type(t) = arg {
                                self.messages_in_type(t, out);
                            }
                        }
                    }
                }
            }
            syn::Type::Tuple(t) => t.elems.iter().for_each(|e| self.messages_in_type(e, out)),
            syn::Type::Reference(r) => self.messages_in_type(&r.elem, out),
            syn::Type::Array(a) => self.messages_in_type(&a.elem, out),
            syn::Type::Slice(s) => self.messages_in_type(&s.elem, out),
            syn::Type::Paren(p) => self.messages_in_type(&p.elem, out),
            syn::Type::Group(g) => self.messages_in_type(&g.elem, out),
            _ => {}
        }
    }

    fn need(&mut self, messages: Vec<String>, traits: Traits, offset: usize) {
        for message in messages {
            self.out.push(Need {
                message,
                traits,
                offset,
            });
        }
    }

    /// The message an expression's value is, when syntax, the schema and the function's locals
    /// tell (`depth` bounds the chase through locals).
    fn message_of_expr(&self, e: &syn::Expr, depth: usize) -> Option<String> {
        if depth > 8 {
            return None;
        }
        match e {
            syn::Expr::Paren(p) => self.message_of_expr(&p.expr, depth + 1),
            syn::Expr::Group(g) => self.message_of_expr(&g.expr, depth + 1),
            syn::Expr::Reference(r) => self.message_of_expr(&r.expr, depth + 1),
            syn::Expr::Try(t) => self.message_of_expr(&t.expr, depth + 1),
            syn::Expr::MethodCall(m) if SAME_VALUE.contains(&m.method.to_string().as_str()) => {
                self.message_of_expr(&m.receiver, depth + 1)
            }
            syn::Expr::Struct(s) => self.message_of_path(&s.path),
            syn::Expr::Call(c) => match &*c.func {
                // `Point::default()`, `Point::new(..)`: the path's type.
                syn::Expr::Path(p) if p.path.segments.len() >= 2 => {
                    let mut ty = p.path.clone();
                    ty.segments.pop();
                    let last = ty.segments.pop()?.into_value();
                    ty.segments.push(last);
                    self.message_of_path(&ty)
                }
                _ => None,
            },
            syn::Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                let init = self.locals.get(&name)?;
                self.message_of_expr(init, depth + 1)
            }
            syn::Expr::Field(f) => {
                let syn::Member::Named(name) = &f.member else {
                    return None;
                };
                let field = field_kind_by_name(self.ctx.schema.as_deref()?, &name.to_string())?;
                match (&field.kind, field.label, &field.oneof) {
                    (FieldKind::Message(m), l, None) if l != Label::Repeated => Some(m.clone()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    fn is_keyed_ctor(e: &syn::Expr) -> bool {
        let syn::Expr::Call(c) = e else {
            return false;
        };
        let syn::Expr::Path(p) = &*c.func else {
            return false;
        };
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        matches!(segs.as_slice(), [.., t, ctor] if KEYED.contains(&t.as_str()) && CTORS.contains(&ctor.as_str()))
    }

    fn enter_fn(&mut self) -> (HashMap<String, syn::Expr>, Vec<String>) {
        (
            std::mem::take(&mut self.locals),
            std::mem::take(&mut self.keyed_locals),
        )
    }
}

fn derived(attrs: &[syn::Attribute]) -> Option<Traits> {
    let mut eq = false;
    let mut hash = false;
    for a in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        let _ = a.parse_nested_meta(|m| {
            match m
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .as_deref()
            {
                Some("Eq") => eq = true,
                Some("Hash") => hash = true,
                _ => {}
            }
            Ok(())
        });
    }
    match (eq, hash) {
        (_, true) => Some(Traits::EqHash),
        (true, false) => Some(Traits::Eq),
        _ => None,
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let pushed = self.tr.enter(self.idx, range(m.span()).start);
        syn::visit::visit_item_mod(self, m);
        self.tr.leave(pushed);
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let pushed = self.tr.enter(self.idx, range(b.span()).start);
        syn::visit::visit_block(self, b);
        self.tr.leave(pushed);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let saved = self.enter_fn();
        syn::visit::visit_item_fn(self, f);
        (self.locals, self.keyed_locals) = saved;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let saved = self.enter_fn();
        syn::visit::visit_impl_item_fn(self, f);
        (self.locals, self.keyed_locals) = saved;
    }

    fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
        let last = tp.path.segments.last();
        if let Some(seg) = last.filter(|s| KEYED.contains(&s.ident.to_string().as_str())) {
            if let syn::PathArguments::AngleBracketed(a) = &seg.arguments {
                if let Some(syn::GenericArgument::Type(key)) = a.args.first() {
                    let mut found = vec![];
                    self.messages_in_type(key, &mut found);
                    self.need(found, Traits::EqHash, range(key.span()).start);
                }
            }
        }
        syn::visit::visit_type_path(self, tp);
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        if let Some(t) = derived(&s.attrs) {
            for f in &s.fields {
                let mut found = vec![];
                self.messages_in_type(&f.ty, &mut found);
                self.need(found, t, range(f.ty.span()).start);
            }
        }
        syn::visit::visit_item_struct(self, s);
    }

    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        if let Some(t) = derived(&e.attrs) {
            for f in e.variants.iter().flat_map(|v| v.fields.iter()) {
                let mut found = vec![];
                self.messages_in_type(&f.ty, &mut found);
                self.need(found, t, range(f.ty.span()).start);
            }
        }
        syn::visit::visit_item_enum(self, e);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        let mut pat = &l.pat;
        if let syn::Pat::Type(t) = pat {
            pat = &t.pat;
        }
        if let (syn::Pat::Ident(id), Some(init)) = (pat, &l.init) {
            let name = id.ident.to_string();
            if Self::is_keyed_ctor(&init.expr) {
                self.keyed_locals.push(name.clone());
            }
            self.locals.insert(name, (*init.expr).clone());
        }
        syn::visit::visit_local(self, l);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let method = m.method.to_string();
        let on_keyed = match &*m.receiver {
            syn::Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.keyed_locals.contains(&i.to_string())),
            _ => false,
        };
        if on_keyed && (method == "entry" || method == "insert") {
            if let Some(k) = m.args.first() {
                if let Some(msg) = self.message_of_expr(k, 0) {
                    self.need(vec![msg], Traits::EqHash, range(k.span()).start);
                }
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Statement bodies (`async_stream::try_stream! { .. }`) and expression lists are read
        // like code; anything else is left alone.
        use syn::parse::Parser;
        if let Some(es) = crate::resolve::macro_exprs(m) {
            es.iter().for_each(|e| self.visit_expr(e));
        } else if let Ok(stmts) = syn::Block::parse_within.parse2(m.tokens.clone()) {
            stmts.iter().for_each(|s| self.visit_stmt(s));
        }
    }
}

/// The buffa config that derives what the needs ask for, and the messages it cannot derive for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DerivePlan {
    /// `(CodeGenConfig list, proto path with leading dot, attribute)`, sorted.
    pub attributes: Vec<(String, String, String)>,
    /// Messages (full name) that cannot get what they need, and why.
    pub refused: BTreeMap<String, String>,
}

/// What to derive, from the needs: each needed message with its traits when buffa allows it
/// (the sub-messages an `Eq` needs get `Eq` too), else why not.
pub fn plan_derives(schema: &Schema, needs: &[Need]) -> DerivePlan {
    let mut wanted: BTreeMap<String, Traits> = BTreeMap::new();
    for n in needs {
        let t = wanted.entry(n.message.clone()).or_insert(n.traits);
        *t = (*t).max(n.traits);
    }
    let mut plan = DerivePlan::default();
    let mut granted: BTreeMap<String, Traits> = BTreeMap::new();
    for (m, t) in &wanted {
        let mut closure = BTreeMap::new();
        match derivable(schema, m, *t, &mut closure) {
            Ok(()) => {
                for (name, t) in closure {
                    let g = granted.entry(name).or_insert(t);
                    *g = (*g).max(t);
                }
            }
            Err(why) => {
                plan.refused.insert(m.clone(), why);
            }
        }
    }
    for (name, t) in &granted {
        let attr = |t: Traits| match t {
            Traits::Eq => "#[derive(Eq)]",
            Traits::EqHash => "#[derive(Eq, Hash)]",
        };
        // A message's attribute also lands on its nested messages (a prefix match), which
        // `derivable` checked: a nested one gets only what its enclosing ones do not give.
        let supplied = granted
            .iter()
            .filter(|(outer, _)| name.starts_with(&format!("{outer}.")))
            .map(|(_, ot)| *ot)
            .max();
        let own = match (supplied, t) {
            (Some(s), t) if s >= *t => None,
            (Some(Traits::Eq), Traits::EqHash) => Some("#[derive(Hash)]"),
            (_, t) => Some(attr(*t)),
        };
        if let Some(own) = own {
            plan.attributes
                .push(("message_attributes".into(), format!(".{name}"), own.into()));
        }
        if let Some(msg) = schema.messages.iter().find(|x| &x.full_name == name) {
            for o in &msg.oneofs {
                plan.attributes.push((
                    "oneof_attributes".into(),
                    format!(".{name}.{}", o.name),
                    attr(*t).into(),
                ));
            }
        }
    }
    plan.attributes.sort();
    plan
}

/// Whether buffa can derive `t` on message `name` (and on its nested messages, which a
/// `message_attributes` prefix reaches too), collecting every message that gets a derive.
fn derivable(
    schema: &Schema,
    name: &str,
    t: Traits,
    closure: &mut BTreeMap<String, Traits>,
) -> Result<(), String> {
    if closure.get(name).is_some_and(|have| *have >= t) {
        return Ok(());
    }
    let Some(msg) = schema
        .messages
        .iter()
        .find(|m| m.full_name == name && !m.is_map_entry)
    else {
        return Err(format!(
            "`{name}` is not a message of this crate's schema (a well-known type or another crate's): its Rust type cannot get a derive here"
        ));
    };
    closure.insert(name.to_string(), t);
    let kind_ok = |kind: &FieldKind, closure: &mut BTreeMap<String, Traits>, field: &str| {
        match kind {
            FieldKind::Scalar(ScalarType::Float | ScalarType::Double) => Err(format!(
                "field `{field}` is a floating-point number (neither `Eq` nor `Hash`)"
            )),
            FieldKind::Scalar(_) | FieldKind::Enum(_) => Ok(()),
            FieldKind::Message(m) if t == Traits::EqHash => Err(format!(
                "field `{field}` is a message (`{m}`): buffa's `MessageField` is not `Hash`"
            )),
            FieldKind::Message(m) => derivable(schema, m, Traits::Eq, closure)
                .map_err(|why| format!("field `{field}`: {why}")),
            FieldKind::Map { .. } => Err(format!(
                "field `{field}` is a map (a `HashMap` is neither `Hash` nor, with message values, always `Eq`)"
            )),
        }
    };
    for f in &msg.fields {
        kind_ok(&f.kind, closure, &f.name).map_err(|why| format!("`{name}`: {why}"))?;
    }
    // The attribute reaches the nested messages: they must allow it too.
    let prefix = format!("{name}.");
    for nested in schema
        .messages
        .iter()
        .filter(|m| m.full_name.starts_with(&prefix) && !m.is_map_entry)
    {
        derivable(schema, &nested.full_name, t, closure)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const PROTO: &str = r#"
        syntax = "proto3";
        package geo.v1;
        message Point { int32 lat = 1; int32 lng = 2; }
        message Note { Point location = 1; string text = 2; }
        message Span { Point lo = 1; Point hi = 2; }
        message Reading { double value = 1; }
        message Tagged { string id = 1; oneof kind { int64 n = 2; string s = 3; } }
        service Geo { rpc Chat(Note) returns (Note); }
    "#;

    fn schema() -> Schema {
        Schema::from_sources(&[("geo/v1/geo.proto", PROTO)], 1).unwrap()
    }

    fn ctx() -> CrateCtx {
        CrateCtx {
            schema: Some(Arc::new(schema())),
            modules: vec![(vec!["crate".into(), "pb".into()], "geo.v1".into())],
            ..CrateCtx::default()
        }
    }

    fn needs(src: &str) -> Vec<(String, Traits)> {
        let file = syn::parse_file(src).unwrap();
        let idx = FileIndex::build(&file, Some(vec!["crate".into()]));
        let mut v: Vec<(String, Traits)> = find_needs(&ctx(), &file, &idx)
            .into_iter()
            .map(|n| (n.message, n.traits))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    fn eq_hash(m: &str) -> (String, Traits) {
        (m.to_string(), Traits::EqHash)
    }

    #[test]
    fn key_types_written_out() {
        let src = "use crate::pb::{Point, Note};\nstruct S { seen: std::collections::HashSet<(Point, u8)>, by: HashMap<String, Note> }\nfn f(m: &HashMap<Point, Vec<Note>>) {}\n";
        assert_eq!(needs(src), vec![eq_hash("geo.v1.Point")]);
    }

    #[test]
    fn inferred_keys_through_locals_fields_and_statement_macros() {
        // The routeguide shape: the key's type is written nowhere, the field's schema says it.
        let src = "use crate::pb::Note;\nfn f(notes_in: Vec<Note>) {\n    let mut notes = HashMap::new();\n    let s = async_stream::try_stream! {\n        for note in notes_in {\n            let location = note.location.clone().unwrap();\n            notes.entry(location).or_insert(vec![]);\n            yield 1;\n        }\n    };\n}\n";
        assert_eq!(needs(src), vec![eq_hash("geo.v1.Point")]);
        let lit = "use crate::pb::Point;\nfn f() { let mut s = std::collections::HashSet::new(); s.insert(Point { lat: 1, lng: 2 }); }\n";
        assert_eq!(needs(lit), vec![eq_hash("geo.v1.Point")]);
    }

    #[test]
    fn derives_of_user_types() {
        let src = "use crate::pb::{Point, Span};\n#[derive(Clone, PartialEq, Eq)]\nstruct A { s: Span }\n#[derive(Hash, PartialEq, Eq)]\nenum K { P(Option<Point>) }\n#[derive(PartialEq)]\nstruct B { s: Span }\n";
        assert_eq!(
            needs(src),
            vec![eq_hash("geo.v1.Point"), ("geo.v1.Span".into(), Traits::Eq)]
        );
    }

    #[test]
    fn no_needs_without_messages_or_keys() {
        // Not a message (not resolved to the schema), a value position, a plain Vec.
        let src = "struct Point;\nfn f(m: HashMap<Point, u8>, v: Vec<crate::pb::Note>, h: HashMap<u8, crate::pb::Note>) { let mut x = HashMap::new(); x.insert(1u8, crate::pb::Note::default()); }\n";
        assert_eq!(needs(src), vec![]);
    }

    fn need(m: &str, t: Traits) -> Need {
        Need {
            message: m.into(),
            traits: t,
            offset: 0,
        }
    }

    #[test]
    fn what_buffa_can_derive() {
        let s = schema();
        let plan = plan_derives(
            &s,
            &[
                need("geo.v1.Point", Traits::EqHash),
                need("geo.v1.Span", Traits::Eq),
                need("geo.v1.Tagged", Traits::EqHash),
                need("geo.v1.Note", Traits::EqHash),
                need("geo.v1.Reading", Traits::Eq),
            ],
        );
        let attrs: Vec<(&str, &str, &str)> = plan
            .attributes
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        assert_eq!(
            attrs,
            vec![
                ("message_attributes", ".geo.v1.Point", "#[derive(Eq, Hash)]"),
                ("message_attributes", ".geo.v1.Span", "#[derive(Eq)]"),
                (
                    "message_attributes",
                    ".geo.v1.Tagged",
                    "#[derive(Eq, Hash)]"
                ),
                (
                    "oneof_attributes",
                    ".geo.v1.Tagged.kind",
                    "#[derive(Eq, Hash)]"
                ),
            ]
        );
        let refused: Vec<&str> = plan.refused.keys().map(String::as_str).collect();
        assert_eq!(refused, vec!["geo.v1.Note", "geo.v1.Reading"]);
        assert!(plan.refused["geo.v1.Note"].contains("not `Hash`"));
        assert!(plan.refused["geo.v1.Reading"].contains("floating-point"));
        assert_eq!(plan_derives(&s, &[]), DerivePlan::default());
    }
}
