//! Clients held in struct fields, and the values the walker knows to be crate structs.
//!
//! A field's declared type is read from the crate symbol index ([`crate::index`]), so the struct
//! may be declared in any file of the crate. The struct a value is: `self` in an `impl` of it,
//! a parameter typed with it (`s: &App`), a local bound to `self`, `self.clone()` or another such
//! value, or a field whose declared type is a crate struct. A client is then reached as
//! `self.client`, `&mut self.client`, `self.client.clone()` or a local bound from one of those.
//!
//! Before:
//! ```text
//! struct App { client: EchoClient<Channel> }
//! impl App {
//!     async fn say(&mut self) -> Result<String, Error> {
//!         Ok(self.client.say(Ping { text: "hi".into(), ..Default::default() }).await.map(|r| r.into_inner().text)?)
//!     }
//! }
//! ```
//! After (the error still a `tonic::Status` for the user's `From<tonic::Status>`, until step 7):
//! ```text
//!         Ok(self.client.say(Ping { .. }).await.map_err(connect_shim::status::to_status).map(|r| r.into_owned().text)?)
//! ```

use super::*;
use crate::index::{CrateIndex, TypeRef};

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    fn symbols(&self) -> Option<&'a CrateIndex> {
        self.idx.symbols.as_deref()
    }

    /// The crate struct (crate-absolute path) that `e` is, where the walker knows it.
    pub(super) fn struct_of(&self, e: &syn::Expr) -> Option<Vec<String>> {
        match e {
            syn::Expr::Paren(p) => self.struct_of(&p.expr),
            syn::Expr::Group(g) => self.struct_of(&g.expr),
            syn::Expr::Reference(r) => self.struct_of(&r.expr),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.struct_of(&u.expr),
            syn::Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?.to_string();
                if id == "self" {
                    return self.self_ty.last()?.clone();
                }
                self.struct_vars.last()?.get(&id).cloned()
            }
            syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                self.struct_of(&m.receiver)
            }
            syn::Expr::Field(f) => {
                let head = self.field_type(f)?.head?;
                self.known_struct(head)
            }
            _ => None,
        }
    }

    /// The crate struct a declared type names (`App`, `&mut App`, `Req<Ready>`), when the
    /// index knows it.
    pub(super) fn struct_type(&self, ty: &syn::Type) -> Option<Vec<String>> {
        let full = self.resolve_full(type_path(ty)?)?;
        self.known_struct(full)
    }

    /// `path` (as a field's declared type records it: resolved in the declaring file, perhaps
    /// through a re-export such as `use crate::Client` for `pub use client::Client`) followed
    /// to where the struct is declared, when the index knows that struct.
    fn known_struct(&self, path: Vec<String>) -> Option<Vec<String>> {
        let symbols = self.symbols()?;
        if symbols.has_struct(&path) {
            return Some(path);
        }
        let full = self.idx.canonical(path);
        symbols.has_struct(&full).then_some(full)
    }

    /// The declared type of the field `f` of a crate struct (named, or a tuple struct's
    /// `self.0`).
    fn field_type(&self, f: &syn::ExprField) -> Option<TypeRef> {
        let name = match &f.member {
            syn::Member::Named(name) => name.to_string(),
            syn::Member::Unnamed(i) => i.index.to_string(),
        };
        let s = self.struct_of(&f.base)?;
        self.symbols()?.field(&s, &name)
    }

    /// The service of the client a field access is (`self.client` declared
    /// `client: EchoClient<Channel>`, or a type alias of a client).
    pub(super) fn field_service(&self, f: &syn::ExprField) -> Option<&'s Service> {
        let mut head = self.field_type(f)?.head?;
        for _ in 0..4 {
            if let Some(s) = self.service_of_client(&head) {
                return Some(s);
            }
            if let Some((_, s)) = self
                .known
                .iter()
                .find(|(k, _)| *k == head || (k.len() == head.len() && k[1..] == head[1..]))
            {
                return self.service(s);
            }
            head = self.symbols()?.alias(&head)?.head?;
        }
        None
    }

    /// Is `e` a call of a crate function declared to return the message `input` (the request
    /// of the method being called), not a `tonic::Request`? (`fn empty() -> api::Empty`.)
    pub(super) fn returns_message(&self, e: &syn::Expr, input: &str) -> bool {
        let syn::Expr::Call(c) = e else { return false };
        let syn::Expr::Path(fp) = &*c.func else {
            return false;
        };
        let Some(msg) = self.schema.message(input) else {
            return false;
        };
        let ret = self
            .resolve_full(&fp.path)
            .and_then(|full| self.symbols()?.function(&full)?.ret);
        let Some(TypeRef {
            head: Some(head), ..
        }) = ret
        else {
            return false;
        };
        let last = head.last().map(String::as_str);
        head.first().map(String::as_str) != Some("tonic")
            && (last == msg.buffa_path.last().map(String::as_str)
                || last == msg.prost_path.last().map(String::as_str))
    }

    /// `.map(|r| ..)` on a unary call's result: the closure reads its response only in ways
    /// [`Walker::response_uses`] rewrites (or binds it to `_`); the edits.
    pub(super) fn mapped_response(
        &self,
        m: &'ast syn::ExprMethodCall,
        output: &str,
    ) -> Option<Vec<Edit>> {
        let [syn::Expr::Closure(c)] = m.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let [pat] = c.inputs.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        match pat {
            syn::Pat::Wild(_) => Some(Vec::new()),
            syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                self.response_uses(&pi.ident.to_string(), output, |u| u.visit_expr(&c.body))
            }
            _ => None,
        }
    }

    /// Enters an `impl` block: `self` in its functions is its type, when that is a crate
    /// struct.
    pub(super) fn enter_impl(&mut self, i: &syn::ItemImpl) {
        let ty = self.struct_type(&i.self_ty);
        self.self_ty.push(ty);
    }

    /// A `let` binding a crate struct value (`let mut c = self.clone();`, `let a: App = ..`).
    pub(super) fn bind_struct(
        &mut self,
        name: &str,
        ty: Option<&syn::Type>,
        init: Option<&syn::Expr>,
    ) {
        let s = ty
            .and_then(|t| self.struct_type(t))
            .or_else(|| init.and_then(|e| self.struct_of(e)));
        if let (Some(s), Some(vars)) = (s, self.struct_vars.last_mut()) {
            vars.insert(name.to_string(), s);
        }
    }

    /// Is the awaited call `e` a statement of its block, or bound to `_` (its answer unread)?
    pub(super) fn discarded(&self, e: &syn::Expr) -> bool {
        let depth = self.chain_up(0).len();
        match self.stack_node(depth + 1) {
            Some(Node::Local(l)) => {
                matches!(l.pat, syn::Pat::Wild(_))
                    && l.init.as_ref().is_some_and(|i| ptr_eq(&*i.expr, e))
            }
            Some(Node::Block(b)) => b
                .stmts
                .iter()
                .any(|st| matches!(st, syn::Stmt::Expr(x, Some(_)) if ptr_eq(x, e))),
            _ => false,
        }
    }

    /// Is `arg` a plain stream of messages, not a `tonic::Request`: a local bound once to
    /// `stream! { .. }` (async-stream) or to `iter(..)` of `futures::stream` / `tokio_stream`?
    pub(super) fn plain_stream(&self, arg: &syn::Expr) -> bool {
        let is_stream = |e: &syn::Expr| match e {
            syn::Expr::Macro(m) => m
                .mac
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "stream"),
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) => self.resolve_full(&p.path).is_some_and(|f| {
                    let f: Vec<&str> = f.iter().map(String::as_str).collect();
                    matches!(
                        f[..],
                        ["futures" | "futures_util", "stream", "iter"] | ["tokio_stream", "iter"]
                    )
                }),
                _ => false,
            },
            _ => false,
        };
        if is_stream(arg) {
            return true;
        }
        let syn::Expr::Path(p) = arg else {
            return false;
        };
        let Some(id) = p.path.get_ident() else {
            return false;
        };
        let Some(body) = self.fn_bodies.last() else {
            return false;
        };
        match lets_named(&id.to_string(), body)[..] {
            [(l, _)] => l.init.as_ref().is_some_and(|i| is_stream(&i.expr)),
            _ => false,
        }
    }

    /// A client this step kept on a tonic channel in an earlier run (`XClient<ChannelTransport<Channel>>`,
    /// `ChannelTransport::new(ch)`): listed again, as the first run listed it.
    pub(super) fn relist_kept(&mut self, p: &syn::Path) {
        let Some(full) = self.resolve_full(p) else {
            return;
        };
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let at = range(p.span()).start;
        match full[..] {
            ["connect_shim", "client", "ChannelTransport"] => {
                let Some(syn::PathArguments::AngleBracketed(a)) =
                    p.segments.last().map(|s| &s.arguments)
                else {
                    return;
                };
                let arg_named = |name: &str| {
                    a.args.iter().any(|g| {
                        matches!(g, syn::GenericArgument::Type(t)
                            if type_path(t).is_some_and(|tp| tp.segments.last().is_some_and(|s| s.ident == name)))
                    })
                };
                if arg_named("InterceptedService") {
                    let (message, note) = INTERCEPTED_TYPE;
                    self.report(
                        at,
                        "intercepted-type",
                        ItemKind::Manual,
                        message.into(),
                        note,
                    );
                } else if arg_named("Channel") {
                    self.report(at, "channel-transport", ItemKind::Manual, "client type kept on the tonic channel (connect_shim::client::ChannelTransport)".into(), "once the client is built on `HttpClient`, make this `HttpClient` too");
                }
            }
            ["connect_shim", "client", "ChannelTransport", "new"] => {
                // The stack's top is the call's function path; the call is below it.
                let Some(syn::Expr::Call(c)) = self.stack_expr(1) else {
                    return;
                };
                let intercepted = c
                    .args
                    .first()
                    .is_some_and(|a| self.src(range(a.span())).contains("InterceptedService"));
                if intercepted {
                    let (message, note) = INTERCEPTOR;
                    self.report(at, "interceptor", ItemKind::Manual, message.into(), note);
                } else {
                    self.report(at, "channel-transport", ItemKind::Manual, "client built on a tonic channel, kept as its transport (connect_shim::client::ChannelTransport)".into(), "build the client on `HttpClient` / `Http2Connection` with `ClientConfig::new(uri)` once nothing else needs the channel");
                }
            }
            ["connect_shim", "client", f @ ("tonic_server_stream" | "tonic_client_stream" | "tonic_bidi")] =>
            {
                self.report(at, "streaming-call", ItemKind::Manual, format!("streaming call kept tonic-shaped over the connect client (connect_shim::client::{f})"), "step 8 makes streaming calls native");
            }
            ["connect_shim", "client", "tonic_unary"] => {
                self.report(at, "unary-call", ItemKind::Manual, "unary call kept tonic-shaped (connect_shim::client::tonic_unary)".into(), "pass the message itself, metadata and timeout as `CallOptions` to the `_with_options` method; read the answer with `into_owned()`, `view()`, `headers()`");
            }
            _ => {}
        }
    }
}
