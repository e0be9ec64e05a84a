//! Step 1, protobuf descriptor types: `prost_types::FileDescriptorSet` and its kin move to
//! buffa-descriptor (`buffa_descriptor::generated::descriptor::*`) when every use of them in the
//! file is understood; otherwise the file keeps them on prost and each site is listed.
//!
//! buffa-descriptor's types have the same field names and, for proto2's optional scalars, the
//! same `Option<T>` fields, but no prost-style getters: a getter called on a value whose
//! descriptor type is known (a local decoded or annotated as one, a parameter of a private
//! function, a loop variable or closure parameter over one of its repeated fields) becomes a
//! field read. The renames themselves are the `descriptor-*` rules of `rules/step01.toml`
//! (guarded by [`migrates`]).
//!
//! Before:
//! ```text
//! let fds = prost_types::FileDescriptorSet::decode(bytes).unwrap();
//! let names: Vec<_> = fds.file.iter().map(|f| f.package().to_string()).collect();
//! ```
//! After:
//! ```text
//! let fds = buffa_descriptor::generated::descriptor::FileDescriptorSet::decode_from_slice(&bytes).unwrap();
//! let names: Vec<_> = fds.file.iter().map(|f| f.package.as_deref().unwrap_or_default().to_string()).collect();
//! ```
//!
//! What keeps a file on prost (reported with the reason): a descriptor type in an item's
//! signature other than a private function's (values would cross into code not looked at), a
//! descriptor value passed to a function that is not a private function of the file, a getter
//! whose receiver's type is unknown, a field whose type differs between the two crates (enums,
//! options and other message fields), a struct literal without `..`, prost-only methods
//! (`encode`, `encoded_len`, `decode_length_delimited`), or another descriptor type.

use std::collections::{HashMap, HashSet};

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::edit::Edit;
use crate::engine::{FileCtx, Pass, PassOutput};
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};

const RULE: &str = "step01/descriptor-getter";
const RULE_DECODE: &str = "step01/decode";
const RULE_KEPT: &str = "step01/descriptor-kept";

/// How a field of a descriptor message is represented.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// `optional string`: prost getter returns `&str`.
    Str,
    /// `optional int32` / `optional bool` (default 0 / false).
    Scalar,
    /// `optional SomeEnum`: prost stores `Option<i32>`, buffa `Option<Enum>`; the getter returns
    /// the enum in both (buffa: `x.f.unwrap_or_default()`).
    Enum,
    /// `repeated Message`.
    List(&'static str),
    /// `repeated string` / `repeated int32`: same `Vec` on both sides.
    ListScalar,
    /// A field whose type differs (`options`, `source_code_info`, other nested messages).
    Other,
}

/// The descriptor messages this rewrite supports, with their fields (descriptor.proto).
const MESSAGES: &[(&str, &[(&str, Kind)])] = &[
    (
        "FileDescriptorSet",
        &[("file", Kind::List("FileDescriptorProto"))],
    ),
    (
        "FileDescriptorProto",
        &[
            ("name", Kind::Str),
            ("package", Kind::Str),
            ("dependency", Kind::ListScalar),
            ("public_dependency", Kind::ListScalar),
            ("weak_dependency", Kind::ListScalar),
            ("message_type", Kind::List("DescriptorProto")),
            ("enum_type", Kind::List("EnumDescriptorProto")),
            ("service", Kind::List("ServiceDescriptorProto")),
            ("extension", Kind::List("FieldDescriptorProto")),
            ("options", Kind::Other),
            ("source_code_info", Kind::Other),
            ("syntax", Kind::Str),
            ("edition", Kind::Other),
        ],
    ),
    (
        "DescriptorProto",
        &[
            ("name", Kind::Str),
            ("field", Kind::List("FieldDescriptorProto")),
            ("extension", Kind::List("FieldDescriptorProto")),
            ("nested_type", Kind::List("DescriptorProto")),
            ("enum_type", Kind::List("EnumDescriptorProto")),
            ("extension_range", Kind::Other),
            ("oneof_decl", Kind::List("OneofDescriptorProto")),
            ("options", Kind::Other),
            ("reserved_range", Kind::Other),
            ("reserved_name", Kind::ListScalar),
        ],
    ),
    (
        "FieldDescriptorProto",
        &[
            ("name", Kind::Str),
            ("number", Kind::Scalar),
            ("label", Kind::Enum),
            ("r#type", Kind::Enum),
            ("type_name", Kind::Str),
            ("extendee", Kind::Str),
            ("default_value", Kind::Str),
            ("oneof_index", Kind::Scalar),
            ("json_name", Kind::Str),
            ("options", Kind::Other),
            ("proto3_optional", Kind::Scalar),
        ],
    ),
    (
        "OneofDescriptorProto",
        &[("name", Kind::Str), ("options", Kind::Other)],
    ),
    (
        "EnumDescriptorProto",
        &[
            ("name", Kind::Str),
            ("value", Kind::List("EnumValueDescriptorProto")),
            ("options", Kind::Other),
            ("reserved_range", Kind::Other),
            ("reserved_name", Kind::ListScalar),
        ],
    ),
    (
        "EnumValueDescriptorProto",
        &[
            ("name", Kind::Str),
            ("number", Kind::Scalar),
            ("options", Kind::Other),
        ],
    ),
    (
        "ServiceDescriptorProto",
        &[
            ("name", Kind::Str),
            ("method", Kind::List("MethodDescriptorProto")),
            ("options", Kind::Other),
        ],
    ),
    (
        "MethodDescriptorProto",
        &[
            ("name", Kind::Str),
            ("input_type", Kind::Str),
            ("output_type", Kind::Str),
            ("options", Kind::Other),
            ("client_streaming", Kind::Scalar),
            ("server_streaming", Kind::Scalar),
        ],
    ),
];

/// Modules of nested descriptor types that move with them (their enums have the prost
/// variant names as associated consts in buffa).
const MODULES: &[&str] = &["field_descriptor_proto"];

fn message(name: &str) -> Option<&'static [(&'static str, Kind)]> {
    MESSAGES.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

fn field(msg: &str, name: &str) -> Option<Kind> {
    let fields = message(msg)?;
    fields
        .iter()
        .find(|(f, _)| *f == name || f.strip_prefix("r#") == Some(name))
        .map(|(_, k)| *k)
}

/// The prost_types item names a supported descriptor message, if it does.
fn descriptor_of(full: &[String]) -> Option<&'static str> {
    match full {
        [c, n, ..] if c == "prost_types" => MESSAGES.iter().map(|(m, _)| *m).find(|m| m == n),
        _ => None,
    }
}

/// Is this prost_types path a descriptor-ish item (supported or not)?
fn descriptorish(full: &[String]) -> bool {
    let [c, n, ..] = full else { return false };
    if c != "prost_types" {
        return false;
    }
    n.contains("Descriptor")
        || n.ends_with("Options")
        || n.ends_with("_options")
        || n.ends_with("_proto")
        || n.contains("CodeInfo")
        || n.contains("code_info")
        || n.contains("UninterpretedOption")
        || n.contains("uninterpreted_option")
        || n == "compiler"
        || n == "Edition"
        || n == "FeatureSet"
        || n == "feature_set"
}

fn supported(full: &[String]) -> bool {
    descriptor_of(full).is_some()
        || matches!(full, [c, n, ..] if c == "prost_types" && MODULES.contains(&n.as_str()))
}

/// Getter names of every supported message (a call of one of them on a value of unknown type,
/// in a file that uses descriptors, might be a descriptor read).
fn getter_names() -> HashSet<&'static str> {
    MESSAGES
        .iter()
        .flat_map(|(_, f)| f.iter())
        .filter(|(_, k)| matches!(k, Kind::Str | Kind::Scalar | Kind::Enum))
        .map(|(n, _)| n.strip_prefix("r#").unwrap_or(n))
        .collect()
}

/// A cheap test: can the file name a descriptor type at all?
pub fn may_use(text: &str) -> bool {
    text.contains("prost_types") && (text.contains("Descriptor") || text.contains("descriptor"))
}

/// The outcome of looking at a file's descriptor uses.
pub struct Analysis {
    /// The file uses supported descriptor types.
    pub uses: bool,
    /// Why the file keeps them on prost (offset, reason), when it does.
    pub blocked: Option<(usize, String)>,
    /// The getter and decode rewrites, when the file moves.
    pub edits: Vec<Edit>,
    /// Where supported descriptor types are named (listed when the file keeps them).
    pub sites: Vec<(usize, String)>,
}

/// Does this file move its descriptor types to buffa-descriptor? `Err(reason)` when it keeps
/// them (or the crate was not set up for them).
pub fn migrates(ctx: &FileCtx<'_>) -> Result<(), String> {
    if !may_use(ctx.text) {
        return Err("the file names no descriptor type".into());
    }
    let a = analyse(ctx);
    match a.blocked {
        Some((at, why)) => {
            let (line, _) = crate::edit::line_col(ctx.text, at);
            Err(format!("{why} (line {line})"))
        }
        None => Ok(()),
    }
}

pub fn analyse(ctx: &FileCtx<'_>) -> Analysis {
    let crate_ok = ctx
        .crate_ctx
        .and_then(|c| c.plan::<super::CodegenPlan>())
        .is_some_and(|p| p.descriptors);
    analyse_parts(ctx.file, ctx.index, crate_ok, ctx.text)
}

/// Would this file (read before the step) move its descriptor types? For the manifest.
pub fn file_migrates(text: &str, _path: &std::path::Path) -> bool {
    let Ok(file) = syn::parse_file(text.strip_prefix('\u{feff}').unwrap_or(text)) else {
        return false;
    };
    let index = FileIndex::build(&file, None);
    let a = analyse_parts(&file, &index, true, text);
    proc_macro2::extra::invalidate_current_thread_spans();
    a.uses && a.blocked.is_none()
}

fn analyse_parts(file: &syn::File, index: &FileIndex, crate_ok: bool, text: &str) -> Analysis {
    let ctx_file = file;
    let mut w = Walker {
        idx: index,
        tr: ScopeTracker::new(index),
        frames: vec![HashMap::new()],
        private_fns: HashSet::new(),
        getters: getter_names(),
        body_depth: 0,
        names_prost_decode_error: false,
        uses: false,
        blocked: None,
        edits: Vec::new(),
        sites: Vec::new(),
    };
    w.names_prost_decode_error = text.contains("DecodeError");
    if !crate_ok {
        w.blocked = Some((
            0,
            "the crate was not set up for buffa-descriptor by this step (no generated messages of its own or of a dependency)".into(),
        ));
    }
    // Private free functions of the file (descriptor values may be passed to them).
    struct Fns<'s>(&'s mut HashSet<String>);
    impl<'ast> Visit<'ast> for Fns<'_> {
        fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
            if matches!(f.vis, syn::Visibility::Inherited) {
                self.0.insert(f.sig.ident.to_string());
            }
            syn::visit::visit_item_fn(self, f);
        }
    }
    Fns(&mut w.private_fns).visit_file(ctx_file);
    w.visit_file(ctx_file);
    Analysis {
        uses: w.uses,
        blocked: w.blocked,
        edits: w.edits,
        sites: w.sites,
    }
}

/// The type of an expression, as far as descriptors go.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Msg(&'static str),
    /// A `Vec`, slice or iterator of the message.
    List(&'static str),
    /// The result of a decode call.
    Decoded(&'static str),
}

struct Walker<'a> {
    idx: &'a FileIndex,
    tr: ScopeTracker,
    frames: Vec<HashMap<String, Option<Ty>>>,
    private_fns: HashSet<String>,
    getters: HashSet<&'static str>,
    body_depth: usize,
    /// The file names `DecodeError` (prost's, until step 1's report is acted on).
    names_prost_decode_error: bool,
    uses: bool,
    blocked: Option<(usize, String)>,
    edits: Vec<Edit>,
    /// Where supported descriptor types are named (outside `use` items): offset and path.
    sites: Vec<(usize, String)>,
}

fn strip(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        syn::Expr::Reference(r) => strip(&r.expr),
        e => e,
    }
}

/// Methods of an iterator or collection of messages that keep it one.
const LIST_KEEPING: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "filter",
    "rev",
    "skip",
    "take",
    "cloned",
    "clone",
    "skip_while",
    "take_while",
    "inspect",
    "chain",
    "peekable",
    "by_ref",
];
/// Methods of an iterator whose closure's first parameter is an element.
const ELEMENT_CLOSURES: &[&str] = &[
    "map",
    "filter",
    "for_each",
    "any",
    "all",
    "find",
    "filter_map",
    "flat_map",
    "position",
    "inspect",
    "take_while",
    "skip_while",
    "find_map",
    "map_while",
    "partition",
    "max_by_key",
    "min_by_key",
    "sort_by_key",
];
/// Methods of a message that are the same on both sides.
const SAME_METHODS: &[&str] = &["clone", "encode_to_vec", "to_owned", "eq", "ne", "default"];
/// Methods taking a descriptor value that keep its type where it goes.
const SAFE_SINKS: &[&str] = &[
    "push",
    "extend",
    "insert",
    "contains",
    "eq",
    "ne",
    "clone_from",
];

impl Walker<'_> {
    fn block(&mut self, at: usize, why: impl Into<String>) {
        if self.blocked.is_none() {
            self.blocked = Some((at, why.into()));
        }
    }

    fn resolve(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => Some(r.full),
            Resolution::Ambiguous(_) => None,
        }
    }

    fn var(&self, name: &str) -> Option<Ty> {
        self.frames
            .iter()
            .rev()
            .find_map(|f| f.get(name))
            .copied()
            .flatten()
    }

    fn bind(&mut self, pat: &syn::Pat, ty: Option<Ty>) {
        match pat {
            syn::Pat::Ident(pi) => {
                // `None` shadows an outer binding of the name.
                self.frames
                    .last_mut()
                    .unwrap()
                    .insert(pi.ident.to_string(), ty);
            }
            syn::Pat::Reference(r) => self.bind(&r.pat, ty),
            syn::Pat::Type(t) => {
                let ty = self.ty_of_type(&t.ty).or(ty);
                self.bind(&t.pat, ty);
            }
            p => {
                // Other patterns: every name they bind is unknown.
                struct Names<'n>(&'n mut Vec<String>);
                impl<'ast> Visit<'ast> for Names<'_> {
                    fn visit_pat_ident(&mut self, i: &'ast syn::PatIdent) {
                        self.0.push(i.ident.to_string());
                        syn::visit::visit_pat_ident(self, i);
                    }
                }
                let mut names = Vec::new();
                Names(&mut names).visit_pat(p);
                let f = self.frames.last_mut().unwrap();
                for n in names {
                    f.insert(n, None);
                }
            }
        }
    }

    /// A written type: `T`, `&T`, `Vec<T>`, `&[T]`, `Option<T>` is not followed.
    fn ty_of_type(&self, t: &syn::Type) -> Option<Ty> {
        match t {
            syn::Type::Reference(r) => self.ty_of_type(&r.elem),
            syn::Type::Paren(p) => self.ty_of_type(&p.elem),
            syn::Type::Slice(s) => match self.ty_of_type(&s.elem)? {
                Ty::Msg(m) => Some(Ty::List(m)),
                _ => None,
            },
            syn::Type::Path(tp) if tp.qself.is_none() => {
                if let Some(m) = self.resolve(&tp.path).as_deref().and_then(descriptor_of) {
                    return Some(Ty::Msg(m));
                }
                let last = tp.path.segments.last()?;
                if last.ident == "Vec" {
                    if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                        if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                            if let Some(Ty::Msg(m)) = self.ty_of_type(inner) {
                                return Some(Ty::List(m));
                            }
                        }
                    }
                }
                None
            }
            _ => None,
        }
    }

    fn ty_of(&self, e: &syn::Expr) -> Option<Ty> {
        match strip(e) {
            syn::Expr::Path(p) if p.qself.is_none() => {
                let i = p.path.get_ident()?;
                self.var(&i.to_string())
            }
            syn::Expr::Field(f) => {
                let Some(Ty::Msg(m)) = self.ty_of(&f.base) else {
                    return None;
                };
                let syn::Member::Named(n) = &f.member else {
                    return None;
                };
                match field(m, &n.to_string())? {
                    Kind::List(x) => Some(Ty::List(x)),
                    _ => None,
                }
            }
            syn::Expr::Index(i) => match self.ty_of(&i.expr)? {
                Ty::List(m) if !matches!(strip(&i.index), syn::Expr::Range(_)) => Some(Ty::Msg(m)),
                Ty::List(m) => Some(Ty::List(m)),
                _ => None,
            },
            syn::Expr::Struct(s) if s.qself.is_none() => self
                .resolve(&s.path)
                .as_deref()
                .and_then(descriptor_of)
                .map(Ty::Msg),
            syn::Expr::Try(t) => match self.ty_of(&t.expr)? {
                Ty::Decoded(m) => Some(Ty::Msg(m)),
                _ => None,
            },
            syn::Expr::Call(c) => self.decode_target(c).map(Ty::Decoded),
            syn::Expr::MethodCall(mc) => {
                let recv = self.ty_of(&mc.receiver);
                let name = mc.method.to_string();
                match (recv?, name.as_str()) {
                    (Ty::Decoded(m), "unwrap" | "expect" | "unwrap_or_default") => Some(Ty::Msg(m)),
                    (Ty::Msg(m), "clone" | "to_owned") => Some(Ty::Msg(m)),
                    (Ty::List(m), n) if LIST_KEEPING.contains(&n) => Some(Ty::List(m)),
                    (Ty::List(_), "flat_map") => {
                        let syn::Expr::Closure(c) = mc.args.first()? else {
                            return None;
                        };
                        // The closure's parameter is bound while the walker is inside it only:
                        // look at the body's shape instead (`|f| f.service.iter()`).
                        let p = match c.inputs.first()? {
                            syn::Pat::Ident(pi) => pi.ident.to_string(),
                            _ => return None,
                        };
                        let (syn::Expr::Field(_) | syn::Expr::MethodCall(_)) = strip(&c.body)
                        else {
                            return None;
                        };
                        let Some(Ty::List(m)) = recv else { return None };
                        let mut frames = self.frames.clone();
                        frames.push(HashMap::from([(p, Some(Ty::Msg(m)))]));
                        let probe = Walker {
                            idx: self.idx,
                            tr: ScopeTracker::new(self.idx),
                            frames,
                            private_fns: HashSet::new(),
                            getters: HashSet::new(),
                            body_depth: 0,
                            names_prost_decode_error: false,
                            uses: false,
                            blocked: None,
                            edits: Vec::new(),
                            sites: Vec::new(),
                        };
                        match probe.ty_of(&c.body)? {
                            Ty::List(x) => Some(Ty::List(x)),
                            _ => None,
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `T::decode(..)` for a supported descriptor `T` (or `<T as Message>::decode`).
    fn decode_target(&self, c: &syn::ExprCall) -> Option<&'static str> {
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let last = fp.path.segments.last()?;
        if last.ident != "decode" {
            return None;
        }
        if let Some(q) = &fp.qself {
            return match self.ty_of_type(&q.ty)? {
                Ty::Msg(m) => Some(m),
                _ => None,
            };
        }
        let mut ty = fp.path.clone();
        ty.segments.pop();
        let ty = syn::Path {
            leading_colon: ty.leading_colon,
            segments: ty.segments.into_iter().collect(),
        };
        if ty.segments.is_empty() {
            return None;
        }
        self.resolve(&ty).as_deref().and_then(descriptor_of)
    }

    fn on_decode(&mut self, c: &syn::ExprCall) {
        let Some(msg) = self.decode_target(c) else {
            return;
        };
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        let m = range(fp.path.segments.last().unwrap().ident.span());
        if c.args.len() != 1 {
            self.block(m.start, "a decode call with an unexpected argument list");
            return;
        }
        if fp.qself.is_some() {
            // `<T as prost::Message>::decode`: the rename rules do not look inside `<..>`.
            self.edits.push(Edit::replace(
                range(fp.span()).start..m.start,
                format!("<buffa_descriptor::generated::descriptor::{msg} as buffa::Message>::"),
                RULE_DECODE,
            ));
        }
        let arg = &c.args[0];
        let ar = range(arg.span());
        match arg {
            syn::Expr::Reference(rf) if rf.mutability.is_some() => {
                // Already a `&mut impl Buf`: buffa's decode takes exactly that.
                return;
            }
            syn::Expr::Reference(_) => {}
            syn::Expr::MethodCall(mc)
                if matches!(
                    mc.method.to_string().as_str(),
                    "as_slice" | "as_ref" | "as_bytes"
                ) => {}
            _ => self.edits.push(Edit::insert(ar.start, "&", RULE_DECODE)),
        }
        self.edits
            .push(Edit::replace(m, "decode_from_slice", RULE_DECODE));
    }

    fn on_method_call(&mut self, mc: &syn::ExprMethodCall) {
        let name = mc.method.to_string();
        let at = range(mc.method.span()).start;
        match self.ty_of(&mc.receiver) {
            Some(Ty::Msg(m)) => {
                if !mc.args.is_empty() || mc.turbofish.is_some() {
                    if !SAME_METHODS.contains(&name.as_str()) {
                        self.block(
                            at,
                            format!("`{name}(..)` on a {m} (prost and buffa differ)"),
                        );
                    }
                    return;
                }
                match field(m, &name) {
                    Some(k @ (Kind::Str | Kind::Scalar | Kind::Enum)) => {
                        let field_name = if name == "type" {
                            "r#type".to_string()
                        } else {
                            name.clone()
                        };
                        let tail = match k {
                            Kind::Str => ".as_deref().unwrap_or_default()",
                            _ => ".unwrap_or_default()",
                        };
                        let end = range(mc.span()).end;
                        // Only the `name()` tail is replaced (`x.name()` -> `x.name.as_deref()..`).
                        let mr = range(mc.method.span());
                        self.edits.push(Edit::replace(
                            mr.start..end,
                            format!("{field_name}{tail}"),
                            RULE,
                        ));
                    }
                    _ if SAME_METHODS.contains(&name.as_str()) => {}
                    _ => self.block(
                        at,
                        format!("`{name}()` on a {m} has no buffa-descriptor equivalent here"),
                    ),
                }
            }
            Some(Ty::Decoded(_)) | Some(Ty::List(_)) => {}
            None => {
                if mc.args.is_empty() && self.getters.contains(name.as_str()) {
                    self.block(
                        at,
                        format!("`{name}()` is called on a value whose type is unknown (a descriptor getter?)"),
                    );
                }
            }
        }
        // A descriptor value given to a method that might take it elsewhere.
        if !SAFE_SINKS.contains(&name.as_str()) {
            for a in &mc.args {
                if matches!(self.ty_of(a), Some(Ty::Msg(_) | Ty::List(_))) {
                    self.block(
                        range(a.span()).start,
                        format!("a descriptor value is passed to `{name}`"),
                    );
                }
            }
        }
    }

    fn on_call(&mut self, c: &syn::ExprCall) {
        let local = match &*c.func {
            syn::Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.private_fns.contains(&i.to_string())),
            _ => false,
        };
        let tuple_ctor = matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Some") || p.path.is_ident("Ok") || p.path.is_ident("Box"));
        if local || tuple_ctor {
            return;
        }
        for a in &c.args {
            if matches!(self.ty_of(a), Some(Ty::Msg(_) | Ty::List(_))) {
                self.block(range(a.span()).start, "a descriptor value is passed to a function that is not a private function of this file");
            }
        }
    }

    fn on_field(&mut self, f: &syn::ExprField) {
        let Some(Ty::Msg(m)) = self.ty_of(&f.base) else {
            return;
        };
        let syn::Member::Named(n) = &f.member else {
            return;
        };
        let name = n.to_string();
        match field(m, &name) {
            Some(Kind::Str | Kind::Scalar | Kind::List(_) | Kind::ListScalar) => {}
            _ => self.block(
                range(n.span()).start,
                format!("`{m}.{name}` has another type in buffa-descriptor"),
            ),
        }
    }

    fn on_struct(&mut self, s: &syn::ExprStruct) {
        let Some(m) = s.qself.is_none().then(|| self.resolve(&s.path)).flatten() else {
            return;
        };
        let Some(msg) = descriptor_of(&m) else { return };
        let at = range(s.span()).start;
        if s.rest.is_none() && s.dot2_token.is_none() {
            self.block(
                at,
                format!("a {msg} literal without `..Default::default()`"),
            );
        }
        for fv in &s.fields {
            if let syn::Member::Named(n) = &fv.member {
                if !matches!(
                    field(msg, &n.to_string()),
                    Some(Kind::Str | Kind::Scalar | Kind::List(_) | Kind::ListScalar)
                ) {
                    self.block(
                        at,
                        format!("`{msg}.{n}` has another type in buffa-descriptor"),
                    );
                }
            }
        }
    }

    fn closure_params(&mut self, mc: &syn::ExprMethodCall) -> Option<(usize, Ty)> {
        let Some(Ty::List(m)) = self.ty_of(&mc.receiver) else {
            return None;
        };
        if !ELEMENT_CLOSURES.contains(&mc.method.to_string().as_str()) {
            return None;
        }
        let syn::Expr::Closure(c) = mc.args.first()? else {
            return None;
        };
        Some((range(c.span()).start, Ty::Msg(m)))
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        self.frames.push(HashMap::new());
        syn::visit::visit_block(self, b);
        self.frames.pop();
        self.tr.leave(p);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let p = match &m.content {
            Some((b, _)) => self.tr.enter(self.idx, range(b.span.open()).start),
            None => false,
        };
        syn::visit::visit_item_mod(self, m);
        self.tr.leave(p);
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let private = matches!(f.vis, syn::Visibility::Inherited);
        if !private {
            self.visit_signature(&f.sig);
        } else {
            // Parameters of a private function: its callers in this file are checked.
            self.body_depth += 1;
            self.visit_signature(&f.sig);
            self.body_depth -= 1;
        }
        self.frames.push(HashMap::new());
        for i in &f.sig.inputs {
            if let syn::FnArg::Typed(pt) = i {
                let ty = self.ty_of_type(&pt.ty);
                self.bind(&pt.pat, ty);
            }
        }
        self.body_depth += 1;
        self.visit_block(&f.block);
        self.body_depth -= 1;
        self.frames.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.visit_signature(&f.sig);
        self.frames.push(HashMap::new());
        self.body_depth += 1;
        self.visit_block(&f.block);
        self.body_depth -= 1;
        self.frames.pop();
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.visit_signature(&f.sig);
        if let Some(b) = &f.default {
            self.frames.push(HashMap::new());
            self.body_depth += 1;
            self.visit_block(b);
            self.body_depth -= 1;
            self.frames.pop();
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if let Some(full) = self.resolve(p) {
            let at = range(p.span()).start;
            if supported(&full) {
                self.uses = true;
                self.sites.push((at, full.join("::")));
                if self.body_depth == 0 {
                    self.block(at, format!("`{}` is named in a public signature or outside a function body (its values cross into code this step does not look at)", full.join("::")));
                }
            } else if descriptorish(&full) {
                self.uses = true;
                self.block(
                    at,
                    format!(
                        "`{}` has no automatic move to buffa-descriptor",
                        full.join("::")
                    ),
                );
            }
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            self.visit_expr(&init.expr);
            if let Some((_, d)) = &init.diverge {
                self.visit_expr(d);
            }
        }
        self.visit_pat(&l.pat);
        let ty = l.init.as_ref().and_then(|i| self.ty_of(&i.expr));
        self.bind(&l.pat, ty);
    }

    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.visit_expr(&f.expr);
        let ty = match self.ty_of(&f.expr) {
            Some(Ty::List(m)) => Some(Ty::Msg(m)),
            _ => None,
        };
        self.frames.push(HashMap::new());
        self.bind(&f.pat, ty);
        self.visit_block(&f.body);
        self.frames.pop();
    }

    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        self.on_method_call(mc);
        self.visit_expr(&mc.receiver);
        let closure = self.closure_params(mc);
        for (i, a) in mc.args.iter().enumerate() {
            match (i, closure, a) {
                (0, Some((_, ty)), syn::Expr::Closure(c)) => {
                    self.frames.push(HashMap::new());
                    if let Some(p) = c.inputs.first() {
                        self.bind(p, Some(ty));
                    }
                    for p in c.inputs.iter().skip(1) {
                        self.bind(p, None);
                    }
                    self.visit_expr(&c.body);
                    self.frames.pop();
                }
                _ => self.visit_expr(a),
            }
        }
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.frames.push(HashMap::new());
        for p in &c.inputs {
            self.bind(p, None);
        }
        self.visit_expr(&c.body);
        self.frames.pop();
    }

    fn visit_expr_try(&mut self, t: &'ast syn::ExprTry) {
        if matches!(self.ty_of(&t.expr), Some(Ty::Decoded(_))) && self.names_prost_decode_error {
            self.block(
                range(t.span()).start,
                "a decode error is propagated with `?` in a file that names prost::DecodeError",
            );
        }
        syn::visit::visit_expr_try(self, t);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        self.on_decode(c);
        self.on_call(c);
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_field(&mut self, f: &'ast syn::ExprField) {
        self.on_field(f);
        syn::visit::visit_expr_field(self, f);
    }

    fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
        self.on_struct(s);
        syn::visit::visit_expr_struct(self, s);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        match crate::resolve::macro_exprs(m) {
            Some(es) => {
                for e in &es {
                    self.visit_expr(e);
                }
            }
            None => {
                // An opaque macro calling what may be descriptor getters cannot be checked.
                let ts = m.tokens.to_string();
                if self
                    .getters
                    .iter()
                    .any(|g| ts.contains(&format!(". {g} ()")))
                {
                    self.block(
                        range(m.span()).start,
                        "a macro whose input this step cannot read may call descriptor getters",
                    );
                }
            }
        }
    }
}

/// Rewrites getters and decode calls of a file whose descriptor types move.
pub struct DescriptorsPass;

impl Pass for DescriptorsPass {
    fn run(&self, ctx: &FileCtx<'_>, out: &mut PassOutput) {
        if !may_use(ctx.text) {
            return;
        }
        let a = analyse(ctx);
        if let Some((at, why)) = &a.blocked {
            // The rename rules stay quiet for a blocked file: every site is listed here, also
            // those inside `<T as Trait>::` paths the renames do not see.
            let (line, _) = crate::edit::line_col(ctx.text, *at);
            for (offset, path) in &a.sites {
                out.items.push(crate::engine::ManualItem {
                    offset: *offset,
                    rule: RULE_KEPT.into(),
                    message: format!("`{path}` stays on prost in this file: {why} (line {line})"),
                    note: "buffa_descriptor::generated::descriptor has the same types without getters (`f.package()` is `f.package.as_deref().unwrap_or_default()`), enum fields are `Option<Enum>`, message fields `MessageField`; move the file by hand, or keep the prost dependency for it".into(),
                    kind: crate::engine::ItemKind::Manual,
                });
            }
            return;
        }
        if !a.uses || a.edits.is_empty() {
            return;
        }
        let at = a.edits[0].range.start;
        if let Err(o) = out.commit(a.edits) {
            out.items.push(crate::engine::ManualItem {
                offset: at,
                rule: RULE.into(),
                message: format!("descriptor getters not rewritten: {o}"),
                note: "rewrite them by hand: `x.name()` is `x.name.as_deref().unwrap_or_default()` in buffa-descriptor".into(),
                kind: crate::engine::ItemKind::Manual,
            });
        }
    }
}
