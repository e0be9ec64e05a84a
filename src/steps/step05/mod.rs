//! Step 5: `main` on the Connect server.
//!
//! Recognised through name resolution (the file's imports, aliases, full paths), in tonic
//! 0.12/0.13/0.14 spellings:
//!
//! - a `Server::builder()` chain ending in `serve`, `serve_with_shutdown`,
//!   `serve_with_incoming` or `serve_with_incoming_shutdown` becomes `axum::serve(listener, app)`
//!   (HTTP/1.1 and h2c), `.with_graceful_shutdown(signal)` for the shutdown forms. The app is
//!   `connect_shim::hosting::connect_app(service)`, or `mixed_app(routes, service)` when services
//!   that are still tonic services stay on the same port (`tonic::service::Routes`), with peer
//!   addresses from axum's connect info. The service is one `connectrpc::Router`: each connect
//!   service that step 2 hosted through `connect_shim::tonic_hosted!` is added to it directly,
//!   health and reflection routers are merged; `.timeout(d)` becomes a `DeadlinePolicy` on a
//!   `ConnectRpcService`; `accept_http1` and tonic-web's `GrpcWebLayer` go (HTTP/1.1 and gRPC-Web
//!   are native); other tower layers move onto the axum app (reported: a layer naming tonic's
//!   body type must be rewritten); server options without an axum equivalent are dropped and
//!   reported; a chain with `tls_config` is left alone and reported;
//! - `tonic_health::server::health_reporter()` becomes `connectrpc_health::install_static(..)`
//!   (a health router and its `StaticChecker`), `set_serving::<S>()` / `set_not_serving::<S>()`
//!   register the service and set its status;
//! - `tonic_reflection::server::Builder::configure()...build_v1()` / `build_v1alpha()` becomes a
//!   `connectrpc-reflection` router for that protocol version, from the same descriptor sets.
//!
//! Before:
//! ```text
//! Server::builder()
//!     .accept_http1(true)
//!     .layer(GrpcWebLayer::new())
//!     .add_service(connect_shim::tonic_hosted!(pb::GREETER_SERVICE_NAME,
//!         connectrpc::Router::new().add_service(std::sync::Arc::new(greeter))))
//!     .serve_with_incoming(TcpListenerStream::new(listener))
//!     .await?;
//! ```
//! After:
//! ```text
//! axum::serve(
//!     listener,
//!     connect_shim::hosting::connect_app(
//!         connectrpc::Router::new()
//!             .add_service(std::sync::Arc::new(greeter)),
//!     )
//!     .into_make_service_with_connect_info::<std::net::SocketAddr>(),
//! )
//! .await?;
//! ```

mod definition;
pub use definition::DEFINITION;

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::context::CrateCtx;
use crate::edit::{indent_at, line_col, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Need, Pass, PassOutput, When};
use crate::manifest::{DepKind, NewDep};
use crate::resolve::{range, FileIndex, Resolution, Resolved, ScopeTracker, Via};
use crate::schema::Schema;
use crate::steps::common::items::item_at;
use crate::steps::common::stubs;
use crate::steps::common::syntax::strip_parens;

/// Server builder options with no equivalent on `axum::serve`: dropped and reported.
const DROPPED_OPTIONS: [&str; 22] = [
    "concurrency_limit_per_connection",
    "max_concurrent_streams",
    "initial_stream_window_size",
    "initial_connection_window_size",
    "http2_adaptive_window",
    "http2_keepalive_interval",
    "http2_keepalive_timeout",
    "http2_max_pending_accept_reset_streams",
    "http2_max_local_error_reset_streams",
    "http2_max_header_list_size",
    "max_connection_age",
    "max_connection_age_grace",
    "tcp_keepalive",
    "tcp_keepalive_interval",
    "tcp_keepalive_retries",
    "tcp_nodelay",
    "max_frame_size",
    "load_shed",
    "trace_fn",
    "timeout_layer",
    "max_local_error_reset_streams",
    "http2_keepalive_while_idle",
];

/// tonic's `Server::builder`, by its two paths.
const SERVER_BUILDER: &[&[&str]] = &[
    &["tonic", "transport", "Server", "builder"],
    &["tonic", "transport", "server", "Server", "builder"],
];

const SERVE_METHODS: [&str; 4] = [
    "serve",
    "serve_with_shutdown",
    "serve_with_incoming",
    "serve_with_incoming_shutdown",
];

/// The step-5 pass.
pub struct HostingPass<'a> {
    pub ctx: Option<&'a CrateCtx>,
}

impl Pass for HostingPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let mut w = Walker {
            schema: self.ctx.and_then(|c| c.schema.as_deref()),
            file,
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            out,
            reporters: HashSet::new(),
            health_converted: false,
            helpers: Vec::new(),
            pending: None,
            routers: HashSet::new(),
            intercepted: HashSet::new(),
            intercepted_hosted: HashMap::new(),
            hosted: HashMap::new(),
            chain_extra: Vec::new(),
            replaced: Vec::new(),
            kept: Vec::new(),
            consumed: HashSet::new(),
            impl_future_params: HashMap::new(),
            untyped_parses: HashMap::new(),
            deferred_at: None,
        };
        w.visit_file(file.file);
        w.convert_helpers();
        w.remove_unused_imports();
        declare_needs(out);
    }
}

/// The dependencies the new code needs, each when the step wrote what names it: `axum` for
/// `axum::serve(..)`, `connectrpc-health` and `connectrpc-reflection` for their routers.
fn declare_needs(out: &mut PassOutput) {
    let needs = [
        (
            NewDep::new("axum", "0.8", &["http1", "http2", "tokio"], DepKind::Normal),
            "axum::serve(",
        ),
        (
            NewDep::new("connectrpc-health", "0.9", &[], DepKind::Normal),
            "connectrpc_health::",
        ),
        (
            NewDep::new("connectrpc-reflection", "0.9", &[], DepKind::Normal),
            "connectrpc_reflection::",
        ),
    ];
    for (dep, witness) in needs {
        out.need(Need::Dependency(dep), When::Writes(witness));
    }
}

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    item_at(offset, format!("step05/{rule}"), kind, message, note)
}

struct Walker<'a, 's> {
    schema: Option<&'s Schema>,
    file: &'a FileCtx<'a>,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'a mut PassOutput,
    /// Names bound to a health reporter (now an `Arc<StaticChecker>`).
    reporters: HashSet<String>,
    /// A `health_reporter()` of the file was converted (its reporter is a `StaticChecker` now).
    health_converted: bool,
    /// Functions of the file taking tonic's `HealthReporter`, converted with the file's reporter.
    helpers: Vec<ReporterHelper>,
    /// While in such a function: its edits, held until the file's reporter is converted.
    pending: Option<Vec<Edit>>,
    /// Names bound to a connect router made by this step (health, reflection, hosted services).
    routers: HashSet<String>,
    /// Names bound to a tonic `InterceptedService`.
    intercepted: HashSet<String>,
    /// `let x = InterceptedService::new(tonic_hosted!(NAME, router), f);`: x -> the initialiser's
    /// range, NAME, the router and `f` (written out again when the chain hosts x natively).
    intercepted_hosted: HashMap<String, (Range<usize>, String, String, String)>,
    /// `let x = connect_shim::tonic_hosted!(NAME, router);`: x -> the initialiser's range and the
    /// router's text (`let x = router;` is written when a converted chain hosts x, with it).
    hosted: HashMap<String, (Range<usize>, String)>,
    /// Edits that go with the server chain's (made only if it is rewritten).
    chain_extra: Vec<Edit>,
    /// Source ranges the step replaced, and the parts of them it wrote out again verbatim.
    replaced: Vec<Range<usize>>,
    kept: Vec<Range<usize>>,
    /// Builder calls (`Server::builder()`) already handled or reported.
    consumed: HashSet<usize>,
    /// Parameters of the enclosing function typed `impl Future<..>`: name -> the type's range.
    impl_future_params: HashMap<String, Range<usize>>,
    /// `let addr = "..".parse()..;` in the enclosing function (no type written, a `parse()`
    /// without turbofish): name -> the end of the bound identifier. tonic's `serve(addr)` gave
    /// the parse its type (`SocketAddr`); `TcpListener::bind(addr)` does not.
    untyped_parses: HashMap<String, usize>,
    /// The start of a `let` initialiser that is a server chain not awaited where it is built
    /// (`let serve = Server::builder()..serve(addr);`, awaited or spawned later).
    deferred_at: Option<usize>,
}

/// A function taking tonic's `HealthReporter` (`async fn twiddle(reporter: HealthReporter)`,
/// called with the file's reporter): its parameters' types and the edits of its body.
struct ReporterHelper {
    /// The function's name (where it is listed when not converted).
    at: usize,
    name: String,
    /// The reporter parameters' type ranges.
    types: Vec<Range<usize>>,
    /// Its `set_serving` / `set_not_serving` statements, rewritten.
    edits: Vec<Edit>,
}

/// The type of a reporter parameter: `connectrpc_health::install_static` hands out this.
const CHECKER_TYPE: &str = "std::sync::Arc<connectrpc_health::StaticChecker>";

/// The end of `parse` in a `..parse()` call without turbofish that `e` is, or whose result `e`
/// unwraps (`.parse().unwrap()`, `.parse()?`, `.parse().expect(..)`).
fn untyped_parse(e: &syn::Expr) -> Option<usize> {
    match strip_parens(e) {
        syn::Expr::MethodCall(mc) if mc.method == "parse" && mc.args.is_empty() => {
            mc.turbofish.is_none().then(|| range(mc.method.span()).end)
        }
        syn::Expr::MethodCall(mc) if mc.method == "unwrap" || mc.method == "expect" => {
            untyped_parse(&mc.receiver)
        }
        syn::Expr::Try(t) => untyped_parse(&t.expr),
        _ => None,
    }
}

/// One `.method(args)` of a chain.
struct Link<'e> {
    method: String,
    args: Vec<&'e syn::Expr>,
    turbofish: bool,
    /// From the `.` to the closing parenthesis.
    at: usize,
}

/// A method-call chain: its root expression and its links, in order.
fn chain_of(e: &syn::Expr) -> (&syn::Expr, Vec<Link<'_>>) {
    let mut links = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            syn::Expr::MethodCall(mc) => {
                links.push(Link {
                    method: mc.method.to_string(),
                    args: mc.args.iter().collect(),
                    turbofish: mc.turbofish.is_some(),
                    at: range(mc.dot_token.span).start,
                });
                cur = &mc.receiver;
            }
            // `.tls_config(..)?` in the middle of a server chain.
            syn::Expr::Try(t) if matches!(&*t.expr, syn::Expr::MethodCall(_)) => cur = &t.expr,
            _ => break,
        }
    }
    links.reverse();
    (cur, links)
}

/// The identifier of a plain local (`x`), if the expression is one.
fn local_name(e: &syn::Expr) -> Option<String> {
    match strip_parens(e) {
        syn::Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1 => {
            let s = &p.path.segments[0];
            s.arguments.is_none().then(|| s.ident.to_string())
        }
        _ => None,
    }
}

/// Where a connect service of the chain goes.
enum Part {
    /// `.add_service(<text>)` on the connect router.
    Add(String),
    /// `.merge(<text>)`: a router.
    Merge(String),
}

impl<'a, 's> Walker<'a, 's> {
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

    fn expr_text(&mut self, e: &syn::Expr) -> String {
        let r = range(e.span());
        self.kept.push(r.clone());
        self.text[r].to_string()
    }

    fn resolve_one(&self, path: &syn::Path) -> Option<Resolved> {
        match self.idx.resolve(self.tr.current(), path)? {
            Resolution::One(r) => Some(r),
            Resolution::Ambiguous(_) => None,
        }
    }

    /// The crate-absolute path a path expression or a call's function resolves to.
    fn path_of(&self, e: &syn::Expr) -> Option<Vec<String>> {
        let e = strip_parens(e);
        let p = match e {
            syn::Expr::Path(p) if p.qself.is_none() => &p.path,
            syn::Expr::Call(c) => return self.path_of(&c.func),
            _ => return None,
        };
        Some(self.resolve_one(p)?.full)
    }

    fn path_is(&self, e: &syn::Expr, candidates: &[&[&str]]) -> bool {
        self.path_of(e).is_some_and(|full| {
            candidates
                .iter()
                .any(|c| full.len() == c.len() && full.iter().zip(c.iter()).all(|(a, b)| a == b))
        })
    }

    fn is_server_builder(&self, e: &syn::Expr) -> bool {
        let syn::Expr::Call(c) = strip_parens(e) else {
            return false;
        };
        c.args.is_empty() && self.path_is(&c.func, SERVER_BUILDER)
    }

    /// A `Server::builder()` whose path a glob import in scope may provide instead of the
    /// crate it names (`use tracing_subscriber::prelude::*;` then
    /// `tonic::transport::Server::builder()`: the glob could hold a `tonic`): resolution does
    /// not decide it, so it is not converted, and it is listed.
    fn maybe_server_builder(&self, e: &syn::Expr) -> bool {
        let syn::Expr::Call(c) = strip_parens(e) else {
            return false;
        };
        let syn::Expr::Path(p) = strip_parens(&c.func) else {
            return false;
        };
        if !c.args.is_empty() || p.qself.is_some() {
            return false;
        }
        let candidates = match self.idx.resolve(self.tr.current(), &p.path) {
            Some(Resolution::One(r)) => vec![r],
            Some(Resolution::Ambiguous(v)) => v,
            None => return false,
        };
        let ends_with = |full: &[String], tail: &[&str]| {
            full.len() >= tail.len()
                && full[full.len() - tail.len()..]
                    .iter()
                    .zip(tail)
                    .all(|(a, b)| a == b)
        };
        candidates.iter().any(|r| {
            matches!(r.via, Via::Glob(_)) && SERVER_BUILDER.iter().any(|b| ends_with(&r.full, b))
        })
    }

    // -----------------------------------------------------------------------------------------
    // health and reflection

    /// `let (reporter, service) = tonic_health::server::health_reporter();`
    fn health_local(&mut self, l: &syn::Local) -> bool {
        let Some(init) = &l.init else {
            return false;
        };
        if init.diverge.is_some() {
            return false;
        }
        let syn::Expr::Call(c) = strip_parens(&init.expr) else {
            return false;
        };
        if !c.args.is_empty()
            || !self.path_is(&c.func, &[&["tonic_health", "server", "health_reporter"]])
        {
            return false;
        }
        let at = range(c.span()).start;
        let syn::Pat::Tuple(t) = &l.pat else {
            self.report(
                at,
                "health",
                ItemKind::Manual,
                "tonic-health reporter not converted: its result is not destructured into `(reporter, service)`".into(),
                "use `let (health_router, checker) = connectrpc_health::install_static(router, [NAMES]);` and merge the router into the connect router",
            );
            return true;
        };
        let names: Vec<Option<(String, Range<usize>)>> = t
            .elems
            .iter()
            .map(|p| match p {
                syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    Some((pi.ident.to_string(), range(pi.span())))
                }
                syn::Pat::Wild(w) => Some(("_".into(), range(w.span()))),
                _ => None,
            })
            .collect();
        let (Some(Some((rep, _))), Some(Some((svc, _))), 2) =
            (names.first().cloned(), names.get(1).cloned(), names.len())
        else {
            self.report(
                at,
                "health",
                ItemKind::Manual,
                "tonic-health reporter not converted: unusual pattern".into(),
                "use `connectrpc_health::install_static(router, [NAMES])`",
            );
            return true;
        };
        if self.suppressed(at) {
            return true;
        }
        let pat = range(l.pat.span());
        let rule = "step05/health";
        let edits = vec![
            Edit::replace(pat.clone(), format!("({svc}, {rep})"), rule),
            Edit::replace(
                range(c.span()),
                "connectrpc_health::install_static(connectrpc::Router::new(), std::iter::empty::<&str>())",
                rule,
            ),
        ];
        if self.out.commit(edits).is_ok() {
            self.replaced.push(range(c.span()));
            self.reporters.insert(rep);
            self.routers.insert(svc);
            self.health_converted = true;
        }
        true
    }

    /// The parameters of `sig` typed tonic's `HealthReporter` (or a reference to it): name and
    /// the range of the `HealthReporter` path.
    fn reporter_params(&self, sig: &syn::Signature) -> Vec<(String, Range<usize>)> {
        let mut out = Vec::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            let syn::Pat::Ident(pi) = &*pt.pat else {
                continue;
            };
            let ty = match &*pt.ty {
                syn::Type::Reference(r) => &*r.elem,
                t => t,
            };
            let syn::Type::Path(tp) = ty else {
                continue;
            };
            if tp.qself.is_some() {
                continue;
            }
            let is_reporter = self.resolve_one(&tp.path).is_some_and(|r| {
                let full: Vec<&str> = r.full.iter().map(String::as_str).collect();
                matches!(
                    full.as_slice(),
                    ["tonic_health", "server", "HealthReporter"]
                        | ["tonic_health", "HealthReporter"]
                )
            });
            if is_reporter {
                out.push((pi.ident.to_string(), range(tp.span())));
            }
        }
        out
    }

    /// Visits a function taking tonic's `HealthReporter`: its reporter calls are rewritten like
    /// those on the file's own reporter, held until the end of the file.
    fn visit_reporter_helper(
        &mut self,
        sig: &syn::Signature,
        params: Vec<(String, Range<usize>)>,
        body: impl FnOnce(&mut Self),
    ) {
        let saved_reporters = self.reporters.clone();
        let saved_pending = self.pending.replace(Vec::new());
        self.reporters.extend(params.iter().map(|(n, _)| n.clone()));
        body(self);
        let edits = std::mem::replace(&mut self.pending, saved_pending).unwrap_or_default();
        self.reporters = saved_reporters;
        self.helpers.push(ReporterHelper {
            at: range(sig.ident.span()).start,
            name: sig.ident.to_string(),
            types: params.into_iter().map(|(_, r)| r).collect(),
            edits,
        });
    }

    /// The functions taking tonic's `HealthReporter`: converted (parameter types and their
    /// reporter calls) when the file's `health_reporter()` was, else listed: the reporter they
    /// are given is still tonic's.
    fn convert_helpers(&mut self) {
        for h in std::mem::take(&mut self.helpers) {
            if !self.health_converted {
                self.report(
                    h.at,
                    "health",
                    ItemKind::Manual,
                    format!("`{}` takes tonic-health's `HealthReporter` and was not converted: no `health_reporter()` of this file was converted", h.name),
                    "convert it with the reporter it is given: its parameter becomes `Arc<connectrpc_health::StaticChecker>`, `set_serving::<S>()` becomes `set_status(NAME, connectrpc_health::Status::Serving)`",
                );
                continue;
            }
            let mut edits = h.edits;
            edits.extend(
                h.types
                    .iter()
                    .map(|t| Edit::replace(t.clone(), CHECKER_TYPE, "step05/health")),
            );
            let ranges: Vec<Range<usize>> = edits.iter().map(|e| e.range.clone()).collect();
            match self.out.commit(edits) {
                Ok(()) => self.replaced.extend(ranges),
                Err(o) => self.report(
                    h.at,
                    "health",
                    ItemKind::Manual,
                    format!("`{}` takes tonic-health's `HealthReporter` and was not converted: {o}", h.name),
                    "its parameter becomes `Arc<connectrpc_health::StaticChecker>`, `set_serving::<S>()` becomes `set_status(NAME, connectrpc_health::Status::Serving)`",
                ),
            }
        }
    }

    /// `reporter.set_serving::<S>().await;` as a statement.
    fn health_call(&mut self, stmt: &syn::Stmt) -> bool {
        let syn::Stmt::Expr(e, Some(_)) = stmt else {
            return false;
        };
        let syn::Expr::Await(aw) = strip_parens(e) else {
            return false;
        };
        let syn::Expr::MethodCall(mc) = strip_parens(&aw.base) else {
            return false;
        };
        let Some(recv) = local_name(&mc.receiver) else {
            return false;
        };
        if !self.reporters.contains(&recv) {
            return false;
        }
        let m = mc.method.to_string();
        let status = match m.as_str() {
            "set_serving" => "Serving",
            "set_not_serving" => "NotServing",
            _ => {
                self.report(
                    range(mc.method.span()).start,
                    "health",
                    ItemKind::Manual,
                    format!("`{recv}.{m}(..)` on the health reporter was not converted"),
                    "the reporter is a connectrpc_health::StaticChecker now: `register_with_status(name, status)`, `set_status(name, Status::X)`, `remove_service(name)` (synchronous)",
                );
                return true;
            }
        };
        let Some(ty) = mc
            .turbofish
            .as_ref()
            .and_then(|t| t.args.first())
            .and_then(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
        else {
            return false;
        };
        let name = self.service_name_of(ty);
        let at = range(stmt.span());
        if self.suppressed(at.start) {
            return true;
        }
        let ind = indent_at(self.text, at.start).to_string();
        let text = format!(
            "let _ = {recv}.register({name});\n{ind}{recv}.set_status({name}, connectrpc_health::Status::{status}).ok();"
        );
        let edit = Edit::replace(at.clone(), text, "step05/health");
        if let Some(pending) = &mut self.pending {
            pending.push(edit);
        } else if self.out.commit(vec![edit]).is_ok() {
            self.replaced.push(at);
        }
        true
    }

    /// The proto service name of a tonic server type: its `<SVC>_SERVICE_NAME` constant when the
    /// schema knows it, else tonic's `NamedService::NAME`.
    fn service_name_of(&mut self, ty: &syn::Type) -> String {
        if let (syn::Type::Path(tp), Some(schema)) = (ty, self.schema) {
            if tp.qself.is_none() {
                let mut p = tp.path.clone();
                if let Some(last) = p.segments.last_mut() {
                    last.arguments = syn::PathArguments::None;
                }
                if let Some(r) = self.resolve_one(&p) {
                    let segs: Vec<&str> = r.full.iter().map(String::as_str).collect();
                    let full = self.idx.canonical(r.full.clone());
                    if let Ok(Some(svc)) = stubs::server_service(self.file, schema, &full) {
                        if segs.last() == Some(&svc.tonic_server.as_str()) {
                            if let Some(prefix) = self.package_prefix(&p, &r) {
                                return format!("{prefix}::{}", svc.connect_service_name_const);
                            }
                        }
                    }
                }
            }
        }
        let r = range(ty.span());
        self.kept.push(r.clone());
        format!("<{} as tonic::server::NamedService>::NAME", self.src(r))
    }

    /// How to write the package module of `pkg::x_server::XServer` at this site.
    fn package_prefix(&self, path: &syn::Path, r: &Resolved) -> Option<String> {
        let n = path.segments.len();
        let lead = if path.leading_colon.is_some() {
            "::"
        } else {
            ""
        };
        if n >= 3 {
            let segs: Vec<String> = path
                .segments
                .iter()
                .take(n - 2)
                .map(|s| s.ident.to_string())
                .collect();
            return Some(format!("{lead}{}", segs.join("::")));
        }
        if let Via::Import(leaf) = r.via {
            let l = &self.idx.leaves[leaf];
            // `use a::b::x_server::XServer;` written path + `n - 1` more segments.
            let drop = 3 - n;
            if l.written.len() > drop && l.written.first().map(String::as_str) != Some("self") {
                let lead = if l.leading_colon { "::" } else { "" };
                return Some(format!(
                    "{lead}{}",
                    l.written[..l.written.len() - drop].join("::")
                ));
            }
        }
        None
    }

    /// `Builder::configure()...build_v1()` (tonic-reflection): the replacement text, or why not.
    fn reflection_text(&mut self, e: &syn::Expr) -> Option<Result<String, String>> {
        let (root, links) = chain_of(strip_parens(e));
        let syn::Expr::Call(c) = strip_parens(root) else {
            return None;
        };
        if !c.args.is_empty()
            || !self.path_is(
                &c.func,
                &[&["tonic_reflection", "server", "Builder", "configure"]],
            )
        {
            return None;
        }
        let last = links.last()?;
        let ext = match last.method.as_str() {
            "build_v1" => "ServerReflectionExt",
            "build_v1alpha" | "build" => "ServerReflectionV1alphaExt",
            _ => return None,
        };
        let mut sets = Vec::new();
        let mut names = Vec::new();
        for l in &links[..links.len() - 1] {
            match (l.method.as_str(), l.args.as_slice()) {
                ("register_encoded_file_descriptor_set", [a]) => {
                    if self
                        .path_of(a)
                        .is_some_and(|p| p.first().is_some_and(|f| f == "tonic_health"))
                    {
                        self.report(
                            range(a.span()).start,
                            "reflection-health",
                            ItemKind::Manual,
                            "reflection still describes grpc.health.v1 from tonic-health's descriptor set (connectrpc-health exports none)".into(),
                            "nothing to do: step 9 points it at a grpc.health.v1 descriptor set it writes into the crate (connect_compat::HEALTH_FILE_DESCRIPTOR_SET)",
                        );
                    }
                    sets.push(self.expr_text(a))
                }
                ("with_service_name", [a]) => names.push(self.expr_text(a)),
                ("include_reflection_service", [_]) | ("use_all_service_names", [_]) => {}
                (m, _) => {
                    return Some(Err(format!(
                        "`.{m}(..)` on the reflection builder has no mechanical equivalent"
                    )))
                }
            }
        }
        let ind = indent_at(self.text, range(c.span()).start).to_string();
        let i1 = format!("{ind}    ");
        let mut s = format!(
            "connectrpc_reflection::Reflector::from_descriptor_set_bytes({})",
            sets.first().map_or("&[]", String::as_str)
        );
        for set in sets.iter().skip(1) {
            s.push_str(&format!(
                "\n{i1}.and_then(|mut reflector| reflector.add_descriptor_set_bytes({set}).map(|()| reflector))"
            ));
        }
        let reflector = if names.is_empty() {
            "reflector".to_string()
        } else {
            format!("reflector.with_services([{}])", names.join(", "))
        };
        s.push_str(&format!(
            "\n{i1}.map(|reflector| {{\n{i1}    connectrpc_reflection::{ext}::register(\n{i1}        std::sync::Arc::new(connectrpc_reflection::ReflectionService::new({reflector})),\n{i1}        connectrpc::Router::new(),\n{i1}    )\n{i1}}})"
        ));
        Some(Ok(s))
    }

    /// `let x = Builder::configure()...build_v1()?;`
    fn reflection_local(&mut self, l: &syn::Local) -> bool {
        let Some(init) = &l.init else {
            return false;
        };
        let mut e = strip_parens(&init.expr);
        // The builder's `build_*()` result: `?`, `.unwrap()`, `.expect(..)` stay as they are.
        let mut inner = e;
        loop {
            match inner {
                syn::Expr::Try(t) => inner = strip_parens(&t.expr),
                syn::Expr::MethodCall(mc)
                    if matches!(mc.method.to_string().as_str(), "unwrap" | "expect") =>
                {
                    inner = strip_parens(&mc.receiver)
                }
                _ => break,
            }
        }
        e = inner;
        let Some(res) = self.reflection_text(e) else {
            return false;
        };
        let at = range(e.span());
        if self.suppressed(at.start) {
            return true;
        }
        let syn::Pat::Ident(pi) = &l.pat else {
            self.report(
                at.start,
                "reflection",
                ItemKind::Manual,
                "tonic-reflection service not converted: unusual pattern".into(),
                "use `connectrpc_reflection::install(router, Reflector::from_descriptor_set_bytes(FDS)?)`",
            );
            return true;
        };
        match res {
            Ok(text) => {
                if self
                    .out
                    .commit(vec![Edit::replace(at.clone(), text, "step05/reflection")])
                    .is_ok()
                {
                    self.replaced.push(at);
                    self.routers.insert(pi.ident.to_string());
                }
            }
            Err(why) => self.report(
                at.start,
                "reflection",
                ItemKind::Manual,
                format!("tonic-reflection service not converted: {why}"),
                "build a connectrpc_reflection::Reflector from the encoded descriptor sets and register it on the connect router",
            ),
        }
        true
    }

    // -----------------------------------------------------------------------------------------
    // the server chain

    /// Is `e` (a method call) the end of a tonic server chain? Then handle it.
    fn server_chain(&mut self, e: &syn::Expr, awaited: Option<&syn::ExprAwait>) -> bool {
        let syn::Expr::MethodCall(mc) = strip_parens(e) else {
            return false;
        };
        if !SERVE_METHODS.contains(&mc.method.to_string().as_str()) {
            return false;
        }
        let (root, links) = chain_of(strip_parens(e));
        if !self.is_server_builder(root) {
            return false;
        }
        let root_at = range(root.span()).start;
        self.consumed.insert(root_at);
        if self.suppressed(root_at) {
            self.report(
                root_at,
                "server",
                ItemKind::Skipped,
                "tonic server left alone (ignore marker)".into(),
                "",
            );
            return true;
        }
        self.chain_extra.clear();
        let planned = self.plan_chain(e, root, &links, awaited);
        let extra = std::mem::take(&mut self.chain_extra);
        match planned {
            Ok((edit, items)) => {
                let r = edit.range.clone();
                let extra_ranges: Vec<Range<usize>> = extra.iter().map(|e| e.range.clone()).collect();
                let mut edits = vec![edit];
                edits.extend(extra);
                if let Err(o) = self.out.commit(edits) {
                    self.report(
                        root_at,
                        "server",
                        ItemKind::Manual,
                        format!("tonic server not converted: {o}"),
                        "serve a connectrpc Router through axum by hand",
                    );
                } else {
                    self.replaced.push(r);
                    self.replaced.extend(extra_ranges);
                    self.out.items.extend(items);
                }
            }
            Err(why) => self.report(
                root_at,
                "server",
                ItemKind::Manual,
                format!("tonic server not converted: {why}"),
                "serve the services from one connectrpc Router through axum::serve (see connect_shim::hosting::connect_app / mixed_app)",
            ),
        }
        true
    }

    fn plan_chain(
        &mut self,
        end: &syn::Expr,
        root: &syn::Expr,
        links: &[Link<'_>],
        awaited: Option<&syn::ExprAwait>,
    ) -> Result<(Edit, Vec<ManualItem>), String> {
        // A chain not converted keeps nothing its services recorded.
        let kept_before = self.kept.len();
        let planned = self.plan_server(end, root, links, awaited);
        if planned.is_err() {
            self.kept.truncate(kept_before);
        }
        planned
    }

    /// [`Self::plan_chain`] without the roll-back of `kept` on failure.
    fn plan_server(
        &mut self,
        end: &syn::Expr,
        root: &syn::Expr,
        links: &[Link<'_>],
        awaited: Option<&syn::ExprAwait>,
    ) -> Result<(Edit, Vec<ManualItem>), String> {
        let (serve, body) = links.split_last().ok_or("no serve call")?;
        let mut b = self.read_builder(root, body)?;
        // Where it listens, and when it stops.
        let tail = awaited.map(|a| {
            let end = range(a.span()).end;
            self.text[end..].trim_start().to_string()
        });
        // A future bound to a local and awaited later becomes an `async move` block serving
        // the same app: like tonic's `serve`, it binds when first polled; in it, `?` propagates
        // the bind error as the block's own.
        let deferred = awaited.is_none() && self.deferred_at == Some(range(end.span()).start);
        let tail = if deferred {
            Some("?".to_string())
        } else {
            tail
        };
        let listener = self.listener(serve, tail.as_deref(), &mut b.items)?;
        let signal = serve.args.get(1).map(|s| self.expr_text(s));
        if let Some(sig_expr) = serve.args.get(1) {
            self.shutdown_bound(sig_expr, &mut b.items);
        }
        if awaited.is_none() && !deferred {
            return Err("the server future is not awaited where it is built".into());
        }

        // The text.
        let start = range(root.span()).start;
        let mut endr = range(end.span()).end;
        let mut await_sep = String::new();
        if let Some(a) = awaited {
            let dot = range(a.dot_token.span).start;
            if dot >= endr && self.text[endr..dot].trim().is_empty() {
                if self.text[endr..dot].contains('\n') {
                    await_sep = format!("\n{}", indent_at(self.text, start));
                }
                endr = dot;
            }
        }
        let comments = self.chain_comments(start..endr, links);
        let outer = indent_at(self.text, start).to_string();
        let ind = if deferred {
            format!("{outer}    ")
        } else {
            outer.clone()
        };
        let i1 = format!("{ind}    ");
        let app = connect_app_text(&b, &ind);
        let comments = if deferred {
            comments.lines().map(|l| format!("    {l}\n")).collect()
        } else {
            comments
        };
        let mut text = format!(
            "axum::serve(\n{comments}{i1}{listener},\n{i1}{app}\n{i1}.into_make_service_with_connect_info::<std::net::SocketAddr>(),\n{ind})"
        );
        if let Some(s) = &signal {
            text.push_str(&format!("\n{ind}.with_graceful_shutdown({s})"));
        }
        text.push_str(&await_sep);
        if deferred {
            text = format!("async move {{\n{ind}{text}\n{ind}.await\n{outer}}}");
            b.items.push(item(
                start,
                "server",
                ItemKind::Manual,
                "the server future (awaited where it is used, not where it is built) is an `async move` block serving the connect app: its error is `std::io::Error` now, not `tonic::transport::Error`".into(),
                "code that names the error type of the future changes with it",
            ));
        }
        if b.timeout.is_some() && !b.tonic.is_empty() {
            b.items.push(item(
                start,
                "timeout",
                ItemKind::Manual,
                "`.timeout(..)` now applies to the connect services only (a DeadlinePolicy); the services still on tonic have none".into(),
                "move them to connect, or add a tower timeout layer on their routes",
            ));
        }
        Ok((Edit::replace(start..endr, text, "step05/server"), b.items))
    }

    /// The builder links before the serve call: services, layers, the timeout; options dropped
    /// (listed); anything else refused.
    fn read_builder(
        &mut self,
        root: &syn::Expr,
        body: &[Link<'_>],
    ) -> Result<ServerBuilder, String> {
        let mut b = ServerBuilder {
            parts: Vec::new(),
            tonic: Vec::new(),
            interceptors: Vec::new(),
            layers: Vec::new(),
            timeout: None,
            items: Vec::new(),
        };
        for l in body {
            match (l.method.as_str(), l.args.as_slice()) {
                ("add_service", [a]) => self.classify(
                    a,
                    &mut b.parts,
                    &mut b.tonic,
                    &mut b.interceptors,
                    &mut b.items,
                ),
                ("add_optional_service", [a]) => {
                    // `Some(x)` is an ordinary service; anything else needs an `if let`.
                    match strip_parens(a) {
                        syn::Expr::Call(c)
                            if c.args.len() == 1
                                && local_name(&c.func).as_deref() == Some("Some") =>
                        {
                            self.classify(
                                &c.args[0],
                                &mut b.parts,
                                &mut b.tonic,
                                &mut b.interceptors,
                                &mut b.items,
                            )
                        }
                        _ => {
                            return Err("`add_optional_service` with an `Option` that is not `Some(..)`: add it with `if let Some(s) = opt { router = router.add_service(..) }`".into());
                        }
                    }
                }
                ("accept_http1", [_]) => {}
                ("layer", [a]) => {
                    if self.path_is(a, &[&["tonic_web", "GrpcWebLayer", "new"]]) {
                        continue;
                    }
                    b.layers.push(self.expr_text(a));
                    b.items.push(item(
                        range(a.span()).start,
                        "layer",
                        ItemKind::Manual,
                        "this tower layer now wraps the axum app (requests carry `axum::body::Body`)".into(),
                        "check that it does not name tonic's body type; a tonic interceptor layer becomes a connectrpc Interceptor (`ConnectRpcService::with_interceptor`)",
                    ));
                }
                ("timeout", [a]) => b.timeout = Some(self.expr_text(a)),
                ("tls_config", _) => {
                    return Err("the server uses TLS (`tls_config`): build a `rustls::ServerConfig` (ALPN `h2` and `http/1.1`) and serve with `connectrpc::axum::serve_tls` (connectrpc features `axum`, `server-tls`)".into());
                }
                (m, _) if DROPPED_OPTIONS.contains(&m) => {
                    let text =
                        self.src(l.at..range(l.args.last().map_or(root.span(), |a| a.span())).end);
                    b.items.push(item(
                        l.at,
                        "server-option",
                        ItemKind::Manual,
                        format!("`{text})` was dropped: axum::serve has no such option"),
                        "HTTP/2 and connection limits: serve with connectrpc::Server (with_http2_*, with_max_concurrent_streams, with_max_connection_age) or your own hyper loop; tower limits go on the axum app as layers",
                    ));
                }
                (m, _) => {
                    return Err(format!(
                        "`.{m}(..)` on the server builder is not understood"
                    ));
                }
            }
            if l.turbofish {
                return Err(format!("`.{}::<..>(..)` has explicit generics", l.method));
            }
        }
        Ok(b)
    }

    /// The listener `axum::serve` takes, from the serve call (`tail`: what follows its
    /// `.await`).
    fn listener(
        &mut self,
        serve: &Link<'_>,
        tail: Option<&str>,
        items: &mut Vec<ManualItem>,
    ) -> Result<String, String> {
        match (serve.method.as_str(), serve.args.as_slice()) {
            ("serve", [addr_expr]) | ("serve_with_shutdown", [addr_expr, _]) => {
                self.bind_listener(addr_expr, tail)
            }
            ("serve_with_incoming", [inc]) | ("serve_with_incoming_shutdown", [inc, _]) => {
                self.listener_text(inc, items)
            }
            (m, _) => Err(format!("`.{m}(..)` has unexpected arguments")),
        }
    }

    /// `serve(addr)`: a `tokio::net::TcpListener` bound to `addr`, its error propagated as the
    /// serve call's was.
    fn bind_listener(
        &mut self,
        addr_expr: &syn::Expr,
        tail: Option<&str>,
    ) -> Result<String, String> {
        // The address's type came from `serve(addr: SocketAddr)`: a `parse()` that
        // relied on it gets the type written out (`bind` takes any `ToSocketAddrs`).
        let typed = if let Some(at) = untyped_parse(addr_expr) {
            Some(Edit::insert(
                at,
                "::<std::net::SocketAddr>",
                "step05/server",
            ))
        } else {
            local_name(addr_expr)
                .and_then(|n| self.untyped_parses.get(&n).copied())
                .map(|at| Edit::insert(at, ": std::net::SocketAddr", "step05/server"))
        };
        let addr = self.expr_text(addr_expr);
        let addr = match &typed {
            // Inside the replaced chain: the turbofish goes into the written text.
            Some(e) if range(addr_expr.span()).contains(&e.range.start) => {
                let at = e.range.start - range(addr_expr.span()).start;
                let mut t = addr.clone();
                if t.get(at - 5..at) == Some("parse") {
                    t.insert_str(at, "::<std::net::SocketAddr>");
                }
                t
            }
            _ => {
                if let Some(e) = typed {
                    self.chain_extra.push(e);
                }
                addr
            }
        };
        let bind = format!("tokio::net::TcpListener::bind({addr}).await");
        match tail {
            Some(t) if t.starts_with('?') => Ok(format!("{bind}?")),
            Some(t) if t.starts_with(".unwrap()") => Ok(format!("{bind}.unwrap()")),
            _ => Err("`serve(addr)` whose result is not propagated with `?`: bind a `tokio::net::TcpListener` yourself and pass it to `axum::serve`".into()),
        }
    }

    /// The comments between the links of a chain (outside their arguments), as lines for the
    /// first argument of `axum::serve(`: they are kept, not dropped with their link.
    fn chain_comments(&self, r: Range<usize>, links: &[Link<'_>]) -> String {
        let args: Vec<Range<usize>> = links
            .iter()
            .flat_map(|l| l.args.iter().map(|a| range(a.span())))
            .collect();
        let ind = indent_at(self.text, r.start);
        let mut out = String::new();
        let mut pos = r.start;
        while pos < r.end {
            if let Some(a) = args.iter().find(|a| a.start <= pos && pos < a.end) {
                pos = a.end;
                continue;
            }
            let rest = &self.text[pos..r.end];
            if rest.starts_with("//") {
                let end = rest.find('\n').unwrap_or(rest.len());
                out.push_str(&format!("{ind}    {}\n", rest[..end].trim_end()));
                pos += end;
            } else if rest.starts_with("/*") {
                let end = rest.find("*/").map_or(rest.len(), |i| i + 2);
                out.push_str(&format!("{ind}    {}\n", &rest[..end]));
                pos += end;
            } else {
                pos += rest.chars().next().map_or(1, char::len_utf8);
            }
        }
        out
    }

    /// A service given to `add_service`.
    fn classify(
        &mut self,
        a: &syn::Expr,
        parts: &mut Vec<Part>,
        tonic: &mut Vec<String>,
        interceptors: &mut Vec<String>,
        items: &mut Vec<ManualItem>,
    ) {
        let a = strip_parens(a);
        let at = range(a.span()).start;
        if let Some(name) = local_name(a) {
            if self.routers.contains(&name) {
                if let Some((init, router)) = self.hosted.remove(&name) {
                    self.chain_extra
                        .push(Edit::replace(init, router, "step05/hosted"));
                }
                parts.push(Part::Merge(name));
                return;
            }
            if let Some((init, svc, router, f)) = self.intercepted_hosted.get(&name).cloned() {
                // `let x = router;` and the interceptor on the connect service.
                self.chain_extra
                    .push(Edit::replace(init, router, "step05/interceptor"));
                parts.push(Part::Merge(name));
                interceptors.push(format!(
                    "connect_shim::server::TonicInterceptor::new({svc}, {f})"
                ));
                items.push(self.interceptor_item(at));
                return;
            }
        }
        if let Some((svc, router, f)) = self.hosted_interceptor(a) {
            let (svc, f) = (self.expr_text(&svc), self.expr_text(f));
            self.hosted_parts(&router, parts);
            interceptors.push(format!(
                "connect_shim::server::TonicInterceptor::new({svc}, {f})"
            ));
            items.push(self.interceptor_item(at));
            return;
        }
        if let syn::Expr::Macro(m) = a {
            if let Some(router) = self.hosted_router(m) {
                self.hosted_parts(&router, parts);
                return;
            }
        }
        if let Some(Ok(text)) = self.reflection_text(a) {
            let r = range(a.span());
            // Written out again with its own rewrite.
            self.kept
                .retain(|k| !(r.start <= k.start && k.end <= r.end));
            parts.push(Part::Merge(text));
            return;
        }
        let text = self.expr_text(a);
        let intercepted =
            self.is_intercepted(a) || local_name(a).is_some_and(|n| self.intercepted.contains(&n));
        let msg = if intercepted {
            "this service runs behind a tonic interceptor (`InterceptedService`): it stays hosted through tonic's routes on the same app".to_string()
        } else {
            format!("`{}` is still a tonic service: it is served through tonic's routes on the same app", text.split_whitespace().collect::<Vec<_>>().join(" "))
        };
        items.push(item(
            at,
            if intercepted { "interceptor" } else { "tonic-service" },
            ItemKind::Manual,
            msg,
            if intercepted {
                "port the interceptor to a connectrpc Interceptor (both hooks) on a ConnectRpcService for this service, then add the service to the connect router"
            } else {
                "migrate it to connect (steps 1-2), then add it to the connect router"
            },
        ));
        tonic.push(text);
    }

    /// The router of `connect_shim::tonic_hosted!(NAME, router)`.
    /// (The macro's tokens are spans of this file: the router's text is taken from them.)
    fn hosted_router(&self, m: &syn::ExprMacro) -> Option<syn::Expr> {
        if !self.is_hosted_macro(&m.mac) {
            return None;
        }
        let args = crate::resolve::macro_exprs(&m.mac)?;
        let [_, router] = <[syn::Expr; 2]>::try_from(args).ok()?;
        Some(router)
    }

    /// `InterceptedService::new(connect_shim::tonic_hosted!(NAME, router), f)`: NAME, router, f.
    fn hosted_interceptor<'e>(
        &self,
        a: &'e syn::Expr,
    ) -> Option<(syn::Expr, syn::Expr, &'e syn::Expr)> {
        if !self.is_intercepted(a) {
            return None;
        }
        let syn::Expr::Call(c) = strip_parens(a) else {
            return None;
        };
        let [svc, f] = [c.args.first()?, c.args.get(1)?];
        if c.args.len() != 2 {
            return None;
        }
        let syn::Expr::Macro(m) = strip_parens(svc) else {
            return None;
        };
        if !self.is_hosted_macro(&m.mac) {
            return None;
        }
        let args = crate::resolve::macro_exprs(&m.mac)?;
        let [name, router] = <[syn::Expr; 2]>::try_from(args).ok()?;
        Some((name, router, f))
    }

    /// The parts of a hosted router: its services when it is `Router::new().add_service(..)..`,
    /// else the router merged.
    fn hosted_parts(&mut self, router: &syn::Expr, parts: &mut Vec<Part>) {
        let (root, links) = chain_of(router);
        let is_new = matches!(strip_parens(root), syn::Expr::Call(c) if c.args.is_empty()
            && self.path_of(&c.func).is_some_and(|f| f.ends_with(&["Router".to_string(), "new".to_string()])));
        if is_new
            && links
                .iter()
                .all(|l| l.method == "add_service" && l.args.len() == 1)
        {
            for l in &links {
                parts.push(Part::Add(self.expr_text(l.args[0])));
            }
        } else {
            parts.push(Part::Merge(self.expr_text(router)));
        }
    }

    fn interceptor_item(&self, at: usize) -> ManualItem {
        item(
            at,
            "interceptor",
            ItemKind::Manual,
            "this service's tonic interceptor now runs on the connect service through connect_shim::server::TonicInterceptor (calls of this service only)".into(),
            "step 9 moves an interceptor function that only reads metadata, uses extensions and returns Status errors to its connect shape; port any other to a connectrpc Interceptor",
        )
    }

    fn is_intercepted(&self, a: &syn::Expr) -> bool {
        matches!(strip_parens(a), syn::Expr::Call(c) if self.path_is(&c.func, &[
            &["tonic", "service", "interceptor", "InterceptedService", "new"],
            &["tonic", "service", "InterceptedService", "new"],
            &["tonic", "codegen", "InterceptedService", "new"],
        ]))
    }

    /// `let x = connect_shim::tonic_hosted!(NAME, router);`: remembered, to be written
    /// `let x = router;` with a server chain that hosts x; `let x = InterceptedService::new(..);`
    /// is remembered too.
    fn hosted_local(&mut self, l: &syn::Local) -> bool {
        let (syn::Pat::Ident(pi), Some(init)) = (&l.pat, &l.init) else {
            return false;
        };
        if init.diverge.is_some() {
            return false;
        }
        let e = strip_parens(&init.expr);
        if self.is_intercepted(e) {
            self.intercepted.insert(pi.ident.to_string());
            if let Some((svc, router, f)) = self.hosted_interceptor(e) {
                let at = range(e.span());
                if !self.suppressed(at.start) {
                    let (svc, router, f) = (
                        self.expr_text(&svc),
                        self.expr_text(&router),
                        self.expr_text(f),
                    );
                    self.intercepted_hosted
                        .insert(pi.ident.to_string(), (at, svc, router, f));
                }
            }
            return false;
        }
        let syn::Expr::Macro(m) = e else {
            return false;
        };
        if !self.is_hosted_macro(&m.mac) {
            return false;
        }
        let Some(args) = crate::resolve::macro_exprs(&m.mac) else {
            return false;
        };
        let [_, router] = args.as_slice() else {
            return false;
        };
        let at = range(e.span());
        if self.suppressed(at.start) {
            return true;
        }
        // Written with the chain that hosts it (`classify`): a local handed to something else
        // (tonic's `RoutesBuilder`, a server the step leaves) stays tonic-hosted.
        let text = self.expr_text(router);
        self.hosted.insert(pi.ident.to_string(), (at, text));
        self.routers.insert(pi.ident.to_string());
        true
    }

    fn is_hosted_macro(&self, mac: &syn::Macro) -> bool {
        let p = &mac.path;
        p.segments.last().is_some_and(|s| s.ident == "tonic_hosted")
            && self
                .resolve_one(p)
                .is_some_and(|r| r.full == ["connect_shim", "tonic_hosted"])
    }

    /// The listener for `serve_with_incoming(x)`: the tokio listener inside tonic's or
    /// tokio-stream's wrapper, else the stream adapted by the shim.
    fn listener_text(
        &mut self,
        inc: &syn::Expr,
        items: &mut Vec<ManualItem>,
    ) -> Result<String, String> {
        if let syn::Expr::Call(c) = strip_parens(inc) {
            if c.args.len() == 1
                && self.path_is(
                    &c.func,
                    &[
                        &["tonic", "transport", "server", "TcpIncoming", "from"],
                        &["tokio_stream", "wrappers", "TcpListenerStream", "new"],
                    ],
                )
            {
                return Ok(self.expr_text(&c.args[0]));
            }
        }
        if self
            .file
            .crate_ctx
            .and_then(|c| c.plan::<ConnectInfoReads>())
            .is_some_and(|r| r.0)
        {
            return Err("the connection stream is not TCP and the crate reads what tonic's server records of such connections (`UdsConnectInfo`, `TlsConnectInfo`, `peer_certs()`), which requests served through axum do not carry".into());
        }
        let t = self.expr_text(inc);
        items.push(self.incoming_item(range(inc.span()).start));
        Ok(format!("connect_shim::hosting::incoming_listener({t})"))
    }

    fn incoming_item(&self, at: usize) -> ManualItem {
        item(
            at,
            "incoming",
            ItemKind::Manual,
            "the connection stream is served through connect_shim::hosting::incoming_listener"
                .into(),
            "bind a tokio::net::TcpListener and pass it to axum::serve directly (a stream of another kind of connection stays on the shim's listener until step 9 lists it)",
        )
    }

    /// axum's graceful shutdown needs a `Send + 'static` signal: a parameter of the enclosing
    /// function typed `impl Future<Output = ()>` gets those bounds.
    fn shutdown_bound(&mut self, sig: &syn::Expr, _items: &mut Vec<ManualItem>) {
        let Some(name) = local_name(sig) else {
            return;
        };
        let Some(ty_range) = self.impl_future_params.get(&name).cloned() else {
            return;
        };
        let t = self.src(ty_range.clone());
        if t.contains("Send") {
            return;
        }
        let _ = self.out.commit(vec![Edit::insert(
            ty_range.end,
            " + Send + 'static",
            "step05/shutdown",
        )]);
    }

    // -----------------------------------------------------------------------------------------
    // imports

    /// Imports whose every use was in code the step replaced.
    fn remove_unused_imports(&mut self) {
        if self.replaced.is_empty() {
            return;
        }
        let mut idents: HashMap<String, Vec<usize>> = HashMap::new();
        fn walk(t: TokenStream, out: &mut HashMap<String, Vec<usize>>) {
            for tt in t {
                match tt {
                    TokenTree::Group(g) => walk(g.stream(), out),
                    TokenTree::Ident(i) => out
                        .entry(i.to_string())
                        .or_default()
                        .push(range(i.span()).start),
                    _ => {}
                }
            }
        }
        walk(self.file.file.to_token_stream(), &mut idents);
        let in_use = |at: usize| self.idx.use_items.iter().any(|u| u.range.contains(&at));
        let gone = |at: usize| {
            self.replaced.iter().any(|r| r.contains(&at))
                && !self.kept.iter().any(|k| k.contains(&at))
        };
        let mut removed: HashSet<usize> = HashSet::new();
        for (id, leaf) in self.idx.leaves.iter().enumerate() {
            if leaf.is_glob || leaf.name.is_empty() || self.idx.use_items[leaf.item].is_pub {
                continue;
            }
            let Some(uses) = idents.get(&leaf.name) else {
                continue;
            };
            let outside: Vec<usize> = uses.iter().copied().filter(|&at| !in_use(at)).collect();
            if !outside.is_empty() && outside.iter().all(|&at| gone(at)) {
                removed.insert(id);
            }
        }
        if removed.is_empty() {
            return;
        }
        let mut edits = Vec::new();
        for ui in &self.idx.use_items {
            match crate::rules::rename::removal(&ui.tree, &removed, self.text) {
                crate::rules::rename::Removal::All => edits.push(Edit::delete(
                    crate::edit::whole_lines_tidy(self.text, ui.range.clone()),
                    "step05/imports",
                )),
                crate::rules::rename::Removal::Partial(v) => {
                    edits.extend(v.into_iter().map(|mut e| {
                        e.rule = "step05/imports".into();
                        e
                    }))
                }
                crate::rules::rename::Removal::None => {}
            }
        }
        let _ = self.out.commit(edits);
    }
}

/// What the builder links of a server chain hold.
struct ServerBuilder {
    /// Connect services, in order.
    parts: Vec<Part>,
    /// Services still on tonic.
    tonic: Vec<String>,
    interceptors: Vec<String>,
    /// Tower layers (wrapping the axum app).
    layers: Vec<String>,
    /// `.timeout(d)`.
    timeout: Option<String>,
    items: Vec<ManualItem>,
}

/// The app `axum::serve` serves: the connect router (under a `ConnectRpcService` with the
/// deadline policy and interceptors when there are any), with tonic's routes when services
/// stay on tonic, then the layers. `ind`: the indentation of the `axum::serve(` line.
fn connect_app_text(b: &ServerBuilder, ind: &str) -> String {
    let i1 = format!("{ind}    ");
    let i2 = format!("{i1}    ");
    let i3 = format!("{i2}    ");
    let i4 = format!("{i3}    ");
    let (svc_ind, inner_ind) = if b.timeout.is_some() || !b.interceptors.is_empty() {
        (i3.clone(), i4.clone())
    } else {
        (i2.clone(), i3.clone())
    };
    let mut router = "connectrpc::Router::new()".to_string();
    for p in &b.parts {
        match p {
            Part::Add(t) => router.push_str(&format!("\n{inner_ind}.add_service({t})")),
            Part::Merge(t) => router.push_str(&format!("\n{inner_ind}.merge({t})")),
        }
    }
    let mut service = match &b.timeout {
        Some(d) => format!(
            "connectrpc::ConnectRpcService::new(\n{svc_ind}{router},\n{i2})\n{i2}.with_deadline_policy(\n{i3}connectrpc::DeadlinePolicy::new()\n{i4}.with_max({d})\n{i4}.with_default_timeout({d}),\n{i2})"
        ),
        None if !b.interceptors.is_empty() => {
            format!("connectrpc::ConnectRpcService::new(\n{svc_ind}{router},\n{i2})")
        }
        None => router,
    };
    for ic in &b.interceptors {
        service.push_str(&format!("\n{i2}.with_interceptor({ic})"));
    }
    let mut app = if b.tonic.is_empty() {
        format!("connect_shim::hosting::connect_app(\n{i2}{service},\n{i1})")
    } else {
        let mut routes = "tonic::service::Routes::default()".to_string();
        for t in &b.tonic {
            routes.push_str(&format!("\n{i3}.add_service({t})"));
        }
        format!("connect_shim::hosting::mixed_app(\n{i2}{routes},\n{i2}{service},\n{i1})")
    };
    for l in b.layers.iter().rev() {
        app.push_str(&format!("\n{i1}.layer({l})"));
    }
    app
}

impl Walker<'_, '_> {
    fn enter_fn(&mut self, sig: &syn::Signature) -> HashMap<String, Range<usize>> {
        self.untyped_parses.clear();
        let mut params = HashMap::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            let (syn::Pat::Ident(pi), syn::Type::ImplTrait(it)) = (&*pt.pat, &*pt.ty) else {
                continue;
            };
            let is_future = it.bounds.iter().any(|b| {
                matches!(b, syn::TypeParamBound::Trait(t) if t.path.segments.last().is_some_and(|s| s.ident == "Future"))
            });
            if is_future {
                params.insert(pi.ident.to_string(), range(it.span()));
            }
        }
        std::mem::replace(&mut self.impl_future_params, params)
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
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
        let saved = self.enter_fn(&f.sig);
        match self.reporter_params(&f.sig) {
            p if p.is_empty() || self.pending.is_some() => syn::visit::visit_item_fn(self, f),
            p => self.visit_reporter_helper(&f.sig, p, |w| syn::visit::visit_item_fn(w, f)),
        }
        self.impl_future_params = saved;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let saved = self.enter_fn(&f.sig);
        match self.reporter_params(&f.sig) {
            p if p.is_empty() || self.pending.is_some() => syn::visit::visit_impl_item_fn(self, f),
            p => self.visit_reporter_helper(&f.sig, p, |w| syn::visit::visit_impl_item_fn(w, f)),
        }
        self.impl_future_params = saved;
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let syn::Pat::Ident(pi) = &l.pat {
            let name = pi.ident.to_string();
            match l.init.as_ref().and_then(|i| untyped_parse(&i.expr)) {
                Some(_) if pi.subpat.is_none() => {
                    self.untyped_parses.insert(name, range(pi.ident.span()).end);
                }
                _ => {
                    self.untyped_parses.remove(&name);
                }
            }
        } else if let syn::Pat::Type(pt) = &l.pat {
            if let syn::Pat::Ident(pi) = &*pt.pat {
                self.untyped_parses.remove(&pi.ident.to_string());
            }
        }
        if self.health_local(l) || self.reflection_local(l) || self.hosted_local(l) {
            return;
        }
        let saved = self.deferred_at.take();
        if let Some(init) = l.init.as_ref().filter(|i| i.diverge.is_none()) {
            if let syn::Expr::MethodCall(mc) = &*init.expr {
                if SERVE_METHODS.contains(&mc.method.to_string().as_str()) {
                    self.deferred_at = Some(range(init.expr.span()).start);
                }
            }
        }
        syn::visit::visit_local(self, l);
        self.deferred_at = saved;
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        if self.health_call(s) {
            return;
        }
        syn::visit::visit_stmt(self, s);
    }

    fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
        if self.server_chain(&a.base, Some(a)) {
            return;
        }
        syn::visit::visit_expr_await(self, a);
    }

    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        let e = syn::Expr::MethodCall(mc.clone());
        if self.server_chain(&e, None) {
            return;
        }
        syn::visit::visit_expr_method_call(self, mc);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        let e = syn::Expr::Call(c.clone());
        let at = range(c.span()).start;
        if self.is_server_builder(&e) && !self.consumed.contains(&at) {
            self.consumed.insert(at);
            self.report(
                at,
                "server",
                ItemKind::Manual,
                "tonic `Server::builder()` not converted: the chain does not end in `serve*(..).await` in one expression".into(),
                "build one connectrpc Router with every service and serve it with axum::serve (see connect_shim::hosting::connect_app / mixed_app)",
            );
        }
        // What the step wrote for a connection stream, on a later run: listed as it was then.
        if c.args.len() == 1
            && self.path_is(
                &c.func,
                &[&["connect_shim", "hosting", "incoming_listener"]],
            )
        {
            let item = self.incoming_item(range(c.args[0].span()).start);
            self.out.items.push(item);
        }
        if self.maybe_server_builder(&e) && !self.consumed.contains(&at) {
            self.consumed.insert(at);
            self.report(
                at,
                "server",
                ItemKind::Unsure,
                "this may be tonic's `Server::builder()`, but a glob import in scope could also provide its first name: not converted".into(),
                "name the import (or write `::tonic::transport::Server::builder()`) and run the step again, or build one connectrpc Router with every service and serve it with axum::serve by hand",
            );
        }
        syn::visit::visit_expr_call(self, c);
    }
}

/// Step 5 before the files: the crate contexts (schema, for service names), and, for each
/// crate on tonic, `tonic-web`, `tonic-health` and `tonic-reflection` to remove from its
/// `[dependencies]` when no file of the crate names them once the step is applied (the run layer
/// decides over the rewritten files; the dependencies the new code needs the pass declares).
pub fn prepare(
    _step: &crate::steps::Step,
    ws: &crate::workspace::Workspace,
    base: crate::steps::common::prepare::Prepared,
) -> crate::steps::common::prepare::Prepared {
    let drop_unless_named = ws
        .crates
        .iter()
        .filter(|c| c.tonic_req.is_some())
        .map(|c| {
            let gone = vec![
                ("tonic-web", "tonic_web"),
                ("tonic-health", "tonic_health"),
                ("tonic-reflection", "tonic_reflection"),
            ];
            (c.name.clone(), gone)
        })
        .collect();
    let mut ctx = base.ctx;
    // Only a crate on tonic has a tonic server to keep.
    for c in ws
        .crates
        .iter()
        .filter(|c| c.tonic_req.is_some() && reads_connect_info(c))
    {
        let plan = std::sync::Arc::new(ConnectInfoReads(true));
        match ctx.get_mut(&c.name) {
            Some(x) => {
                if let Some(x) = std::sync::Arc::get_mut(x) {
                    x.set_plan(plan);
                }
            }
            None => {
                let mut x = crate::context::CrateCtx::default();
                x.set_plan(plan);
                ctx.insert(c.name.clone(), std::sync::Arc::new(x));
            }
        }
    }
    crate::steps::common::prepare::Prepared {
        ctx,
        drop_unless_named,
        manifest_rule: Some("step05/manifest"),
        ..Default::default()
    }
}

/// Whether code of the crate reads what tonic's server records of a connection other than a
/// TCP peer: `UdsConnectInfo` (a Unix socket's peer credentials and address), `TlsConnectInfo`,
/// `peer_certs()`. tonic puts them in each request's extensions from its `Connected` IO; served
/// through `axum::serve`, the requests have only the TCP peer (the shim's `TcpConnectInfo`), so a
/// server over such a connection stays on tonic while its handlers read them.
struct ConnectInfoReads(bool);

fn reads_connect_info(c: &crate::workspace::Crate) -> bool {
    c.files.iter().any(|f| {
        std::fs::read_to_string(&f.path).is_ok_and(|t| {
            t.contains("UdsConnectInfo") || t.contains("TlsConnectInfo") || t.contains("peer_certs")
        })
    })
}
