//! Handler unit tests off `connect_shim::tonic_call_connect!`.
//!
//! Steps 2 and 3 keep handler tests that called a tonic handler directly compiling through the
//! shim: `connect_shim::tonic_call_connect!(svc, method, tonic::Request::new(msg))` builds the
//! connect request from the tonic one and gives back `Result<tonic::Response<B>, ConnectError>`.
//! Where the tonic request is only a message wrapped in `Request::new`, connectrpc's own way of
//! unit-testing a handler (`ServiceRequest::from_parts`, see connectrpc's `request.rs`) says the
//! same thing without the shim:
//!
//! ```text
//! connect_shim::tonic_call_connect!(svc, say_hello, Request::new(HelloRequest { .. }))
//! // becomes
//! async {
//!     let body = buffa::Message::encode_to_bytes(&HelloRequest { .. });
//!     let view = buffa::view::MessageView::decode_view(&body).unwrap();
//!     svc.say_hello(connectrpc::RequestContext::new(Default::default()), connectrpc::ServiceRequest::from_parts(&view, &body)).await
//! }
//! ```
//!
//! A request bound by the statement just before (`let request = Request::new(msg);`) and named
//! nowhere else is taken in too (the statement goes). The `.await` stays where it was. The Ok value is then a `connectrpc::Response<B>`, so what the
//! test does with it is rewritten on the expression chain and on `let` bindings of it (found by
//! name from the binding on): `into_inner()` -> `.body`, `get_ref()` -> `&..body`, `get_mut()` ->
//! `&mut ..body`, `metadata().get(k)` (`contains_key`, `len`, `is_empty`) -> `.headers.get(k)`.
//! The error side is a `ConnectError` already (step 3). Server-streaming handlers go the same way
//! (`.body` is the `ServiceStream`).
//!
//! Requests that carry metadata and extensions go native too. A request helper of the file
//! (`fn with_caller<T>(message: T) -> tonic::Request<T>` that only does `Request::new`,
//! `extensions_mut().insert(..)` and `metadata_mut().insert(..)` / `insert_bin(..)` and returns
//! the request) returns `(T, connectrpc::RequestContext)` instead: the context gets the headers
//! (`headers_mut().insert(k, v)`; binary values through the `grpc_bin_encode` helper step 6
//! writes, [`crate::steps::metadata`]) and the extensions (`with_extensions`, on a clone of the
//! context's, since connectrpc names no `http` type the crate could use); it changes only when
//! every mention of it is a call rewritten here (else those calls stay, listed). A local request
//! (`let mut request = helper(..)` or `Request::new(..)`) set up by such insertions in the same
//! block and named nowhere after the call becomes `let (request, mut ctx) = ..;` with the
//! insertions on `ctx`. On the response, `metadata().get_bin(k).unwrap().to_bytes()` becomes
//! `grpc_bin_decode(headers.get(k).unwrap())`.
//!
//! Left on the macro and listed (`step09/handler-test`): a tonic request built another way (a
//! value step 9 does not convert, a request read after the call), a result used in a way that
//! has no connectrpc equivalent (`extensions()`, passed on whole, matched), and `tonic_call!`,
//! whose errors are tonic's. The `use tonic::{Request, Response}` items of the modules whose calls were
//! rewritten go when nothing else names them.

use std::collections::HashSet;
use std::ops::Range;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::edit::{indent_at, Edit};
use crate::engine::{ItemKind, ManualItem};
use crate::resolve::{range, FileIndex, ScopeId, ScopeKind};
use crate::steps::common::tokens::Tok;

const RULE: &str = "step09/handler-test";

/// What the rewrite of one file's handler tests gives.
#[derive(Debug, Default, Clone)]
pub struct Rewrite {
    pub edits: Vec<Edit>,
    pub items: Vec<ManualItem>,
    /// The imports of the rewritten test modules that nothing names any more (for a file given
    /// alone; in a workspace run, step 9's general import cleanup sees them).
    pub imports: Vec<Edit>,
}

/// Can the file hold a shim handler call?
pub fn prefilter(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"tonic_call").is_some()
}

/// Rewrite the resolved `tonic_call_connect!` calls of a file; list the ones that stay.
pub fn rewrite(text: &str, file: &syn::File, idx: &FileIndex) -> Rewrite {
    let mut out = Rewrite::default();
    if !prefilter(text) {
        return out;
    }
    let mut toks = Vec::new();
    let mut groups = Vec::new();
    flatten(
        quote::ToTokens::to_token_stream(file),
        &mut toks,
        &mut groups,
    );
    let close_of = matching(&toks);
    let mut prep = Prep {
        idx,
        tr: crate::resolve::ScopeTracker::new(idx),
        text,
        blocks: Vec::new(),
        helpers: Vec::new(),
    };
    syn::visit::Visit::visit_file(&mut prep, file);
    let Prep {
        blocks,
        mut helpers,
        ..
    } = prep;
    for h in &mut helpers {
        h.sites = (0..toks.len())
            .filter(|&i| {
                toks[i].is_ident(&h.name)
                    && !(i > 0 && toks[i - 1].is_punct('.'))
                    && toks[i].range().start != h.decl
            })
            .map(|i| toks[i].range().start)
            .collect();
    }
    let mut done: Vec<(usize, ScopeId, Converted)> = Vec::new();
    // The scope of every token (blocks and inline modules that hold names).
    let mut stack: Vec<(usize, ScopeId)> = vec![(usize::MAX, idx.root())];
    let mut replaced: Vec<Range<usize>> = Vec::new();
    let mut modules: HashSet<ScopeId> = HashSet::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open(Delimiter::Brace, r) => {
                if let Some(&s) = idx.scope_at.get(&r.start).filter(|_| r.start != 0) {
                    stack.push((close_of[i], s));
                }
            }
            Tok::Close(..) => {
                while stack.len() > 1 && stack.last().is_some_and(|(c, _)| *c == i) {
                    stack.pop();
                }
            }
            // Any macro call: `use connect_shim::tonic_call_connect as call;` makes `call!` one.
            Tok::Ident(..) if toks.get(i + 1).is_some_and(|t| t.is_punct('!')) => {
                let scope = stack.last().unwrap().1;
                if let Some(call) = shim_call(&toks, &groups, &close_of, idx, scope, i) {
                    let c = Calls {
                        text,
                        toks: &toks,
                        close_of: &close_of,
                        idx,
                        scope,
                        blocks: &blocks,
                        helpers: &helpers,
                        decode: std::cell::Cell::new(false),
                    };
                    match c.convert(&call) {
                        Ok(conv) => done.push((toks[call.start].range().start, scope, conv)),
                        Err((at, message, note)) => out.items.push(ManualItem {
                            offset: at,
                            rule: RULE.into(),
                            message,
                            note: note.into(),
                            kind: ItemKind::Manual,
                        }),
                    }
                    i = call.close + 1;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    // A request helper changes only when every mention of it is in a call rewritten here; the
    // calls through the others stay on the shim.
    let used: Vec<usize> = done
        .iter()
        .filter_map(|(_, _, c)| c.helper.map(|(_, site)| site))
        .collect();
    let converted: Vec<bool> = helpers
        .iter()
        .map(|h| h.sites.iter().all(|s| used.contains(s)))
        .collect();
    let (mut encode_in, mut decode_in): (Vec<ScopeId>, Vec<ScopeId>) = (Vec::new(), Vec::new());
    for (at, scope, conv) in done {
        if let Some((h, _)) = conv.helper.filter(|(h, _)| !converted[*h]) {
            out.items.push(ManualItem {
                offset: at,
                rule: RULE.into(),
                message: format!(
                    "the request helper `{}` is also used where step 9 does not rewrite it (outside handler calls it can make native): this handler test stays on the shim",
                    helpers[h].name
                ),
                note: "make every use of the helper a handler call through `tonic_call_connect!` (or build those requests without it), then run step 9 again; connect-shim stays until then".into(),
                kind: ItemKind::Manual,
            });
            continue;
        }
        let module = module_of(idx, scope);
        replaced.extend(conv.edits.iter().map(|e| e.range.clone()));
        modules.insert(module);
        out.edits.extend(conv.edits);
        if conv.encode {
            encode_in.push(module);
        }
        if conv.decode {
            decode_in.push(module);
        }
    }
    for (h, ok) in helpers.iter().zip(&converted) {
        if *ok && !h.sites.is_empty() {
            replaced.extend(h.edits.iter().map(|e| e.range.clone()));
            out.edits.extend(h.edits.iter().cloned());
            if h.encode {
                encode_in.push(h.module);
            }
        }
    }
    for (m, e, d) in bin_helper_places(text, &encode_in, &decode_in) {
        let helpers_text = crate::steps::metadata::bin_helpers(e, d);
        out.edits
            .push(helpers_edit(text, idx, &toks, &close_of, m, &helpers_text));
    }
    if !replaced.is_empty() {
        out.imports = unused_imports(file, idx, text, &replaced, &modules);
    }
    out
}

/// Where the base64 helpers of binary metadata (step 6's) go: once per file, in the first
/// module that needs them (`encode_in`, `decode_in`), unless the file has them; each place
/// with whether it gets the encoder and the decoder.
fn bin_helper_places(
    text: &str,
    encode_in: &[ScopeId],
    decode_in: &[ScopeId],
) -> Vec<(ScopeId, bool, bool)> {
    let encode = !text.contains(&format!("fn {}(", crate::steps::metadata::BIN_ENCODE));
    let decode = !text.contains(&format!("fn {}(", crate::steps::metadata::BIN_DECODE));
    let enc_m = encode_in.first().copied().filter(|_| encode);
    let dec_m = decode_in.first().copied().filter(|_| decode);
    match (enc_m, dec_m) {
        (Some(a), Some(b)) if a == b => vec![(a, true, true)],
        (a, b) => a
            .map(|a| (a, true, false))
            .into_iter()
            .chain(b.map(|b| (b, false, true)))
            .collect(),
    }
}

/// Inserts `helpers` (items) at the end of module `m` (its closing brace's line, indented as
/// its items), or at the end of the file for the file's own module.
fn helpers_edit(
    text: &str,
    idx: &FileIndex,
    toks: &[Tok],
    close_of: &[usize],
    m: ScopeId,
    helpers: &str,
) -> Edit {
    let open = idx
        .scope_at
        .iter()
        .find(|(_, s)| **s == m)
        .map(|(o, _)| *o)
        .filter(|_| m != idx.root());
    let close = open.and_then(|o| {
        let i = toks
            .iter()
            .position(|t| matches!(t, Tok::Open(Delimiter::Brace, r) if r.start == o))?;
        Some(toks[close_of[i]].range().start)
    });
    match close {
        Some(c) if text[crate::edit::line_start(text, c)..c].trim().is_empty() => {
            let at = crate::edit::line_start(text, c);
            let inner = format!("{}    ", &text[at..c]);
            let mut s = String::new();
            for line in helpers.lines() {
                if !line.is_empty() {
                    s.push_str(&inner);
                }
                s.push_str(line);
                s.push('\n');
            }
            Edit::insert(at, s, RULE)
        }
        _ => {
            let mut s = helpers.to_string();
            if !text.ends_with('\n') {
                s.insert(0, '\n');
            }
            Edit::insert(text.len(), s, RULE)
        }
    }
}

/// `use tonic::{Request, Response}` leaves of `modules` that nothing names once the calls in
/// `replaced` are native. Only the modules whose tests were rewritten: what other modules import
/// is the business of step 9's general import cleanup.
fn unused_imports(
    file: &syn::File,
    idx: &FileIndex,
    text: &str,
    replaced: &[Range<usize>],
    modules: &HashSet<ScopeId>,
) -> Vec<Edit> {
    let edits = crate::rules::rename::unused_import_removals(
        file,
        idx,
        text,
        replaced,
        |segs| {
            matches!(
                segs,
                ["tonic", "Request"]
                    | ["tonic", "Response"]
                    | ["connect_shim", "tonic_call_connect"]
            )
        },
        RULE,
    );
    let local: Vec<Range<usize>> = idx
        .use_items
        .iter()
        .filter(|u| modules.contains(&module_of(idx, u.scope)))
        .map(|u| u.range.clone())
        .collect();
    edits
        .into_iter()
        .filter(|e| {
            local.iter().any(|u| {
                // A whole-line deletion covers the item; a partial one lies inside it.
                (e.range.start <= u.start && u.end <= e.range.end)
                    || (u.start <= e.range.start && e.range.end <= u.end)
            })
        })
        .collect()
}

/// Whether the compiler can tell the message's type from the expression alone: the native call
/// hands it to `buffa::Message::encode_to_bytes(&M)`, which nothing else ties to the handler's
/// request type. `Default::default()`, `x.into()`, `From::from(x)` and the like do not.
fn type_evident(e: &syn::Expr) -> bool {
    const TRAITS: [&str; 5] = ["Default", "From", "Into", "TryFrom", "TryInto"];
    const GENERIC: [&str; 6] = ["into", "try_into", "parse", "collect", "default", "from"];
    const SAME: [&str; 5] = ["unwrap", "expect", "clone", "to_owned", "unwrap_or_default"];
    match e {
        syn::Expr::Paren(p) => type_evident(&p.expr),
        syn::Expr::Group(g) => type_evident(&g.expr),
        syn::Expr::Call(c) => match &*c.func {
            syn::Expr::Path(p) => {
                let segs = &p.path.segments;
                p.qself.is_some()
                    || !(segs.len() == 2 && TRAITS.contains(&segs[0].ident.to_string().as_str()))
            }
            _ => true,
        },
        syn::Expr::MethodCall(m) => {
            let name = m.method.to_string();
            if GENERIC.contains(&name.as_str()) {
                m.turbofish.is_some() && name != "into"
            } else if SAME.contains(&name.as_str()) {
                type_evident(&m.receiver)
            } else {
                true
            }
        }
        _ => true,
    }
}

fn module_of(idx: &FileIndex, mut s: ScopeId) -> ScopeId {
    loop {
        let sc = &idx.scopes[s];
        if matches!(sc.kind, ScopeKind::Module(_)) {
            return s;
        }
        match sc.parent {
            Some(p) => s = p,
            None => return s,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// tokens

/// Step 3's flattened tokens, and each group's stream by the index of its `Open` token (to
/// parse a macro's input with the file's spans).
fn flatten(t: TokenStream, out: &mut Vec<Tok>, groups: &mut Vec<(usize, TokenStream)>) {
    for tt in t {
        match tt {
            TokenTree::Group(g) => {
                if g.delimiter() == Delimiter::None {
                    flatten(g.stream(), out, groups);
                    continue;
                }
                groups.push((out.len(), g.stream()));
                out.push(Tok::Open(g.delimiter(), range(g.span_open())));
                flatten(g.stream(), out, groups);
                out.push(Tok::Close(g.delimiter(), range(g.span_close())));
            }
            TokenTree::Ident(i) => out.push(Tok::Ident(i.to_string(), range(i.span()))),
            TokenTree::Punct(p) => out.push(Tok::Punct(p.as_char(), range(p.span()))),
            TokenTree::Literal(l) => out.push(Tok::Lit(range(l.span()))),
        }
    }
}

/// For each `Open` token, the index of its `Close` (others: their own index).
fn matching(toks: &[Tok]) -> Vec<usize> {
    let mut out: Vec<usize> = (0..toks.len()).collect();
    let mut stack = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Open(..) => stack.push(i),
            Tok::Close(..) => {
                if let Some(o) = stack.pop() {
                    out[o] = i;
                }
            }
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// the calls

/// A resolved shim call: `connect_shim::tonic_call_connect!(svc, method, request)`.
struct ShimCall {
    /// `tonic_call!` (tonic errors) rather than `tonic_call_connect!`.
    tonic_errors: bool,
    /// Index of the first token of the macro path.
    start: usize,
    /// Index of the closing delimiter of its input.
    close: usize,
    /// The whole invocation.
    range: Range<usize>,
    args: Option<Vec<syn::Expr>>,
}

/// The service, method name and request of a `tonic_call_connect!` (`at`: where it starts),
/// refused for `tonic_call!` (tonic errors) and any other input.
fn call_parts(call: &ShimCall, at: usize) -> Result<(&syn::Expr, &syn::Ident, &syn::Expr), Keep> {
    if call.tonic_errors {
        return Err((
            at,
            "`connect_shim::tonic_call!` gives tonic errors (`tonic::Status`): this handler test stays on the shim".into(),
            "read the error as a ConnectError (`err.code`, `err.message`, `err.details`) through `connect_shim::tonic_call_connect!` (step 3 does it where it can), then run step 9 again",
        ));
    }
    let Some([svc, method, request]) = call.args.as_deref() else {
        return Err((
            at,
            "the input of this `tonic_call_connect!` is not `service, method, request`".into(),
            NOTE_REQUEST,
        ));
    };
    let syn::Expr::Path(m) = method else {
        return Err((
            at,
            "the method of this `tonic_call_connect!` is not a name".into(),
            NOTE_REQUEST,
        ));
    };
    let Some(method) = m.path.get_ident() else {
        return Err((
            at,
            "the method of this `tonic_call_connect!` is not a name".into(),
            NOTE_REQUEST,
        ));
    };
    Ok((svc, method, request))
}

/// A call of a request helper of the call's module.
struct HelperCall {
    /// The helper's index.
    helper: usize,
    /// The offset of its name in the call.
    site: usize,
    /// The message given to it says its type.
    evident: bool,
}

/// The shim call whose macro name is the token at `i`, when its path resolves to the shim.
fn shim_call(
    toks: &[Tok],
    groups: &[(usize, TokenStream)],
    close_of: &[usize],
    idx: &FileIndex,
    scope: ScopeId,
    i: usize,
) -> Option<ShimCall> {
    if !toks.get(i + 1)?.is_punct('!') {
        return None;
    }
    let open = i + 2;
    if !matches!(toks.get(open)?, Tok::Open(..)) {
        return None;
    }
    // The path, backwards: `a::b::name` or `::a::name`.
    let mut start = i;
    let mut segs = vec![toks[i].ident()?.to_string()];
    while start >= 2 && toks[start - 1].is_punct(':') && toks[start - 2].is_punct(':') {
        match start.checked_sub(3).and_then(|k| toks[k].ident()) {
            Some(s) => {
                segs.insert(0, s.to_string());
                start -= 3;
            }
            None => break,
        }
    }
    let leading = start >= 2 && toks[start - 1].is_punct(':') && toks[start - 2].is_punct(':');
    if leading {
        start -= 2;
    }
    let res = idx.resolve_segments(scope, &segs, leading)?;
    let full = idx.canonical(res.resolved()?.full.clone());
    let tonic_errors = match full.as_slice() {
        [a, b] if a == "connect_shim" && b == "tonic_call_connect" => false,
        [a, b] if a == "connect_shim" && b == "tonic_call" => true,
        _ => return None,
    };
    let close = close_of[open];
    let stream = groups
        .iter()
        .find(|(o, _)| *o == open)
        .map(|(_, s)| s.clone())?;
    let args = {
        use syn::parse::Parser;
        syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated
            .parse2(stream)
            .ok()
            .map(|p| p.into_iter().collect())
    };
    Some(ShimCall {
        tonic_errors,
        start,
        close,
        range: toks[start].range().start..toks[close].range().end,
        args,
    })
}

/// A call that stays on the shim: where, why, what to do.
type Keep = (usize, String, &'static str);

const NOTE_REQUEST: &str = "build the call natively: `svc.method(connectrpc::RequestContext::new(headers).with_extensions(extensions), connectrpc::ServiceRequest::from_parts(&view, &body))` with `body = buffa::Message::encode_to_bytes(&message)` and `view = buffa::view::MessageView::decode_view(&body)` (connectrpc's ServiceRequest::from_parts); connect-shim stays until then";
const NOTE_RESULT: &str = "the call can be native (connectrpc's ServiceRequest::from_parts) once its result is read as a `connectrpc::Response` (`.body`, `.headers`, `.trailers`); connect-shim stays until then";

/// How far a chain of calls on the shim call's value has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// The macro's future.
    Future,
    /// `Result<Response<B>, ConnectError>`.
    Result,
    /// The Ok value, a tonic `Response<B>`.
    Response,
}

struct Calls<'a> {
    text: &'a str,
    toks: &'a [Tok],
    close_of: &'a [usize],
    idx: &'a FileIndex,
    scope: ScopeId,
    blocks: &'a [(&'a syn::Block, ScopeId)],
    helpers: &'a [Helper],
    /// A rewrite reads binary response metadata ([`crate::steps::metadata::BIN_DECODE`]).
    decode: std::cell::Cell<bool>,
}

/// One converted call.
struct Converted {
    edits: Vec<Edit>,
    /// The request helper it calls (index in the helpers, offset of the call's name).
    helper: Option<(usize, usize)>,
    encode: bool,
    decode: bool,
}

/// A request built by `let [mut] r = Request::new(m)` / `helper(..)` and insertions on it.
struct Built {
    edits: Vec<Edit>,
    message: String,
    ctx: String,
    helper: Option<(usize, usize)>,
    encode: bool,
}

impl Calls<'_> {
    fn convert(&self, call: &ShimCall) -> Result<Converted, Keep> {
        let at = self.toks[call.start].range().start;
        let (svc, method, request) = call_parts(call, at)?;
        let mut edits = Vec::new();
        self.decode.set(false);
        let bound = self.bound_request(call, request);
        let ind = indent_at(self.text, self.toks[call.start].range().start);
        let svc_names = {
            let mut names = Vec::new();
            ident_names(quote::ToTokens::to_token_stream(svc), &mut names);
            names
        };
        let mut ctx = "connectrpc::RequestContext::new(Default::default())".to_string();
        let mut setup = String::new();
        let mut helper = None;
        let mut encode = false;
        let mut why = None;
        let message = match &bound {
            Some((text, simple, stmt)) => {
                edits.push(Edit::delete(
                    crate::edit::whole_lines(self.text, stmt.clone()),
                    RULE,
                ));
                Some((text.clone(), *simple))
            }
            None => match self.request_message(request) {
                Some((t, e)) => Some((t.to_string(), simple_operand(e))),
                None => match self.helper_call(request) {
                    Some(HelperCall {
                        helper: h,
                        site,
                        evident,
                    }) => {
                        if !evident {
                            return Err((
                                at,
                                "the message given to the request helper does not say its type (the native call encodes it through a generic `&M`): this handler test stays on the shim".into(),
                                "name the message type (`HelloRequest::default()`, a struct literal or a typed `let`), then run step 9 again",
                            ));
                        }
                        let clash = |n: &str| svc_names.iter().any(|s| s == n);
                        let m = if clash("message") {
                            "request_message"
                        } else {
                            "message"
                        };
                        let c = if clash("ctx") { "request_ctx" } else { "ctx" };
                        setup = format!(
                            "let ({m}, {c}) = {};\n{ind}    ",
                            &self.text[range(syn::spanned::Spanned::span(request))]
                        );
                        ctx = c.to_string();
                        helper = Some((h, site));
                        Some((m.to_string(), true))
                    }
                    None => match self.built_request(call, request) {
                        Ok(Some(b)) => {
                            edits.extend(b.edits);
                            ctx = b.ctx;
                            helper = b.helper;
                            encode = b.encode;
                            Some((b.message, true))
                        }
                        Ok(None) => None,
                        Err(w) => {
                            why = Some(w);
                            None
                        }
                    },
                },
            },
        };
        let Some(message) = message else {
            let written = crate::steps::step09::scan::one_line(
                &self.text[range(syn::spanned::Spanned::span(request))],
            );
            return Err((
                at,
                match why {
                    Some(w) => format!(
                        "the tonic request `{written}` is built in a way step 9 does not rewrite ({w}): this handler test stays on the shim"
                    ),
                    None => format!(
                        "the tonic request `{written}` is not `tonic::Request::new(message)`, a request helper of the file or a local request with metadata and extensions set on it (one built elsewhere may carry more): this handler test stays on the shim"
                    ),
                },
                NOTE_REQUEST,
            ));
        };
        let message = (message.0.as_str(), message.1);
        if !syn::parse_str::<syn::Expr>(message.0).is_ok_and(|e| type_evident(&e)) {
            return Err((
                at,
                format!(
                    "the message `{}` does not say its type (the native call encodes it through a generic `&M`): this handler test stays on the shim",
                    crate::steps::step09::scan::one_line(message.0)
                ),
                "name the message type (`HelloRequest::default()`, a struct literal or a typed `let`), then run step 9 again",
            ));
        }
        self.chain(call.start, call.close + 1, State::Future, 0, &mut edits)
            .map_err(|why| {
                (
                    at,
                    format!("{why}: this handler test stays on the shim"),
                    NOTE_RESULT,
                )
            })?;
        // The call itself.
        // `&svc`: the handlers take `&self`, a method call borrows by itself.
        let svc = match svc {
            syn::Expr::Reference(r) if r.mutability.is_none() && simple_receiver(&r.expr) => {
                &*r.expr
            }
            e => e,
        };
        let svc_text = &self.text[range(syn::spanned::Spanned::span(svc))];
        let svc_text = if simple_receiver(svc) {
            svc_text.to_string()
        } else {
            format!("({svc_text})")
        };
        let clash = svc_names.iter().any(|n| n == "body" || n == "view");
        let (body, view) = if clash {
            ("request_body", "request_view")
        } else {
            ("body", "view")
        };
        let message = if message.1 {
            message.0.to_string()
        } else {
            format!("({})", message.0)
        };
        let new = format!(
            "async {{\n{ind}    {setup}let {body} = buffa::Message::encode_to_bytes(&{message});\n{ind}    let {view} = buffa::view::MessageView::decode_view(&{body}).unwrap();\n{ind}    {svc_text}.{method}({ctx}, connectrpc::ServiceRequest::from_parts(&{view}, &{body})).await\n{ind}}}"
        );
        edits.push(Edit::replace(call.range.clone(), new, RULE));
        Ok(Converted {
            edits,
            helper,
            encode,
            decode: self.decode.get(),
        })
    }

    /// `helper(message)` for a request helper of the call's module (the name bound by nothing
    /// else there): the helper, the offset of the name, whether the message says its type.
    fn helper_call(&self, e: &syn::Expr) -> Option<HelperCall> {
        self.helper_call_in(e, self.scope)
    }

    fn helper_call_in(&self, e: &syn::Expr, scope: ScopeId) -> Option<HelperCall> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        if p.qself.is_some() {
            return None;
        }
        let name = p.path.get_ident()?.to_string();
        // A `use` of the same name would shadow the module's own function.
        if let Some(crate::resolve::Resolution::One(r)) =
            self.idx
                .resolve_segments(scope, std::slice::from_ref(&name), false)
        {
            if matches!(r.via, crate::resolve::Via::Import(_)) {
                return None;
            }
        }
        let module = module_of(self.idx, scope);
        let h = self
            .helpers
            .iter()
            .position(|h| h.name == name && h.module == module)?;
        let helper = &self.helpers[h];
        let evident = !helper.generic_message
            || c.args
                .iter()
                .nth(helper.message_param)
                .is_some_and(type_evident);
        Some(HelperCall {
            helper: h,
            site: range(p.path.segments[0].ident.span()).start,
            evident,
        })
    }

    /// `request` names a local built in the call's block by `let [mut] request =
    /// Request::new(m)` / `helper(m)` and set up only by metadata and extension insertions, named
    /// nowhere else: that local becomes the message and a `connectrpc::RequestContext`.
    /// `Ok(None)`: not such a local; `Err`: such a local step 9 cannot rewrite (why).
    fn built_request(&self, call: &ShimCall, request: &syn::Expr) -> Result<Option<Built>, String> {
        let syn::Expr::Path(p) = request else {
            return Ok(None);
        };
        let Some(name) = p.path.get_ident().map(ToString::to_string) else {
            return Ok(None);
        };
        let at = call.range.start;
        let Some((block, scope)) = self
            .blocks
            .iter()
            .filter(|(b, _)| {
                let r =
                    range(b.brace_token.span.open()).start..range(b.brace_token.span.close()).end;
                r.start < at && at < r.end
            })
            .min_by_key(|(b, _)| {
                range(b.brace_token.span.close()).end - range(b.brace_token.span.open()).start
            })
        else {
            return Ok(None);
        };
        let stmts = &block.stmts;
        let Some(ci) = stmts.iter().position(|s| {
            let r = range(syn::spanned::Spanned::span(s));
            r.start <= at && at < r.end
        }) else {
            return Ok(None);
        };
        let Some(li) = (0..ci).rev().find(|&k| match &stmts[k] {
            syn::Stmt::Local(l) => mentions(quote::ToTokens::to_token_stream(&l.pat), &name) > 0,
            _ => false,
        }) else {
            return Ok(None);
        };
        let syn::Stmt::Local(l) = &stmts[li] else {
            return Ok(None);
        };
        let syn::Pat::Ident(pi) = &l.pat else {
            return Ok(None);
        };
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return Ok(None);
        }
        let Some(init) = l.init.as_ref().filter(|i| i.diverge.is_none()) else {
            return Ok(None);
        };
        let mut edits = Vec::new();
        let mut helper = None;
        let mut from_new = None;
        if let Some(HelperCall {
            helper: h,
            site,
            evident,
        }) = self.helper_call_in(&init.expr, *scope)
        {
            if !evident {
                return Err("the message given to the request helper does not say its type".into());
            }
            helper = Some((h, site));
        } else if let Some((m, e)) = self.request_message_in(&init.expr, *scope) {
            if !type_evident(e) {
                return Err("the message does not say its type".into());
            }
            from_new = Some(m.to_string());
        } else {
            return Ok(None);
        }
        let block_toks = quote::ToTokens::to_token_stream(*block);
        let ctx = free_name(block_toks.clone(), "ctx", &name);
        let ext = free_name(block_toks, "extensions", &name);
        let setters: Vec<&syn::Stmt> = stmts[li + 1..ci]
            .iter()
            .filter(|s| mentions(quote::ToTokens::to_token_stream(s), &name) > 0)
            .collect();
        let Setters {
            headers,
            extensions,
            encode,
        } = setter_edits(
            self.text, self.idx, *scope, &setters, &name, &ctx, &ext, &mut edits,
        )?;
        if mentions(quote::ToTokens::to_token_stream(&stmts[ci]), &name) != 1 {
            return Err(format!("`{name}` is named again where the call is made"));
        }
        for s in &stmts[ci + 1..] {
            if let syn::Stmt::Local(l) = s {
                if mentions(quote::ToTokens::to_token_stream(&l.pat), &name) > 0 {
                    break;
                }
            }
            if mentions(quote::ToTokens::to_token_stream(s), &name) > 0 {
                return Err(format!("`{name}` is used after the call"));
            }
        }
        edits.push(Edit::replace(
            range(syn::spanned::Spanned::span(pi)),
            format!("({name}, {}{ctx})", if headers { "mut " } else { "" }),
            RULE,
        ));
        if let Some(m) = from_new {
            edits.push(Edit::replace(
                range(syn::spanned::Spanned::span(&*init.expr)),
                format!("({m}, connectrpc::RequestContext::new(Default::default()))"),
                RULE,
            ));
        }
        if extensions {
            let end = range(syn::spanned::Spanned::span(&stmts[li])).end;
            let ind = indent_at(
                self.text,
                range(syn::spanned::Spanned::span(&stmts[li])).start,
            );
            edits.push(Edit::insert(
                end,
                format!("\n{ind}let mut {ext} = {ctx}.extensions().clone();"),
                RULE,
            ));
        }
        Ok(Some(Built {
            edits,
            message: name,
            ctx: if extensions {
                format!("{ctx}.with_extensions({ext})")
            } else {
                ctx
            },
            helper,
            encode,
        }))
    }

    /// `request` is a name bound by the statement just before the call's, `let request =
    /// tonic::Request::new(message);`, and named nowhere else: the message's text, whether it
    /// can follow `&` as written, and the statement's range.
    fn bound_request(
        &self,
        call: &ShimCall,
        request: &syn::Expr,
    ) -> Option<(String, bool, Range<usize>)> {
        let syn::Expr::Path(p) = request else {
            return None;
        };
        let name = p.path.get_ident()?.to_string();
        let toks = self.toks;
        // The start of the call's statement: after the `;` (or `{`) before it, at its level.
        let mut depth = 0usize;
        let mut k = call.start;
        let stmt_start = loop {
            k = k.checked_sub(1)?;
            match &toks[k] {
                Tok::Close(..) => depth += 1,
                Tok::Open(..) if depth == 0 => return None,
                Tok::Open(..) => depth -= 1,
                Tok::Punct(';', _) if depth == 0 => break k + 1,
                _ => {}
            }
        };
        // The statement before: `let [mut] name = path(message);`.
        let semi = stmt_start - 1;
        let close = semi.checked_sub(1)?;
        if !matches!(toks[close], Tok::Close(Delimiter::Parenthesis, _)) {
            return None;
        }
        let open = (0..close)
            .rev()
            .find(|&o| self.close_of[o] == close && o != close)?;
        let mut let_at = None;
        for b in (0..open).rev() {
            match &toks[b] {
                Tok::Punct(';', _) | Tok::Open(..) | Tok::Close(Delimiter::Brace, _) => break,
                Tok::Ident(l, _) if l == "let" => {
                    let_at = Some(b);
                    break;
                }
                _ => {}
            }
        }
        let let_at = let_at?;
        let n = if toks[let_at + 1].is_ident("mut") {
            let_at + 2
        } else {
            let_at + 1
        };
        if !toks[n].is_ident(&name) || !toks.get(n + 1)?.is_punct('=') {
            return None;
        }
        // The path, generic arguments left out.
        let mut segs = Vec::new();
        let mut angle = 0i32;
        let mut leading = false;
        for (i, t) in toks[n + 2..open].iter().enumerate() {
            match t {
                Tok::Punct('<', _) => angle += 1,
                Tok::Punct('>', _) => angle -= 1,
                Tok::Ident(s, _) if angle == 0 => segs.push(s.clone()),
                Tok::Punct(':', _) => leading |= i == 0,
                _ if angle > 0 => {}
                _ => return None,
            }
        }
        let r = self.idx.resolve_segments(self.scope, &segs, leading)?;
        let full = self.idx.canonical(r.resolved()?.full.clone());
        if full != ["tonic", "Request", "new"] {
            return None;
        }
        // Named nowhere else in the block (no metadata or extensions set on it).
        let mut depth = 0usize;
        let mut uses = 0;
        for (i, t) in toks.iter().enumerate().skip(stmt_start) {
            match t {
                Tok::Open(..) => depth += 1,
                Tok::Close(..) if depth == 0 => break,
                Tok::Close(..) => depth -= 1,
                Tok::Ident(s, _) if *s == name && !toks[i - 1].is_punct('.') => uses += 1,
                _ => {}
            }
        }
        if uses != 1 {
            return None;
        }
        let inner = toks[open].range().end..toks[close].range().start;
        let t = self.text[inner].trim();
        let t = t.strip_suffix(',').map(str::trim_end).unwrap_or(t);
        let simple = syn::parse_str::<syn::Expr>(t).is_ok_and(|e| simple_operand(&e));
        let stmt = toks[let_at].range().start..toks[semi].range().end;
        Some((t.to_string(), simple, stmt))
    }

    /// `tonic::Request::new(message)` (any spelling resolving there): the message's text.
    fn request_message<'e>(&self, e: &'e syn::Expr) -> Option<(&str, &'e syn::Expr)> {
        self.request_message_in(e, self.scope)
    }

    fn request_message_in<'e>(
        &self,
        e: &'e syn::Expr,
        scope: ScopeId,
    ) -> Option<(&str, &'e syn::Expr)> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        if p.qself.is_some() || c.args.len() != 1 {
            return None;
        }
        if self.idx.resolve_full(scope, &p.path)? != ["tonic", "Request", "new"] {
            return None;
        }
        let arg = c.args.first()?;
        let inner = range(c.paren_token.span.open()).end..range(c.paren_token.span.close()).start;
        let t = self.text[inner].trim();
        let t = t.strip_suffix(',').map(str::trim_end).unwrap_or(t);
        Some((t, arg))
    }

    /// Follow what is done with the value of the chain rooted at token `root`, from token `j` on.
    fn chain(
        &self,
        root: usize,
        mut j: usize,
        mut st: State,
        depth: u8,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let toks = self.toks;
        let at = |k: usize| toks.get(k);
        loop {
            // `.name(args)`: (name, index of `(`, index after `)`).
            let method = if at(j).is_some_and(|t| t.is_punct('.'))
                && at(j + 2).is_some_and(|t| t.is_open(Delimiter::Parenthesis))
            {
                at(j + 1)
                    .and_then(Tok::ident)
                    .map(|m| (m, j + 2, self.close_of[j + 2] + 1))
            } else {
                None
            };
            let empty = method.is_some_and(|(_, o, after)| after == o + 2);
            match st {
                State::Future => {
                    if at(j).is_some_and(|t| t.is_punct('.'))
                        && at(j + 1).is_some_and(|t| t.is_ident("await"))
                    {
                        st = State::Result;
                        j += 2;
                        continue;
                    }
                    return Err("the call's future is not awaited where it is made".into());
                }
                State::Result => {
                    if at(j).is_some_and(|t| t.is_punct('?')) {
                        st = State::Response;
                        j += 1;
                        continue;
                    }
                    match method {
                        Some(("unwrap" | "expect", _, after)) => {
                            st = State::Response;
                            j = after;
                            continue;
                        }
                        Some((
                            "unwrap_err" | "expect_err" | "is_err" | "is_ok" | "err",
                            _,
                            _,
                        )) => return Ok(()),
                        Some((m, _, _)) => {
                            return Err(format!(
                                "`.{m}(..)` on the result of the call reads the tonic Response in a way step 9 does not follow"
                            ))
                        }
                        None => {}
                    }
                }
                State::Response => match method {
                    Some(("into_inner", _, after)) if empty => {
                        edits.push(Edit::replace(self.span(j, after - 1), ".body", RULE));
                        return Ok(());
                    }
                    Some((m @ ("get_ref" | "get_mut"), _, after)) if empty => {
                        edits.push(Edit::replace(self.span(j, after - 1), ".body", RULE));
                        let reads_on = at(after)
                            .is_some_and(|t| t.is_punct('.') || t.is_open(Delimiter::Bracket));
                        if !reads_on {
                            let amp = if m == "get_ref" { "&" } else { "&mut " };
                            edits.push(Edit::insert(toks[root].range().start, amp, RULE));
                        }
                        return Ok(());
                    }
                    Some(("metadata", _, after)) if empty => {
                        let next = if at(after).is_some_and(|t| t.is_punct('.'))
                            && at(after + 2).is_some_and(|t| t.is_open(Delimiter::Parenthesis))
                        {
                            at(after + 1).and_then(Tok::ident)
                        } else {
                            None
                        };
                        if next == Some("get_bin") {
                            return self.get_bin_read(root, j, after, edits);
                        }
                        match next {
                            Some("get" | "contains_key" | "len" | "is_empty") => {}
                            Some(n) => {
                                return Err(format!(
                                    "`.metadata().{n}(..)` of the tonic Response has no same-shaped `http::HeaderMap` method"
                                ))
                            }
                            None => {
                                return Err("the tonic Response's `metadata()` is used as a whole (a `MetadataMap`, not an `http::HeaderMap`)".into())
                            }
                        }
                        if next == Some("get") {
                            self.header_value(self.close_of[after + 2] + 1)?;
                        }
                        edits.push(Edit::replace(self.span(j, after - 1), ".headers", RULE));
                        return Ok(());
                    }
                    Some((m, _, _)) => {
                        let args = if empty { "()" } else { "(..)" };
                        return Err(format!(
                            "`.{m}{args}` of the tonic Response has no connectrpc::Response equivalent step 9 writes"
                        ));
                    }
                    None => {
                        if at(j).is_some_and(|t| t.is_punct('.')) {
                            return Err(
                                "the tonic Response is read in a way step 9 does not follow".into(),
                            );
                        }
                    }
                },
            }
            // The chain ends here with the Result or the Response as its value.
            return self.chain_end(root, j, st, depth, edits);
        }
    }

    /// `.metadata().get_bin(k).unwrap().to_bytes()` (from the `.` at `j`, `after` past
    /// `metadata()`) -> `grpc_bin_decode(.headers.get(k).unwrap())`.
    fn get_bin_read(
        &self,
        root: usize,
        j: usize,
        after: usize,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let toks = self.toks;
        let at = |k: usize| toks.get(k);
        // `.metadata().get_bin(k).unwrap().to_bytes()` ->
        // `grpc_bin_decode(.headers.get(k).unwrap())`.
        let open = after + 2;
        let mut k = self.close_of[open] + 1;
        let step = |k: usize| -> Option<(&str, usize, usize)> {
            if !at(k)?.is_punct('.') || !at(k + 2)?.is_open(Delimiter::Parenthesis) {
                return None;
            }
            Some((at(k + 1)?.ident()?, k + 2, self.close_of[k + 2] + 1))
        };
        let Some((m, _, next_k)) = step(k).filter(|(m, _, _)| matches!(*m, "unwrap" | "expect"))
        else {
            return Err("`.metadata().get_bin(k)` of the tonic Response is read in a way step 9 does not follow".into());
        };
        let _ = m;
        k = next_k;
        let Some((_, o, end)) = step(k).filter(|(m, o, end)| *m == "to_bytes" && *end == o + 2)
        else {
            return Err(
                "`.metadata().get_bin(k)` of the tonic Response is not read with `.to_bytes()`"
                    .into(),
            );
        };
        let _ = o;
        edits.push(Edit::insert(
            toks[root].range().start,
            format!("{}(", crate::steps::metadata::BIN_DECODE),
            RULE,
        ));
        edits.push(Edit::replace(self.span(j, after - 1), ".headers", RULE));
        edits.push(Edit::replace(toks[after + 1].range(), "get", RULE));
        edits.push(Edit::replace(
            toks[k - 1].range().end..toks[end - 1].range().end,
            ")",
            RULE,
        ));
        self.decode.set(true);
        Ok(())
    }

    /// `.get(k)` on the headers, from token `j` on: only what `Option<&HeaderValue>` and
    /// `Option<&MetadataValue>` both have.
    fn header_value(&self, mut j: usize) -> Result<(), String> {
        let toks = self.toks;
        while toks.get(j).is_some_and(|t| t.is_punct('.'))
            && toks
                .get(j + 2)
                .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
        {
            let Some(m) = toks.get(j + 1).and_then(Tok::ident) else {
                break;
            };
            match m {
                "unwrap" | "expect" | "is_some" | "is_none" | "to_str" => {}
                _ => {
                    return Err(format!(
                        "`.{m}(..)` on a response metadata value has no same-shaped `http::HeaderValue` method"
                    ))
                }
            }
            j = self.close_of[j + 2] + 1;
        }
        Ok(())
    }

    /// The value of the chain (`Result` or `Response`) ends at token `j`: a `let` binding (its
    /// uses are followed), a dropped statement, or something step 9 cannot follow.
    fn chain_end(
        &self,
        root: usize,
        j: usize,
        st: State,
        depth: u8,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let toks = self.toks;
        let ends_stmt = toks.get(j).is_some_and(|t| t.is_punct(';'));
        let before = |k: usize| root.checked_sub(k).and_then(|i| toks.get(i));
        // `let [mut] name = <chain>;`
        if ends_stmt && before(1).is_some_and(|t| t.is_punct('=')) {
            if let Some(name) = before(2).and_then(Tok::ident) {
                let is_let = before(3).is_some_and(|t| t.is_ident("let"))
                    || (before(3).is_some_and(|t| t.is_ident("mut"))
                        && before(4).is_some_and(|t| t.is_ident("let")));
                if is_let {
                    if name == "_" {
                        return Ok(());
                    }
                    if depth >= 4 {
                        return Err("the result is bound too many times over".into());
                    }
                    return self.binding_uses(name, j + 1, st, depth + 1, edits);
                }
            }
            return Err("the result is assigned or bound with a type that names tonic".into());
        }
        let stmt_start = root == 0
            || before(1).is_some_and(|t| {
                t.is_punct(';')
                    || matches!(
                        t,
                        Tok::Open(Delimiter::Brace, _) | Tok::Close(Delimiter::Brace, _)
                    )
            });
        if ends_stmt && stmt_start {
            return Ok(());
        }
        Err(match st {
            State::Response => "the tonic Response is passed on as a whole".into(),
            _ => "the call's result is passed on as a whole (a tonic Response inside)".into(),
        })
    }

    /// The uses of a binding `name` from token `from` to the end of its block (or a `let` that
    /// shadows it).
    fn binding_uses(
        &self,
        name: &str,
        from: usize,
        st: State,
        depth: u8,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let toks = self.toks;
        let mut nest = 0usize;
        let mut j = from;
        while j < toks.len() {
            match &toks[j] {
                Tok::Open(..) => nest += 1,
                Tok::Close(..) => {
                    if nest == 0 {
                        break;
                    }
                    nest -= 1;
                }
                Tok::Ident(k, _) if k == "let" => {
                    let n = if toks.get(j + 1).is_some_and(|t| t.is_ident("mut")) {
                        j + 2
                    } else {
                        j + 1
                    };
                    if toks.get(n).is_some_and(|t| t.is_ident(name)) {
                        if nest == 0 {
                            break;
                        }
                        // Shadowed in an inner block: skip to its end.
                        let mut d = 0usize;
                        let mut k = n;
                        while k < toks.len() {
                            match &toks[k] {
                                Tok::Open(..) => d += 1,
                                Tok::Close(..) => {
                                    if d == 0 {
                                        break;
                                    }
                                    d -= 1;
                                }
                                _ => {}
                            }
                            k += 1;
                        }
                        j = k;
                        continue;
                    }
                }
                Tok::Ident(k, _) if k == name => {
                    let prev_path =
                        j > 0 && (toks[j - 1].is_punct('.') || toks[j - 1].is_punct(':'));
                    let label = toks.get(j + 1).is_some_and(|t| t.is_punct(':'));
                    if !prev_path && !label {
                        self.chain(j, j + 1, st, depth, edits)?;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        Ok(())
    }

    /// The byte range from token `a` to token `b`, inclusive.
    fn span(&self, a: usize, b: usize) -> Range<usize> {
        self.toks[a].range().start..self.toks[b].range().end
    }
}

fn ident_names(t: TokenStream, out: &mut Vec<String>) {
    for tt in t {
        match tt {
            TokenTree::Group(g) => ident_names(g.stream(), out),
            TokenTree::Ident(i) => out.push(i.to_string()),
            _ => {}
        }
    }
}

/// Can `e` receive a method call as written (`e.m()`)?
fn simple_receiver(e: &syn::Expr) -> bool {
    matches!(
        e,
        syn::Expr::Path(_)
            | syn::Expr::Call(_)
            | syn::Expr::MethodCall(_)
            | syn::Expr::Field(_)
            | syn::Expr::Paren(_)
            | syn::Expr::Index(_)
            | syn::Expr::Macro(_)
            | syn::Expr::Tuple(_)
            | syn::Expr::Lit(_)
            | syn::Expr::Await(_)
            | syn::Expr::Try(_)
    )
}

/// Can `e` follow `&` as written?
fn simple_operand(e: &syn::Expr) -> bool {
    simple_receiver(e) || matches!(e, syn::Expr::Struct(_) | syn::Expr::Array(_))
}

// ---------------------------------------------------------------------------------------------
// requests built with metadata and extensions

/// A function of the file that builds a tonic request for tests and does nothing else
/// (`let mut r = Request::new(message);`, `r.extensions_mut().insert(..)`,
/// `r.metadata_mut().insert(..)` / `insert_bin(..)`, `r`): it can return the message and a
/// `connectrpc::RequestContext` instead.
#[derive(Debug, Clone)]
struct Helper {
    name: String,
    /// The module it is declared in.
    module: ScopeId,
    /// Start of the name in its declaration.
    decl: usize,
    /// The rewrite of the function.
    edits: Vec<Edit>,
    /// It uses [`crate::steps::metadata::BIN_ENCODE`].
    encode: bool,
    /// Offsets of every other mention of its name in the file.
    sites: Vec<usize>,
    /// The parameter that is the message, and whether its type is a type parameter of the
    /// function (the call's argument must then say the type).
    message_param: usize,
    generic_message: bool,
}

/// What the pre-pass finds: blocks (with their scope) and request helpers.
struct Prep<'ast, 'i> {
    idx: &'i FileIndex,
    tr: crate::resolve::ScopeTracker,
    text: &'i str,
    blocks: Vec<(&'ast syn::Block, ScopeId)>,
    helpers: Vec<Helper>,
}

impl<'ast> syn::visit::Visit<'ast> for Prep<'ast, '_> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        self.blocks.push((b, self.tr.current()));
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
        let module = module_of(self.idx, self.tr.current());
        if let Some(h) = helper_of(self.text, self.idx, self.tr.current(), module, f) {
            self.helpers.push(h);
        }
        syn::visit::visit_item_fn(self, f);
    }
}

/// `name.metadata_mut()` / `name.extensions_mut()` (or `(&mut name).x()`): which.
fn request_accessor(e: &syn::Expr, name: &str) -> Option<&'static str> {
    let syn::Expr::MethodCall(m) = peel(e) else {
        return None;
    };
    if !m.args.is_empty() || !crate::steps::metadata::is_var(&m.receiver, name) {
        return None;
    }
    if m.method == "metadata_mut" {
        Some("metadata")
    } else if m.method == "extensions_mut" {
        Some("extensions")
    } else {
        None
    }
}

fn peel(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => peel(&p.expr),
        syn::Expr::Reference(r) => peel(&r.expr),
        e => e,
    }
}

/// Does the token stream name `name` (not as a field or method, nor a path's later segment)?
fn mentions(t: TokenStream, name: &str) -> usize {
    let mut toks = Vec::new();
    let mut groups = Vec::new();
    flatten(t, &mut toks, &mut groups);
    (0..toks.len())
        .filter(|&i| {
            toks[i].is_ident(name)
                && !(i > 0 && (toks[i - 1].is_punct('.') || toks[i - 1].is_punct(':')))
        })
        .count()
}

/// What the setter statements of a request set: headers (metadata), extensions, and whether
/// a binary metadata value needs the encoder.
struct Setters {
    headers: bool,
    extensions: bool,
    encode: bool,
}

/// The edits of the statements that set metadata or extensions on the request `name`
/// (`stmts`, each mentioning it): receivers to `ctx.headers_mut()` / `ext`. Err: why not.
#[allow(clippy::too_many_arguments)]
fn setter_edits(
    text: &str,
    idx: &FileIndex,
    scope: ScopeId,
    stmts: &[&syn::Stmt],
    name: &str,
    ctx: &str,
    ext: &str,
    edits: &mut Vec<Edit>,
) -> Result<Setters, String> {
    let (mut headers, mut extensions, mut encode) = (false, false, false);
    let resolve = |p: &syn::Path| idx.resolve_full(scope, p);
    for s in stmts {
        let syn::Stmt::Expr(e, Some(_)) = s else {
            return Err(format!(
                "a statement on `{name}` is not a metadata or extension insertion"
            ));
        };
        let syn::Expr::MethodCall(m) = e else {
            return Err(format!(
                "a statement on `{name}` is not a metadata or extension insertion"
            ));
        };
        match request_accessor(&m.receiver, name) {
            Some("metadata") => {
                let (es, enc) = crate::steps::metadata::header_insert(text, m, &resolve)?;
                edits.push(Edit::replace(
                    range(syn::spanned::Spanned::span(&m.receiver)),
                    format!("{ctx}.headers_mut()"),
                    RULE,
                ));
                edits.extend(es.into_iter().map(|(r, t)| Edit::replace(r, t, RULE)));
                encode |= enc;
                headers = true;
            }
            Some(_) if m.method == "insert" && m.args.len() == 1 => {
                edits.push(Edit::replace(
                    range(syn::spanned::Spanned::span(&m.receiver)),
                    ext,
                    RULE,
                ));
                extensions = true;
            }
            _ => {
                return Err(format!(
                    "`{name}.{}(..)` has no `connectrpc::RequestContext` equivalent step 9 writes",
                    m.method
                ))
            }
        }
        if mentions(quote::ToTokens::to_token_stream(&m.args), name) > 0 {
            return Err(format!("`{name}` is read while it is built"));
        }
    }
    Ok(Setters {
        headers,
        extensions,
        encode,
    })
}

/// A name not among the tokens of `t`: `base`, else `{prefix}_{base}`.
fn free_name(t: TokenStream, base: &str, prefix: &str) -> String {
    if mentions(t, base) == 0 {
        base.to_string()
    } else {
        format!("{prefix}_{base}")
    }
}

/// A free, non-async function returning `tonic::Request<M>`: the return type and `M`.
fn returned_request<'f>(
    idx: &FileIndex,
    scope: ScopeId,
    f: &'f syn::ItemFn,
) -> Option<(&'f syn::Type, &'f syn::Type)> {
    if f.sig.receiver().is_some() || f.sig.asyncness.is_some() {
        return None;
    }
    let syn::ReturnType::Type(_, ty) = &f.sig.output else {
        return None;
    };
    let syn::Type::Path(tp) = &**ty else {
        return None;
    };
    if tp.qself.is_some() {
        return None;
    }
    let last = tp.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let [syn::GenericArgument::Type(msg_ty)] = args.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let mut bare = tp.path.clone();
    bare.segments.last_mut()?.arguments = syn::PathArguments::None;
    if idx.resolve_full(scope, &bare)? != ["tonic", "Request"] {
        return None;
    }
    Some((ty, msg_ty))
}

fn helper_of(
    text: &str,
    idx: &FileIndex,
    scope: ScopeId,
    module: ScopeId,
    f: &syn::ItemFn,
) -> Option<Helper> {
    let (ty, msg_ty) = returned_request(idx, scope, f)?;
    let stmts = &f.block.stmts;
    let (first, rest) = stmts.split_first()?;
    let (tail, middle) = rest.split_last()?;
    // `let [mut] name = Request::new(message);`
    let syn::Stmt::Local(l) = first else {
        return None;
    };
    let syn::Pat::Ident(pi) = &l.pat else {
        return None;
    };
    let name = pi.ident.to_string();
    let init = l.init.as_ref().filter(|i| i.diverge.is_none())?;
    let syn::Expr::Call(c) = &*init.expr else {
        return None;
    };
    let syn::Expr::Path(fp) = &*c.func else {
        return None;
    };
    if c.args.len() != 1 || idx.resolve_full(scope, &fp.path)? != ["tonic", "Request", "new"] {
        return None;
    }
    // The message: a parameter (returned as it is), or any other expression (bound beside the
    // context where the request was made).
    let param = match &c.args[0] {
        syn::Expr::Path(mp) if mp.qself.is_none() => mp.path.get_ident().and_then(|message| {
            f.sig.inputs.iter().enumerate().find_map(|(k, a)| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(pi) if pi.ident == *message => {
                        Some((k, &*pt.ty, message.to_string()))
                    }
                    _ => None,
                },
                _ => None,
            })
        }),
        _ => None,
    };
    let type_param = |t: &syn::Type| match t {
        syn::Type::Path(tp) if tp.qself.is_none() => tp
            .path
            .get_ident()
            .is_some_and(|i| f.sig.generics.type_params().any(|g| g.ident == *i)),
        syn::Type::ImplTrait(_) => true,
        _ => false,
    };
    let body = quote::ToTokens::to_token_stream(&f.block);
    let (message_param, generic_message, message, bound) = match param {
        Some((k, ty, m)) => (k, type_param(ty), m, false),
        None => (
            usize::MAX,
            type_param(msg_ty),
            free_name(body.clone(), "message", &name),
            true,
        ),
    };
    // `name` as the tail.
    let syn::Stmt::Expr(t, None) = tail else {
        return None;
    };
    if !crate::steps::metadata::is_var(t, &name)
        || matches!(t, syn::Expr::Reference(_) | syn::Expr::Paren(_))
    {
        return None;
    }
    let ext = free_name(body.clone(), "extensions", &name);
    let mut edits = Vec::new();
    let middle: Vec<&syn::Stmt> = middle.iter().collect();
    for s in &middle {
        if mentions(quote::ToTokens::to_token_stream(s), &message) > 0 {
            return None;
        }
    }
    let Setters {
        headers,
        extensions,
        encode,
    } = setter_edits(text, idx, scope, &middle, &name, &name, &ext, &mut edits).ok()?;
    let ind = indent_at(text, range(syn::spanned::Spanned::span(first)).start);
    edits.push(Edit::replace(
        range(syn::spanned::Spanned::span(ty)),
        format!(
            "({}, connectrpc::RequestContext)",
            &text[range(syn::spanned::Spanned::span(msg_ty))]
        ),
        RULE,
    ));
    let mut new = if bound {
        format!(
            "({}, connectrpc::RequestContext::new(Default::default()))",
            &text[range(syn::spanned::Spanned::span(&c.args[0]))]
        )
    } else {
        "connectrpc::RequestContext::new(Default::default())".to_string()
    };
    if extensions {
        new.push_str(&format!(
            ";\n{ind}let mut {ext} = {name}.extensions().clone()"
        ));
    }
    edits.push(Edit::replace(
        range(syn::spanned::Spanned::span(&*init.expr)),
        new,
        RULE,
    ));
    if bound {
        edits.push(Edit::replace(
            range(syn::spanned::Spanned::span(pi)),
            format!("({message}, {}{name})", if headers { "mut " } else { "" }),
            RULE,
        ));
    } else if let (Some(m), false) = (&pi.mutability, headers) {
        edits.push(Edit::delete(
            range(m.span).start..range(pi.ident.span()).start,
            RULE,
        ));
    }
    let ctx = if extensions {
        format!("{name}.with_extensions({ext})")
    } else {
        name.clone()
    };
    edits.push(Edit::replace(
        range(syn::spanned::Spanned::span(t)),
        format!("({message}, {ctx})"),
        RULE,
    ));
    Some(Helper {
        name: f.sig.ident.to_string(),
        module,
        decl: range(f.sig.ident.span()).start,
        edits,
        encode,
        sites: Vec::new(),
        message_param,
        generic_message,
    })
}
