//! Step 9: tonic interceptor functions to their connect shape.
//!
//! Step 5 runs a tonic interceptor in front of a connect service through
//! `connect_shim::server::TonicInterceptor::new(NAME, f)`. Where `f` is a function of the crate
//! (a path to it, or a closure that calls it with its request: `move |req| auth::authorize(req,
//! &token)`) whose file only uses the part of tonic an interceptor needs, step 9 rewrites that
//! file and points the registration at the crate's own `ServiceInterceptor` (written with
//! `connect_compat`, see [`super::hosting`]):
//!
//! ```text
//! fn authorize(mut req: Request<()>, t: &str)        fn authorize(mut req: connectrpc::RequestContext, t: &str)
//!     -> Result<Request<()>, Status>             ->      -> Result<connectrpc::RequestContext, connectrpc::ConnectError>
//! req.metadata().get("authorization")                req.headers().get("authorization")
//! Err(Status::unauthenticated("no"))                 Err(connectrpc::ConnectError::unauthenticated("no"))
//! ```
//!
//! The whole file moves (its tests too), so every tonic name in it must have a connect
//! counterpart: `Request<()>` (and `Request::new(())`), `Status` with its constructors, `Code`
//! and its variants, `metadata::MetadataMap` (to `axum::http::HeaderMap`: the crate depends on
//! axum once connect_compat is written); method calls `metadata()`/`metadata_mut()` become
//! `headers()`/`headers_mut()`, `code()`/`message()` of a status its fields. A file naming any
//! other tonic item, or calling a request method connect has no twin for (`remote_addr`,
//! `into_inner`, `set_timeout`, ...), is left alone and reported (`step09/interceptor`), and its
//! registrations stay on connect-shim.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::edit::Edit;
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};

const RULE: &str = "step09/interceptor";

/// Request and status methods that have no connect counterpart on `RequestContext`/`ConnectError`.
const NO_TWIN: [&str; 11] = [
    "remote_addr",
    "local_addr",
    "peer_certs",
    "into_inner",
    "get_ref",
    "get_mut",
    "into_parts",
    "set_timeout",
    "details",
    "into_request",
    "into_http",
];

/// What [`convert_file`] found in one file.
#[derive(Debug, Default, Clone)]
pub struct FileInterceptors {
    /// Full paths (`crate::auth::authorize`) of the interceptor functions, with their offsets.
    pub fns: Vec<(Vec<String>, usize)>,
    /// The file's rewrite, or why there is none.
    pub result: Option<Result<Vec<Edit>, String>>,
}

fn is_unit_request(seg: &syn::PathSegment) -> bool {
    matches!(&seg.arguments, syn::PathArguments::AngleBracketed(a)
        if a.args.len() == 1
            && matches!(a.args.first(), Some(syn::GenericArgument::Type(syn::Type::Tuple(t))) if t.elems.is_empty()))
}

struct V<'a> {
    idx: &'a FileIndex,
    tr: ScopeTracker,
    edits: Vec<Edit>,
    errors: Vec<String>,
}

impl V<'_> {
    fn tonic(&self, path: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), path)? {
            Resolution::One(r) if r.full.first().is_some_and(|c| c == "tonic") => Some(r.full),
            Resolution::Ambiguous(c) if c.iter().any(|r| r.full[0] == "tonic") => {
                Some(vec!["?".into()])
            }
            _ => None,
        }
    }

    fn replace(&mut self, r: Range<usize>, text: impl Into<String>) {
        self.edits.push(Edit::replace(r, text.into(), RULE));
    }
}

fn code_variant(v: &str) -> &str {
    if v == "Cancelled" {
        "Canceled"
    } else {
        v
    }
}

const CTORS: [&str; 17] = [
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
    "canceled",
];

impl<'ast> Visit<'ast> for V<'_> {
    crate::scoped_visit!();

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}

    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        if t.qself.is_none() {
            if let Some(full) = self.tonic(&t.path) {
                let r = range(t.span());
                let last = t.path.segments.last().unwrap();
                let f: Vec<&str> = full.iter().map(String::as_str).collect();
                match f.as_slice() {
                    ["tonic", "Request"] if is_unit_request(last) => {
                        self.replace(r, "connectrpc::RequestContext")
                    }
                    ["tonic", "Status"] => self.replace(r, "connectrpc::ConnectError"),
                    ["tonic", "Code"] => self.replace(r, "connectrpc::ErrorCode"),
                    ["tonic", "metadata", "MetadataMap"] => {
                        self.replace(r, "axum::http::HeaderMap")
                    }
                    _ => self.errors.push(format!(
                        "it names `{}` (no connect counterpart step 9 writes)",
                        full.join("::")
                    )),
                }
                return;
            }
        }
        syn::visit::visit_type_path(self, t);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            if p.qself.is_none() {
                if let Some(full) = self.tonic(&p.path) {
                    if full == ["tonic", "Request", "new"]
                        && c.args.len() == 1
                        && matches!(&c.args[0], syn::Expr::Tuple(t) if t.elems.is_empty())
                    {
                        self.replace(
                            range(c.span()),
                            "connectrpc::RequestContext::new(Default::default())",
                        );
                        return;
                    }
                }
            }
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_path(&mut self, e: &'ast syn::ExprPath) {
        if e.qself.is_none() {
            if let Some(full) = self.tonic(&e.path) {
                let r = range(e.span());
                let f: Vec<&str> = full.iter().map(String::as_str).collect();
                match f.as_slice() {
                    ["tonic", "Code", v] => {
                        self.replace(r, format!("connectrpc::ErrorCode::{}", code_variant(v)))
                    }
                    ["tonic", "Status", c] if CTORS.contains(c) => {
                        let c = if *c == "cancelled" { "canceled" } else { c };
                        self.replace(r, format!("connectrpc::ConnectError::{c}"))
                    }
                    _ => self.errors.push(format!(
                        "it uses `{}` (no connect counterpart step 9 writes)",
                        full.join("::")
                    )),
                }
                return;
            }
        }
        syn::visit::visit_expr_path(self, e);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        if m.args.is_empty() && m.turbofish.is_none() {
            let from = range(m.method.span()).start;
            let to = range(m.span()).end;
            match name.as_str() {
                "metadata" => self.replace(range(m.method.span()), "headers"),
                "metadata_mut" => self.replace(range(m.method.span()), "headers_mut"),
                "code" => self.replace(from..to, "code"),
                "message" => self.replace(from..to, "message.as_deref().unwrap_or_default()"),
                n if NO_TWIN.contains(&n) => self.errors.push(format!(
                    "it calls `.{n}()`, which a connect RequestContext/ConnectError does not have"
                )),
                _ => {}
            }
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(exprs) = crate::resolve::macro_exprs(m) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }
}

/// Is `f` a tonic interceptor function: first parameter `tonic::Request<()>`, returning
/// `Result<tonic::Request<()>, tonic::Status>`?
fn is_interceptor(idx: &FileIndex, f: &syn::ItemFn) -> bool {
    let root = idx.root();
    let is = |ty: &syn::Type, want: &[&str], unit: bool| -> bool {
        let syn::Type::Path(p) = ty else {
            return false;
        };
        p.qself.is_none()
            && (!unit || p.path.segments.last().is_some_and(is_unit_request))
            && matches!(idx.resolve(root, &p.path), Some(Resolution::One(r)) if r.full == want)
    };
    let Some(syn::FnArg::Typed(first)) = f.sig.inputs.first() else {
        return false;
    };
    if !is(&first.ty, &["tonic", "Request"], true) {
        return false;
    }
    let syn::ReturnType::Type(_, out) = &f.sig.output else {
        return false;
    };
    let syn::Type::Path(p) = &**out else {
        return false;
    };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    let tys = crate::steps::common::syntax::type_args(&p.path);
    last.ident == "Result"
        && tys.len() == 2
        && is(tys[0], &["tonic", "Request"], true)
        && is(tys[1], &["tonic", "Status"], false)
}

/// The interceptor functions of a file (top-level, module path known) and the file's rewrite.
pub fn convert_file(
    text: &str,
    file: &syn::File,
    idx: &FileIndex,
    module_path: Option<&[String]>,
) -> FileInterceptors {
    let mut out = FileInterceptors::default();
    if !text.contains("Request") {
        return out;
    }
    let Some(module) = module_path else {
        return out;
    };
    for it in &file.items {
        if let syn::Item::Fn(f) = it {
            if is_interceptor(idx, f) {
                let mut p = module.to_vec();
                p.push(f.sig.ident.to_string());
                out.fns.push((p, range(f.sig.ident.span()).start));
            }
        }
    }
    if out.fns.is_empty() {
        return out;
    }
    let mut v = V {
        idx,
        tr: ScopeTracker::new(idx),
        edits: Vec::new(),
        errors: Vec::new(),
    };
    v.visit_file(file);
    out.result = Some(if let Some(e) = v.errors.first() {
        Err(e.clone())
    } else {
        let mut edits = v.edits;
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        edits.dedup_by(|a, b| a.range == b.range);
        // Nested replacements (a type inside a replaced call) cannot both apply.
        let mut kept: Vec<Edit> = Vec::new();
        for e in edits {
            if kept.last().is_some_and(|k| e.range.start < k.range.end) {
                return FileInterceptors {
                    result: Some(Err("overlapping rewrites".into())),
                    ..out
                };
            }
            kept.push(e);
        }
        Ok(kept)
    });
    out
}

/// The function a registration's interceptor argument runs: a path (`auth::authorize`), or a
/// closure of one parameter whose body calls a path with that parameter first
/// (`move |req| auth::authorize(req, &token)`). Returns the path's full name.
pub fn target(
    idx: &FileIndex,
    scope: crate::resolve::ScopeId,
    f: &syn::Expr,
) -> Option<Vec<String>> {
    let resolve = |p: &syn::ExprPath| match idx.resolve(scope, &p.path)? {
        Resolution::One(r) => Some(r.full),
        Resolution::Ambiguous(_) => None,
    };
    match f {
        syn::Expr::Path(p) if p.qself.is_none() => resolve(p),
        syn::Expr::Paren(p) => target(idx, scope, &p.expr),
        syn::Expr::Closure(c) => {
            let [syn::Pat::Ident(param)] = c.inputs.iter().collect::<Vec<_>>()[..] else {
                return None;
            };
            let mut body = &*c.body;
            while let syn::Expr::Block(b) = body {
                match b.block.stmts.as_slice() {
                    [syn::Stmt::Expr(e, None)] => body = e,
                    _ => return None,
                }
            }
            let syn::Expr::Call(call) = body else {
                return None;
            };
            let syn::Expr::Path(func) = &*call.func else {
                return None;
            };
            let first_is_param = matches!(call.args.first(), Some(syn::Expr::Path(a))
                if a.path.is_ident(&param.ident));
            let param_elsewhere = call.args.iter().skip(1).any(|a| {
                quote::ToTokens::to_token_stream(a)
                    .to_string()
                    .contains(&param.ident.to_string())
            });
            if !first_is_param || param_elsewhere || func.qself.is_some() {
                return None;
            }
            resolve(func)
        }
        _ => None,
    }
}
