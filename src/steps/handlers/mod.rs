//! The handler pass of steps 3 and 4 ([`crate::steps::step03`], [`crate::steps::step04`]): the
//! handler bodies step 2 kept tonic-style inside `connect_shim::server` adapters.
//!
//! Step 2 wraps a body it cannot rewrite natively in an adapter call that is the whole method
//! body:
//!
//! ```text
//! async fn get(&self, ctx: RequestContext, request: ServiceRequest<'_, GetRequest>) -> ServiceResult<Item> {
//!     connect_shim::server::unary(ctx, request, |request| async move {
//!         let item = self.find(&request.get_ref().id)?;
//!         Ok(Response::new(item.clone()))
//!     })
//!     .await
//! }
//! ```
//!
//! **Step 3** (errors) turns `Status` into `ConnectError` in those bodies (the rename rules of
//! `rules/step03.toml`); this pass then either unwraps a unary adapter into a native body, when
//! every use of the tonic request is an idiom with a connect equivalent (`into_inner()` ->
//! `to_owned_message()`, `get_ref()`, `metadata().get(..)` -> `ctx.headers()`, `remote_addr()` ->
//! `ctx.peer_addr()`, `extensions()`, `Response::new` -> `connectrpc::Response::new`), or moves
//! the adapter to its `connect_shim::server::connect_errors` twin, whose closures return
//! `ConnectError`s. Private helpers of the file that take tonic `MetadataMap`s move to
//! `http::HeaderMap` with all their calls, or not at all (see `md_helpers`). Handler tests calling through `connect_shim::tonic_call!` move to
//! `tonic_call_connect!` (connect errors), and `err.code()` / `err.message()` on the errors they
//! return become the fields `err.code` / `err.message`; tonic-types' readers on them stay when
//! the file's details move to the crate's `google_rpc` module (see `steps::details`).
//!
//! **Step 4** (streaming handlers) unwraps the streaming adapters the same way: an inbound
//! `let mut s = request.into_inner();` becomes an owned-message stream over the connect
//! `InboundStream`, `s.message().await` becomes `s.next().await.transpose()`, and the outbound
//! `Response::new(stream)` becomes `connectrpc::Response::stream(stream)`.
//!
//! A body that stays on an adapter is listed with what blocked it; a body still using tonic's
//! `Status` (code the step could not tell was server code) is left as it is.

use std::collections::HashSet;
use std::ops::Range;

use proc_macro2::{Delimiter, TokenStream};
use quote::ToTokens;
use syn::visit::Visit;

use crate::edit::{line_start, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::resolve::{range, FileIndex, ScopeTracker};
use crate::steps::common::items::item_at;
use crate::steps::common::tokens::{empty_call_at, flatten, Tok};

mod md_helpers;
use md_helpers::Helper;

/// The four adapters, by the RPC kind they serve.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Unary,
    ServerStream,
    ClientStream,
    Bidi,
}

impl Kind {
    fn from_name(s: &str) -> Option<Kind> {
        Some(match s {
            "unary" => Kind::Unary,
            "server_stream" => Kind::ServerStream,
            "client_stream" => Kind::ClientStream,
            "bidi_stream" => Kind::Bidi,
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Kind::Unary => "unary",
            Kind::ServerStream => "server_stream",
            Kind::ClientStream => "client_stream",
            Kind::Bidi => "bidi_stream",
        }
    }
    /// The request side is a stream (`InboundStream<M>`).
    fn inbound(self) -> bool {
        matches!(self, Kind::ClientStream | Kind::Bidi)
    }
    /// The response side is a stream.
    fn outbound(self) -> bool {
        matches!(self, Kind::ServerStream | Kind::Bidi)
    }
}

/// The handler pass of steps 3 and 4.
pub struct HandlersPass {
    pub step: u8,
}

impl Pass for HandlersPass {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        if self.step == 4 && !file.text.contains("connect_shim") {
            return;
        }
        if self.step != 3 {
            self.run_once(file, out, Vec::new());
            return;
        }
        declare_needs(file, out);
        // Metadata helpers move to http::HeaderMap with all their calls or not at all: a run
        // assumes the helpers still in `ok` convert, and runs again without those of which a
        // mention was left.
        let all = md_helpers::helpers(file.file, file.index, file.text);
        let mut toks = Vec::new();
        if !all.is_empty() {
            flatten(file.file.to_token_stream(), &mut toks);
        }
        let mut ok: Vec<Helper> = all
            .iter()
            .filter(|h| h.problem.is_none())
            .cloned()
            .collect();
        let mut failed: Vec<(Helper, String)> = Vec::new();
        let snapshot = (out.buffer.clone(), out.items.clone());
        let mut adapters: Option<Vec<Range<usize>>> = None;
        loop {
            let res = self.run_once(file, out, ok.clone());
            let Some((converted, calls)) = res else {
                // The file keeps tonic errors as a whole (its items say why).
                return;
            };
            adapters.get_or_insert(calls);
            let mut bad = Vec::new();
            for h in &ok {
                let left: Vec<usize> = md_helpers::mentions(&toks, &h.name)
                    .into_iter()
                    .filter(|m| !converted.contains(m))
                    .collect();
                if let Some(at) = left.first() {
                    let (line, _) = crate::edit::line_col(file.text, *at);
                    let why = if left.len() == 1 {
                        format!("its use at line {line} is not a call the step converts (in a handler it makes native, with `request.metadata()`, `response.metadata_mut()` or a ConnectError's `metadata_mut()` passed whole)")
                    } else {
                        format!("{} of its uses (the first at line {line}) are not calls the step converts (in a handler it makes native, with `request.metadata()`, `response.metadata_mut()` or a ConnectError's `metadata_mut()` passed whole)", left.len())
                    };
                    bad.push((h.clone(), why));
                }
            }
            if bad.is_empty() {
                break;
            }
            out.buffer = snapshot.0.clone();
            out.items = snapshot.1.clone();
            ok.retain(|h| !bad.iter().any(|(b, _)| b.name == h.name));
            failed.extend(bad);
        }
        let adapters = adapters.unwrap_or_default();
        for h in &all {
            // Only helpers that handlers on the shim adapters call matter here.
            let in_handler = md_helpers::mentions(&toks, &h.name)
                .iter()
                .any(|m| adapters.iter().any(|a| a.start <= *m && *m < a.end));
            if !in_handler {
                continue;
            }
            let why = match (&h.problem, failed.iter().find(|(f, _)| f.name == h.name)) {
                (Some(p), _) => p.clone(),
                (None, Some((_, w))) => w.clone(),
                (None, None) => continue,
            };
            out.items.push(item(
                3,
                h.def.start,
                "metadata-helper",
                ItemKind::Manual,
                format!("`{}` keeps tonic's MetadataMap: {why}; the handlers that call it stay on the shim adapter", h.name),
                "move it to http::HeaderMap by hand (request headers: `ctx.headers()`, response headers: `response.headers`, error trailers: `err.trailers_mut()`), together with its callers",
            ));
        }
    }
}

/// What step 3's new code needs beyond the file: `http` where metadata helpers move to
/// `http::HeaderMap` / `http::HeaderValue` (see `md_helpers`), and what the tonic-types
/// details need where they move to the crate's `google_rpc` module.
fn declare_needs(file: &FileCtx<'_>, out: &mut PassOutput) {
    use crate::manifest::{DepKind, NewDep};
    let t = file.text;
    if (t.contains("MetadataMap") || t.contains("MetadataValue")) && t.contains("connect_shim") {
        out.need(
            crate::engine::Need::Dependency(NewDep::new("http", "1", &[], DepKind::Normal)),
            crate::engine::When::Writes("http::"),
        );
    }
    crate::steps::details::declare_needs(file, out);
}

impl HandlersPass {
    /// One run of the pass with the metadata helpers `helpers` assumed to convert; `None` when
    /// the file keeps tonic errors as a whole, else the offsets of the helper calls converted.
    fn run_once(
        &self,
        file: &FileCtx<'_>,
        out: &mut PassOutput,
        helpers: Vec<Helper>,
    ) -> Option<(HashSet<usize>, Vec<Range<usize>>)> {
        let mut w = Walker {
            step: self.step,
            file,
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            out,
            replaced: Vec::new(),
            need_stream_ext: false,
            converted_fns: HashSet::new(),
            kept_any: false,
            tonic_impl_left: false,
            kept_regions: Vec::new(),
            known_readers: Vec::new(),
            helpers,
            converted_calls: HashSet::new(),
            pending_calls: Vec::new(),
            pending_replaced: Vec::new(),
            adapter_calls: Vec::new(),
        };
        if self.step == 3 {
            w.converted_fns = w.fns_with_converted_signatures();
            w.keep_interceptors();
        }
        w.visit_file(file.file);
        if self.step == 3 && w.tonic_impl_left {
            // Its helpers serve the tonic impl: nothing of the file changes before step 2.
            w.out.buffer.retain(|e| !e.rule.starts_with("step03/"));
            w.out
                .items
                .retain(|i| !i.rule.starts_with("step03/") || i.rule == "step03/step2-first");
            return None;
        }
        if self.step == 3
            && !file.crate_evidence.connect_server
            && !crate::evidence::SideEvidence::scan(file.text.as_bytes()).connect_server
        {
            // No handler of the workspace is on connect yet (step 2 converted none): whatever
            // returns tonic errors here still serves tonic, so nothing of the file changes.
            let first = w
                .out
                .buffer
                .edits()
                .iter()
                .filter(|e| e.rule.starts_with("step03/"))
                .map(|e| e.range.start)
                .chain(
                    w.out
                        .items
                        .iter()
                        .filter(|i| i.rule.starts_with("step03/"))
                        .map(|i| i.offset),
                )
                .min();
            if let Some(at) = first {
                w.out.buffer.retain(|e| !e.rule.starts_with("step03/"));
                w.out.items.retain(|i| !i.rule.starts_with("step03/"));
                w.report(
                    at,
                    "step2-first",
                    ItemKind::Manual,
                    "no service of the workspace is on connect yet (step 2 converted no handler): this file keeps tonic errors".into(),
                    "apply step 2 first (see its items: a schema it can read, or the handlers it lists), then run step 3 again",
                );
            }
            return None;
        }
        if self.step == 3 {
            w.twin_from_impls();
            w.drop_moot_imports();
            w.error_details();
            w.convert_helpers();
        }
        w.add_stream_ext();
        w.remove_unused_imports();
        Some((w.converted_calls, w.adapter_calls))
    }
}

struct Walker<'a, 'o> {
    step: u8,
    file: &'a FileCtx<'a>,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'o mut PassOutput,
    /// Ranges whose tonic names the pass replaced (imports of them may go).
    replaced: Vec<Range<usize>>,
    /// A native inbound stream needs `StreamExt` imported.
    need_stream_ext: bool,
    /// Local functions whose signature the renames of this run changed (they return
    /// `ConnectError` now).
    converted_fns: HashSet<String>,
    /// Some handler keeps tonic errors.
    kept_any: bool,
    /// An impl of a tonic server trait is left in the file: the file keeps tonic errors.
    tonic_impl_left: bool,
    /// Regions (handler bodies, tests) that keep tonic errors.
    kept_regions: Vec<Range<usize>>,
    /// tonic-types readers (`err.get_error_details()`, ..) called on errors this run moved to
    /// `ConnectError` (a handler test's `tonic_call_connect!` result): the crate's `google_rpc`
    /// module's `StatusExt` reads them.
    known_readers: Vec<Range<usize>>,
    /// Metadata helpers assumed to move to `http::HeaderMap` in this run.
    helpers: Vec<Helper>,
    /// Offsets of the helper calls converted (in native handler bodies committed).
    converted_calls: HashSet<usize>,
    /// Helper calls of the native body being built.
    pending_calls: Vec<usize>,
    /// Ranges of `.metadata()` calls the native body being built replaces (a `use
    /// tonic::metadata;` may go).
    pending_replaced: Vec<Range<usize>>,
    /// The adapter calls of the file.
    adapter_calls: Vec<Range<usize>>,
}

fn item(
    step: u8,
    offset: usize,
    rule: &str,
    kind: ItemKind,
    message: String,
    note: &str,
) -> ManualItem {
    item_at(offset, format!("step{step:02}/{rule}"), kind, message, note)
}

/// The token at `i` starts the last argument of `r.metadata_mut().insert(k, ..)` (or
/// `append`) on a response `r` of `responses`.
fn header_insert_value(toks: &[Tok], i: usize, responses: &HashSet<String>) -> bool {
    if i == 0 || !toks[i - 1].is_punct(',') {
        return false;
    }
    let Some(k) = enclosing_open(toks, i) else {
        return false;
    };
    // The value is the last argument.
    let Some((args, _)) = md_helpers::call_args(toks, k) else {
        return false;
    };
    if args.len() != 2 || args[1].start != i {
        return false;
    }
    k >= 8
        && toks[k - 1]
            .ident()
            .is_some_and(|m| m == "insert" || m == "append")
        && toks[k - 2].is_punct('.')
        && toks[k - 3].is_close(Delimiter::Parenthesis)
        && toks[k - 4].is_open(Delimiter::Parenthesis)
        && toks[k - 5].is_ident("metadata_mut")
        && toks[k - 6].is_punct('.')
        && toks[k - 7].ident().is_some_and(|n| responses.contains(n))
        && !toks[k - 8].is_punct('.')
}

/// The name of the call whose argument list holds token `i` directly (`f(.., x, ..)` or
/// `x.f(..)`), if any.
fn enclosing_call(toks: &[Tok], i: usize) -> Option<&str> {
    if i == 0 || !(toks[i - 1].is_punct(',') || toks[i - 1].is_open(Delimiter::Parenthesis)) {
        return None;
    }
    let k = enclosing_open(toks, i)?;
    if !toks[k].is_open(Delimiter::Parenthesis) {
        return None;
    }
    toks.get(k.checked_sub(1)?)?.ident()
}

/// The index of the innermost group opening before token `i` that is still open at `i`.
fn enclosing_open(toks: &[Tok], i: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut k = i.checked_sub(1)?;
    loop {
        match &toks[k] {
            Tok::Close(..) => depth += 1,
            Tok::Open(..) if depth == 0 => return Some(k),
            Tok::Open(..) => depth -= 1,
            _ => {}
        }
        k = k.checked_sub(1)?;
    }
}

/// An adapter call found as the whole body of a method.
/// What the native rewrite of one adapter's body gathers, token by token.
struct NativeBody {
    rule: &'static str,
    edits: Vec<Edit>,
    /// Inbound streams read as `let s = p.into_inner();`.
    streams: HashSet<String>,
    /// The answer is built with `Response::new`.
    answered: bool,
    /// The body reads the call's context (headers, peer address, extensions).
    uses_ctx: bool,
    /// `let mut r = Response::new(..)` bindings.
    responses: HashSet<String>,
    /// The body's `Status` locals (step 3).
    statuses: Vec<String>,
    /// Token indices already rewritten (arguments of metadata helper calls).
    done: HashSet<usize>,
}

/// A method called at token `i` (after a `.`): `r.metadata_mut()` / `r.metadata()` /
/// `r.disable_compression()` on a response built here with `Response::new` (connectrpc's
/// response has the fields `headers` and `compress`); the response methods connect has no
/// equivalent of refuse the rewrite.
fn response_method(toks: &[Tok], i: usize, b: &mut NativeBody) -> Result<(), String> {
    let rule = b.rule;
    let Tok::Ident(name, r) = &toks[i] else {
        return Ok(());
    };
    let on_response = i >= 2
        && toks[i - 2].ident().is_some_and(|n| b.responses.contains(n))
        && !(i >= 3 && toks[i - 3].is_punct('.'));
    if on_response
        && matches!(name.as_str(), "metadata_mut" | "metadata")
        && empty_call_at(toks, i - 2).is_some()
    {
        if !toks.get(i + 3).is_some_and(|t| t.is_punct('.')) {
            // Passed whole (a MetadataMap, not the connect response's HeaderMap).
            return Err(format!(
                "`{}.{name}()` is used as a whole (a MetadataMap, not an http::HeaderMap)",
                toks[i - 2].ident().unwrap_or_default()
            ));
        }
        b.edits.push(Edit::replace(
            r.start..toks[i + 2].range().end,
            "headers",
            rule,
        ));
        return Ok(());
    }
    if on_response && name == "disable_compression" && empty_call_at(toks, i - 2).is_some() {
        // `r.disable_compression();` -> `r.compress = Some(false);`
        b.edits.push(Edit::replace(
            r.start..toks[i + 2].range().end,
            "compress = Some(false)",
            rule,
        ));
        return Ok(());
    }
    if matches!(
        name.as_str(),
        "metadata_mut" | "set_compression" | "disable_compression" | "into_parts" | "trailers"
    ) {
        return Err(format!(
            "`.{name}()` has no connect equivalent this step writes"
        ));
    }
    Ok(())
}

/// The tonic request at token `i`, with the method called on it: the message, the inbound
/// stream, or the context's part that replaces it.
fn request_use(a: &Adapter<'_>, toks: &[Tok], i: usize, b: &mut NativeBody) -> Result<(), String> {
    let (rule, p) = (b.rule, a.param.as_str());
    let r = toks[i].range();
    let Some(m) = empty_call_at(toks, i) else {
        return Err(format!(
            "the tonic request `{p}` is used as a whole (passed on or moved)"
        ));
    };
    // Receiver and method are replaced separately, so line breaks between them stay.
    let method = toks[i + 2].range().start..toks[i + 4].range().end;
    let ctx = &a.ctx_name;
    let req = &a.req_name;
    let (recv, text) = match (m, a.kind.inbound()) {
        ("into_inner", false) => (req.to_string(), "to_owned_message()".to_string()),
        ("into_inner", true) => {
            // `let [mut] s = p.into_inner();` only.
            let at_let = i >= 2
                && toks[i - 1].is_punct('=')
                && toks.get(i + 5).is_some_and(|t| t.is_punct(';'));
            let binding = (i >= 3 && toks[i - 3].is_ident("let"))
                || (i >= 4 && toks[i - 3].is_ident("mut") && toks[i - 4].is_ident("let"));
            match (&toks[i - 2], at_let && binding) {
                (Tok::Ident(s, _), true) => {
                    b.streams.insert(s.clone());
                }
                _ => {
                    return Err(format!(
                        "the inbound stream is not read as `let s = {p}.into_inner();`"
                    ))
                }
            }
            (
                req.to_string(),
                "map(|item| item.map(|message| message.to_owned_message()))".to_string(),
            )
        }
        ("get_ref", false) => {
            if toks.get(i + 5).is_some_and(|t| t.is_punct('.')) {
                (req.to_string(), "to_owned_message()".to_string())
            } else {
                (format!("&{req}"), "to_owned_message()".to_string())
            }
        }
        ("metadata", _) => {
            let follow = toks.get(i + 5).is_some_and(|t| t.is_punct('.'))
                && toks
                    .get(i + 6)
                    .and_then(Tok::ident)
                    .is_some_and(|m| matches!(m, "get" | "contains_key"));
            if !follow {
                if let Some(f) = enclosing_call(toks, i) {
                    return Err(format!("`{p}.metadata()` is passed whole to `{f}(..)`, which the step does not move to http::HeaderMap (only private helpers of this file whose every call it converts; see the step03/metadata-helper item, if any)"));
                }
                return Err("request metadata is read other than with `get`/`contains_key` (HeaderMap differs: no `get_bin`, other iteration items)".into());
            }
            b.uses_ctx = true;
            (ctx.to_string(), "headers()".to_string())
        }
        ("remote_addr", _) => {
            b.uses_ctx = true;
            (ctx.to_string(), "peer_addr()".to_string())
        }
        ("extensions", _) => {
            b.uses_ctx = true;
            (ctx.to_string(), "extensions()".to_string())
        }
        (m, _) => {
            return Err(format!(
                "`{p}.{m}()` has no connect equivalent this step writes"
            ))
        }
    };
    if recv != p {
        b.edits.push(Edit::replace(r, recv, rule));
    }
    b.edits.push(Edit::replace(method, text, rule));
    Ok(())
}

/// An inbound stream at token `i`: `s.message().await` becomes `s.next().await.transpose()`.
fn stream_use(toks: &[Tok], i: usize, b: &mut NativeBody) -> Result<(), String> {
    let Some(m) = empty_call_at(toks, i) else {
        return Ok(());
    };
    if m == "message" {
        let awaited = toks.get(i + 5).is_some_and(|t| t.is_punct('.'))
            && toks.get(i + 6).is_some_and(|t| t.is_ident("await"));
        if !awaited {
            let name = toks[i].ident().unwrap_or_default();
            return Err(format!("`{name}.message()` is not awaited in place"));
        }
        b.edits
            .push(Edit::replace(toks[i + 2].range(), "next", b.rule));
        b.edits.push(Edit::insert(
            toks[i + 6].range().end,
            ".transpose()",
            b.rule,
        ));
    } else if m == "trailers" {
        return Err("inbound `trailers()` has no connect equivalent".into());
    }
    Ok(())
}

/// A `let` binding of a handler error in a test.
struct ErrorLocal {
    name: String,
    /// Where its statement ends (the binding is in scope after it).
    from: usize,
    /// From `tonic_call!` (not a `Status` the renames converted).
    from_call: bool,
}

/// What a test reads of its handler errors.
#[derive(Default)]
struct Accessors {
    /// `code()` / `message()`, rewritten to ConnectError's fields.
    edits: Vec<Edit>,
    /// A `tonic_call!` error is read the way only tonic's Status can.
    tonic_only: bool,
    /// Other methods on a converted Status: where, and what.
    manual: Vec<(usize, String)>,
    /// tonic-types' readers on `tonic_call!` errors, which the crate's `google_rpc` module has.
    readers: Vec<Range<usize>>,
}

struct Adapter<'s> {
    kind: Kind,
    /// Already the `connect_errors` twin.
    connect_errors: bool,
    /// `connect_shim::server` (the module part of the path as written), for the twin.
    module_end: usize,
    /// The end of the adapter's name, when it has no generic arguments written.
    name_end: Option<usize>,
    ctx_name: String,
    /// The method's `ctx` parameter identifier.
    ctx_param: Option<Range<usize>>,
    req_name: String,
    /// The method's request parameter identifier.
    req_param: Option<Range<usize>>,
    /// The closure's parameter (the tonic request); empty for `_`.
    param: String,
    /// The whole `adapter(..).await` expression.
    expr: Range<usize>,
    block: &'s syn::Block,
}

impl<'a> Walker<'a, '_> {
    fn report(&mut self, offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) {
        self.out
            .items
            .push(item(self.step, offset, rule, kind, message, note));
    }

    /// Is this byte range already covered by an edit of an earlier pass of the step (the
    /// renames)?
    fn edited(&self, r: &Range<usize>) -> bool {
        self.out.buffer.edits().iter().any(|e| {
            e.range.start < r.end.max(r.start + 1) && r.start < e.range.end.max(e.range.start + 1)
        })
    }

    fn resolve_str(&self, path: &str) -> Option<Vec<String>> {
        let p: syn::Path = syn::parse_str(path).ok()?;
        Some(
            self.idx
                .resolve(self.tr.current(), &p)?
                .resolved()?
                .full
                .clone(),
        )
    }

    /// The adapter call that is the whole body of `f`, if any.
    fn adapter<'s>(&self, sig: &syn::Signature, block: &'s syn::Block) -> Option<Adapter<'s>> {
        let [syn::Stmt::Expr(syn::Expr::Await(aw), None)] = block.stmts.as_slice() else {
            return None;
        };
        let syn::Expr::Call(call) = &*aw.base else {
            return None;
        };
        let syn::Expr::Path(fp) = &*call.func else {
            return None;
        };
        let full = self
            .idx
            .resolve(self.tr.current(), &fp.path)?
            .resolved()?
            .full
            .clone();
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        let (kind, connect_errors) = match segs.as_slice() {
            ["connect_shim", "server", k] => (Kind::from_name(k)?, false),
            ["connect_shim", "server", "connect_errors", k] => (Kind::from_name(k)?, true),
            _ => return None,
        };
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        let [ctx, req, syn::Expr::Closure(cl)] = args.as_slice() else {
            return None;
        };
        let ident_of = |e: &syn::Expr| match e {
            syn::Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let (ctx_name, req_name) = (ident_of(ctx)?, ident_of(req)?);
        // The method's own parameters must be what is passed.
        let params: Vec<String> = sig
            .inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => match &*t.pat {
                    syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        if !params.contains(&ctx_name) || !params.contains(&req_name) {
            return None;
        }
        let ctx_param = sig.inputs.iter().find_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(pi) if pi.ident == ctx_name => Some(range(pi.ident.span())),
                _ => None,
            },
            _ => None,
        });
        // `|request|`, or `|_|` (the body never reads the request: `param` is empty).
        let param = match cl.inputs.iter().collect::<Vec<_>>().as_slice() {
            [syn::Pat::Ident(pi)]
                if pi.by_ref.is_none() && pi.subpat.is_none() && pi.mutability.is_none() =>
            {
                pi.ident.to_string()
            }
            [syn::Pat::Wild(_)] => String::new(),
            _ => return None,
        };
        let req_param = sig.inputs.iter().find_map(|a| match a {
            syn::FnArg::Typed(t) => match &*t.pat {
                syn::Pat::Ident(pi) if pi.ident == req_name => Some(range(pi.ident.span())),
                _ => None,
            },
            _ => None,
        });
        let syn::Expr::Async(ab) = &*cl.body else {
            return None;
        };
        let module_end = if fp.path.segments.len() >= 2 {
            range(fp.path.segments[fp.path.segments.len() - 2].ident.span()).end
        } else {
            return None;
        };
        let last = fp.path.segments.last()?;
        let name_end = last
            .arguments
            .is_none()
            .then(|| range(last.ident.span()).end);
        Some(Adapter {
            kind,
            connect_errors,
            module_end,
            name_end,
            ctx_name,
            ctx_param,
            req_name,
            req_param,
            param,
            expr: range(syn::spanned::Spanned::span(&block.stmts[0])),
            block: &ab.block,
        })
    }

    fn method(&mut self, name: &str, sig: &syn::Signature, block: &syn::Block) {
        let Some(a) = self.adapter(sig, block) else {
            return;
        };
        self.adapter_calls.push(a.expr.clone());
        let at = a.expr.start;
        match self.step {
            3 => {
                // A handler an earlier run moved to the `connect_errors` adapters is listed
                // again, the same way (a unary body made native since is unwrapped now).
                if let Some(blocker) = (!a.connect_errors)
                    .then(|| self.tonic_errors_left(&a))
                    .flatten()
                {
                    self.keep_tonic(&a);
                    self.report(
                        at,
                        "handler-adapter",
                        ItemKind::Manual,
                        format!("`{name}` keeps tonic errors (it uses `{blocker}`, which the step does not convert): its body stays on connect_shim::server::{} with tonic::Status, and calls of converted helpers get `.map_err(connect_shim::status::to_status)`", a.kind.name()),
                        "convert the remaining tonic errors to ConnectError by hand (see the other items at this handler), then run step 3 again",
                    );
                    return;
                }
                if a.kind == Kind::Unary {
                    match self.native_handler_edits(&a) {
                        Ok(edits) => {
                            if self.out.commit(edits).is_ok() {
                                let calls = std::mem::take(&mut self.pending_calls);
                                let gone = std::mem::take(&mut self.pending_replaced);
                                self.replaced.extend(gone);
                                self.converted_calls.extend(calls);
                                return;
                            }
                        }
                        Err(why) => self.report(
                            at,
                            "handler-adapter",
                            ItemKind::Manual,
                            format!("`{name}` kept tonic-style on connect_shim::server::connect_errors::unary: {why}"),
                            "rewrite the body natively (ctx: RequestContext, request: ServiceRequest)",
                        ),
                    }
                } else {
                    self.report(
                        at,
                        "handler-adapter",
                        ItemKind::Manual,
                        format!("`{name}` kept tonic-style on connect_shim::server::connect_errors::{} until step 4 (streaming handlers)", a.kind.name()),
                        "run step 4",
                    );
                }
                if !a.connect_errors {
                    let mut twin = vec![Edit::insert(
                        a.module_end,
                        "::connect_errors",
                        "step03/handler-adapter",
                    )];
                    // The twin takes response stream items failing with any error it can
                    // convert; a body that never names its items' error type (`tx.send(Ok(x))`
                    // into an inferred channel) leaves it ambiguous: after the renames it is
                    // `ConnectError`, written out.
                    if let (Kind::ServerStream | Kind::Bidi, Some(end)) = (a.kind, a.name_end) {
                        let mut toks = Vec::new();
                        flatten(a.block.to_token_stream(), &mut toks);
                        // (`as Alias` pins the stream's type by a name of its own.)
                        let named = toks.iter().any(|t| {
                            t.is_ident("ConnectError") || t.is_ident("Status") || t.is_ident("as")
                        });
                        if !named {
                            twin.push(Edit::insert(
                                end,
                                "::<_, _, _, connectrpc::ConnectError, _, _>",
                                "step03/handler-adapter",
                            ));
                        }
                    }
                    let _ = self.out.commit(twin);
                }
            }
            4 => {
                if !a.connect_errors || a.kind == Kind::Unary {
                    let why = if a.connect_errors {
                        "its body is tonic-style (step 3 listed what blocks a native body)"
                    } else {
                        "its errors are still tonic's (step 3 listed why)"
                    };
                    self.report(
                        at,
                        "handler-adapter",
                        ItemKind::Manual,
                        format!("`{name}` stays on the connect_shim::server adapter: {why}"),
                        "rewrite the body natively, then the adapter goes",
                    );
                    return;
                }
                match self.native_handler_edits(&a) {
                    Ok(edits) => {
                        if self.out.commit(edits).is_ok() {
                            let gone = std::mem::take(&mut self.pending_replaced);
                            self.replaced.extend(gone);
                        }
                    }
                    Err(why) => self.report(
                        at,
                        "handler-adapter",
                        ItemKind::Manual,
                        format!("`{name}` kept tonic-style on connect_shim::server::connect_errors::{}: {why}", a.kind.name()),
                        "rewrite the body natively (InboundStream items are StreamMessage<M>: `to_owned_message()`; answer with `connectrpc::Response::stream(s)`)",
                    ),
                }
            }
            _ => {}
        }
    }

    /// Functions of the file with tonic's interceptor signature (`fn(tonic::Request<T>) ->
    /// Result<tonic::Request<T>, Status>`): tonic calls them, so their `Status` stays tonic's
    /// while tonic hosts the service (listed).
    fn keep_interceptors(&mut self) {
        let file = self.file.file;
        for it in &file.items {
            let syn::Item::Fn(f) = it else { continue };
            if !self.interceptor_signature(&f.sig) {
                continue;
            }
            let r = range(syn::spanned::Spanned::span(f));
            if !self.out.buffer.edits().iter().any(|e| {
                e.rule.starts_with("step03/") && r.start <= e.range.start && e.range.end <= r.end
            }) {
                continue;
            }
            let name = f.sig.ident.to_string();
            self.converted_fns.remove(&name);
            self.keep_tonic_in(r, f.block.to_token_stream());
            // Step 3 only (the keeping runs in its mode).
            self.out.items.push(item_at(
                range(f.sig.ident.span()).start,
                "step03/interceptor".into(),
                ItemKind::Manual,
                format!("`{name}` is a tonic interceptor (tonic::Request in, Result<tonic::Request, Status> out): it keeps tonic's Status while tonic hosts the service"),
                "when the server leaves tonic (step 5), move the check into a connect/tower middleware that answers with ConnectError",
            ));
        }
    }

    fn interceptor_signature(&self, sig: &syn::Signature) -> bool {
        // A receiver (`self`) is no interceptor's input.
        let inputs: Vec<&syn::Type> = sig
            .inputs
            .iter()
            .map(|a| match a {
                syn::FnArg::Typed(t) => Some(&*t.ty),
                syn::FnArg::Receiver(_) => None,
            })
            .collect::<Option<_>>()
            .unwrap_or_default();
        if inputs.len() != sig.inputs.len() {
            return false;
        }
        crate::steps::common::syntax::interceptor_shape(
            self.idx,
            self.tr.current(),
            inputs.into_iter(),
            &sig.output,
        )
    }

    /// An impl of a trait generated by tonic for a server (`<svc>_server::<Svc>`).
    fn is_tonic_server_impl(&self, imp: &syn::ItemImpl) -> bool {
        let Some((_, path, _)) = &imp.trait_ else {
            return false;
        };
        let tonic_attr = imp.attrs.iter().any(|a| {
            a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "async_trait")
        });
        let full = self
            .idx
            .resolve(self.tr.current(), path)
            .and_then(|r| r.resolved().cloned())
            .map(|r| r.full);
        let via_server_module = full.as_ref().is_some_and(|f| {
            f.len() >= 2 && f[..f.len() - 1].iter().any(|s| s.ends_with("_server"))
        });
        via_server_module
            || (tonic_attr
                && path
                    .segments
                    .iter()
                    .any(|s| s.ident.to_string().ends_with("_server")))
    }

    /// When every rename of the file was taken back, its import changes go too (and the
    /// explicit `tonic::` paths written for the taken-back names are not needed).
    fn drop_moot_imports(&mut self) {
        if !self.kept_any {
            return;
        }
        let mine = [
            "step03/imports",
            "step03/keep-tonic",
            "step03/handler-adapter",
            "step03/native-handler",
            "step03/handler-test",
            "step03/error-accessor",
            "step03/from-impl-twin",
        ];
        let renames_left = self
            .out
            .buffer
            .edits()
            .iter()
            .any(|e| e.rule.starts_with("step03/") && !mine.contains(&e.rule.as_str()));
        if renames_left {
            return;
        }
        self.out
            .buffer
            .retain(|e| e.rule != "step03/imports" && e.rule != "step03/keep-tonic");
    }

    /// Names of the file's functions whose signatures the renames changed.
    fn fns_with_converted_signatures(&self) -> HashSet<String> {
        struct Sigs<'w>(
            Vec<(String, Range<usize>)>,
            std::marker::PhantomData<&'w ()>,
        );
        impl<'ast> Visit<'ast> for Sigs<'_> {
            fn visit_signature(&mut self, s: &'ast syn::Signature) {
                if let syn::ReturnType::Type(_, t) = &s.output {
                    self.0.push((
                        s.ident.to_string(),
                        range(syn::spanned::Spanned::span(&**t)),
                    ));
                }
            }
        }
        let mut v = Sigs(Vec::new(), std::marker::PhantomData);
        v.visit_file(self.file.file);
        v.0.into_iter()
            .filter(|(_, r)| {
                self.out.buffer.edits().iter().any(|e| {
                    e.rule.starts_with("step03/")
                        && r.start <= e.range.start
                        && e.range.end <= r.end
                })
            })
            .map(|(n, _)| n)
            .collect()
    }

    /// The adapter's body keeps tonic errors: the renames inside it are taken back (written as
    /// explicit `tonic::` paths, since the imports may have moved), and `?` on calls of helpers
    /// that now return `ConnectError` converts back with `connect_shim::status::to_status`.
    fn keep_tonic(&mut self, a: &Adapter<'_>) {
        let body = range(a.block.brace_token.span.open()).start
            ..range(a.block.brace_token.span.close()).end;
        self.keep_tonic_in(body, a.block.to_token_stream());
    }

    /// [`keep_tonic`](Self::keep_tonic) for any region (`tokens` are its tokens).
    fn keep_tonic_in(&mut self, body: Range<usize>, tokens: TokenStream) {
        self.kept_regions.push(body.clone());
        let mut edits = self.revert_renames(&body);
        self.kept_any = true;
        let mut toks = Vec::new();
        flatten(tokens, &mut toks);
        for i in 0..toks.len() {
            let Tok::Ident(name, _) = &toks[i] else {
                continue;
            };
            if !self.converted_fns.contains(name)
                || !toks
                    .get(i + 1)
                    .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
            {
                continue;
            }
            let mut depth = 0usize;
            let mut j = i + 1;
            while j < toks.len() {
                match &toks[j] {
                    Tok::Open(..) => depth += 1,
                    Tok::Close(..) => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            if toks.get(j + 1).is_some_and(|t| t.is_punct('?')) {
                edits.push(Edit::insert(
                    toks[j].range().end,
                    ".map_err(connect_shim::status::to_status)",
                    "step03/keep-tonic",
                ));
            }
        }
        let _ = self.out.commit(edits);
    }

    /// Takes back the renames of this run inside `r` (see
    /// [`take_back_renames`](crate::rules::rename::take_back_renames)).
    fn revert_renames(&mut self, r: &Range<usize>) -> Vec<Edit> {
        crate::rules::rename::take_back_renames(
            self.out,
            self.text,
            self.idx,
            self.tr.current(),
            r,
            "step03/",
        )
    }

    /// With a handler kept on tonic errors, each converted `impl From<E> for Status` stays as it
    /// was (its `?` conversions still serve that handler) and its connect twin is added after it.
    fn twin_from_impls(&mut self) {
        if !self.kept_any {
            return;
        }
        let from_arg = |tr: &syn::Path| {
            let last = tr.segments.last()?;
            if last.ident != "From" {
                return None;
            }
            Some(last.arguments.to_token_stream().to_string())
        };
        // `From<E>` impls for ConnectError already there (a twin from an earlier run).
        let mut connect_froms = HashSet::new();
        for it in &self.file.file.items {
            let syn::Item::Impl(imp) = it else { continue };
            let Some((_, tr, _)) = &imp.trait_ else {
                continue;
            };
            let syn::Type::Path(tp) = &*imp.self_ty else {
                continue;
            };
            let is_connect = self
                .idx
                .resolve(self.tr.current(), &tp.path)
                .and_then(|r| r.resolved().cloned())
                .is_some_and(|r| r.full == ["connectrpc", "ConnectError"]);
            if let (true, Some(arg)) = (is_connect, from_arg(tr)) {
                connect_froms.insert(arg);
            }
        }
        let mut impls = Vec::new();
        for it in &self.file.file.items {
            let syn::Item::Impl(imp) = it else { continue };
            let Some((_, tr, _)) = &imp.trait_ else {
                continue;
            };
            let Some(arg) = from_arg(tr) else { continue };
            let ty = range(syn::spanned::Spanned::span(&*imp.self_ty));
            if !self.edited(&ty) {
                continue;
            }
            let r = range(syn::spanned::Spanned::span(imp));
            if connect_froms.contains(&arg) {
                // The twin exists: the tonic impl stays as it is.
                let edits = self.revert_renames(&r);
                let _ = self.out.commit(edits);
                continue;
            }
            impls.push(r);
        }
        for r in impls {
            let inside: Vec<Edit> = self
                .out
                .buffer
                .edits()
                .iter()
                .filter(|e| r.start <= e.range.start && e.range.end <= r.end)
                .cloned()
                .collect();
            let mut twin = self.text[r.clone()].to_string();
            for e in inside.iter().rev() {
                twin.replace_range(e.range.start - r.start..e.range.end - r.start, &e.text);
            }
            let mut edits = self.revert_renames(&r);
            let indent = crate::edit::indent_at(self.text, r.start).to_string();
            edits.push(Edit::insert(
                r.end,
                format!("\n\n{indent}{twin}"),
                "step03/from-impl-twin",
            ));
            let at = r.start;
            if self.out.commit(edits).is_ok() {
                self.report(
                    at,
                    "from-impl-twin",
                    ItemKind::Manual,
                    "this `impl From<E> for Status` stays for the handlers still on tonic errors; its ConnectError twin follows it".into(),
                    "delete the tonic impl once no handler of the file keeps tonic errors",
                );
            }
        }
    }

    /// A tonic error name in the adapter's closure that the renames of this run do not change,
    /// or a use of a renamed error that only tonic's `Status` has (its metadata).
    fn tonic_errors_left(&self, a: &Adapter<'_>) -> Option<String> {
        let mut toks = Vec::new();
        flatten(a.block.to_token_stream(), &mut toks);
        // `e.metadata_mut()` passed whole to a metadata helper that converts becomes
        // `e.trailers_mut()` (see `native`).
        let helper_args = self.helper_arg_starts(&toks);
        // `let [mut] e = <renamed Status path>(..)` then `e.metadata_mut()` / `e.metadata()`.
        for name in self.status_locals(&toks) {
            for m in 0..toks.len() {
                if toks[m].is_ident(&name)
                    && !(m > 0 && (toks[m - 1].is_punct('.') || toks[m - 1].is_punct(':')))
                    && toks.get(m + 1).is_some_and(|t| t.is_punct('.'))
                    && !helper_args.contains(&m)
                {
                    if let Some(meth) = toks.get(m + 2).and_then(Tok::ident) {
                        if matches!(meth, "metadata" | "metadata_mut" | "set_source" | "details") {
                            if let Some(f) = enclosing_call(&toks, m) {
                                return Some(format!("{name}.{meth}() on a tonic Status, passed to `{f}(..)`, a helper it does not move to http::HeaderMap (see its step03/metadata-helper item, if any)"));
                            }
                            return Some(format!("{name}.{meth}() on a tonic Status"));
                        }
                    }
                }
            }
        }
        self.tonic_names_left(&toks)
    }

    /// Locals bound to a renamed tonic `Status` construction: `let [mut] e = Status::..(..)`.
    fn status_locals(&self, toks: &[Tok]) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..toks.len() {
            if !toks[i].is_ident("let") {
                continue;
            }
            let mut j = i + 1;
            if toks.get(j).is_some_and(|t| t.is_ident("mut")) {
                j += 1;
            }
            let (Some(Tok::Ident(name, _)), Some(eq)) = (toks.get(j), toks.get(j + 1)) else {
                continue;
            };
            if !eq.is_punct('=') {
                continue;
            }
            let mut k = j + 2;
            while toks
                .get(k)
                .is_some_and(|t| t.ident().is_some() || t.is_punct(':'))
            {
                k += 1;
            }
            let Some(head_end) = toks.get(k.saturating_sub(1)).map(|t| t.range().end) else {
                continue;
            };
            let head = toks.get(j + 2).map_or(head_end, |t| t.range().start)..head_end;
            if !self.renamed_status(head) {
                continue;
            }
            out.push(name.clone());
        }
        out
    }

    /// The metadata helper (of those assumed to convert) called at token `i`, and whether with
    /// method syntax (`x.name(..)`).
    fn helper_call_at(&self, toks: &[Tok], i: usize) -> Option<(&Helper, bool)> {
        let name = toks[i].ident()?;
        let h = self.helpers.iter().find(|h| h.name == name)?;
        if !toks.get(i + 1)?.is_open(Delimiter::Parenthesis)
            || (i > 0 && toks[i - 1].is_ident("fn"))
        {
            return None;
        }
        let method_syntax = i > 0 && toks[i - 1].is_punct('.');
        if method_syntax && !h.receiver {
            return None;
        }
        Some((h, method_syntax))
    }

    /// Token indices of the receivers `x` of `x.m()` arguments passed whole to metadata
    /// parameters of helper calls.
    fn helper_arg_starts(&self, toks: &[Tok]) -> HashSet<usize> {
        let mut out = HashSet::new();
        for i in 0..toks.len() {
            let Some((h, ms)) = self.helper_call_at(toks, i) else {
                continue;
            };
            let Some((args, _)) = md_helpers::call_args(toks, i + 1) else {
                continue;
            };
            for (k, arg) in args.iter().enumerate() {
                if h.param_at(k, ms).is_some() && md_helpers::whole_accessor(toks, arg).is_some() {
                    out.insert(arg.start);
                }
            }
        }
        out
    }

    /// A tonic `Status` / `Code` name the renames of this run did not change.
    fn tonic_names_left(&self, toks: &[Tok]) -> Option<String> {
        for (i, t) in toks.iter().enumerate() {
            let Tok::Ident(name, r) = t else { continue };
            if name != "Status" && name != "Code" {
                continue;
            }
            if i > 0 && toks[i - 1].is_punct('.') {
                continue;
            }
            let qualified = i >= 3
                && toks[i - 1].is_punct(':')
                && toks[i - 2].is_punct(':')
                && toks[i - 3].is_ident("tonic");
            let start = if qualified {
                toks[i - 3].range().start
            } else {
                r.start
            };
            if self.edited(&(start..r.end)) {
                continue;
            }
            let tonic = qualified
                || self
                    .resolve_str(name)
                    .is_some_and(|f| f.first().map(String::as_str) == Some("tonic"));
            if tonic {
                return Some(format!("tonic::{name}"));
            }
        }
        None
    }

    /// tonic-types paths move to the crate's `google_rpc` module (see `steps::details`) when the
    /// step renamed the file's `Status::with_error_details` calls; kept regions keep
    /// tonic-types' names in full.
    fn error_details(&mut self) {
        use crate::steps::details;
        details::commit_declaration(self.file, self.out, "step03/error-details");
        if !self.text.contains("tonic_types") {
            return;
        }
        if !details::converts(self.file) {
            let items = details::blocked_items(self.file, 3);
            self.out.items.extend(items);
            return;
        }
        // Every construction outside the kept regions must have been renamed, and no reader
        // may be left there (its receiver's type is not known here).
        let mut toks = Vec::new();
        flatten(self.file.file.to_token_stream(), &mut toks);
        let kept = |r: &Range<usize>| {
            self.kept_regions
                .iter()
                .any(|k| k.start <= r.start && r.end <= k.end)
        };
        for (i, t) in toks.iter().enumerate() {
            let Tok::Ident(n, r) = t else { continue };
            if kept(r) {
                continue;
            }
            let construction = n.starts_with("with_error_details")
                && !crate::steps::details::native_construction(self.file.index, &toks, i);
            let read = details::READERS.contains(&n.as_str())
                && i > 0
                && toks[i - 1].is_punct('.')
                && !self.known_readers.contains(r);
            let renamed = self.out.buffer.edits().iter().any(|e| {
                e.rule == "step03/status-with-error-details"
                    && e.range.end <= r.start
                    && r.start <= e.range.end + 3
            });
            if (construction && !renamed) || read {
                self.report(
                    r.start,
                    "error-details",
                    ItemKind::Manual,
                    format!("tonic-types error details stay on tonic in this file: `{n}` here is not a server-side construction the step converted"),
                    "move it to ConnectError with the crate's google_rpc module (ConnectError::with_error_details, err.get_details_*()) by hand",
                );
                return;
            }
        }
        let edits = details::conversion(self.file, &self.kept_regions, "step03/error-details");
        let _ = self.out.commit(edits);
    }

    /// The native rewrite of an adapter call: the closure's body becomes the method's body.
    fn native_handler_edits(&mut self, a: &Adapter<'_>) -> Result<Vec<Edit>, String> {
        let rule = if self.step == 3 {
            "step03/native-handler"
        } else {
            "step04/native-handler"
        };
        let mut toks = Vec::new();
        flatten(a.block.to_token_stream(), &mut toks);
        // The outer braces of the async block.
        let (Some(Tok::Open(_, open)), Some(Tok::Close(_, close))) = (toks.first(), toks.last())
        else {
            return Err("unexpected body".into());
        };
        let (open, close) = (open.clone(), close.clone());
        if let Some(f) = self.tonic_response_fn(&toks) {
            return Err(format!(
                "it answers through `{f}`, which returns tonic's `Response`"
            ));
        }
        let responses = self.response_bindings(&toks);
        self.pending_calls.clear();
        self.pending_replaced.clear();
        let statuses = if self.step == 3 {
            self.status_locals(&toks)
        } else {
            Vec::new()
        };
        let mut b = NativeBody {
            rule,
            edits: Vec::new(),
            streams: HashSet::new(),
            answered: false,
            uses_ctx: false,
            responses,
            statuses,
            done: HashSet::new(),
        };
        for i in 0..toks.len() {
            if !b.done.contains(&i) {
                self.native_token(a, &toks, i, &mut b)?;
            }
        }
        // A body that never answers `Ok` (`Err(ConnectError::unimplemented(..))`) is a native
        // body as it is.
        let only_errors = !toks.iter().any(|t| t.is_ident("Ok"));
        if !b.answered && !only_errors {
            return Err("the answer is not built with `Response::new`".into());
        }
        let mut edits = b.edits;
        if let (false, Some(r)) = (b.uses_ctx, &a.ctx_param) {
            if !a.ctx_name.starts_with('_') {
                edits.push(Edit::replace(r.clone(), format!("_{}", a.ctx_name), rule));
            }
        }
        // `|_|`: the request is not read.
        if let (true, Some(r)) = (a.param.is_empty(), &a.req_param) {
            if !a.req_name.starts_with('_') {
                edits.push(Edit::replace(r.clone(), format!("_{}", a.req_name), rule));
            }
        }
        if a.kind.inbound()
            && !b.streams.is_empty()
            && self
                .idx
                .binding_of(self.tr.current(), "StreamExt")
                .is_none()
        {
            self.need_stream_ext = true;
        }
        self.unwrap_adapter_edits(a, &toks, &open, &close, rule, &mut edits)?;
        Ok(edits)
    }

    /// A crate function called in the body (`name(..)`) whose declared return type holds
    /// tonic's `Response` (`-> Result<Response<Reply>, Status>`): the body's answer comes
    /// from it, so the body cannot answer with connectrpc's `Response` by itself.
    fn tonic_response_fn(&self, toks: &[Tok]) -> Option<String> {
        for (i, t) in toks.iter().enumerate() {
            let Tok::Ident(name, _) = t else { continue };
            let called = matches!(
                toks.get(i + 1),
                Some(Tok::Open(proc_macro2::Delimiter::Parenthesis, _))
            );
            if !called || (i > 0 && (toks[i - 1].is_punct('.') || toks[i - 1].is_punct(':'))) {
                continue;
            }
            let Some(full) = self.resolve_str(name) else {
                continue;
            };
            if full.first().map(String::as_str) != Some("crate") {
                continue;
            }
            let declared = self
                .idx
                .symbols
                .as_deref()
                .and_then(|ix| ix.function(&full))
                .and_then(|f| f.ret)
                .map(|r| r.text);
            // A function of this file (the index may not hold a binary's root).
            let declared = declared.or_else(|| {
                self.file.file.items.iter().find_map(|it| match it {
                    syn::Item::Fn(f) if f.sig.ident == name => match &f.sig.output {
                        syn::ReturnType::Type(_, t) => Some(t.to_token_stream().to_string()),
                        syn::ReturnType::Default => None,
                    },
                    _ => None,
                })
            });
            let Some(text) = declared else { continue };
            let Ok(ty) = syn::parse_str::<syn::Type>(&text) else {
                continue;
            };
            let mut paths = Vec::new();
            collect_type_paths(&ty, &mut paths);
            let tonic_response = paths.iter().any(|p| {
                p.segments.last().is_some_and(|s| s.ident == "Response")
                    && self
                        .idx
                        .resolve(self.tr.current(), p)
                        .and_then(|r| r.resolved().map(|r| r.full.clone()))
                        .is_some_and(|f| f.first().map(String::as_str) == Some("tonic"))
            });
            if tonic_response {
                return Some(name.clone());
            }
        }
        None
    }

    /// `let mut r = Response::new(..)` bindings (tonic's `Response`, connectrpc's once native).
    fn response_bindings(&self, toks: &[Tok]) -> HashSet<String> {
        let mut responses: HashSet<String> = HashSet::new();
        for i in 0..toks.len() {
            if toks[i].is_ident("let")
                && toks.get(i + 1).is_some_and(|t| t.is_ident("mut"))
                && toks.get(i + 3).is_some_and(|t| t.is_punct('='))
                && toks
                    .get(i + 4)
                    .is_some_and(|t| t.is_ident("Response") || t.is_ident("tonic"))
            {
                if let Some(n) = toks.get(i + 2).and_then(Tok::ident) {
                    let path_ok = if toks[i + 4].is_ident("tonic") {
                        toks.get(i + 7).is_some_and(|t| t.is_ident("Response"))
                    } else {
                        self.resolve_str("Response")
                            .is_some_and(|f| f == ["tonic", "Response"])
                    };
                    if path_ok {
                        responses.insert(n.to_string());
                    }
                }
            }
        }
        responses
    }

    /// The native rewrite at token `i` of the body: what it names decides.
    fn native_token(
        &mut self,
        a: &Adapter<'_>,
        toks: &[Tok],
        i: usize,
        b: &mut NativeBody,
    ) -> Result<(), String> {
        let Tok::Ident(name, r) = &toks[i] else {
            return Ok(());
        };
        let after_dot = i > 0 && toks[i - 1].is_punct('.');
        let after_colon = i > 0 && toks[i - 1].is_punct(':');
        // `a::name` (a field initialiser `message: name` is not a path).
        let after_path = after_colon && i > 1 && toks[i - 2].is_punct(':');
        if let Some((h, method_syntax)) = self.helper_call_at(toks, i).map(|(h, m)| (h.clone(), m))
        {
            return self.helper_call_args(a, toks, i, &h, method_syntax, b);
        }
        if after_dot {
            return response_method(toks, i, b);
        }
        let p = a.param.as_str();
        if name == p && !after_path {
            return request_use(a, toks, i, b);
        }
        if (name == &a.ctx_name || name == &a.req_name) && name != p && !after_path {
            return Err(format!(
                "the body names `{name}`, which the native body would shadow"
            ));
        }
        if b.streams.contains(name) && !after_path {
            return stream_use(toks, i, b);
        }
        // Paths into tonic (not from inside a path, nor in a type after `:`).
        if after_colon {
            return Ok(());
        }
        self.tonic_path_use(a, toks, i, r, b)
    }

    /// A call at token `i` of a metadata helper moving to http::HeaderMap: its metadata
    /// arguments too.
    fn helper_call_args(
        &mut self,
        a: &Adapter<'_>,
        toks: &[Tok],
        i: usize,
        h: &Helper,
        method_syntax: bool,
        b: &mut NativeBody,
    ) -> Result<(), String> {
        let (rule, p) = (b.rule, a.param.as_str());
        let Tok::Ident(name, r) = &toks[i] else {
            return Ok(());
        };
        let Some((args, _)) = md_helpers::call_args(toks, i + 1) else {
            return Err(format!("a call of `{name}` the step cannot read"));
        };
        for (k, arg) in args.iter().enumerate() {
            let Some(mutable) = h.param_at(k, method_syntax) else {
                continue;
            };
            let whole = toks[arg.start].range().start..toks[arg.end - 1].range().end;
            let unsupported = || {
                format!(
                    "`{}(..)` is passed `{}`, which the step cannot turn into an http::HeaderMap",
                    h.name,
                    &self.text[whole.clone()]
                )
            };
            let Some((x, m)) = md_helpers::whole_accessor(toks, arg) else {
                return Err(unsupported());
            };
            let method = toks[arg.start + 2].range().start..toks[arg.start + 4].range().end;
            let is_status = b.statuses.iter().any(|s| s == x);
            match (m, mutable) {
                ("metadata", false) if x == p => {
                    b.uses_ctx = true;
                    b.edits.push(Edit::replace(
                        toks[arg.start].range(),
                        a.ctx_name.clone(),
                        rule,
                    ));
                    b.edits.push(Edit::replace(method, "headers()", rule));
                }
                ("metadata_mut", true) if b.responses.contains(x) => {
                    b.edits.push(Edit::replace(
                        whole.clone(),
                        format!("&mut {x}.headers"),
                        rule,
                    ));
                }
                ("metadata", false) if b.responses.contains(x) => {
                    b.edits
                        .push(Edit::replace(whole.clone(), format!("&{x}.headers"), rule));
                }
                // connectrpc sends a ConnectError's trailers as the gRPC trailers, where
                // tonic sent a Status's metadata.
                ("metadata_mut", true) if is_status => {
                    b.edits.push(Edit::replace(method, "trailers_mut()", rule));
                }
                ("metadata", false) if is_status => {
                    b.edits.push(Edit::replace(method, "trailers()", rule));
                }
                _ => return Err(unsupported()),
            }
            self.pending_replaced.push(whole);
            b.done.extend(arg.clone());
        }
        self.pending_calls.push(r.start);
        Ok(())
    }

    /// A path at token `i` (not after `::`) that resolves into tonic: the few the native body
    /// writes (`Response::new`, a header value), any other refuses the rewrite.
    fn tonic_path_use(
        &mut self,
        a: &Adapter<'_>,
        toks: &[Tok],
        i: usize,
        r: &Range<usize>,
        b: &mut NativeBody,
    ) -> Result<(), String> {
        let rule = b.rule;
        let path_end = {
            let mut j = i;
            while toks.get(j + 1).is_some_and(|t| t.is_punct(':'))
                && toks.get(j + 2).is_some_and(|t| t.is_punct(':'))
                && toks.get(j + 3).and_then(Tok::ident).is_some()
            {
                j += 3;
            }
            j
        };
        let written: Vec<&str> = (i..=path_end)
            .step_by(3)
            .filter_map(|k| toks[k].ident())
            .collect();
        let Ok(path) = syn::parse_str::<syn::Path>(&written.join("::")) else {
            return Ok(());
        };
        let full = match self
            .idx
            .resolve(self.tr.current(), &path)
            .and_then(|r| r.resolved().cloned())
        {
            Some(r) => r.full,
            None if written[0] == "tonic" => written.iter().map(|s| s.to_string()).collect(),
            None => return Ok(()),
        };
        if full.first().map(String::as_str) != Some("tonic") {
            return Ok(());
        }
        let span = r.start..toks[path_end].range().end;
        if self.edited(&span) {
            return Ok(());
        }
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        if matches!(
            segs.as_slice(),
            [
                "tonic",
                "metadata",
                "MetadataValue" | "AsciiMetadataValue",
                "from_static"
            ]
        ) && path_end >= 3
            && header_insert_value(toks, i, &b.responses)
            && !md_helpers::http_taken(self.file.file, self.idx)
        {
            // The value of `r.metadata_mut().insert(k, MetadataValue::from_static(..))`,
            // which becomes `r.headers.insert(..)`.
            let ty_end = toks[path_end - 3].range().end;
            b.edits
                .push(Edit::replace(r.start..ty_end, "http::HeaderValue", rule));
            self.pending_replaced.push(r.start..ty_end);
            return Ok(());
        }
        if segs == ["tonic", "Response", "new"] {
            // The written path minus its last segment is the type.
            let ty_end = toks[path_end - 3].range().end;
            b.edits
                .push(Edit::replace(r.start..ty_end, "connectrpc::Response", rule));
            if a.kind.outbound() {
                b.edits
                    .push(Edit::replace(toks[path_end].range(), "stream", rule));
            }
            self.pending_replaced.push(r.start..ty_end);
            b.answered = true;
            return Ok(());
        }
        Err(format!("it uses `{}`", segs.join("::")))
    }

    /// Structure: `adapter(ctx, req, |p| async move {` on its own line(s) up to the block's
    /// `{`, the body lines, then `})` and `.await`: the lines around the body go, the body is
    /// dedented.
    fn unwrap_adapter_edits(
        &self,
        a: &Adapter<'_>,
        toks: &[Tok],
        open: &Range<usize>,
        close: &Range<usize>,
        rule: &'static str,
        edits: &mut Vec<Edit>,
    ) -> Result<(), String> {
        let text = self.text;
        let call_line = line_start(text, a.expr.start);
        if !text[call_line..a.expr.start].trim().is_empty() {
            return Err("the adapter call does not start its line".into());
        }
        let after_open = open.end;
        let Some(nl) = text[after_open..].find('\n') else {
            return Err("one-line body".into());
        };
        if !text[after_open..after_open + nl].trim().is_empty() {
            return Err("the body starts on the adapter's line".into());
        }
        let body_start = after_open + nl + 1;
        let close_line = line_start(text, close.start);
        if !text[close_line..close.start].trim().is_empty() || close_line < body_start {
            return Err("the body ends on a line with code".into());
        }
        let mut tail_end = a.expr.end;
        if text[tail_end..].starts_with('\n') {
            tail_end += 1;
        } else if text[tail_end..].starts_with("\r\n") {
            tail_end += 2;
        }
        let outer = crate::edit::indent_at(text, a.expr.start).len();
        let inner = crate::edit::indent_at(text, body_start).len();
        let unit = inner.saturating_sub(outer);
        edits.push(Edit::delete(call_line..body_start, rule));
        edits.push(Edit::delete(close_line..tail_end, rule));
        // Dedent the body lines, except inside multi-line literals.
        let literal_lines: Vec<Range<usize>> = toks
            .iter()
            .filter_map(|t| match t {
                Tok::Lit(r) if text[r.clone()].contains('\n') => Some(r.clone()),
                _ => None,
            })
            .collect();
        let mut ls = body_start;
        while ls < close_line {
            let le = text[ls..].find('\n').map_or(text.len(), |k| ls + k + 1);
            let inside_literal = literal_lines.iter().any(|r| r.start < ls && ls < r.end);
            let ws = text[ls..le].len() - text[ls..le].trim_start_matches(' ').len();
            let inside_edit = edits
                .iter()
                .any(|e| e.range.start < ls + unit && ls < e.range.end);
            if !inside_literal
                && !inside_edit
                && unit > 0
                && ws >= unit
                && !text[ls..le].trim().is_empty()
            {
                edits.push(Edit::delete(ls..ls + unit, rule));
            }
            ls = le;
        }
        Ok(())
    }

    /// The metadata helpers that converted with all their calls move to `http::HeaderMap`.
    fn convert_helpers(&mut self) {
        let helpers = std::mem::take(&mut self.helpers);
        for h in &helpers {
            let calls = md_helpers::mentions_in(self.text, self.file.file, &h.name);
            if calls.iter().any(|c| !self.converted_calls.contains(c)) {
                // `run` takes the run back and tries again without it.
                continue;
            }
            if self.out.commit(h.edits.clone()).is_ok() {
                self.replaced.extend(h.replaced.iter().cloned());
            }
        }
        self.helpers = helpers;
    }

    /// `use futures::StreamExt;` for native inbound streams, when nothing binds `StreamExt`.
    fn add_stream_ext(&mut self) {
        if !self.need_stream_ext {
            return;
        }
        // After the last `use` item of the root module, else at the top of the file.
        let last_use = self
            .file
            .file
            .items
            .iter()
            .filter(|i| matches!(i, syn::Item::Use(_)))
            .map(|i| range(syn::spanned::Spanned::span(i)).end)
            .max();
        let edit = match last_use {
            Some(end) => Edit::insert(end, "\nuse futures::StreamExt;", "step04/stream-ext"),
            None => Edit::insert(0, "use futures::StreamExt;\n", "step04/stream-ext"),
        };
        let _ = self.out.commit(vec![edit]);
    }

    /// Imports of tonic's `Request`, `Response` and `Streaming` that nothing refers to once
    /// the bodies are native.
    fn remove_unused_imports(&mut self) {
        if self.replaced.is_empty() {
            return;
        }
        let edits = crate::rules::rename::unused_import_removals(
            self.file.file,
            self.idx,
            self.text,
            &self.replaced,
            |segs| {
                matches!(
                    segs,
                    ["tonic", "Request"]
                        | ["tonic", "Response"]
                        | ["tonic", "Streaming"]
                        | ["tonic", "metadata"]
                        | ["tonic", "metadata", "MetadataMap"]
                        | ["tonic", "metadata", "MetadataValue"]
                        | ["tonic", "metadata", "AsciiMetadataValue"]
                )
            },
            &format!("step{:02}/imports", self.step),
        );
        // An import another rule of the step edited stays as it is (the others go: one
        // transaction per `use` item).
        let mut groups: Vec<(Range<usize>, Vec<Edit>)> = Vec::new();
        for e in edits {
            let item = self
                .idx
                .use_items
                .iter()
                .map(|u| u.range.clone())
                .find(|u| u.start <= e.range.start && e.range.start <= u.end)
                .unwrap_or(e.range.clone());
            match groups.iter_mut().find(|(r, _)| *r == item) {
                Some((_, v)) => v.push(e),
                None => groups.push((item, vec![e])),
            }
        }
        for (_, g) in groups {
            let _ = self.out.commit(g);
        }
    }

    // -----------------------------------------------------------------------------------------
    // handler tests (step 3)

    /// `connect_shim::tonic_call!(..)` -> `tonic_call_connect!(..)`, and the accessors of the
    /// errors taken out of its result in the same block (`err.code()` -> `err.code`,
    /// `err.message()` -> `err.message.as_deref().unwrap_or("")`); the same accessors on locals
    /// the renames made `ConnectError`s. tonic-types' readers (`get_error_details()`,
    /// `get_details_bad_request()`, ..) stay as they are when the file's details move to the
    /// crate's `google_rpc` module (its `StatusExt` has them on `ConnectError`). A function that
    /// reads such an error in a way only tonic's `Status` has (`metadata()`, those readers when the
    /// details stay on tonic-types, ..) keeps `tonic_call!` and tonic errors throughout.
    fn test_block(&mut self, b: &syn::Block) {
        let errs = self.error_locals(b);
        let mut toks = Vec::new();
        flatten(b.to_token_stream(), &mut toks);
        let calls = self.tonic_call_macros(&toks);
        if errs.is_empty() && calls.is_empty() {
            return;
        }
        let Accessors {
            mut edits,
            tonic_only,
            manual,
            readers,
        } = self.error_accessors(&toks, &errs);
        let body = range(b.brace_token.span.open()).start..range(b.brace_token.span.close()).end;
        if tonic_only {
            self.kept_regions.push(body.clone());
            let edits = self.revert_renames(&body);
            let _ = self.out.commit(edits);
            if !calls.is_empty() {
                self.report(
                    calls[0].0.start,
                    "handler-test",
                    ItemKind::Manual,
                    "this test reads a handler error the way only tonic's Status can (tonic-types details, metadata): it keeps `tonic_call!` and tonic errors".into(),
                    "read `err.details` (Vec<ErrorDetail>) / `err.trailers()` of the ConnectError instead, through `connect_shim::tonic_call_connect!`",
                );
            }
            return;
        }
        self.known_readers.extend(readers);
        for (c, new) in calls {
            edits.push(Edit::replace(c, new, "step03/handler-test"));
        }
        for (at, what) in manual {
            self.report(
                at,
                "error-accessor",
                ItemKind::Manual,
                format!("{what} of a tonic Status has no same-shaped ConnectError accessor"),
                "ConnectError has the fields `code`, `message` (Option<String>), `details` (Vec<ErrorDetail>) and `response_headers()`/`trailers()`",
            );
        }
        let _ = self.out.commit(edits);
    }

    /// The block's `let` bindings of handler errors: from `tonic_call!(..).unwrap_err()`, or a
    /// `Status` the renames converted.
    fn error_locals(&self, b: &syn::Block) -> Vec<ErrorLocal> {
        let mut errs = Vec::new();
        for s in &b.stmts {
            let syn::Stmt::Local(l) = s else { continue };
            let (pat, ty) = match &l.pat {
                syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
                p => (p, None),
            };
            let syn::Pat::Ident(pi) = pat else { continue };
            let end = range(syn::spanned::Spanned::span(s)).end;
            let name = pi.ident.to_string();
            let init = l.init.as_ref().map(|i| &*i.expr);
            if init.is_some_and(|e| self.error_of_tonic_call(e)) {
                errs.push(ErrorLocal {
                    name,
                    from: end,
                    from_call: true,
                });
                continue;
            }
            let typed =
                ty.is_some_and(|t| self.renamed_status(range(syn::spanned::Spanned::span(t))));
            let built = match init {
                Some(syn::Expr::Call(c)) => match &*c.func {
                    syn::Expr::Path(p) => {
                        self.renamed_status(range(syn::spanned::Spanned::span(&p.path)))
                    }
                    _ => false,
                },
                _ => false,
            };
            if typed || built || init.is_some_and(|e| self.error_of_converted_fn(e)) {
                errs.push(ErrorLocal {
                    name,
                    from: end,
                    from_call: false,
                });
            }
        }
        errs
    }

    /// The `tonic_call!` macros of the block (any macro path resolving to it: `use
    /// connect_shim::tonic_call as call;` makes `call!` one), with what replaces their path.
    fn tonic_call_macros(&self, toks: &[Tok]) -> Vec<(Range<usize>, &'static str)> {
        let mut calls = Vec::new();
        for i in 0..toks.len() {
            if toks[i].ident().is_some() && toks.get(i + 1).is_some_and(|t| t.is_punct('!')) {
                let mut k = i;
                while k >= 3
                    && toks[k - 1].is_punct(':')
                    && toks[k - 2].is_punct(':')
                    && toks[k - 3].ident().is_some()
                {
                    k -= 3;
                }
                let written: Vec<&str> =
                    (k..=i).step_by(3).filter_map(|j| toks[j].ident()).collect();
                if self
                    .resolve_str(&written.join("::"))
                    .is_some_and(|f| f == ["connect_shim", "tonic_call"])
                {
                    // `tonic_call` as written: its last segment; an alias: the whole path.
                    if toks[i].is_ident("tonic_call") {
                        calls.push((toks[i].range(), "tonic_call_connect"));
                    } else {
                        let start =
                            if k >= 2 && toks[k - 1].is_punct(':') && toks[k - 2].is_punct(':') {
                                toks[k - 2].range().start
                            } else {
                                toks[k].range().start
                            };
                        calls.push((
                            start..toks[i].range().end,
                            "connect_shim::tonic_call_connect",
                        ));
                    }
                }
            }
        }
        calls
    }

    /// The methods called on the error locals `errs` after their binding.
    fn error_accessors(&self, toks: &[Tok], errs: &[ErrorLocal]) -> Accessors {
        let mut acc = Accessors::default();
        for i in 0..toks.len() {
            let Tok::Ident(name, r) = &toks[i] else {
                continue;
            };
            if i > 0 && (toks[i - 1].is_punct('.') || toks[i - 1].is_punct(':')) {
                continue;
            }
            let Some(e) = errs
                .iter()
                .rev()
                .find(|e| &e.name == name && r.start >= e.from)
            else {
                continue;
            };
            let from_call = e.from_call;
            if !toks.get(i + 1).is_some_and(|t| t.is_punct('.')) {
                continue;
            }
            let Some(m) = toks.get(i + 2).and_then(Tok::ident) else {
                continue;
            };
            let empty = toks
                .get(i + 3)
                .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
                && toks
                    .get(i + 4)
                    .is_some_and(|t| t.is_close(Delimiter::Parenthesis));
            let call = toks[i + 2].range().start..toks.get(i + 4).map_or(r.end, |t| t.range().end);
            match (m, empty) {
                ("code", true) => {
                    acc.edits
                        .push(Edit::replace(call, "code", "step03/error-accessor"))
                }
                ("message", true) => acc.edits.push(Edit::replace(
                    call,
                    "message.as_deref().unwrap_or(\"\")",
                    "step03/error-accessor",
                )),
                // tonic-types' readers: the crate's `google_rpc` module has them on
                // `ConnectError` when the file's details move there.
                (m, _)
                    if from_call
                        && crate::steps::details::READERS.contains(&m)
                        && crate::steps::details::converts(self.file) =>
                {
                    acc.readers.push(toks[i + 2].range());
                }
                _ if toks
                    .get(i + 3)
                    .is_some_and(|t| t.is_open(Delimiter::Parenthesis)) =>
                {
                    if from_call {
                        acc.tonic_only = true;
                    } else {
                        acc.manual.push((r.start, format!("`{name}.{m}(..)`")));
                    }
                }
                _ => {}
            }
        }
        acc
    }

    /// Is `e` `<call of a helper whose signature the renames converted>...unwrap_err()`?
    fn error_of_converted_fn(&self, e: &syn::Expr) -> bool {
        let syn::Expr::MethodCall(mc) = e else {
            return false;
        };
        if mc.method != "unwrap_err" && mc.method != "expect_err" {
            return false;
        }
        let mut cur = &*mc.receiver;
        loop {
            match cur {
                syn::Expr::Await(a) => cur = &a.base,
                syn::Expr::Paren(p) => cur = &p.expr,
                syn::Expr::MethodCall(m) => {
                    return self.converted_fns.contains(&m.method.to_string())
                }
                syn::Expr::Call(c) => {
                    return match &*c.func {
                        syn::Expr::Path(p) => p
                            .path
                            .segments
                            .last()
                            .is_some_and(|s| self.converted_fns.contains(&s.ident.to_string())),
                        _ => false,
                    }
                }
                _ => return false,
            }
        }
    }

    /// Does a step-3 rename of `tonic::Status` start inside `r`?
    fn renamed_status(&self, r: Range<usize>) -> bool {
        self.out.buffer.edits().iter().any(|e| {
            e.rule.starts_with("step03/status") && r.start <= e.range.start && e.range.end <= r.end
        })
    }

    /// Is `e` `<tonic_call!(..)>.await...unwrap_err()` (or `expect_err`)?
    fn error_of_tonic_call(&self, e: &syn::Expr) -> bool {
        let syn::Expr::MethodCall(mc) = e else {
            return false;
        };
        if mc.method != "unwrap_err" && mc.method != "expect_err" {
            return false;
        }
        let mut cur = &*mc.receiver;
        loop {
            match cur {
                syn::Expr::Await(a) => cur = &a.base,
                syn::Expr::MethodCall(m) => cur = &m.receiver,
                syn::Expr::Paren(p) => cur = &p.expr,
                syn::Expr::Macro(m) => return self.is_tonic_call(&m.mac),
                _ => return false,
            }
        }
    }

    fn is_tonic_call(&self, m: &syn::Macro) -> bool {
        let Some(r) = self
            .idx
            .resolve(self.tr.current(), &m.path)
            .and_then(|r| r.resolved().cloned())
        else {
            return false;
        };
        r.full == ["connect_shim", "tonic_call"] || r.full == ["connect_shim", "tonic_call_connect"]
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    crate::scoped_visit!();

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        if self.step == 3 && self.is_tonic_server_impl(imp) {
            // Step 2 did not convert this impl: its methods must keep tonic's signatures.
            let r = range(syn::spanned::Spanned::span(imp));
            self.tonic_impl_left = true;
            self.report(
                r.start,
                "step2-first",
                ItemKind::Manual,
                "this impl is still on tonic's generated server trait (step 2 did not convert it): the file keeps tonic errors".into(),
                "apply step 2 to it first (see its items), then run step 3 again",
            );
            return;
        }
        syn::visit::visit_item_impl(self, imp);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.method(&f.sig.ident.to_string(), &f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.method(&f.sig.ident.to_string(), &f.sig, &f.block);
        if self.step == 3 {
            self.test_block(&f.block);
        }
        syn::visit::visit_item_fn(self, f);
    }
}

/// Every path in a type (`Result<Response<R>, Status>`: `Result`, `Response`, `R`, `Status`).
fn collect_type_paths(ty: &syn::Type, out: &mut Vec<syn::Path>) {
    struct V<'o>(&'o mut Vec<syn::Path>);
    impl<'ast> syn::visit::Visit<'ast> for V<'_> {
        fn visit_path(&mut self, p: &'ast syn::Path) {
            self.0.push(p.clone());
            syn::visit::visit_path(self, p);
        }
    }
    syn::visit::Visit::visit_type(&mut V(out), ty);
}
