//! Step 1, message idioms: prost shapes become buffa shapes, driven by the `.proto` schema.
//!
//! A construct is touched only when its path resolves (through the file's imports) to a message,
//! enum or oneof of the schema, or to a well-known type; a field is known by the message of the
//! literal it sits in, or, for a field read whose receiver's type is unknown, by the schema when
//! every message that has a field of that name gives it the same kind. Anything else that looks
//! like a prost idiom but cannot be typed is reported.
//!
//! Before:
//! ```text
//! let req = HelloRequest { name, kind: Kind::Admin as i32, inner: Some(inner) };
//! let HelloRequest { name, .. } = req;
//! if reply.kind == Kind::Admin as i32 { .. }
//! ```
//! After:
//! ```text
//! let req = HelloRequest { name, kind: Kind::Admin.into(), inner: inner.into(), ..Default::default() };
//! let HelloRequest { name, .. } = req;
//! if reply.kind == Kind::Admin { .. }
//! ```

use std::collections::HashMap;

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::types::{path_without_last, Ty, Types};
use super::CrateCtx;
use crate::edit::{indent_at, line_start, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};
use crate::schema::{Enum, Field, FieldKind, Label, Message, Oneof, Schema};

/// What a path names in the schema.
#[derive(Clone, Copy)]
pub enum Named<'a> {
    Message(&'a Message),
    /// A well-known type message (`Timestamp`, `Duration`, ...).
    Wkt(&'a str),
    Enum(&'a Enum),
    /// A oneof enum (`hello_request::Kind`), with its message.
    Oneof(&'a Message, &'a Oneof),
}

/// Well-known messages (buffa-types has them all as messages; prost maps a few to Rust types).
const WKT_MESSAGES: &[&str] = &[
    "Any",
    "Duration",
    "Empty",
    "FieldMask",
    "ListValue",
    "Struct",
    "Timestamp",
    "Value",
];

impl CrateCtx {
    /// What the crate-absolute path `full` names, if anything of the schema.
    pub fn named(&self, full: &[String]) -> Option<Named<'_>> {
        let wkt = match full {
            [a, x] if a == "prost_types" => Some(x.as_str()),
            [a, b, c, x] if a == "buffa_types" && b == "google" && c == "protobuf" => {
                Some(x.as_str())
            }
            _ => None,
        };
        if let Some(x) = wkt {
            return WKT_MESSAGES
                .iter()
                .find(|w| **w == x)
                .map(|w| Named::Wkt(w));
        }
        let schema = self.schema.as_ref()?;
        // The longest generated module that is a prefix of the path; a module may include
        // several packages (`pub mod v1 { include_proto!("a.v1"); include_proto!("b.v1"); }`):
        // the first that has the name.
        let prefixes = || {
            self.modules
                .iter()
                .filter(|(m, _)| m.len() < full.len() && full[..m.len()] == m[..])
        };
        let longest = prefixes().map(|(m, _)| m.len()).max()?;
        prefixes()
            .filter(|(m, _)| m.len() == longest)
            .find_map(|(_, package)| lookup_rel(schema, package, &full[longest..]))
    }
}

fn lookup_rel<'s>(schema: &'s Schema, package: &str, rel: &[String]) -> Option<Named<'s>> {
    let eq = |p: &[String]| p.len() == rel.len() && p.iter().zip(rel).all(|(a, b)| a == b);
    for m in schema
        .messages
        .iter()
        .filter(|m| m.package == package && !m.is_map_entry)
    {
        // buffa's spelling too: code that step 1 already renamed (`HashKVRequest`) still names
        // the message.
        if eq(&m.prost_path) || eq(&m.buffa_path) {
            return Some(Named::Message(m));
        }
        for o in &m.oneofs {
            if eq(&o.prost_enum_path) || eq(&o.buffa_enum_path) {
                return Some(Named::Oneof(m, o));
            }
        }
    }
    schema
        .enums
        .iter()
        .find(|e| e.package == package && (eq(&e.prost_path) || eq(&e.buffa_path)))
        .map(Named::Enum)
}

/// A call of one of std's macros that never return (`todo!()`, `unimplemented!()`,
/// `panic!(..)`, `unreachable!(..)`): an expression of type `!`.
fn diverges(e: &syn::Expr) -> bool {
    matches!(e, syn::Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| {
        matches!(s.ident.to_string().as_str(), "todo" | "unimplemented" | "panic" | "unreachable")
    }))
}

/// The kind every message of the schema gives a field of this Rust name, when they all agree.
pub(super) fn field_kind_by_name<'s>(schema: &'s Schema, name: &str) -> Option<&'s Field> {
    field_kind_by_name_where(schema, name, |_| true)
}

/// [`field_kind_by_name`] among the fields `keep` accepts (what the syntax around the read says
/// the field can be).
fn field_kind_by_name_where<'s>(
    schema: &'s Schema,
    name: &str,
    keep: impl Fn(&Field) -> bool,
) -> Option<&'s Field> {
    let mut found: Option<&Field> = None;
    for m in &schema.messages {
        if let Some(f) = m.fields.iter().find(|f| f.prost_name == name && keep(f)) {
            match found {
                None => found = Some(f),
                Some(g)
                    if g.kind == f.kind
                        && g.label == f.label
                        && g.oneof.is_none() == f.oneof.is_none() => {}
                Some(_) => return None,
            }
        }
    }
    found
}

pub struct MessagesPass<'c> {
    pub ctx: &'c CrateCtx,
}

/// `x` -> `x.into()` (`(a + b).into()` where precedence needs it; `value` -> `value: value.into()`
/// for a shorthand field); nothing when it is an `.into()` already (a second run).
fn into_edits(e: &syn::Expr, shorthand: bool, rule: &str) -> Vec<Edit> {
    let r = range(e.span());
    if let syn::Expr::MethodCall(m) = e {
        if m.method == "into" && m.args.is_empty() {
            return Vec::new();
        }
    }
    if shorthand {
        let name = match e {
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        return match name {
            Some(n) => vec![Edit::insert(r.end, format!(": {n}.into()"), rule)],
            None => Vec::new(),
        };
    }
    if is_postfix_safe(e) {
        vec![Edit::insert(r.end, ".into()", rule)]
    } else {
        vec![
            Edit::insert(r.start, "(", rule),
            Edit::insert(r.end, ").into()", rule),
        ]
    }
}

/// Methods that read a `Result`: on prost's `encode(..)`, they need buffa's `try_encode`.
const RESULT_METHODS: [&str; 10] = [
    "unwrap",
    "expect",
    "map_err",
    "is_ok",
    "is_err",
    "ok",
    "err",
    "unwrap_or_else",
    "unwrap_or_default",
    "context",
];

impl Pass for MessagesPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let mut w = Walker {
            ctx: self.ctx,
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            out,
            types: Types::new(self.ctx, file.index, file.file),
            field_names: HashMap::new(),
            uses: vec![HashMap::new()],
            bound: vec![HashMap::new()],
            descriptors_move: super::descriptors::may_use(file.text)
                && super::descriptors::migrates(file).is_ok(),
            receivers: Default::default(),
            by_value_arms: false,
            owned_boxed: Default::default(),
        };
        w.visit_file(file.file);
        // `use std::collections::HashMap;` once every `HashMap::from([..])` went.
        let edits =
            crate::steps::emptied_import_removals(file, out, |_| false, "step01/unused-import");
        if !edits.is_empty() {
            let _ = out.commit(edits);
        }
    }
}

struct Walker<'a, 'o> {
    ctx: &'a CrateCtx,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'o mut PassOutput,
    /// Types of receivers, parameters and locals.
    types: Types<'a>,
    field_names: HashMap<String, Option<&'a Field>>,
    /// Per enclosing function: how often each single-identifier path is used. prost messages
    /// of scalar fields are `Copy`, buffa's never are: a variable used more than once is cloned
    /// where it moves into a message.
    uses: Vec<HashMap<String, usize>>,
    /// Per enclosing function: locals bound to a field read, and the field.
    bound: Vec<HashMap<String, String>>,
    /// The file's descriptor types move to buffa-descriptor (their decode calls are rewritten
    /// by [`super::descriptors`]).
    descriptors_move: bool,
    /// Starts of expressions that are the receiver of a method call, the base of a field read
    /// or dereferenced: a boxed clone there needs no `*`.
    receivers: std::collections::HashSet<usize>,
    /// The arm patterns being visited bind by value (a `match` on a parameter taken by value).
    by_value_arms: bool,
    /// Boxed oneof variants bound by value (`match owned { Kind::Put(r) => .. }`).
    owned_boxed: std::collections::HashSet<String>,
}

/// Counts single-identifier path expressions in a function, and notes the locals bound to a
/// field read (`let item = resp.into_inner().item;`).
struct CountUses(HashMap<String, usize>, HashMap<String, String>);

impl<'ast> Visit<'ast> for CountUses {
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let (syn::Pat::Ident(pi), Some(init)) = (&l.pat, &l.init) {
            let mut e = strip_parens(&init.expr);
            if let syn::Expr::MethodCall(m) = e {
                if m.method == "clone" && m.args.is_empty() {
                    e = strip_parens(&m.receiver);
                }
            }
            if let syn::Expr::Field(f) = e {
                if let syn::Member::Named(name) = &f.member {
                    self.1.insert(pi.ident.to_string(), name.to_string());
                }
            }
        }
        syn::visit::visit_local(self, l);
    }
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if let Some(i) = p.path.get_ident() {
            *self.0.entry(i.to_string()).or_default() += 1;
        }
    }
    fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
        if f.colon_token.is_none() {
            if let syn::Member::Named(i) = &f.member {
                *self.0.entry(i.to_string()).or_default() += 1;
            }
        }
        syn::visit::visit_field_value(self, f);
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        for e in crate::resolve::macro_exprs(m).unwrap_or_default() {
            self.visit_expr(&e);
        }
    }
}

const RULE_LITERAL: &str = "step01/message-literal";
const RULE_PATTERN: &str = "step01/message-pattern";
const RULE_FIELD: &str = "step01/message-field";
const RULE_ENUM: &str = "step01/enum-field";
const RULE_ENUM_FN: &str = "step01/enum-fn";
const RULE_ONEOF: &str = "step01/oneof-box";
const RULE_MAP: &str = "step01/map-field";
const RULE_READ: &str = "step01/field-read";

use crate::steps::common::syntax::strip_parens;

/// Can `.method()` be appended to this expression without parentheses?
fn is_postfix_safe(e: &syn::Expr) -> bool {
    matches!(
        e,
        syn::Expr::Path(_)
            | syn::Expr::Call(_)
            | syn::Expr::MethodCall(_)
            | syn::Expr::Field(_)
            | syn::Expr::Paren(_)
            | syn::Expr::Macro(_)
            | syn::Expr::Lit(_)
            | syn::Expr::Index(_)
            | syn::Expr::Struct(_)
            | syn::Expr::Tuple(_)
            | syn::Expr::Array(_)
            | syn::Expr::Try(_)
            | syn::Expr::Await(_)
    )
}

fn ends_with_call(e: &syn::Expr, names: &[&str]) -> bool {
    matches!(strip_parens(e), syn::Expr::MethodCall(m) if names.contains(&m.method.to_string().as_str()))
}

fn is_default_call(e: &syn::Expr) -> bool {
    match strip_parens(e) {
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => {
                let segs: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                segs.last().map(String::as_str) == Some("default")
                    || segs.ends_with(&["MessageField".into(), "none".into()])
                    || segs.ends_with(&["MessageField".into(), "some".into()])
            }
            _ => false,
        },
        _ => false,
    }
}

impl<'a> Walker<'a, '_> {
    fn resolve(&self, p: &syn::Path) -> Option<Named<'a>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => self.ctx.named(&r.full),
            Resolution::Ambiguous(_) => None,
        }
    }

    fn enter_fn(&mut self, body: &syn::Block) {
        let mut c = CountUses(HashMap::new(), HashMap::new());
        c.visit_block(body);
        self.uses.push(c.0);
        self.bound.push(c.1);
    }

    fn leave_fn(&mut self) {
        self.uses.pop();
        self.bound.pop();
    }

    /// A function: its signature visited, then its parameters typed, then its body walked.
    fn walk_function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, body: &syn::Block) {
        self.enter_fn(body);
        for a in attrs {
            self.visit_attribute(a);
        }
        self.visit_signature(sig);
        self.types.enter_fn(sig, self.tr.current());
        self.i32_tail(sig, body);
        self.visit_block(body);
        self.types.leave_fn();
        self.leave_fn();
    }

    fn used_more_than_once(&self, name: &str) -> bool {
        self.uses
            .last()
            .and_then(|u| u.get(name))
            .is_some_and(|n| *n > 1)
    }

    fn schema(&self) -> Option<&'a Schema> {
        self.ctx.schema.as_deref()
    }

    fn report(&mut self, at: usize, rule: &str, message: String, note: &str) {
        self.out.items.push(ManualItem {
            offset: at,
            rule: rule.to_string(),
            message,
            note: note.to_string(),
            kind: ItemKind::Manual,
        });
    }

    fn commit(&mut self, at: usize, rule: &str, edits: Vec<Edit>) {
        if edits.is_empty() {
            return;
        }
        if let Err(o) = self.out.commit(edits) {
            self.report(
                at,
                rule,
                format!("not rewritten: {o}"),
                "rewrite it by hand",
            );
        }
    }

    fn src(&self, r: std::ops::Range<usize>) -> &'a str {
        &self.text[r]
    }

    /// Edits that turn `value` (the prost value of `field`) into its buffa value.
    fn value_edits(
        &mut self,
        field: &Field,
        value: &syn::Expr,
        shorthand: Option<&syn::Member>,
    ) -> Vec<Edit> {
        let r = range(value.span());
        let v = strip_parens(value);
        // `todo!()` and its kin never yield a value: they fit any field as written.
        if shorthand.is_none() && diverges(v) {
            return Vec::new();
        }
        let wrap_into = |this: &Self, rule: &str| -> Vec<Edit> {
            if let Some(m) = shorthand {
                let name = this.src(range(m.span()));
                let clone = if this.used_more_than_once(name) {
                    ".clone()"
                } else {
                    ""
                };
                return vec![Edit::insert(r.end, format!(": {name}{clone}.into()"), rule)];
            }
            if let syn::Expr::Path(p) = v {
                if let Some(i) = p.path.get_ident() {
                    if this.used_more_than_once(&i.to_string()) {
                        return vec![Edit::insert(r.end, ".clone().into()", rule)];
                    }
                }
            }
            if is_postfix_safe(value) {
                vec![Edit::insert(r.end, ".into()", rule)]
            } else {
                vec![
                    Edit::insert(r.start, "(", rule),
                    Edit::insert(r.end, ").into()", rule),
                ]
            }
        };
        if let (FieldKind::Map { .. }, syn::Expr::MethodCall(mc)) = (&field.kind, v) {
            // `HashMap: From<[(K, V); N]>` exists only for std's hasher; buffa maps use another.
            if mc.method == "into" && mc.args.is_empty() && shorthand.is_none() {
                let mr = range(mc.method.span());
                let end = range(mc.span()).end;
                return vec![Edit::replace(
                    mr.start..end,
                    "into_iter().collect()",
                    RULE_MAP,
                )];
            }
        }
        if let (FieldKind::Enum(_), Label::Repeated, None) = (&field.kind, field.label, shorthand) {
            if ends_with_call(v, &["collect"]) {
                return self.mapped_casts(v);
            }
        }
        // An optional enum field given `x.map(|v| v as i32)` (prost's `Option<i32>`): the cast's
        // number to buffa's `EnumValue` the same way.
        if let (FieldKind::Enum(_), Label::Optional, None) = (&field.kind, field.label, shorthand) {
            if ends_with_call(v, &["map"]) {
                let edits = self.mapped_casts(v);
                if !edits.is_empty() {
                    return edits;
                }
            }
        }
        if shorthand.is_none()
            && (ends_with_call(v, &["into", "into_iter", "collect"]) || is_default_call(v))
        {
            return Vec::new();
        }
        if let (FieldKind::Message(full), None) = (&field.kind, &field.oneof) {
            if let Some(wrapper) = wrapper_type(full) {
                let short = shorthand.map(|m| self.src(range(m.span())).to_string());
                return wrapper_edits(value, v, wrapper, short.as_deref());
            }
        }
        match (&field.kind, field.label) {
            (FieldKind::Message(_), Label::Implicit | Label::Optional | Label::Required)
                if field.oneof.is_none() =>
            {
                // `Some(x)` -> `x.into()`, `None` -> `Default::default()`, else `.into()`.
                match v {
                    syn::Expr::Call(c)
                        if is_path(&c.func, "Some") && c.args.len() == 1 && shorthand.is_none() =>
                    {
                        some_message_edits(r, &c.args[0])
                    }
                    syn::Expr::Path(p) if p.path.is_ident("None") && shorthand.is_none() => {
                        vec![Edit::replace(r, "Default::default()", RULE_FIELD)]
                    }
                    _ => wrap_into(self, RULE_FIELD),
                }
            }
            (FieldKind::Enum(_), Label::Implicit | Label::Required) if field.oneof.is_none() => {
                self.enum_value_edits(value, shorthand, false)
            }
            (FieldKind::Enum(_), Label::Optional) => match v {
                syn::Expr::Call(c) if is_path(&c.func, "Some") && c.args.len() == 1 => {
                    self.enum_value_edits(&c.args[0], None, false)
                }
                _ => Vec::new(),
            },
            (FieldKind::Enum(_), Label::Repeated) => match v {
                syn::Expr::Macro(m) if m.mac.path.is_ident("vec") => self.enum_list_edits(&m.mac),
                syn::Expr::Array(a) => a
                    .elems
                    .iter()
                    .flat_map(|e| self.enum_value_edits(e, None, true))
                    .collect(),
                _ => Vec::new(),
            },
            (FieldKind::Map { .. }, _) => match v {
                syn::Expr::Call(c)
                    if path_ends(&c.func, &["HashMap", "new"])
                        || path_ends(&c.func, &["BTreeMap", "new"]) =>
                {
                    vec![Edit::replace(r, "Default::default()", RULE_MAP)]
                }
                syn::Expr::Call(c)
                    if (path_ends(&c.func, &["HashMap", "from"])
                        || path_ends(&c.func, &["BTreeMap", "from"]))
                        && c.args.len() == 1 =>
                {
                    let a = range(c.args[0].span());
                    vec![
                        Edit::delete(r.start..a.start, RULE_MAP),
                        Edit::replace(a.end..r.end, ".into_iter().collect()", RULE_MAP),
                    ]
                }
                _ => {
                    if let Some(m) = shorthand {
                        let name = self.src(range(m.span()));
                        vec![Edit::insert(
                            r.end,
                            format!(": {name}.into_iter().collect()"),
                            RULE_MAP,
                        )]
                    } else if is_postfix_safe(value) {
                        vec![Edit::insert(r.end, ".into_iter().collect()", RULE_MAP)]
                    } else {
                        vec![
                            Edit::insert(r.start, "(", RULE_MAP),
                            Edit::insert(r.end, ").into_iter().collect()", RULE_MAP),
                        ]
                    }
                }
            },
            _ => Vec::new(),
        }
    }

    /// `E::X as i32` -> `E::X.into()`; another i32 expression -> `.into()` (skipped for list
    /// elements, whose type is only sure for casts).
    fn enum_value_edits(
        &self,
        value: &syn::Expr,
        shorthand: Option<&syn::Member>,
        only_casts: bool,
    ) -> Vec<Edit> {
        let r = range(value.span());
        if let Some(m) = shorthand {
            let name = self.src(range(m.span()));
            return vec![Edit::insert(r.end, format!(": {name}.into()"), RULE_ENUM)];
        }
        match strip_parens(value) {
            // `x as i32` of anything but a schema enum's variant (another crate's enum, a
            // number): the cast's number into buffa's value, `(x as i32).into()`.
            syn::Expr::Cast(_) if !self.is_schema_enum_variant(value) => vec![
                Edit::insert(r.start, "(", RULE_ENUM),
                Edit::insert(r.end, ").into()", RULE_ENUM),
            ],
            syn::Expr::Cast(c) => {
                let inner = range(c.expr.span());
                if is_postfix_safe(&c.expr) {
                    vec![Edit::replace(inner.end..r.end, ".into()", RULE_ENUM)]
                } else {
                    vec![
                        Edit::insert(inner.start, "(", RULE_ENUM),
                        Edit::replace(inner.end..r.end, ").into()", RULE_ENUM),
                    ]
                }
            }
            v if ends_with_call(v, &["into"]) || is_default_call(v) => Vec::new(),
            _ if only_casts => Vec::new(),
            _ if is_postfix_safe(value) => vec![Edit::insert(r.end, ".into()", RULE_ENUM)],
            _ => vec![
                Edit::insert(r.start, "(", RULE_ENUM),
                Edit::insert(r.end, ").into()", RULE_ENUM),
            ],
        }
    }

    /// Is `cast` (`E::X as i32`) the cast of a variant of one of the schema's enums (whose
    /// buffa value converts into `EnumValue<E>` itself)?
    fn is_schema_enum_variant(&self, cast: &syn::Expr) -> bool {
        let syn::Expr::Cast(c) = strip_parens(cast) else {
            return false;
        };
        let syn::Expr::Path(p) = strip_parens(&c.expr) else {
            return false;
        };
        let n = p.path.segments.len();
        if p.qself.is_some() || n < 2 {
            return false;
        }
        matches!(
            self.resolve(&path_without_last(&p.path, n - 1)),
            Some(Named::Enum(_))
        )
    }

    /// `xs.into_iter().map(|x| x as i32).collect()` for a repeated enum field: the casts in
    /// the chain's `map` closures convert their number to buffa's `EnumValue`
    /// (`(x as i32).into()`: `x` may be the crate's own enum, which has no `EnumValue` `From`).
    fn mapped_casts(&self, v: &syn::Expr) -> Vec<Edit> {
        let mut edits = Vec::new();
        let mut e = strip_parens(v);
        while let syn::Expr::MethodCall(m) = e {
            if m.method == "map" && m.args.len() == 1 {
                if let syn::Expr::Closure(c) = strip_parens(&m.args[0]) {
                    if matches!(strip_parens(&c.body), syn::Expr::Cast(_)) {
                        let r = range(c.body.span());
                        edits.push(Edit::insert(r.start, "(", RULE_ENUM));
                        edits.push(Edit::insert(r.end, ").into()", RULE_ENUM));
                    }
                }
            }
            e = strip_parens(&m.receiver);
        }
        edits
    }

    fn enum_list_edits(&self, mac: &syn::Macro) -> Vec<Edit> {
        match crate::resolve::macro_exprs(mac) {
            Some(elems) => elems
                .iter()
                .flat_map(|e| self.enum_value_edits(e, None, true))
                .collect(),
            None => Vec::new(),
        }
    }

    fn struct_literal(&mut self, e: &syn::ExprStruct) {
        if e.qself.is_some() {
            return;
        }
        // `Self { .. }` in an impl for a message (`impl From<X> for pb::M`).
        let self_message = e
            .path
            .is_ident("Self")
            .then(|| self.types.self_ty().and_then(|t| t.message()))
            .flatten();
        let Some(named) = self_message
            .map(Named::Message)
            .or_else(|| self.resolve(&e.path))
        else {
            return;
        };
        let message = match named {
            Named::Message(m) => Some(m),
            Named::Wkt(_) => None,
            _ => return,
        };
        let at = range(e.span()).start;
        let mut edits = Vec::new();
        // buffa's `Any` holds its value as `Bytes` (prost's: `Vec<u8>`).
        if let Named::Wkt("Any") = named {
            for fv in &e.fields {
                if matches!(&fv.member, syn::Member::Named(i) if i == "value") {
                    edits.extend(into_edits(&fv.expr, fv.colon_token.is_none(), RULE_LITERAL));
                }
            }
        }
        if let Some(m) = message {
            for fv in &e.fields {
                let syn::Member::Named(ident) = &fv.member else {
                    continue;
                };
                let Some(field) = m.field_by_rust_name(&ident.to_string()) else {
                    // A oneof field: its value is an `Option<Kind>`, handled where `Kind::X(..)`
                    // is built.
                    continue;
                };
                let shorthand = fv.colon_token.is_none().then_some(&fv.member);
                edits.extend(self.value_edits(field, &fv.expr, shorthand));
            }
        }
        if e.rest.is_none() && e.dot2_token.is_none() {
            edits.extend(self.add_rest(
                range(e.brace_token.span.open()).start,
                range(e.brace_token.span.close()).start,
                e.fields.len(),
                e.fields.trailing_punct(),
                "..Default::default()",
                RULE_LITERAL,
            ));
        }
        self.commit(at, RULE_LITERAL, edits);
    }

    /// Insert `rest` (`..Default::default()` or `..`) as the last element between braces.
    fn add_rest(
        &self,
        open: usize,
        close: usize,
        n: usize,
        trailing_comma: bool,
        rest: &str,
        rule: &str,
    ) -> Vec<Edit> {
        let inner = &self.text[open + 1..close];
        if n == 0 {
            return vec![Edit::replace(open + 1..close, format!(" {rest} "), rule)];
        }
        let multiline = inner.contains('\n');
        // End of the last element (before a trailing comma and whitespace).
        let trimmed = inner.trim_end();
        let last_end = open + 1 + trimmed.len();
        if multiline {
            let field_indent =
                indent_at(self.text, line_start(self.text, last_end).max(open + 1)).to_string();
            let indent = if field_indent.is_empty() {
                format!("{}    ", indent_at(self.text, close))
            } else {
                field_indent
            };
            if trailing_comma {
                vec![Edit::insert(last_end, format!("\n{indent}{rest}"), rule)]
            } else {
                vec![Edit::insert(last_end, format!(",\n{indent}{rest}"), rule)]
            }
        } else if trailing_comma {
            vec![Edit::insert(last_end, format!(" {rest}"), rule)]
        } else {
            vec![Edit::insert(last_end, format!(", {rest}"), rule)]
        }
    }

    fn struct_pattern(&mut self, p: &syn::PatStruct) {
        if p.qself.is_some() || p.rest.is_some() {
            return;
        }
        match self.resolve(&p.path) {
            Some(Named::Message(_) | Named::Wkt(_)) => {}
            _ => return,
        }
        let edits = self.add_rest(
            range(p.brace_token.span.open()).start,
            range(p.brace_token.span.close()).start,
            p.fields.len(),
            p.fields.trailing_punct(),
            "..",
            RULE_PATTERN,
        );
        self.commit(range(p.span()).start, RULE_PATTERN, edits);
    }

    /// `Kind::Nested(inner)` for a oneof message variant -> `Kind::Nested(Box::new(inner))`;
    /// an enum variant's `E::X as i32` -> `E::X.into()`.
    fn oneof_call(&mut self, c: &syn::ExprCall) {
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        if fp.qself.is_some() || fp.path.segments.len() < 2 || c.args.len() != 1 {
            return;
        }
        let mut parent = fp.path.clone();
        let variant = parent
            .segments
            .pop()
            .unwrap()
            .into_value()
            .ident
            .to_string();
        // Drop the trailing `::` left by pop.
        let parent = syn::Path {
            leading_colon: parent.leading_colon,
            segments: parent.segments.into_iter().collect(),
        };
        let Some(Named::Oneof(_, o)) = self.resolve(&parent) else {
            return;
        };
        let Some(v) = o.variant_by_rust_name(&variant) else {
            return;
        };
        let arg = &c.args[0];
        let r = range(arg.span());
        let edits = match &v.kind {
            FieldKind::Message(_) => {
                if matches!(strip_parens(arg), syn::Expr::Call(b) if path_ends(&b.func, &["Box", "new"]))
                {
                    return;
                }
                // Another oneof's boxed variant, bound by this match (chirpstack's
                // `Parameters::Fsk(*info)` in an arm of `ModulationInfo::FskModulationInfo(info)`):
                // the box is what the variant takes. Bound by reference, prost's `*info` copied
                // the message out: buffa's is cloned, box and all; bound by value, it is moved;
                // cloned already, it is a box.
                match self.boxed_local_use(arg) {
                    Some(BoxedUse::DerefOfBorrowed(name)) => {
                        let edits = vec![Edit::replace(
                            r.clone(),
                            format!("{name}.clone()"),
                            RULE_ONEOF,
                        )];
                        self.commit(r.start, RULE_ONEOF, edits);
                        return;
                    }
                    Some(BoxedUse::Cloned) => {
                        // Not the message out of its box (`boxed_clone`): the box is wanted.
                        self.receivers.insert(range(strip_parens(arg).span()).start);
                        return;
                    }
                    Some(BoxedUse::Owned) => return,
                    None => {}
                }
                vec![
                    Edit::insert(r.start, "Box::new(", RULE_ONEOF),
                    Edit::insert(r.end, ")", RULE_ONEOF),
                ]
            }
            FieldKind::Enum(_) => self.enum_value_edits(arg, None, true),
            _ => return,
        };
        self.commit(r.start, RULE_ONEOF, edits);
    }

    /// How `e` uses a local bound to a oneof's boxed message variant, if it is one: `*r` of a
    /// binding by reference (`&Box<M>`: the deref is the box, not the message), `r` bound by
    /// value (the box), `r.clone()` (a box).
    fn boxed_local_use(&self, e: &syn::Expr) -> Option<BoxedUse> {
        let local = |e: &syn::Expr| match strip_parens(e) {
            syn::Expr::Path(p) => p
                .path
                .get_ident()
                .map(|i| i.to_string())
                .filter(|n| self.types.is_boxed_local(n)),
            _ => None,
        };
        match strip_parens(e) {
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                let name = local(&u.expr)?;
                (!self.owned_boxed.contains(&name)).then_some(BoxedUse::DerefOfBorrowed(name))
            }
            syn::Expr::MethodCall(c) if c.method == "clone" && c.args.is_empty() => {
                local(&c.receiver).map(|_| BoxedUse::Cloned)
            }
            other => {
                let name = local(other)?;
                self.owned_boxed.contains(&name).then_some(BoxedUse::Owned)
            }
        }
    }

    /// `x.encode(&mut buf)` whose result is used as prost's `Result` (`?`, `.unwrap()`, ..) in a
    /// file written against prost's `Message` trait (now buffa's, whose `encode` returns
    /// nothing) -> `x.try_encode(&mut buf)`, buffa's fallible twin. The receiver's type need not
    /// be known: a generic `M: Message` is one too.
    fn encode_result(&mut self, e: &syn::Expr) {
        let syn::Expr::MethodCall(c) = strip_parens(e) else {
            return;
        };
        let to = match c.method.to_string().as_str() {
            "encode" => "try_encode",
            "encode_length_delimited" => "try_encode_length_delimited",
            _ => return,
        };
        if c.args.len() != 1 || !self.prost_message_file() {
            return;
        }
        let r = range(c.method.span());
        self.commit(
            r.start,
            "step01/encode",
            vec![Edit::replace(r, to, "step01/encode")],
        );
    }

    /// `client.version(())` (tonic's stubs spell `google.protobuf.Empty` as `()`; after step 1
    /// they take buffa's `Empty`): a call of a method every service of the schema with that name
    /// takes `Empty` in, with `()` or `Request::new(())` as its argument, gets
    /// `buffa_types::google::protobuf::Empty::default()` instead. The receiver's type need not be
    /// known: the method's name and the unit argument decide.
    fn empty_request(&mut self, m: &syn::ExprMethodCall) {
        if m.args.len() != 1 {
            return;
        }
        let Some(schema) = self.ctx.schema.as_ref() else {
            return;
        };
        let name = m.method.to_string();
        let mut methods = schema
            .services
            .iter()
            .flat_map(|s| &s.methods)
            .filter(|x| x.rust_name == name)
            .peekable();
        let takes_empty = methods.peek().is_some()
            && methods.all(|x| {
                x.input == "google.protobuf.Empty"
                    && matches!(
                        x.kind,
                        crate::schema::StreamingKind::Unary
                            | crate::schema::StreamingKind::ServerStream
                    )
            });
        if !takes_empty {
            return;
        }
        let is_unit =
            |e: &syn::Expr| matches!(strip_parens(e), syn::Expr::Tuple(t) if t.elems.is_empty());
        let unit = match strip_parens(&m.args[0]) {
            e if is_unit(e) => e,
            // `Request::new(())`, `tonic::Request::new(())`.
            syn::Expr::Call(c)
                if c.args.len() == 1
                    && is_unit(&c.args[0])
                    && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.len() >= 2
                        && p.path.segments[p.path.segments.len() - 2].ident == "Request"
                        && p.path.segments[p.path.segments.len() - 1].ident == "new") =>
            {
                &c.args[0]
            }
            _ => return,
        };
        let r = range(unit.span());
        self.commit(
            r.start,
            "step01/empty",
            vec![Edit::replace(
                r,
                "buffa_types::google::protobuf::Empty::default()",
                "step01/empty",
            )],
        );
    }

    /// A tonic handler of a method taking or returning `google.protobuf.Empty` (tonic's stubs
    /// spell it `()`; after step 1 they use buffa's `Empty`): in an impl of a trait named as a
    /// service's tonic trait, the method named as one of its RPCs. `Request<()>` in its
    /// parameters (input `Empty`), `Response<()>` in its return type and `Response::new(())` in
    /// its body (output `Empty`) take buffa's `Empty`.
    fn empty_handler(&mut self, sig: &syn::Signature, body: &syn::Block) {
        use crate::schema::StreamingKind as K;
        let (Some(schema), Some(tr)) = (self.schema(), self.types.impl_trait()) else {
            return;
        };
        let name = sig.ident.to_string();
        let Some(m) = schema
            .services
            .iter()
            .filter(|s| s.tonic_trait == tr)
            .flat_map(|s| &s.methods)
            .find(|m| m.rust_name == name)
        else {
            return;
        };
        const EMPTY: &str = "google.protobuf.Empty";
        const BUFFA: &str = "buffa_types::google::protobuf::Empty";
        let empty_in = m.input == EMPTY && matches!(m.kind, K::Unary | K::ServerStream);
        let empty_out = m.output == EMPTY && matches!(m.kind, K::Unary | K::ClientStream);
        let mut edits = Vec::new();
        let unit_ranges = |ty: &syn::Type, wrapper: &str| -> Vec<std::ops::Range<usize>> {
            let mut v = UnitArgs {
                wrapper,
                found: Vec::new(),
            };
            v.visit_type(ty);
            v.found
        };
        if empty_in {
            for a in &sig.inputs {
                if let syn::FnArg::Typed(t) = a {
                    for r in unit_ranges(&t.ty, "Request") {
                        edits.push(Edit::replace(r, BUFFA, "step01/empty"));
                    }
                }
            }
        }
        if empty_out {
            if let syn::ReturnType::Type(_, t) = &sig.output {
                for r in unit_ranges(t, "Response") {
                    edits.push(Edit::replace(r, BUFFA, "step01/empty"));
                }
            }
            let mut v = UnitResponses(Vec::new());
            v.visit_block(body);
            for r in v.0 {
                edits.push(Edit::replace(
                    r,
                    format!("{BUFFA}::default()"),
                    "step01/empty",
                ));
            }
        }
        let at = range(sig.ident.span()).start;
        self.commit(at, "step01/empty", edits);
    }

    /// The file names prost's `Message` trait (`use prost::Message;`, `prost::Message` in a
    /// bound): its `encode` calls are prost's.
    fn prost_message_file(&self) -> bool {
        let path: syn::Path = syn::parse_quote!(Message);
        self.text.contains("prost::Message")
            || matches!(
                self.idx.resolve(self.tr.current(), &path),
                Some(Resolution::One(r)) if r.full == ["prost", "Message"]
            )
    }

    /// `M::decode(buf)` (prost: `impl Buf` by value) -> `M::decode_from_slice(&buf)` for buffa
    /// messages; a prost type that stays prost (`prost_types::FileDescriptorSet`) is called
    /// through its trait, since the file's `Message` import is now buffa's.
    fn decode_call(&mut self, c: &syn::ExprCall) {
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        if fp.qself.is_some() || fp.path.segments.len() < 2 {
            return;
        }
        let method = fp.path.segments.last().unwrap().ident.to_string();
        if !matches!(method.as_str(), "decode" | "decode_length_delimited") {
            return;
        }
        let ty = path_without_last(&fp.path, fp.path.segments.len() - 1);
        let Some(Resolution::One(r)) = self.idx.resolve(self.tr.current(), &ty) else {
            return;
        };
        let fr = range(fp.span());
        let ty_text = self.src(fr.start..range(ty.segments.last().unwrap().span()).end);
        if self.ctx.named(&r.full).is_some() {
            if method != "decode" || c.args.len() != 1 {
                return;
            }
            let arg = &c.args[0];
            let ar = range(arg.span());
            let m = range(fp.path.segments.last().unwrap().ident.span());
            let mut edits = match strip_parens(arg) {
                // Already a `&mut impl Buf`: buffa's decode takes exactly that.
                syn::Expr::Reference(rf) if rf.mutability.is_some() => return,
                syn::Expr::Reference(_) => vec![],
                syn::Expr::MethodCall(mc)
                    if matches!(
                        mc.method.to_string().as_str(),
                        "as_slice" | "as_ref" | "as_bytes"
                    ) =>
                {
                    vec![]
                }
                _ => vec![Edit::insert(ar.start, "&", "step01/decode")],
            };
            edits.push(Edit::replace(m, "decode_from_slice", "step01/decode"));
            self.commit(fr.start, "step01/decode", edits);
        } else if r.full.len() == 2 && r.full[0] == "prost_types" && !self.descriptors_move {
            let text = format!("<{ty_text} as prost::Message>::{method}");
            self.commit(
                fr.start,
                "step01/decode",
                vec![Edit::replace(fr, text, "step01/decode")],
            );
        }
    }

    /// prost's associated functions of a schema enum, on buffa's `Enumeration` trait:
    /// `E::from_i32(n)` -> `<E as ::buffa::Enumeration>::from_i32(n)` (the same `Option`),
    /// `E::try_from(n)` -> `..::from_i32(n).ok_or(())` (a `Result` whose error is `()`, where
    /// prost's was `UnknownEnumValue`), `E::is_valid(n)` -> `..::from_i32(n).is_some()`,
    /// `E::from_str_name(s)` -> `..::from_proto_name(s)`. Only the function's path and the
    /// call's end are written: edits inside the arguments stay theirs.
    fn enum_assoc_call(&mut self, c: &syn::ExprCall) {
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        if fp.qself.is_some() || fp.path.segments.len() < 2 || c.args.len() != 1 {
            return;
        }
        let method = fp.path.segments.last().unwrap().ident.to_string();
        let (name, suffix) = match method.as_str() {
            "from_i32" => ("from_i32", ""),
            "try_from" => ("from_i32", ".ok_or(())"),
            "is_valid" => ("from_i32", ".is_some()"),
            "from_str_name" => ("from_proto_name", ""),
            _ => return,
        };
        let ty = path_without_last(&fp.path, fp.path.segments.len() - 1);
        let Some(Resolution::One(r)) = self.idx.resolve(self.tr.current(), &ty) else {
            return;
        };
        if !matches!(self.ctx.named(&r.full), Some(Named::Enum(_))) {
            return;
        }
        let fr = range(fp.span());
        let ty_text = self.src(fr.start..range(ty.segments.last().unwrap().span()).end);
        let mut edits = vec![Edit::replace(
            fr.clone(),
            format!("<{ty_text} as ::buffa::Enumeration>::{name}"),
            RULE_ENUM_FN,
        )];
        if !suffix.is_empty() {
            edits.push(Edit::insert(range(c.span()).end, suffix, RULE_ENUM_FN));
        }
        self.commit(fr.start, RULE_ENUM_FN, edits);
    }

    /// `a.kind == E::X as i32` (an enum field compared to a cast variant) -> `a.kind == E::X`.
    fn comparison(&mut self, b: &syn::ExprBinary) {
        if !matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) {
            return;
        }
        for (field_side, cast_side) in [(&b.left, &b.right), (&b.right, &b.left)] {
            let syn::Expr::Cast(c) = strip_parens(cast_side) else {
                continue;
            };
            if !matches!(&*c.ty, syn::Type::Path(t) if t.path.is_ident("i32"))
                || !self.is_schema_enum_variant(cast_side)
            {
                continue;
            }
            let syn::Expr::Field(f) = strip_parens(field_side) else {
                continue;
            };
            let syn::Member::Named(name) = &f.member else {
                continue;
            };
            let Some(field) = self.field_of(f, name) else {
                continue;
            };
            if !matches!(field.kind, FieldKind::Enum(_)) || field.label != Label::Implicit {
                continue;
            }
            let inner = range(c.expr.span());
            let r = range(c.span());
            self.commit(
                r.start,
                RULE_ENUM,
                vec![Edit::delete(inner.end..r.end, RULE_ENUM)],
            );
            return;
        }
    }

    /// The schema field that `x.name` reads: the field of `x`'s message when its type is
    /// known, none when `x` is a struct of the crate, else the kind every message gives a field
    /// of that name ([`field_kind_by_name`]).
    fn field_of(&mut self, f: &syn::ExprField, name: &syn::Ident) -> Option<&'a Field> {
        match self.types.ty_of_expr(&f.base, self.tr.current()) {
            Some(ty @ (Ty::Message(_) | Ty::Boxed(_))) => {
                ty.message()?.field_by_rust_name(&name.to_string())
            }
            Some(Ty::Struct(s)) if self.types.knows_struct(&s) => None,
            _ => self.field_by_name(&name.to_string()),
        }
    }

    /// The field `x.name` reads when `x` is known to be a message (no guess by the name).
    fn message_field(&self, f: &syn::ExprField, name: &syn::Ident) -> Option<&'a Field> {
        match self.types.ty_of_expr(&f.base, self.tr.current()) {
            Some(ty @ (Ty::Message(_) | Ty::Boxed(_))) => {
                ty.message()?.field_by_rust_name(&name.to_string())
            }
            _ => None,
        }
    }

    fn field_by_name(&mut self, name: &str) -> Option<&'a Field> {
        if let Some(f) = self.field_names.get(name) {
            return *f;
        }
        let f = self.schema().and_then(|s| field_kind_by_name(s, name));
        self.field_names.insert(name.to_string(), f);
        f
    }

    /// `x.f = value;` where `f` is a field of one kind across the schema.
    fn assignment(&mut self, a: &syn::ExprAssign) {
        let syn::Expr::Field(f) = strip_parens(&a.left) else {
            return;
        };
        let syn::Member::Named(name) = &f.member else {
            return;
        };
        let Some(field) = self.field_of(f, name) else {
            return;
        };
        // Only values whose prost shape is certain: `Some(..)`/`None` for messages, casts for
        // enums, map constructors.
        let v = strip_parens(&a.right);
        let certain = match &field.kind {
            FieldKind::Message(_) => {
                matches!(v, syn::Expr::Call(c) if is_path(&c.func, "Some"))
                    || matches!(v, syn::Expr::Path(p) if p.path.is_ident("None"))
            }
            FieldKind::Enum(_) => {
                matches!(v, syn::Expr::Cast(_))
                    || (field.label == Label::Repeated && ends_with_call(v, &["collect"]))
            }
            FieldKind::Map { .. } => {
                matches!(v, syn::Expr::Call(c) if path_ends(&c.func, &["HashMap", "new"]) || path_ends(&c.func, &["BTreeMap", "new"]))
            }
            FieldKind::Scalar(_) => false,
        };
        if !certain {
            return;
        }
        let edits = self.value_edits(field, &a.right, None);
        self.commit(range(a.span()).start, RULE_FIELD, edits);
    }

    /// `r.clone()` of a oneof's message variant bound by a pattern (`Kind::Put(r)`), which buffa
    /// boxes: `*r.clone()` is the message whether `r` is bound by value or by reference;
    /// `.into()` on it converts the message, not the box. As the receiver of another method,
    /// auto-deref reaches the message already.
    fn boxed_clone(&mut self, m: &syn::ExprMethodCall) {
        let is_boxed_clone = |this: &Self, e: &syn::Expr| match strip_parens(e) {
            syn::Expr::MethodCall(c) if c.method == "clone" && c.args.is_empty() => {
                matches!(strip_parens(&c.receiver), syn::Expr::Path(p)
                    if p.path.get_ident().is_some_and(|i| this.types.is_boxed_local(&i.to_string())))
            }
            _ => false,
        };
        // `r.into()` of a variant bound by value: the message, out of its box.
        if m.method == "into" && m.args.is_empty() {
            if let syn::Expr::Path(p) = strip_parens(&m.receiver) {
                if p.path.get_ident().is_some_and(|i| {
                    let i = i.to_string();
                    self.owned_boxed.contains(&i) && self.types.is_boxed_local(&i)
                }) {
                    let r = range(m.receiver.span());
                    self.commit(
                        r.start,
                        RULE_ONEOF,
                        vec![
                            Edit::insert(r.start, "(*", RULE_ONEOF),
                            Edit::insert(r.end, ")", RULE_ONEOF),
                        ],
                    );
                }
            }
        }
        if m.method == "into" && m.args.is_empty() && is_boxed_clone(self, &m.receiver) {
            let r = range(m.receiver.span());
            self.commit(
                r.start,
                RULE_ONEOF,
                vec![
                    Edit::insert(r.start, "(*", RULE_ONEOF),
                    Edit::insert(r.end, ")", RULE_ONEOF),
                ],
            );
        }
        let r = range(m.span());
        if !self.receivers.contains(&r.start)
            && is_boxed_clone(self, &syn::Expr::MethodCall(m.clone()))
        {
            self.commit(
                r.start,
                RULE_ONEOF,
                vec![Edit::insert(r.start, "*", RULE_ONEOF)],
            );
        }
        self.receivers.insert(range(m.receiver.span()).start);
    }

    /// `x.as_str_name()` of a prost enum (its proto name) -> buffa's
    /// `::buffa::Enumeration::proto_name(&x)`, where `x` is known to be a schema enum: a variant
    /// path (`Kind::Book`), or prost's getter of an enum field on a known message
    /// (`item.kind()`, kept as a compat accessor). Another receiver is listed: buffa's enums
    /// have no inherent `as_str_name`, and a prost enum of another crate keeps its own.
    fn as_str_name(&mut self, m: &syn::ExprMethodCall) {
        if m.method != "as_str_name" || !m.args.is_empty() {
            return;
        }
        let recv = strip_parens(&m.receiver);
        let known = match recv {
            syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() >= 2 => {
                let n = p.path.segments.len();
                matches!(
                    self.resolve(&path_without_last(&p.path, n - 1)),
                    Some(Named::Enum(_))
                )
            }
            syn::Expr::MethodCall(g) if g.args.is_empty() => {
                match self.types.ty_of_expr(&g.receiver, self.tr.current()) {
                    Some(ty @ (Ty::Message(_) | Ty::Boxed(_))) => ty.message().is_some_and(|msg| {
                        msg.field_by_rust_name(&g.method.to_string())
                            .is_some_and(|f| matches!(f.kind, FieldKind::Enum(_)))
                    }),
                    _ => false,
                }
            }
            _ => false,
        };
        let r = range(m.span());
        if !known {
            self.report(
                r.start,
                RULE_ENUM_FN,
                format!(
                    "`{}.as_str_name()`: the receiver is not known to be a generated enum here",
                    self.src(range(m.receiver.span()))
                ),
                "if it is one of this schema's enums, write `::buffa::Enumeration::proto_name(&x)` \
                 (buffa's enums have no `as_str_name`)",
            );
            return;
        }
        let text = format!(
            "::buffa::Enumeration::proto_name(&{})",
            self.src(range(m.receiver.span()))
        );
        self.commit(
            r.start,
            RULE_ENUM_FN,
            vec![Edit::replace(r, text, RULE_ENUM_FN)],
        );
    }

    /// `m.inner.is_some()` and friends on a singular message field.
    fn method_call(&mut self, m: &syn::ExprMethodCall) {
        self.as_str_name(m);
        self.boxed_clone(m);
        self.optional_enum_read(m);
        let method = m.method.to_string();
        if RESULT_METHODS.contains(&method.as_str()) {
            self.encode_result(&m.receiver);
        }
        self.empty_request(m);
        // Setters of enum fields: `m.set_kind(E::X)` -> `m.kind = E::X.into()`.
        if let Some(fname) = method.strip_prefix("set_") {
            if m.args.len() == 1 {
                if let Some(field) = self.field_by_name(fname) {
                    if matches!(field.kind, FieldKind::Enum(_)) && field.label == Label::Implicit {
                        let recv = self.src(range(m.receiver.span()));
                        let arg = self.src(range(m.args[0].span()));
                        let r = range(m.span());
                        let text = format!("{recv}.{fname} = {arg}.into()");
                        self.commit(r.start, RULE_ENUM, vec![Edit::replace(r, text, RULE_ENUM)]);
                        return;
                    }
                }
            }
        }
        let mut typed = None;
        let receiver_field = match strip_parens(&m.receiver) {
            syn::Expr::Field(f) => match &f.member {
                syn::Member::Named(n) => {
                    typed = Some(self.field_of(f, n));
                    Some(n.to_string())
                }
                _ => None,
            },
            syn::Expr::Path(p) => p.path.get_ident().and_then(|i| {
                self.bound
                    .last()
                    .and_then(|b| b.get(&i.to_string()))
                    .cloned()
            }),
            _ => None,
        };
        let Some(fname) = receiver_field else {
            // A getter of an enum field: `m.kind()`; the receiver's type is unknown.
            if m.args.is_empty() {
                if let Some(field) = self.field_by_name(&method) {
                    if matches!(field.kind, FieldKind::Enum(_))
                        && self.file_uses_messages()
                        && !self
                            .ctx
                            .plan::<super::CodegenPlan>()
                            .is_some_and(|p| p.accessor_names.contains(&method))
                    {
                        self.report(
                            range(m.method.span()).start,
                            RULE_READ,
                            format!("`.{method}()` may be prost's getter of the enum field `{method}`: buffa has no getters"),
                            &format!("if it is, read `.{method}.as_known().unwrap_or_default()` (or `.{method}.unwrap_or(..)` for an optional field)"),
                        );
                    }
                }
            }
            return;
        };
        let field = match typed {
            Some(f) => f,
            None => self.field_by_name(&fname),
        };
        let Some(field) = field else {
            return;
        };
        if !field.is_message_field() {
            return;
        }
        // prost derives `Copy` for messages of copyable fields (and Timestamp, Duration): code
        // that consumed such an `Option<M>` by value kept the field. buffa's `MessageField` is
        // never `Copy`: clone first, which is what the copy did.
        if matches!(
            method.as_str(),
            "ok_or"
                | "ok_or_else"
                | "unwrap"
                | "expect"
                | "unwrap_or"
                | "unwrap_or_else"
                | "unwrap_or_default"
                | "map"
                | "and_then"
                | "map_or"
                | "map_or_else"
        ) && matches!(strip_parens(&m.receiver), syn::Expr::Field(_))
        {
            if let FieldKind::Message(full) = &field.kind {
                if self.schema().is_some_and(|s| prost_copy(s, full, 0)) {
                    let r = range(m.receiver.span());
                    self.commit(
                        r.start,
                        RULE_READ,
                        vec![Edit::insert(r.end, ".clone()", RULE_READ)],
                    );
                }
            }
            return;
        }
        let new = match method.as_str() {
            "is_some" => "is_set",
            "is_none" => "is_unset",
            "as_ref" => "as_option",
            "as_mut" => "as_option_mut",
            _ => return,
        };
        let r = range(m.method.span());
        self.commit(r.start, RULE_READ, vec![Edit::replace(r, new, RULE_READ)]);
    }

    fn file_uses_messages(&self) -> bool {
        !self.ctx.modules.is_empty()
    }

    /// An optional enum field `m.level` consumed by an `Option` method (`m.level.map(|v|
    /// v.try_into().unwrap())`, cln-grpc): prost's `Option<i32>`, from buffa's
    /// `Option<EnumValue<E>>`: `m.level.map(|v| v.to_i32())` first, so the rest reads the numbers
    /// it read. Methods that borrow or mutate the field in place are left alone.
    fn optional_enum_read(&mut self, m: &syn::ExprMethodCall) {
        // An enum field converted by `try_into()` (cln-grpc:
        // `subsystem: c.subsystem.try_into().unwrap()` into another crate's `TryFrom<i32>` enum)
        // converts the number prost gave.
        if m.method == "try_into" && m.args.is_empty() {
            if let syn::Expr::Field(f) = strip_parens(&m.receiver) {
                if let syn::Member::Named(name) = &f.member {
                    if self.message_field(f, name).is_some_and(|fd| {
                        matches!(fd.kind, FieldKind::Enum(_))
                            && fd.label == Label::Implicit
                            && fd.oneof.is_none()
                    }) {
                        self.enum_read_as_i32(&m.receiver);
                    }
                }
            }
            return;
        }
        const CONSUMING: &[&str] = &[
            "map",
            "map_or",
            "map_or_else",
            "and_then",
            "filter",
            "unwrap",
            "unwrap_or",
            "unwrap_or_default",
            "unwrap_or_else",
            "expect",
            "ok_or",
            "ok_or_else",
        ];
        if !CONSUMING.contains(&m.method.to_string().as_str()) {
            return;
        }
        // Already the numbers (`.map(|v| v.to_i32())`, this step's own, on a later run).
        let to_numbers = m.method == "map"
            && matches!(m.args.first(), Some(syn::Expr::Closure(c))
                if matches!(strip_parens(&c.body), syn::Expr::MethodCall(b) if b.method == "to_i32"));
        if to_numbers {
            return;
        }
        let syn::Expr::Field(f) = strip_parens(&m.receiver) else {
            return;
        };
        let syn::Member::Named(name) = &f.member else {
            return;
        };
        // The receiver must be known to be a message: a name shared with another crate's
        // struct (cln-grpc's `responses::X` beside `pb::X`) is not enough here.
        let Some(field) = self.message_field(f, name) else {
            return;
        };
        let FieldKind::Enum(full) = &field.kind else {
            return;
        };
        // A closed (proto2) enum is stored as itself, not as an `EnumValue`.
        let open = self
            .ctx
            .schema
            .as_ref()
            .and_then(|s| s.enum_(full))
            .is_some_and(|e| !e.closed);
        if field.label != Label::Optional || field.oneof.is_some() || !open {
            return;
        }
        let r = range(m.receiver.span());
        self.commit(
            r.start,
            RULE_ENUM,
            vec![Edit::insert(r.end, ".map(|v| v.to_i32())", RULE_ENUM)],
        );
    }

    /// The enum field `m.kind` read as the `i32` prost gave: its number (`.to_i32()`).
    fn enum_read_as_i32(&mut self, e: &syn::Expr) {
        let syn::Expr::Field(f) = strip_parens(e) else {
            return;
        };
        let syn::Member::Named(name) = &f.member else {
            return;
        };
        let Some(field) = self.field_of(f, name) else {
            return;
        };
        if !matches!(field.kind, FieldKind::Enum(_))
            || field.label != Label::Implicit
            || field.oneof.is_some()
        {
            return;
        }
        let r = range(e.span());
        self.commit(
            r.start,
            RULE_ENUM,
            vec![Edit::insert(r.end, ".to_i32()", RULE_ENUM)],
        );
    }

    /// `fn kind(&self) -> i32 { self.0.kind }`: a function declared to return the `i32` that
    /// prost's enum field was returns the number of buffa's `EnumValue`.
    fn i32_tail(&mut self, sig: &syn::Signature, body: &syn::Block) {
        let syn::ReturnType::Type(_, t) = &sig.output else {
            return;
        };
        if !matches!(&**t, syn::Type::Path(p) if p.qself.is_none() && p.path.is_ident("i32")) {
            return;
        }
        if let Some(syn::Stmt::Expr(e, None)) = body.stmts.last() {
            self.enum_read_as_i32(e);
        }
    }

    /// `if let Some(x) = m.inner` / `match m.inner { Some(..) .. }` on a message field.
    fn option_scrutinee(&mut self, e: &syn::Expr) {
        let (target, borrowed) = match strip_parens(e) {
            syn::Expr::Reference(r) => (strip_parens(&r.expr), r.mutability.is_some() as u8 + 1),
            other => (other, 0),
        };
        let syn::Expr::Field(f) = target else {
            return;
        };
        let syn::Member::Named(name) = &f.member else {
            return;
        };
        // Matched against `Some(..)`, the field is one prost holds in an `Option` (a message
        // field, an `optional` scalar): where the receiver's type is unknown, fields of that name
        // in other shapes (a `string event` beside an `Any event`) are not candidates.
        let known = match self.types.ty_of_expr(&f.base, self.tr.current()) {
            Some(Ty::Message(_) | Ty::Boxed(_)) => true,
            Some(Ty::Struct(s)) => self.types.knows_struct(&s),
            _ => false,
        };
        let field = match known {
            true => self.field_of(f, name),
            false => self.schema().and_then(|s| {
                field_kind_by_name_where(s, &name.to_string(), |x| {
                    x.is_message_field() || (x.label == Label::Optional && x.oneof.is_none())
                })
            }),
        };
        let Some(field) = field else {
            return;
        };
        if !field.is_message_field() {
            return;
        }
        let r = range(e.span());
        let fr = range(f.span());
        let edits = match borrowed {
            0 => vec![Edit::insert(r.end, ".into_option()", RULE_READ)],
            1 => vec![
                Edit::delete(r.start..fr.start, RULE_READ),
                Edit::insert(r.end, ".as_option()", RULE_READ),
            ],
            _ => vec![
                Edit::delete(r.start..fr.start, RULE_READ),
                Edit::insert(r.end, ".as_option_mut()", RULE_READ),
            ],
        };
        self.commit(r.start, RULE_READ, edits);
    }
}

/// `Some(x)` (range `r`) of a singular message field: `x.into()`; `MessageField::some(x)` when
/// `x` is itself a conversion (`x.into().into()` would not infer: the field's type names the
/// conversion's target).
fn some_message_edits(r: std::ops::Range<usize>, inner: &syn::Expr) -> Vec<Edit> {
    let ir = range(inner.span());
    if ends_with_call(inner, &["into", "try_into", "collect", "parse"]) || is_default_call(inner) {
        vec![Edit::replace(
            r.start..ir.start,
            "::buffa::MessageField::some(",
            RULE_FIELD,
        )]
    } else if is_postfix_safe(inner) {
        vec![
            Edit::delete(r.start..ir.start, RULE_FIELD),
            Edit::replace(ir.end..r.end, ".into()", RULE_FIELD),
        ]
    } else {
        vec![
            Edit::replace(r.start..ir.start, "(", RULE_FIELD),
            Edit::replace(ir.end..r.end, ").into()", RULE_FIELD),
        ]
    }
}

/// Would prost have derived `Copy` for this message (every field copyable)?
fn prost_copy(schema: &Schema, full: &str, depth: usize) -> bool {
    use crate::schema::ScalarType;
    if matches!(
        full,
        "google.protobuf.Timestamp" | "google.protobuf.Duration"
    ) {
        return true;
    }
    if depth > 8 {
        return false;
    }
    let Some(m) = schema.message(full) else {
        return false;
    };
    m.oneofs.is_empty()
        && m.fields.iter().all(|f| {
            !matches!(f.label, Label::Repeated | Label::Map)
                && match &f.kind {
                    FieldKind::Scalar(s) => !matches!(s, ScalarType::String | ScalarType::Bytes),
                    FieldKind::Enum(_) => true,
                    FieldKind::Message(n) => prost_copy(schema, n, depth + 1),
                    FieldKind::Map { .. } => false,
                }
        })
}

fn is_path(e: &syn::Expr, name: &str) -> bool {
    matches!(e, syn::Expr::Path(p) if p.qself.is_none() && p.path.is_ident(name))
}

fn path_ends(e: &syn::Expr, tail: &[&str]) -> bool {
    match e {
        syn::Expr::Path(p) => {
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            segs.len() >= tail.len()
                && segs[segs.len() - tail.len()..]
                    .iter()
                    .zip(tail)
                    .all(|(a, b)| a == b)
        }
        _ => false,
    }
}

/// An integer literal pattern (`0`, `1 | 2`, `3..=5`).
fn pattern_is_int(p: &syn::Pat) -> bool {
    match p {
        syn::Pat::Lit(l) => matches!(l.lit, syn::Lit::Int(_)),
        syn::Pat::Range(_) => true,
        syn::Pat::Or(o) => o.cases.iter().any(pattern_is_int),
        _ => false,
    }
}

fn pattern_is_some(p: &syn::Pat) -> bool {
    match p {
        syn::Pat::TupleStruct(t) => t.path.is_ident("Some"),
        syn::Pat::Path(p) => p.path.is_ident("None"),
        syn::Pat::Or(o) => o.cases.iter().any(pattern_is_some),
        _ => false,
    }
}

/// The `()` argument of `<wrapper><()>` types (`Request<()>`, `tonic::Response<()>`).
struct UnitArgs<'w> {
    wrapper: &'w str,
    found: Vec<std::ops::Range<usize>>,
}

impl<'ast> Visit<'ast> for UnitArgs<'_> {
    fn visit_path_segment(&mut self, s: &'ast syn::PathSegment) {
        if s.ident == self.wrapper {
            if let syn::PathArguments::AngleBracketed(a) = &s.arguments {
                if let [syn::GenericArgument::Type(syn::Type::Tuple(t))] =
                    a.args.iter().collect::<Vec<_>>()[..]
                {
                    if t.elems.is_empty() {
                        self.found.push(range(t.span()));
                    }
                }
            }
        }
        syn::visit::visit_path_segment(self, s);
    }
}

/// The `()` of `Response::new(())` calls (any path ending `Response::new`).
struct UnitResponses(Vec<std::ops::Range<usize>>);

impl<'ast> Visit<'ast> for UnitResponses {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let (syn::Expr::Path(p), [arg]) = (&*c.func, &c.args.iter().collect::<Vec<_>>()[..]) {
            let n = p.path.segments.len();
            let is_new = n >= 2
                && p.path.segments[n - 2].ident == "Response"
                && p.path.segments[n - 1].ident == "new";
            if is_new && matches!(strip_parens(arg), syn::Expr::Tuple(t) if t.elems.is_empty()) {
                self.0.push(range(strip_parens(arg).span()));
            }
        }
        syn::visit::visit_expr_call(self, c);
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    crate::scoped_visit!();
    crate::typed_visit!();

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.walk_function(&f.attrs, &f.sig, &f.block);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.empty_handler(&f.sig, &f.block);
        self.walk_function(&f.attrs, &f.sig, &f.block);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        for p in &c.inputs {
            self.visit_pat(p);
        }
        let saved = self.types.enter_closure(c, self.tr.current());
        self.visit_expr(&c.body);
        self.types.leave_closure(saved);
    }

    fn visit_pat_tuple_struct(&mut self, p: &'ast syn::PatTupleStruct) {
        syn::visit::visit_pat_tuple_struct(self, p);
        self.types.tuple_struct_pat(p, self.tr.current());
        if let Some(syn::Pat::Ident(pi)) = p.elems.first() {
            let name = pi.ident.to_string();
            if self.by_value_arms && pi.by_ref.is_none() && self.types.is_boxed_local(&name) {
                self.owned_boxed.insert(name);
            } else {
                self.owned_boxed.remove(&name);
            }
        }
    }

    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        self.struct_literal(e);
        syn::visit::visit_expr_struct(self, e);
    }

    fn visit_pat_struct(&mut self, p: &'ast syn::PatStruct) {
        self.struct_pattern(p);
        syn::visit::visit_pat_struct(self, p);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.types.call_closures(c, self.tr.current());
        self.oneof_call(c);
        self.decode_call(c);
        self.enum_assoc_call(c);
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        self.encode_result(&t.expr);
        syn::visit::visit_expr_try(self, t);
    }

    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        self.comparison(b);
        syn::visit::visit_expr_binary(self, b);
    }

    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        self.assignment(a);
        syn::visit::visit_expr_assign(self, a);
    }

    fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
        // A field read auto-derefs its base (a boxed clone stays).
        self.receivers.insert(range(f.base.span()).start);
        syn::visit::visit_expr_field(self, f);
    }

    fn visit_expr_unary(&mut self, u: &'ast syn::ExprUnary) {
        // Dereferenced already (a second run).
        if matches!(u.op, syn::UnOp::Deref(_)) {
            self.receivers.insert(range(u.expr.span()).start);
        }
        syn::visit::visit_expr_unary(self, u);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        self.method_call(m);
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_let(&mut self, l: &'ast syn::ExprLet) {
        if pattern_is_some(&l.pat) {
            self.option_scrutinee(&l.expr);
        }
        let ty = self.types.ty_of_expr(&l.expr, self.tr.current());
        syn::visit::visit_expr_let(self, l);
        self.types.bind_pattern(&l.pat, ty);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        // `let Some(x) = m.inner else { .. };`
        if let Some(init) = &l.init {
            if init.diverge.is_some() && pattern_is_some(&l.pat) {
                self.option_scrutinee(&init.expr);
            }
        }
        let ty = self.types.init_ty(l, self.tr.current());
        syn::visit::visit_local(self, l);
        self.types.local(l, ty, self.tr.current());
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        if m.arms.iter().any(|a| pattern_is_some(&a.pat)) {
            self.option_scrutinee(&m.expr);
        }
        // `match m.kind { 0 => .., 1 => .. }` on an enum field: the patterns match its number.
        if m.arms.iter().any(|a| pattern_is_int(&a.pat)) {
            self.enum_read_as_i32(&m.expr);
        }
        for a in &m.attrs {
            self.visit_attribute(a);
        }
        let ty = self.types.ty_of_expr(&m.expr, self.tr.current());
        self.visit_expr(&m.expr);
        let by_value = self.types.is_owned_param(strip_parens(&m.expr));
        for arm in &m.arms {
            for a in &arm.attrs {
                self.visit_attribute(a);
            }
            let saved = self.types.save();
            self.by_value_arms = by_value;
            self.visit_pat(&arm.pat);
            self.by_value_arms = false;
            self.types.bind_pattern(&arm.pat, ty.clone());
            if let Some((_, g)) = &arm.guard {
                self.visit_expr(g);
            }
            self.visit_expr(&arm.body);
            self.types.restore(saved);
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Expressions inside `vec![..]`, `assert_eq!(..)`, `format!(..)`: rewritten like any
        // other code. `matches!(e, pattern)` and its kin: only the expression (a pattern is not
        // an expression, whatever it parses as).
        let name = m
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if name.contains("matches") {
            let first: proc_macro2::TokenStream = m
                .tokens
                .clone()
                .into_iter()
                .take_while(
                    |t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ','),
                )
                .collect();
            if let Ok(e) = syn::parse2::<syn::Expr>(first) {
                self.visit_expr(&e);
            }
            return;
        }
        match crate::resolve::macro_exprs(m) {
            Some(es) => {
                for e in es {
                    self.visit_expr(&e);
                }
            }
            None => {
                // A body of statements (`async_stream::stream! { let n = Note { .. }; yield n; }`,
                // `try_stream!`): visited like a block. Bodies that are neither (`select!` arms,
                // `macro_rules!` rules) do not parse and stay as written.
                use syn::parse::Parser;
                if let Ok(stmts) = syn::Block::parse_within.parse2(m.tokens.clone()) {
                    for st in &stmts {
                        self.visit_stmt(st);
                    }
                }
            }
        }
    }
}

/// The buffa type of a `google.protobuf` wrapper message (`Int64Value`), which prost spells as
/// the `Option` of its primitive (`Option<i64>`).
fn wrapper_type(full: &str) -> Option<&str> {
    let name = full.strip_prefix("google.protobuf.")?;
    matches!(
        name,
        "BoolValue"
            | "DoubleValue"
            | "FloatValue"
            | "Int32Value"
            | "Int64Value"
            | "UInt32Value"
            | "UInt64Value"
            | "StringValue"
            | "BytesValue"
    )
    .then_some(name)
}

/// A wrapper field's prost value (an `Option` of the primitive) as buffa's `MessageField` of
/// the wrapper: `Some(e)` names the wrapper with `e` as its `value` (so `e`'s type is the
/// primitive, as it was: `Some(n.into())` still converts to `i64`), another `Option` maps
/// through the wrapper's `From` of its primitive, `None` is the default.
fn wrapper_edits(
    value: &syn::Expr,
    v: &syn::Expr,
    wrapper: &str,
    shorthand: Option<&str>,
) -> Vec<Edit> {
    let r = range(value.span());
    let path = format!("::buffa_types::google::protobuf::{wrapper}");
    if let Some(name) = shorthand {
        return vec![Edit::insert(
            r.end,
            format!(": {name}.map({path}::from).into()"),
            RULE_FIELD,
        )];
    }
    match v {
        syn::Expr::Call(c) if is_path(&c.func, "Some") && c.args.len() == 1 => {
            let ir = range(c.args[0].span());
            vec![
                Edit::replace(r.start..ir.start, format!("{path} {{ value: "), RULE_FIELD),
                Edit::replace(
                    ir.end..r.end,
                    ", ..::core::default::Default::default() }.into()",
                    RULE_FIELD,
                ),
            ]
        }
        syn::Expr::Path(p) if p.path.is_ident("None") => {
            vec![Edit::replace(r, "Default::default()", RULE_FIELD)]
        }
        _ if is_postfix_safe(value) => vec![Edit::insert(
            r.end,
            format!(".map({path}::from).into()"),
            RULE_FIELD,
        )],
        _ => vec![
            Edit::insert(r.start, "(", RULE_FIELD),
            Edit::insert(r.end, format!(").map({path}::from).into()"), RULE_FIELD),
        ],
    }
}

/// See [`Walker::boxed_local_use`].
enum BoxedUse {
    DerefOfBorrowed(String),
    Owned,
    Cloned,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::CrateCtx;
    use crate::engine::{process, FileMeta, Outcome};
    use crate::schema::Schema;
    use crate::steps;

    const PROTO: &str = r#"
        syntax = "proto3";
        package shop.v1;
        import "google/protobuf/timestamp.proto";
        import "google/protobuf/wrappers.proto";
        import "google/protobuf/empty.proto";
        enum Kind { KIND_UNSPECIFIED = 0; KIND_BOOK = 1; KIND_TOOL = 2; }
        message Price { int64 cents = 1; }
        message Item {
          string name = 1;
          Kind kind = 2;
          Price price = 3;
          map<string, string> labels = 4;
          optional string note = 5;
          repeated Kind tags = 6;
          google.protobuf.Timestamp created_at = 7;
          oneof delivery { Price shipping = 8; string url = 9; }
          optional Kind level = 10;
        }
        message Stock { google.protobuf.Int64Value count = 1; google.protobuf.StringValue label = 2; }
        message Flag { bool price = 1; }
        service Shop { rpc Get(Item) returns (Item); rpc Version(google.protobuf.Empty) returns (Item); rpc Clear(Item) returns (google.protobuf.Empty); }
    "#;

    fn ctx() -> Arc<CrateCtx> {
        let schema = Schema::from_sources(&[("shop/v1/shop.proto", PROTO)], 1).unwrap();
        Arc::new(CrateCtx {
            schema: Some(Arc::new(schema)),
            modules: vec![(vec!["crate".into(), "pb".into()], "shop.v1".into())],
            ..Default::default()
        })
    }

    fn run(before: &str) -> String {
        run_items(before).0
    }

    /// prost spells a `google.protobuf` wrapper field as the `Option` of its primitive; buffa
    /// as a `MessageField` of the wrapper: `Some(e)` names the wrapper with `e` as its value (so
    /// a conversion inside keeps its target type), another `Option` maps through the wrapper.
    #[test]
    fn wrapper_fields_name_the_wrapper() {
        check(
            "use crate::pb::Stock;\nfn f(n: i32, label: Option<String>, c: Option<i64>) -> Vec<Stock> {\n    vec![\n        Stock { count: Some(n.into()), label: None },\n        Stock { count: c, label },\n    ]\n}\n",
            "use crate::pb::Stock;\nfn f(n: i32, label: Option<String>, c: Option<i64>) -> Vec<Stock> {\n    vec![\n        Stock { count: ::buffa_types::google::protobuf::Int64Value { value: n.into(), ..::core::default::Default::default() }.into(), label: Default::default(), ..Default::default() },\n        Stock { count: c.map(::buffa_types::google::protobuf::Int64Value::from).into(), label: label.map(::buffa_types::google::protobuf::StringValue::from).into(), ..Default::default() },\n    ]\n}\n",
        );
    }

    fn run_items(before: &str) -> (String, Vec<crate::engine::ManualItem>) {
        let all = steps::all().unwrap();
        let step = steps::get(&all, 1);
        let meta = FileMeta {
            module_path: Some(vec!["crate".into()]),
            crate_ctx: Some(ctx()),
            ..Default::default()
        };
        match process(step, before, &meta) {
            Outcome::Rewritten {
                new_text, items, ..
            } => (new_text.unwrap_or_else(|| before.to_string()), items),
            o => panic!("{o:?}"),
        }
    }

    #[track_caller]
    fn check(before: &str, after: &str) {
        let got = run(before);
        assert_eq!(got, after, "\n--- got ---\n{got}");
        assert_eq!(run(&got), got, "a second run changed the text");
    }

    #[test]
    fn literals_get_defaults_and_buffa_field_shapes() {
        check(
            "use crate::pb::{Item, Kind, Price};\nfn f(p: Price) -> Item {\n    Item {\n        name: \"x\".into(), // the name\n        kind: Kind::Book as i32,\n        price: Some(p),\n        labels: std::collections::HashMap::new(),\n        tags: vec![Kind::Tool as i32],\n        created_at: None,\n    }\n}\n",
            "use crate::pb::{Item, Kind, Price};\nfn f(p: Price) -> Item {\n    Item {\n        name: \"x\".into(), // the name\n        kind: Kind::Book.into(),\n        price: p.into(),\n        labels: Default::default(),\n        tags: vec![Kind::Tool.into()],\n        created_at: Default::default(),\n        ..Default::default()\n    }\n}\n",
        );
    }

    #[test]
    fn patterns_oneofs_comparisons_and_reads() {
        check(
            "use crate::pb::{item::Delivery, Item, Kind, Price};\nfn f(i: Item, p: Price) -> bool {\n    let Item { name, kind } = i.clone();\n    let d = Delivery::Shipping(p);\n    if let Some(price) = &i.price { let _ = price; }\n    i.kind == Kind::Book as i32 && i.price.is_some()\n}\n",
            "use crate::pb::{item::Delivery, Item, Kind, Price};\nfn f(i: Item, p: Price) -> bool {\n    let Item { name, kind, .. } = i.clone();\n    let d = Delivery::Shipping(Box::new(p));\n    if let Some(price) = i.price.as_option() { let _ = price; }\n    i.kind == Kind::Book && i.price.is_set()\n}\n",
        );
    }

    #[test]
    fn variables_used_twice_are_cloned_and_maps_collected() {
        check(
            "use crate::pb::{Item, Price};\nfn f(p: Option<Price>, l: std::collections::HashMap<String, String>) -> (Item, Item) {\n    (Item { price: p, labels: l, ..Default::default() }, Item { price: p, ..Default::default() })\n}\n",
            "use crate::pb::{Item, Price};\nfn f(p: Option<Price>, l: std::collections::HashMap<String, String>) -> (Item, Item) {\n    (Item { price: p.clone().into(), labels: l.into_iter().collect(), ..Default::default() }, Item { price: p.clone().into(), ..Default::default() })\n}\n",
        );
    }

    #[test]
    fn handlers_of_empty_methods_take_buffas_empty() {
        let before = "use tonic::{Request, Response, Status};\nstruct S;\n#[tonic::async_trait]\nimpl crate::pb::shop_server::Shop for S {\n    async fn version(&self, _r: Request<()>) -> Result<Response<crate::pb::Item>, Status> {\n        Err(Status::internal(\"x\"))\n    }\n    async fn clear(&self, _r: Request<crate::pb::Item>) -> Result<tonic::Response<()>, Status> {\n        Ok(Response::new(()))\n    }\n}\n// Another trait: left.\nimpl Other for S {\n    fn clear(&self, _r: Request<()>) -> Response<()> {\n        Response::new(())\n    }\n}\n";
        let after = "use tonic::{Request, Response, Status};\nstruct S;\n#[tonic::async_trait]\nimpl crate::pb::shop_server::Shop for S {\n    async fn version(&self, _r: Request<buffa_types::google::protobuf::Empty>) -> Result<Response<crate::pb::Item>, Status> {\n        Err(Status::internal(\"x\"))\n    }\n    async fn clear(&self, _r: Request<crate::pb::Item>) -> Result<tonic::Response<buffa_types::google::protobuf::Empty>, Status> {\n        Ok(Response::new(buffa_types::google::protobuf::Empty::default()))\n    }\n}\n// Another trait: left.\nimpl Other for S {\n    fn clear(&self, _r: Request<()>) -> Response<()> {\n        Response::new(())\n    }\n}\n";
        check(before, after);
    }

    #[test]
    fn unit_requests_of_empty_methods_and_any_values() {
        // tonic's `()` for google.protobuf.Empty, whatever the client's type; a method taking
        // another message keeps its argument. buffa's `Any` holds `Bytes`.
        check(
            "use prost_types::Any;\nasync fn f(c: &mut Conn, v: Vec<u8>) {\n    let _ = c.version(()).await;\n    let _ = c.version(tonic::Request::new(())).await;\n    let _ = c.get(());\n    let a = Any { type_url: \"t\".into(), value: v };\n    let value = vec![1u8];\n    let b = Any { type_url: \"t\".into(), value };\n}\n",
            "use buffa_types::google::protobuf::Any;\nasync fn f(c: &mut Conn, v: Vec<u8>) {\n    let _ = c.version(buffa_types::google::protobuf::Empty::default()).await;\n    let _ = c.version(tonic::Request::new(buffa_types::google::protobuf::Empty::default())).await;\n    let _ = c.get(());\n    let a = Any { type_url: \"t\".into(), value: v.into(), ..Default::default() };\n    let value = vec![1u8];\n    let b = Any { type_url: \"t\".into(), value: value.into(), ..Default::default() };\n}\n",
        );
    }

    #[test]
    fn some_patterns_narrow_a_field_name_to_its_option_shapes() {
        // `price` is a message field of `Item` and a `bool` of `Flag`: matched against `Some`,
        // a read of it on a value of unknown type can only be the message field.
        check(
            "fn f(x: Unknown) -> i64 {\n    if let Some(p) = x.price { p.cents } else { 0 }\n}\n",
            "fn f(x: Unknown) -> i64 {\n    if let Some(p) = x.price.into_option() { p.cents } else { 0 }\n}\n",
        );
    }

    #[test]
    fn a_module_of_several_packages_names_each_packages_messages() {
        // `pub mod v1 { include_proto!("a.v1"); include_proto!("b.v1"); }`
        let a = "syntax = \"proto3\";\npackage a.v1;\nmessage Alpha { string x = 1; }\n";
        let b = "syntax = \"proto3\";\npackage b.v1;\nmessage Beta { string y = 1; }\n";
        let schema = Schema::from_sources(&[("a/v1/a.proto", a), ("b/v1/b.proto", b)], 2).unwrap();
        let module = vec!["crate".to_string(), "v1".to_string()];
        let ctx = CrateCtx {
            schema: Some(Arc::new(schema)),
            modules: vec![(module.clone(), "a.v1".into()), (module, "b.v1".into())],
            ..Default::default()
        };
        let path = |n: &str| vec!["crate".to_string(), "v1".to_string(), n.to_string()];
        for (name, package) in [("Alpha", "a.v1"), ("Beta", "b.v1")] {
            match ctx.named(&path(name)) {
                Some(super::Named::Message(m)) => assert_eq!(m.package, package),
                _ => panic!("{name} is a message of {package}"),
            }
        }
    }

    #[test]
    fn encode_used_as_a_result_is_try_encode() {
        // A generic message (its type unknown to the step) and a concrete one; `?` and
        // `.unwrap()` read prost's `Result`.
        check(
            "use crate::pb::Item;\nuse prost::Message;\nfn f<M: Message>(m: &M, i: &Item) -> Result<Vec<u8>, prost::EncodeError> {\n    let mut buf = Vec::new();\n    m.encode(&mut buf).unwrap();\n    i.encode(&mut buf)?;\n    (i).encode_length_delimited(&mut buf).expect(\"room\");\n    Ok(buf)\n}\n",
            "use crate::pb::Item;\nuse buffa::Message;\nfn f<M: Message>(m: &M, i: &Item) -> Result<Vec<u8>, prost::EncodeError> {\n    let mut buf = Vec::new();\n    m.try_encode(&mut buf).unwrap();\n    i.try_encode(&mut buf)?;\n    (i).try_encode_length_delimited(&mut buf).expect(\"room\");\n    Ok(buf)\n}\n",
        );
        // Without prost's trait in the file, another crate's `encode` is left alone.
        let other = "fn f(e: &mut Encoder, buf: &mut Vec<u8>) {\n    e.encode(buf).unwrap();\n}\n";
        check(other, other);
    }

    /// Before: `Kind::from_i32(n)` (lnd_grpc_rust's examples), `try_from`, `is_valid` and
    /// `from_str_name` on a schema enum did not compile on buffa's enum (E0599). After: called on
    /// buffa's `Enumeration` trait; another type's `try_from` is left alone.
    #[test]
    fn enum_associated_functions_go_to_buffas_enumeration() {
        check(
            "use crate::pb::Kind;\nfn f(n: i32, s: &str) {\n    let a = crate::pb::Kind::from_i32(n);\n    let b = Kind::try_from(n).unwrap_or(Kind::Book);\n    let c = Kind::is_valid(n);\n    let d = Kind::from_str_name(s);\n    let e = u8::try_from(n);\n}\n",
            "use crate::pb::Kind;\nfn f(n: i32, s: &str) {\n    let a = <crate::pb::Kind as ::buffa::Enumeration>::from_i32(n);\n    let b = <Kind as ::buffa::Enumeration>::from_i32(n).ok_or(()).unwrap_or(Kind::Book);\n    let c = <Kind as ::buffa::Enumeration>::from_i32(n).is_some();\n    let d = <Kind as ::buffa::Enumeration>::from_proto_name(s);\n    let e = u8::try_from(n);\n}\n",
        );
    }

    /// Before: an optional enum field of a known message consumed as prost's `Option<i32>`
    /// (cln-grpc: `c.level.map(|v| v.try_into().unwrap())`) met buffa's
    /// `Option<EnumValue<_>>` (E0277). After: the numbers first; a borrow stays.
    #[test]
    fn optional_enum_fields_read_as_numbers() {
        check(
            "use crate::pb::Item;\nfn f(c: Item) -> (Option<u8>, i32, bool) {\n    let b = c.level.as_ref().is_some();\n    (c.level.map(|v| v.try_into().unwrap()), c.level.unwrap_or_default(), b)\n}\n",
            "use crate::pb::Item;\nfn f(c: Item) -> (Option<u8>, i32, bool) {\n    let b = c.level.as_ref().is_some();\n    (c.level.map(|v| v.to_i32()).map(|v| v.try_into().unwrap()), c.level.map(|v| v.to_i32()).unwrap_or_default(), b)\n}\n",
        );
        // An implicit enum field converted by `try_into()`: its number.
        check(
            "use crate::pb::Item;\nfn h(c: Item) -> Other {\n    c.kind.try_into().unwrap()\n}\n",
            "use crate::pb::Item;\nfn h(c: Item) -> Other {\n    c.kind.to_i32().try_into().unwrap()\n}\n",
        );
        // Another crate's struct with a field of that name: left alone.
        let other = "fn g(c: responses::Item) -> Option<i32> {\n    c.level.map(|v| v as i32)\n}\n";
        check(other, other);
    }

    /// Before: `x as i32` for an enum field became `x.into()` whatever `x` was (cln-grpc's
    /// `item_type: c.item_type as i32`, another crate's enum: E0277). After: only a schema
    /// enum's variant loses its cast; anything else gives its number, `(x as i32).into()`.
    #[test]
    fn casts_into_enum_fields_keep_their_number_unless_a_schema_variant() {
        check(
            "use crate::pb::{Item, Kind};\nfn f(c: Other) -> Item {\n    Item { kind: c.kind as i32, ..Default::default() }\n}\nfn g() -> Item {\n    Item { kind: Kind::Book as i32, ..Default::default() }\n}\n",
            "use crate::pb::{Item, Kind};\nfn f(c: Other) -> Item {\n    Item { kind: (c.kind as i32).into(), ..Default::default() }\n}\nfn g() -> Item {\n    Item { kind: Kind::Book.into(), ..Default::default() }\n}\n",
        );
    }

    /// Before: a `Self { .. }` literal in an impl for a message (cln-grpc's thousands of
    /// `impl From<responses::X> for pb::X`) was not migrated (E0063; an optional enum field,
    /// E0308). After: as the message's literal.
    #[test]
    fn self_literals_in_impls_for_messages() {
        check(
            "use crate::pb::{Item, Price};\nimpl From<i64> for Price {\n    fn from(c: i64) -> Self {\n        Self { cents: c }\n    }\n}\nimpl From<Option<Mine>> for crate::pb::Item {\n    fn from(l: Option<Mine>) -> Self {\n        Self { level: l.map(|v| v as i32), name: String::new() }\n    }\n}\nstruct Local { a: i64 }\nimpl Local {\n    fn new() -> Self {\n        Self { a: 1 }\n    }\n}\n",
            "use crate::pb::{Item, Price};\nimpl From<i64> for Price {\n    fn from(c: i64) -> Self {\n        Self { cents: c, ..Default::default() }\n    }\n}\nimpl From<Option<Mine>> for crate::pb::Item {\n    fn from(l: Option<Mine>) -> Self {\n        Self { level: l.map(|v| (v as i32).into()), name: String::new(), ..Default::default() }\n    }\n}\nstruct Local { a: i64 }\nimpl Local {\n    fn new() -> Self {\n        Self { a: 1 }\n    }\n}\n",
        );
    }

    /// Before: an optional enum field given `x.map(|v| v as i32)` (cln-grpc: prost's
    /// `Option<i32>`) stayed a number (E0308 against `Option<EnumValue<_>>`). After: the cast's
    /// number into buffa's `EnumValue`, as for a repeated field.
    #[test]
    fn optional_enum_fields_from_mapped_casts() {
        check(
            "use crate::pb::Item;\nfn f(l: Option<Mine>) -> Item {\n    Item { level: l.map(|v| v as i32), ..Default::default() }\n}\n",
            "use crate::pb::Item;\nfn f(l: Option<Mine>) -> Item {\n    Item { level: l.map(|v| (v as i32).into()), ..Default::default() }\n}\n",
        );
    }

    /// Before: a map field given `todo!()` (lnd_grpc_rust's examples) became
    /// `todo!().into_iter().collect()` (E0599, `!` is not an iterator), a message field
    /// `todo!().into()`. After: a diverging macro fits any field as written.
    #[test]
    fn diverging_macros_are_left_as_field_values() {
        check(
            "use crate::pb::Item;\nfn f() -> Item {\n    Item { labels: todo!(), price: unimplemented!(\"later\"), name: String::new() }\n}\n",
            "use crate::pb::Item;\nfn f() -> Item {\n    Item { labels: todo!(), price: unimplemented!(\"later\"), name: String::new(), ..Default::default() }\n}\n",
        );
    }

    #[test]
    fn decode_and_well_known_types() {
        check(
            "use crate::pb::Item;\nuse prost::Message;\nuse prost_types::Timestamp;\nfn f(b: Vec<u8>) -> Item {\n    let t = Timestamp { seconds: 1, nanos: 0 };\n    let _ = prost_types::FileDescriptorSet::decode(&b[..]);\n    Item::decode(b.as_slice()).unwrap()\n}\n",
            "use crate::pb::Item;\nuse buffa::Message;\nuse buffa_types::google::protobuf::Timestamp;\nfn f(b: Vec<u8>) -> Item {\n    let t = Timestamp { seconds: 1, nanos: 0, ..Default::default() };\n    let _ = <prost_types::FileDescriptorSet as prost::Message>::decode(&b[..]);\n    Item::decode_from_slice(b.as_slice()).unwrap()\n}\n",
        );
    }

    /// Before: a message literal in a statement-bodied macro (`async_stream::stream!`) was
    /// neither migrated nor listed (E0063 missing `__buffa_unknown_fields`, E0308 `Option` for
    /// a `MessageField`). After: rewritten like the same code in a block.
    #[test]
    fn literals_in_statement_macros() {
        check(
            "use crate::pb::{Item, Price};\nfn f() {\n    let s = async_stream::stream! {\n        let mut n = 0;\n        loop {\n            n += 1;\n            let item = Item {\n                price: Some(Price { cents: n }),\n                name: format!(\"{n}\"),\n            };\n            yield item;\n        }\n    };\n}\n",
            "use crate::pb::{Item, Price};\nfn f() {\n    let s = async_stream::stream! {\n        let mut n = 0;\n        loop {\n            n += 1;\n            let item = Item {\n                price: Price { cents: n, ..Default::default() }.into(),\n                name: format!(\"{n}\"),\n                ..Default::default()\n            };\n            yield item;\n        }\n    };\n}\n",
        );
    }

    /// Before: `prev_kv`-like fields (a message here, a `bool` in another message) kept
    /// `.as_ref()` / `.as_mut()` on the `MessageField` (E0599), and a field of the crate's own
    /// struct that a message also has got `.is_unset()` on its `Option` (E0599). After: the
    /// receiver's type decides (`self.0` of a wrapper, a struct's `Option` field unwrapped).
    #[test]
    fn typed_receivers_decide_message_field_methods() {
        check(
            "use crate::pb::{Item, Price};\nuse prost_types::Timestamp;\nstruct Wrap(Item);\nstruct Own { created_at: Option<Timestamp> }\nstruct Builder { own: Option<Own> }\nimpl Wrap {\n    fn price(&self) -> Option<&Price> { self.0.price.as_ref() }\n    fn bump(&mut self) { if let Some(p) = self.0.price.as_mut() { p.cents += 1; } }\n}\nimpl Builder {\n    fn unset(&mut self) -> bool { let o = self.own.as_mut().unwrap(); o.created_at.is_none() }\n}\n",
            "use crate::pb::{Item, Price};\nuse buffa_types::google::protobuf::Timestamp;\nstruct Wrap(Item);\nstruct Own { created_at: Option<Timestamp> }\nstruct Builder { own: Option<Own> }\nimpl Wrap {\n    fn price(&self) -> Option<&Price> { self.0.price.as_option() }\n    fn bump(&mut self) { if let Some(p) = self.0.price.as_option_mut() { p.cents += 1; } }\n}\nimpl Builder {\n    fn unset(&mut self) -> bool { let o = self.own.as_mut().unwrap(); o.created_at.is_none() }\n}\n",
        );
    }

    /// Before: `price: Some(p.into())` became `p.into().into()` (E0282, type annotations
    /// needed). After: `MessageField::some` names the target of the inner conversion.
    #[test]
    fn some_of_a_conversion_names_the_message_field() {
        check(
            "use crate::pb::Item;\nfn f(p: (i64,)) -> Item {\n    Item { price: Some(p.into()), created_at: Some(Default::default()), ..Default::default() }\n}\n",
            "use crate::pb::Item;\nfn f(p: (i64,)) -> Item {\n    Item { price: ::buffa::MessageField::some(p.into()), created_at: ::buffa::MessageField::some(Default::default()), ..Default::default() }\n}\n",
        );
    }

    /// Before: a oneof's message variant bound by a pattern is a `Box` in buffa, and
    /// `p.clone()` passed on as the message was a `Box<Price>` (E0308), `p.clone().into()` a
    /// conversion of the box (E0277). After: the clone is dereferenced (by value or by
    /// reference alike); a method call on it auto-derefs and stays.
    #[test]
    fn boxed_oneof_bindings_are_dereferenced_where_moved() {
        check(
            "use crate::pb::{item::Delivery, Price};\nfn f(d: &Delivery) -> (Price, Price, i64) {\n    match d {\n        Delivery::Shipping(p) => (p.clone(), p.clone().into(), p.clone().cents),\n        _ => (Price::default(), Price::default(), 0),\n    }\n}\n",
            "use crate::pb::{item::Delivery, Price};\nfn f(d: &Delivery) -> (Price, Price, i64) {\n    match d {\n        Delivery::Shipping(p) => (*p.clone(), (*p.clone()).into(), p.clone().cents),\n        _ => (Price::default(), Price::default(), 0),\n    }\n}\n",
        );
    }

    /// Before: `match owned { Delivery::Shipping(p) => Mine::from(..) p.into() }` of a
    /// parameter taken by value converted the `Box` (E0277, no `From<Box<Price>>`). After:
    /// the message out of its box; a match on a reference stays (its binding is `&Box`).
    #[test]
    fn boxed_oneof_bindings_by_value_convert_the_message() {
        check(
            "use crate::pb::{item::Delivery, Price};\nstruct Mine(i64);\nimpl From<Price> for Mine { fn from(p: Price) -> Self { Mine(p.cents) } }\nfn f(d: Delivery, e: &Delivery) -> Option<Mine> {\n    let _ = match e { Delivery::Shipping(q) => Some(q.cents), _ => None };\n    match d {\n        Delivery::Shipping(p) => Some(p.into()),\n        _ => None,\n    }\n}\n",
            "use crate::pb::{item::Delivery, Price};\nstruct Mine(i64);\nimpl From<Price> for Mine { fn from(p: Price) -> Self { Mine(p.cents) } }\nfn f(d: Delivery, e: &Delivery) -> Option<Mine> {\n    let _ = match e { Delivery::Shipping(q) => Some(q.cents), _ => None };\n    match d {\n        Delivery::Shipping(p) => Some((*p).into()),\n        _ => None,\n    }\n}\n",
        );
    }

    /// Before: the same match on the oneof field of a message parameter taken by value
    /// (cln-grpc: `match a.value { Some(Value::Amount(a)) => Amount(a.into()), .. }`) converted
    /// the `Box` (E0277). After: the message out of its box, as for a match on the oneof itself.
    #[test]
    fn boxed_oneof_bindings_from_an_owned_messages_field_convert_the_message() {
        check(
            "use crate::pb::{item::Delivery, Item, Price};\nstruct Mine(i64);\nimpl From<Price> for Mine { fn from(p: Price) -> Self { Mine(p.cents) } }\nfn f(i: Item) -> Option<Mine> {\n    match i.delivery {\n        Some(Delivery::Shipping(p)) => Some(p.into()),\n        _ => None,\n    }\n}\n",
            "use crate::pb::{item::Delivery, Item, Price};\nstruct Mine(i64);\nimpl From<Price> for Mine { fn from(p: Price) -> Self { Mine(p.cents) } }\nfn f(i: Item) -> Option<Mine> {\n    match i.delivery {\n        Some(Delivery::Shipping(p)) => Some((*p).into()),\n        _ => None,\n    }\n}\n",
        );
    }

    /// Before: prost's `as_str_name()` on an enum stayed (E0599: buffa's enums have none).
    /// After: buffa's `Enumeration::proto_name` where the receiver is known to be a schema enum
    /// (a variant, the getter of an enum field of a known message); another receiver is listed.
    #[test]
    fn enum_names_through_buffas_enumeration() {
        let before = "use crate::pb::{Item, Kind};\nfn f(i: &Item, k: Other) -> Vec<&'static str> {\n    vec![Kind::Book.as_str_name(), i.kind().as_str_name(), k.as_str_name()]\n}\n";
        let after = "use crate::pb::{Item, Kind};\nfn f(i: &Item, k: Other) -> Vec<&'static str> {\n    vec![::buffa::Enumeration::proto_name(&Kind::Book), ::buffa::Enumeration::proto_name(&i.kind()), k.as_str_name()]\n}\n";
        check(before, after);
        let (_, items) = run_items(before);
        assert!(
            items
                .iter()
                .any(|i| i.rule == "step01/enum-fn" && i.message.contains("`k.as_str_name()`")),
            "{items:?}"
        );
    }

    /// Before: a oneof's message variant built from another variant's binding (chirpstack's
    /// `Parameters::Fsk(*info)` in an arm of `ModulationInfo::FskModulationInfo(info)`) got
    /// `Box::new(*info)`: a box of the box (E0308). After: the box itself, cloned out of the
    /// borrow; a binding by value or a clone is a box already and stays as written.
    #[test]
    fn oneof_variants_from_boxed_bindings_take_the_box() {
        check(
            "use crate::pb::item::Delivery;
fn f(d: &Delivery, e: Delivery) -> Vec<Delivery> {
    let mut v = Vec::new();
    if let Delivery::Shipping(p) = d { v.push(Delivery::Shipping(*p)); v.push(Delivery::Shipping(p.clone())); }
    match e { Delivery::Shipping(q) => v.push(Delivery::Shipping(q)), _ => {} }
    v
}
",
            "use crate::pb::item::Delivery;
fn f(d: &Delivery, e: Delivery) -> Vec<Delivery> {
    let mut v = Vec::new();
    if let Delivery::Shipping(p) = d { v.push(Delivery::Shipping(p.clone())); v.push(Delivery::Shipping(p.clone())); }
    match e { Delivery::Shipping(q) => v.push(Delivery::Shipping(q)), _ => {} }
    v
}
",
        );
    }

    /// Before: an enum field read where prost's `i32` was (a function declared `-> i32`, a
    /// `match` on integer patterns) stayed an `EnumValue` (E0308; the compiler loop's repair
    /// then wrote a call in a pattern, E0164, or in a `const fn`, E0015). After: its number,
    /// `.to_i32()`, and the `const` goes (listed).
    #[test]
    fn enum_fields_read_as_i32_give_their_number() {
        check(
            "use crate::pb::Item;\nstruct W(Item);\nimpl W {\n    const fn kind(&self) -> i32 { self.0.kind }\n    fn word(&self) -> &str { match self.0.kind { 0 => \"none\", 1 | 2 => \"some\", _ => \"other\" } }\n}\n",
            "use crate::pb::Item;\nstruct W(Item);\nimpl W {\n    fn kind(&self) -> i32 { self.0.kind.to_i32() }\n    fn word(&self) -> &str { match self.0.kind.to_i32() { 0 => \"none\", 1 | 2 => \"some\", _ => \"other\" } }\n}\n",
        );
    }

    /// Before: `item.tags = kinds.iter().map(|k| *k as i32).collect()` collected `i32`s into
    /// buffa's `Vec<EnumValue<Kind>>` (E0277). After: the mapped casts convert.
    #[test]
    fn mapped_enum_casts_into_a_repeated_enum_field() {
        check(
            "use crate::pb::{Item, Kind};\nfn f(item: &mut Item, kinds: &[Kind]) {\n    item.tags = kinds.iter().map(|k| *k as i32).collect();\n}\n",
            "use crate::pb::{Item, Kind};\nfn f(item: &mut Item, kinds: &[Kind]) {\n    item.tags = kinds.iter().map(|k| (*k as i32).into()).collect();\n}\n",
        );
    }

    #[test]
    fn ignore_comment_keeps_a_statement() {
        let before = "use crate::pb::Item;\nfn f() -> (Item, Item) {\n    // connect-migrate: ignore\n    let a = Item { name: String::new() };\n    let b = Item { name: String::new() };\n    (a, b)\n}\n";
        let got = run(before);
        assert!(
            got.contains("let a = Item { name: String::new() };"),
            "{got}"
        );
        assert!(
            got.contains("let b = Item { name: String::new(), ..Default::default() };"),
            "{got}"
        );
    }

    #[test]
    fn hand_written_prost_messages_keep_prost() {
        let before = "use prost::Message;\n#[derive(Clone, PartialEq, Message)]\npub struct Cell {\n    #[prost(bytes = \"vec\", tag = \"1\")]\n    pub key: Vec<u8>,\n}\n";
        assert_eq!(run(before), before);
    }

    #[test]
    fn code_without_messages_is_untouched() {
        let own = "struct Item { name: String }\nfn f() -> Item { Item { name: String::new() } }\nfn g(e: std::io::Error) -> bool { e.kind() == std::io::ErrorKind::NotFound }\n";
        assert_eq!(run(own), own);
    }
}
