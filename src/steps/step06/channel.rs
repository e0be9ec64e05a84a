//! Step 6: tonic channels made by the user's own helper functions, and tonic interceptor
//! structs that only add headers, made native.
//!
//! A tonic `Channel` is an origin plus connection options. Natively that is a
//! `connectrpc::client::HttpClient` (the connection pool: clones share it) and a
//! `connectrpc::client::ClientConfig` (base URI, protocol, default timeout, default headers).
//! The value a channel helper returns becomes the pair
//! `(connectrpc::client::HttpClient, connectrpc::client::ClientConfig)`, a structural type
//! every crate of the workspace can name without a new item:
//!
//! - helper functions returning `Channel` / `Result<Channel, E>` built by an
//!   `Endpoint`/`Channel` chain (`from_shared`, `from_static`, `new`, `try_from`, `timeout`,
//!   `connect_timeout`, `connect().await`, `connect_lazy()`) return the pair; a
//!   `tonic::transport::Error` error type becomes `http::uri::InvalidUri` (the only failure
//!   left: construction no longer connects);
//! - parameters typed `Channel` of free functions take the pair;
//! - client constructions on such a value (`XClient::new(ch)`, `HealthClient::new(ch)`,
//!   `XClient::with_interceptor(ch, i)`) take the pair's halves;
//! - an `impl Interceptor for T` whose `call` only inserts headers from `T`'s fields or
//!   constants becomes `impl T { pub fn headers(&self) -> http::HeaderMap }`, applied with
//!   `ClientConfig::with_default_headers` where the client is built, and `T`'s metadata types
//!   become `http` types; its tests' `t.call(Request::new(()))` read `t.headers()`.
//!
//! All or nothing: the change is made in a group of crates (a crate and the crates using its
//! helpers, parameters or interceptors) only when every channel value of the group is used in
//! one of those ways; otherwise nothing of it changes and each blocking site is listed.

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::edit::Edit;
use crate::options::ClientProtocol;
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};
use crate::schema::Schema;

/// The native type of a converted channel value.
pub const PAIR: &str = "(connectrpc::client::HttpClient, connectrpc::client::ClientConfig)";

/// Clients of helper crates whose construction step 6 writes from [`FileScan::args`] (crate,
/// client type name): a converted channel value may be passed to their `new`. A construction
/// added to step 6 (a reflection client, ...) joins this list once it reads `FileScan::args`.
pub const HELPER_CLIENTS: &[(&str, &str)] = &[
    ("tonic_health", "HealthClient"),
    ("tonic_reflection", "ServerReflectionClient"),
];

/// A helper function returning a tonic channel.
#[derive(Debug, Clone)]
pub struct Helper {
    pub path: Vec<String>,
    pub is_async: bool,
    pub result: bool,
}

/// The workspace-wide plan (prepared once, shared by every file).
#[derive(Debug, Default)]
pub struct Plan {
    pub helpers: Vec<Helper>,
    /// Free functions with parameters typed `Channel`: path, parameter indices.
    pub params: Vec<(Vec<String>, Vec<usize>)>,
    /// Interceptor structs whose `call` only adds headers.
    pub interceptors: Vec<Vec<String>>,
    /// Their associated functions returning the struct (`new`, `try_new`, ..).
    pub interceptor_ctors: Vec<(Vec<String>, Vec<String>)>,
    /// Crates whose group is converted.
    pub converted: HashSet<String>,
    /// Crate (lib name) of each file.
    pub file_crate: HashMap<std::path::PathBuf, String>,
    /// Crates of groups with something to convert (converted or blocked).
    pub involved: HashSet<String>,
    /// Crates that need the `http` dependency (helpers or interceptors rewritten).
    pub needs_http: HashSet<String>,
}

/// How a client construction takes a converted channel value.
#[derive(Debug, Clone)]
pub struct ChanArg {
    /// Text before the construction (`{ let (transport, config) = <value>; `) and after it.
    pub pre: String,
    pub post: String,
    pub transport: String,
    pub config: String,
}

/// A site that keeps the group's channels on tonic.
#[derive(Debug, Clone)]
pub struct Failure {
    pub offset: usize,
    pub why: String,
}

/// What one file contributes and needs.
#[derive(Debug, Default)]
pub struct FileScan {
    pub helpers: Vec<Helper>,
    pub params: Vec<(Vec<String>, Vec<usize>)>,
    pub interceptors: Vec<Vec<String>>,
    pub interceptor_ctors: Vec<(Vec<String>, Vec<String>)>,
    /// Paths of workspace items (helpers, parameter functions, interceptors) this file refers to.
    pub refs: Vec<Vec<String>>,
    pub failures: Vec<Failure>,
    pub edits: Vec<Edit>,
    /// Client constructions on converted values, by the start offset of their channel argument.
    pub args: HashMap<usize, ChanArg>,
    /// Interceptor types converted (for `InterceptedService<Channel, T>`), by the start of the
    /// `InterceptedService` type argument.
    pub intercepted: HashSet<usize>,
    /// The file's crate is converted (its channel values are the native pair).
    pub converted: bool,
    /// The rewrite names `http` types.
    pub uses_http: bool,
    /// Notes (offset, message) for converted sites.
    pub notes: Vec<(usize, String, String)>,
}

fn is_tonic(full: &[String], last: &str) -> bool {
    full.first().map(String::as_str) == Some("tonic")
        && full.last().map(String::as_str) == Some(last)
}

/// Canonical crate-absolute path with `crate` replaced by the crate's name.
fn absolute(full: &[String], crate_name: &str) -> Vec<String> {
    let mut v = full.to_vec();
    if v.first().map(String::as_str) == Some("crate") {
        v[0] = crate_name.to_string();
    }
    v
}

fn strip(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip(&p.expr),
        syn::Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

/// The parsed tonic channel chain.
struct Chain {
    transport: String,
    config: String,
    /// The chain's value is a `Result` (`.connect().await` with no `?`).
    result_valued: bool,
    /// The URI parse uses `?`.
    uri_try: bool,
    /// `connect().await` (not `connect_lazy()`).
    eager: bool,
}

/// Scan of one file. `tables` is the workspace plan so far (`None` while collecting
/// definitions); `rewrite` asks for edits.
pub struct Scanner<'a> {
    pub schema: Option<&'a Schema>,
    pub idx: &'a FileIndex,
    pub text: &'a str,
    pub crate_name: String,
    pub plan: Option<&'a Plan>,
    /// The protocol of the clients built (`--protocol`).
    pub protocol: ClientProtocol,
    pub tr: ScopeTracker,
    pub out: FileScan,
    /// Channel locals of the function being visited.
    locals: Vec<HashSet<String>>,
    /// Expression stack.
    stack: Vec<Ctx<'a>>,
    /// Type ranges allowed to mention `Channel` (parameter types, helper return types).
    allowed: Vec<Range<usize>>,
    /// Bodies of helper functions (their chain is rewritten as a whole).
    helper_bodies: Vec<Range<usize>>,
    /// Interceptor types by local name (let-bound) in the current function.
    icpt_locals: Vec<HashMap<String, Vec<String>>>,
    fn_bodies: Vec<&'a syn::Block>,
}

#[derive(Clone, Copy)]
enum Ctx<'a> {
    Expr(&'a syn::Expr),
    Local(&'a syn::Local),
    Other,
}

impl<'a> Scanner<'a> {
    pub fn new(
        schema: Option<&'a Schema>,
        idx: &'a FileIndex,
        text: &'a str,
        crate_name: &str,
        plan: Option<&'a Plan>,
        protocol: ClientProtocol,
    ) -> Scanner<'a> {
        Scanner {
            protocol,
            schema,
            idx,
            text,
            crate_name: crate_name.to_string(),
            plan,
            tr: ScopeTracker::new(idx),
            out: FileScan::default(),
            locals: Vec::new(),
            stack: Vec::new(),
            allowed: Vec::new(),
            helper_bodies: Vec::new(),
            icpt_locals: Vec::new(),
            fn_bodies: Vec::new(),
        }
    }

    fn fail(&mut self, offset: usize, why: impl Into<String>) {
        self.out.failures.push(Failure {
            offset,
            why: why.into(),
        });
    }

    fn resolve(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => Some(self.idx.canonical(r.full)),
            Resolution::Ambiguous(_) => None,
        }
    }

    fn abs(&self, p: &syn::Path) -> Option<Vec<String>> {
        self.resolve(p).map(|f| absolute(&f, &self.crate_name))
    }

    fn here(&self, name: &str) -> Vec<String> {
        let mut v = absolute(self.idx.module_path(self.tr.current()), &self.crate_name);
        if v.is_empty() {
            v.push(self.crate_name.clone());
        }
        v.push(name.to_string());
        v
    }

    fn src(&self, r: Range<usize>) -> &'a str {
        &self.text[r]
    }

    fn type_is_channel(&self, t: &syn::Type) -> bool {
        match t {
            syn::Type::Path(p) if p.qself.is_none() => self
                .resolve(&p.path)
                .is_some_and(|f| is_tonic(&f, "Channel")),
            syn::Type::Paren(p) => self.type_is_channel(&p.elem),
            _ => false,
        }
    }

    /// `Channel` or `Result<Channel, E>`: (is result, the `E` type).
    fn channel_return<'t>(&self, t: &'t syn::Type) -> Option<(bool, Option<&'t syn::Type>)> {
        if self.type_is_channel(t) {
            return Some((false, None));
        }
        let syn::Type::Path(p) = t else { return None };
        let last = p.path.segments.last()?;
        if last.ident != "Result" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
            return None;
        };
        let mut tys = a.args.iter().filter_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        });
        let ok = tys.next()?;
        if !self.type_is_channel(ok) {
            return None;
        }
        Some((true, tys.next()))
    }

    fn helper_of(&self, full: &[String]) -> Option<Helper> {
        let plan = self.plan?;
        plan.helpers
            .iter()
            .find(|h| h.path == full)
            .or_else(|| self.out.helpers.iter().find(|h| h.path == full))
            .cloned()
    }

    fn params_of(&self, full: &[String]) -> Option<Vec<usize>> {
        let plan = self.plan?;
        plan.params
            .iter()
            .chain(self.out.params.iter())
            .find(|(p, _)| p == full)
            .map(|(_, v)| v.clone())
    }

    fn interceptor_known(&self, full: &[String]) -> bool {
        self.plan
            .is_some_and(|p| p.interceptors.iter().any(|i| i == full))
    }

    // -----------------------------------------------------------------------------------------
    // the chain

    fn parse_chain(&self, e: &syn::Expr) -> Option<Chain> {
        let mut links: Vec<&syn::Expr> = Vec::new();
        let mut cur = strip(e);
        loop {
            links.push(cur);
            cur = match cur {
                syn::Expr::Await(a) => strip(&a.base),
                syn::Expr::Try(t) => strip(&t.expr),
                syn::Expr::MethodCall(m) => strip(&m.receiver),
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
        let rfull = self.resolve(&rp.path)?;
        if rfull.first().map(String::as_str) != Some("tonic") || root.args.len() != 1 {
            return None;
        }
        let n = rfull.len();
        if n < 2 || !matches!(rfull[n - 2].as_str(), "Channel" | "Endpoint") {
            return None;
        }
        let dst = self.src(range(root.args[0].span()));
        let mut k = 1;
        let mut uri_try = false;
        let uri = match rfull[n - 1].as_str() {
            "from_static" => format!("{dst}.parse().expect(\"a valid URI\")"),
            "from_shared" | "new" | "try_from" => {
                let sfx = match links.get(1) {
                    Some(syn::Expr::Try(_)) => {
                        uri_try = true;
                        "?".to_string()
                    }
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
        let (transport_fn, proto) = super::transport_for(self.protocol);
        let mut builder = String::new();
        let mut config = String::new();
        let mut connected = false;
        let mut result_valued = false;
        let mut eager = false;
        while k < links.len() {
            let syn::Expr::MethodCall(m) = links[k] else {
                return None;
            };
            if connected {
                return None;
            }
            let a = m
                .args
                .first()
                .map(|a| self.src(range(a.span())).to_string())
                .unwrap_or_default();
            match m.method.to_string().as_str() {
                "timeout" if m.args.len() == 1 => {
                    config.push_str(&format!(".with_default_timeout({a})"))
                }
                "connect_timeout" if m.args.len() == 1 => {
                    builder.push_str(&format!(".connect_timeout({a})"))
                }
                "connect_lazy" if m.args.is_empty() => connected = true,
                "connect" if m.args.is_empty() => {
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
                        None => result_valued = true,
                        _ => return None,
                    }
                    connected = true;
                    eager = true;
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
        Some(Chain {
            transport,
            config,
            result_valued,
            uri_try,
            eager,
        })
    }

    // -----------------------------------------------------------------------------------------
    // helper functions and parameters

    fn scan_fn(&mut self, sig: &'a syn::Signature, block: &'a syn::Block, free: bool) {
        self.scan_channel_params(sig, free);
        self.scan_channel_helper(sig, block, free);
    }

    /// `Channel` parameters of a free function become the `(HttpClient, ClientConfig)` pair.
    fn scan_channel_params(&mut self, sig: &'a syn::Signature, free: bool) {
        let mut idxs = Vec::new();
        for (i, input) in sig.inputs.iter().enumerate() {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            if !self.type_is_channel(&pt.ty) {
                continue;
            }
            let tr = range(pt.ty.span());
            if !free || !matches!(&*pt.pat, syn::Pat::Ident(_)) {
                self.fail(
                    tr.start,
                    "a `Channel` parameter of a method or with a pattern",
                );
                continue;
            }
            idxs.push(i);
            self.allowed.push(tr.clone());
            self.out
                .edits
                .push(Edit::replace(tr, PAIR, "step06/channel-param"));
        }
        if !idxs.is_empty() {
            let p = self.here(&sig.ident.to_string());
            self.out.params.push((p, idxs));
        }
    }

    /// A free function returning a tonic `Channel` built by a chain the step understands
    /// returns the `(HttpClient, ClientConfig)` pair instead.
    fn scan_channel_helper(&mut self, sig: &'a syn::Signature, block: &'a syn::Block, free: bool) {
        let syn::ReturnType::Type(_, rt) = &sig.output else {
            return;
        };
        let Some((result, err)) = self.channel_return(rt) else {
            return;
        };
        let at = range(sig.ident.span()).start;
        if !free {
            self.fail(at, "a method returning a tonic `Channel`");
            return;
        }
        let rr = range(rt.span());
        self.allowed.push(rr.clone());
        // The chain: the body's tail, or `Ok(chain)`.
        let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() else {
            self.fail(
                at,
                "channel helper whose body does not end with the channel chain",
            );
            return;
        };
        let (chain_expr, in_ok) = match strip(tail) {
            syn::Expr::Call(c)
                if c.args.len() == 1
                    && matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Ok")) =>
            {
                (&c.args[0], true)
            }
            e => (e, false),
        };
        let chain_expr = let_bound_chain(block, chain_expr);
        let Some(chain) = self.parse_chain(chain_expr) else {
            self.fail(
                at,
                "channel helper built in a way the step does not rewrite (only `Endpoint`/`Channel` with `timeout`, `connect_timeout`, `connect`, `connect_lazy`)",
            );
            return;
        };
        if chain.result_valued && (in_ok || !result) {
            self.fail(
                at,
                "channel helper whose chain result is not returned as is",
            );
            return;
        }
        // Other `?` / `return` in the body would meet a new error type.
        let (tries, returns) = tries_and_returns(|q| q.visit_block(block));
        let (chain_tries, _) = tries_and_returns(|q| q.visit_expr(chain_expr));
        if returns || tries != chain_tries {
            self.fail(
                at,
                "channel helper with other `?` or `return` than its channel chain",
            );
            return;
        }
        let new_ret = if result {
            let Some(r) = self.helper_result_type(at, rr.clone(), err, chain.uri_try) else {
                return;
            };
            r
        } else {
            PAIR.to_string()
        };
        let pair = format!("({}, {})", chain.transport, chain.config);
        let value = if result && !in_ok {
            format!("Ok({pair})")
        } else {
            pair
        };
        let body_r = range(chain_expr.span());
        self.out
            .edits
            .push(Edit::replace(rr, new_ret, "step06/channel-helper"));
        self.out.edits.push(Edit::replace(
            body_r.clone(),
            value,
            "step06/channel-helper",
        ));
        self.helper_bodies.push(body_r);
        let lazy = if chain.eager {
            "connects on the first call (tonic's `connect()` connected here and failed early on an unreachable server; the first call now fails with `Unavailable`)"
        } else {
            "connects on the first call, as tonic's `connect_lazy()` did"
        };
        self.out.notes.push((
            at,
            format!("channel helper `{}` returns a connectrpc `HttpClient` and `ClientConfig`: the client {lazy}", sig.ident),
            "check callers that relied on an early connection error".into(),
        ));
        self.out.helpers.push(Helper {
            path: self.here(&sig.ident.to_string()),
            is_async: sig.asyncness.is_some(),
            result,
        });
    }

    /// The helper's new `Result<(HttpClient, ClientConfig), E>` return type (`rr`: the old
    /// one's range), the written `Result` path kept; `None` (reported) when an invalid URI
    /// cannot convert into its error type.
    fn helper_result_type(
        &mut self,
        at: usize,
        rr: Range<usize>,
        err: Option<&syn::Type>,
        uri_try: bool,
    ) -> Option<String> {
        let e_text = match err {
            Some(e) => {
                let is_transport = matches!(e, syn::Type::Path(p) if self.resolve(&p.path).is_some_and(|f| is_tonic(&f, "Error") && f.iter().any(|s| s == "transport")));
                let et = self.src(range(e.span())).to_string();
                let boxed = et.replace(' ', "").starts_with("Box<dyn")
                    || matches!(e, syn::Type::Path(p) if p.path.segments.first().is_some_and(|s| s.ident == "anyhow" || s.ident == "eyre"));
                if is_transport {
                    self.out.uses_http = true;
                    "http::uri::InvalidUri".to_string()
                } else if boxed || !uri_try {
                    et
                } else {
                    self.fail(
                        at,
                        format!("channel helper with error type `{et}` (an invalid URI must convert into it)"),
                    );
                    return None;
                }
            }
            None => {
                self.fail(at, "channel helper with a `Result` alias");
                return None;
            }
        };
        // Keep the written `Result` path.
        let rt_text = self.src(rr);
        let name_end = rt_text.find('<').unwrap_or(rt_text.len());
        Some(format!("{}<{PAIR}, {e_text}>", &rt_text[..name_end]))
    }

    // -----------------------------------------------------------------------------------------
    // channel values

    /// Is `e` a converted channel value: a channel local, its clone, or a helper call (with
    /// its `.await` and `?` / `unwrap` / `expect`)? Records helper references.
    fn channel_value(&mut self, e: &syn::Expr) -> bool {
        match strip(e) {
            syn::Expr::Path(p) => p.path.get_ident().is_some_and(|i| {
                self.locals
                    .last()
                    .is_some_and(|l| l.contains(&i.to_string()))
            }),
            syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                matches!(strip(&m.receiver), syn::Expr::Path(_)) && self.channel_value(&m.receiver)
            }
            e => self.helper_call_value(e).is_some(),
        }
    }

    fn helper_call_value(&mut self, e: &syn::Expr) -> Option<Helper> {
        // Peel `?` / unwrap / expect, then `.await`, down to the call.
        let mut cur = strip(e);
        let mut tried = false;
        match cur {
            syn::Expr::Try(t) => {
                tried = true;
                cur = strip(&t.expr);
            }
            syn::Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => {
                tried = true;
                cur = strip(&m.receiver);
            }
            _ => {}
        }
        let mut awaited = false;
        if let syn::Expr::Await(a) = cur {
            awaited = true;
            cur = strip(&a.base);
        }
        let syn::Expr::Call(c) = cur else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let full = self.abs(&fp.path)?;
        let h = self.helper_of(&full)?;
        if h.is_async != awaited || h.result != tried {
            return None;
        }
        self.out.refs.push(full);
        Some(h)
    }

    /// Construction text for a converted value `e` (a local, its clone, or any expression).
    fn chan_arg(&self, e: &syn::Expr, headers: Option<String>) -> ChanArg {
        let hdr = |c: String| match &headers {
            Some(h) => format!("{c}.with_default_headers({h})"),
            None => c,
        };
        match strip(e) {
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let n = p.path.get_ident().unwrap().to_string();
                ChanArg {
                    pre: String::new(),
                    post: String::new(),
                    transport: format!("{n}.0"),
                    config: hdr(format!("{n}.1")),
                }
            }
            syn::Expr::MethodCall(m) if m.method == "clone" => {
                let n = self.src(range(m.receiver.span()));
                ChanArg {
                    pre: String::new(),
                    post: String::new(),
                    transport: format!("{n}.0.clone()"),
                    config: hdr(format!("{n}.1.clone()")),
                }
            }
            _ => ChanArg {
                pre: format!(
                    "{{ let (transport, config) = {}; ",
                    self.src(range(e.span()))
                ),
                post: " }".into(),
                transport: "transport".into(),
                config: hdr("config".into()),
            },
        }
    }

    fn is_client_ctor_path(&self, p: &syn::Path) -> Option<String> {
        let n = p.segments.len();
        if n < 2 {
            return None;
        }
        let mut ty = p.clone();
        let ctor = ty.segments.pop()?.into_value().ident.to_string();
        let last = ty.segments.pop()?.into_value();
        ty.segments.push(last);
        let full = self.resolve(&ty)?;
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        let schema_client = self
            .schema
            .is_some_and(|s| s.service_by_tonic_client_path(&segs).is_some());
        let health = HELPER_CLIENTS
            .iter()
            .any(|(k, t)| segs.first() == Some(k) && segs.last() == Some(t));
        (schema_client || health).then_some(ctor)
    }

    /// The interceptor struct of an expression: a local bound to one, or a construction.
    fn interceptor_of(&self, e: &syn::Expr) -> Option<Vec<String>> {
        match strip(e) {
            syn::Expr::Path(p) if p.path.get_ident().is_some() => {
                let n = p.path.get_ident()?.to_string();
                self.icpt_locals.last()?.get(&n).cloned()
            }
            e => self.interceptor_ctor(e),
        }
    }

    /// `T::f(..)` (with `?` / unwrap / expect), `T { .. }`, or `T` for an interceptor `T`.
    fn interceptor_ctor(&self, e: &syn::Expr) -> Option<Vec<String>> {
        let e = match strip(e) {
            syn::Expr::Try(t) => strip(&t.expr),
            syn::Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => {
                strip(&m.receiver)
            }
            e => e,
        };
        let (p, f) = match e {
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(fp) if fp.path.segments.len() >= 2 => {
                    let mut p = fp.path.clone();
                    let f = p.segments.pop()?.into_value().ident.to_string();
                    let last = p.segments.pop()?.into_value();
                    p.segments.push(last);
                    (p, Some(f))
                }
                _ => return None,
            },
            syn::Expr::Struct(s) => (s.path.clone(), None),
            syn::Expr::Path(p) => (p.path.clone(), None),
            _ => return None,
        };
        let full = self.abs(&p)?;
        let known = self.interceptor_known(&full) || self.out.interceptors.contains(&full);
        // An associated function returning the struct (`Default::default` always does).
        let returns_it = f.is_none_or(|f| {
            f == "default"
                || self
                    .plan
                    .map(|p| p.interceptor_ctors.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .chain(self.out.interceptor_ctors.iter())
                    .any(|(t, fs)| *t == full && fs.contains(&f))
        });
        (known && returns_it).then_some(full)
    }

    /// A channel value `v` (the top of the stack): is its context understood?
    fn value_context(&mut self, depth: usize, v: &'a syn::Expr) {
        let at = range(v.span()).start;
        let n = self.stack.len();
        let parent = n.checked_sub(depth + 2).map(|i| self.stack[i]);
        match parent {
            Some(Ctx::Expr(syn::Expr::MethodCall(m)))
                if m.method == "clone" && m.args.is_empty() && std::ptr::eq(&*m.receiver, v) =>
            {
                // Judged as a value of its own.
            }
            Some(Ctx::Expr(syn::Expr::Call(c))) => {
                let Some(i) = c.args.iter().position(|a| std::ptr::eq(a, v)) else {
                    self.fail(at, "a channel value used as a function");
                    return;
                };
                let syn::Expr::Path(fp) = &*c.func else {
                    self.fail(at, "a channel value passed to a call the step cannot see");
                    return;
                };
                if let Some(ctor) = self.is_client_ctor_path(&fp.path) {
                    match (ctor.as_str(), c.args.len(), i) {
                        ("new", 1, 0) => {
                            let a = self.chan_arg(v, None);
                            self.out.args.insert(at, a);
                        }
                        ("with_interceptor", 2, 0) => {
                            let Some(t) = self.interceptor_of(&c.args[1]) else {
                                self.fail(
                                    range(c.args[1].span()).start,
                                    "an interceptor that is not a struct adding fixed headers, on a channel value",
                                );
                                return;
                            };
                            let it = strip(&c.args[1]);
                            let itext = self.src(range(it.span()));
                            if itext
                                .split(|ch: char| !ch.is_alphanumeric() && ch != '_')
                                .any(|w| w == "transport" || w == "config")
                            {
                                self.fail(at, "interceptor expression naming `transport`/`config`");
                                return;
                            }
                            let recv = match it {
                                syn::Expr::Path(_)
                                | syn::Expr::Call(_)
                                | syn::Expr::MethodCall(_)
                                | syn::Expr::Try(_)
                                | syn::Expr::Field(_) => itext.to_string(),
                                _ => format!("({itext})"),
                            };
                            self.out.refs.push(t);
                            let a = self.chan_arg(v, Some(format!("{recv}.headers()")));
                            self.out.args.insert(at, a);
                        }
                        _ => self.fail(
                            at,
                            format!("a channel value passed to a client's `{ctor}`"),
                        ),
                    }
                    return;
                }
                let Some(full) = self.abs(&fp.path) else {
                    self.fail(at, "a channel value passed to a function the step cannot resolve");
                    return;
                };
                match self.params_of(&full) {
                    Some(ix) if ix.contains(&i) => self.out.refs.push(full),
                    _ => self.fail(
                        at,
                        "a channel value passed to a function that does not take a `Channel` parameter the step rewrites",
                    ),
                }
            }
            Some(Ctx::Local(l)) => {
                let name = match &l.pat {
                    syn::Pat::Ident(i) if i.subpat.is_none() => i.ident.to_string(),
                    _ => {
                        self.fail(at, "a channel value bound by a pattern or a typed `let`");
                        return;
                    }
                };
                if let Some(s) = self.locals.last_mut() {
                    s.insert(name);
                }
            }
            _ => self.fail(
                at,
                "a channel value used in a way the step does not rewrite (only clones, client constructions and `Channel` parameters)",
            ),
        }
    }

    // -----------------------------------------------------------------------------------------
    // interceptors

    fn scan_interceptor(&mut self, im: &'a syn::ItemImpl) {
        let Some((_, tp, _)) = &im.trait_ else { return };
        let Some(tf) = self.resolve(tp) else { return };
        if !is_tonic(&tf, "Interceptor") {
            return;
        }
        let at = range(im.span()).start;
        let syn::Type::Path(sp) = &*im.self_ty else {
            self.fail(at, "an interceptor on a type the step does not rewrite");
            return;
        };
        let Some(sfull) = self.abs(&sp.path) else {
            self.fail(at, "an interceptor on a type the step cannot resolve");
            return;
        };
        let Some(headers) = self.interceptor_headers(im) else {
            self.fail(
                at,
                "an interceptor whose `call` does more than insert headers from its fields or constants (per-call values need `CallOptions` at each call or a transport layer)",
            );
            return;
        };
        let fi = im.items.iter().find_map(|i| match i {
            syn::ImplItem::Fn(f) => Some(f),
            _ => None,
        });
        let Some(f) = fi else { return };
        // impl header: drop `Trait for`.
        let tr = range(tp.span());
        let self_start = range(im.self_ty.span()).start;
        self.out
            .edits
            .push(Edit::delete(tr.start..self_start, "step06/interceptor"));
        self.out.edits.push(Edit::replace(
            range(f.sig.span()),
            "pub fn headers(&self) -> http::HeaderMap",
            "step06/interceptor",
        ));
        let br = range(f.block.span());
        let indent = crate::edit::indent_at(self.text, range(f.span()).start).to_string();
        let mut body = format!("{{\n{indent}    let mut headers = http::HeaderMap::new();\n");
        for (k, v) in &headers {
            body.push_str(&format!("{indent}    headers.insert({k}, {v});\n"));
        }
        body.push_str(&format!("{indent}    headers\n{indent}}}"));
        self.out
            .edits
            .push(Edit::replace(br, body, "step06/interceptor"));
        self.out.notes.push((
            at,
            "tonic interceptor rewritten as `headers()`, applied with `ClientConfig::with_default_headers` where the client is built".into(),
            "per-call metadata of the same name now sits beside the default header instead of being replaced by it".into(),
        ));
        self.out.interceptors.push(sfull);
        self.out.uses_http = true;
    }

    /// `(key, value)` texts of a `call` that only inserts fixed headers.
    fn interceptor_headers(&self, im: &'a syn::ItemImpl) -> Option<Vec<(String, String)>> {
        if im.items.len() != 1 {
            return None;
        }
        let syn::ImplItem::Fn(f) = &im.items[0] else {
            return None;
        };
        if f.sig.ident != "call" || f.sig.inputs.len() != 2 {
            return None;
        }
        let syn::FnArg::Typed(pt) = &f.sig.inputs[1] else {
            return None;
        };
        let syn::Pat::Ident(pi) = &*pt.pat else {
            return None;
        };
        let req = pi.ident.to_string();
        let mut alias: Option<String> = None;
        let mut out = Vec::new();
        let n = f.block.stmts.len();
        for (i, st) in f.block.stmts.iter().enumerate() {
            match st {
                syn::Stmt::Local(l) if alias.is_none() => {
                    let syn::Pat::Ident(a) = &l.pat else {
                        return None;
                    };
                    let init = &l.init.as_ref()?.expr;
                    if !self.is_metadata_mut(init, &req) {
                        return None;
                    }
                    alias = Some(a.ident.to_string());
                }
                syn::Stmt::Expr(e, Some(_)) => {
                    let syn::Expr::MethodCall(m) = strip(e) else {
                        return None;
                    };
                    if m.method != "insert" || m.args.len() != 2 {
                        return None;
                    }
                    let recv_ok = match strip(&m.receiver) {
                        syn::Expr::Path(p) => {
                            alias.is_some()
                                && p.path
                                    .get_ident()
                                    .is_some_and(|x| Some(x.to_string()) == alias)
                        }
                        r => self.is_metadata_mut(r, &req),
                    };
                    if !recv_ok {
                        return None;
                    }
                    let k = match strip(&m.args[0]) {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) if s.value() == s.value().to_ascii_lowercase() => {
                            self.src(range(m.args[0].span())).to_string()
                        }
                        syn::Expr::Path(p) if p.path.segments.len() <= 2 => {
                            self.src(range(m.args[0].span())).to_string()
                        }
                        _ => return None,
                    };
                    let v = self.header_value(&m.args[1])?;
                    out.push((k, v));
                }
                syn::Stmt::Expr(e, None) if i + 1 == n => {
                    let syn::Expr::Call(c) = strip(e) else {
                        return None;
                    };
                    if !matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Ok"))
                        || c.args.len() != 1
                        || !matches!(strip(&c.args[0]), syn::Expr::Path(p) if p.path.is_ident(&req))
                    {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        (!out.is_empty()).then_some(out)
    }

    fn is_metadata_mut(&self, e: &syn::Expr, req: &str) -> bool {
        matches!(strip(e), syn::Expr::MethodCall(m)
            if m.method == "metadata_mut" && m.args.is_empty()
                && matches!(strip(&m.receiver), syn::Expr::Path(p) if p.path.is_ident(req)))
    }

    /// A header value that does not depend on the call: `self.f.clone()`, `self.f`,
    /// `MetadataValue::from_static(x)`, `"lit".parse().unwrap()`.
    fn header_value(&self, e: &syn::Expr) -> Option<String> {
        let t = self.src(range(e.span())).to_string();
        match strip(e) {
            syn::Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
                self.self_field(&m.receiver).then_some(t)
            }
            syn::Expr::Field(_) => self.self_field(e).then_some(t),
            syn::Expr::Call(c) if c.args.len() == 1 => {
                let syn::Expr::Path(fp) = &*c.func else {
                    return None;
                };
                let full = self.resolve(&fp.path)?;
                let ok = full.first().map(String::as_str) == Some("tonic")
                    && full.len() >= 2
                    && matches!(
                        full[full.len() - 2].as_str(),
                        "MetadataValue" | "AsciiMetadataValue"
                    )
                    && full.last().map(String::as_str) == Some("from_static");
                if !ok || !matches!(strip(&c.args[0]), syn::Expr::Lit(_) | syn::Expr::Path(_)) {
                    return None;
                }
                Some(format!(
                    "http::HeaderValue::from_static({})",
                    self.src(range(c.args[0].span()))
                ))
            }
            syn::Expr::MethodCall(m) if m.method == "unwrap" || m.method == "expect" => {
                let syn::Expr::MethodCall(p) = strip(&m.receiver) else {
                    return None;
                };
                (p.method == "parse"
                    && p.turbofish.is_none()
                    && matches!(strip(&p.receiver), syn::Expr::Lit(_)))
                .then_some(t)
            }
            _ => None,
        }
    }

    fn self_field(&self, e: &syn::Expr) -> bool {
        matches!(strip(e), syn::Expr::Field(f)
            if matches!(strip(&f.base), syn::Expr::Path(p) if p.path.is_ident("self")))
    }
}

/// `let ch = <chain>; .. ch` / `Ok(ch)`: the chain is the `let`'s (`ch` used once); any
/// other expression is the chain itself.
fn let_bound_chain<'a>(block: &'a syn::Block, chain_expr: &'a syn::Expr) -> &'a syn::Expr {
    match strip(chain_expr) {
        syn::Expr::Path(p) if p.path.get_ident().is_some() => {
            let name = p.path.get_ident().unwrap().to_string();
            let lets: Vec<&'a syn::Local> = block
                .stmts
                .iter()
                .filter_map(|st| match st {
                    syn::Stmt::Local(l) => match &l.pat {
                        syn::Pat::Ident(pi) if pi.ident == name => Some(l),
                        _ => None,
                    },
                    _ => None,
                })
                .collect();
            let uses = super::uses_in(&name, |u| u.visit_block(block)).len();
            match (lets.as_slice(), uses) {
                ([l], 1) if l.init.as_ref().is_some_and(|i| i.diverge.is_none()) => {
                    &l.init.as_ref().unwrap().expr
                }
                _ => chain_expr,
            }
        }
        _ => chain_expr,
    }
}

/// Counts the `?` of what `visit` visits (closures and nested items excluded), and whether
/// it has a `return`.
fn tries_and_returns(visit: impl FnOnce(&mut TriesAndReturns)) -> (usize, bool) {
    let mut q = TriesAndReturns { n: 0, ret: false };
    visit(&mut q);
    (q.n, q.ret)
}

struct TriesAndReturns {
    n: usize,
    ret: bool,
}

impl<'x> Visit<'x> for TriesAndReturns {
    fn visit_expr_try(&mut self, t: &'x syn::ExprTry) {
        self.n += 1;
        syn::visit::visit_expr_try(self, t);
    }
    fn visit_expr_return(&mut self, r: &'x syn::ExprReturn) {
        self.ret = true;
        syn::visit::visit_expr_return(self, r);
    }
    fn visit_expr_closure(&mut self, _: &'x syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'x syn::Item) {}
}

// ---------------------------------------------------------------------------------------------
// interceptor structs: field and inherent-impl types

/// Edits moving tonic metadata types to `http` in an item; `None` for any other tonic path.
struct MetaTypes<'s, 'a> {
    sc: &'s Scanner<'a>,
    edits: Vec<Edit>,
    bad: bool,
}

impl<'x> Visit<'x> for MetaTypes<'_, '_> {
    fn visit_path(&mut self, p: &'x syn::Path) {
        let Some(full) = self.sc.resolve(p) else {
            syn::visit::visit_path(self, p);
            return;
        };
        if full.first().map(String::as_str) != Some("tonic") {
            syn::visit::visit_path(self, p);
            return;
        }
        let r = range(p.span());
        let last = full.last().map(String::as_str).unwrap_or("");
        let n = full.len();
        if matches!(last, "AsciiMetadataValue" | "MetadataValue") {
            self.edits
                .push(Edit::replace(r, "http::HeaderValue", "step06/interceptor"));
        } else if matches!(last, "InvalidMetadataValue" | "InvalidMetadataValueBytes") {
            self.edits.push(Edit::replace(
                r,
                "http::header::InvalidHeaderValue",
                "step06/interceptor",
            ));
        } else if n >= 2
            && matches!(full[n - 2].as_str(), "AsciiMetadataValue" | "MetadataValue")
            && matches!(last, "from_static" | "try_from" | "from_str" | "from_bytes")
            && p.segments.len() >= 2
        {
            let ls = range(p.segments.last().unwrap().span()).start;
            self.edits.push(Edit::replace(
                r.start..ls,
                "http::HeaderValue::",
                "step06/interceptor",
            ));
        } else {
            self.bad = true;
        }
    }
}

impl<'a> Scanner<'a> {
    /// Interceptor impls of one items list, with their struct and inherent impls beside them.
    fn items_level(&mut self, items: &'a [syn::Item]) {
        for it in items {
            let syn::Item::Impl(im) = it else { continue };
            let Some((_, tp, _)) = &im.trait_ else {
                continue;
            };
            if !self
                .resolve(tp)
                .is_some_and(|f| is_tonic(&f, "Interceptor"))
            {
                continue;
            }
            let syn::Type::Path(sp) = &*im.self_ty else {
                self.fail(
                    range(im.span()).start,
                    "an interceptor on a type the step does not rewrite",
                );
                continue;
            };
            let Some(name) = sp.path.get_ident().map(|i| i.to_string()) else {
                self.fail(
                    range(im.span()).start,
                    "an interceptor on a type defined elsewhere",
                );
                continue;
            };
            let st = items.iter().find_map(|i| match i {
                syn::Item::Struct(s) if s.ident == name => Some(s),
                _ => None,
            });
            let Some(st) = st else {
                self.fail(
                    range(im.span()).start,
                    "an interceptor on a type defined elsewhere",
                );
                continue;
            };
            let mut mt = MetaTypes {
                sc: self,
                edits: Vec::new(),
                bad: false,
            };
            mt.visit_item_struct(st);
            for i in items {
                if let syn::Item::Impl(other) = i {
                    if other.trait_.is_none()
                        && matches!(&*other.self_ty, syn::Type::Path(p) if p.path.is_ident(&name))
                    {
                        mt.visit_item_impl(other);
                    }
                }
            }
            let (edits, bad) = (mt.edits, mt.bad);
            if bad {
                self.fail(
                    range(st.span()).start,
                    "an interceptor struct using tonic types other than metadata values",
                );
                continue;
            }
            let before = self.out.interceptors.len();
            self.scan_interceptor(im);
            if self.out.interceptors.len() > before {
                self.out.edits.extend(edits);
                let mut ctors = Vec::new();
                for i in items {
                    let syn::Item::Impl(other) = i else { continue };
                    if other.trait_.is_some()
                        || !matches!(&*other.self_ty, syn::Type::Path(p) if p.path.is_ident(&name))
                    {
                        continue;
                    }
                    for ii in &other.items {
                        let syn::ImplItem::Fn(f) = ii else { continue };
                        if f.sig.receiver().is_none() && returns_self(&f.sig.output, &name) {
                            ctors.push(f.sig.ident.to_string());
                        }
                    }
                }
                let full = self.out.interceptors[before].clone();
                self.out.interceptor_ctors.push((full, ctors));
            }
        }
    }

    /// `t.call(Request::new(()))` on an interceptor local: `t.headers()`, and the result's
    /// `.metadata()` reads.
    fn interceptor_call(&mut self, e: &'a syn::Expr, m: &'a syn::ExprMethodCall) {
        let Some(t) = self.interceptor_of(&m.receiver) else {
            return;
        };
        let at = range(m.span()).start;
        let ok_arg = m.args.len() == 1
            && matches!(strip(&m.args[0]), syn::Expr::Call(c)
                if c.args.len() == 1
                    && matches!(strip(&c.args[0]), syn::Expr::Tuple(t) if t.elems.is_empty())
                    && matches!(&*c.func, syn::Expr::Path(p) if self.resolve(&p.path).is_some_and(|f| f == ["tonic", "Request", "new"])));
        if !ok_arg {
            self.fail(
                at,
                "an interceptor's `call` on something else than `Request::new(())`",
            );
            return;
        }
        // `.unwrap()` / `.expect(..)` / `?` after it, then a `let`.
        let n = self.stack.len();
        let parent = n.checked_sub(2).map(|i| self.stack[i]);
        let (end, outer_depth) = match parent {
            Some(Ctx::Expr(syn::Expr::MethodCall(u)))
                if (u.method == "unwrap" || u.method == "expect")
                    && std::ptr::eq(strip(&u.receiver), e) =>
            {
                (range(u.span()).end, 1)
            }
            Some(Ctx::Expr(syn::Expr::Try(tr))) => (range(tr.span()).end, 1),
            _ => {
                self.fail(at, "an interceptor's `call` result not unwrapped in place");
                return;
            }
        };
        let mut edits = vec![Edit::replace(
            range(m.method.span()).start..end,
            "headers()",
            "step06/interceptor",
        )];
        let holder = n.checked_sub(2 + outer_depth).map(|i| self.stack[i]);
        let Some(Ctx::Local(l)) = holder else {
            self.fail(at, "an interceptor's `call` result not bound by a `let`");
            return;
        };
        let syn::Pat::Ident(pi) = &l.pat else {
            self.fail(at, "an interceptor's `call` result bound by a pattern");
            return;
        };
        let name = pi.ident.to_string();
        let Some(body) = self.fn_bodies.last().copied() else {
            return;
        };
        let hits = super::uses_in(&name, |u| u.visit_block(body));
        for (hit, parent) in hits {
            match parent {
                Some(syn::Expr::MethodCall(mm))
                    if mm.method == "metadata"
                        && mm.args.is_empty()
                        && std::ptr::eq(&*mm.receiver, hit) =>
                {
                    edits.push(Edit::delete(
                        range(hit.span()).end..range(mm.span()).end,
                        "step06/interceptor",
                    ));
                }
                _ => {
                    self.fail(
                        range(hit.span()).start,
                        "an interceptor's request read otherwise than through `metadata()`",
                    );
                    return;
                }
            }
        }
        // `let mut t = ..` whose every use is such a `call`: the `mut` goes with `&mut self`.
        if let syn::Expr::Path(rp) = strip(&m.receiver) {
            if let Some(id) = rp.path.get_ident() {
                let rname = id.to_string();
                let lets: Vec<&syn::PatIdent> = super::lets_binding(body, &rname)
                    .into_iter()
                    .filter_map(|l| match &l.pat {
                        syn::Pat::Ident(i) => Some(i),
                        _ => None,
                    })
                    .collect();
                let only_calls = super::uses_in(&rname, |u| u.visit_block(body))
                    .iter()
                    .all(|(h, p)| {
                        matches!(p, Some(syn::Expr::MethodCall(pm)) if pm.method == "call" && std::ptr::eq(&*pm.receiver, *h))
                    });
                if let ([pi], true) = (lets.as_slice(), only_calls) {
                    if let Some(mt) = &pi.mutability {
                        let r = range(mt.span());
                        let end = r.end + self.text[r.end..].len()
                            - self.text[r.end..].trim_start().len();
                        edits.push(Edit::delete(r.start..end, "step06/interceptor"));
                    }
                }
            }
        }
        self.out.refs.push(t);
        self.out.edits.extend(edits);
    }

    fn in_ranges(rs: &[Range<usize>], r: &Range<usize>) -> bool {
        rs.iter().any(|o| o.start <= r.start && r.end <= o.end)
    }

    /// Generic arguments of a client type: `Channel` is fine (the client's own rewrite),
    /// `InterceptedService<Channel, T>` needs a converted interceptor `T`.
    fn client_generics(&mut self, p: &'a syn::Path) -> bool {
        let n = p.segments.len();
        if n == 0 {
            return false;
        }
        let full = match self.resolve(p) {
            Some(f) => f,
            None => return false,
        };
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        let schema_client = self
            .schema
            .is_some_and(|s| s.service_by_tonic_client_path(&segs).is_some());
        let health = HELPER_CLIENTS
            .iter()
            .any(|(k, t)| segs.first() == Some(k) && segs.last() == Some(t));
        if !(schema_client || health) {
            return false;
        }
        let syn::PathArguments::AngleBracketed(a) = &p.segments[n - 1].arguments else {
            return true;
        };
        for g in &a.args {
            let syn::GenericArgument::Type(syn::Type::Path(tp)) = g else {
                continue;
            };
            let f = self.resolve(&tp.path).unwrap_or_default();
            if is_tonic(&f, "InterceptedService") {
                let tys = crate::steps::common::syntax::type_args(&tp.path);
                if tys.is_empty() {
                    continue;
                }
                let at = range(tp.span()).start;
                let ok = tys.len() == 2
                    && self.type_is_channel(tys[0])
                    && matches!(tys[1], syn::Type::Path(ip) if self.abs(&ip.path).is_some_and(|x| {
                        self.interceptor_known(&x) || self.out.interceptors.contains(&x)
                    }));
                if ok {
                    if let syn::Type::Path(ip) = tys[1] {
                        if let Some(x) = self.abs(&ip.path) {
                            self.out.refs.push(x);
                        }
                    }
                    self.out.intercepted.insert(at);
                } else {
                    self.fail(
                        at,
                        "a client type over an interceptor the step does not rewrite",
                    );
                }
            }
        }
        true
    }
}

impl<'a> Visit<'a> for Scanner<'a> {
    fn visit_file(&mut self, f: &'a syn::File) {
        self.items_level(&f.items);
        syn::visit::visit_file(self, f);
    }

    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        let p = match &m.content {
            Some((b, _)) => self.tr.enter(self.idx, range(b.span.open()).start),
            None => false,
        };
        if let Some((_, items)) = &m.content {
            self.items_level(items);
        }
        syn::visit::visit_item_mod(self, m);
        self.tr.leave(p);
    }

    fn visit_block(&mut self, b: &'a syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        syn::visit::visit_block(self, b);
        self.tr.leave(p);
    }

    fn visit_item_use(&mut self, _: &'a syn::ItemUse) {}

    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.enter_fn(&f.sig, &f.block, true);
        syn::visit::visit_item_fn(self, f);
        self.leave_fn();
    }

    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        self.enter_fn(&f.sig, &f.block, false);
        syn::visit::visit_impl_item_fn(self, f);
        self.leave_fn();
    }

    fn visit_local(&mut self, l: &'a syn::Local) {
        self.stack.push(Ctx::Local(l));
        syn::visit::visit_local(self, l);
        self.stack.pop();
        if let (syn::Pat::Ident(pi), Some(init)) = (&l.pat, &l.init) {
            if let Some(t) = self.interceptor_ctor(&init.expr) {
                if let Some(m) = self.icpt_locals.last_mut() {
                    m.insert(pi.ident.to_string(), t);
                }
            }
        }
    }

    fn visit_type(&mut self, t: &'a syn::Type) {
        if let syn::Type::Path(p) = t {
            if p.qself.is_none() {
                if self.client_generics(&p.path) {
                    return;
                }
                if self.type_is_channel(t) {
                    let r = range(t.span());
                    if !Self::in_ranges(&self.allowed, &r) {
                        self.fail(r.start, "`Channel` named in a place the step does not rewrite (struct field, `let` type, generic argument)");
                    }
                    return;
                }
            }
        }
        syn::visit::visit_type(self, t);
    }

    fn visit_macro(&mut self, m: &'a syn::Macro) {
        if let Some(exprs) = crate::resolve::macro_exprs(m) {
            // Inline format captures (`"{ch:?}"`) name a local in a string.
            let captured = exprs.first().is_some_and(|e| match strip(e) {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => {
                    let v = s.value();
                    self.locals.last().is_some_and(|l| {
                        l.iter().any(|n| {
                            v.match_indices(&format!("{{{n}"))
                                .any(|(i, _)| v[i + 1 + n.len()..].starts_with(['}', ':']))
                        })
                    })
                }
                _ => false,
            });
            if captured {
                self.fail(range(m.span()).start, "a channel value used inside a macro");
            }
            self.stack.push(Ctx::Other);
            for e in exprs {
                let e: &'a syn::Expr = Box::leak(Box::new(e));
                self.visit_expr(e);
            }
            self.stack.pop();
            return;
        }
        let toks = m.tokens.to_string();
        let words: HashSet<&str> = toks
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .collect();
        if let Some(l) = self.locals.last() {
            if l.iter().any(|n| words.contains(n.as_str())) {
                self.fail(range(m.span()).start, "a channel value used inside a macro");
            }
        }
    }

    fn visit_expr(&mut self, e: &'a syn::Expr) {
        let r = range(e.span());
        if Self::in_ranges(&self.helper_bodies, &r) {
            return;
        }
        self.stack.push(Ctx::Expr(e));
        let callee = matches!(self.stack.iter().rev().nth(1), Some(Ctx::Expr(syn::Expr::Call(c))) if std::ptr::eq(&*c.func, e));
        let is_local = !callee
            && matches!(e, syn::Expr::Path(p) if p.path.get_ident().is_some_and(|i| self.locals.last().is_some_and(|l| l.contains(&i.to_string()))));
        let is_clone =
            matches!(e, syn::Expr::MethodCall(m) if m.method == "clone") && self.channel_value(e);
        let is_helper = !is_local && !is_clone && self.helper_call_value(e).is_some();
        if is_local || is_clone || is_helper {
            self.value_context(0, e);
        }
        match e {
            syn::Expr::Call(c) => {
                if let syn::Expr::Path(fp) = &*c.func {
                    if let Some(full) = self.abs(&fp.path) {
                        if let Some(ix) = self.params_of(&full) {
                            for i in ix {
                                if let Some(a) = c.args.iter().nth(i) {
                                    if !self.channel_value(a) {
                                        self.fail(
                                            range(a.span()).start,
                                            "a `Channel` parameter given a value that is not from a channel helper",
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
            syn::Expr::MethodCall(m) if m.method == "call" => self.interceptor_call(e, m),
            _ => {}
        }
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
}

impl<'a> Scanner<'a> {
    fn enter_fn(&mut self, sig: &'a syn::Signature, block: &'a syn::Block, free: bool) {
        self.stack.push(Ctx::Other);
        let mut locals = HashSet::new();
        for input in &sig.inputs {
            if let syn::FnArg::Typed(pt) = input {
                if let syn::Pat::Ident(pi) = &*pt.pat {
                    if self.type_is_channel(&pt.ty) {
                        locals.insert(pi.ident.to_string());
                    }
                }
            }
        }
        self.scan_fn(sig, block, free);
        self.locals.push(locals);
        self.icpt_locals.push(HashMap::new());
        self.fn_bodies.push(block);
    }

    fn leave_fn(&mut self) {
        self.locals.pop();
        self.icpt_locals.pop();
        self.fn_bodies.pop();
        self.stack.pop();
    }
}

/// Scans one file.
pub fn scan(
    schema: Option<&Schema>,
    file: &syn::File,
    idx: &FileIndex,
    text: &str,
    crate_name: &str,
    plan: Option<&Plan>,
    protocol: ClientProtocol,
) -> FileScan {
    let mut s = Scanner::new(schema, idx, text, crate_name, plan, protocol);
    s.visit_file(file);
    s.out
}

/// The pass's part: scan the file; in a converted crate commit the edits and return the scan
/// for the client constructions, elsewhere list what blocks the group.
pub fn run(
    ctx: &crate::context::CrateCtx,
    protocol: ClientProtocol,
    file: &crate::engine::FileCtx<'_>,
    out: &mut crate::engine::PassOutput,
) -> Option<FileScan> {
    use crate::engine::{ItemKind, ManualItem};
    let local;
    let (plan, krate): (&Plan, String) = match ctx.plan::<Plan>() {
        Some(p) => (p, p.file_crate.get(file.path?)?.clone()),
        None => {
            // No workspace preparation (a file on its own): the file is its own group.
            local = file_plan(ctx, protocol, file)?;
            (&local, "crate".to_string())
        }
    };
    let krate = &krate;
    if !plan.involved.contains(krate) {
        return None;
    }
    let named = |p: &Vec<String>| p.last().is_some_and(|n| file.text.contains(n.as_str()));
    if !(file.text.contains("Channel")
        || file.text.contains("Interceptor")
        || plan.helpers.iter().any(|h| named(&h.path))
        || plan.params.iter().any(|(p, _)| named(p))
        || plan.interceptors.iter().any(named))
    {
        return None;
    }
    let mut s = scan(
        ctx.schema.as_deref(),
        file.file,
        file.index,
        file.text,
        krate,
        Some(plan),
        protocol,
    );
    s.converted = plan.converted.contains(krate);
    let item =
        |offset: usize, rule: &str, kind: ItemKind, message: String, note: String| ManualItem {
            offset,
            rule: format!("step06/{rule}"),
            message,
            note,
            kind,
        };
    if !plan.converted.contains(krate) {
        for f in &s.failures {
            out.items.push(item(
                f.offset,
                "channel-kept",
                ItemKind::Manual,
                format!("tonic channels of this crate's group stay tonic: {}", f.why),
                "rewrite this site by hand (a channel is a `connectrpc::client::HttpClient` plus a `ClientConfig`), then run step 6 again".into(),
            ));
        }
        return None;
    }
    let suppressed = s.edits.iter().any(|e| {
        let (line, _) = crate::edit::line_col(file.text, e.range.start);
        file.suppress_lines.contains(&line)
            || (line > 1 && file.suppress_lines.contains(&(line - 1)))
    });
    if s.edits.is_empty() {
        return Some(s);
    }
    let at = s.edits.iter().map(|e| e.range.start).min().unwrap_or(0);
    if suppressed {
        out.items.push(item(
            at,
            "channel",
            ItemKind::Skipped,
            "left alone (ignore marker)".into(),
            String::new(),
        ));
        return None;
    }
    let mut edits = s.edits.clone();
    edits.sort_by_key(|e| (e.range.start, e.range.end));
    edits.dedup_by(|a, b| a.range == b.range && a.text == b.text);
    match out.commit(edits) {
        // Converted sites are not listed (a second run would not see them again); the
        // behaviour changes (lazy connection, default headers) are in the README's step 6 and
        // in `FileScan::notes`.
        Ok(()) => Some(s),
        Err(o) => {
            out.items.push(item(
                at,
                "channel",
                ItemKind::Manual,
                format!("channel helpers and interceptors of this file not rewritten: {o}"),
                "rewrite them by hand".into(),
            ));
            None
        }
    }
}

/// `-> Self`, `-> T`, or either inside `Result` / `Option`.
fn returns_self(out: &syn::ReturnType, name: &str) -> bool {
    fn is_it(t: &syn::Type, name: &str) -> bool {
        let syn::Type::Path(p) = t else { return false };
        if p.path.is_ident("Self") || p.path.is_ident(name) {
            return true;
        }
        let Some(last) = p.path.segments.last() else {
            return false;
        };
        if last.ident != "Result" && last.ident != "Option" {
            return false;
        }
        let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
            return false;
        };
        matches!(a.args.first(), Some(syn::GenericArgument::Type(t)) if matches!(t, syn::Type::Path(q) if q.path.is_ident("Self") || q.path.is_ident(name)))
    }
    match out {
        syn::ReturnType::Type(_, t) => is_it(t, name),
        syn::ReturnType::Default => false,
    }
}

/// The plan of one file taken alone (its crate named `crate`).
fn file_plan(
    ctx: &crate::context::CrateCtx,
    protocol: ClientProtocol,
    file: &crate::engine::FileCtx<'_>,
) -> Option<Plan> {
    let schema = ctx.schema.as_deref();
    let defs = scan(
        schema, file.file, file.index, file.text, "crate", None, protocol,
    );
    if defs.helpers.is_empty() {
        return None;
    }
    let mut plan = Plan {
        helpers: defs.helpers,
        params: defs.params,
        interceptors: defs.interceptors,
        interceptor_ctors: defs.interceptor_ctors,
        ..Default::default()
    };
    let uses = scan(
        schema,
        file.file,
        file.index,
        file.text,
        "crate",
        Some(&plan),
        protocol,
    );
    plan.involved.insert("crate".into());
    if uses.failures.is_empty() {
        plan.converted.insert("crate".into());
    }
    Some(plan)
}
