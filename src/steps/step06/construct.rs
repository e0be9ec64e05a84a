//! Construction: `XClient::connect(dst)`, `XClient::new(channel)`, `with_interceptor`, `with_origin`
//! and client options, to a connect client over an `HttpClient` or the tonic channel.

use super::*;

/// A channel built natively: the transport and `ClientConfig` expressions, and the range of
/// the channel's `let` statement (deleted).
pub(super) struct NativeChannel {
    transport: String,
    config: String,
    let_stmt: Range<usize>,
}

/// What a client constructor becomes.
struct CtorPlan {
    /// The transport and `ClientConfig` expressions of `XClient::new(transport, config)`.
    transport: String,
    config: String,
    /// Where the replaced text ends (after `.await?` and the client options moved).
    end: usize,
    /// Index in the expression chain above the call where client options may start.
    options_at: usize,
    /// Edits beside the replacement (a channel or HTTP client `let` deleted).
    extra_edits: Vec<Edit>,
    /// Text around the new client (a converted channel helper's wrapping).
    wrap: (String, String),
}

/// The constructors of tonic's generated clients.
pub(super) const CTORS: [&str; 4] = ["connect", "new", "with_interceptor", "with_origin"];

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// Links of a method/await/try chain from `e` down to its root, outermost first.
    pub(super) fn ctor_call(
        &self,
        e: &'ast syn::Expr,
    ) -> Option<(&'ast syn::ExprCall, &'s Service, String)> {
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
        if !CTORS.contains(&ctor.as_str()) {
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
    pub(super) fn chain_up(&self, depth_from_top: usize) -> Vec<&'ast syn::Expr> {
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

    pub(super) fn stack_expr(&self, depth_from_top: usize) -> Option<&'ast syn::Expr> {
        let n = self.stack.len();
        match self.stack.get(n.checked_sub(1 + depth_from_top)?)? {
            Node::Expr(e) => Some(e),
            _ => None,
        }
    }

    pub(super) fn stack_node(&self, depth_from_top: usize) -> Option<Node<'ast>> {
        let n = self.stack.len();
        self.stack.get(n.checked_sub(1 + depth_from_top)?).copied()
    }

    /// Config methods of a tonic client -> connect `ClientConfig` text; `Err` for one with no
    /// equivalent (dropped, reported).
    pub(super) fn client_option(
        &mut self,
        m: &syn::ExprMethodCall,
    ) -> Option<Result<String, String>> {
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

    /// A client option called on a client that already exists (`self.inner =
    /// self.inner.max_decoding_message_size(n)`, `client.clone().send_compressed(..)`): the
    /// option moves to the client's `ClientConfig` in a block,
    /// `{ let mut client = <receiver>; let config = client.config().clone().<option>; *client.config_mut() = config; client }`,
    /// the receiver's and argument's text kept as they are (edits inside them stay possible);
    /// an option connectrpc does without is dropped (`accept_compressed`), one it has no
    /// equivalent for is dropped and listed (`max_encoding_message_size`; listed by the run
    /// that drops it: nothing of it is left for a later run to list). Options chained on a
    /// construction are the construction's (`client_options`).
    pub(super) fn convert_option_on_client(&mut self, m: &'ast syn::ExprMethodCall) {
        if self.reaches_ctor(&m.receiver) {
            return;
        }
        let Some(option) = self.client_option(m) else {
            return;
        };
        let at = range(m.method.span()).start;
        let recv = range(m.receiver.span());
        let call_end = range(m.span()).end;
        // Dropping the call from `x = x.option(n);` would leave `x = x;`: the statement goes
        // instead, its argument kept as `let _ = n` where it is a name (no unused variable).
        let dropped = match self.self_assignment(m) {
            Some(stmt) => {
                let arg = m.args.first().filter(|a| matches!(a, syn::Expr::Path(_)));
                match arg {
                    Some(a) => Edit::replace(
                        stmt,
                        format!("let _ = {}", self.src(range(a.span()))),
                        "step06/client-option",
                    ),
                    None => Edit::replace(
                        stmt.start..stmt.end + 1,
                        String::new(),
                        "step06/client-option",
                    ),
                }
            }
            None => Edit::replace(recv.end..call_end, String::new(), "step06/client-option"),
        };
        let edits = match option {
            Ok(t) if t.is_empty() => vec![dropped],
            Ok(t) => {
                // The argument is evaluated inside the block: its names must not be shadowed.
                let words: Vec<&str> = self
                    .src(recv.end..call_end)
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .collect();
                let fresh = |base: &str| {
                    let mut name = base.to_string();
                    while words.contains(&name.as_str()) {
                        name.insert_str(0, "connect_");
                    }
                    name
                };
                let (client, config) = (fresh("client"), fresh("config"));
                let closing = format!("; *{client}.config_mut() = {config}; {client} }}");
                match m.args.first().map(|a| range(a.span())) {
                    // `.with_default_max_message_size(<arg>)`: the argument's text stays.
                    Some(arg) if t.ends_with(&format!("({})", self.src(arg.clone()))) => {
                        let head = &t[..t.len() - self.src(arg.clone()).len() - 1];
                        vec![
                            Edit::insert(
                                recv.start,
                                format!("{{ let mut {client} = "),
                                "step06/client-option",
                            ),
                            Edit::replace(
                                recv.end..arg.start,
                                format!("; let {config} = {client}.config().clone(){head}"),
                                "step06/client-option",
                            ),
                            Edit::replace(
                                arg.end..call_end,
                                format!("){closing}"),
                                "step06/client-option",
                            ),
                        ]
                    }
                    _ => vec![
                        Edit::insert(
                            recv.start,
                            format!("{{ let mut {client} = "),
                            "step06/client-option",
                        ),
                        Edit::replace(
                            recv.end..call_end,
                            format!("; let {config} = {client}.config().clone(){t}{closing}"),
                            "step06/client-option",
                        ),
                    ],
                }
            }
            Err(why) => {
                self.report_dropped_option(at, why);
                vec![dropped]
            }
        };
        self.commit(edits, at, "client-option");
    }

    /// The range of `x = x.option(..)` when `m` (on top of the stack) is its right side and
    /// the assignment is a statement ending in `;` (the range excludes the `;`).
    fn self_assignment(&self, m: &'ast syn::ExprMethodCall) -> Option<Range<usize>> {
        let n = self.stack.len();
        let (Some(Node::Expr(syn::Expr::Assign(a))), Some(Node::Block(b))) = (
            self.stack.get(n.checked_sub(2)?),
            self.stack.get(n.checked_sub(3)?),
        ) else {
            return None;
        };
        let same = self.src(range(a.left.span())) == self.src(range(m.receiver.span()));
        let is_right = range(a.right.span()) == range(m.span());
        let stmt = b.stmts.iter().any(|s| {
            matches!(s, syn::Stmt::Expr(syn::Expr::Assign(x), Some(_)) if range(x.span()) == range(a.span()))
        });
        let r = range(a.span());
        (same && is_right && stmt && self.src(r.end..r.end + 1) == ";").then_some(r)
    }

    /// A client option with no connectrpc equivalent, dropped (`why` says which).
    fn report_dropped_option(&mut self, at: usize, why: String) {
        self.report(
            at,
            "client-option",
            ItemKind::Manual,
            why,
            "set the limit on the server, or drop it",
        );
    }

    /// Does the chain of calls, awaits and `?` under `e` start at a client construction?
    fn reaches_ctor(&self, e: &'ast syn::Expr) -> bool {
        match e {
            syn::Expr::MethodCall(m) => self.reaches_ctor(&m.receiver),
            syn::Expr::Await(a) => self.reaches_ctor(&a.base),
            syn::Expr::Try(t) => self.reaches_ctor(&t.expr),
            syn::Expr::Paren(p) => self.reaches_ctor(&p.expr),
            syn::Expr::Call(_) => self.ctor_call(e).is_some(),
            _ => false,
        }
    }

    pub(super) fn convert_ctor(&mut self, c: &'ast syn::ExprCall, svc: &'s Service, ctor: String) {
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
        let args: Vec<String> = c
            .args
            .iter()
            .map(|a| self.src(range(a.span())).to_string())
            .collect();
        let native = c
            .args
            .first()
            .and_then(|a| self.chan.args.get(&range(a.span()).start))
            .filter(|_| matches!(ctor.as_str(), "new" | "with_interceptor"))
            .cloned();
        let mut plan = CtorPlan {
            transport: String::new(),
            config: String::new(),
            end: range(c.span()).end,
            options_at: 0,
            extra_edits: Vec::new(),
            wrap: (String::new(), String::new()),
        };
        let items_before = self.out.items.len();
        let planned = match ctor.as_str() {
            _ if native.is_some() => {
                let a = native.unwrap();
                plan.wrap = (a.pre, a.post);
                plan.transport = a.transport;
                plan.config = a.config;
                true
            }
            "connect" => self.plan_connect(c, svc, &chain, &args, &mut plan),
            "new" => self.plan_new(c, svc, &args, &mut plan),
            "with_interceptor" if args.len() == 2 => {
                self.report(
                    start,
                    "interceptor",
                    ItemKind::Manual,
                    INTERCEPTOR.0.into(),
                    INTERCEPTOR.1,
                );
                plan.transport = format!(
                    "connect_shim::client::ChannelTransport::new(tonic::service::interceptor::InterceptedService::new({}, {}))",
                    args[0], args[1]
                );
                plan.config = "connect_shim::client::channel_config()".to_string();
                true
            }
            "with_origin" if args.len() == 2 => self.plan_with_origin(c, svc, &args, &mut plan),
            _ => false,
        };
        if !planned {
            // Its clients stay on tonic in this file (the next walk leaves the service alone):
            // what was listed for the construction is kept for that walk's report.
            self.left_found.insert(svc.full_name.clone());
            {
                let listed: Vec<ManualItem> = self.out.items[items_before..].to_vec();
                if listed.is_empty() {
                    self.report(
                        start,
                        "client-left",
                        ItemKind::Manual,
                        format!("`{}::{ctor}` in a form the step does not rewrite: the service's clients in this file stay on tonic", svc.tonic_client),
                        "build the connect client: `XClient::new(transport, ClientConfig::new(uri))`",
                    );
                    self.left_items
                        .push(self.out.items.last().cloned().unwrap());
                } else {
                    self.left_items.extend(listed.into_iter().map(|mut i| {
                        i.message
                            .push_str(": the service's clients in this file stay on tonic");
                        i
                    }));
                }
            }
            return;
        }
        if !plan
            .transport
            .starts_with("connect_shim::client::ChannelTransport")
        {
            self.native_found.insert(svc.full_name.clone());
        }
        self.client_options(&chain, &mut plan);
        let text = format!(
            "{}{ty_text}::new({}, {}){}",
            plan.wrap.0, plan.transport, plan.config, plan.wrap.1
        );
        let mut edits = vec![Edit::replace(start..plan.end, text, "step06/client-new")];
        edits.extend(plan.extra_edits);
        self.commit(edits, start, "client-new");
    }

    /// `XClient::connect(dst).await` then `?` / `.unwrap()` / `.expect(..)`: an `HttpClient`
    /// and a `ClientConfig` on `dst`. `false` (reported) for any other shape.
    fn plan_connect(
        &mut self,
        c: &'ast syn::ExprCall,
        svc: &'s Service,
        chain: &[&'ast syn::Expr],
        args: &[String],
        plan: &mut CtorPlan,
    ) -> bool {
        let start = range(c.span()).start;
        let (transport_fn, proto) = transport_for(self.protocol);
        // `.await` then `?` / `.unwrap()` / `.expect(..)`.
        let Some(syn::Expr::Await(_)) = chain.first() else {
            self.report(start, "connect", ItemKind::Manual, format!("`{}::connect` not awaited in place: not rewritten", svc.tonic_client), "build the connect client: `XClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))`");
            return false;
        };
        let suffix = match chain.get(1) {
            Some(syn::Expr::Try(t)) => {
                plan.end = range(t.span()).end;
                "?".to_string()
            }
            Some(syn::Expr::MethodCall(m)) if m.method == "unwrap" || m.method == "expect" => {
                plan.end = range(m.span()).end;
                let from = range(m.receiver.span()).end;
                self.src(from..plan.end).trim_start().to_string()
            }
            _ => {
                self.report(start, "connect", ItemKind::Manual, format!("the result of `{}::connect` is not handled with `?`, `unwrap` or `expect`: not rewritten", svc.tonic_client), "build the connect client: `XClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))` (construction cannot fail; an unreachable server shows as `Unavailable` on the first call)");
                return false;
            }
        };
        // A destination connectrpc's HttpClient cannot reach (tonic's `unix:` sockets): the
        // service's clients stay on tonic in this file.
        if let Some(uri) = c.args.first().and_then(|a| self.literal_value(a)) {
            let scheme = match uri.split_once("://") {
                Some((s, _)) => Some(s),
                None => uri.starts_with("unix:").then_some("unix"),
            };
            if let Some(scheme) = scheme.filter(|s| *s != "http" && *s != "https") {
                self.report(start, "connect", ItemKind::Manual, format!("`{}::connect(\"{uri}\")`: connectrpc's HttpClient has no `{scheme}:` transport, so this construction is not rewritten", svc.tonic_client), "give the connect client a transport of your own over the socket (a `connectrpc::client::ClientTransport`), or keep the tonic channel under `connect_shim::client::ChannelTransport`");
                return false;
            }
        }
        plan.options_at = 2;
        let dst = args.first().cloned().unwrap_or_default();
        plan.transport = format!("connectrpc::client::HttpClient::{transport_fn}()");
        plan.config = format!(
            "connectrpc::client::ClientConfig::new({dst}.parse(){suffix}).with_protocol(connectrpc::Protocol::{proto})"
        );
        true
    }

    /// The string `e` is: a literal, or a local of the enclosing function bound once to one.
    fn literal_value(&self, e: &syn::Expr) -> Option<String> {
        let lit = |e: &syn::Expr| match e {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        };
        if let Some(v) = lit(e) {
            return Some(v);
        }
        let syn::Expr::Path(p) = e else {
            return None;
        };
        let name = p.path.get_ident()?.to_string();
        let body = *self.fn_bodies.last()?;
        match super::walker::lets_named(&name, body)[..] {
            [(l, _)] => l.init.as_ref().and_then(|i| lit(&i.expr)),
            _ => None,
        }
    }

    /// `XClient::new(channel)`: built natively when the channel is a local chain used only
    /// here, else on the tonic channel (reported).
    fn plan_new(
        &mut self,
        c: &'ast syn::ExprCall,
        svc: &'s Service,
        args: &[String],
        plan: &mut CtorPlan,
    ) -> bool {
        let start = range(c.span()).start;
        let Some(arg) = c.args.first() else {
            return false;
        };
        match self.native_channel(arg) {
            Some(NativeChannel {
                transport,
                config,
                let_stmt,
            }) => {
                plan.extra_edits
                    .push(Edit::delete(let_stmt, "step06/client-new"));
                plan.transport = transport;
                plan.config = config;
            }
            None => {
                self.report(
                    start,
                    "channel-transport",
                    ItemKind::Manual,
                    format!("`{}` built on a tonic channel: kept as its transport (connect_shim::client::ChannelTransport)", svc.tonic_client),
                    "build the client on `HttpClient` / `Http2Connection` with `ClientConfig::new(uri)` once nothing else needs the channel",
                );
                self.kept_found.insert(svc.full_name.clone());
                plan.transport =
                    format!("connect_shim::client::ChannelTransport::new({})", args[0]);
                plan.config = "connect_shim::client::channel_config()".to_string();
            }
        }
        true
    }

    /// `XClient::with_origin(GrpcWebClientService::new(http), origin)`: a gRPC-Web
    /// `HttpClient` on `origin`. `false` (reported) for a custom service.
    fn plan_with_origin(
        &mut self,
        c: &'ast syn::ExprCall,
        svc: &'s Service,
        args: &[String],
        plan: &mut CtorPlan,
    ) -> bool {
        let start = range(c.span()).start;
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
            return false;
        }
        // The HTTP client handed to `GrpcWebClientService::new(http)`: its `let` goes
        // when nothing else uses it (its type would no longer be inferred).
        if let syn::Expr::Call(inner) = &c.args[0] {
            if let Some(syn::Expr::Path(hp)) = inner.args.first() {
                if let Some(id) = hp.path.get_ident() {
                    match self.single_use_let(&id.to_string()) {
                        Some(del) => plan.extra_edits.push(Edit::delete(del, "step06/client-new")),
                        None => self.report(start, "with-origin", ItemKind::Manual, format!("`{id}` was the HTTP client of the gRPC-Web service: the connect client brings its own"), "remove it when nothing else uses it"),
                    }
                }
            }
        }
        plan.transport = "connectrpc::client::HttpClient::plaintext()".to_string();
        plan.config = format!(
            "connectrpc::client::ClientConfig::new({}).with_protocol(connectrpc::Protocol::GrpcWeb)",
            args[1]
        );
        true
    }

    /// Client options following the construction (from `plan.options_at` in the chain) move
    /// to the config; the replaced text grows over them.
    fn client_options(&mut self, chain: &[&'ast syn::Expr], plan: &mut CtorPlan) {
        let mut config_extra = String::new();
        let mut i = plan.options_at;
        while let Some(syn::Expr::MethodCall(m)) = chain.get(i) {
            match self.client_option(m) {
                Some(Ok(t)) => config_extra.push_str(&t),
                Some(Err(why)) => self.report_dropped_option(range(m.method.span()).start, why),
                None => break,
            }
            plan.end = range(m.span()).end;
            i += 1;
        }
        plan.config.push_str(&config_extra);
    }

    /// `arg` is a local bound to a `Channel`/`Endpoint` chain used only here: the transport
    /// and config to build natively, and the `let` statement to delete.
    pub(super) fn native_channel(&mut self, arg: &syn::Expr) -> Option<NativeChannel> {
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
        let (transport_fn, proto) = transport_for(self.protocol);
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
        Some(NativeChannel {
            transport,
            config,
            let_stmt: del,
        })
    }
}
