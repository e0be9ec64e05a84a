//! Step 6: downstream calls on connect clients.
//!
//! Assumes step 1 (the package module re-exports the generated connect client `XClient` beside
//! tonic's `x_client` module). Driven by the `.proto` schema and name resolution:
//!
//! - paths to tonic's `<pkg>::x_client::XClient` name the connect client `<pkg>::XClient` (the
//!   `x_client::` segment is deleted, in `use` items and in code); type arguments follow:
//!   `XClient<Channel>` is `XClient<connectrpc::client::HttpClient>`,
//!   `XClient<InterceptedService<..>>` keeps the tonic channel and interceptor under
//!   `connect_shim::client::ChannelTransport<..>`;
//! - construction: `XClient::connect(dst).await?` becomes
//!   `XClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(dst.parse()?).with_protocol(Protocol::Grpc))`
//!   (`--protocol` picks Connect or gRPC-Web instead); `XClient::new(channel)` where `channel` is a
//!   local `Channel`/`Endpoint` chain used only there is built the same way (`timeout`,
//!   `connect_timeout`, `user_agent` mapped); any other channel, and `with_interceptor(ch, f)`,
//!   keep the tonic channel as the transport (`connect_shim::client::ChannelTransport`, listed);
//!   `with_origin(GrpcWebClientService::new(..), origin)` is a gRPC-Web `HttpClient`; client
//!   options `max_decoding_message_size`, `send_compressed`, `accept_compressed` move to the
//!   `ClientConfig`;
//! - unary calls on a known client (a parameter, a `let`, or a function result of a client type):
//!   `Request::new(m)` is unwrapped; when every use of the response is understood
//!   (`into_inner()` -> `into_owned()`, `get_ref().field` -> `view().field` for scalar fields in
//!   `match` arms and number/bool fields in chains, `into_owned().field` for other fields in
//!   chains; `match` arms whose `Ok` binding is read only through `get_ref()` / `into_inner()` in
//!   ways a view cannot give get the response owned, `.map(|r| r.into_owned())` after the call)
//!   the call is native, and its error is still
//!   converted to `tonic::Status` (`.map_err(connect_shim::status::to_status)`) for the code that
//!   inspects it, until step 7; any other unary call site stays tonic-shaped through
//!   `connect_shim::client::tonic_unary` (listed);
//! - per-call metadata (`crate::steps::metadata`): a local `let mut r = Request::new(m);` whose
//!   metadata and timeout are set by statements before the call (`r.metadata_mut().insert(k, v)`,
//!   `insert_bin`, `r.set_timeout(d)`) gives the message and a `CallOptions` local built by those
//!   statements in place (`let r_options = CallOptions::default().with_header(k, v);`), passed
//!   to `m_with_options(r, r_options)`; a root-module function building such a request
//!   (`fn traced<T>(m: T, ..) -> Request<T>`) returns `(T, CallOptions)` instead when every call
//!   of it in the file converts (`{ let (message, options) = traced(..); c.m_with_options(message, options) }`
//!   over lines, or `let (r, r_options) = traced(..);`; a streaming call of it keeps its shim
//!   wrapper over `connect_shim::client::request_from_options(traced(..))`, for step 8), else it
//!   and its calls stay as they are (listed);
//!   a response bound by `let` may read `metadata()` as `headers()` (`get`, `get_bin(k)..to_bytes()`
//!   through an added `grpc_bin_decode`; binary values sent through `grpc_bin_encode`);
//! - streaming calls stay tonic-shaped through `connect_shim::client::tonic_server_stream`,
//!   `tonic_client_stream` and `tonic_bidi` over the native client, and are listed for step 8.

mod definition;
pub use definition::DEFINITION;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::context::CrateCtx;
use crate::edit::{line_col, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker, UTree};
use crate::schema::{Schema, Service, StreamingKind};

pub mod channel;
mod health;
mod reflection;

/// The shim function turning a request helper's `(message, CallOptions)` back into a tonic
/// request for a call still on a shim wrapper.
const REQUEST_FROM_OPTIONS: &str = "connect_shim::client::request_from_options";

/// The wire protocol migrated clients speak (`--protocol`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum ClientProtocol {
    /// Connect over HTTP/1.1 or HTTP/2 (the server must be a connect server).
    Connect,
    /// gRPC over HTTP/2: works against unmodified tonic servers.
    #[default]
    Grpc,
    /// gRPC-Web over HTTP/1.1.
    GrpcWeb,
}

/// The protocol chosen on the command line (gRPC when unset).
pub static PROTOCOL: std::sync::OnceLock<ClientProtocol> = std::sync::OnceLock::new();

fn protocol() -> ClientProtocol {
    PROTOCOL.get().copied().unwrap_or_default()
}

/// `(transport constructor, protocol variant)` for a client on a URI.
fn transport_for(p: ClientProtocol) -> (&'static str, &'static str) {
    match p {
        ClientProtocol::Grpc => ("plaintext_http2_only", "Grpc"),
        ClientProtocol::GrpcWeb => ("plaintext", "GrpcWeb"),
        ClientProtocol::Connect => ("plaintext", "Connect"),
    }
}

const RULE: &str = "step06";

/// The constructor arguments of a helper crate's connect client (connectrpc-health's
/// `HealthClient`, connectrpc-reflection's `ServerReflectionClient`) built on the tonic channel
/// `channel` (source text): the channel stays the transport until it is native. Shared so that
/// every helper client is built the same way.
fn on_channel(channel: &str) -> String {
    format!("connect_shim::client::ChannelTransport::new({channel}), connect_shim::client::channel_config()")
}

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    ManualItem {
        offset,
        rule: format!("{RULE}/{rule}"),
        message,
        note: note.to_string(),
        kind,
    }
}

/// Canonical crate-absolute path with `crate` replaced by the crate's name.
fn absolute(full: &[String], crate_name: Option<&str>) -> Vec<String> {
    let mut v = full.to_vec();
    if v.first().map(String::as_str) == Some("crate") {
        if let Some(n) = crate_name {
            v[0] = n.to_string();
        }
    }
    v
}

/// Strips references and parentheses from a type; the path of what is left.
fn type_path(ty: &syn::Type) -> Option<&syn::Path> {
    match ty {
        syn::Type::Reference(r) => type_path(&r.elem),
        syn::Type::Paren(p) => type_path(&p.elem),
        syn::Type::Path(p) if p.qself.is_none() => Some(&p.path),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Workspace-wide: aliases of client types and functions returning clients.

/// Type aliases of tonic clients and functions returning one, in one parsed file.
pub fn client_items_of_file(
    schema: &Schema,
    file: &syn::File,
    idx: &FileIndex,
    crate_name: Option<&str>,
    known: &[(Vec<String>, String)],
    out: &mut Vec<(Vec<String>, String)>,
) {
    /// Schema, index, crate name, the known client types, and the output.
    type Cx<'a> = (
        &'a Schema,
        &'a FileIndex,
        Option<&'a str>,
        &'a [(Vec<String>, String)],
        &'a mut Vec<(Vec<String>, String)>,
    );
    fn walk(items: &[syn::Item], modp: &mut Vec<String>, cx: &mut Cx<'_>, tr: &mut ScopeTracker) {
        for it in items {
            let (name, ty) = match it {
                syn::Item::Type(t) => (t.ident.to_string(), Some(&*t.ty)),
                syn::Item::Fn(f) => (
                    f.sig.ident.to_string(),
                    match &f.sig.output {
                        syn::ReturnType::Type(_, t) => Some(&**t),
                        _ => None,
                    },
                ),
                syn::Item::Mod(m) => {
                    if let Some((b, inner)) = &m.content {
                        let p = tr.enter(cx.1, range(b.span.open()).start);
                        modp.push(m.ident.to_string());
                        walk(inner, modp, cx, tr);
                        modp.pop();
                        tr.leave(p);
                    }
                    continue;
                }
                _ => continue,
            };
            let Some(ty) = ty else { continue };
            let Some(svc) = client_of_type(cx.0, cx.1, tr, ty, cx.2, cx.3) else {
                continue;
            };
            let mut full = absolute(cx.1.module_path(tr.current()), cx.2);
            if full.is_empty() {
                full.push(cx.2.unwrap_or("crate").to_string());
            }
            full.push(name);
            cx.4.push((full, svc));
        }
    }
    let mut tr = ScopeTracker::new(idx);
    let mut modp = Vec::new();
    let mut cx = (schema, idx, crate_name, known, out);
    walk(&file.items, &mut modp, &mut cx, &mut tr);
}

/// The service of a client type (tonic client, or a known alias of one); also looks through
/// `Result<Client, E>` (functions returning a client fallibly).
fn client_of_type(
    schema: &Schema,
    idx: &FileIndex,
    tr: &ScopeTracker,
    ty: &syn::Type,
    crate_name: Option<&str>,
    known: &[(Vec<String>, String)],
) -> Option<String> {
    let p = type_path(ty)?;
    let Some(Resolution::One(r)) = idx.resolve(tr.current(), p) else {
        return None;
    };
    let full = absolute(&idx.canonical(r.full), crate_name);
    let segs: Vec<&str> = full.iter().map(String::as_str).collect();
    if let Some(s) = schema.service_by_tonic_client_path(&segs) {
        return Some(s.full_name.clone());
    }
    if let Some((_, s)) = known.iter().find(|(k, _)| *k == full) {
        return Some(s.clone());
    }
    if segs.last() == Some(&"Result") {
        if let Some(syn::PathArguments::AngleBracketed(a)) = p.segments.last().map(|s| &s.arguments)
        {
            if let Some(syn::GenericArgument::Type(t)) = a.args.first() {
                return client_of_type(schema, idx, tr, t, crate_name, known);
            }
        }
    }
    None
}

/// Step-6 work on the whole workspace: the client aliases/functions table, manifests.
pub fn prepare(
    ws: &crate::workspace::Workspace,
    base: crate::steps::common::prepare::Prepared,
) -> crate::steps::common::prepare::Prepared {
    use crate::manifest::{self, DepKind, NewDep};
    let mut out = crate::steps::common::prepare::Prepared {
        ctx: base.ctx,
        ..Default::default()
    };
    // Crates that went through step 1 only (a connectrpc dependency of their own or of the
    // crate generating their stubs).
    let ready = |c: &crate::workspace::Crate| {
        c.has_connectrpc
            || c.local_deps.iter().any(|d| {
                ws.crates
                    .iter()
                    .any(|o| &o.name == d && o.has_connectrpc && o.build_rs.is_some())
            })
    };
    out.ctx.retain(|name, _| {
        ws.crates
            .iter()
            .find(|c| &c.name == name)
            .is_some_and(ready)
    });
    // Crates calling tonic clients that the step cannot see the schema of: listed, not skipped.
    for c in &ws.crates {
        if out.ctx.get(&c.name).is_some_and(|x| x.schema.is_some()) || c.tonic_req.is_none() {
            continue;
        }
        let calls = c.files.iter().any(|f| {
            std::fs::read(&f.path).is_ok_and(|b| memchr::memmem::find(&b, b"_client::").is_some())
        });
        if !calls {
            continue;
        }
        out.items.push(crate::report::ItemReport {
            path: crate::workspace::rel(&ws.root, &c.manifest_path),
            krate: c.name.clone(),
            line: 1,
            column: 1,
            rule: "step06/no-schema".into(),
            kind: ItemKind::Manual,
            message: format!(
                "crate `{}` uses tonic clients but step 6 has no .proto schema for them (step 1 not applied, or stubs generated elsewhere / checked in): its clients were not converted",
                c.name
            ),
            note: "apply step 1 to the crate that generates the stubs (select it too), then run step 6 again".into(),
        });
    }
    // Two rounds: aliases may name aliases of other crates.
    let mut table: Vec<(Vec<String>, String)> = Vec::new();
    let mut parsed: Vec<(String, syn::File, FileIndex)> = Vec::new();
    for c in &ws.crates {
        let Some(ctx) = out.ctx.get(&c.name) else {
            continue;
        };
        if ctx.schema.is_none() {
            continue;
        }
        for f in &c.files {
            let Ok(text) = std::fs::read_to_string(&f.path) else {
                continue;
            };
            if !text.contains("Client") {
                continue;
            }
            let Ok(file) = syn::parse_file(&text) else {
                continue;
            };
            let idx = FileIndex::build(&file, f.module_path.clone());
            parsed.push((c.name.clone(), file, idx));
        }
    }
    for _ in 0..2 {
        let mut found = Vec::new();
        for (cname, file, idx) in &parsed {
            let Some(schema) = out.ctx.get(cname).and_then(|c| c.schema.clone()) else {
                continue;
            };
            let lib = cname.replace('-', "_");
            client_items_of_file(&schema, file, idx, Some(&lib), &table, &mut found);
        }
        found.sort();
        found.dedup();
        table = found;
    }
    drop(parsed);
    for ctx in out.ctx.values_mut() {
        if let Some(c) = std::sync::Arc::get_mut(ctx) {
            c.client_items = table.clone();
        }
    }
    let plan = std::sync::Arc::new(channel_plan(ws, &out.ctx));
    for ctx in out.ctx.values_mut() {
        if let Some(c) = std::sync::Arc::get_mut(ctx) {
            c.set_plan(plan.clone());
        }
    }
    let mut manifests = manifest::ManifestEdits::new(ws.root.join("Cargo.toml"));
    for c in &ws.crates {
        // `tonic::transport::Uri` is http's `Uri`: the step-6 rule renames it in any crate.
        let uri = c.files.iter().any(|f| names_tonic_uri(&f.path));
        if !out.ctx.contains_key(&c.name) {
            if uri {
                let deps = [NewDep::new("http", "1", &[], DepKind::Normal)];
                let Ok(member) = std::fs::read_to_string(&c.manifest_path) else {
                    continue;
                };
                let root_cur = manifests.root_for(&c.manifest_path);
                let dirs = (c.dir.as_path(), ws.root.as_path());
                if let Ok((m, r)) =
                    manifest::add_deps_in(&member, root_cur.as_deref(), &deps, Some(dirs))
                {
                    manifests.record(&c.manifest_path, member, m, r);
                }
            }
            continue;
        }
        let mut calls = false;
        let mut health = false;
        let mut reflection = false;
        for f in &c.files {
            if let Ok(b) = std::fs::read(&f.path) {
                calls |= memchr::memmem::find(&b, b"_client::").is_some();
                health |= memchr::memmem::find(&b, b"tonic_health").is_some()
                    && memchr::memmem::find(&b, b"health_client").is_some();
                reflection |= memchr::memmem::find(&b, b"tonic_reflection").is_some()
                    && memchr::memmem::find(&b, b"server_reflection_client").is_some();
            }
        }
        let http = plan.needs_http.contains(&c.name.replace('-', "_")) || uri;
        if !calls && !http {
            continue;
        }
        let mut deps = vec![
            NewDep::new("connectrpc", "0.9", &["client"], DepKind::Normal),
            crate::steps::common::prepare::shim_dep(ws),
        ];
        if http {
            // Interceptor headers and the URI error of channel helpers (channel.rs).
            deps.push(NewDep::new("http", "1", &[], DepKind::Normal));
        }
        if health {
            // tonic-health's client moves to connectrpc-health's (health.rs).
            deps.push(NewDep::new(
                "connectrpc-health",
                "0.9",
                &[],
                DepKind::Normal,
            ));
        }
        if reflection {
            // tonic-reflection's client moves to connectrpc-reflection's (reflection.rs).
            deps.push(NewDep::new(
                "connectrpc-reflection",
                "0.9",
                &["client"],
                DepKind::Normal,
            ));
        }
        let Ok(member) = std::fs::read_to_string(&c.manifest_path) else {
            continue;
        };
        let root_cur = manifests.root_for(&c.manifest_path);
        let dirs = (c.dir.as_path(), ws.root.as_path());
        if let Ok((m, r)) = manifest::add_deps_in(&member, root_cur.as_deref(), &deps, Some(dirs)) {
            manifests.record(&c.manifest_path, member, m, r);
        }
    }
    out.manifests = manifests.finish();
    out
}

/// Does the file name `tonic::transport::Uri` (imported under any name, or written in full)?
fn names_tonic_uri(path: &std::path::Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if !text.contains("Uri") || !text.contains("tonic") {
        return false;
    }
    if text.contains("tonic::transport::Uri") {
        return true;
    }
    let Ok(file) = syn::parse_file(text.strip_prefix('\u{feff}').unwrap_or(&text)) else {
        return false;
    };
    let idx = FileIndex::build(&file, None);
    let found = (0..idx.leaves.len()).any(|l| idx.leaf_path(l) == ["tonic", "transport", "Uri"]);
    proc_macro2::extra::invalidate_current_thread_spans();
    found
}

// ---------------------------------------------------------------------------------------------
// The pass.

/// The step-6 pass: client types, construction and calls.
pub struct ClientsPass<'a> {
    pub ctx: &'a CrateCtx,
}

impl Pass for ClientsPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        self.rewrite(file, out);
        unused_transport_imports(file, out);
    }
}

/// tonic names the step's rewrites stop using (channels, interceptors, metadata values, the
/// `Request` of unwrapped calls and converted request helpers): their
/// imports go in a file the step changed, so the next steps do not start with warnings.
fn unused_transport_imports(file: &FileCtx<'_>, out: &mut PassOutput) {
    const GONE: &[&str] = &[
        "Channel",
        "Endpoint",
        "InterceptedService",
        "MetadataValue",
        "AsciiMetadataValue",
        "BinaryMetadataValue",
        "Request",
    ];
    if out.buffer.edits().is_empty() || !file.text.contains("tonic") {
        return;
    }
    // `call` named outside the rewritten text may be a remaining use of the `Interceptor` trait.
    let calls = file.text.contains("call") && {
        let mut toks = Vec::new();
        crate::steps::common::tokens::flatten(
            quote::ToTokens::to_token_stream(file.file),
            &mut toks,
        );
        toks.iter().any(|t| {
            t.is_ident("call")
                && !out.buffer.edits().iter().any(|e| {
                    let r = t.range();
                    e.range.start <= r.start && r.end <= e.range.end
                })
        })
    };
    // Besides the names the step's rewrites emptied (the hyper client a gRPC-Web channel was
    // built on), tonic's transport and metadata names go when nothing names them any more.
    let edits = crate::steps::emptied_import_removals(
        file,
        out,
        |segs| {
            let last = segs.last().copied().unwrap_or("");
            segs.first().map(|f| f.trim_start_matches("::")) == Some("tonic")
                && (GONE.contains(&last) || (last == "Interceptor" && !calls))
        },
        "step06/unused-import",
    );
    if !edits.is_empty() {
        let _ = out.commit(edits);
    }
}

impl ClientsPass<'_> {
    fn rewrite(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let chan = channel::run(self.ctx, file, out).unwrap_or_default();
        health::run(file, out, &chan);
        reflection::run(file, out, &chan);
        let Some(schema) = self.ctx.schema.as_deref() else {
            return;
        };
        if !file.text.contains("Client") {
            return;
        }
        let crate_name = None;
        let mut known = self.ctx.client_items.clone();
        client_items_of_file(
            schema,
            file.file,
            file.index,
            crate_name,
            &self.ctx.client_items,
            &mut known,
        );
        // Helpers building a tonic request (`fn traced<T>(m: T) -> Request<T>`): converted
        // with their call sites when every call site converts, else left (listed).
        let mut helpers = request_helpers(file);
        let snapshot = (out.buffer.clone(), out.items.len());
        loop {
            let mut w = Walker {
                schema,
                file,
                idx: file.index,
                text: file.text,
                tr: ScopeTracker::new(file.index),
                out: &mut *out,
                known: known.clone(),
                stack: Vec::new(),
                vars: vec![HashMap::new()],
                replaced: Vec::new(),
                done_ctor: HashSet::new(),
                fn_bodies: Vec::new(),
                need_encode: false,
                need_decode: false,
                decode: std::cell::Cell::new(false),
                why: std::cell::RefCell::new(None),
                helpers: &helpers,
                helper_done: std::cell::RefCell::new(vec![0; helpers.len()]),
                chan: &chan,
            };
            w.visit_file(file.file);
            let done = w.helper_done.borrow().clone();
            let bad: Vec<usize> = (0..helpers.len())
                .filter(|&i| done[i] != helpers[i].uses)
                .collect();
            if !bad.is_empty() {
                for i in bad.into_iter().rev() {
                    let h = helpers.remove(i);
                    out.items.push(item(
                        h.offset,
                        "request-helper",
                        ItemKind::Manual,
                        format!(
                            "`{}` builds a tonic request with metadata and not every use of it is a call the step makes native; it and its calls stay tonic-shaped",
                            h.name
                        ),
                        "return the message and a `connectrpc::client::CallOptions` (`with_header`, `with_timeout`) and pass both to the client's `_with_options` method",
                    ));
                }
                let kept: Vec<ManualItem> = out
                    .items
                    .drain(snapshot.1..)
                    .filter(|i| i.rule.ends_with("/request-helper"))
                    .collect();
                out.buffer = snapshot.0.clone();
                out.items.extend(kept);
                continue;
            }
            for h in &helpers {
                if w.commit(h.edits.clone(), h.offset, "request-helper") {
                    w.need_encode |= h.encode;
                }
            }
            w.rewrite_uses();
            w.add_bin_helpers();
            break;
        }
    }
}

#[derive(Clone, Copy)]
#[allow(dead_code)]
enum Node<'ast> {
    Expr(&'ast syn::Expr),
    Local(&'ast syn::Local),
    Block(&'ast syn::Block),
    Arm(&'ast syn::Arm),
}

struct Walker<'a, 's, 'ast> {
    schema: &'s Schema,
    file: &'a FileCtx<'a>,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'a mut PassOutput,
    known: Vec<(Vec<String>, String)>,
    stack: Vec<Node<'ast>>,
    /// Per function: local names bound to clients -> service full name.
    vars: Vec<HashMap<String, String>>,
    /// Ranges replaced wholesale (paths inside them are not edited again).
    replaced: Vec<Range<usize>>,
    done_ctor: HashSet<usize>,
    /// The body of the function being visited (for use counts).
    fn_bodies: Vec<&'ast syn::Block>,
    /// Converted channel values and interceptors of the file (channel.rs).
    chan: &'a channel::FileScan,
    /// A committed rewrite uses the binary metadata encoder / decoder (added to the file).
    need_encode: bool,
    need_decode: bool,
    /// The plan being made reads binary response metadata.
    decode: std::cell::Cell<bool>,
    /// Why the request of the call being planned could not be taken apart, when known.
    why: std::cell::RefCell<Option<String>>,
    /// Request helpers to convert, and how many of each one's calls were converted.
    helpers: &'a [Helper],
    helper_done: std::cell::RefCell<Vec<usize>>,
}

fn ptr_eq<T>(a: &T, b: &T) -> bool {
    std::ptr::eq(a, b)
}

/// The `let` statements of `body` (any block) that bind `name` by a plain identifier pattern.
pub(super) fn lets_binding<'x>(body: &'x syn::Block, name: &str) -> Vec<&'x syn::Local> {
    struct FindLet<'x, 'n> {
        name: &'n str,
        found: Vec<&'x syn::Local>,
    }
    impl<'x> Visit<'x> for FindLet<'x, '_> {
        fn visit_local(&mut self, l: &'x syn::Local) {
            if let syn::Pat::Ident(i) = &l.pat {
                if i.ident == self.name {
                    self.found.push(l);
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut fl = FindLet {
        name,
        found: Vec::new(),
    };
    fl.visit_block(body);
    fl.found
}

/// Names of the parameters of `sig` bound by a plain identifier whose type passes `keep`.
pub(super) fn typed_params(
    sig: &syn::Signature,
    keep: impl Fn(&syn::Type) -> bool,
) -> HashSet<String> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(id) if keep(&pt.ty) => Some(id.ident.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Occurrences of the local `name` (as a path expression) inside `node`, with their parent.
fn uses_in<'ast>(
    name: &str,
    f: impl FnOnce(&mut UseFinder<'ast>),
) -> Vec<(&'ast syn::Expr, Option<&'ast syn::Expr>)> {
    let mut u = UseFinder {
        name: name.to_string(),
        stack: Vec::new(),
        hits: Vec::new(),
        other: false,
    };
    f(&mut u);
    if u.other {
        // Mentioned inside a macro we cannot read: treat as an unknown use.
        u.hits.push((
            u.hits.first().map(|h| h.0).unwrap_or_else(|| leak_dummy()),
            None,
        ));
    }
    u.hits
}

/// A request taken apart for a native call (see `Walker::native_request`).
struct ReqPlan {
    edits: Vec<Edit>,
    /// The converted request helper the request comes from.
    helper: Option<usize>,
    /// The call passes a helper's `(message, options)`: the call's text becomes this block.
    whole: Option<String>,
    /// The `CallOptions` local to pass (the call becomes `_with_options`).
    options: Option<String>,
    /// The binary metadata encoder is used.
    encode: bool,
}

/// The `let name = ..;` items in `body` with the block whose statement each is (`None` when
/// it is not a statement of a block, which cannot happen for a `let`, but stay total).
fn lets_named<'x>(
    name: &str,
    body: &'x syn::Block,
) -> Vec<(&'x syn::Local, Option<&'x syn::Block>)> {
    struct FindLet<'x> {
        name: String,
        blocks: Vec<&'x syn::Block>,
        found: Vec<(&'x syn::Local, Option<&'x syn::Block>)>,
    }
    impl<'x> Visit<'x> for FindLet<'x> {
        fn visit_block(&mut self, b: &'x syn::Block) {
            self.blocks.push(b);
            syn::visit::visit_block(self, b);
            self.blocks.pop();
        }
        fn visit_local(&mut self, l: &'x syn::Local) {
            let pat = match &l.pat {
                syn::Pat::Type(t) => &*t.pat,
                p => p,
            };
            if let syn::Pat::Ident(i) = pat {
                if i.ident == self.name {
                    self.found.push((l, self.blocks.last().copied()));
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut fl = FindLet {
        name: name.to_string(),
        blocks: Vec::new(),
        found: Vec::new(),
    };
    fl.visit_block(body);
    fl.found
}

/// One ancestor of a use of a local: an expression, the `let` it initialises, or a
/// format-style macro it is an argument of.
#[derive(Clone, Copy)]
enum Anc<'ast> {
    Expr(&'ast syn::Expr),
    Local(&'ast syn::Local),
    Macro,
}

/// Every use of the local `name` (a path expression) in `body`, with its ancestors innermost
/// first (up to the enclosing statement); a use inside a macro that is not format-style is
/// a use with no ancestors (unknown).
fn ancestors_of<'ast>(name: &str, body: &'ast syn::Block) -> Vec<Vec<Anc<'ast>>> {
    struct F<'ast> {
        name: String,
        stack: Vec<Anc<'ast>>,
        hits: Vec<Vec<Anc<'ast>>>,
    }
    impl<'ast> Visit<'ast> for F<'ast> {
        fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
            let saved = std::mem::take(&mut self.stack);
            syn::visit::visit_stmt(self, s);
            self.stack = saved;
        }
        fn visit_local(&mut self, l: &'ast syn::Local) {
            self.stack.push(Anc::Local(l));
            syn::visit::visit_local(self, l);
            self.stack.pop();
        }
        fn visit_expr(&mut self, e: &'ast syn::Expr) {
            if let syn::Expr::Path(p) = e {
                if p.path.is_ident(&self.name) {
                    self.hits.push(self.stack.iter().rev().copied().collect());
                }
            }
            self.stack.push(Anc::Expr(e));
            syn::visit::visit_expr(self, e);
            self.stack.pop();
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if let Some(exprs) = crate::resolve::macro_exprs(m) {
                self.stack.push(Anc::Macro);
                for e in exprs {
                    let e: &'ast syn::Expr = Box::leak(Box::new(e));
                    self.visit_expr(e);
                }
                self.stack.pop();
            } else if m
                .tokens
                .to_string()
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|t| t == self.name)
            {
                self.hits.push(Vec::new());
            }
        }
    }
    let mut f = F {
        name: name.to_string(),
        stack: Vec::new(),
        hits: Vec::new(),
    };
    f.visit_block(body);
    f.hits
}

/// A function of the file's root module building a tonic request for its caller:
/// `fn name<T>(message: T, ..) -> Request<T> { let mut r = Request::new(message); r.metadata_mut()..; r }`.
struct Helper {
    name: String,
    /// Where it is defined (its `fn` item).
    offset: usize,
    /// How many times the file names it (each must be a converted call).
    uses: usize,
    /// The edits of the function itself: returns `(T, CallOptions)`.
    edits: Vec<Edit>,
    encode: bool,
}

fn request_helpers(file: &FileCtx<'_>) -> Vec<Helper> {
    let idx = file.index;
    let text = file.text;
    let root = idx.root();
    let resolve = |p: &syn::Path| match idx.resolve(root, p)? {
        Resolution::One(r) => Some(idx.canonical(r.full)),
        Resolution::Ambiguous(_) => None,
    };
    let mut out = Vec::new();
    // A private function of a file without out-of-line child modules: every use of it is in
    // this file (a `pub` one or one reachable from `mod x;` files may be called elsewhere).
    let outlined = file
        .file
        .items
        .iter()
        .any(|it| matches!(it, syn::Item::Mod(m) if m.content.is_none()));
    if outlined {
        return out;
    }
    for it in &file.file.items {
        let syn::Item::Fn(f) = it else { continue };
        if !matches!(f.vis, syn::Visibility::Inherited) {
            continue;
        }
        let syn::ReturnType::Type(_, ret) = &f.sig.output else {
            continue;
        };
        let syn::Type::Path(tp) = &**ret else {
            continue;
        };
        if resolve(&tp.path).as_deref() != Some(&["tonic".to_string(), "Request".to_string()][..]) {
            continue;
        }
        let Some(syn::PathArguments::AngleBracketed(ab)) =
            tp.path.segments.last().map(|s| &s.arguments)
        else {
            continue;
        };
        let [syn::GenericArgument::Type(inner)] = ab.args.iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        let stmts = &f.block.stmts;
        let Some((syn::Stmt::Local(local), rest)) = stmts.split_first() else {
            continue;
        };
        let Some((syn::Stmt::Expr(syn::Expr::Path(tail), None), middle)) = rest.split_last() else {
            continue;
        };
        let syn::Pat::Ident(pi) = &local.pat else {
            continue;
        };
        let var = pi.ident.to_string();
        if !tail.path.is_ident(&var) {
            continue;
        }
        let Some(init) = &local.init else { continue };
        let syn::Expr::Call(c) = &*init.expr else {
            continue;
        };
        let syn::Expr::Path(fp) = &*c.func else {
            continue;
        };
        if c.args.len() != 1
            || resolve(&fp.path).as_deref()
                != Some(&["tonic".into(), "Request".into(), "new".into()][..])
        {
            continue;
        }
        let opt = format!("{var}_options");
        if text[range(f.block.span())].contains(&opt) {
            continue;
        }
        let mut edits = vec![Edit::replace(
            range(ret.span()),
            format!(
                "({}, connectrpc::client::CallOptions)",
                &text[range(inner.span())]
            ),
            "step06/request-helper",
        )];
        let r = range(c.span());
        let a = range(c.args[0].span());
        edits.push(Edit::delete(r.start..a.start, "step06/request-helper"));
        edits.push(Edit::delete(a.end..r.end, "step06/request-helper"));
        if let Some(m) = &pi.mutability {
            let r = range(m.span());
            let end = r.end + text[r.end..].len() - text[r.end..].trim_start().len();
            edits.push(Edit::delete(r.start..end, "step06/request-helper"));
        }
        let mut ok = true;
        let mut encode = false;
        let mut first = true;
        for st in middle {
            let syn::Stmt::Expr(e, Some(_)) = st else {
                ok = false;
                break;
            };
            match crate::steps::metadata::request_stmt(text, e, &var, &resolve) {
                Ok(step) => {
                    encode |= step.bin_encode;
                    let base = if first {
                        "connectrpc::client::CallOptions::default()".to_string()
                    } else {
                        opt.clone()
                    };
                    first = false;
                    edits.push(Edit::replace(
                        range(st.span()),
                        format!("let {opt} = {base}{}{};", step.call, step.suffix),
                        "step06/request-helper",
                    ));
                }
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        if first {
            edits.push(Edit::insert(
                range(local.span()).end,
                format!(" let {opt} = connectrpc::client::CallOptions::default();"),
                "step06/request-helper",
            ));
        }
        edits.push(Edit::replace(
            range(tail.span()),
            format!("({var}, {opt})"),
            "step06/request-helper",
        ));
        let name = f.sig.ident.to_string();
        let uses = count_idents(&file.file.items, &name).saturating_sub(1);
        if uses == 0 {
            continue;
        }
        out.push(Helper {
            name,
            offset: range(f.span()).start,
            uses,
            edits,
            encode,
        });
    }
    out
}

/// How many identifier tokens spell `name` in the items (macro bodies included).
fn count_idents(items: &[syn::Item], name: &str) -> usize {
    fn walk(ts: proc_macro2::TokenStream, name: &str, n: &mut usize) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) if i == name => *n += 1,
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), name, n),
                _ => {}
            }
        }
    }
    let mut n = 0;
    for it in items {
        walk(quote::ToTokens::to_token_stream(it), name, &mut n);
    }
    n
}

fn leak_dummy() -> &'static syn::Expr {
    Box::leak(Box::new(syn::parse_quote!(())))
}

struct UseFinder<'ast> {
    name: String,
    stack: Vec<&'ast syn::Expr>,
    hits: Vec<(&'ast syn::Expr, Option<&'ast syn::Expr>)>,
    other: bool,
}

impl<'ast> Visit<'ast> for UseFinder<'ast> {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if let syn::Expr::Path(p) = e {
            if p.path.is_ident(&self.name) {
                self.hits.push((e, self.stack.last().copied()));
            }
        }
        self.stack.push(e);
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(exprs) = crate::resolve::macro_exprs(m) {
            // Format-style macros: a bare use of the name (e.g. `{:?}`) is not a method call.
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
            self.other = true;
        }
    }
}

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    fn suppressed(&self, offset: usize) -> bool {
        let (line, _) = line_col(self.text, offset);
        self.file.suppress_lines.contains(&line)
            || (line > 1 && self.file.suppress_lines.contains(&(line - 1)))
    }

    fn report(&mut self, offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) {
        self.out.items.push(item(offset, rule, kind, message, note));
    }

    fn src(&self, r: Range<usize>) -> &'a str {
        &self.text[r]
    }

    fn resolve_full(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => Some(self.idx.canonical(r.full)),
            Resolution::Ambiguous(_) => None,
        }
    }

    fn service(&self, full_name: &str) -> Option<&'s Service> {
        self.schema
            .services
            .iter()
            .find(|s| s.full_name == full_name)
    }

    /// The service of a tonic client type path (`XClient`, `pb::x_client::XClient`).
    fn client_path_service(&self, p: &syn::Path) -> Option<&'s Service> {
        let full = self.resolve_full(p)?;
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        self.schema.service_by_tonic_client_path(&segs)
    }

    fn client_type_service(&self, ty: &syn::Type) -> Option<&'s Service> {
        let s = client_of_type(self.schema, self.idx, &self.tr, ty, None, &self.known)?;
        self.service(&s)
    }

    fn in_replaced(&self, r: &Range<usize>) -> bool {
        self.replaced
            .iter()
            .any(|o| o.start <= r.start && r.end <= o.end)
    }

    fn commit(&mut self, edits: Vec<Edit>, at: usize, what: &str) -> bool {
        if self.suppressed(at) {
            self.report(
                at,
                what,
                ItemKind::Skipped,
                "left alone (ignore marker)".into(),
                "",
            );
            return false;
        }
        let ranges: Vec<Range<usize>> = edits.iter().map(|e| e.range.clone()).collect();
        match self.out.commit(edits) {
            Ok(()) => {
                self.replaced
                    .extend(ranges.into_iter().filter(|r| !r.is_empty()));
                true
            }
            Err(o) => {
                self.report(
                    at,
                    what,
                    ItemKind::Manual,
                    format!("not rewritten: {o}"),
                    "rewrite this client site by hand",
                );
                false
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // paths: `x_client::XClient` -> `XClient`, type arguments

    /// The written path text of a tonic client path, without the `x_client::` segment.
    fn path_text_without_mod(&self, p: &syn::Path, svc: &Service) -> String {
        let mut out = String::new();
        if p.leading_colon.is_some() {
            out.push_str("::");
        }
        let n = p.segments.len();
        let mut first = true;
        for (i, s) in p.segments.iter().enumerate() {
            if s.ident == svc.tonic_client_mod
                && i + 1 < n
                && p.segments[i + 1].ident == svc.tonic_client
            {
                continue;
            }
            if !first {
                out.push_str("::");
            }
            first = false;
            out.push_str(&s.ident.to_string());
        }
        out
    }

    fn rewrite_uses(&mut self) {
        // `use pb::x_client::XClient;` -> `use pb::XClient;`
        let mut edits = Vec::new();
        for (li, l) in self.idx.leaves.iter().enumerate() {
            let segs: Vec<&str> = l.written.iter().map(String::as_str).collect();
            let full = self.idx.canonical(self.idx.leaf_path(li));
            let fs: Vec<&str> = full.iter().map(String::as_str).collect();
            let Some(svc) = self.schema.service_by_tonic_client_path(&fs) else {
                continue;
            };
            if segs.last() != Some(&svc.tonic_client.as_str()) {
                continue;
            }
            let ui = &self.idx.use_items[l.item];
            fn find(t: &UTree, leaf: usize) -> Option<(Range<usize>, Range<usize>)> {
                match t {
                    UTree::Path(inner, r) => {
                        if let UTree::Leaf(id, lr) = &**inner {
                            if *id == leaf {
                                return Some((r.clone(), lr.clone()));
                            }
                        }
                        find(inner, leaf)
                    }
                    UTree::Group(v, _) => v.iter().find_map(|t| find(t, leaf)),
                    UTree::Leaf(..) => None,
                }
            }
            let Some((pr, lr)) = find(&ui.tree, li) else {
                continue;
            };
            let seg = &self.text[pr.start..lr.start];
            let ident = seg.trim_end().trim_end_matches("::").trim();
            if ident != svc.tonic_client_mod {
                self.report(
                    pr.start,
                    "client-import",
                    ItemKind::Manual,
                    format!("import of tonic's `{}` not rewritten", svc.tonic_client),
                    "import the connect client from the package module instead",
                );
                continue;
            }
            edits.push(Edit::delete(
                pr.start..lr.start,
                &format!("{RULE}/client-type"),
            ));
        }
        for e in edits {
            let at = e.range.start;
            self.commit(vec![e], at, "client-type");
        }
    }

    fn rewrite_type_path(&mut self, p: &'ast syn::Path) {
        let r = range(p.span());
        if self.in_replaced(&r) {
            return;
        }
        let Some(svc) = self.client_path_service(p) else {
            return;
        };
        let mut edits = Vec::new();
        let n = p.segments.len();
        if n >= 2 && p.segments[n - 2].ident == svc.tonic_client_mod {
            let a = range(p.segments[n - 2].span()).start;
            let b = range(p.segments[n - 1].span()).start;
            edits.push(Edit::delete(a..b, "step06/client-type"));
        }
        if let syn::PathArguments::AngleBracketed(args) = &p.segments[n - 1].arguments {
            for a in &args.args {
                let syn::GenericArgument::Type(t) = a else {
                    continue;
                };
                let Some(tp) = type_path(t) else { continue };
                let full = self.resolve_full(tp).unwrap_or_default();
                let tr = range(t.span());
                match full.last().map(String::as_str) {
                    Some("Channel") if full.first().map(String::as_str) == Some("tonic") => {
                        edits.push(Edit::replace(
                            tr,
                            "connectrpc::client::HttpClient",
                            "step06/client-type",
                        ));
                    }
                    Some("InterceptedService")
                        if full.first().map(String::as_str) == Some("tonic")
                            && self.chan.intercepted.contains(&tr.start) =>
                    {
                        edits.push(Edit::replace(
                            tr,
                            "connectrpc::client::HttpClient",
                            "step06/client-type",
                        ));
                    }
                    Some("InterceptedService")
                        if full.first().map(String::as_str) == Some("tonic") =>
                    {
                        edits.push(Edit::insert(
                            tr.start,
                            "connect_shim::client::ChannelTransport<",
                            "step06/client-type",
                        ));
                        edits.push(Edit::insert(tr.end, ">", "step06/client-type"));
                        self.report(
                            tr.start,
                            "intercepted-type",
                            ItemKind::Manual,
                            "client on a tonic channel with a tonic interceptor, through connect_shim::client::ChannelTransport".into(),
                            "move static headers to `ClientConfig::with_default_header`, per-call ones to `CallOptions`, then build the client on `HttpClient`",
                        );
                    }
                    _ => {}
                }
            }
        }
        if !edits.is_empty() {
            let at = r.start;
            self.commit(edits, at, "client-type");
        }
    }

    // -----------------------------------------------------------------------------------------
    // construction

    /// Links of a method/await/try chain from `e` down to its root, outermost first.
    fn ctor_call(&self, e: &'ast syn::Expr) -> Option<(&'ast syn::ExprCall, &'s Service, String)> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let p = &fp.path;
        let n = p.segments.len();
        if n < 2 {
            return None;
        }
        let ctor = p.segments[n - 1].ident.to_string();
        if !matches!(
            ctor.as_str(),
            "connect" | "new" | "with_interceptor" | "with_origin"
        ) {
            return None;
        }
        let mut ty = p.clone();
        ty.segments.pop();
        let last = ty.segments.pop().unwrap().into_value();
        ty.segments.push(last);
        let svc = self.client_path_service(&ty)?;
        Some((c, svc, ctor))
    }

    /// The ancestors of the node on top of the stack that continue its chain (`.await`, `?`,
    /// method calls with it as receiver), innermost first.
    fn chain_up(&self, depth_from_top: usize) -> Vec<&'ast syn::Expr> {
        let mut out = Vec::new();
        let Some(mut cur) = self.stack_expr(depth_from_top) else {
            return out;
        };
        let mut i = depth_from_top + 1;
        while let Some(parent) = self.stack_expr(i) {
            let cont = match parent {
                syn::Expr::Await(a) => ptr_eq(&*a.base, cur),
                syn::Expr::Try(t) => ptr_eq(&*t.expr, cur),
                syn::Expr::MethodCall(m) => ptr_eq(&*m.receiver, cur),
                syn::Expr::Field(f) => ptr_eq(&*f.base, cur),
                _ => false,
            };
            if !cont {
                break;
            }
            out.push(parent);
            cur = parent;
            i += 1;
        }
        out
    }

    fn stack_expr(&self, depth_from_top: usize) -> Option<&'ast syn::Expr> {
        let n = self.stack.len();
        match self.stack.get(n.checked_sub(1 + depth_from_top)?)? {
            Node::Expr(e) => Some(e),
            _ => None,
        }
    }

    fn stack_node(&self, depth_from_top: usize) -> Option<Node<'ast>> {
        let n = self.stack.len();
        self.stack.get(n.checked_sub(1 + depth_from_top)?).copied()
    }

    /// Config methods of a tonic client -> connect `ClientConfig` text; `Err` for one with no
    /// equivalent (dropped, reported).
    fn client_option(&mut self, m: &syn::ExprMethodCall) -> Option<Result<String, String>> {
        let arg = m
            .args
            .first()
            .map(|a| self.src(range(a.span())).to_string());
        Some(match m.method.to_string().as_str() {
            "max_decoding_message_size" => Ok(format!(
                ".with_default_max_message_size({})",
                arg.unwrap_or_default()
            )),
            "send_compressed" => {
                let a = arg.unwrap_or_default();
                let enc = a.rsplit("::").next().unwrap_or("").to_lowercase();
                Ok(format!(".compress_requests({enc:?})"))
            }
            "accept_compressed" => Ok(String::new()),
            "max_encoding_message_size" => {
                Err("`max_encoding_message_size` has no connectrpc equivalent: dropped".to_string())
            }
            _ => return None,
        })
    }

    fn convert_ctor(&mut self, c: &'ast syn::ExprCall, svc: &'s Service, ctor: String) {
        let start = range(c.span()).start;
        if !self.done_ctor.insert(start) {
            return;
        }
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        let mut tyd = fp.path.clone();
        tyd.segments.pop();
        let last = tyd.segments.pop().unwrap().into_value();
        tyd.segments.push(last);
        let ty_text = self.path_text_without_mod(&tyd, svc);
        let chain = self.chain_up(0);
        let (transport_fn, proto) = transport_for(protocol());
        let mut end = range(c.span()).end;
        let mut config_extra = String::new();
        let mut i = 0;
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| self.src(range(a.span())).to_string())
            .collect();
        let mut extra_edits: Vec<Edit> = Vec::new();
        let mut wrap = (String::new(), String::new());
        let native = c
            .args
            .first()
            .and_then(|a| self.chan.args.get(&range(a.span()).start))
            .filter(|_| matches!(ctor.as_str(), "new" | "with_interceptor"))
            .cloned();
        let (transport, mut config) = match ctor.as_str() {
            _ if native.is_some() => {
                let a = native.unwrap();
                wrap = (a.pre, a.post);
                (a.transport, a.config)
            }
            "connect" => {
                // `.await` then `?` / `.unwrap()` / `.expect(..)`.
                let Some(syn::Expr::Await(_)) = chain.first() else {
                    self.report(start, "connect", ItemKind::Manual, format!("`{}::connect` not awaited in place: not rewritten", svc.tonic_client), "build the connect client: `XClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))`");
                    return;
                };
                let suffix = match chain.get(1) {
                    Some(syn::Expr::Try(t)) => {
                        end = range(t.span()).end;
                        "?".to_string()
                    }
                    Some(syn::Expr::MethodCall(m))
                        if m.method == "unwrap" || m.method == "expect" =>
                    {
                        end = range(m.span()).end;
                        let from = range(m.receiver.span()).end;
                        self.src(from..end).trim_start().to_string()
                    }
                    _ => {
                        self.report(start, "connect", ItemKind::Manual, format!("the result of `{}::connect` is not handled with `?`, `unwrap` or `expect`: not rewritten", svc.tonic_client), "build the connect client: `XClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))` (construction cannot fail; an unreachable server shows as `Unavailable` on the first call)");
                        return;
                    }
                };
                i = 2;
                let dst = args.first().cloned().unwrap_or_default();
                (
                    format!("connectrpc::client::HttpClient::{transport_fn}()"),
                    format!(
                        "connectrpc::client::ClientConfig::new({dst}.parse(){suffix}).with_protocol(connectrpc::Protocol::{proto})"
                    ),
                )
            }
            "new" => {
                let Some(arg) = c.args.first() else { return };
                match self.native_channel(arg) {
                    Some((t, cfg, del)) => {
                        extra_edits.push(Edit::delete(del, "step06/client-new"));
                        (t, cfg)
                    }
                    None => {
                        self.report(
                            start,
                            "channel-transport",
                            ItemKind::Manual,
                            format!("`{}` built on a tonic channel: kept as its transport (connect_shim::client::ChannelTransport)", svc.tonic_client),
                            "build the client on `HttpClient` / `Http2Connection` with `ClientConfig::new(uri)` once nothing else needs the channel",
                        );
                        (
                            format!("connect_shim::client::ChannelTransport::new({})", args[0]),
                            "connect_shim::client::channel_config()".to_string(),
                        )
                    }
                }
            }
            "with_interceptor" if args.len() == 2 => {
                self.report(
                    start,
                    "interceptor",
                    ItemKind::Manual,
                    "tonic client interceptor kept on the tonic channel (connect_shim::client::ChannelTransport)".into(),
                    "an interceptor that only adds fixed headers becomes `ClientConfig::with_default_header(..)`; per-call values go to `CallOptions` (`_with_options` methods)",
                );
                (
                    format!(
                        "connect_shim::client::ChannelTransport::new(tonic::service::interceptor::InterceptedService::new({}, {}))",
                        args[0], args[1]
                    ),
                    "connect_shim::client::channel_config()".to_string(),
                )
            }
            "with_origin" if args.len() == 2 => {
                let grpc_web = match &c.args[0] {
                    syn::Expr::Call(inner) => match &*inner.func {
                        syn::Expr::Path(ip) => self.resolve_full(&ip.path).is_some_and(|f| {
                            f.first().map(String::as_str) == Some("tonic_web")
                                && f.iter().any(|s| s == "GrpcWebClientService")
                        }),
                        _ => false,
                    },
                    _ => false,
                };
                if !grpc_web {
                    self.report(
                        start,
                        "with-origin",
                        ItemKind::Manual,
                        format!(
                            "`{}::with_origin` on a custom service: not rewritten",
                            svc.tonic_client
                        ),
                        "the origin is the `ClientConfig` base URI; pick a connectrpc transport",
                    );
                    return;
                }
                // The HTTP client handed to `GrpcWebClientService::new(http)`: its `let` goes
                // when nothing else uses it (its type would no longer be inferred).
                if let syn::Expr::Call(inner) = &c.args[0] {
                    if let Some(syn::Expr::Path(hp)) = inner.args.first() {
                        if let Some(id) = hp.path.get_ident() {
                            match self.single_use_let(&id.to_string()) {
                                Some(del) => extra_edits.push(Edit::delete(del, "step06/client-new")),
                                None => self.report(start, "with-origin", ItemKind::Manual, format!("`{id}` was the HTTP client of the gRPC-Web service: the connect client brings its own"), "remove it when nothing else uses it"),
                            }
                        }
                    }
                }
                (
                    "connectrpc::client::HttpClient::plaintext()".to_string(),
                    format!(
                        "connectrpc::client::ClientConfig::new({}).with_protocol(connectrpc::Protocol::GrpcWeb)",
                        args[1]
                    ),
                )
            }
            _ => return,
        };
        // Client options following the construction.
        while let Some(syn::Expr::MethodCall(m)) = chain.get(i) {
            match self.client_option(m) {
                Some(Ok(t)) => config_extra.push_str(&t),
                Some(Err(why)) => {
                    let at = range(m.method.span()).start;
                    self.report(
                        at,
                        "client-option",
                        ItemKind::Manual,
                        why,
                        "set the limit on the server, or drop it",
                    );
                }
                None => break,
            }
            end = range(m.span()).end;
            i += 1;
        }
        config.push_str(&config_extra);
        let text = format!("{}{ty_text}::new({transport}, {config}){}", wrap.0, wrap.1);
        let mut edits = vec![Edit::replace(start..end, text, "step06/client-new")];
        edits.extend(extra_edits);
        self.commit(edits, start, "client-new");
    }

    /// `arg` is a local bound to a `Channel`/`Endpoint` chain used only here: the transport
    /// and config to build natively, and the `let` statement to delete.
    fn native_channel(&mut self, arg: &syn::Expr) -> Option<(String, String, Range<usize>)> {
        let syn::Expr::Path(p) = arg else { return None };
        let name = p.path.get_ident()?.to_string();
        let body = *self.fn_bodies.last()?;
        // The `let` binding it, in the function body's statements (any block).
        let lets = lets_binding(body, &name);
        let found = match lets.as_slice() {
            [l] => Some(*l),
            _ => None,
        };
        let local = found?;
        let init = &local.init.as_ref()?.expr;
        let uses = uses_in(&name, |u| u.visit_block(body));
        if uses.len() != 1 {
            return None;
        }
        // Walk the chain from the outermost expression down to the root call.
        let mut links: Vec<&syn::Expr> = Vec::new();
        let mut cur: &syn::Expr = init;
        loop {
            links.push(cur);
            cur = match cur {
                syn::Expr::Await(a) => &a.base,
                syn::Expr::Try(t) => &t.expr,
                syn::Expr::MethodCall(m) => &m.receiver,
                _ => break,
            };
        }
        links.reverse();
        let syn::Expr::Call(root) = links[0] else {
            return None;
        };
        let syn::Expr::Path(rp) = &*root.func else {
            return None;
        };
        let rfull = self.resolve_full(&rp.path)?;
        if rfull.first().map(String::as_str) != Some("tonic") {
            return None;
        }
        let rs: Vec<&str> = rfull.iter().map(String::as_str).collect();
        let ctor = *rs.last()?;
        if !matches!(
            rs.get(rs.len().saturating_sub(2)),
            Some(&"Channel") | Some(&"Endpoint")
        ) {
            return None;
        }
        let dst = self.src(range(root.args.first()?.span())).to_string();
        let mut k = 1;
        let uri = match ctor {
            "from_static" => format!("{dst}.parse().expect(\"a valid URI\")"),
            "from_shared" | "new" => {
                let sfx = match links.get(1) {
                    Some(syn::Expr::Try(_)) => "?".to_string(),
                    Some(syn::Expr::MethodCall(m))
                        if m.method == "unwrap" || m.method == "expect" =>
                    {
                        self.src(range(m.receiver.span()).end..range(m.span()).end)
                            .trim_start()
                            .to_string()
                    }
                    _ => return None,
                };
                k = 2;
                format!("{dst}.parse(){sfx}")
            }
            _ => return None,
        };
        let (transport_fn, proto) = transport_for(protocol());
        let mut builder = String::new();
        let mut config = String::new();
        let mut connected = false;
        while k < links.len() {
            let syn::Expr::MethodCall(m) = links[k] else {
                return None;
            };
            let a = m
                .args
                .first()
                .map(|a| self.src(range(a.span())).to_string())
                .unwrap_or_default();
            match m.method.to_string().as_str() {
                "timeout" => config.push_str(&format!(".with_default_timeout({a})")),
                "connect_timeout" => builder.push_str(&format!(".connect_timeout({a})")),
                "user_agent" => {
                    config.push_str(&format!(".with_default_header(\"user-agent\", {a})"));
                    // Its `?` / `.unwrap()` / `.expect(..)` (the header value's parse) goes too.
                    if matches!(links.get(k + 1), Some(syn::Expr::Try(_)))
                        || matches!(links.get(k + 1), Some(syn::Expr::MethodCall(u)) if u.method == "unwrap" || u.method == "expect")
                    {
                        k += 1;
                    }
                }
                "connect_lazy" => connected = true,
                "connect" => {
                    // `.await` and its error handling.
                    if !matches!(links.get(k + 1), Some(syn::Expr::Await(_))) {
                        return None;
                    }
                    k += 1;
                    match links.get(k + 1) {
                        Some(syn::Expr::Try(_)) => k += 1,
                        Some(syn::Expr::MethodCall(u))
                            if u.method == "unwrap" || u.method == "expect" =>
                        {
                            k += 1
                        }
                        _ => return None,
                    }
                    connected = true;
                }
                _ => return None,
            }
            k += 1;
        }
        if !connected {
            return None;
        }
        let transport = if builder.is_empty() {
            format!("connectrpc::client::HttpClient::{transport_fn}()")
        } else {
            format!("connectrpc::client::HttpClient::builder(){builder}.{transport_fn}()")
        };
        let config = format!(
            "connectrpc::client::ClientConfig::new({uri}).with_protocol(connectrpc::Protocol::{proto}){config}"
        );
        // The whole statement, with its line when it is alone on it.
        let r = range(local.span());
        let line_start = self.text[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let mut del = r.clone();
        if self.text[line_start..r.start].trim().is_empty() {
            del.start = line_start;
            if self.text[r.end..].starts_with('\n') {
                del.end = r.end + 1;
            } else if self.text[r.end..].starts_with("\r\n") {
                del.end = r.end + 2;
            }
        }
        Some((transport, config, del))
    }
}

// ---------------------------------------------------------------------------------------------
// calls

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// Is `e` a client value: a known local, or a construction of a client?
    fn receiver_service(&self, e: &syn::Expr) -> Option<&'s Service> {
        match e {
            syn::Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                let s = self.vars.last()?.get(&name)?;
                self.service(s)
            }
            syn::Expr::Paren(p) => self.receiver_service(&p.expr),
            syn::Expr::Reference(r) => self.receiver_service(&r.expr),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                self.receiver_service(&u.expr)
            }
            _ => None,
        }
    }

    /// The service of a client value produced by `e` (constructions, client functions, clones).
    fn value_service(&self, e: &syn::Expr) -> Option<&'s Service> {
        match e {
            syn::Expr::Await(a) => self.value_service(&a.base),
            syn::Expr::Try(t) => self.value_service(&t.expr),
            syn::Expr::Paren(p) => self.value_service(&p.expr),
            syn::Expr::MethodCall(m) => {
                let name = m.method.to_string();
                if matches!(
                    name.as_str(),
                    "unwrap"
                        | "expect"
                        | "clone"
                        | "max_decoding_message_size"
                        | "max_encoding_message_size"
                        | "send_compressed"
                        | "accept_compressed"
                ) {
                    self.value_service(&m.receiver)
                } else {
                    None
                }
            }
            syn::Expr::Call(c) => {
                if let Some((_, svc, _)) = self.ctor_call(e) {
                    return Some(svc);
                }
                let syn::Expr::Path(fp) = &*c.func else {
                    return None;
                };
                let full = self.resolve_full(&fp.path)?;
                let (_, s) = self.known.iter().find(|(k, _)| {
                    *k == full
                        || (full.first().map(String::as_str) == Some("crate")
                            && k[1..] == full[1..])
                })?;
                self.service(s)
            }
            syn::Expr::Path(_) => self.receiver_service(e),
            _ => None,
        }
    }

    /// `Request::new(e)` (tonic) -> `e`.
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

    /// Edits that pass `arg` natively (a message), or `None` when it may be a `tonic::Request`
    /// the step cannot take apart. A local request built by `let mut r = Request::new(m);` and
    /// statements setting its metadata and timeout (`crate::steps::metadata`) gives the message
    /// and a `CallOptions` local built by those statements, rewritten in place.
    fn native_request(&self, arg: &'ast syn::Expr) -> Option<ReqPlan> {
        let unwrap = |c: &syn::ExprCall| {
            let r = range(c.span());
            let inner = range(c.args[0].span());
            vec![
                Edit::delete(r.start..inner.start, "step06/request-new"),
                Edit::delete(inner.end..r.end, "step06/request-new"),
            ]
        };
        let plain = |edits| {
            Some(ReqPlan {
                edits,
                helper: None,
                whole: None,
                options: None,
                encode: false,
            })
        };
        if let Some(c) = self.request_new(arg) {
            return plain(unwrap(c));
        }
        if Self::is_message_value(arg) {
            return plain(Vec::new());
        }
        if let Some(h) = self.helper_call(arg) {
            let call = self.call_of(arg)?;
            let recv = self.src(range(call.receiver.span()));
            let words: Vec<&str> = recv
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .collect();
            if words.contains(&"message") || words.contains(&"options") {
                return None;
            }
            return Some(ReqPlan {
                edits: Vec::new(),
                helper: Some(h),
                whole: Some(crate::steps::metadata::parts_block(
                    self.text,
                    range(call.span()).start,
                    "message",
                    self.src(range(arg.span())),
                    &format!("{recv}.{}_with_options(message, options)", call.method),
                )),
                options: None,
                encode: false,
            });
        }
        let syn::Expr::Path(p) = arg else { return None };
        let name = p.path.get_ident()?.to_string();
        let body = *self.fn_bodies.last()?;
        let lets = lets_named(&name, body);
        if lets.len() != 1 || matches!(lets[0].0.pat, syn::Pat::Type(_)) {
            return None;
        }
        let (local, block) = lets[0];
        let init: &'ast syn::Expr = &local.init.as_ref()?.expr;
        if Self::is_message_value(init) {
            return plain(Vec::new());
        }
        let helper = self.helper_call(init);
        let c = match helper {
            Some(_) => None,
            None => Some(self.request_new(init)?),
        };
        let uses = uses_in(&name, |u| u.visit_block(body));
        if uses.len() == 1 && helper.is_none() {
            return plain(unwrap(c?));
        }
        // Statements on the request between its `let` and the call, in the `let`'s block.
        let block = block?;
        let at = block
            .stmts
            .iter()
            .position(|st| matches!(st, syn::Stmt::Local(l) if ptr_eq(l, local)))?;
        let call_at = range(arg.span()).start;
        let mut steps = Vec::new();
        for st in &block.stmts[at + 1..] {
            let r = range(st.span());
            if r.end > call_at {
                break;
            }
            if let syn::Stmt::Expr(e, Some(_)) = st {
                if crate::steps::metadata::mentions_request(e, &name) {
                    steps.push((st, e));
                }
            }
        }
        // Every use is the call's argument or the receiver in one of those statements.
        if uses.len() != steps.len() + 1 || (steps.is_empty() && helper.is_none()) {
            self.why.replace(Some(format!(
                "`{name}` is used beyond statements setting its metadata or timeout between its `let` and the call (in a branch, after the call, or read)"
            )));
            return None;
        }
        let opt = format!("{name}_options");
        if !lets_named(&opt, body).is_empty() || !uses_in(&opt, |u| u.visit_block(body)).is_empty()
        {
            return None;
        }
        let resolve = |p: &syn::Path| self.resolve_full(p);
        let mut edits = c.map(unwrap).unwrap_or_default();
        if helper.is_some() {
            // `let mut r = helper(..);` -> `let (r, r_options) = helper(..);`
            edits.push(Edit::replace(
                range(local.pat.span()),
                format!("({name}, {opt})"),
                "step06/request-options",
            ));
        } else if let syn::Pat::Ident(pi) = &local.pat {
            if let Some(m) = &pi.mutability {
                let r = range(m.span());
                let end = r.end + self.text[r.end..].len() - self.text[r.end..].trim_start().len();
                edits.push(Edit::delete(r.start..end, "step06/request-options"));
            }
        }
        let mut encode = false;
        for (i, (st, e)) in steps.iter().enumerate() {
            let step = match crate::steps::metadata::request_stmt(self.text, e, &name, &resolve) {
                Ok(s) => s,
                Err(why) => {
                    self.why.replace(Some(why));
                    return None;
                }
            };
            encode |= step.bin_encode;
            let base = if i == 0 && helper.is_none() {
                "connectrpc::client::CallOptions::default()".to_string()
            } else {
                opt.clone()
            };
            edits.push(Edit::replace(
                range(st.span()),
                format!("let {opt} = {base}{}{};", step.call, step.suffix),
                "step06/request-options",
            ));
        }
        Some(ReqPlan {
            edits,
            helper,
            whole: None,
            options: Some(opt),
            encode,
        })
    }

    /// The kind of a singular field of message `full` named `field`: `true` when a view of it
    /// reads like the owned field (strings, scalars).
    fn scalar_field(&self, msg: &str, field: &str) -> bool {
        self.schema
            .message(msg)
            .and_then(|m| m.field_by_rust_name(field))
            .is_some_and(|f| {
                !f.is_message_field()
                    && !matches!(f.label, crate::schema::Label::Repeated)
                    && f.oneof.is_none()
                    && !f.is_enum()
            })
    }

    /// Is the field `field` of message `msg` a singular number or bool (the same `Copy` value on
    /// a view and on the owned message)?
    fn copy_field(&self, msg: &str, field: &str) -> bool {
        self.scalar_field(msg, field)
            && self
                .schema
                .message(msg)
                .and_then(|m| m.field_by_rust_name(field))
                .is_some_and(|f| {
                    matches!(f.kind, crate::schema::FieldKind::Scalar(t)
                        if !matches!(t, crate::schema::ScalarType::String | crate::schema::ScalarType::Bytes))
                })
    }

    /// Uses of a response binding in `visit` are all understood: the edits renaming them.
    fn response_uses(
        &self,
        name: &str,
        output: &str,
        f: impl FnOnce(&mut UseFinder<'ast>),
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        for (_, parent) in uses_in(name, f) {
            let parent = parent?;
            let syn::Expr::MethodCall(m) = parent else {
                return None;
            };
            if !m.args.is_empty() {
                return None;
            }
            match m.method.to_string().as_str() {
                "into_inner" => edits.push(Edit::replace(
                    range(m.method.span()),
                    "into_owned",
                    "step06/response",
                )),
                "get_ref" => {
                    // Only `get_ref().field` of a scalar field: checked by the caller's text.
                    let after = &self.text[range(m.span()).end..];
                    let field: String = after
                        .strip_prefix('.')?
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let next = after[1 + field.len()..].trim_start();
                    if !(self.scalar_field(output, &field) || next.starts_with('.')) {
                        return None;
                    }
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "view",
                        "step06/response",
                    ));
                }
                _ => return None,
            }
        }
        Some(edits)
    }

    fn convert_call(&mut self, m: &'ast syn::ExprMethodCall, svc: &'s Service) {
        let name = m.method.to_string();
        let Some(method) = svc.methods.iter().find(|x| x.rust_name == name) else {
            return;
        };
        let start = range(m.span()).start;
        let recv = self.src(range(m.receiver.span())).to_string();
        let arg = match m.args.len() {
            1 => &m.args[0],
            _ => return,
        };
        let arg_r = range(arg.span());
        let call_r = range(m.span());
        // A client made in place (`X::connect(url).await?`, `X::new(ch)`) cannot be written
        // again in the wrappers' closures (which neither await nor re-run it): it is bound before
        // the wrapper, `{ let client = <receiver>; wrapper(.., |..| client.m_with_options(..)).await }`,
        // its own text left to the construction's rewrite. Only where the call is awaited.
        let inline = if place_like(&m.receiver) {
            None
        } else {
            let Some(syn::Expr::Await(aw)) = self.stack_expr(1) else {
                self.report(
                    start,
                    "unary-call",
                    ItemKind::Manual,
                    format!("call `{name}` on a client made in place, not awaited there: not rewritten"),
                    &format!("bind the client to a local first, then run the step again (`{name}` takes the message itself)"),
                );
                return;
            };
            let arg_text = self.src(arg_r.clone());
            let mut client = "client".to_string();
            while arg_text
                .split(|c: char| !(c == '_' || c.is_alphanumeric()))
                .any(|w| w == client)
            {
                client.push('_');
            }
            Some((client, range(aw.span()).end))
        };
        let recv = match &inline {
            Some((client, _)) => client.clone(),
            None => recv,
        };
        let wrap = |f: &str, closure: String| match &inline {
            None => vec![
                Edit::replace(
                    call_r.start..arg_r.start,
                    format!("connect_shim::client::{f}("),
                    "step06/call-shim",
                ),
                Edit::replace(
                    arg_r.end..call_r.end,
                    format!(", {closure})"),
                    "step06/call-shim",
                ),
            ],
            Some((client, await_end)) => {
                let recv_r = range(m.receiver.span());
                vec![
                    Edit::insert(
                        recv_r.start,
                        format!("{{ let {client} = "),
                        "step06/call-shim",
                    ),
                    Edit::replace(
                        recv_r.end..arg_r.start,
                        format!("; connect_shim::client::{f}("),
                        "step06/call-shim",
                    ),
                    Edit::replace(
                        arg_r.end..call_r.end,
                        format!(", {closure})"),
                        "step06/call-shim",
                    ),
                    Edit::insert(*await_end, " }", "step06/call-shim"),
                ]
            }
        };
        match method.kind {
            StreamingKind::Unary => {}
            kind => {
                // A request built by a converted request helper is `(message, CallOptions)`:
                // turned back into a tonic request for the wrapper (step 8 passes both natively).
                let parts = self
                    .helper_parts(arg)
                    .or_else(|| self.helper_let_options(arg));
                let wrap = |f: &str, closure: String| {
                    let mut edits = wrap(f, closure);
                    if let Some((_, more)) = &parts {
                        edits[0].text.push_str(REQUEST_FROM_OPTIONS);
                        edits[0].text.push('(');
                        edits[1].text.insert(0, ')');
                        edits.extend(more.iter().cloned());
                    }
                    edits
                };
                let (f, closure) = match kind {
                    StreamingKind::ServerStream => (
                        "tonic_server_stream",
                        format!("|request, options| {recv}.{name}_with_options(request, options)"),
                    ),
                    StreamingKind::ClientStream => (
                        "tonic_client_stream",
                        format!(
                            "|requests, options| {recv}.{name}_with_options(requests, options)"
                        ),
                    ),
                    _ => (
                        "tonic_bidi",
                        format!("|options| {recv}.{name}_with_options(options)"),
                    ),
                };
                if self.commit(wrap(f, closure), start, "streaming-call") {
                    if let Some((h, _)) = parts {
                        self.helper_done.borrow_mut()[h] += 1;
                    }
                    self.report(
                        start,
                        "streaming-call",
                        ItemKind::Manual,
                        format!("streaming call `{name}` kept tonic-shaped over the connect client (connect_shim::client::{f})"),
                        "step 8 makes streaming calls native",
                    );
                }
                return;
            }
        }
        self.why.replace(None);
        let native = self.plan_native_unary(m, method.output.as_str(), arg);
        match native {
            Some((edits, encode, decode, helper)) => {
                if self.commit(edits, start, "unary-call") {
                    self.need_encode |= encode;
                    self.need_decode |= decode;
                    if let Some(h) = helper {
                        self.helper_done.borrow_mut()[h] += 1;
                    }
                }
            }
            None => {
                let closure =
                    format!("|request, options| {recv}.{name}_with_options(request, options)");
                let why = self.why.take().unwrap_or_else(|| {
                    "its request or response is used in a way the step does not rewrite".into()
                });
                if self.commit(wrap("tonic_unary", closure), start, "unary-call") {
                    self.report(
                        start,
                        "unary-call",
                        ItemKind::Manual,
                        format!("unary call `{name}` kept tonic-shaped (connect_shim::client::tonic_unary): {why}"),
                        &format!("pass the message itself, metadata and timeout as `CallOptions` to `{name}_with_options`; read the answer with `into_owned()`, `view()`, `headers()`"),
                    );
                }
            }
        }
    }

    fn plan_native_unary(
        &self,
        m: &'ast syn::ExprMethodCall,
        output: &str,
        arg: &'ast syn::Expr,
    ) -> Option<(Vec<Edit>, bool, bool, Option<usize>)> {
        let req = self.native_request(arg)?;
        let mut edits = req.edits;
        if let Some(whole) = &req.whole {
            edits.push(Edit::replace(
                range(m.span()),
                whole,
                "step06/request-options",
            ));
        } else if let Some(opt) = &req.options {
            edits.push(Edit::replace(
                range(m.method.span()),
                format!("{}_with_options", m.method),
                "step06/request-options",
            ));
            edits.push(Edit::insert(
                range(arg.span()).end,
                format!(", {opt}"),
                "step06/request-options",
            ));
        }
        self.decode.set(false);
        let chain = self.chain_up(0);
        let syn::Expr::Await(aw) = chain.first()? else {
            return None;
        };
        let to_status = Edit::insert(
            range(aw.span()).end,
            ".map_err(connect_shim::status::to_status)",
            "step06/error-status",
        );
        let mut need_status = true;
        let mut owned = false;
        match chain.get(1) {
            Some(syn::Expr::MethodCall(u)) if u.method == "unwrap" || u.method == "expect" => {
                need_status = false;
                self.response_chain(&chain[2..], output, &mut edits)?;
            }
            Some(syn::Expr::Try(_)) => self.response_chain(&chain[2..], output, &mut edits)?,
            Some(syn::Expr::MethodCall(u)) if u.method == "map_err" => match chain.get(2) {
                Some(syn::Expr::Try(_)) => self.response_chain(&chain[3..], output, &mut edits)?,
                Some(syn::Expr::MethodCall(u)) if u.method == "unwrap" || u.method == "expect" => {
                    self.response_chain(&chain[3..], output, &mut edits)?
                }
                _ => return None,
            },
            Some(syn::Expr::MethodCall(u))
                if matches!(
                    u.method.to_string().as_str(),
                    "unwrap_err" | "err" | "is_err" | "is_ok"
                ) => {}
            None => {
                // `match <call>.await { .. }`
                let depth = chain.len();
                let Some(Node::Expr(syn::Expr::Match(mt))) = self.stack_node(depth + 1) else {
                    return None;
                };
                if !ptr_eq(&*mt.expr, chain[0]) {
                    return None;
                }
                // The `Ok` arms' bindings: read through `view()` / `into_owned()` on the
                // response, or else (a field read the view cannot give, like a repeated field
                // compared with an array) the response made owned right after the call.
                let mut bound = Vec::new();
                for arm in &mt.arms {
                    if let syn::Pat::TupleStruct(ts) = &arm.pat {
                        let ok = ts.path.is_ident("Ok");
                        if ok {
                            match ts.elems.first() {
                                Some(syn::Pat::Ident(pi)) if pi.subpat.is_none() => {
                                    bound.push((pi.ident.to_string(), arm));
                                }
                                Some(syn::Pat::Wild(_)) => {}
                                _ => return None,
                            }
                        }
                    }
                }
                let visit = |arm: &'ast syn::Arm| {
                    move |u: &mut UseFinder<'ast>| {
                        if let Some((_, g)) = &arm.guard {
                            u.visit_expr(g);
                        }
                        u.visit_expr(&arm.body);
                    }
                };
                let viewed: Option<Vec<Edit>> = bound
                    .iter()
                    .map(|(n, arm)| self.response_uses(n, output, visit(arm)))
                    .collect::<Option<Vec<_>>>()
                    .map(|v| v.into_iter().flatten().collect());
                match viewed {
                    Some(e) => edits.extend(e),
                    None => {
                        for (n, arm) in &bound {
                            edits.extend(self.owned_uses(n, visit(arm))?);
                        }
                        owned = true;
                    }
                }
            }
            _ => return None,
        }
        let owned_text = if owned {
            ".map(|r| r.into_owned())"
        } else {
            ""
        };
        if need_status {
            edits.push(Edit::insert(
                to_status.range.start,
                format!("{owned_text}{}", to_status.text),
                "step06/error-status",
            ));
        } else if owned {
            edits.push(Edit::insert(
                to_status.range.start,
                owned_text,
                "step06/response",
            ));
        }
        if (req.encode || self.decode.get()) && !self.at_file_root() {
            // The binary metadata helpers are added at the file's root: out of reach here.
            return None;
        }
        Some((edits, req.encode, self.decode.get(), req.helper))
    }

    /// `h(..)` naming a request helper of the file being converted: its index.
    fn helper_call(&self, e: &syn::Expr) -> Option<usize> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let id = fp.path.get_ident()?.to_string();
        let i = self.helpers.iter().position(|h| h.name == id)?;
        // Resolves to the file's own item (not a shadowing import).
        let full = self.resolve_full(&fp.path);
        if full
            .as_ref()
            .is_some_and(|f| f.first().map(String::as_str) == Some("tonic"))
        {
            return None;
        }
        Some(i)
    }

    /// The request of a streaming call built by a request helper of the file: `helper(..)`, or
    /// a local bound once to `helper(..)` and used only as this argument. The helper's index
    /// and the edits to the `let` (its `mut`, useless on the `(message, options)` pair, goes).
    fn helper_parts(&self, arg: &'ast syn::Expr) -> Option<(usize, Vec<Edit>)> {
        if let Some(h) = self.helper_call(arg) {
            return Some((h, Vec::new()));
        }
        let syn::Expr::Path(p) = arg else { return None };
        let name = p.path.get_ident()?.to_string();
        let body = *self.fn_bodies.last()?;
        let lets = lets_named(&name, body);
        let [(local, _)] = lets[..] else { return None };
        let syn::Pat::Ident(pi) = &local.pat else {
            return None;
        };
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return None;
        }
        let init = &local.init.as_ref()?;
        if init.diverge.is_some() {
            return None;
        }
        let h = self.helper_call(&init.expr)?;
        if uses_in(&name, |u| u.visit_block(body)).len() != 1 {
            return None;
        }
        let mut edits = Vec::new();
        if let Some(m) = &pi.mutability {
            let r = range(m.span());
            let end = r.end + self.text[r.end..].len() - self.text[r.end..].trim_start().len();
            edits.push(Edit::delete(r.start..end, "step06/request-helper"));
        }
        Some((h, edits))
    }

    /// A local `let mut r = helper(..);` changed by statements setting metadata or a timeout
    /// before a streaming call `c.m(r)`: `let (r, r_options) = helper(..);`, the statements
    /// building on `r_options` (as for a unary call), and the argument becomes the pair
    /// `(r, r_options)`.
    fn helper_let_options(&self, arg: &'ast syn::Expr) -> Option<(usize, Vec<Edit>)> {
        if !matches!(arg, syn::Expr::Path(_)) {
            return None;
        }
        let plan = self.native_request(arg)?;
        let (Some(h), Some(opt)) = (plan.helper, &plan.options) else {
            return None;
        };
        if plan.encode {
            // The binary metadata encoder would have to be added for this path too.
            return None;
        }
        let mut edits = plan.edits;
        edits.push(Edit::replace(
            range(arg.span()),
            format!("({}, {opt})", self.src(range(arg.span()))),
            "step06/request-helper",
        ));
        Some((h, edits))
    }

    /// The method call `arg` is the argument of (the call being converted).
    fn call_of(&self, arg: &syn::Expr) -> Option<&'ast syn::ExprMethodCall> {
        match self.stack_expr(0)? {
            syn::Expr::MethodCall(m) if m.args.len() == 1 && ptr_eq(&m.args[0], arg) => Some(m),
            _ => None,
        }
    }

    fn at_file_root(&self) -> bool {
        self.idx.module_scope(self.tr.current()) == self.idx.module_scope(self.idx.root())
    }

    /// Appends the binary metadata helpers a committed rewrite uses (once per file).
    fn add_bin_helpers(&mut self) {
        let encode = self.need_encode && !self.text.contains("fn grpc_bin_encode(");
        let decode = self.need_decode && !self.text.contains("fn grpc_bin_decode(");
        if !(encode || decode) {
            return;
        }
        let mut text = crate::steps::metadata::bin_helpers(encode, decode);
        if !self.text.ends_with('\n') {
            text.insert(0, '\n');
        }
        let at = self.text.len();
        if self
            .out
            .commit(vec![Edit::insert(at, text, "step06/bin-metadata")])
            .is_err()
        {
            self.report(
                at,
                "bin-metadata",
                ItemKind::Manual,
                "the binary metadata helpers could not be added".into(),
                "add `grpc_bin_encode` / `grpc_bin_decode` (base64 of `-bin` headers) by hand",
            );
        }
    }

    /// A unary response bound by `let name = <call>..;`: every later use of `name` understood
    /// (`into_inner()` -> `into_owned()`, `get_ref().f`, `metadata()` -> `headers()` read with
    /// `get`, `get_bin(..)..to_bytes()`); the edits.
    fn bound_response(&self, l: &'ast syn::Local, output: &str) -> Option<Vec<Edit>> {
        let syn::Pat::Ident(pi) = &l.pat else {
            return None;
        };
        if pi.subpat.is_some() || pi.by_ref.is_some() {
            return None;
        }
        let name = pi.ident.to_string();
        let body = *self.fn_bodies.last()?;
        if lets_named(&name, body).len() != 1 {
            return None;
        }
        let mut edits = Vec::new();
        let mut metadata_hits = Vec::new();
        for hit in ancestors_of(&name, body) {
            let parent = match hit.first() {
                Some(Anc::Expr(p)) => p,
                _ => return None,
            };
            match parent {
                syn::Expr::MethodCall(m) if m.method == "metadata" && m.args.is_empty() => {
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "headers",
                        "step06/response-metadata",
                    ));
                    metadata_hits.push(hit[1..].to_vec());
                }
                _ => {}
            }
        }
        // The other uses: what a response bound in a `match` arm may do.
        let rest = self.response_uses_filtered(&name, output, body)?;
        edits.extend(rest);
        for anc in metadata_hits {
            edits.extend(self.header_map_use(&anc, body, 0)?);
        }
        Some(edits)
    }

    /// `response_uses` on every use of `name` in `body` that is not `name.metadata()`.
    fn response_uses_filtered(
        &self,
        name: &str,
        output: &str,
        body: &'ast syn::Block,
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        for (_, parent) in uses_in(name, |u| u.visit_block(body)) {
            let parent = parent?;
            if let syn::Expr::MethodCall(m) = parent {
                if m.method == "metadata" && m.args.is_empty() {
                    continue;
                }
            }
            let one: &'ast syn::Expr = parent;
            // Reuse the match-arm reading on this one use.
            let mut sub = self.response_uses(name, output, |u| {
                u.hits.push((leak_dummy(), Some(one)));
            })?;
            edits.append(&mut sub);
        }
        Some(edits)
    }

    /// The uses of an `http::HeaderMap` that was tonic's response `MetadataMap` (`anc`: the
    /// ancestors of the `metadata()` call, or of a local bound to it): the edits.
    fn header_map_use(
        &self,
        anc: &[Anc<'ast>],
        body: &'ast syn::Block,
        depth: usize,
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        match anc.first() {
            Some(Anc::Local(l)) if depth == 0 => {
                let syn::Pat::Ident(pi) = &l.pat else {
                    return None;
                };
                let n = pi.ident.to_string();
                if lets_named(&n, body).len() != 1 {
                    return None;
                }
                for hit in ancestors_of(&n, body) {
                    edits.extend(self.header_map_use(&hit, body, depth + 1)?);
                }
            }
            Some(Anc::Macro) => {}
            Some(Anc::Expr(syn::Expr::MethodCall(m))) => match m.method.to_string().as_str() {
                "get" | "contains_key" | "len" | "is_empty" | "keys" => {}
                "get_bin" if m.args.len() == 1 => {
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "get",
                        "step06/response-metadata",
                    ));
                    // Up the chain to `.to_bytes()`.
                    let mut cur: &syn::Expr = match anc.first() {
                        Some(Anc::Expr(e)) => e,
                        _ => return None,
                    };
                    let mut found = None;
                    for a in &anc[1..] {
                        let Anc::Expr(p) = a else { break };
                        let cont = match p {
                            syn::Expr::Try(t) => ptr_eq(&*t.expr, cur),
                            syn::Expr::MethodCall(pm) => {
                                ptr_eq(&*pm.receiver, cur)
                                    && matches!(
                                        pm.method.to_string().as_str(),
                                        "ok_or" | "ok_or_else" | "unwrap" | "expect" | "to_bytes"
                                    )
                            }
                            _ => false,
                        };
                        if !cont {
                            break;
                        }
                        if let syn::Expr::MethodCall(pm) = p {
                            if pm.method == "to_bytes" && pm.args.is_empty() {
                                found = Some(pm);
                                break;
                            }
                        }
                        cur = p;
                    }
                    let tb = found?;
                    let recv = range(tb.receiver.span());
                    edits.push(Edit::insert(
                        recv.start,
                        format!("{}(", crate::steps::metadata::BIN_DECODE),
                        "step06/response-metadata",
                    ));
                    edits.push(Edit::replace(
                        recv.end..range(tb.span()).end,
                        ")",
                        "step06/response-metadata",
                    ));
                    self.decode.set(true);
                }
                _ => return None,
            },
            _ => return None,
        }
        Some(edits)
    }

    /// Uses of a response binding made owned (`.map(|r| r.into_owned())` on the call): each is
    /// `name.into_inner()` (the message itself) or `name.get_ref()` (`name` before a field or
    /// method, `&name` elsewhere); the edits, or `None` for any other use.
    fn owned_uses(&self, name: &str, f: impl FnOnce(&mut UseFinder<'ast>)) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        for (hit, parent) in uses_in(name, f) {
            let Some(syn::Expr::MethodCall(m)) = parent else {
                return None;
            };
            if !m.args.is_empty() || m.turbofish.is_some() || !ptr_eq(&*m.receiver, hit) {
                return None;
            }
            let call = range(m.span());
            let recv_end = range(hit.span()).end;
            match m.method.to_string().as_str() {
                "into_inner" => {
                    edits.push(Edit::delete(recv_end..call.end, "step06/response"));
                }
                "get_ref" => {
                    if self.text[call.end..].trim_start().starts_with('.') {
                        edits.push(Edit::delete(recv_end..call.end, "step06/response"));
                    } else {
                        edits.push(Edit::replace(call, format!("&{name}"), "step06/response"));
                    }
                }
                _ => return None,
            }
        }
        Some(edits)
    }

    /// After the response value: `.into_inner()` / `.get_ref().field`, or nothing.
    fn response_chain(
        &self,
        rest: &[&'ast syn::Expr],
        output: &str,
        edits: &mut Vec<Edit>,
    ) -> Option<()> {
        match rest.first() {
            None => {
                // The value goes somewhere: fine only when discarded or bound to `_`.
                let depth = self.chain_up(0).len() - rest.len();
                match self.stack_node(depth + 1) {
                    Some(Node::Block(_)) => Some(()),
                    Some(Node::Local(l)) => {
                        edits.extend(self.bound_response(l, output)?);
                        Some(())
                    }
                    _ => None,
                }
            }
            Some(syn::Expr::MethodCall(m)) if m.method == "into_inner" && m.args.is_empty() => {
                edits.push(Edit::replace(
                    range(m.method.span()),
                    "into_owned",
                    "step06/response",
                ));
                Some(())
            }
            Some(syn::Expr::MethodCall(m)) if m.method == "get_ref" && m.args.is_empty() => {
                let Some(syn::Expr::Field(f)) = rest.get(1) else {
                    return None;
                };
                let syn::Member::Named(id) = &f.member else {
                    return None;
                };
                // A `Copy` field (numbers, bools) is read on `view()`; any other on the owned
                // message (a view gives `&str` for a `String`, views for repeated and message
                // fields, and borrows the response this temporary is).
                let to = if self.copy_field(output, &id.to_string()) {
                    "view"
                } else {
                    "into_owned"
                };
                edits.push(Edit::replace(range(m.method.span()), to, "step06/response"));
                Some(())
            }
            _ => None,
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_, 'ast> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        self.stack.push(Node::Block(b));
        syn::visit::visit_block(self, b);
        self.stack.pop();
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
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
        self.vars.pop();
        self.fn_bodies.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
        self.vars.pop();
        self.fn_bodies.pop();
    }

    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.stack.push(Node::Arm(a));
        syn::visit::visit_arm(self, a);
        self.stack.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        self.stack.push(Node::Local(l));
        syn::visit::visit_local(self, l);
        self.stack.pop();
        let (pat, ty) = match &l.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let syn::Pat::Ident(id) = pat else { return };
        let svc = ty
            .and_then(|t| self.client_type_service(t))
            .or_else(|| l.init.as_ref().and_then(|i| self.value_service(&i.expr)));
        if let (Some(svc), Some(vars)) = (svc, self.vars.last_mut()) {
            vars.insert(id.ident.to_string(), svc.full_name.clone());
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.rewrite_type_path(p);
        syn::visit::visit_path(self, p);
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.stack.push(Node::Expr(e));
        match e {
            syn::Expr::Call(_) => {
                if let Some((c, svc, ctor)) = self.ctor_call(e) {
                    self.convert_ctor(c, svc, ctor);
                }
            }
            syn::Expr::MethodCall(m) => {
                // A local's client, or one made in place (constructions, client functions).
                if let Some(svc) = self
                    .receiver_service(&m.receiver)
                    .or_else(|| self.value_service(&m.receiver))
                {
                    self.convert_call(m, svc);
                }
            }
            _ => {}
        }
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
}

/// Can `e`, a call's receiver, be written again inside a closure (a local, a field, a reference
/// or a clone of one)?
fn place_like(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(_) => true,
        syn::Expr::Field(f) => place_like(&f.base),
        syn::Expr::Paren(p) => place_like(&p.expr),
        syn::Expr::Reference(r) => place_like(&r.expr),
        syn::Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)) && place_like(&u.expr),
        syn::Expr::MethodCall(m) => {
            m.method == "clone" && m.args.is_empty() && place_like(&m.receiver)
        }
        _ => false,
    }
}

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// The statement range (with its line) of the one `let name = ..;` of the current function,
    /// when `name` is used once.
    fn single_use_let(&self, name: &str) -> Option<Range<usize>> {
        let body = *self.fn_bodies.last()?;
        let found = lets_binding(body, name);
        if found.len() != 1 || uses_in(name, |u| u.visit_block(body)).len() != 1 {
            return None;
        }
        let r = range(found[0].span());
        let line_start = self.text[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let mut del = r.clone();
        if self.text[line_start..r.start].trim().is_empty() {
            del.start = line_start;
            if self.text[r.end..].starts_with('\n') {
                del.end = r.end + 1;
            } else if self.text[r.end..].starts_with("\r\n") {
                del.end = r.end + 2;
            }
        }
        Some(del)
    }

    fn enter_fn(&mut self, sig: &'ast syn::Signature, body: &'ast syn::Block) {
        let mut vars = HashMap::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            let syn::Pat::Ident(id) = &*pt.pat else {
                continue;
            };
            if let Some(svc) = self.client_type_service(&pt.ty) {
                vars.insert(id.ident.to_string(), svc.full_name.clone());
            }
        }
        self.vars.push(vars);
        self.fn_bodies.push(body);
    }
}

/// The workspace's channel plan (channel.rs): helpers, `Channel` parameters and interceptors,
/// and the groups of crates converted.
fn channel_plan(
    ws: &crate::workspace::Workspace,
    ctx: &HashMap<String, std::sync::Arc<CrateCtx>>,
) -> channel::Plan {
    let mut plan = channel::Plan::default();
    // Files are parsed only when they can hold a definition (`Channel`, `Interceptor`) or, in
    // the second round, name one.
    let mut texts: Vec<(String, String, Option<Vec<String>>)> = Vec::new();
    for c in &ws.crates {
        if !ctx.contains_key(&c.name) {
            continue;
        }
        let lib = c.name.replace('-', "_");
        for f in &c.files {
            plan.file_crate.insert(f.path.clone(), lib.clone());
            let Ok(text) = std::fs::read_to_string(&f.path) else {
                continue;
            };
            texts.push((c.name.clone(), text, f.module_path.clone()));
        }
    }
    let parse = |(cname, text, mp): &(String, String, Option<Vec<String>>)| {
        let file = syn::parse_file(text).ok()?;
        let idx = FileIndex::build(&file, mp.clone());
        Some((cname.clone(), text.clone(), file, idx))
    };
    let mut parsed: Vec<(String, String, syn::File, FileIndex)> = Vec::new();
    let mut later = Vec::new();
    for t in &texts {
        if t.1.contains("Channel") || t.1.contains("Interceptor") {
            parsed.extend(parse(t));
        } else {
            later.push(t);
        }
    }
    // Definitions.
    let mut def_crate: HashMap<Vec<String>, String> = HashMap::new();
    for (cname, text, file, idx) in &parsed {
        let schema = ctx.get(cname).and_then(|c| c.schema.clone());
        let lib = cname.replace('-', "_");
        let s = channel::scan(schema.as_deref(), file, idx, text, &lib, None);
        for h in s.helpers {
            def_crate.insert(h.path.clone(), lib.clone());
            plan.helpers.push(h);
        }
        for p in s.params {
            def_crate.insert(p.0.clone(), lib.clone());
            plan.params.push(p);
        }
        for i in s.interceptors {
            def_crate.insert(i.clone(), lib.clone());
            plan.interceptors.push(i);
        }
        plan.interceptor_ctors.extend(s.interceptor_ctors);
    }
    if def_crate.is_empty() {
        return plan;
    }
    let names: HashSet<&str> = def_crate
        .keys()
        .filter_map(|p| p.last().map(String::as_str))
        .collect();
    for t in later {
        if names.iter().any(|n| t.1.contains(n)) {
            parsed.extend(parse(t));
        }
    }
    // Uses, and groups of crates joined by them.
    let mut group: HashMap<String, String> = HashMap::new();
    fn find(g: &mut HashMap<String, String>, x: &str) -> String {
        let mut cur = x.to_string();
        while let Some(p) = g.get(&cur) {
            if *p == cur {
                break;
            }
            cur = p.clone();
        }
        g.insert(x.to_string(), cur.clone());
        cur
    }
    let mut failed: HashSet<String> = HashSet::new();
    let mut per_crate_fail: Vec<String> = Vec::new();
    let mut http_crates: HashSet<String> = HashSet::new();
    for (cname, text, file, idx) in &parsed {
        let schema = ctx.get(cname).and_then(|c| c.schema.clone());
        let lib = cname.replace('-', "_");
        let s = channel::scan(schema.as_deref(), file, idx, text, &lib, Some(&plan));
        for r in &s.refs {
            if let Some(d) = def_crate.get(r) {
                let a = find(&mut group, &lib);
                let b = find(&mut group, d);
                if a != b {
                    group.insert(a, b);
                }
            }
        }
        if s.uses_http {
            http_crates.insert(lib.clone());
        }
        if !s.failures.is_empty() {
            per_crate_fail.push(lib);
        }
    }
    for l in per_crate_fail {
        let g = find(&mut group, &l);
        failed.insert(g);
    }
    // Only groups with a helper (a source of channel values) change: `Channel` parameters and
    // interceptors alone are left to the code that builds the channels.
    let sources: HashSet<String> = plan
        .helpers
        .iter()
        .filter_map(|h| def_crate.get(&h.path).cloned())
        .collect();
    let mut involved = HashSet::new();
    for d in &sources {
        let g = find(&mut group, d);
        involved.insert(g);
    }
    let crates: Vec<String> = plan.file_crate.values().cloned().collect();
    for c in crates {
        let g = find(&mut group, &c);
        if involved.contains(&g) {
            plan.involved.insert(c.clone());
            if !failed.contains(&g) {
                if http_crates.contains(&c) {
                    plan.needs_http.insert(c.clone());
                }
                plan.converted.insert(c);
            }
        }
    }
    plan
}
