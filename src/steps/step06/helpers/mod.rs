//! Step 6, the clients of tonic's helper crates: tonic-health's `HealthClient` becomes
//! connectrpc-health's, tonic-reflection's `ServerReflectionClient` connectrpc-reflection's.
//!
//! Both walks have one shape, kept here: find the crate's names (through name resolution only:
//! `use` leaves, aliases, full paths), rename the paths by the service's table
//! (`rules/tables/step06_{health,reflection}.toml`, [`ServiceTable`]), follow the client from its
//! construction (`new(channel)` keeps the tonic channel as its transport, `connect(dst).await?`
//! is a native client on `HttpClient`, `--protocol`) to its locals and parameters, give message
//! literals `..Default::default()`, and list every site not understood, leaving the whole file
//! alone then (a half-migrated file would not compile). What a table cannot say lives with its
//! service: the health check call and its response ([`health`]), the reflection versions, its
//! bidi call, boxed oneof variants and the v1alpha client ([`reflection`]).
//!
//! ```text
//! Before: let mut c = HealthClient::connect(dst).await?;
//! After:  let mut c = HealthClient::new(connectrpc::client::HttpClient::plaintext_http2_only(),
//!             connectrpc::client::ClientConfig::new(dst.parse()?).with_protocol(connectrpc::Protocol::Grpc));
//! ```

use std::collections::HashSet;
use std::ops::Range;

use syn::spanned::Spanned;

use crate::edit::Edit;
use crate::engine::{FileCtx, ItemKind, ManualItem, PassOutput};
use crate::options::ClientProtocol;
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker, UTree};
use crate::rules::tables::{self, ServiceTable};
use crate::steps::common::items::item_at;

mod health;
mod reflection;
#[cfg(test)]
mod tests;

/// The helper-client rewrites of one file: health, then reflection.
pub(super) fn run(
    file: &FileCtx<'_>,
    out: &mut PassOutput,
    chan: &super::channel::FileScan,
    protocol: ClientProtocol,
) {
    health::run(file, out, chan, protocol);
    reflection::run(file, out, chan, protocol);
}

/// The health table (`rules/tables/step06_health.toml`).
fn health_table() -> &'static ServiceTable {
    static T: std::sync::OnceLock<ServiceTable> = std::sync::OnceLock::new();
    T.get_or_init(|| tables::embedded_service(tables::STEP06_HEALTH))
}

/// The reflection table (`rules/tables/step06_reflection.toml`).
fn reflection_table() -> &'static ServiceTable {
    static T: std::sync::OnceLock<ServiceTable> = std::sync::OnceLock::new();
    T.get_or_init(|| tables::embedded_service(tables::STEP06_REFLECTION))
}

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    item_at(offset, format!("step06/{rule}"), kind, message, note)
}

/// The state both walks share: the file, the edits and sites listed so far, the locals bound to
/// a client per function, and the expressions being visited.
struct Common<'a, 'ast> {
    table: &'static ServiceTable,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    edits: Vec<Edit>,
    /// (offset, why, what to do)
    fails: Vec<(usize, String, String)>,
    notes: Vec<ManualItem>,
    /// Per function: locals bound to a client.
    vars: Vec<HashSet<String>>,
    bodies: Vec<&'ast syn::Block>,
    stack: Vec<&'ast syn::Expr>,
    /// Converted channel values (channel.rs).
    chan: &'a super::channel::FileScan,
    /// The protocol of the clients built (`--protocol`).
    protocol: ClientProtocol,
}

impl<'a, 'ast> Common<'a, 'ast> {
    fn new(
        table: &'static ServiceTable,
        file: &'a FileCtx<'a>,
        chan: &'a super::channel::FileScan,
        protocol: ClientProtocol,
    ) -> Self {
        Common {
            table,
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            edits: Vec::new(),
            fails: Vec::new(),
            notes: Vec::new(),
            vars: vec![HashSet::new()],
            bodies: Vec::new(),
            stack: Vec::new(),
            chan,
            protocol,
        }
    }

    fn edit(&mut self, r: Range<usize>, text: impl Into<String>, rule: &str) {
        self.edits
            .push(Edit::replace(r, text, &format!("step06/{rule}")));
    }

    fn fail(&mut self, at: usize, why: &str, what: &str) {
        self.fails.push((at, why.to_string(), what.to_string()));
    }

    /// What `p` resolves to, as written by the index (not canonical).
    fn resolve(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => Some(r.full),
            Resolution::Ambiguous(_) => None,
        }
    }

    /// A local or parameter bound to a client (through `&`, `*`, parentheses).
    fn is_client_value(&self, e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.vars.last().is_some_and(|v| v.contains(&i.to_string()))),
            syn::Expr::Paren(p) => self.is_client_value(&p.expr),
            syn::Expr::Reference(r) => self.is_client_value(&r.expr),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                self.is_client_value(&u.expr)
            }
            _ => false,
        }
    }

    /// The `.await` then `?` / `.unwrap()` / `.expect(..)` around the `connect` call on top of
    /// the stack: where the construction's text ends, and the suffix kept after `parse()`.
    fn connect_end(&self) -> Option<(usize, String)> {
        let n = self.stack.len();
        let up = |k: usize| n.checked_sub(k).map(|i| self.stack[i]);
        match (up(2), up(3)) {
            (Some(syn::Expr::Await(_)), Some(syn::Expr::Try(t))) => {
                Some((range(t.span()).end, "?".to_string()))
            }
            (Some(syn::Expr::Await(_)), Some(syn::Expr::MethodCall(m)))
                if m.method == "unwrap" || m.method == "expect" =>
            {
                let from = range(m.receiver.span()).end;
                let e = range(m.span()).end;
                Some((e, self.text[from..e].trim_start().to_string()))
            }
            _ => None,
        }
    }

    /// `Client::connect(dst).await?` ending at `end`: `Client::new(HttpClient, ClientConfig)`.
    fn connect_native(&mut self, c: &syn::ExprCall, end: usize, suffix: &str, rule: &str) {
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        let (transport_fn, proto) = super::transport_for(self.protocol);
        let dst = self.text[range(c.args[0].span())].to_string();
        let seg = fp.path.segments.last().unwrap();
        self.edit(range(seg.ident.span()), "new", rule);
        self.edit(
            range(c.paren_token.span.open()).start..end,
            format!("(connectrpc::client::HttpClient::{transport_fn}(), connectrpc::client::ClientConfig::new({dst}.parse(){suffix}).with_protocol(connectrpc::Protocol::{proto}))"),
            rule,
        );
    }

    /// The `<Channel>` type argument of a client type: the tonic channel is the transport
    /// (`native`: a converted channel is `HttpClient`).
    fn client_args(&mut self, args: &syn::PathArguments, native: bool, rule: &str) {
        let syn::PathArguments::AngleBracketed(a) = args else {
            return;
        };
        for g in &a.args {
            let syn::GenericArgument::Type(t) = g else {
                continue;
            };
            let syn::Type::Path(tp) = t else { continue };
            let full = self.resolve(&tp.path).unwrap_or_default();
            if full.first().map(String::as_str) == Some("tonic")
                && matches!(
                    full.last().map(String::as_str),
                    Some("Channel" | "InterceptedService")
                )
            {
                let tr = range(t.span());
                if native
                    && self.chan.converted
                    && full.last().map(String::as_str) == Some("Channel")
                {
                    self.edit(tr, "connectrpc::client::HttpClient", rule);
                    continue;
                }
                self.edit(
                    tr.start..tr.start,
                    "connect_shim::client::ChannelTransport<",
                    rule,
                );
                self.edit(tr.end..tr.end, ">", rule);
            } else if !matches!(t, syn::Type::Infer(_)) {
                let why = format!(
                    "{} client over a transport the step does not know",
                    self.table.label
                );
                self.fail(
                    range(t.span()).start,
                    &why,
                    "use a `connectrpc::client::HttpClient` transport",
                );
            }
        }
    }

    /// `Message { field }` without a rest: buffa messages carry unknown fields, the literal
    /// gets `..Default::default()` (on its own line in a multi-line literal).
    fn default_rest(&mut self, s: &syn::ExprStruct, rule: &str) {
        let close = range(s.brace_token.span.close()).start;
        let before = self.text[..close].trim_end();
        let sep = if before.ends_with(',') || before.ends_with('{') {
            ""
        } else {
            ","
        };
        let at = before.len();
        let multi = self.text[at..close].contains('\n');
        let text = if multi {
            let indent = crate::edit::indent_at(
                self.text,
                range(s.fields.first().map_or(s.span(), |f| f.span())).start,
            );
            format!("{sep}\n{indent}..Default::default()")
        } else {
            format!("{sep} ..Default::default()")
        };
        self.edit(at..at, text, rule);
    }

    /// The range of a single-name `use` item from the tree's start to the end of the leaf's
    /// name (an `as` rename stays after it); `leaf`: a tree that is a bare name counts.
    fn use_span(&self, ui: usize, leaf: bool) -> Option<Range<usize>> {
        let tree = &self.idx.use_items[ui].tree;
        match tree {
            UTree::Path(_, r) => {
                let mut t = tree;
                while let UTree::Path(inner, _) = t {
                    t = inner;
                }
                let UTree::Leaf(_, lr) = t else { return None };
                Some(r.start..lr.start + leaf_name_len(&self.text[lr.clone()]))
            }
            UTree::Leaf(_, lr) if leaf => {
                Some(lr.start..lr.start + leaf_name_len(&self.text[lr.clone()]))
            }
            _ => None,
        }
    }

    /// A `use` item naming several of the crate's items (`use pb::{a::A, B};`): rewritten as a
    /// whole when every name in it has a twin (`target` of its canonical path, `None` for a
    /// glob), under the connect crate's root (`under_root`) or else the longest module prefix
    /// the twins share; listed otherwise.
    fn grouped_use(
        &mut self,
        ui: usize,
        leaves: &[usize],
        target: impl Fn(&[String], bool) -> Option<String>,
        under_root: bool,
        rule: &str,
    ) {
        let item = &self.idx.use_items[ui];
        let at = item.range.start;
        let label = &self.table.label;
        let mut targets = Vec::new();
        for &li in leaves {
            let l = &self.idx.leaves[li];
            let full = self.idx.canonical(self.idx.leaf_path(li));
            let Some(t) = target(&full, l.is_glob) else {
                let why = format!(
                    "import of `{}` grouped with tonic-{label}'s client items",
                    full.join("::")
                );
                let what =
                    format!("split the import: tonic-{label}'s client items on their own `use`");
                self.fail(at, &why, &what);
                return;
            };
            targets.push((t, l.name.clone()));
        }
        let split: Vec<Vec<&str>> = targets
            .iter()
            .map(|(t, _)| t.split("::").collect())
            .collect();
        let common = if under_root {
            1
        } else {
            let mut common = split[0].len() - 1;
            for s in &split[1..] {
                common = common.min(s.len() - 1);
                common = (0..common).take_while(|&i| s[i] == split[0][i]).count();
            }
            common
        };
        if common == 0 {
            let why =
                format!("tonic-{label} items grouped in one import have no common connect module");
            self.fail(at, &why, "split the import: one `use` per item");
            return;
        }
        let prefix = split[0][..common].join("::");
        let mut parts = Vec::new();
        for (s, (_, name)) in split.iter().zip(&targets) {
            let path = s[common..].join("::");
            let last = s.last().copied().unwrap_or("");
            if name.is_empty() {
                parts.push(format!("{path} as _"));
            } else if name != last {
                parts.push(format!("{path} as {name}"));
            } else {
                parts.push(path);
            }
        }
        let r = item.tree.range();
        let lead = if self.text[r.clone()].starts_with("::") {
            "::"
        } else {
            ""
        };
        let text = if parts.len() == 1 {
            format!("{lead}{prefix}::{}", parts[0])
        } else {
            format!("{lead}{prefix}::{{{}}}", parts.join(", "))
        };
        self.edit(r, text, rule);
    }

    /// Enter the scope of a block or inline module opening at `open` (none: an outline
    /// module); the result goes to `self.tr.leave` when the walk leaves it.
    fn enter_scope(&mut self, open: Option<proc_macro2::Span>) -> bool {
        match open {
            Some(o) => self.tr.enter(self.idx, range(o).start),
            None => false,
        }
    }

    /// Enter a function whose parameters `vars` are clients ([`super::typed_params`]).
    fn enter_fn(&mut self, vars: HashSet<String>, body: &'ast syn::Block) {
        self.vars.push(vars);
        self.bodies.push(body);
    }

    fn leave_fn(&mut self) {
        self.vars.pop();
        self.bodies.pop();
    }

    /// `let x = <client>` / `let x: Client = ..`: the name bound to a client.
    fn client_local(
        &self,
        l: &syn::Local,
        client_type: impl Fn(&syn::Type) -> bool,
        client_init: impl Fn(&syn::Expr) -> bool,
    ) -> Option<String> {
        let (pat, ty) = match &l.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let syn::Pat::Ident(id) = pat else {
            return None;
        };
        let is = ty.is_some_and(client_type)
            || l.init
                .as_ref()
                .is_some_and(|i| client_init(&i.expr) || self.is_client_value(&i.expr));
        is.then(|| id.ident.to_string())
    }

    /// The local `name` of the current function is a client.
    fn bind(&mut self, name: String) {
        if let Some(v) = self.vars.last_mut() {
            v.insert(name);
        }
    }

    /// The end of a walk: the sites not understood are listed (the file is left whole), else
    /// the edits are committed as one, unless an ignore marker covers one of them. `rule`: the
    /// service's client rule; `extra`: what the service adds once the file converts.
    fn finish(
        mut self,
        file: &FileCtx<'_>,
        out: &mut PassOutput,
        mut edits: Vec<Edit>,
        rule: &str,
        extra: impl FnOnce(&mut Vec<Edit>, &mut Vec<ManualItem>, usize),
    ) {
        let label = &self.table.label;
        if !self.fails.is_empty() {
            let n = self.fails.len();
            for (at, why, what) in std::mem::take(&mut self.fails) {
                out.items.push(item(
                    at,
                    rule,
                    ItemKind::Manual,
                    format!("tonic-{label} client site not rewritten: {why}; the file's {label} client stays on tonic-{label} ({n} site(s))"),
                    &what,
                ));
            }
            return;
        }
        let at = edits.iter().map(|e| e.range.start).min().unwrap_or(0);
        let suppressed = |off: usize| {
            let (line, _) = crate::edit::line_col(self.text, off);
            file.suppress_lines.contains(&line)
                || (line > 1 && file.suppress_lines.contains(&(line - 1)))
        };
        if edits.iter().any(|e| suppressed(e.range.start)) {
            out.items.push(item(
                at,
                rule,
                ItemKind::Skipped,
                "left alone (ignore marker)".into(),
                "",
            ));
            return;
        }
        extra(&mut edits, &mut self.notes, at);
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        edits.dedup_by(|a, b| a.range == b.range && a.text == b.text);
        match out.commit(edits) {
            Ok(()) => out.items.extend(self.notes),
            Err(o) => out.items.push(item(
                at,
                rule,
                ItemKind::Manual,
                format!("tonic-{label} client not rewritten: {o}"),
                &format!(
                    "rewrite the {label} client by hand ({})",
                    self.table.connect_client
                ),
            )),
        }
    }
}

/// The type of a client (a parameter, an annotated `let`), through references.
fn client_type(t: &syn::Type, is_client_path: &dyn Fn(&syn::Path) -> bool) -> bool {
    match t {
        syn::Type::Reference(r) => client_type(&r.elem, is_client_path),
        syn::Type::Paren(p) => client_type(&p.elem, is_client_path),
        syn::Type::Path(p) if p.qself.is_none() => is_client_path(&p.path),
        _ => false,
    }
}

/// `Client::new(..)` / `Client::connect(..)` under `.await`, `?`, `unwrap`, `expect`.
fn ctor_of<'ast>(
    e: &'ast syn::Expr,
    is_client_path: &dyn Fn(&syn::Path) -> bool,
) -> Option<&'ast syn::ExprCall> {
    match e {
        syn::Expr::Await(a) => ctor_of(&a.base, is_client_path),
        syn::Expr::Try(t) => ctor_of(&t.expr, is_client_path),
        syn::Expr::Paren(p) => ctor_of(&p.expr, is_client_path),
        syn::Expr::MethodCall(m)
            if matches!(m.method.to_string().as_str(), "unwrap" | "expect") =>
        {
            ctor_of(&m.receiver, is_client_path)
        }
        syn::Expr::Call(c) => {
            let syn::Expr::Path(fp) = &*c.func else {
                return None;
            };
            if fp.path.segments.len() < 2 {
                return None;
            }
            let mut ty = fp.path.clone();
            ty.segments.pop();
            let last = ty.segments.pop()?.into_value();
            ty.segments.push(last);
            is_client_path(&ty).then_some(c)
        }
        _ => None,
    }
}

fn leaf_name_len(leaf: &str) -> usize {
    leaf.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(leaf.len())
}
