//! Step 8: streaming calls on the native connect client.
//!
//! Step 6 left every streaming call site tonic-shaped through the shim's call wrappers over the
//! native client (`connect_shim::client::tonic_server_stream(req, |r, o| c.m_with_options(r, o))`,
//! `tonic_client_stream`, `tonic_bidi`); step 7 moved them to their `connect_errors::` twins.
//! Both spellings are recognised through name resolution (`use` items, aliases, full paths).
//! The closure names the client and the method, so no schema is needed:
//!
//! - server stream: `wrapper(req, ..).await?.into_inner()` becomes `c.m(req).await?` (the
//!   `into_inner()` dropped, `Request::new` unwrapped); reads `s.message().await?` are kept and
//!   their items made owned (`let x = x.to_owned_message();` at the top of a `while let` body,
//!   `.map(|m| m.to_owned_message())` elsewhere); a stream used as a `Stream` (`next()`,
//!   `collect()`, passed along) is rebound as one: `Box::pin(futures::stream::unfold(..))` over
//!   `message().await`, yielding owned messages and ending after the first error;
//! - client stream: `wrapper(stream, ..).await?.into_inner()` becomes `c.m(stream).await?.into_owned()`;
//! - bidi: `let s = wrapper(outbound, ..).await?.into_inner();` becomes
//!   `let (mut s_send, mut s) = c.m().await?.into_split();` and a spawned task sending `outbound`
//!   and closing the send side, ending early when a send fails (`recv().await` for
//!   `ReceiverStream::new(rx)`, a `for` loop for `iter(..)`, `futures::StreamExt::next` on the
//!   pinned stream otherwise); reads as for server streams.
//!
//! - a request helper's `(message, CallOptions)` pair that step 6 handed to a wrapper as
//!   `connect_shim::client::request_from_options(pair)` is passed natively:
//!   `{ let (message, options) = pair; c.m_with_options(message, options) }` (server and client
//!   streams); for a bidi call, `let (s_outbound, s_options) = pair;` before its `let`, the
//!   options to `m_with_options`, the stream to the pump.
//!
//! The pass declares the `futures` dependency where the rewritten code names it; the run layer adds
//! it once to the crate (`run::needs`).
//!
//! Under the plain wrappers (errors still `tonic::Status`, step 7 not applied), errors are
//! converted back with `.map_err(connect_shim::status::to_status)` where the call and the reads
//! produce them. A call whose request carries metadata, whose response metadata is read, or
//! whose stream the step cannot follow stays on its wrapper and is listed.

mod definition;
pub use definition::DEFINITION;

use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::edit::{indent_at, line_col, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Need, Pass, PassOutput, When};
use crate::manifest::{DepKind, NewDep};
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};
use crate::steps::common::items::item_at;

const TO_STATUS: &str = ".map_err(connect_shim::status::to_status)";

/// Can the file hold a shim streaming call? (A byte scan.)
pub fn prefilter(text: &[u8]) -> bool {
    memchr::memmem::find(text, b"connect_shim").is_some()
        && ["tonic_server_stream", "tonic_client_stream", "tonic_bidi"]
            .iter()
            .any(|n| memchr::memmem::find(text, n.as_bytes()).is_some())
}

/// A native response stream (`ServerStream`, `BidiRecvHalf`) as a `Stream` of owned messages:
/// `futures::stream::unfold` over `message().await`, ending after the end of the stream or after
/// yielding its first error (connectrpc's stream errors are sticky: read again, the same error
/// comes back), boxed so that `next()` works on it. `indent`: the indentation of the line the
/// text starts on, for a multi-line layout; `None` for one line.
fn owned_messages(expr: &str, indent: Option<&str>) -> String {
    let lines = [
        "let mut stream = state?;",
        "match stream.message().await {",
        "    Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),",
        "    Ok(None) => None,",
        "    Err(e) => Some((Err(e), None)),",
        "}",
    ];
    let body = match indent {
        Some(i) => {
            let mut b = String::new();
            for l in lines {
                b.push_str(&format!("\n{i}    {l}"));
            }
            b.push_str(&format!("\n{i}"));
            b
        }
        None => format!(" {} ", lines.map(str::trim).join(" ").replace(", }", " }")),
    };
    format!("Box::pin(futures::stream::unfold(Some({expr}), |state| async move {{{body}}}))")
}

/// The prefix and suffix wrapping a native response stream expression into
/// [`owned_messages`] (on one line), or the shim adapter while errors are `tonic::Status`.
fn stream_wrap(status: bool) -> (String, String) {
    if status {
        (
            "connect_shim::client::streaming_from_server_stream(".to_string(),
            ")".to_string(),
        )
    } else {
        let full = owned_messages("\u{0}", None);
        let (pre, post) = full
            .split_once('\u{0}')
            .expect("the placeholder is in the text");
        (pre.to_string(), post.to_string())
    }
}

/// `StreamExt` methods taking the stream by value (`futures` and `tokio-stream`): a stream
/// used only as their receiver needs no `mut` binding.
#[rustfmt::skip]
const BY_VALUE: &[&str] = &[
    "collect", "map", "filter", "filter_map", "then", "for_each", "for_each_concurrent", "fold",
    "take", "take_while", "skip", "skip_while", "try_collect", "try_for_each", "try_fold",
    "enumerate", "zip", "chain", "boxed", "fuse", "peekable", "map_ok", "map_err", "and_then",
    "or_else", "try_filter", "try_filter_map", "count", "concat", "flatten", "timeout",
    "throttle", "buffered", "buffer_unordered", "inspect", "into_future", "forward",
    "ready_chunks", "chunks", "chunks_timeout", "scan", "merge", "err_into", "into_stream",
];

/// Is `e` `.unwrap()` / `.expect(..)` (the error is only shown, never inspected)?
fn unwraps(e: Option<&&syn::Expr>) -> bool {
    matches!(e, Some(syn::Expr::MethodCall(m)) if m.method == "unwrap" || m.method == "expect")
}

/// The step-8 pass.
pub struct StreamsPass;

impl Pass for StreamsPass {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let mut w = Walker {
            file,
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            out,
            stack: Vec::new(),
            fns: Vec::new(),
            options: Default::default(),
            parts: Default::default(),
            pair_tuple: Default::default(),
        };
        w.visit_file(file.file);
        // The pump task over a `Stream` and response streams read as a `Stream` of owned
        // messages name `futures`.
        out.need(
            Need::Dependency(NewDep::new("futures", "0.3", &[], DepKind::Normal)),
            When::Writes("futures::"),
        );
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Server,
    Client,
    Bidi,
}

#[derive(Clone, Copy)]
enum Node<'ast> {
    Expr(&'ast syn::Expr),
    Local(&'ast syn::Local),
    Stmt,
}

struct Walker<'a, 'ast> {
    file: &'a FileCtx<'a>,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'a mut PassOutput,
    stack: Vec<Node<'ast>>,
    /// The functions being visited, innermost last: signature and body.
    fns: Vec<(&'ast syn::Signature, &'ast syn::Block)>,
    /// The `CallOptions` local the request's metadata moved to, for the call being planned.
    options: std::cell::RefCell<Option<String>>,
    /// The request is a helper's `(message, CallOptions)` pair (step 6 passed it to the wrapper
    /// through `connect_shim::client::request_from_options`): its text.
    parts: std::cell::RefCell<Option<String>>,
    /// The halves of that pair when it is written out as a tuple (`(r, r_options)`).
    pair_tuple: std::cell::RefCell<Option<(String, String)>>,
}

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    item_at(offset, format!("step08/{rule}"), kind, message, note)
}

fn is_ident(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_ok()
}

fn same<T>(a: &T, b: &T) -> bool {
    std::ptr::eq(a, b)
}

/// What a bidi call's outbound stream is, for the pump task.
enum Outbound {
    /// A tokio mpsc receiver (the argument of `ReceiverStream::new`): `recv().await` loop.
    Receiver(String),
    /// An `IntoIterator` (the argument of `tokio_stream::iter` / `futures::stream::iter`).
    Iter(String),
    /// Any other `Stream`: `futures::StreamExt::next` on it, pinned.
    Stream(String),
}

/// How a read site of a response stream is rewritten.
enum Reads {
    /// Every use is `s.message().await`: these edits make the items owned.
    Native(Vec<Edit>),
    /// The stream is used as a `Stream` or passed along: the shim adapter keeps it.
    Adapter,
}

/// Why a call site stays on its wrapper.
struct Keep {
    rule: &'static str,
    why: String,
    what: &'static str,
}

fn keep(rule: &'static str, why: impl Into<String>, what: &'static str) -> Keep {
    Keep {
        rule,
        why: why.into(),
        what,
    }
}

/// Occurrences of a local as a path expression, each with its ancestors (outermost first).
struct Uses<'ast> {
    name: String,
    stack: Vec<&'ast syn::Expr>,
    hits: Vec<Vec<&'ast syn::Expr>>,
    /// Mentioned inside a macro whose arguments are not expressions.
    opaque: bool,
}

impl<'ast> Visit<'ast> for Uses<'ast> {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if let syn::Expr::Path(p) = e {
            if p.qself.is_none() && p.path.is_ident(&self.name) {
                let mut anc = self.stack.clone();
                anc.push(e);
                self.hits.push(anc);
            }
        }
        self.stack.push(e);
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        // A parameter of the same name shadows the local inside the closure.
        let shadows = c.inputs.iter().any(|p| {
            let p = match p {
                syn::Pat::Type(t) => &*t.pat,
                p => p,
            };
            matches!(p, syn::Pat::Ident(i) if i.ident == self.name)
        });
        if !shadows {
            syn::visit::visit_expr_closure(self, c);
        }
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(exprs) = crate::resolve::macro_exprs(m) {
            for e in exprs {
                let e: &'ast syn::Expr = Box::leak(Box::new(e));
                self.visit_expr(e);
            }
        } else if m
            .tokens
            .to_string()
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|t| t == self.name)
        {
            self.opaque = true;
        }
    }
}

fn uses<'ast>(name: &str, body: &'ast syn::Block) -> Uses<'ast> {
    let mut u = Uses {
        name: name.to_string(),
        stack: Vec::new(),
        hits: Vec::new(),
        opaque: false,
    };
    u.visit_block(body);
    u
}

/// The `let` statements binding `name` (an identifier pattern, typed or not) in `body`.
fn lets<'ast>(name: &str, body: &'ast syn::Block) -> Vec<&'ast syn::Local> {
    struct F<'x> {
        name: String,
        found: Vec<&'x syn::Local>,
    }
    impl<'x> Visit<'x> for F<'x> {
        fn visit_local(&mut self, l: &'x syn::Local) {
            let pat = match &l.pat {
                syn::Pat::Type(t) => &*t.pat,
                p => p,
            };
            if let syn::Pat::Ident(i) = pat {
                if i.ident == self.name {
                    self.found.push(l);
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut f = F {
        name: name.to_string(),
        found: Vec::new(),
    };
    f.visit_block(body);
    f.found
}

impl<'a, 'ast> Walker<'a, 'ast> {
    fn src(&self, r: Range<usize>) -> &'a str {
        &self.text[r]
    }

    fn resolve_full(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => Some(self.idx.canonical(r.full)),
            Resolution::Ambiguous(_) => None,
        }
    }

    fn suppressed(&self, offset: usize) -> bool {
        let (line, _) = line_col(self.text, offset);
        self.file.suppress_lines.contains(&line)
            || (line > 1 && self.file.suppress_lines.contains(&(line - 1)))
    }

    /// The wrapper a call names: its kind, and whether its errors are `tonic::Status`.
    fn wrapper(&self, c: &syn::ExprCall) -> Option<(Kind, bool)> {
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let full = self.resolve_full(&fp.path)?;
        let s: Vec<&str> = full.iter().map(String::as_str).collect();
        let (status, name) = match s.as_slice() {
            ["connect_shim", "client", n] => (true, *n),
            ["connect_shim", "client", "connect_errors", n] => (false, *n),
            _ => return None,
        };
        let kind = match name {
            "tonic_server_stream" => Kind::Server,
            "tonic_client_stream" => Kind::Client,
            "tonic_bidi" => Kind::Bidi,
            _ => return None,
        };
        Some((kind, status))
    }

    /// `|r, o| recv.m_with_options(r, o)`: the receiver text and `m`.
    fn closure_call(&self, e: &syn::Expr, kind: Kind) -> Option<(String, String)> {
        let syn::Expr::Closure(cl) = e else {
            return None;
        };
        let params: Vec<String> = cl
            .inputs
            .iter()
            .map(|p| match p {
                syn::Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        let want = if kind == Kind::Bidi { 1 } else { 2 };
        if params.len() != want || cl.asyncness.is_some() {
            return None;
        }
        let mut body = &*cl.body;
        if let syn::Expr::Block(b) = body {
            match b.block.stmts.as_slice() {
                [syn::Stmt::Expr(e, None)] => body = e,
                _ => return None,
            }
        }
        let syn::Expr::MethodCall(m) = body else {
            return None;
        };
        let name = m.method.to_string();
        let method = name.strip_suffix("_with_options")?;
        if m.turbofish.is_some() || m.args.len() != want {
            return None;
        }
        for (a, p) in m.args.iter().zip(&params) {
            match a {
                syn::Expr::Path(ap) if ap.path.is_ident(p) => {}
                _ => return None,
            }
        }
        Some((
            self.src(range(m.receiver.span())).to_string(),
            method.to_string(),
        ))
    }

    /// `Request::new(e)` (tonic): the call.
    fn request_new<'e>(&self, e: &'e syn::Expr) -> Option<&'e syn::ExprCall> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let full = self.resolve_full(&fp.path)?;
        (full == ["tonic", "Request", "new"] && c.args.len() == 1).then_some(c)
    }

    fn is_message_value(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Struct(_) => true,
            syn::Expr::Call(c) => {
                c.args.is_empty()
                    && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "default"))
            }
            _ => false,
        }
    }

    /// Does a type name a tonic request (`tonic::Request<..>`, `impl IntoRequest<..>`)?
    fn is_tonic_request_type(&self, ty: &syn::Type) -> bool {
        match ty {
            syn::Type::Path(p) => self
                .resolve_full(&p.path)
                .is_none_or(|f| f.first().map(String::as_str) == Some("tonic")),
            syn::Type::ImplTrait(i) => i.bounds.iter().any(|b| match b {
                syn::TypeParamBound::Trait(t) => self
                    .resolve_full(&t.path)
                    .is_none_or(|f| f.first().map(String::as_str) == Some("tonic")),
                _ => false,
            }),
            syn::Type::Reference(r) => self.is_tonic_request_type(&r.elem),
            syn::Type::Paren(p) => self.is_tonic_request_type(&p.elem),
            _ => true,
        }
    }

    /// A local `name`: its one `let` in the current function, or its parameter type.
    fn local_of(&self, name: &str) -> Option<Result<&'ast syn::Local, &'ast syn::Type>> {
        let (sig, body) = *self.fns.last()?;
        let ls = lets(name, body);
        match ls.len() {
            1 => Some(Ok(ls[0])),
            0 => sig.inputs.iter().find_map(|i| match i {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(id) if id.ident == name => Some(Err(&*pt.ty)),
                    _ => None,
                },
                _ => None,
            }),
            _ => None,
        }
    }

    /// `Request::new(x)` bound to `name` and used once: the edits unwrapping it in the `let`.
    fn unwrap_request_let(
        &self,
        name: &str,
        l: &'ast syn::Local,
    ) -> Option<(Vec<Edit>, &'ast syn::Expr)> {
        let init = &l.init.as_ref()?.expr;
        let c = self.request_new(init)?;
        let (_, body) = *self.fns.last()?;
        let u = uses(name, body);
        if u.hits.len() != 1 || u.opaque {
            return None;
        }
        let r = range(c.span());
        let inner = range(c.args[0].span());
        Some((
            vec![
                Edit::delete(r.start..inner.start, "step08/request-new"),
                Edit::delete(inner.end..r.end, "step08/request-new"),
            ],
            &c.args[0],
        ))
    }

    /// `let mut name = Request::new(x);` whose other uses are `name.metadata_mut().insert(k, v);`
    /// and `name.set_timeout(d);` statements: `name` becomes `x`, and those statements build a
    /// `CallOptions` local `name_options` (recorded in `self.options`).
    fn request_metadata(
        &self,
        name: &str,
        l: &'ast syn::Local,
        call_arg: &'ast syn::Expr,
    ) -> Option<(Vec<Edit>, &'ast syn::Expr)> {
        let syn::Pat::Ident(pi) = &l.pat else {
            return None;
        };
        let mutability = pi.mutability.as_ref()?;
        let init = &l.init.as_ref()?.expr;
        let c = self.request_new(init)?;
        let (_, body) = *self.fns.last()?;
        let u = uses(name, body);
        if u.opaque {
            return None;
        }
        let opts = format!("{name}_options");
        if !uses(&opts, body).hits.is_empty() || !lets(&opts, body).is_empty() {
            return None;
        }
        let mut edits = Vec::new();
        for anc in &u.hits {
            let n = anc.len();
            let hit = anc[n - 1];
            if same(hit, call_arg) {
                continue;
            }
            let syn::Expr::MethodCall(m1) = anc.get(n.checked_sub(2)?)? else {
                return None;
            };
            if !same(&*m1.receiver, hit) {
                return None;
            }
            // The statement-level call and what it becomes.
            let (stmt, text) = if m1.method == "set_timeout" && m1.args.len() == 1 {
                let d = self.src(range(m1.args[0].span()));
                (m1, format!("{opts} = {opts}.with_timeout({d})"))
            } else if m1.method == "metadata_mut" && m1.args.is_empty() {
                let syn::Expr::MethodCall(m2) = anc.get(n.checked_sub(3)?)? else {
                    return None;
                };
                if m2.method != "insert" || m2.args.len() != 2 || !same(&*m2.receiver, anc[n - 2]) {
                    return None;
                }
                let k = self.src(range(m2.args[0].span()));
                let v = self.header_value(&m2.args[1])?;
                (m2, format!("{opts} = {opts}.with_header({k}, {v})"))
            } else {
                return None;
            };
            // Used as a statement: nothing above it but block-holding expressions.
            let depth = n - if stmt.method == "insert" { 3 } else { 2 };
            if let Some(parent) = depth.checked_sub(1).map(|i| anc[i]) {
                if !matches!(
                    parent,
                    syn::Expr::If(_)
                        | syn::Expr::While(_)
                        | syn::Expr::ForLoop(_)
                        | syn::Expr::Loop(_)
                        | syn::Expr::Block(_)
                        | syn::Expr::Unsafe(_)
                ) {
                    return None;
                }
            }
            edits.push(Edit::replace(
                range(stmt.span()),
                text,
                "step08/request-options",
            ));
        }
        let r = range(c.span());
        let inner = range(c.args[0].span());
        let mut_r = range(mutability.span());
        let after_mut = self.text[mut_r.end..].len() - self.text[mut_r.end..].trim_start().len();
        let indent = indent_at(self.text, range(l.span()).start);
        edits.push(Edit::delete(
            mut_r.start..mut_r.end + after_mut,
            "step08/request-options",
        ));
        edits.push(Edit::delete(r.start..inner.start, "step08/request-new"));
        edits.push(Edit::delete(inner.end..r.end, "step08/request-new"));
        edits.push(Edit::insert(
            range(l.span()).end,
            format!("\n{indent}let mut {opts} = connectrpc::client::CallOptions::default();"),
            "step08/request-options",
        ));
        self.options.replace(Some(opts));
        Some((edits, &c.args[0]))
    }

    /// A metadata value as `CallOptions::with_header` takes it: `"v".parse().unwrap()` and
    /// `MetadataValue::from_static("v")` are the text; string literals and `format!` as written.
    fn header_value(&self, v: &syn::Expr) -> Option<String> {
        match v {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            }) => Some(self.src(range(v.span())).to_string()),
            syn::Expr::Macro(m) if m.mac.path.is_ident("format") => {
                Some(self.src(range(v.span())).to_string())
            }
            syn::Expr::Try(t) => self.parsed_value(&t.expr),
            syn::Expr::MethodCall(m) if (m.method == "unwrap" || m.method == "expect") => {
                self.parsed_value(&m.receiver)
            }
            syn::Expr::Call(c) if c.args.len() == 1 => {
                let syn::Expr::Path(fp) = &*c.func else {
                    return None;
                };
                let full = self.resolve_full(&fp.path)?;
                let s: Vec<&str> = full.iter().map(String::as_str).collect();
                match s.as_slice() {
                    ["tonic", "metadata", .., "from_static"] => {
                        Some(self.src(range(c.args[0].span())).to_string())
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `x.parse()` (any turbofish): `x`.
    fn parsed_value(&self, e: &syn::Expr) -> Option<String> {
        let syn::Expr::MethodCall(m) = e else {
            return None;
        };
        if m.method != "parse" || !m.args.is_empty() {
            return None;
        }
        Some(self.src(range(m.receiver.span())).to_string())
    }

    /// `connect_shim::client::request_from_options(parts)`: `parts`, a request helper's
    /// `(message, CallOptions)` pair.
    fn options_pair_of<'e>(&self, e: &'e syn::Expr) -> Option<&'e syn::Expr> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let full = self.resolve_full(&fp.path)?;
        (full == ["connect_shim", "client", "request_from_options"] && c.args.len() == 1)
            .then(|| &c.args[0])
    }

    /// `(a, b)` written out: the texts of `a` and `b`.
    fn tuple_halves(&self, e: &syn::Expr) -> Option<(String, String)> {
        let syn::Expr::Tuple(t) = e else { return None };
        let [a, b] = t.elems.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        Some((
            self.src(range(a.span())).to_string(),
            self.src(range(b.span())).to_string(),
        ))
    }

    /// A request given as a helper's `(message, CallOptions)` pair: recorded in `self.parts`.
    /// `Err` when the receiver's text names `message`/`options` (the block binding them would
    /// shadow it).
    fn take_parts(&self, arg: &syn::Expr, recv: &str) -> Option<Result<(), Keep>> {
        let parts = self.options_pair_of(arg)?;
        let clash = recv
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|w| matches!(w, "message" | "requests" | "options"));
        if clash {
            return Some(Err(keep(
                "request-metadata",
                "its request is a helper's `(message, CallOptions)` pair and the client expression names `message`, `requests` or `options`",
                "bind the pair (`let (message, options) = helper(..);`) and call `<method>_with_options(message, options)`",
            )));
        }
        self.parts
            .replace(Some(self.src(range(parts.span())).to_string()));
        self.pair_tuple.replace(self.tuple_halves(parts));
        Some(Ok(()))
    }

    /// The request of a server-streaming call as a plain message: its text and edits elsewhere.
    fn message_arg(&self, arg: &'ast syn::Expr) -> Result<(String, Vec<Edit>), Keep> {
        let call_arg = arg;
        let meta = || {
            keep(
                "request-metadata",
                "its request may be a `tonic::Request` carrying metadata or a timeout",
                "pass the message to `<method>_with_options` with the metadata as `CallOptions::default().with_header(..)` / `.with_timeout(..)`",
            )
        };
        if let Some(c) = self.request_new(arg) {
            return Ok((self.src(range(c.args[0].span())).to_string(), Vec::new()));
        }
        if Self::is_message_value(arg) {
            return Ok((self.src(range(arg.span())).to_string(), Vec::new()));
        }
        let syn::Expr::Path(p) = arg else {
            return Err(meta());
        };
        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
            return Err(meta());
        };
        match self.local_of(&name) {
            Some(Ok(l)) => {
                if let syn::Pat::Type(t) = &l.pat {
                    if self.is_tonic_request_type(&t.ty) {
                        return Err(meta());
                    }
                    return Ok((name, Vec::new()));
                }
                let Some(init) = l.init.as_ref().map(|i| &*i.expr) else {
                    return Err(meta());
                };
                if Self::is_message_value(init) {
                    return Ok((name, Vec::new()));
                }
                match self
                    .unwrap_request_let(&name, l)
                    .or_else(|| self.request_metadata(&name, l, call_arg))
                {
                    Some((edits, _)) => Ok((name, edits)),
                    None => Err(meta()),
                }
            }
            Some(Err(ty)) if !self.is_tonic_request_type(ty) => Ok((name, Vec::new())),
            _ => Err(meta()),
        }
    }

    /// The request stream of a client-streaming or bidi call: what it is, edits elsewhere.
    fn stream_arg(&self, arg: &'ast syn::Expr, depth: u8) -> Result<(Outbound, Vec<Edit>), Keep> {
        let unknown = || {
            keep(
                "request-stream",
                "its request may be a `tonic::Request` (metadata) or is not a stream the step can follow",
                "pass the stream itself to the native method (`<method>_with_options` with `CallOptions` for metadata)",
            )
        };
        if depth > 4 {
            return Err(unknown());
        }
        if let Some(c) = self.request_new(arg) {
            return self.stream_arg(&c.args[0], depth + 1);
        }
        let text = self.src(range(arg.span())).to_string();
        match arg {
            syn::Expr::Call(c) => {
                let syn::Expr::Path(fp) = &*c.func else {
                    return Err(unknown());
                };
                let full = self.resolve_full(&fp.path).ok_or_else(unknown)?;
                let s: Vec<&str> = full.iter().map(String::as_str).collect();
                let first = c
                    .args
                    .first()
                    .map(|a| self.src(range(a.span())).to_string());
                match (s.as_slice(), first) {
                    (
                        ["tokio_stream", "iter"]
                        | ["futures" | "futures_util", "stream", "iter"]
                        | ["futures" | "futures_util", "stream", "iter", ..]
                        | ["connectrpc", "stream_iter"],
                        Some(a),
                    ) if c.args.len() == 1 => Ok((Outbound::Iter(a), Vec::new())),
                    ([.., "ReceiverStream" | "UnboundedReceiverStream", "new"], Some(a))
                        if s[0] == "tokio_stream" && c.args.len() == 1 =>
                    {
                        Ok((Outbound::Receiver(a), Vec::new()))
                    }
                    ([first, ..], _)
                        if !matches!(*first, "tonic" | "crate" | "self" | "super")
                            && s.len() > 1 =>
                    {
                        Ok((Outbound::Stream(text), Vec::new()))
                    }
                    _ => Err(unknown()),
                }
            }
            syn::Expr::MethodCall(m) => {
                // A combinator chain on a stream built by an external crate.
                let mut root = &*m.receiver;
                while let syn::Expr::MethodCall(r) = root {
                    root = &r.receiver;
                }
                match self.stream_arg(root, depth + 1) {
                    Ok((_, edits)) if self.request_new(root).is_none() => {
                        Ok((Outbound::Stream(text), edits))
                    }
                    _ => Err(unknown()),
                }
            }
            syn::Expr::Macro(_) => Ok((Outbound::Stream(text), Vec::new())),
            syn::Expr::Path(p) => {
                let name = p.path.get_ident().ok_or_else(unknown)?.to_string();
                match self.local_of(&name) {
                    Some(Ok(l)) => {
                        if let syn::Pat::Type(t) = &l.pat {
                            if self.is_tonic_request_type(&t.ty) {
                                return Err(unknown());
                            }
                            return Ok((Outbound::Stream(name), Vec::new()));
                        }
                        let init = l.init.as_ref().map(|i| &*i.expr).ok_or_else(unknown)?;
                        if self.request_new(init).is_some() {
                            let (edits, inner) = self
                                .unwrap_request_let(&name, l)
                                .or_else(|| self.request_metadata(&name, l, arg))
                                .ok_or_else(unknown)?;
                            let (_, more) = self.stream_arg(inner, depth + 1)?;
                            let mut edits = edits;
                            edits.extend(more);
                            return Ok((Outbound::Stream(name), edits));
                        }
                        let (_, edits) = self.stream_arg(init, depth + 1)?;
                        Ok((Outbound::Stream(name), edits))
                    }
                    Some(Err(ty)) if !self.is_tonic_request_type(ty) => {
                        Ok((Outbound::Stream(name), Vec::new()))
                    }
                    _ => Err(unknown()),
                }
            }
            syn::Expr::Paren(p) => self.stream_arg(&p.expr, depth + 1),
            _ => Err(unknown()),
        }
    }

    /// The chain of expressions from the call up: `call`, `.await`, `.map_err(..)`, `?`, ...;
    /// and the node holding the last one.
    fn enclosing_chain(&self) -> (Vec<&'ast syn::Expr>, Option<Node<'ast>>) {
        let mut links = Vec::new();
        let mut i = self.stack.len();
        let Some(Node::Expr(first)) = self.stack.last().copied() else {
            return (links, None);
        };
        links.push(first);
        i -= 1;
        while i > 0 {
            let cur = *links.last().unwrap();
            let Node::Expr(p) = self.stack[i - 1] else {
                break;
            };
            let up = match p {
                syn::Expr::Await(a) => same(&*a.base, cur),
                syn::Expr::Try(t) => same(&*t.expr, cur),
                syn::Expr::MethodCall(m) => same(&*m.receiver, cur),
                _ => false,
            };
            if !up {
                break;
            }
            links.push(p);
            i -= 1;
        }
        let parent = if i > 0 { Some(self.stack[i - 1]) } else { None };
        (links, parent)
    }

    fn method_named(e: &syn::Expr, names: &[&str]) -> bool {
        matches!(e, syn::Expr::MethodCall(m) if names.iter().any(|n| m.method == n))
    }

    /// The `let` holding a chain's last link as its whole initializer, with a plain identifier
    /// pattern: the local and its name.
    fn let_ident(
        parent: Option<Node<'ast>>,
        top: &'ast syn::Expr,
    ) -> Option<(&'ast syn::Local, &'ast syn::PatIdent)> {
        let Some(Node::Local(l)) = parent else {
            return None;
        };
        let init = l.init.as_ref()?;
        if init.diverge.is_some() || !same(&*init.expr, top) {
            return None;
        }
        match &l.pat {
            syn::Pat::Ident(i) if i.subpat.is_none() && i.by_ref.is_none() => Some((l, i)),
            _ => None,
        }
    }

    /// Rewrites of the reads of a response stream bound to `name`.
    fn reads(&self, name: &str, status: bool) -> Result<Reads, Keep> {
        let shadowed = || {
            keep(
                "stream-binding",
                format!("`{name}` is bound more than once in this function"),
                "rename the bindings, then run the step again",
            )
        };
        let (_, body) = *self.fns.last().ok_or_else(shadowed)?;
        if lets(name, body).len() != 1 {
            return Err(shadowed());
        }
        let u = uses(name, body);
        if u.opaque {
            return Ok(Reads::Adapter);
        }
        let mut edits = Vec::new();
        for anc in &u.hits {
            let n = anc.len();
            let hit = anc[n - 1];
            let (Some(syn::Expr::MethodCall(m)), Some(syn::Expr::Await(aw))) = (
                n.checked_sub(2).map(|i| anc[i]),
                n.checked_sub(3).map(|i| anc[i]),
            ) else {
                return Ok(Reads::Adapter);
            };
            if m.method != "message"
                || !m.args.is_empty()
                || m.turbofish.is_some()
                || !same(&*m.receiver, hit)
                || !same(&*aw.base, anc[n - 2])
            {
                return Ok(Reads::Adapter);
            }
            let await_end = range(aw.span()).end;
            let status = status && !unwraps(n.checked_sub(4).map(|i| &anc[i]));
            let status_text = if status { TO_STATUS } else { "" };
            // Outwards: `.map_err(..)`s, then `?`.
            let mut j = n - 3;
            let mut cur = anc[j];
            while j > 0 {
                match anc[j - 1] {
                    syn::Expr::MethodCall(mm)
                        if mm.method == "map_err" && same(&*mm.receiver, cur) =>
                    {
                        j -= 1;
                        cur = anc[j];
                    }
                    _ => break,
                }
            }
            // `?`, or `.unwrap()` / `.expect(..)`: the `Option` itself.
            let tried: Option<(usize, &syn::Expr)> = match j.checked_sub(1).map(|i| anc[i]) {
                Some(t @ syn::Expr::Try(tt)) if same(&*tt.expr, cur) => Some((j - 1, t)),
                Some(t @ syn::Expr::MethodCall(u))
                    if (u.method == "unwrap" || u.method == "expect")
                        && same(&*u.receiver, cur) =>
                {
                    Some((j - 1, t))
                }
                _ => None,
            };
            let Some((ti, t)) = tried else {
                edits.push(Edit::insert(
                    await_end,
                    format!("{status_text}.map(|m| m.map(|m| m.to_owned_message()))"),
                    "step08/owned-items",
                ));
                continue;
            };
            if status {
                edits.push(Edit::insert(await_end, TO_STATUS, "step08/error-status"));
            }
            // `while let Some(x) = <read>? { .. }` / `if let Some(x) = <read>? { .. }`.
            let body_of = |k: usize| -> Option<(&'ast syn::PatIdent, &'ast syn::Block)> {
                let syn::Expr::Let(l) = anc.get(k.checked_sub(1)?)? else {
                    return None;
                };
                if !same(&*l.expr, anc[k]) {
                    return None;
                }
                let syn::Pat::TupleStruct(ts) = &*l.pat else {
                    return None;
                };
                if !ts.path.is_ident("Some") || ts.elems.len() != 1 {
                    return None;
                }
                let syn::Pat::Ident(pi) = &ts.elems[0] else {
                    return None;
                };
                if pi.by_ref.is_some() || pi.subpat.is_some() {
                    return None;
                }
                let holder = anc.get(k.checked_sub(2)?)?;
                match holder {
                    syn::Expr::While(w) if same(&*w.cond, anc[k - 1]) => Some((pi, &w.body)),
                    syn::Expr::If(i) if same(&*i.cond, anc[k - 1]) => Some((pi, &i.then_branch)),
                    _ => None,
                }
            };
            match body_of(ti) {
                Some((pi, block)) => {
                    let x = pi.ident.to_string();
                    let used = !uses(&x, block).hits.is_empty() || uses(&x, block).opaque;
                    if !used {
                        continue;
                    }
                    let open = range(block.brace_token.span.open()).end;
                    let indent = match block.stmts.first() {
                        Some(s) => indent_at(self.text, range(s.span()).start).to_string(),
                        None => format!("{}    ", indent_at(self.text, open)),
                    };
                    let m = if pi.mutability.is_some() { "mut " } else { "" };
                    edits.push(Edit::insert(
                        open,
                        format!("\n{indent}let {m}{x} = {x}.to_owned_message();"),
                        "step08/owned-items",
                    ));
                }
                None => edits.push(Edit::insert(
                    range(t.span()).end,
                    ".map(|m| m.to_owned_message())",
                    "step08/owned-items",
                )),
            }
        }
        Ok(Reads::Native(edits))
    }

    fn handle(&mut self, call: &'ast syn::ExprCall) {
        let Some((kind, status)) = self.wrapper(call) else {
            return;
        };
        let at = range(call.span()).start;
        let what = match kind {
            Kind::Server => "server-streaming",
            Kind::Client => "client-streaming",
            Kind::Bidi => "bidi",
        };
        if self.suppressed(at) {
            self.out.items.push(item(
                at,
                "streaming-call",
                ItemKind::Skipped,
                "left alone (ignore marker)".into(),
                "",
            ));
            return;
        }
        let result = self.plan_call_rewrite(call, kind, status);
        let report = |k: Keep| {
            item(
                at,
                k.rule,
                ItemKind::Manual,
                format!("{what} call kept on its connect_shim wrapper: {}", k.why),
                k.what,
            )
        };
        match result {
            Ok(edits) => {
                if let Err(o) = self.out.commit(edits) {
                    let k = keep(
                        "streaming-call",
                        format!("not rewritten: {o}"),
                        "rewrite this call by hand",
                    );
                    self.out.items.push(report(k));
                }
            }
            Err(k) => self.out.items.push(report(k)),
        }
    }

    /// The edits that move one streaming call off the shim's tonic-shaped helper, or why it
    /// stays.
    fn plan_call_rewrite(
        &self,
        call: &'ast syn::ExprCall,
        kind: Kind,
        status: bool,
    ) -> Result<Vec<Edit>, Keep> {
        if call.args.len() != 2 {
            return Err(shape());
        }
        let (recv, method) = self.closure_call(&call.args[1], kind).ok_or_else(|| {
            keep(
                "closure",
                "its closure is not `|request, options| client.<method>_with_options(request, options)`",
                "call the client's method directly",
            )
        })?;
        self.options.replace(None);
        self.parts.replace(None);
        self.pair_tuple.replace(None);
        let (links, parent) = self.enclosing_chain();
        if !matches!(links.get(1), Some(syn::Expr::Await(_))) {
            return Err(shape());
        }
        let await_end = range(links[1].span()).end;
        let mut i = 2;
        while links
            .get(i)
            .is_some_and(|l| Self::method_named(l, &["map_err"]))
        {
            i += 1;
        }
        let exposed = match links.get(i) {
            Some(syn::Expr::Try(_)) => true,
            Some(l) if Self::method_named(l, &["unwrap", "expect"]) => true,
            _ => false,
        };
        let exposed_end = if exposed {
            let e = range(links[i].span()).end;
            i += 1;
            Some(e)
        } else {
            None
        };
        let mut edits = Vec::new();
        let call_r = range(call.span());
        if status && !unwraps(links.get(2)) {
            edits.push(Edit::insert(await_end, TO_STATUS, "step08/error-status"));
        }
        let native_arg = self.native_arg(call, kind, &recv, &mut edits)?;
        let answer = Answer {
            parent,
            top: links.last().unwrap(),
            rest: &links[i..],
            exposed,
            exposed_end,
        };
        let mut prefix = String::new();
        match kind {
            Kind::Client => self.plan_client_answer(&answer, &mut edits)?,
            Kind::Server => self.plan_server_answer(&answer, status, &mut edits, &mut prefix)?,
            Kind::Bidi => self.plan_bidi(call, &answer, status, &mut edits)?,
        }
        let call = NativeCall {
            range: call_r,
            kind,
            prefix,
            recv,
            method,
            arg: native_arg,
        };
        edits.push(self.native_call(call));
        Ok(edits)
    }

    /// The message (or request stream) argument of the native call, its edits pushed; empty
    /// when a request helper's parts or a bidi pump carry it.
    fn native_arg(
        &self,
        call: &'ast syn::ExprCall,
        kind: Kind,
        recv: &str,
        edits: &mut Vec<Edit>,
    ) -> Result<String, Keep> {
        Ok(match kind {
            Kind::Server | Kind::Client
                if self.take_parts(&call.args[0], recv).transpose()?.is_some() =>
            {
                String::new()
            }
            Kind::Server => {
                let (a, e) = self.message_arg(&call.args[0])?;
                edits.extend(e);
                a
            }
            Kind::Client => {
                let arg = &call.args[0];
                let inner = match self.request_new(arg) {
                    Some(c) => &c.args[0],
                    None => arg,
                };
                let (_, e) = self.stream_arg(arg, 0)?;
                edits.extend(e);
                self.src(range(inner.span())).to_string()
            }
            Kind::Bidi => String::new(),
        })
    }

    /// The `Result` itself: only error inspection or a `match` with `Ok(_)`.
    fn ok_uses_discarded(rest: &[&'ast syn::Expr]) -> Result<(), Keep> {
        match rest.first() {
            Some(l)
                if Self::method_named(
                    l,
                    &["err", "is_err", "is_ok", "unwrap_err", "expect_err"],
                ) =>
            {
                Ok(())
            }
            Some(_) => Err(shape()),
            None => Err(shape()),
        }
    }

    /// A client-streaming call's answer: `into_inner()` is `into_owned()`, a bound response
    /// is read owned, a `match` reads its `Ok` arm.
    fn plan_client_answer(&self, a: &Answer<'_, 'ast>, edits: &mut Vec<Edit>) -> Result<(), Keep> {
        let (parent, top, rest) = (a.parent, a.top, a.rest);
        if a.exposed {
            match rest.first() {
                Some(syn::Expr::MethodCall(m)) if m.method == "into_inner" && m.args.is_empty() => {
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "into_owned",
                        "step08/response",
                    ));
                }
                Some(_) => return Err(response_metadata()),
                None => match parent {
                    Some(Node::Stmt) => {}
                    _ => {
                        let (_, pi) = Self::let_ident(parent, top).ok_or_else(shape)?;
                        edits.extend(
                            self.response_into_owned(&pi.ident.to_string())
                                .ok_or_else(response_metadata)?,
                        );
                    }
                },
            }
        } else if rest.is_empty() {
            edits.extend(self.match_arms(parent, top, true).ok_or_else(shape)?);
        } else {
            Self::ok_uses_discarded(rest)?;
        }
        Ok(())
    }

    /// A server-streaming call's answer: the stream read natively when every read is
    /// `message().await`, else over the shim's adapter to a `Stream` of owned messages
    /// (`prefix`: text before the native call, for an adapter wrapped around it).
    fn plan_server_answer(
        &self,
        a: &Answer<'_, 'ast>,
        status: bool,
        edits: &mut Vec<Edit>,
        prefix: &mut String,
    ) -> Result<(), Keep> {
        let (parent, top, rest) = (a.parent, a.top, a.rest);
        if !a.exposed {
            if rest.is_empty() {
                edits.extend(self.match_arms(parent, top, false).ok_or_else(shape)?);
            } else {
                Self::ok_uses_discarded(rest)?;
            }
            return Ok(());
        }
        match rest.first() {
            Some(syn::Expr::MethodCall(m)) if m.method == "into_inner" && m.args.is_empty() => {
                let del = range(m.receiver.span()).end..range(m.span()).end;
                let bound = if rest.len() == 1 {
                    Self::let_ident(parent, top)
                } else {
                    None
                };
                let native_reads = match bound {
                    Some((_, pi)) => match self.reads(&pi.ident.to_string(), status)? {
                        Reads::Native(e) => Some(e),
                        Reads::Adapter => None,
                    },
                    None => None,
                };
                match (native_reads, bound) {
                    (Some(e), _) => {
                        edits.push(Edit::delete(del, "step08/into-inner"));
                        edits.extend(e);
                    }
                    (None, Some((local, pi))) => {
                        // `let s = <call>?;` then `let s = <Stream of owned messages>;`
                        // (the `mut` moves to the second binding).
                        let name = pi.ident.to_string();
                        edits.push(Edit::delete(del, "step08/into-inner"));
                        edits.push(Edit::replace(
                            range(pi.span()),
                            name.clone(),
                            "step08/stream-adapter",
                        ));
                        let m = if pi.mutability.is_some() { "mut " } else { "" };
                        edits.push(self.rebind_messages(local, &name, m, status));
                    }
                    (None, None) => {
                        let (pre, post) = stream_wrap(status);
                        *prefix = pre;
                        edits.push(Edit::replace(del, post, "step08/stream-adapter"));
                    }
                }
            }
            Some(_) => return Err(response_metadata()),
            None => edits.extend(self.bound_server_response(a, status)?),
        }
        Ok(())
    }

    /// `let response = <call>?;` then `response.into_inner()` once: the stream rebound as
    /// owned messages after the `let`, `.into_inner()` deleted.
    fn bound_server_response(&self, a: &Answer<'_, 'ast>, status: bool) -> Result<Vec<Edit>, Keep> {
        let (parent, top) = (a.parent, a.top);
        let (_, pi) = Self::let_ident(parent, top).ok_or_else(shape)?;
        let (_, body) = *self.fns.last().ok_or_else(shape)?;
        let name = pi.ident.to_string();
        let u = uses(&name, body);
        if u.opaque || u.hits.len() != 1 || lets(&name, body).len() != 1 {
            return Err(response_metadata());
        }
        let anc = &u.hits[0];
        let n = anc.len();
        let Some(syn::Expr::MethodCall(m)) = n.checked_sub(2).map(|k| anc[k]) else {
            return Err(response_metadata());
        };
        if m.method != "into_inner" || !m.args.is_empty() || !same(&*m.receiver, anc[n - 1]) {
            return Err(response_metadata());
        }
        // The stream is read through its use `s.into_inner()`: `mut`
        // unless that is passed along or consumed by a by-value method.
        let m_needed = match n.checked_sub(3).map(|k| anc[k]) {
            Some(syn::Expr::MethodCall(p)) if same(&*p.receiver, anc[n - 2]) => {
                !BY_VALUE.iter().any(|b| p.method == b)
            }
            _ => false,
        };
        let (local, _) = Self::let_ident(parent, top).ok_or_else(shape)?;
        let mt = if m_needed { "mut " } else { "" };
        Ok(vec![
            self.rebind_messages(local, &name, mt, status),
            Edit::delete(
                range(m.receiver.span()).end..range(m.span()).end,
                "step08/into-inner",
            ),
        ])
    }

    /// A bidi call bound as `let stream = <call>.await?.into_inner();`: split into its send and
    /// receive halves, a task pumping the outbound messages into the send half.
    fn plan_bidi(
        &self,
        call: &'ast syn::ExprCall,
        a: &Answer<'_, 'ast>,
        status: bool,
        edits: &mut Vec<Edit>,
    ) -> Result<(), Keep> {
        if !a.exposed {
            return Err(bidi_shape());
        }
        let (local, pi) = Self::let_ident(a.parent, a.top).ok_or_else(bidi_shape)?;
        let name = pi.ident.to_string();
        match a.rest {
            [syn::Expr::MethodCall(m)] if m.method == "into_inner" && m.args.is_empty() => {
                edits.push(Edit::replace(
                    range(m.method.span()),
                    "into_split",
                    "step08/bidi",
                ));
            }
            [] => {
                let (_, body) = *self.fns.last().ok_or_else(bidi_shape)?;
                let u = uses(&name, body);
                if !u.hits.is_empty() || u.opaque {
                    return Err(response_metadata());
                }
                edits.push(Edit::insert(
                    a.exposed_end.unwrap(),
                    ".into_split()",
                    "step08/bidi",
                ));
            }
            _ => return Err(bidi_shape()),
        }
        let send = format!("{}_send", name.trim_start_matches('_'));
        let (_, body) = *self.fns.last().ok_or_else(bidi_shape)?;
        if !uses(&send, body).hits.is_empty() || !lets(&send, body).is_empty() {
            return Err(keep(
                "stream-binding",
                format!("`{send}`, the name for the send half, is taken in this function"),
                "rename that binding, then run the step again",
            ));
        }
        let reads = if name.starts_with('_') && uses(&name, body).hits.is_empty() {
            Reads::Native(Vec::new())
        } else {
            self.reads(&name, status)?
        };
        let indent = indent_at(self.text, range(local.span()).start).to_string();
        let outbound = self.bidi_outbound(call, local, &name, body, &indent, edits)?;
        let recv_mut = if pi.mutability.is_some() && matches!(reads, Reads::Native(_)) {
            "mut "
        } else {
            ""
        };
        let send_mut = "mut ";
        edits.push(Edit::replace(
            range(pi.span()),
            format!("({send_mut}{send}, {recv_mut}{name})"),
            "step08/bidi",
        ));
        let mut after = bidi_pump(&outbound, &send, &indent);
        match reads {
            Reads::Native(e) => edits.extend(e),
            Reads::Adapter => {
                let m = if pi.mutability.is_some() { "mut " } else { "" };
                let wrapped = if status {
                    format!("connect_shim::client::streaming_from_bidi({name})")
                } else {
                    owned_messages(&name, Some(&indent))
                };
                after.push_str(&format!("\n{indent}let {m}{name} = {wrapped};"));
            }
        }
        edits.push(Edit::insert(
            range(local.span()).end,
            after,
            "step08/bidi-pump",
        ));
        Ok(())
    }

    /// The outbound messages of a bidi call: its request stream, or the stream half of a
    /// request helper's `(stream, CallOptions)` pair (split before the call, the options to the
    /// call).
    fn bidi_outbound(
        &self,
        call: &'ast syn::ExprCall,
        local: &syn::Local,
        name: &str,
        body: &syn::Block,
        indent: &str,
        edits: &mut Vec<Edit>,
    ) -> Result<Outbound, Keep> {
        let pair = self
            .options_pair_of(&call.args[0])
            .map(|p| (p, self.tuple_halves(p)));
        let (outbound, more) = match pair {
            // A request helper's `(stream, CallOptions)` pair: split before the call,
            // the options to the call, the stream to the pump.
            Some((_, Some((a, b)))) if is_ident(&a) && is_ident(&b) => {
                self.options.replace(Some(b));
                (Outbound::Stream(a), Vec::new())
            }
            Some((pair, _)) => {
                let base = name.trim_start_matches('_');
                let (out, opts) = (format!("{base}_outbound"), format!("{base}_options"));
                for n in [&out, &opts] {
                    if !uses(n, body).hits.is_empty() || !lets(n, body).is_empty() {
                        return Err(keep(
                            "stream-binding",
                            format!("`{n}`, the name for a half of the request helper's pair, is taken in this function"),
                            "rename that binding, then run the step again",
                        ));
                    }
                }
                edits.push(Edit::insert(
                    range(local.span()).start,
                    format!(
                        "let ({out}, {opts}) = {};\n{indent}",
                        self.src(range(pair.span()))
                    ),
                    "step08/request-options",
                ));
                self.options.replace(Some(opts));
                (Outbound::Stream(out), Vec::new())
            }
            None => self.stream_arg(&call.args[0], 0)?,
        };
        edits.extend(more);
        Ok(outbound)
    }

    /// The native call replacing the wrapper call: with a request helper's pair written out,
    /// its parts' block, its options, or the message alone.
    fn native_call(&self, call: NativeCall) -> Edit {
        let NativeCall {
            range: call_r,
            kind,
            prefix,
            recv,
            method,
            arg: native_arg,
        } = call;
        if let Some((a, b)) = self.pair_tuple.borrow().as_ref() {
            // The pair written out, `(r, r_options)`: its halves passed as they are.
            return Edit::replace(
                call_r,
                format!("{prefix}{recv}.{method}_with_options({a}, {b})"),
                "step08/native-call",
            );
        }
        if let Some(parts) = self.parts.borrow().as_deref() {
            let first = if kind == Kind::Client {
                "requests"
            } else {
                "message"
            };
            let block = crate::steps::metadata::parts_block(
                self.text,
                call_r.start,
                first,
                parts,
                &format!("{recv}.{method}_with_options({first}, options)"),
            );
            return Edit::replace(call_r, format!("{prefix}{block}"), "step08/native-call");
        }
        let native = match (self.options.borrow().as_deref(), kind) {
            (Some(o), Kind::Bidi) => format!("{prefix}{recv}.{method}_with_options({o})"),
            (Some(o), _) => format!("{prefix}{recv}.{method}_with_options({native_arg}, {o})"),
            (None, _) => format!("{prefix}{recv}.{method}({native_arg})"),
        };
        Edit::replace(call_r, native, "step08/native-call")
    }

    /// After `local` (binding a native response stream to `name`): `let [mut] name = <a
    /// Stream of owned messages over name>;`.
    fn rebind_messages(&self, local: &syn::Local, name: &str, m: &str, status: bool) -> Edit {
        let indent = indent_at(self.text, range(local.span()).start).to_string();
        let wrapped = if status {
            format!("connect_shim::client::streaming_from_server_stream({name})")
        } else {
            owned_messages(name, Some(&indent))
        };
        Edit::insert(
            range(local.span()).end,
            format!("\n{indent}let {m}{name} = {wrapped};"),
            "step08/stream-adapter",
        )
    }

    /// A client-streaming response bound to `name`: every use is `name.into_inner()`.
    fn response_into_owned(&self, name: &str) -> Option<Vec<Edit>> {
        let (_, body) = *self.fns.last()?;
        self.owned_reads_in(name, |u| u.visit_block(body))
    }

    fn owned_reads_in(&self, name: &str, f: impl FnOnce(&mut Uses<'ast>)) -> Option<Vec<Edit>> {
        let mut u = Uses {
            name: name.to_string(),
            stack: Vec::new(),
            hits: Vec::new(),
            opaque: false,
        };
        f(&mut u);
        if u.opaque {
            return None;
        }
        let mut edits = Vec::new();
        for anc in &u.hits {
            let n = anc.len();
            let syn::Expr::MethodCall(m) = anc.get(n.checked_sub(2)?)? else {
                return None;
            };
            if m.method != "into_inner" || !m.args.is_empty() || !same(&*m.receiver, anc[n - 1]) {
                return None;
            }
            edits.push(Edit::replace(
                range(m.method.span()),
                "into_owned",
                "step08/response",
            ));
        }
        Some(edits)
    }

    /// `match <call>.await { Ok(..) => .., Err(e) => .. }`: the `Ok` arms bind nothing (or, for
    /// a client stream, a response read with `into_inner()`).
    fn match_arms(
        &self,
        parent: Option<Node<'ast>>,
        top: &'ast syn::Expr,
        client: bool,
    ) -> Option<Vec<Edit>> {
        let Some(Node::Expr(syn::Expr::Match(mt))) = parent else {
            return None;
        };
        if !same(&*mt.expr, top) {
            return None;
        }
        let mut edits = Vec::new();
        for arm in &mt.arms {
            let syn::Pat::TupleStruct(ts) = &arm.pat else {
                continue;
            };
            if !ts.path.is_ident("Ok") {
                continue;
            }
            match ts.elems.first() {
                Some(syn::Pat::Wild(_)) => {}
                Some(syn::Pat::Ident(pi)) if client && pi.subpat.is_none() => {
                    let n = pi.ident.to_string();
                    edits.extend(self.owned_reads_in(&n, |u| {
                        if let Some((_, g)) = &arm.guard {
                            u.visit_expr(g);
                        }
                        u.visit_expr(&arm.body);
                    })?);
                }
                _ => return None,
            }
        }
        Some(edits)
    }
}

/// The answer of a wrapper call: the links of the chain above it and where it goes.
struct Answer<'l, 'ast> {
    parent: Option<Node<'ast>>,
    /// The outermost link of the chain.
    top: &'ast syn::Expr,
    /// The links after the call's `.await`, `map_err`s and `?` / `unwrap` / `expect`.
    rest: &'l [&'ast syn::Expr],
    /// The answer is exposed by `?` / `unwrap` / `expect`.
    exposed: bool,
    /// Where that exposing link ends.
    exposed_end: Option<usize>,
}

/// The native call a wrapper call becomes.
struct NativeCall {
    range: Range<usize>,
    kind: Kind,
    /// Text before the call (an adapter wrapped around it).
    prefix: String,
    /// The client's text and the method.
    recv: String,
    method: String,
    /// The message or request stream argument (empty when parts or a pump carry it).
    arg: String,
}

fn shape() -> Keep {
    keep(
        "call-shape",
        "the way its answer is used is not one the step rewrites",
        "call the native method (`client.<method>(..)`) and read the stream with `message().await`",
    )
}

fn response_metadata() -> Keep {
    keep(
        "response-metadata",
        "its response is used beyond `into_inner()` (metadata, extensions)",
        "read headers with `headers()` on the native response (`trailers()` after the end)",
    )
}

fn bidi_shape() -> Keep {
    keep(
        "bidi-shape",
        "it is not bound as `let stream = <call>.await?.into_inner();`",
        "call `client.<method>().await?` and use the handle: `send`, `close_send`, `message`, `into_split`",
    )
}

/// The task forwarding a bidi call's outbound messages to its send half `send`, then closing
/// it; it ends early when a send fails (the call is over). Inserted after the call's `let`.
fn bidi_pump(outbound: &Outbound, send: &str, indent: &str) -> String {
    // `pre`: statements run before the task (the outbound stream built where the call was).
    let task = |pre: Option<String>, head: String| {
        let (open, i, close) = match pre {
            None => (
                "async move {".to_string(),
                indent.to_string(),
                "});".to_string(),
            ),
            Some(p) => (
                format!("{{\n{indent}    {p}\n{indent}    async move {{"),
                format!("{indent}    "),
                format!("}}\n{indent}}});"),
            ),
        };
        format!(
            "\n{indent}tokio::spawn({open}\n{i}    {head} {{\n{i}        if {send}.send(message).await.is_err() {{\n{i}            break;\n{i}        }}\n{i}    }}\n{i}    {send}.close_send();\n{i}{close}"
        )
    };
    let next = "while let Some(message) = futures::StreamExt::next(&mut outbound).await";
    match outbound {
        Outbound::Receiver(rx) => task(
            None,
            format!("let mut outbound = {rx};\n{indent}    while let Some(message) = outbound.recv().await"),
        ),
        Outbound::Iter(it) => task(None, format!("for message in {it}")),
        Outbound::Stream(s) if is_ident(s) => task(
            None,
            format!("let mut outbound = std::pin::pin!({s});\n{indent}    {next}"),
        ),
        Outbound::Stream(s) => task(
            Some(format!("let mut outbound = Box::pin({s});")),
            next.to_string(),
        ),
    }
}

impl<'ast> Visit<'ast> for Walker<'_, 'ast> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        syn::visit::visit_block(self, b);
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

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.fns.push((&f.sig, &f.block));
        syn::visit::visit_item_fn(self, f);
        self.fns.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.fns.push((&f.sig, &f.block));
        syn::visit::visit_impl_item_fn(self, f);
        self.fns.pop();
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(b) = &f.default {
            self.fns.push((&f.sig, b));
            syn::visit::visit_trait_item_fn(self, f);
            self.fns.pop();
        }
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Calls inside macro arguments are not rewritten: listed, never skipped silently.
        let tokens = m.tokens.to_string();
        let named = tokens
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|t| {
                matches!(
                    t,
                    "tonic_server_stream" | "tonic_client_stream" | "tonic_bidi"
                )
            });
        if named && tokens.contains("_with_options") {
            let at = range(m.path.span()).start;
            self.out.items.push(item(
                at,
                "in-macro",
                ItemKind::Manual,
                "a connect_shim streaming call inside a macro's arguments is not rewritten".into(),
                "bind the call's answer to a local outside the macro, then run the step again",
            ));
        }
        syn::visit::visit_macro(self, m);
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        self.stack.push(Node::Stmt);
        syn::visit::visit_stmt(self, s);
        self.stack.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        self.stack.push(Node::Local(l));
        syn::visit::visit_local(self, l);
        self.stack.pop();
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.stack.push(Node::Expr(e));
        if let syn::Expr::Call(c) = e {
            self.handle(c);
        }
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
}

/// Step 8 before the files: nothing to learn; the `futures` dependency the native streaming
/// code may need is declared by the pass.
pub fn prepare(_ws: &crate::workspace::Workspace) -> crate::steps::common::prepare::Prepared {
    crate::steps::common::prepare::Prepared {
        manifest_rule: Some("step08/manifest"),
        ..Default::default()
    }
}
