//! Step 6, tonic-reflection clients: `tonic_reflection::pb::v1::server_reflection_client::
//! ServerReflectionClient` becomes `connectrpc_reflection::ServerReflectionClient`, the messages
//! and oneofs of `pb::v1` / `pb::v1alpha` (and of `pb` itself, tonic-reflection's v1alpha before
//! the two versions) `connectrpc_reflection::wire::{v1, v1alpha}::*`.
//!
//! connectrpc-reflection exports no v1alpha client: a file using one gets a small client of its
//! own (`ServerReflectionV1alphaClient`, a brand-new item at the end of the file, over
//! `connectrpc::client::call_bidi_stream` with the crate's v1alpha method spec).
//!
//! Recognised through name resolution only (`use` leaves, aliases, full paths):
//!
//! - `use` items naming the client, the messages, the oneof modules or the version modules are
//!   rewritten to the connectrpc-reflection path (an alias is kept);
//! - paths in code written from the crate (`tonic_reflection::pb::v1::ServerReflectionRequest`)
//!   or through a version module (`v1::server_reflection_client::ServerReflectionClient`) get
//!   the new path where the item lives elsewhere;
//! - `ServerReflectionClient::new(channel)` keeps the tonic channel as its transport (the same
//!   construction as the step's other helper clients, listed); `::connect(dst).await?` is a
//!   native client on `HttpClient` (`--protocol`);
//! - `client.server_reflection_info(outbound)` (a bidi stream) stays tonic-shaped through
//!   `connect_shim::client::tonic_bidi(outbound, |options| client.server_reflection_info_with_options(options))`,
//!   as the step does for the user's own bidi calls, and step 8 makes it native; a call on a
//!   client built in place (`ServerReflectionClient::new(ch).server_reflection_info(..)`) first
//!   binds the client to a local before the statement;
//! - buffa messages carry unknown fields: struct literals get `..Default::default()`, struct
//!   patterns `..`; message variants of the oneofs are boxed in buffa: `Variant(m)` built gets
//!   `Box::new(m)`, a pattern binding it by name still reads through the box.
//!
//! A file where any reflection client site is not understood (another method, a call on a
//! value the step cannot follow, `original_request` (a `MessageField` in buffa), an item of the
//! crate with no connect twin, a glob import) is left whole and every such site is listed.

use std::collections::HashSet;
use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use super::{client_type, ctor_of, Common};
use crate::edit::Edit;
use crate::engine::{FileCtx, ItemKind, ManualItem, PassOutput};
use crate::options::ClientProtocol;
use crate::resolve::range;
use crate::rules::tables::ServiceTable;

const RULE: &str = "reflection-client";
const V1ALPHA_CLIENT: &str = "ServerReflectionV1alphaClient";

/// The reflection table: messages, oneofs and their boxed variants, the client
/// (`rules/tables/step06_reflection.toml`).
fn table() -> &'static ServiceTable {
    super::reflection_table()
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ver {
    V1,
    V1alpha,
    /// `tonic_reflection::pb` itself (holds `v1` and `v1alpha`).
    Pb,
}

impl Ver {
    fn name(self) -> &'static str {
        match self {
            Ver::V1 => "v1",
            Ver::V1alpha => "v1alpha",
            Ver::Pb => "",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    /// The version module (`pb::v1`) or `pb`.
    Module,
    /// `server_reflection_client` alone.
    ClientModule,
    Client,
    Message,
    OneofModule,
    Oneof,
    Unknown,
}

/// A tonic-reflection client-side item: its version, kind, how many segments of `rest` (the
/// path after the version module) name the item, and `rest`.
#[derive(Debug)]
struct Item {
    ver: Ver,
    old_style: bool,
    kind: Kind,
    len: usize,
    rest: Vec<String>,
}

impl Item {
    /// The connect path of the item (`in_use`: spelled for a `use` item).
    fn target(&self, in_use: bool) -> Option<String> {
        match self.kind {
            Kind::Client => Some(match self.ver {
                Ver::V1 => "connectrpc_reflection::ServerReflectionClient".to_string(),
                _ if in_use => format!("self::{V1ALPHA_CLIENT}"),
                _ => V1ALPHA_CLIENT.to_string(),
            }),
            Kind::Module if self.ver == Ver::Pb => Some("connectrpc_reflection::wire".into()),
            Kind::Module | Kind::Message | Kind::OneofModule | Kind::Oneof => {
                let mut s = format!("connectrpc_reflection::wire::{}", self.ver.name());
                for r in &self.rest[..self.len] {
                    s.push_str("::");
                    s.push_str(r);
                }
                Some(s)
            }
            Kind::ClientModule | Kind::Unknown => None,
        }
    }

    /// A variant of a oneof holding a message (`MessageResponse::ListServicesResponse`).
    fn boxed_variant(&self) -> bool {
        self.kind == Kind::Oneof
            && self.rest.len() == 3
            && table()
                .oneofs
                .iter()
                .any(|o| self.rest[1] == o.name && o.boxed.contains(&self.rest[2]))
    }
}

/// What a canonical path names in tonic-reflection's client side (`None`: not tonic-reflection's
/// `pb`).
fn classify(full: &[String]) -> Option<Item> {
    if full.len() < 2 || full[0] != "tonic_reflection" || full[1] != "pb" {
        return None;
    }
    let (ver, old_style, rest) = match full.get(2).map(String::as_str) {
        None => (Ver::Pb, false, Vec::new()),
        Some("v1") => (Ver::V1, false, full[3..].to_vec()),
        Some("v1alpha") => (Ver::V1alpha, false, full[3..].to_vec()),
        // tonic-reflection before 0.11: `pb` is v1alpha.
        Some(_) => (Ver::V1alpha, true, full[2..].to_vec()),
    };
    let t = table();
    // `server_reflection_client::ServerReflectionClient`: the client's module and name.
    let client = &t.client[t.client.len() - 2..];
    let oneof_module = |m: &str| t.oneofs.iter().any(|o| o.module == m);
    let oneof = |m: &str, e: &str| t.oneofs.iter().any(|o| o.module == m && o.name == e);
    let r: Vec<&str> = rest.iter().map(String::as_str).collect();
    let (kind, len) = match r.as_slice() {
        [] => (Kind::Module, 0),
        [m] if *m == client[0] => (Kind::ClientModule, 1),
        [m, c, ..] if *m == client[0] && *c == client[1] => (Kind::Client, 2),
        [m, ..] if t.messages.iter().any(|x| x == m) => (Kind::Message, 1),
        [m] if oneof_module(m) => (Kind::OneofModule, 1),
        [m, e, ..] if oneof(m, e) => (Kind::Oneof, 2),
        _ => (Kind::Unknown, r.len()),
    };
    Some(Item {
        ver,
        old_style,
        kind,
        len,
        rest,
    })
}

fn item(offset: usize, kind: ItemKind, message: String, note: &str) -> ManualItem {
    super::item(offset, RULE, kind, message, note)
}

/// The reflection-client rewrites of one file (nothing unless it names tonic-reflection's
/// client side).
pub(super) fn run(
    file: &FileCtx<'_>,
    out: &mut PassOutput,
    chan: &super::super::channel::FileScan,
    protocol: ClientProtocol,
) {
    if !file.text.contains("tonic_reflection") {
        return;
    }
    let mut w = Reflection {
        c: Common::new(table(), file, chan, protocol),
        stmts: Vec::new(),
        replaced: Vec::new(),
        client_side: false,
        alpha_client: false,
        taken: vec![HashSet::new()],
    };
    w.uses();
    w.visit_file(file.file);
    if !w.client_side {
        // Server-side names only (the descriptor set, the server builder): other steps.
        return;
    }
    if w.c.text.contains("original_request") {
        let at = w.c.text.find("original_request").unwrap_or(0);
        w.c.fail(
            at,
            "`original_request` is a `buffa::MessageField` in connectrpc-reflection (an `Option` in prost)",
            "read it with `as_option()` after migrating the file by hand",
        );
    }
    if w.c.edits.is_empty() && w.c.fails.is_empty() {
        return;
    }
    let replaced = std::mem::take(&mut w.replaced);
    let edits: Vec<Edit> = std::mem::take(&mut w.c.edits)
        .into_iter()
        .filter(|e| {
            !replaced.iter().any(|r| {
                r.start <= e.range.start && e.range.end <= r.end && e.rule != "step06/hoist"
            })
        })
        .collect();
    let (alpha_client, text) = (w.alpha_client, w.c.text);
    w.c.finish(file, out, edits, RULE, |edits, notes, at| {
        if alpha_client {
            let end = text.len();
            let sep = if text.ends_with('\n') { "\n" } else { "\n\n" };
            edits.push(Edit::insert(
                end,
                format!("{sep}{}", v1alpha_client()),
                "step06/reflection-v1alpha-client",
            ));
            notes.push(item(
                at,
                ItemKind::Manual,
                format!("connectrpc-reflection exports no v1alpha client: `{V1ALPHA_CLIENT}` added at the end of the file (connectrpc::client::call_bidi_stream)"),
                "prefer `connectrpc_reflection::ServerReflectionClient` (v1) where the server speaks v1",
            ));
        }
    });
}

/// The v1alpha client added to a file that used tonic-reflection's (a brand-new item).
fn v1alpha_client() -> String {
    const W: &str = "connectrpc_reflection::wire::v1alpha";
    let ret = format!(
        "Result<\n        connectrpc::client::BidiStream<\n            T::ResponseBody,\n            {W}::ServerReflectionRequest,\n            <{W}::ServerReflectionResponse as connectrpc::HasMessageView>::View<'static>,\n        >,\n        connectrpc::ConnectError,\n    >"
    );
    [
        "/// A `grpc.reflection.v1alpha.ServerReflection` client (connectrpc-reflection exports a v1 client",
        "/// only); added by cargo connect-migrate (step 6).",
        "#[derive(Clone, Debug)]",
        &format!("struct {V1ALPHA_CLIENT}<T> {{"),
        "    transport: T,",
        "    config: connectrpc::client::ClientConfig,",
        "}",
        "",
        "#[allow(dead_code)]",
        &format!("impl<T> {V1ALPHA_CLIENT}<T>"),
        "where",
        "    T: connectrpc::client::ClientTransport,",
        "    <T::ResponseBody as connectrpc::http_body::Body>::Error: std::fmt::Display,",
        "{",
        "    fn new(transport: T, config: connectrpc::client::ClientConfig) -> Self {",
        "        Self { transport, config }",
        "    }",
        "",
        &format!("    async fn server_reflection_info(&self) -> {ret} {{"),
        "        self.server_reflection_info_with_options(connectrpc::client::CallOptions::default())",
        "            .await",
        "    }",
        "",
        "    async fn server_reflection_info_with_options(",
        "        &self,",
        "        options: connectrpc::client::CallOptions,",
        &format!("    ) -> {ret} {{"),
        "        connectrpc::client::call_bidi_stream(",
        "            &self.transport,",
        "            &self.config,",
        &format!("            {W}::SERVER_REFLECTION_SERVER_REFLECTION_INFO_SPEC"),
        "                .with_origin(connectrpc::SpecOrigin::Client),",
        "            options,",
        "        )",
        "        .await",
        "    }",
        "}",
        "",
    ]
    .join("\n")
}

struct Reflection<'a, 'ast> {
    c: Common<'a, 'ast>,
    /// The statements being visited, innermost last.
    stmts: Vec<&'ast syn::Stmt>,
    /// Ranges whose text is rewritten wholesale (edits inside them are dropped).
    replaced: Vec<Range<usize>>,
    /// The file names the client, a message or a oneof.
    client_side: bool,
    /// A v1alpha client is used: its connect client is added to the file.
    alpha_client: bool,
    /// Per function: names of the locals added.
    taken: Vec<HashSet<String>>,
}

impl<'a, 'ast> Reflection<'a, 'ast> {
    fn resolve(&self, p: &syn::Path) -> Option<Vec<String>> {
        self.c.resolve(p).map(|full| self.c.idx.canonical(full))
    }

    fn item_of(&self, p: &syn::Path) -> Option<Item> {
        classify(&self.resolve(p)?)
    }

    fn note_item(&mut self, it: &Item) {
        if matches!(
            it.kind,
            Kind::Client | Kind::ClientModule | Kind::Message | Kind::Oneof | Kind::OneofModule
        ) {
            self.client_side = true;
        }
        if it.kind == Kind::Client && it.ver != Ver::V1 {
            self.alpha_client = true;
        }
    }

    fn in_root_module(&self) -> bool {
        self.c.idx.module_scope(self.c.tr.current()) == self.c.idx.root()
    }

    // ---- use items ----------------------------------------------------------------------

    fn uses(&mut self) {
        let mut grouped = HashSet::new();
        for (li, l) in self.c.idx.leaves.iter().enumerate() {
            let full = self.c.idx.canonical(self.c.idx.leaf_path(li));
            let Some(it) = classify(&full) else {
                continue;
            };
            self.note_item(&it);
            let ui = &self.c.idx.use_items[l.item];
            let at = ui.range.start;
            if l.is_glob {
                self.c.fail(
                    at,
                    "glob import of tonic-reflection's generated module",
                    "import the reflection items by name",
                );
                continue;
            }
            if it.kind == Kind::Client
                && it.ver != Ver::V1
                && self.c.idx.module_scope(l.scope) != self.c.idx.root()
            {
                self.c.fail(
                    at,
                    "v1alpha client imported inside a module",
                    "import it at the top level of the file, or use the v1 client",
                );
                continue;
            }
            let mut leaves = Vec::new();
            ui.tree.leaves(&mut leaves);
            if leaves.len() != 1 {
                if grouped.insert(l.item) {
                    self.grouped_use(l.item, &leaves);
                }
                continue;
            }
            let Some(target) = it.target(true) else {
                if it.kind == Kind::ClientModule {
                    self.c.fail(
                        at,
                        &format!("import of `{}`", full.join("::")),
                        "import the client itself (`connectrpc_reflection::ServerReflectionClient`)",
                    );
                }
                // Other items of the crate (the descriptor set) stay tonic-reflection's.
                continue;
            };
            let Some(Range {
                start,
                end: name_end,
            }) = self.c.use_span(l.item, true)
            else {
                continue;
            };
            let written = &self.c.text[start..name_end];
            let lead = if written.starts_with("::") && !target.starts_with("self") {
                "::"
            } else {
                ""
            };
            let last = target.rsplit("::").next().unwrap_or(&target);
            // `use v1::server_reflection_client::ServerReflectionClient;`: the alias keeps the
            // written name where the target's differs.
            let written_last = written.rsplit("::").next().unwrap_or(written).trim();
            let alias_follows = self.c.text[name_end..].trim_start().starts_with("as ");
            let alias = if !alias_follows && written_last != last {
                format!(" as {written_last}")
            } else {
                String::new()
            };
            if format!("{lead}{target}{alias}") != written {
                self.c
                    .edit(start..name_end, format!("{lead}{target}{alias}"), RULE);
            }
        }
    }

    /// `use tonic_reflection::pb::{v1, v1alpha};`: rewritten as a whole when every name in it
    /// has a twin under one common prefix, else listed.
    fn grouped_use(&mut self, ui: usize, leaves: &[usize]) {
        let target = |full: &[String], glob: bool| {
            classify(full)
                .filter(|_| !glob)
                .and_then(|it| it.target(false))
        };
        self.c.grouped_use(ui, leaves, target, false, RULE);
    }

    // ---- code ---------------------------------------------------------------------------

    /// The text a written path to a reflection item takes (`None`: left as written), and
    /// the item. Fails where the item has no twin.
    fn path_rewrite(&mut self, p: &syn::Path) -> Option<(Range<usize>, String)> {
        let it = self.item_of(p)?;
        self.note_item(&it);
        let r = range(p.span());
        let n = p.segments.len();
        let extra = it.rest.len() - it.len;
        if n <= extra + 1 {
            // A single written name for the item: its `use` is rewritten (or listed).
            return None;
        }
        let mut first = p.clone();
        while first.segments.len() > 1 {
            first.segments.pop();
        }
        let first_seg = first.segments.pop().unwrap().into_value();
        first.segments.push(syn::PathSegment {
            ident: first_seg.ident,
            arguments: syn::PathArguments::None,
        });
        let via = self.item_of(&first);
        let Some(target) = it.target(false) else {
            // `tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET` written in full stays valid; through
            // a module import the step rewrites it would not.
            if it.kind != Kind::Module && via.as_ref().is_some_and(|v| v.kind == Kind::Module) {
                self.c.fail(
                    r.start,
                    &format!("`{}`", self.c.text[r.clone()].trim()),
                    "tonic-reflection's item has no connectrpc-reflection twin: rewrite by hand",
                );
            }
            return None;
        };
        match via {
            // Written through a version module or `pb`, whose `use` is rewritten: the rest of
            // the path names the same item under the connect module, except the client.
            Some(v) if v.kind == Kind::Module && it.kind != Kind::Client => {
                if v.ver == Ver::Pb && it.old_style {
                    // `pb::ServerReflectionRequest` (old layout) with `pb` imported.
                } else {
                    return None;
                }
            }
            // Through an imported item (an alias of the client, a oneof module): its `use` is
            // rewritten.
            Some(v) if v.kind != Kind::Module => return None,
            _ => {}
        }
        if it.kind == Kind::Client && it.ver != Ver::V1 && !self.in_root_module() {
            self.c.fail(
                r.start,
                "v1alpha client named inside a module",
                "use it at the top level of the file, or use the v1 client",
            );
            return None;
        }
        let last = n - extra - 1;
        let end = range(p.segments[last].ident.span()).end;
        let lead = if p.leading_colon.is_some() && !target.starts_with(V1ALPHA_CLIENT) {
            "::"
        } else {
            ""
        };
        Some((r.start..end, format!("{lead}{target}")))
    }

    fn rewrite_path(&mut self, p: &'ast syn::Path) {
        if let Some((r, text)) = self.path_rewrite(p) {
            self.c.edit(r, text, RULE);
        }
        let Some(it) = self.item_of(p) else { return };
        if it.kind == Kind::Client {
            let n = p.segments.len();
            let extra = it.rest.len() - it.len;
            if n > extra {
                self.c
                    .client_args(&p.segments[n - extra - 1].arguments, false, RULE);
            }
        }
    }

    /// The text of `p` once rewritten (for text moved elsewhere).
    fn path_text(&mut self, p: &syn::Path) -> String {
        let r = range(p.span());
        match self.path_rewrite(p) {
            Some((pr, text)) => format!("{text}{}", &self.c.text[pr.end..r.end]),
            None => self.c.text[r].to_string(),
        }
    }

    fn is_client_path(&self, p: &syn::Path) -> bool {
        self.item_of(p)
            .is_some_and(|it| it.kind == Kind::Client && it.rest.len() == it.len)
    }

    fn client_type(&self, t: &syn::Type) -> bool {
        client_type(t, &|p| self.is_client_path(p))
    }

    /// `ServerReflectionClient::new(..)` / `::connect(..)` under `.await`, `?`, `unwrap`.
    fn ctor_of(&self, e: &'ast syn::Expr) -> Option<&'ast syn::ExprCall> {
        ctor_of(e, &|p| self.is_client_path(p))
    }

    /// The constructor's text once rewritten (`new(channel)` on the channel as transport).
    /// `None`: listed.
    fn ctor(&mut self, c: &'ast syn::ExprCall, emit: bool) -> Option<String> {
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let name = fp.path.segments.last().unwrap().ident.to_string();
        let at = range(c.span()).start;
        match (name.as_str(), c.args.len()) {
            ("new", 1)
                if self
                    .c
                    .chan
                    .args
                    .contains_key(&range(c.args[0].span()).start) =>
            {
                // A channel step 6 makes native (channel.rs): its transport and config.
                let ar = range(c.args[0].span());
                let a = self.c.chan.args[&ar.start].clone();
                let args = format!("{}, {}", a.transport, a.config);
                if emit {
                    let cr = range(c.span());
                    if !a.pre.is_empty() {
                        self.c
                            .edits
                            .push(Edit::insert(cr.start, a.pre, &format!("step06/{RULE}")));
                        self.c
                            .edits
                            .push(Edit::insert(cr.end, a.post, &format!("step06/{RULE}")));
                    }
                    self.c.edit(ar, args, RULE);
                    return Some(String::new());
                }
                let path = self.path_text(&fp.path);
                Some(format!("{}{path}({args}){}", a.pre, a.post))
            }
            ("new", 1) => {
                let ar = range(c.args[0].span());
                let arg = self.c.text[ar.clone()].to_string();
                let args = super::super::on_channel(&arg);
                self.c.notes.push(item(
                    at,
                    ItemKind::Manual,
                    "`ServerReflectionClient` built on a tonic channel: kept as its transport (connect_shim::client::ChannelTransport)".into(),
                    "build the client on `connectrpc::client::HttpClient` with a `ClientConfig` for the server's URI once the channel is native",
                ));
                if emit {
                    self.c.edit(ar, args, RULE);
                    return Some(String::new());
                }
                let path = self.path_text(&fp.path);
                Some(format!("{path}({args})"))
            }
            ("connect", 1) if emit => {
                let Some((end, suffix)) = self.c.connect_end() else {
                    self.c.fail(
                        at,
                        "`ServerReflectionClient::connect` not awaited and checked in place",
                        "build `connectrpc_reflection::ServerReflectionClient::new(HttpClient::plaintext_http2_only(), ClientConfig::new(uri).with_protocol(Protocol::Grpc))`",
                    );
                    return None;
                };
                self.c.connect_native(c, end, &suffix, RULE);
                Some(String::new())
            }
            _ => {
                self.c.fail(
                    at,
                    &format!("`ServerReflectionClient::{name}` (in this position)"),
                    "build `connectrpc_reflection::ServerReflectionClient::new(transport, config)` and bind it to a local",
                );
                None
            }
        }
    }

    /// `client.server_reflection_info(outbound)` on a known client, or on a client built in
    /// place.
    fn call(&mut self, m: &'ast syn::ExprMethodCall, inline: Option<&'ast syn::ExprCall>) {
        let name = m.method.to_string();
        let at = range(m.span()).start;
        if name == "clone" && inline.is_none() {
            return;
        }
        if name != "server_reflection_info" || m.args.len() != 1 {
            self.c.fail(
                at,
                &format!("call `{name}` on the reflection client"),
                "call connectrpc_reflection::ServerReflectionClient's method (`server_reflection_info_with_options` takes the `CallOptions`)",
            );
            return;
        }
        let arg_r = range(m.args[0].span());
        let call_r = range(m.span());
        let recv = match inline {
            None => self.c.text[range(m.receiver.span())].trim().to_string(),
            Some(c) => {
                // Bind the client before the statement: the closure borrows it.
                let Some(stmt) = self.stmts.last().copied() else {
                    self.c.fail(
                        at,
                        "client built in place outside a statement",
                        "bind the client to a local",
                    );
                    return;
                };
                let sr = range(stmt.span());
                let crosses = self.c.stack.iter().any(|e| {
                    matches!(e, syn::Expr::Closure(_) | syn::Expr::Async(_))
                        && range(e.span()).start >= sr.start
                });
                if crosses {
                    self.c.fail(
                        at,
                        "client built in place inside a closure or async block",
                        "bind the client to a local and call `server_reflection_info` on it",
                    );
                    return;
                }
                let Some(ctor) = self.ctor(c, false) else {
                    return;
                };
                let body = self
                    .c
                    .bodies
                    .last()
                    .map(|b| self.c.text[range(b.span())].to_string());
                let mut local = "reflection_client".to_string();
                let mut k = 2;
                while body.as_deref().is_some_and(|b| has_word(b, &local))
                    || self.taken.last().is_some_and(|t| t.contains(&local))
                {
                    local = format!("reflection_client{k}");
                    k += 1;
                }
                if let Some(t) = self.taken.last_mut() {
                    t.insert(local.clone());
                }
                let indent = crate::edit::indent_at(self.c.text, sr.start).to_string();
                let rr = range(m.receiver.span());
                self.replaced.push(rr.clone());
                self.c.edit(
                    sr.start..sr.start,
                    format!("let {local} = {ctor};\n{indent}"),
                    "hoist",
                );
                local
            }
        };
        self.c.edit(
            call_r.start..arg_r.start,
            "connect_shim::client::tonic_bidi(",
            "reflection-call",
        );
        self.c.edit(
            arg_r.end..call_r.end,
            format!(", |options| {recv}.server_reflection_info_with_options(options))"),
            "reflection-call",
        );
        self.c.notes.push(item(
            at,
            ItemKind::Manual,
            "reflection call `server_reflection_info` kept tonic-shaped over the connect client (connect_shim::client::tonic_bidi)".into(),
            "step 8 makes streaming calls native",
        ));
    }

    /// Struct literals of the messages: buffa messages need the rest.
    fn literal(&mut self, s: &'ast syn::ExprStruct) {
        if s.rest.is_some() || s.dot2_token.is_some() || s.qself.is_some() {
            return;
        }
        if self
            .item_of(&s.path)
            .is_none_or(|it| it.kind != Kind::Message || it.rest.len() != 1)
        {
            return;
        }
        self.c.default_rest(s, "reflection-message");
    }

    /// `Variant(m)` of a boxed oneof variant: `Variant(Box::new(m))`.
    fn boxed_call(&mut self, c: &'ast syn::ExprCall) {
        let syn::Expr::Path(fp) = &*c.func else {
            return;
        };
        if !self.item_of(&fp.path).is_some_and(|it| it.boxed_variant()) || c.args.len() != 1 {
            return;
        }
        let r = range(c.args[0].span());
        self.c.edits.push(Edit::insert(
            r.start,
            "Box::new(",
            "step06/reflection-message",
        ));
        self.c
            .edits
            .push(Edit::insert(r.end, ")", "step06/reflection-message"));
    }
}

/// `matches!(expr, pattern if guard)` read as its parts.
fn matches_parts(m: &syn::Macro) -> Option<(syn::Expr, syn::Pat, Option<syn::Expr>)> {
    use syn::parse::Parser;
    let parser = |input: syn::parse::ParseStream<'_>| {
        let e: syn::Expr = input.parse()?;
        let _: syn::Token![,] = input.parse()?;
        let p = syn::Pat::parse_multi_with_leading_vert(input)?;
        let g = if input.peek(syn::Token![if]) {
            let _: syn::Token![if] = input.parse()?;
            Some(input.parse::<syn::Expr>()?)
        } else {
            None
        };
        let _: Option<syn::Token![,]> = input.parse()?;
        Ok((e, p, g))
    };
    parser.parse2(m.tokens.clone()).ok()
}

fn has_word(text: &str, word: &str) -> bool {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|t| t == word)
}

impl<'ast> Visit<'ast> for Reflection<'_, 'ast> {
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
        if m.path.segments.last().is_some_and(|s| s.ident == "matches") {
            // `matches!(expr, pattern if guard)`: the pattern is one.
            if let Some((e, p, g)) = matches_parts(m) {
                let e: &'ast syn::Expr = Box::leak(Box::new(e));
                let p: &'ast syn::Pat = Box::leak(Box::new(p));
                self.visit_expr(e);
                self.visit_pat(p);
                if let Some(g) = g {
                    let g: &'ast syn::Expr = Box::leak(Box::new(g));
                    self.visit_expr(g);
                }
            }
            return;
        }
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
        self.taken.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
        self.c.leave_fn();
        self.taken.pop();
    }

    fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
        self.stmts.push(s);
        syn::visit::visit_stmt(self, s);
        self.stmts.pop();
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

    fn visit_pat(&mut self, p: &'ast syn::Pat) {
        match p {
            syn::Pat::TupleStruct(t)
                if self.item_of(&t.path).is_some_and(|it| it.boxed_variant()) =>
            {
                let ok = t.elems.iter().all(|e| {
                    matches!(e, syn::Pat::Wild(_) | syn::Pat::Rest(_))
                        || matches!(e, syn::Pat::Ident(i) if i.subpat.is_none())
                });
                if !ok {
                    self.c.fail(
                        range(t.span()).start,
                        "pattern inside a oneof variant boxed in buffa",
                        "bind the variant's message to a name and match on its fields",
                    );
                }
            }
            syn::Pat::Struct(s) => {
                let msg = self
                    .item_of(&s.path)
                    .is_some_and(|it| it.kind == Kind::Message && it.rest.len() == 1);
                if msg && s.rest.is_none() && s.qself.is_none() {
                    let close = range(s.brace_token.span.close()).start;
                    let before = self.c.text[..close].trim_end();
                    let sep = if before.ends_with(',') || before.ends_with('{') {
                        " "
                    } else {
                        ", "
                    };
                    self.c.edits.push(Edit::insert(
                        before.len(),
                        format!("{sep}.."),
                        "step06/reflection-message",
                    ));
                }
            }
            _ => {}
        }
        syn::visit::visit_pat(self, p);
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.c.stack.push(e);
        match e {
            syn::Expr::Call(c) => {
                if let Some(c) = self.ctor_of(e) {
                    // A client built in place and called at once is handled with the call.
                    let called = self.c.stack.len() >= 2
                        && matches!(self.c.stack[self.c.stack.len() - 2], syn::Expr::MethodCall(m) if std::ptr::eq(&*m.receiver, e));
                    if !called {
                        self.ctor(c, true);
                    }
                } else {
                    self.boxed_call(c);
                }
            }
            syn::Expr::MethodCall(m) => {
                if self.c.is_client_value(&m.receiver) {
                    self.call(m, None);
                } else if let (syn::Expr::Call(c), Some(_)) =
                    (&*m.receiver, self.ctor_of(&m.receiver))
                {
                    self.call(m, Some(c));
                } else if m.method == "server_reflection_info" {
                    self.c.fail(
                        range(m.span()).start,
                        "`server_reflection_info` call on a value the step cannot tell is a reflection client",
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

impl<'ast> Reflection<'_, 'ast> {
    fn enter_fn(&mut self, sig: &'ast syn::Signature, body: &'ast syn::Block) {
        let vars = super::super::typed_params(sig, |t| self.client_type(t));
        self.c.enter_fn(vars, body);
        self.taken.push(HashSet::new());
    }
}
