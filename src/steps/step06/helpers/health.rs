//! Step 6, tonic-health clients: `tonic_health::pb::health_client::HealthClient` becomes
//! `connectrpc_health::HealthClient`, its messages `connectrpc_health::wire::*`.
//!
//! Needs no `.proto` schema (the health API is fixed). Recognised through name resolution only:
//! `use` leaves and written paths whose canonical path is one of tonic-health's client items.
//!
//! - simple `use` items naming them are rewritten to the connectrpc-health path (the alias is
//!   kept); a group `use` is listed;
//! - multi-segment paths in code (`pb::HealthCheckRequest`, full paths) get the new prefix;
//! - `HealthClient::new(channel)` keeps the tonic channel as the transport
//!   (`connect_shim::client::ChannelTransport`, listed) until the channel itself is native;
//!   `HealthClient<Channel>` is `HealthClient<ChannelTransport<Channel>>`;
//!   `HealthClient::connect(dst).await?` is a native client on `HttpClient` (`--protocol`);
//! - `check(m)` on a known client (a `let` of a construction, a parameter of client type): the
//!   call is native, `Request::new(m)` is unwrapped, the error is converted back to
//!   `tonic::Status` for the code that inspects it (until step 7), `into_inner()` is
//!   `into_owned()` and prost's enum accessor `status()` is `status.as_known().unwrap_or_default()`;
//! - `HealthCheckRequest { service }` gets `..Default::default()` (buffa messages carry unknown
//!   fields).
//!
//! A file where any health client site is not understood (`watch`, a call on a value it cannot
//! follow, a response used another way, an import grouped with other names) is left whole and
//! every such site is listed: a half-migrated file would not compile.

use std::collections::HashSet;
use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::{client_type, ctor_of, item, Common};
use crate::edit::Edit;
use crate::engine::{FileCtx, ItemKind, PassOutput};
use crate::options::ClientProtocol;
use crate::resolve::{range, Resolution};
use crate::rules::tables::PathRename;

/// The tonic client's path: data, in `rules/tables/step06_health.toml`.
fn client() -> &'static [String] {
    &super::health_table().client
}

/// tonic-health client items and their connectrpc-health paths: data, in
/// `rules/tables/step06_health.toml`.
fn map() -> &'static [PathRename] {
    &super::health_table().renames
}

const REQUEST: &[&str] = &["tonic_health", "pb", "HealthCheckRequest"];

/// The mapped item `full` starts with: (index in [`map`], its length).
fn mapped(full: &[String]) -> Option<(usize, usize)> {
    map().iter().enumerate().find_map(|(i, r)| {
        let p = &r.from;
        (full.len() >= p.len() && full.iter().zip(p.iter()).all(|(a, b)| a == b))
            .then_some((i, p.len()))
    })
}

/// The health-client rewrites of one file (nothing unless it names `tonic_health`).
pub(super) fn run(
    file: &FileCtx<'_>,
    out: &mut PassOutput,
    chan: &super::super::channel::FileScan,
    protocol: ClientProtocol,
) {
    if !file.text.contains("tonic_health") {
        return;
    }
    let mut w = Health {
        c: Common::new(super::health_table(), file, chan, protocol),
        done: HashSet::new(),
    };
    w.uses();
    if w.c.edits.is_empty() && w.c.fails.is_empty() {
        // Nothing of the client side is imported by name: only full paths could name it.
        if !file.text.contains("health_client")
            && !file.text.contains("HealthCheckRequest")
            && !file.text.contains("ServingStatus")
        {
            return;
        }
    }
    w.visit_file(file.file);
    if w.c.edits.is_empty() && w.c.fails.is_empty() {
        return;
    }
    let edits = std::mem::take(&mut w.c.edits);
    w.c.finish(file, out, edits, "health-client", |_, _, _| {});
}

struct Health<'a, 'ast> {
    c: Common<'a, 'ast>,
    /// Path starts already rewritten.
    done: HashSet<usize>,
}

impl<'a, 'ast> Health<'a, 'ast> {
    fn resolve(&self, p: &syn::Path) -> Option<Vec<String>> {
        self.c.resolve(p)
    }

    fn is_client_path(&self, p: &syn::Path) -> bool {
        self.resolve(p).is_some_and(|f| f == client())
    }

    // ---- use items ----------------------------------------------------------------------

    fn uses(&mut self) {
        let mut grouped = HashSet::new();
        for (li, l) in self.c.idx.leaves.iter().enumerate() {
            if l.is_glob {
                continue;
            }
            let full = self.c.idx.canonical(self.c.idx.leaf_path(li));
            let Some((i, len)) = mapped(&full) else {
                continue;
            };
            if len != full.len() {
                continue;
            }
            let ui = &self.c.idx.use_items[l.item];
            let mut leaves = Vec::new();
            ui.tree.leaves(&mut leaves);
            if leaves.len() != 1 {
                if grouped.insert(l.item) {
                    self.grouped_use(l.item, &leaves);
                }
                continue;
            }
            // The path from the tree's start to the leaf's name (an `as` rename stays).
            let Some(Range {
                start,
                end: name_end,
            }) = self.c.use_span(l.item, false)
            else {
                continue;
            };
            let text = &self.c.text[start..name_end];
            let lead = if text.starts_with("::") { "::" } else { "" };
            self.c.edit(
                start..name_end,
                format!("{lead}{}", map()[i].to),
                "health-import",
            );
        }
    }

    /// `use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};`: rewritten as a
    /// whole (under `connectrpc_health`) when every name in it is a mapped item, else listed.
    fn grouped_use(&mut self, ui: usize, leaves: &[usize]) {
        let target = |full: &[String], glob: bool| {
            let (i, len) = mapped(full)?;
            (len == full.len() && !glob).then(|| map()[i].to.clone())
        };
        self.c
            .grouped_use(ui, leaves, target, true, "health-import");
    }

    // ---- code ---------------------------------------------------------------------------

    /// `pb::HealthCheckRequest`, `tonic_health::pb::health_client::HealthClient::new`: the
    /// written prefix up to the mapped item becomes the connectrpc-health path.
    fn rewrite_path(&mut self, p: &'ast syn::Path) {
        let r = range(p.span());
        if self.done.contains(&r.start) {
            return;
        }
        let Some(Resolution::One(res)) = self.c.idx.resolve(self.c.tr.current(), p) else {
            return;
        };
        let full = res.full;
        let Some((i, len)) = mapped(&full) else {
            return;
        };
        let n = p.segments.len();
        let extra = full.len() - len;
        if n <= extra + 1 {
            // A single written name for the item: its `use` is rewritten.
            return;
        }
        let last = n - extra - 1;
        let end = range(p.segments[last].ident.span()).end;
        self.done.insert(r.start);
        let lead = if p.leading_colon.is_some() { "::" } else { "" };
        self.c.edit(
            r.start..end,
            format!("{lead}{}", map()[i].to),
            "health-path",
        );
        // Type arguments of the client: the tonic channel is the transport.
        if map()[i].from == client() {
            self.c
                .client_args(&p.segments[last].arguments, true, "health-client");
        }
    }

    /// Type of a client (parameter or annotated `let`), through references.
    fn client_type(&self, t: &syn::Type) -> bool {
        client_type(t, &|p| self.is_client_path(p))
    }

    /// `HealthClient::new(..)` / `::connect(..)` under `.await`, `?`, `unwrap`, `clone`.
    fn ctor_of(&self, e: &'ast syn::Expr) -> Option<&'ast syn::ExprCall> {
        ctor_of(e, &|p| self.is_client_path(p))
    }

    fn ctor(&mut self, c: &'ast syn::ExprCall) {
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        let name = fp.path.segments.last().unwrap().ident.to_string();
        let at = range(c.span()).start;
        match (name.as_str(), c.args.len()) {
            ("new", 1) if self.c.chan.args.contains_key(&range(c.args[0].span()).start) => {
                let ar = range(c.args[0].span());
                let a = self.c.chan.args[&ar.start].clone();
                let cr = range(c.span());
                if !a.pre.is_empty() {
                    self.c.edit(cr.start..cr.start, a.pre, "health-client");
                    self.c.edit(cr.end..cr.end, a.post, "health-client");
                }
                self.c.edit(ar, format!("{}, {}", a.transport, a.config), "health-client");
            }
            ("new", 1) => {
                let ar = range(c.args[0].span());
                let arg = self.c.text[ar.clone()].to_string();
                self.c.edit(ar, super::super::on_channel(&arg), "health-client");
                self.c.notes.push(item(
                    at,
                    "health-client",
                    ItemKind::Manual,
                    "`HealthClient` built on a tonic channel: kept as its transport (connect_shim::client::ChannelTransport)".into(),
                    "build the client on `connectrpc::client::HttpClient` with a `ClientConfig` for the server's URI once the channel is native",
                ));
            }
            ("connect", 1) => {
                // `.await` then `?` / `.unwrap()` / `.expect(..)`, as for the user's clients.
                let Some((end, suffix)) = self.c.connect_end() else {
                    self.c.fail(
                        at,
                        "`HealthClient::connect` not awaited and checked in place",
                        "build `connectrpc_health::HealthClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))`",
                    );
                    return;
                };
                self.c.connect_native(c, end, &suffix, "health-client");
            }
            _ => self.c.fail(
                at,
                &format!("`HealthClient::{name}`"),
                "build `connectrpc_health::HealthClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))`",
            ),
        }
    }

    /// `client.check(m)` on a known client.
    fn call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        let at = range(m.span()).start;
        if name == "clone" {
            return;
        }
        if name != "check" || m.args.len() != 1 {
            self.c.fail(
                at,
                &format!("call `{name}` on the health client"),
                "call connectrpc_health::HealthClient's method (`watch` is a server stream: `message()` loop)",
            );
            return;
        }
        // The request: the message itself, or `Request::new(m)`.
        let arg = &m.args[0];
        if let syn::Expr::Call(c) = arg {
            if let syn::Expr::Path(fp) = &*c.func {
                let full = self.resolve(&fp.path).unwrap_or_default();
                if full == ["tonic", "Request", "new"] && c.args.len() == 1 {
                    let (ar, ir) = (range(arg.span()), range(c.args[0].span()));
                    self.c.edit(ar.start..ir.start, "", "health-call");
                    self.c.edit(ir.end..ar.end, "", "health-call");
                } else if full.first().map(String::as_str) == Some("tonic") {
                    self.c.fail(
                        at,
                        "request built by tonic",
                        "pass the message; metadata and timeouts go to `CallOptions` (`check_with_options`)",
                    );
                    return;
                }
            }
        }
        // `.await`, then the error and the response.
        let depth = self.c.stack.len();
        let Some(syn::Expr::Await(aw)) = depth.checked_sub(2).map(|i| self.c.stack[i]) else {
            self.c
                .fail(at, "call not awaited directly", "await the call");
            return;
        };
        self.c.edits.push(Edit::insert(
            range(aw.span()).end,
            ".map_err(connect_shim::status::to_status)",
            "step06/error-status",
        ));
        let mut i = depth - 2;
        while let Some(up) = i.checked_sub(1).map(|j| self.c.stack[j]) {
            let ok = match up {
                syn::Expr::Try(_) => true,
                syn::Expr::MethodCall(u) => {
                    matches!(
                        u.method.to_string().as_str(),
                        "map_err" | "unwrap" | "expect"
                    ) && ptr_eq_expr(&u.receiver, self.c.stack[i])
                }
                _ => false,
            };
            if !ok {
                break;
            }
            i -= 1;
        }
        let top = self.c.stack[i];
        if let Some(name) = self.let_name_of(top) {
            self.let_uses(&name, at);
            return;
        }
        let parent = i.checked_sub(1).map(|j| self.c.stack[j]);
        let parent2 = i.checked_sub(2).map(|j| self.c.stack[j]);
        let ok = match parent {
            Some(syn::Expr::MethodCall(u)) if ptr_eq_expr(&u.receiver, top) => {
                self.response_use(u, parent2)
            }
            _ => false,
        };
        if !ok {
            self.c.fail(
                at,
                "response used in a way the step does not rewrite",
                "read it with `into_owned()` / `view()`",
            );
        }
    }

    /// `resp.into_inner()` (and `.status()` after it): rewritten; false for anything else.
    fn response_use(
        &mut self,
        u: &'ast syn::ExprMethodCall,
        parent: Option<&'ast syn::Expr>,
    ) -> bool {
        match u.method.to_string().as_str() {
            "into_inner" => {
                self.c
                    .edit(range(u.method.span()), "into_owned", "health-response");
                let own: &syn::Expr = self.expr_of(u);
                if let Some(syn::Expr::MethodCall(s)) = parent {
                    if ptr_eq_expr(&s.receiver, own) && s.method == "status" && s.args.is_empty() {
                        let r = range(s.method.span()).start..range(s.span()).end;
                        self.c.edit(
                            r,
                            "status.as_known().unwrap_or_default()",
                            "health-response",
                        );
                    }
                }
                // `let message = resp.into_inner();` (directly or under `?`/`unwrap`): its
                // `status()` reads too.
                let mut top = own;
                let mut k = self.c.stack.iter().rposition(|e| std::ptr::eq(*e, own));
                while let Some(j) = k.and_then(|k| k.checked_sub(1)) {
                    let up = self.c.stack[j];
                    let wraps = match up {
                        syn::Expr::Try(t) => std::ptr::eq(&*t.expr, top),
                        syn::Expr::MethodCall(x) => {
                            matches!(
                                x.method.to_string().as_str(),
                                "unwrap" | "expect" | "map_err"
                            ) && std::ptr::eq(&*x.receiver, top)
                        }
                        _ => false,
                    };
                    if !wraps {
                        break;
                    }
                    top = up;
                    k = Some(j);
                }
                if let Some(name) = self.let_name_of(top) {
                    self.status_reads(&name);
                }
                true
            }
            _ => false,
        }
    }

    fn expr_of(&self, m: &'ast syn::ExprMethodCall) -> &'ast syn::Expr {
        self.c
            .stack
            .iter()
            .rev()
            .copied()
            .find(|e| matches!(e, syn::Expr::MethodCall(x) if std::ptr::eq(x, m)))
            .unwrap_or(self.c.stack[0])
    }

    /// The name bound by the `let` whose initialiser is `e`, in the current function body.
    fn let_name_of(&self, e: &'ast syn::Expr) -> Option<String> {
        let body = *self.c.bodies.last()?;
        struct F<'x> {
            e: &'x syn::Expr,
            name: Option<Option<String>>,
        }
        impl<'x> Visit<'x> for F<'x> {
            fn visit_local(&mut self, l: &'x syn::Local) {
                if let Some(i) = &l.init {
                    if std::ptr::eq(&*i.expr, self.e) {
                        self.name = Some(match &l.pat {
                            syn::Pat::Ident(p) => Some(p.ident.to_string()),
                            _ => None,
                        });
                    }
                }
                syn::visit::visit_local(self, l);
            }
        }
        let mut f = F { e, name: None };
        f.visit_block(body);
        f.name.flatten()
    }

    /// Every use of the response local `name` must be `name.into_inner()`.
    fn let_uses(&mut self, name: &str, at: usize) {
        let Some(body) = self.c.bodies.last().copied() else {
            return;
        };
        struct U<'x> {
            name: String,
            stack: Vec<&'x syn::Expr>,
            hits: Vec<(Option<&'x syn::Expr>, Option<&'x syn::Expr>)>,
            other: bool,
        }
        impl<'x> Visit<'x> for U<'x> {
            fn visit_expr(&mut self, e: &'x syn::Expr) {
                if let syn::Expr::Path(p) = e {
                    if p.path.is_ident(&self.name) {
                        let n = self.stack.len();
                        self.hits.push((
                            n.checked_sub(1).map(|i| self.stack[i]),
                            n.checked_sub(2).map(|i| self.stack[i]),
                        ));
                    }
                }
                self.stack.push(e);
                syn::visit::visit_expr(self, e);
                self.stack.pop();
            }
            fn visit_macro(&mut self, m: &'x syn::Macro) {
                if m.tokens
                    .to_string()
                    .split(|c: char| !c.is_alphanumeric() && c != '_')
                    .any(|t| t == self.name)
                {
                    self.other = true;
                }
            }
        }
        let mut u = U {
            name: name.to_string(),
            stack: Vec::new(),
            hits: Vec::new(),
            other: false,
        };
        u.visit_block(body);
        if u.other || u.hits.is_empty() {
            self.c.fail(
                at,
                "response read inside a macro or not at all",
                "read it with `into_owned()`",
            );
            return;
        }
        for (p, p2) in u.hits {
            let ok = match p {
                Some(syn::Expr::MethodCall(m)) => {
                    self.c.stack.push(p.unwrap());
                    let ok = self.response_use(m, p2);
                    self.c.stack.pop();
                    ok
                }
                _ => false,
            };
            if !ok {
                self.c.fail(
                    at,
                    &format!("response `{name}` used in a way the step does not rewrite"),
                    "read it with `into_owned()` / `view()`",
                );
                return;
            }
        }
    }

    /// `message.status()` on the owned response `message`: buffa has the field only.
    fn status_reads(&mut self, name: &str) {
        let Some(body) = self.c.bodies.last().copied() else {
            return;
        };
        struct S {
            name: String,
            hits: Vec<Range<usize>>,
        }
        impl S {
            fn check(&mut self, e: &syn::Expr) {
                if let syn::Expr::MethodCall(m) = e {
                    if m.method == "status"
                        && m.args.is_empty()
                        && matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident(&self.name))
                    {
                        self.hits
                            .push(range(m.method.span()).start..range(m.span()).end);
                    }
                }
            }
        }
        impl<'x> Visit<'x> for S {
            fn visit_expr(&mut self, e: &'x syn::Expr) {
                self.check(e);
                syn::visit::visit_expr(self, e);
            }
            fn visit_macro(&mut self, m: &'x syn::Macro) {
                if let Some(exprs) = crate::resolve::macro_exprs(m) {
                    for e in &exprs {
                        self.visit_expr(e);
                    }
                }
            }
        }
        let mut v = S {
            name: name.to_string(),
            hits: Vec::new(),
        };
        v.visit_block(body);
        for r in v.hits {
            self.c.edit(
                r,
                "status.as_known().unwrap_or_default()",
                "health-response",
            );
        }
    }

    /// `HealthCheckRequest { service }`: buffa messages need the rest.
    fn literal(&mut self, s: &'ast syn::ExprStruct) {
        if s.rest.is_some() || s.qself.is_some() {
            return;
        }
        if self.resolve(&s.path).is_none_or(|f| f != REQUEST) {
            return;
        }
        self.c.default_rest(s, "health-message");
    }
}

fn ptr_eq_expr(a: &syn::Expr, b: &syn::Expr) -> bool {
    std::ptr::eq(a, b)
}

impl<'ast> Visit<'ast> for Health<'_, 'ast> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self.c.enter_scope(Some(b.brace_token.span.open()));
        syn::visit::visit_block(self, b);
        self.c.tr.leave(p);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let p = self
            .c
            .enter_scope(m.content.as_ref().map(|(b, _)| b.span.open()));
        syn::visit::visit_item_mod(self, m);
        self.c.tr.leave(p);
    }

    fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Format-style and assert macros: their arguments are expressions of the file.
        if let Some(exprs) = crate::resolve::macro_exprs(m) {
            for e in exprs {
                let e: &'ast syn::Expr = Box::leak(Box::new(e));
                self.visit_expr(e);
            }
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
        self.c.leave_fn();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
        self.c.leave_fn();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        syn::visit::visit_local(self, l);
        let name = self
            .c
            .client_local(l, |t| self.client_type(t), |e| self.ctor_of(e).is_some());
        if let Some(name) = name {
            self.c.bind(name);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.rewrite_path(p);
        syn::visit::visit_path(self, p);
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.c.stack.push(e);
        match e {
            syn::Expr::Call(_) => {
                if let Some(c) = self.ctor_of(e) {
                    self.ctor(c);
                }
            }
            syn::Expr::MethodCall(m) => {
                let on_client = self.c.is_client_value(&m.receiver)
                    || matches!(&*m.receiver, syn::Expr::Call(_))
                        && self.ctor_of(&m.receiver).is_some();
                if on_client {
                    self.call(m);
                } else if matches!(m.method.to_string().as_str(), "check" | "watch")
                    && m.args.len() == 1
                {
                    // Maybe a health client the step cannot see (a struct field, a function's
                    // result): converting the rest of the file would leave it tonic-shaped.
                    self.c.fail(
                        range(m.span()).start,
                        &format!(
                            "`{}` call on a value the step cannot tell is a health client",
                            m.method
                        ),
                        "call it on a local or parameter of client type, or rewrite it by hand",
                    );
                }
            }
            syn::Expr::Struct(s) => self.literal(s),
            _ => {}
        }
        syn::visit::visit_expr(self, e);
        self.c.stack.pop();
    }
}

impl<'ast> Health<'_, 'ast> {
    fn enter_fn(&mut self, sig: &'ast syn::Signature, body: &'ast syn::Block) {
        let vars = super::super::typed_params(sig, |t| self.client_type(t));
        self.c.enter_fn(vars, body);
    }
}
