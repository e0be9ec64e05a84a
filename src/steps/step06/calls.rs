//! Calls: a unary call on a known client made native (its request unwrapped, its options
//! moved to `CallOptions`) or kept tonic-shaped through the shim's wrappers.

use super::*;

/// A request taken apart for a native call (see `Walker::native_request`).
pub(super) struct ReqPlan {
    pub(super) edits: Vec<Edit>,
    /// The converted request helper the request comes from.
    pub(super) helper: Option<usize>,
    /// The call passes a helper's `(message, options)`: the call's text becomes this block.
    pub(super) whole: Option<String>,
    /// The `CallOptions` local to pass (the call becomes `_with_options`).
    pub(super) options: Option<String>,
    /// The binary metadata encoder is used.
    pub(super) encode: bool,
}

/// A client made in place, bound to a local before the shim wrapper.
pub(super) struct InlineClient {
    /// The local's name (`client`, with `_` added until no word of the argument is it).
    client: String,
    /// Where the call's `.await` ends (the block closes there).
    await_end: usize,
}

/// One client call being converted.
pub(super) struct CallSite<'ast> {
    m: &'ast syn::ExprMethodCall,
    /// The request argument.
    arg: &'ast syn::Expr,
    /// The receiver's text, or the local an in-place client is bound to.
    recv: String,
    inline: Option<InlineClient>,
    /// The method's name.
    name: String,
}

impl CallSite<'_> {
    /// The edits putting the call on the shim wrapper `f` with `closure` calling the connect
    /// client: `connect_shim::client::<f>(<arg>, <closure>)`.
    fn shim_wrap(&self, f: &str, closure: String) -> Vec<Edit> {
        let m = self.m;
        let arg_r = range(self.arg.span());
        let call_r = range(m.span());
        match &self.inline {
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
            Some(InlineClient { client, await_end }) => {
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
        }
    }
}

/// A unary call made native: its edits, whether they use the binary metadata encoder /
/// decoder, and the request helper whose call it converts.
pub(super) struct NativeUnary {
    edits: Vec<Edit>,
    encode: bool,
    decode: bool,
    helper: Option<usize>,
}

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// Is `e` a client value: a known local, or a construction of a client?
    pub(super) fn receiver_service(&self, e: &syn::Expr) -> Option<&'s Service> {
        match e {
            syn::Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                let s = self.vars.last()?.get(&name)?;
                self.service(s)
            }
            syn::Expr::Field(f) => self.field_service(f),
            syn::Expr::Paren(p) => self.receiver_service(&p.expr),
            syn::Expr::Reference(r) => self.receiver_service(&r.expr),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                self.receiver_service(&u.expr)
            }
            _ => None,
        }
    }

    /// The service of a client value produced by `e` (constructions, client functions, clones).
    pub(super) fn value_service(&self, e: &syn::Expr) -> Option<&'s Service> {
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
                    // A method of the crate's own returning a client (`client.version()`).
                    super::method_service(&self.known, &name).and_then(|s| self.service(s))
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
            syn::Expr::Path(_) | syn::Expr::Field(_) => self.receiver_service(e),
            _ => None,
        }
    }

    /// `Request::new(e)` (tonic) -> `e`.
    pub(super) fn request_new<'e>(&self, e: &'e syn::Expr) -> Option<&'e syn::ExprCall> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let full = self.resolve_full(&fp.path)?;
        (full == ["tonic", "Request", "new"] && c.args.len() == 1).then_some(c)
    }

    pub(super) fn is_message_value(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Struct(_) => true,
            syn::Expr::Call(c) => {
                c.args.is_empty()
                    && matches!(&*c.func, syn::Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "default"))
            }
            _ => false,
        }
    }

    /// [`Walker::native_request`], or no edits where `arg` is known to be the message itself
    /// (a crate function declared to return the request message `input`) or, to a
    /// client-streaming call (`stream`), a plain stream of messages.
    fn request_plan(&self, arg: &'ast syn::Expr, input: &str, stream: bool) -> Option<ReqPlan> {
        if stream || self.returns_message(arg, input) {
            return Some(ReqPlan {
                edits: Vec::new(),
                helper: None,
                whole: None,
                options: None,
                encode: false,
            });
        }
        self.native_request(arg)
    }

    /// Edits that pass `arg` natively (a message), or `None` when it may be a `tonic::Request`
    /// the step cannot take apart. A local request built by `let mut r = Request::new(m);` and
    /// statements setting its metadata and timeout (`crate::steps::metadata`) gives the message
    /// and a `CallOptions` local built by those statements, rewritten in place.
    pub(super) fn native_request(&self, arg: &'ast syn::Expr) -> Option<ReqPlan> {
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
    pub(super) fn scalar_field(&self, msg: &str, field: &str) -> bool {
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
    pub(super) fn copy_field(&self, msg: &str, field: &str) -> bool {
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

    pub(super) fn convert_call(&mut self, m: &'ast syn::ExprMethodCall, svc: &'s Service) {
        let name = m.method.to_string();
        let Some(method) = svc.methods.iter().find(|x| x.rust_name == name) else {
            return;
        };
        let arg = match m.args.len() {
            1 => &m.args[0],
            _ => return,
        };
        let Some(inline) = self.inline_client(m, &name, arg) else {
            return;
        };
        let site = CallSite {
            m,
            arg,
            recv: match &inline {
                Some(i) => i.client.clone(),
                None => self.src(range(m.receiver.span())).to_string(),
            },
            inline,
            name,
        };
        match method.kind {
            StreamingKind::Unary => self.convert_unary(&site, method),
            // A client-streaming call on a plain stream of messages whose answer nothing reads
            // is native (the shim's wrapper does not compile inside `tokio::spawn`: its view
            // type's lifetime is not general enough); one whose answer is read stays on the
            // wrapper for step 8.
            StreamingKind::ClientStream
                if self.plain_stream(arg)
                    && matches!(self.chain_up(0).first(), Some(aw @ syn::Expr::Await(_)) if self.discarded(aw)) =>
            {
                self.convert_unary(&site, method)
            }
            kind => self.convert_streaming(&site, kind),
        }
    }

    /// A client made in place (`X::connect(url).await?`, `X::new(ch)`) cannot be written
    /// again in the wrappers' closures (which neither await nor re-run it): it is bound before
    /// the wrapper, `{ let client = <receiver>; wrapper(.., |..| client.m_with_options(..)).await }`,
    /// its own text left to the construction's rewrite. Only where the call is awaited:
    /// `None` (reported) otherwise; `Some(None)` for a receiver that is a place.
    fn inline_client(
        &mut self,
        m: &'ast syn::ExprMethodCall,
        name: &str,
        arg: &'ast syn::Expr,
    ) -> Option<Option<InlineClient>> {
        if place_like(&m.receiver) {
            return Some(None);
        }
        let Some(syn::Expr::Await(aw)) = self.stack_expr(1) else {
            self.report(
                range(m.span()).start,
                "unary-call",
                ItemKind::Manual,
                format!("call `{name}` on a client made in place, not awaited there: not rewritten"),
                &format!("bind the client to a local first, then run the step again (`{name}` takes the message itself)"),
            );
            return None;
        };
        let arg_text = self.src(range(arg.span()));
        let mut client = "client".to_string();
        while arg_text
            .split(|c: char| !(c == '_' || c.is_alphanumeric()))
            .any(|w| w == client)
        {
            client.push('_');
        }
        Some(Some(InlineClient {
            client,
            await_end: range(aw.span()).end,
        }))
    }

    /// A streaming call kept tonic-shaped over the connect client through the shim's wrapper
    /// (listed for step 8).
    fn convert_streaming(&mut self, site: &CallSite<'ast>, kind: StreamingKind) {
        let (m, recv, name) = (site.m, &site.recv, &site.name);
        let start = range(m.span()).start;
        // A request built by a converted request helper is `(message, CallOptions)`:
        // turned back into a tonic request for the wrapper (step 8 passes both natively).
        let parts = self
            .helper_parts(site.arg)
            .or_else(|| self.helper_let_options(site.arg));
        let (f, closure) = match kind {
            StreamingKind::ServerStream => (
                "tonic_server_stream",
                format!("|request, options| {recv}.{name}_with_options(request, options)"),
            ),
            StreamingKind::ClientStream => (
                "tonic_client_stream",
                format!("|requests, options| {recv}.{name}_with_options(requests, options)"),
            ),
            _ => (
                "tonic_bidi",
                format!("|options| {recv}.{name}_with_options(options)"),
            ),
        };
        let mut edits = site.shim_wrap(f, closure);
        if let Some((_, more)) = &parts {
            edits[0].text.push_str(REQUEST_FROM_OPTIONS);
            edits[0].text.push('(');
            edits[1].text.insert(0, ')');
            edits.extend(more.iter().cloned());
        }
        if self.commit(edits, start, "streaming-call") {
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
    }

    /// A unary call made native when its request and response are understood, else kept
    /// tonic-shaped through `connect_shim::client::tonic_unary` (listed).
    fn convert_unary(&mut self, site: &CallSite<'ast>, method: &crate::schema::Method) {
        let stream = matches!(method.kind, StreamingKind::ClientStream);
        let (m, recv, name) = (site.m, &site.recv, &site.name);
        let start = range(m.span()).start;
        self.why.replace(None);
        match self.plan_native_unary(m, &method.input, &method.output, site.arg, stream) {
            Some(native) => {
                if self.commit(native.edits, start, "unary-call") {
                    self.need_encode |= native.encode;
                    self.need_decode |= native.decode;
                    if let Some(h) = native.helper {
                        self.helper_done.borrow_mut()[h] += 1;
                    }
                }
            }
            None if stream => self.convert_streaming(site, method.kind),
            None => {
                let closure =
                    format!("|request, options| {recv}.{name}_with_options(request, options)");
                let why = self.why.take().unwrap_or_else(|| {
                    "its request or response is used in a way the step does not rewrite".into()
                });
                if self.commit(site.shim_wrap("tonic_unary", closure), start, "unary-call") {
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

    pub(super) fn plan_native_unary(
        &self,
        m: &'ast syn::ExprMethodCall,
        input: &str,
        output: &str,
        arg: &'ast syn::Expr,
        stream: bool,
    ) -> Option<NativeUnary> {
        let req = self.request_plan(arg, input, stream)?;
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
            // `.map(|r| ..)`: what follows is the closure's value, not the response.
            Some(syn::Expr::MethodCall(u)) if u.method == "map" => {
                edits.extend(self.mapped_response(u, output)?);
            }
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
            None if self.discarded(chain[0]) => {}
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
        Some(NativeUnary {
            edits,
            encode: req.encode,
            decode: self.decode.get(),
            helper: req.helper,
        })
    }

    /// The method call `arg` is the argument of (the call being converted).
    pub(super) fn call_of(&self, arg: &syn::Expr) -> Option<&'ast syn::ExprMethodCall> {
        match self.stack_expr(0)? {
            syn::Expr::MethodCall(m) if m.args.len() == 1 && ptr_eq(&m.args[0], arg) => Some(m),
            _ => None,
        }
    }
}
