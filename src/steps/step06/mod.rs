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
use crate::options::ClientProtocol;
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker, UTree};
use crate::schema::{Schema, Service, StreamingKind};
use crate::steps::common::items::item_at;

mod calls;
pub mod channel;
mod construct;
mod derives;
mod fields;
mod helpers;
mod paths;
mod request_helpers;
mod responses;
mod walker;

use request_helpers::*;
use walker::*;

/// The shim function turning a request helper's `(message, CallOptions)` back into a tonic
/// request for a call still on a shim wrapper.
const REQUEST_FROM_OPTIONS: &str = "connect_shim::client::request_from_options";

/// The protocol of the clients the step builds: the run's `--protocol`
/// ([`crate::options::RunOptions::protocol`]), which [`prepare`] keeps in every crate's context
/// (gRPC without it: a file processed without the step's preparation).
fn protocol(ctx: &CrateCtx) -> ClientProtocol {
    ctx.plan::<ClientProtocol>().copied().unwrap_or_default()
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

/// The report of a client type kept on a tonic channel with a tonic interceptor (message,
/// note): the first run's, and a later run's that finds it kept.
const INTERCEPTED_TYPE: (&str, &str) = (
    "client on a tonic channel with a tonic interceptor, through connect_shim::client::ChannelTransport",
    "move static headers to `ClientConfig::with_default_header`, per-call ones to `CallOptions`, then build the client on `HttpClient`",
);

/// The report of a client built with a tonic interceptor (message, note), kept on the channel.
const INTERCEPTOR: (&str, &str) = (
    "tonic client interceptor kept on the tonic channel (connect_shim::client::ChannelTransport)",
    "an interceptor that only adds fixed headers becomes `ClientConfig::with_default_header(..)`; per-call values go to `CallOptions` (`_with_options` methods)",
);

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    item_at(offset, format!("{RULE}/{rule}"), kind, message, note)
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

/// The segment before a method's name in a [`client_items_of_file`] entry for a method of an
/// inherent impl (`impl Client { fn version(&self) -> VersionClient<Channel> }`): `impl Client`.
/// A method call is matched by its name alone (the receiver's type is not known), and only when
/// every such method of that name in the workspace returns the same service.
pub(crate) const METHOD_MARK: &str = "impl ";

/// The service of a method call `recv.name(..)` by the methods of the workspace's inherent impls
/// returning a client ([`METHOD_MARK`]): one service for every method of that name, else none.
pub(crate) fn method_service<'k>(
    known: &'k [(Vec<String>, String)],
    name: &str,
) -> Option<&'k str> {
    let mut found = known.iter().filter(|(k, _)| {
        k.len() >= 2 && k[k.len() - 1] == name && k[k.len() - 2].starts_with(METHOD_MARK)
    });
    let (_, first) = found.next()?;
    found.all(|(_, s)| s == first).then_some(first.as_str())
}

/// Type aliases of tonic clients, functions returning one, and methods of inherent impls
/// returning one, in one parsed file.
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
                syn::Item::Impl(i) => {
                    impl_methods(i, cx, tr);
                    continue;
                }
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
            let mut full = module_base(cx, tr);
            full.push(name);
            cx.4.push((full, svc));
        }
    }
    /// The crate-absolute path of the module `tr` is in (the crate's name at the root).
    fn module_base(cx: &Cx<'_>, tr: &ScopeTracker) -> Vec<String> {
        let mut full = absolute(cx.1.module_path(tr.current()), cx.2);
        if full.is_empty() {
            full.push(cx.2.unwrap_or("crate").to_string());
        }
        full
    }
    /// Methods (with a `self` receiver) of an inherent impl returning a client: recorded under
    /// the impl's module, `impl T` and the method's name (see [`METHOD_MARK`]).
    fn impl_methods(i: &syn::ItemImpl, cx: &mut Cx<'_>, tr: &ScopeTracker) {
        let Some(self_ty) = type_path(&i.self_ty).and_then(|p| p.segments.last()) else {
            return;
        };
        if i.trait_.is_some() {
            return;
        }
        for it in &i.items {
            let syn::ImplItem::Fn(f) = it else { continue };
            let (Some(_), syn::ReturnType::Type(_, ty)) = (f.sig.receiver(), &f.sig.output) else {
                continue;
            };
            let Some(svc) = client_of_type(cx.0, cx.1, tr, ty, cx.2, cx.3) else {
                continue;
            };
            let mut full = module_base(cx, tr);
            full.push(format!("{METHOD_MARK}{}", self_ty.ident));
            full.push(f.sig.ident.to_string());
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
    out.items.extend(no_schema_items(ws, &out.ctx));
    let table = client_items_table(ws, &out.ctx);
    for ctx in out.ctx.values_mut() {
        if let Some(c) = std::sync::Arc::get_mut(ctx) {
            c.client_items = table.clone();
        }
    }
    let plan = std::sync::Arc::new(channel_plan(ws, &out.ctx));
    let protocol = std::sync::Arc::new(ws.options.protocol);
    for ctx in out.ctx.values_mut() {
        if let Some(c) = std::sync::Arc::get_mut(ctx) {
            c.set_plan(plan.clone());
            c.set_plan(protocol.clone());
        }
    }
    out.manifests = manifest_edits(ws, &out.ctx, &plan);
    out
}

/// Crates calling tonic clients that the step cannot see the schema of: listed, not skipped.
fn no_schema_items(
    ws: &crate::workspace::Workspace,
    ctx: &HashMap<String, std::sync::Arc<CrateCtx>>,
) -> Vec<crate::report::ItemReport> {
    let mut items = Vec::new();
    for c in &ws.crates {
        if ctx.get(&c.name).is_some_and(|x| x.schema.is_some()) || c.tonic_req.is_none() {
            continue;
        }
        let calls = c.files.iter().any(|f| {
            std::fs::read(&f.path).is_ok_and(|b| memchr::memmem::find(&b, b"_client::").is_some())
        });
        if !calls {
            continue;
        }
        items.push(crate::report::ItemReport {
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
    items
}

/// The workspace's type aliases of tonic clients and functions returning one (see
/// [`client_items_of_file`]), in two rounds: aliases may name aliases of other crates.
fn client_items_table(
    ws: &crate::workspace::Workspace,
    ctx: &HashMap<String, std::sync::Arc<CrateCtx>>,
) -> Vec<(Vec<String>, String)> {
    let mut table: Vec<(Vec<String>, String)> = Vec::new();
    let mut parsed: Vec<(String, syn::File, FileIndex)> = Vec::new();
    for c in &ws.crates {
        let Some(cx) = ctx.get(&c.name) else {
            continue;
        };
        if cx.schema.is_none() {
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
            let Some(schema) = ctx.get(cname).and_then(|c| c.schema.clone()) else {
                continue;
            };
            let lib = cname.replace('-', "_");
            client_items_of_file(&schema, file, idx, Some(&lib), &table, &mut found);
        }
        found.sort();
        found.dedup();
        table = found;
    }
    table
}

/// The dependencies converted clients need (connectrpc, the shim, http, connectrpc-health,
/// connectrpc-reflection), and http where `tonic::transport::Uri` is renamed.
fn manifest_edits(
    ws: &crate::workspace::Workspace,
    ctx: &HashMap<String, std::sync::Arc<CrateCtx>>,
    plan: &channel::Plan,
) -> Vec<(std::path::PathBuf, String, String)> {
    use crate::manifest::{self, DepKind, NewDep};
    let mut manifests = manifest::ManifestEdits::new(ws.root.join("Cargo.toml"));
    for c in &ws.crates {
        // `tonic::transport::Uri` is http's `Uri`: the step-6 rule renames it in any crate.
        let uri = c.files.iter().any(|f| names_tonic_uri(&f.path));
        let deps = if ctx.contains_key(&c.name) {
            let Some(deps) = client_deps(ws, c, plan, uri) else {
                continue;
            };
            deps
        } else if uri {
            vec![NewDep::new("http", "1", &[], DepKind::Normal)]
        } else {
            continue;
        };
        let Ok(member) = std::fs::read_to_string(&c.manifest_path) else {
            continue;
        };
        let root_cur = manifests.root_for(&c.manifest_path);
        let dirs = (c.dir.as_path(), ws.root.as_path());
        if let Ok((m, r)) = manifest::add_deps_in(&member, root_cur.as_deref(), &deps, Some(dirs)) {
            manifests.record(&c.manifest_path, member, m, r);
        }
    }
    manifests.finish()
}

/// What crate `c` (past step 1) needs for its converted clients; `None` when it calls none
/// and needs no `http`.
fn client_deps(
    ws: &crate::workspace::Workspace,
    c: &crate::workspace::Crate,
    plan: &channel::Plan,
    uri: bool,
) -> Option<Vec<crate::manifest::NewDep>> {
    use crate::manifest::{DepKind, NewDep};
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
        return None;
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
        // tonic-health's client moves to connectrpc-health's (helpers/health.rs).
        deps.push(NewDep::new(
            "connectrpc-health",
            "0.9",
            &[],
            DepKind::Normal,
        ));
    }
    if reflection {
        // tonic-reflection's client moves to connectrpc-reflection's (helpers/reflection.rs).
        deps.push(NewDep::new(
            "connectrpc-reflection",
            "0.9",
            &["client"],
            DepKind::Normal,
        ));
    }
    Some(deps)
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
    // A macro of the user's (or a dependency's) invoked here expands against this file's
    // imports (`macro_rules!` paths resolve at the call site: containerd's `with_namespace!`
    // writes `Request::new($req)`): they stay.
    if invokes_foreign_macro(file.file) {
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

/// Whether `f` invokes a bang macro that is not one of the standard library's or of the
/// macros whose input is plain Rust (logging, `tokio::select!`): one that may name the file's
/// imports in its expansion.
fn invokes_foreign_macro(f: &syn::File) -> bool {
    const KNOWN: &[&str] = &[
        "println",
        "print",
        "eprintln",
        "eprint",
        "format",
        "format_args",
        "write",
        "writeln",
        "vec",
        "assert",
        "assert_eq",
        "assert_ne",
        "debug_assert",
        "debug_assert_eq",
        "debug_assert_ne",
        "panic",
        "todo",
        "unimplemented",
        "unreachable",
        "matches",
        "include",
        "include_str",
        "include_bytes",
        "concat",
        "env",
        "option_env",
        "stringify",
        "dbg",
        "select",
        "join",
        "try_join",
        "pin",
        "ready",
        "cfg_if",
        "info",
        "debug",
        "warn",
        "error",
        "trace",
        "event",
        "span",
        "info_span",
        "debug_span",
        "trace_span",
        "json",
        "anyhow",
        "bail",
        "ensure",
        "include_proto",
        "include_file_descriptor_set",
        "thread_local",
        "line",
        "file",
        "column",
        "module_path",
        "compile_error",
        "macro_rules",
    ];
    struct Find(bool);
    impl<'ast> syn::visit::Visit<'ast> for Find {
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            let name = m.path.segments.last().map(|s| s.ident.to_string());
            if name.is_some_and(|n| !KNOWN.contains(&n.as_str())) {
                self.0 = true;
            }
        }
    }
    let mut v = Find(false);
    syn::visit::Visit::visit_file(&mut v, f);
    v.0
}

impl ClientsPass<'_> {
    fn rewrite(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let protocol = protocol(self.ctx);
        let chan = channel::run(self.ctx, protocol, file, out).unwrap_or_default();
        helpers::run(file, out, &chan, protocol);
        // A crate without a schema of its own still has its tonic clients listed (walker.rs:
        // `unmigrated_client`): they come from another crate's stubs or checked-in code.
        let no_schema = Schema::default();
        let schema = self.ctx.schema.as_deref().unwrap_or(&no_schema);
        // A file may call a client held in a struct field without naming a client type
        // (fields.rs): every file of a crate with a schema is walked.
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
        // Services built on a kept tonic channel in this file (construct.rs): their client types'
        // `Channel` arguments follow (paths.rs), found by one walk and written by the next.
        let mut channel_kept: HashSet<String> = HashSet::new();
        let mut left: HashSet<String> = HashSet::new();
        let mut left_items: Vec<ManualItem> = Vec::new();
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
                struct_vars: vec![HashMap::new()],
                self_ty: Vec::new(),
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
                protocol,
                channel_kept: &channel_kept,
                kept_found: HashSet::new(),
                native_found: HashSet::new(),
                left: &left,
                left_found: HashSet::new(),
                left_items: Vec::new(),
            };
            w.visit_file(file.file);
            // A service also built natively in the file keeps its types as they were (mixed).
            let native = std::mem::take(&mut w.native_found);
            let mut found = std::mem::take(&mut w.kept_found);
            found.retain(|s| !native.contains(s));
            let done = w.helper_done.borrow().clone();
            let bad: Vec<usize> = (0..helpers.len())
                .filter(|&i| done[i] != helpers[i].uses)
                .collect();
            let retype = !found.is_subset(&channel_kept);
            let leave = !w.left_found.is_subset(&left);
            let (left_found, mut listed) = (
                std::mem::take(&mut w.left_found),
                std::mem::take(&mut w.left_items),
            );
            if !bad.is_empty() || retype || leave {
                left.extend(left_found);
                left_items.append(&mut listed);
                channel_kept.extend(found);
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
            out.items.extend(left_items);
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
    /// Per function: local names bound to crate structs -> the struct's path (fields.rs).
    struct_vars: Vec<HashMap<String, Vec<String>>>,
    /// The type of `self` in the `impl` blocks being visited, when a crate struct.
    self_ty: Vec<Option<Vec<String>>>,
    /// Ranges replaced wholesale (paths inside them are not edited again).
    replaced: Vec<Range<usize>>,
    done_ctor: HashSet<usize>,
    /// The body of the function being visited (for use counts).
    fn_bodies: Vec<&'ast syn::Block>,
    /// Converted channel values and interceptors of the file (channel.rs).
    chan: &'a channel::FileScan,
    /// The protocol of the clients built ([`protocol`]).
    protocol: ClientProtocol,
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
    /// Services whose clients this file builds on a kept tonic channel: their types'
    /// `Channel` argument is `ChannelTransport<Channel>` (the previous walk's findings).
    channel_kept: &'a HashSet<String>,
    /// The services this walk built on a kept tonic channel, and natively.
    kept_found: HashSet<String>,
    native_found: HashSet<String>,
    /// Services whose clients stay on tonic in this file: a construction of theirs that the
    /// step cannot rewrite (a custom `with_origin` service, `connect` not awaited in place):
    /// none of their types, calls or imports change (the previous walk's findings).
    left: &'a HashSet<String>,
    /// The services this walk found such a construction of, and what was listed for it.
    left_found: HashSet<String>,
    left_items: Vec<ManualItem>,
}

/// The workspace's channel plan (channel.rs): helpers, `Channel` parameters and interceptors,
/// and the groups of crates converted.
fn channel_plan(
    ws: &crate::workspace::Workspace,
    ctx: &HashMap<String, std::sync::Arc<CrateCtx>>,
) -> channel::Plan {
    let protocol = ws.options.protocol;
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
        let s = channel::scan(schema.as_deref(), file, idx, text, &lib, None, protocol);
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
        let s = channel::scan(
            schema.as_deref(),
            file,
            idx,
            text,
            &lib,
            Some(&plan),
            protocol,
        );
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

#[cfg(test)]
mod tests;
