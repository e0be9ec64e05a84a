//! Step 2: service implementations take connect requests and return connect responses.
//!
//! Assumes step 1 (one set of buffa messages; the package module re-exports the connect trait,
//! `<SVC>_SERVICE_NAME` and `<Svc>Ext` beside tonic's `<svc>_server` module). Driven by the
//! `.proto` schema and name resolution, never by a bare identifier:
//!
//! - each `impl <pkg>::<svc>_server::<Trait> for T` becomes `impl <pkg>::<Trait> for T` (the
//!   `<svc>_server::` segment is deleted, in the impl's path or in the `use` that names it);
//!   `#[tonic::async_trait]` becomes `#[allow(refining_impl_trait)]`;
//! - each method gets the connect signature of its RPC kind (`ctx: RequestContext` plus
//!   `ServiceRequest<'_, In>` or `InboundStream<In>`, returning `ServiceResult<Out>` or
//!   `ServiceResult<ServiceStream<Out>>`); a simple unary body (the request read only through
//!   `into_inner()`, the answer built with `Response::new`, no error path) is rewritten natively
//!   (`to_owned_message()`, `connectrpc::Response::new`); any other body is kept verbatim
//!   (re-indented one level) inside the matching `connect_shim::server` adapter, with the original
//!   parameter;
//! - `type XStream = ..;` leaves the impl for a module-level `type <T>XStream = ..;`, and
//!   `Self::XStream` in the bodies names it;
//! - registrations `XServer::new(svc)`, `from_arc(arc)`, `with_interceptor(svc, f)` host the
//!   connect service in tonic's server through `connect_shim::tonic_hosted!`;
//! - handler unit tests calling a unary handler with a `tonic::Request` go through
//!   `connect_shim::tonic_call!`, which keeps tonic's result shape.
//!
//! Before:
//! ```text
//! use pb::greeter_server::Greeter;
//! #[tonic::async_trait]
//! impl Greeter for MyGreeter {
//!     async fn say_hello(&self, request: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
//!         Ok(Response::new(HelloReply { message: request.into_inner().name, ..Default::default() }))
//!     }
//! }
//! Server::builder().add_service(GreeterServer::new(MyGreeter::default()))
//! let reply = greeter.say_hello(Request::new(req)).await?;
//! ```
//! After:
//! ```text
//! use pb::Greeter;
//! use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
//! #[allow(refining_impl_trait)]
//! impl Greeter for MyGreeter {
//!     async fn say_hello(
//!         &self,
//!         ctx: RequestContext,
//!         request: ServiceRequest<'_, HelloRequest>,
//!     ) -> ServiceResult<HelloReply> {
//!         connect_shim::server::unary(ctx, request, |request| async move {
//!             Ok(Response::new(HelloReply { message: request.into_inner().name, ..Default::default() }))
//!         })
//!         .await
//!     }
//! }
//! Server::builder().add_service(connect_shim::tonic_hosted!(pb::GREETER_SERVICE_NAME,
//!     connectrpc::Router::new().add_service(std::sync::Arc::new(MyGreeter::default()))))
//! let reply = connect_shim::tonic_call!(greeter, say_hello, Request::new(req)).await?;
//! ```
//!
//! Every wrapped handler is listed as a manual item (rewrite it natively; steps 3 and 4 narrow
//! the tonic parts), as are server options the hosting wrapper cannot carry, streaming handler
//! tests, and impls the step could not convert.

mod definition;
pub use definition::DEFINITION;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::context::CrateCtx;
use crate::edit::{indent_at, line_col, line_start, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::resolve::{range, FileIndex, Resolution, Resolved, ScopeId, ScopeTracker, UTree, Via};
use crate::schema::{is_wkt, Schema, Service, StreamingKind};
use crate::steps::common::items::item_at;
use crate::steps::common::stubs;

/// Names step 2 writes in signatures, imported from `connectrpc` when free.
const CONNECT_NAMES: [&str; 5] = [
    "InboundStream",
    "RequestContext",
    "ServiceRequest",
    "ServiceResult",
    "ServiceStream",
];

/// Server config methods of a tonic `XServer` the hosting wrapper has no equivalent for.
const SERVER_OPTIONS: [&str; 4] = [
    "accept_compressed",
    "send_compressed",
    "max_decoding_message_size",
    "max_encoding_message_size",
];

/// The step-2 pass: service impls, registrations and handler test calls.
pub struct ServicesPass<'a> {
    pub ctx: &'a CrateCtx,
}

impl Pass for ServicesPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let Some(schema) = self.ctx.schema.as_deref() else {
            return;
        };
        let mut w = Walker {
            schema,
            file,
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            out,
            imports: BTreeMap::new(),
            converted: Vec::new(),
            phase: Phase::Impls,
            lets: vec![HashMap::new()],
            replaced: Vec::new(),
        };
        w.visit_file(file.file);
        w.commit_imports();
        w.remove_unused_imports();
        if !w.converted.is_empty() {
            w.phase = Phase::Calls;
            w.tr = ScopeTracker::new(file.index);
            w.visit_file(file.file);
        }
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Phase {
    Impls,
    Calls,
}

/// A converted impl: its self type's last identifier and its service.
struct Converted<'s> {
    self_ident: String,
    service: &'s Service,
}

struct Walker<'a, 's> {
    schema: &'s Schema,
    file: &'a FileCtx<'a>,
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'a mut PassOutput,
    /// Module scope -> connect names to import there.
    imports: BTreeMap<ScopeId, BTreeSet<&'static str>>,
    converted: Vec<Converted<'s>>,
    phase: Phase,
    /// Per block: local name -> the type identifier its initializer names (when it is obvious).
    lets: Vec<HashMap<String, Option<String>>>,
    /// Text ranges the step replaced (their identifiers no longer refer to anything).
    replaced: Vec<Range<usize>>,
}

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    item_at(offset, format!("step02/{rule}"), kind, message, note)
}

/// The text of `segs` joined with `::` (with a leading `::` when asked).
fn join_path(segs: &[String], leading: bool) -> String {
    let s = segs.join("::");
    if leading {
        format!("::{s}")
    } else {
        s
    }
}

/// Byte ranges of the literals in `tokens` that span more than one line (their inner line
/// starts must not be re-indented).
fn multiline_literals(tokens: TokenStream, text: &str, out: &mut Vec<Range<usize>>) {
    for t in tokens {
        match t {
            TokenTree::Group(g) => multiline_literals(g.stream(), text, out),
            TokenTree::Literal(l) => {
                let r = range(l.span());
                if r.end <= text.len() && text[r.clone()].contains('\n') {
                    out.push(r);
                }
            }
            _ => {}
        }
    }
}

/// The rule of a service impl's conversion.
const IMPL_RULE: &str = "step02/service-impl";

/// The conversion of one service impl.
struct ImplPlan {
    edits: Vec<Edit>,
    items: Vec<ManualItem>,
    /// connectrpc names used unqualified (imported into the module).
    names: Vec<&'static str>,
    /// Ranges replaced wholesale (paths inside them are not edited again).
    replaced: Vec<Range<usize>>,
    /// connectrpc names are written in full (`connectrpc::X`) rather than imported.
    qualify: bool,
}

impl ImplPlan {
    /// A connectrpc name as written: qualified, or recorded for import.
    fn connect_name(&mut self, n: &'static str) -> String {
        if self.qualify {
            format!("connectrpc::{n}")
        } else {
            self.names.push(n);
            n.to_string()
        }
    }

    /// The connect method's parameter name, parameter type, return type, and the shim adapter
    /// of a method of `kind`.
    fn connect_types(
        &mut self,
        kind: StreamingKind,
        in_ty: &str,
        out_msg: &str,
    ) -> (&'static str, String, String, &'static str) {
        match kind {
            StreamingKind::Unary => (
                "request",
                format!("{}<'_, {in_ty}>", self.connect_name("ServiceRequest")),
                format!("{}<{out_msg}>", self.connect_name("ServiceResult")),
                "unary",
            ),
            StreamingKind::ServerStream => (
                "request",
                format!("{}<'_, {in_ty}>", self.connect_name("ServiceRequest")),
                format!(
                    "{}<{}<{out_msg}>>",
                    self.connect_name("ServiceResult"),
                    self.connect_name("ServiceStream")
                ),
                "server_stream",
            ),
            StreamingKind::ClientStream => (
                "requests",
                format!("{}<{in_ty}>", self.connect_name("InboundStream")),
                format!("{}<{out_msg}>", self.connect_name("ServiceResult")),
                "client_stream",
            ),
            StreamingKind::Bidi => (
                "requests",
                format!("{}<{in_ty}>", self.connect_name("InboundStream")),
                format!(
                    "{}<{}<{out_msg}>>",
                    self.connect_name("ServiceResult"),
                    self.connect_name("ServiceStream")
                ),
                "bidi_stream",
            ),
        }
    }
}

/// The package module of a service trait: crate-absolute, and as written at the impl.
struct PackagePath {
    full: Vec<String>,
    written: String,
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

    fn resolve_one(&self, path: &syn::Path) -> Option<Resolved> {
        match self.idx.resolve(self.tr.current(), path)? {
            Resolution::One(r) => Some(r),
            Resolution::Ambiguous(_) => None,
        }
    }

    /// The schema's service of a resolved tonic server path (`[.., x_server, Trait|XServer]`),
    /// by the package the stubs' module includes. Stubs of generated code that is not the
    /// schema's (a service built with `tonic_prost_build::manual`) stay on tonic, listed at `at`.
    fn stub_service(&mut self, full: &[String], at: usize) -> Option<&'s Service> {
        let full = self.idx.canonical(full.to_vec());
        match stubs::server_service(self.file, self.schema, &full) {
            Ok(svc) => svc,
            Err(included) => {
                if !self.suppressed(at) {
                    self.report(
                        at,
                        "not-from-proto",
                        ItemKind::Manual,
                        format!(
                            "`{}` left on tonic: its module includes `{included}`, generated code that is not from a .proto compiled by connectrpc-build (a service built by hand, or another generator), so there is no connect trait for it",
                            full.join("::")
                        ),
                        "keep the service on tonic (it is served and called as before), or describe it in a .proto that connectrpc-build compiles and migrate it then",
                    );
                }
                None
            }
        }
    }

    /// How to write `r.full[..k]` (a module prefix of a resolved path) at the path's site.
    fn written_prefix(&self, path: &syn::Path, r: &Resolved, k: usize) -> Option<String> {
        let f = r.full.len();
        let m = f.checked_sub(r.written)?;
        if k > m {
            let n = k - m;
            let segs: Vec<String> = path
                .segments
                .iter()
                .take(n)
                .map(|s| s.ident.to_string())
                .collect();
            return Some(join_path(&segs, path.leading_colon.is_some()));
        }
        if let Via::Import(leaf) = r.via {
            let l = &self.idx.leaves[leaf];
            let drop = m + 1 - k;
            if l.written.len() > drop && l.written.first().map(String::as_str) != Some("self")
                || l.written.len() > drop + 1
            {
                return Some(join_path(
                    &l.written[..l.written.len() - drop],
                    l.leading_colon,
                ));
            }
        }
        match r.full.first().map(String::as_str) {
            Some("self") | None => None,
            _ if k == 0 => None,
            _ => Some(join_path(&r.full[..k], false)),
        }
    }

    /// How to write a message type of the schema in scope: its bare name when that name is
    /// bound to the package module, else through the package prefix.
    fn type_text(&self, full_name: &str, pkg_full: &[String], pkg_written: &str) -> String {
        if is_wkt(full_name) {
            let name = full_name.rsplit('.').next().unwrap_or(full_name);
            return format!("::buffa_types::google::protobuf::{name}");
        }
        let Some(msg) = self.schema.message(full_name) else {
            return full_name.to_string();
        };
        let rel = &msg.buffa_path;
        if rel.len() == 1 {
            let name = &rel[0];
            if let Some(Resolution::One(r)) =
                self.idx
                    .resolve_segments(self.tr.current(), std::slice::from_ref(name), false)
            {
                let full = self.idx.canonical(r.full);
                if full.last() == Some(name) && full[..full.len() - 1] == *pkg_full {
                    return name.clone();
                }
            }
        }
        format!("{pkg_written}::{}", rel.join("::"))
    }

    // -----------------------------------------------------------------------------------------
    // impls

    fn convert_impl(&mut self, imp: &syn::ItemImpl) {
        let Some((None, trait_path, _)) = &imp.trait_ else {
            return;
        };
        let Some(r) = self.resolve_one(trait_path) else {
            return;
        };
        let segs: Vec<&str> = r.full.iter().map(String::as_str).collect();
        let at = range(imp.impl_token.span).start;
        let Some(svc) = self.stub_service(&r.full, at) else {
            return;
        };
        if segs.last() != Some(&svc.tonic_trait.as_str()) || segs.len() < 2 {
            return;
        }
        let impl_start = range(imp.span()).start;
        if self.suppressed(impl_start) || self.suppressed(at) {
            self.report(
                at,
                "service-impl",
                ItemKind::Skipped,
                format!("impl of `{}` left alone (ignore marker)", svc.full_name),
                "",
            );
            return;
        }
        match self.plan_impl(imp, trait_path, &r, svc) {
            Ok(ImplPlan {
                edits,
                items,
                names,
                replaced,
                ..
            }) => {
                if let Err(o) = self.out.commit(edits) {
                    self.report(
                        at,
                        "service-impl",
                        ItemKind::Manual,
                        format!("impl of `{}` not converted: {o}", svc.full_name),
                        "convert it by hand (connect signatures, shim adapters)",
                    );
                    return;
                }
                self.out.items.extend(items);
                self.replaced.extend(replaced);
                let scope = self.idx.module_scope(self.tr.current());
                self.imports.entry(scope).or_default().extend(names);
                let self_ident = match &*imp.self_ty {
                    syn::Type::Path(p) => p
                        .path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                self.converted.push(Converted {
                    self_ident,
                    service: svc,
                });
            }
            Err(why) => self.report(
                at,
                "service-impl",
                ItemKind::Manual,
                format!("impl of `{}` not converted: {why}", svc.full_name),
                "convert it by hand: connect trait, signatures per RPC kind, bodies (or the connect_shim::server adapters)",
            ),
        }
    }

    /// Are the connect names free in the impl's module (else they are written qualified)?
    fn qualify(&self) -> bool {
        let scope = self.idx.module_scope(self.tr.current());
        CONNECT_NAMES.iter().any(|n| {
            self.idx
                .binding_of(scope, n)
                .is_some_and(|full| full != ["connectrpc".to_string(), n.to_string()])
        }) || !matches!(
            self.idx.scopes[self.tr.current()].kind,
            crate::resolve::ScopeKind::Module(_)
        )
    }

    fn plan_impl(
        &self,
        imp: &syn::ItemImpl,
        trait_path: &syn::Path,
        r: &Resolved,
        svc: &'s Service,
    ) -> Result<ImplPlan, String> {
        let mut plan = ImplPlan {
            edits: Vec::new(),
            items: Vec::new(),
            names: Vec::new(),
            replaced: Vec::new(),
            qualify: false,
        };
        let k = r.full.len() - 2;
        let pkg = PackagePath {
            full: r.full[..k].to_vec(),
            written: self
                .written_prefix(trait_path, r, k)
                .ok_or("the package module of the trait cannot be named here")?,
        };
        self.plan_trait_path(trait_path, r, svc, &pkg.written, &mut plan)?;
        self.plan_attributes(imp, &mut plan);
        plan.qualify = self.qualify();
        let aliases = self.plan_stream_types(imp, svc, &mut plan)?;
        // 4. Methods.
        let mut seen = HashSet::new();
        for it in &imp.items {
            let syn::ImplItem::Fn(f) = it else {
                continue;
            };
            let Some(m) = svc
                .methods
                .iter()
                .find(|m| f.sig.ident == m.rust_name.as_str())
            else {
                continue;
            };
            seen.insert(m.rust_name.as_str());
            self.plan_method(f, m, &pkg, &aliases, &mut plan)?;
        }
        let missing: Vec<&str> = svc
            .methods
            .iter()
            .map(|m| m.rust_name.as_str())
            .filter(|m| !seen.contains(m))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "methods {} are not implemented (connect traits have no default bodies)",
                missing.join(", ")
            ));
        }
        Ok(plan)
    }

    /// Phase 1: the trait path names the connect trait.
    fn plan_trait_path(
        &self,
        trait_path: &syn::Path,
        r: &Resolved,
        svc: &'s Service,
        pkg_written: &str,
        plan: &mut ImplPlan,
    ) -> Result<(), String> {
        let n = trait_path.segments.len();
        let same_name = svc.tonic_trait == svc.connect_trait;
        let last = trait_path.segments.last().unwrap();
        if n >= 2 && trait_path.segments[n - 2].ident == svc.tonic_server_mod && same_name {
            let a = range(trait_path.segments[n - 2].span()).start;
            let b = range(last.span()).start;
            plan.edits.push(Edit::delete(a..b, IMPL_RULE));
        } else if let (1, Some(e), true) = (n, self.use_segment_edit(r, svc), same_name) {
            plan.edits.push(e);
        } else {
            let full = range(trait_path.span());
            plan.replaced.push(full.clone());
            let generics = last.arguments.to_token_stream();
            if !generics.is_empty() {
                return Err("the trait path has generic arguments".into());
            }
            plan.edits.push(Edit::replace(
                full,
                format!("{pkg_written}::{}", svc.connect_trait),
                IMPL_RULE,
            ));
        }
        Ok(())
    }

    /// Phase 2, attributes: `#[async_trait]` becomes `#[allow(refining_impl_trait)]` (added when
    /// absent).
    fn plan_attributes(&self, imp: &syn::ItemImpl, plan: &mut ImplPlan) {
        let mut attr_done = false;
        for attr in &imp.attrs {
            let p = attr.path();
            if p.segments.last().is_some_and(|s| s.ident == "async_trait") {
                let ar = range(attr.span());
                if attr_done {
                    let end = self.text[ar.end..]
                        .find(|c: char| !c.is_whitespace())
                        .map_or(ar.end, |i| ar.end + i);
                    plan.edits.push(Edit::delete(ar.start..end, IMPL_RULE));
                } else {
                    plan.edits.push(Edit::replace(
                        ar,
                        "#[allow(refining_impl_trait)]",
                        IMPL_RULE,
                    ));
                    attr_done = true;
                }
            }
        }
        if !attr_done {
            let at = range(imp.impl_token.span).start;
            let ind = indent_at(self.text, at).to_string();
            plan.edits.push(Edit::insert(
                at,
                format!("#[allow(refining_impl_trait)]\n{ind}"),
                IMPL_RULE,
            ));
        }
    }

    /// Phase 3: associated stream types move out of the impl, as aliases named after the type;
    /// returns them (associated name -> alias).
    fn plan_stream_types(
        &self,
        imp: &syn::ItemImpl,
        svc: &'s Service,
        plan: &mut ImplPlan,
    ) -> Result<HashMap<String, String>, String> {
        let self_ident = match &*imp.self_ty {
            syn::Type::Path(p) if p.qself.is_none() => {
                p.path.segments.last().map(|s| s.ident.to_string())
            }
            _ => None,
        };
        let stream_types: HashSet<&str> = svc
            .methods
            .iter()
            .filter_map(|m| m.tonic_stream_type.as_deref())
            .collect();
        let mut aliases: HashMap<String, String> = HashMap::new();
        let outer_start = line_start(self.text, range(imp.span()).start);
        let outer_indent = indent_at(self.text, outer_start).to_string();
        for it in &imp.items {
            let syn::ImplItem::Type(t) = it else {
                continue;
            };
            let tname = t.ident.to_string();
            if !stream_types.contains(tname.as_str()) {
                continue;
            }
            if !imp.generics.params.is_empty() || !t.generics.params.is_empty() {
                return Err(format!(
                    "`type {tname}` depends on generics and cannot move out of the impl"
                ));
            }
            let ty_text = &self.text[range(t.ty.span())];
            if ty_text
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == "Self")
            {
                return Err(format!("`type {tname}` names `Self`"));
            }
            let alias = format!("{}{tname}", self_ident.as_deref().unwrap_or(""));
            let tr = range(t.span());
            let start = line_start(self.text, tr.start);
            let mut end = self.text[tr.end..]
                .find('\n')
                .map_or(self.text.len(), |i| tr.end + i + 1);
            // A blank line after the item goes with it.
            let rest = &self.text[end..];
            if let Some(i) = rest.find('\n') {
                if rest[..i].trim().is_empty() {
                    end += i + 1;
                }
            }
            let own = &self.text[start..tr.start];
            if !own.trim().is_empty() {
                // Something else on the line: delete only the item.
                plan.edits.push(Edit::delete(tr.clone(), IMPL_RULE));
            } else {
                plan.edits.push(Edit::delete(start..end, IMPL_RULE));
            }
            plan.edits.push(Edit::insert(
                outer_start,
                format!(
                    "{outer_indent}type {alias} = {ty_text};\n\n",
                    outer_indent = outer_indent
                ),
                IMPL_RULE,
            ));
            aliases.insert(tname, alias);
        }
        Ok(aliases)
    }

    /// Phase 4, one method: the connect signature, and its body native (a simple unary one) or run in
    /// the shim's adapter (listed).
    fn plan_method(
        &self,
        f: &syn::ImplItemFn,
        m: &crate::schema::Method,
        pkg: &PackagePath,
        aliases: &HashMap<String, String>,
        plan: &mut ImplPlan,
    ) -> Result<(), String> {
        let fname = f.sig.ident.to_string();
        if f.sig.asyncness.is_none() {
            return Err(format!("`{fname}` is not an `async fn`"));
        }
        let mut inputs = f.sig.inputs.iter();
        let Some(syn::FnArg::Receiver(recv)) = inputs.next() else {
            return Err(format!("`{fname}` has no `self` receiver"));
        };
        if recv.reference.is_none() || recv.mutability.is_some() || recv.colon_token.is_some() {
            return Err(format!("`{fname}` does not take `&self`"));
        }
        let Some(syn::FnArg::Typed(arg)) = inputs.next() else {
            return Err(format!("`{fname}` has no request parameter"));
        };
        if inputs.next().is_some() {
            return Err(format!("`{fname}` has extra parameters"));
        }
        let syn::ReturnType::Type(_, out_ty) = &f.sig.output else {
            return Err(format!("`{fname}` has no return type"));
        };
        let pat = &self.text[range(arg.pat.span())];
        let recv_text = &self.text[range(recv.span())];
        let in_ty = self.type_text(&m.input, &pkg.full, &pkg.written);
        let out_msg = self.type_text(&m.output, &pkg.full, &pkg.written);
        let (param, param_ty, ret, adapter) = plan.connect_types(m.kind, &in_ty, &out_msg);
        let ctx_ty = plan.connect_name("RequestContext");
        let fn_at = range(f.sig.fn_token.span).start;
        let ind = indent_at(self.text, fn_at).to_string();
        let sig_start = range(f.sig.paren_token.span.open()).start;
        let sig_end = range(out_ty.span()).end;
        plan.replaced.push(sig_start..sig_end);
        if m.kind == StreamingKind::Unary {
            if let Some(body_edits) = self.native_unary(f, &arg.pat) {
                plan.edits.push(Edit::replace(
                    sig_start..sig_end,
                    format!(
                        "(\n{ind}    {recv_text},\n{ind}    _ctx: {ctx_ty},\n{ind}    {pat}: {param_ty},\n{ind}) -> {ret}"
                    ),
                    IMPL_RULE,
                ));
                plan.replaced
                    .extend(body_edits.iter().map(|e| e.range.clone()));
                plan.edits.extend(body_edits);
                return Ok(());
            }
        }
        plan.edits.push(Edit::replace(
            sig_start..sig_end,
            format!(
                "(\n{ind}    {recv_text},\n{ind}    ctx: {ctx_ty},\n{ind}    {param}: {param_ty},\n{ind}) -> {ret}"
            ),
            IMPL_RULE,
        ));
        let call = format!("connect_shim::server::{adapter}(ctx, {param}, |{pat}| async move {{");
        plan.edits.extend(self.body_in_adapter(f, &ind, &call));
        // `Self::XStream` in the body names the moved alias.
        if !aliases.is_empty() {
            let mut v = SelfPaths {
                aliases,
                found: Vec::new(),
            };
            v.visit_block(&f.block);
            for (r, alias) in v.found {
                plan.edits.push(Edit::replace(r, alias, IMPL_RULE));
            }
        }
        plan.items.push(item(
            fn_at,
            "shim-handler",
            ItemKind::Manual,
            format!(
                "`{fname}` kept tonic-style via connect_shim::server::{adapter}; rewrite natively (steps 3-4 will narrow this)"
            ),
            "read the request from `ctx` and the ServiceRequest/InboundStream, return connect responses and errors, then drop the adapter",
        ));
        Ok(())
    }

    /// The body runs in the adapter (`call` opens it), re-indented one level.
    fn body_in_adapter(&self, f: &syn::ImplItemFn, ind: &str, call: &str) -> Vec<Edit> {
        let mut edits = Vec::new();
        let open = range(f.block.brace_token.span.open()).start;
        let close = range(f.block.brace_token.span.close()).start;
        let one_line = !self.text[open..close].contains('\n');
        if one_line {
            edits.push(Edit::insert(open + 1, format!(" {call}"), IMPL_RULE));
            edits.push(Edit::insert(close, "}).await ", IMPL_RULE));
            return edits;
        }
        edits.push(Edit::insert(
            open + 1,
            format!("\n{ind}    {call}"),
            IMPL_RULE,
        ));
        let mut lits = Vec::new();
        multiline_literals(f.block.to_token_stream(), self.text, &mut lits);
        let mut pos = open;
        while let Some(i) = self.text[pos..close].find('\n') {
            let ls = pos + i + 1;
            pos = ls;
            if ls >= close {
                break;
            }
            let line_end = self.text[ls..]
                .find('\n')
                .map_or(self.text.len(), |j| ls + j);
            let blank = self.text[ls..line_end.min(close)].trim().is_empty();
            if blank || lits.iter().any(|l| l.start < ls && ls < l.end) {
                continue;
            }
            edits.push(Edit::insert(ls, "    ", IMPL_RULE));
        }
        edits.push(Edit::insert(
            close,
            format!("    }})\n{ind}    .await\n{ind}"),
            IMPL_RULE,
        ));
        edits
    }

    /// The native rewrite of a simple unary body: it reads the request only through
    /// `request.into_inner()` (now `to_owned_message()`), builds its answer with tonic's
    /// `Response::new` (now connectrpc's) and has no error path (`?`, `Err`, `Status`, `return`)
    /// nor any other tonic construct. `None` when the body is not that simple.
    fn native_unary(&self, f: &syn::ImplItemFn, pat: &syn::Pat) -> Option<Vec<Edit>> {
        let syn::Pat::Ident(pi) = pat else {
            return None;
        };
        if pi.by_ref.is_some() || pi.mutability.is_some() || pi.subpat.is_some() {
            return None;
        }
        let param = pi.ident.to_string();
        let toks = flatten(f.block.to_token_stream());
        let mut edits = Vec::new();
        let mut answered = false;
        for (i, t) in toks.iter().enumerate() {
            match t {
                TokenTree::Punct(p) if p.as_char() == '?' => return None,
                TokenTree::Ident(id) => {
                    let name = id.to_string();
                    if matches!(
                        name.as_str(),
                        "Status" | "Code" | "Err" | "return" | "Request" | "Streaming" | "tonic"
                    ) {
                        return None;
                    }
                    let next = |k: usize| toks.get(i + k).map(|t| t.to_string());
                    if name == param {
                        // `param . into_inner ( )` only (the group is flattened to its
                        // delimiters).
                        let ok = next(1).as_deref() == Some(".")
                            && next(2).as_deref() == Some("into_inner")
                            && next(3).as_deref() == Some("()");
                        let prev_dot = i > 0 && toks[i - 1].to_string() == ".";
                        if !ok || prev_dot {
                            return None;
                        }
                        if let TokenTree::Ident(m) = &toks[i + 2] {
                            edits.push(Edit::replace(
                                range(m.span()),
                                "to_owned_message",
                                "step02/native-handler",
                            ));
                        }
                    } else if name == "Response" {
                        // Only `Response::new`, resolving to tonic's.
                        if next(1).as_deref() != Some(":")
                            || next(2).as_deref() != Some(":")
                            || next(3).as_deref() != Some("new")
                        {
                            return None;
                        }
                        let path: syn::Path = syn::parse_quote!(Response::new);
                        let r = self.resolve_one(&path)?;
                        if r.full != ["tonic", "Response", "new"] {
                            return None;
                        }
                        edits.push(Edit::replace(
                            range(id.span()),
                            "connectrpc::Response",
                            "step02/native-handler",
                        ));
                        answered = true;
                    }
                }
                _ => {}
            }
        }
        answered.then_some(edits)
    }

    /// `use a::greeter_server::Greeter;` -> `use a::Greeter;`: the edit, when the leaf that
    /// binds the trait sits directly under the server module segment (not in a group).
    fn use_segment_edit(&self, r: &Resolved, svc: &Service) -> Option<Edit> {
        let Via::Import(leaf) = r.via else {
            return None;
        };
        let l = &self.idx.leaves[leaf];
        let ui = &self.idx.use_items[l.item];
        if ui.is_pub || l.written.len() < 3 {
            return None;
        }
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
        let (pr, lr) = find(&ui.tree, leaf)?;
        let seg = &self.text[pr.start..lr.start];
        let ident = seg.trim_end().trim_end_matches("::").trim();
        if ident != svc.tonic_server_mod {
            return None;
        }
        Some(Edit::delete(pr.start..lr.start, "step02/service-impl"))
    }

    fn commit_imports(&mut self) {
        let imports = std::mem::take(&mut self.imports);
        for (scope, names) in imports {
            let needed: Vec<&str> = names
                .into_iter()
                .filter(|n| self.idx.binding_of(scope, n).is_none())
                .collect();
            if needed.is_empty() {
                continue;
            }
            let text = if needed.len() == 1 {
                format!("use connectrpc::{};", needed[0])
            } else {
                format!("use connectrpc::{{{}}};", needed.join(", "))
            };
            let sc = &self.idx.scopes[scope];
            let edit = if let Some(&last) = sc.use_items.last() {
                // At the start of the next line: a removal of that `use` line stays adjacent.
                let end = self.idx.use_items[last].range.end;
                let ind = indent_at(self.text, end).to_string();
                match self.text[end..].find('\n') {
                    Some(i) => {
                        Edit::insert(end + i + 1, format!("{ind}{text}\n"), "step02/imports")
                    }
                    None => Edit::insert(end, format!("\n{ind}{text}"), "step02/imports"),
                }
            } else if let Some(at) = sc.first_item_at {
                let ind = indent_at(self.text, at).to_string();
                Edit::insert(at, format!("{text}\n\n{ind}"), "step02/imports")
            } else {
                continue;
            };
            if let Err(o) = self.out.commit(vec![edit]) {
                self.report(
                    0,
                    "imports",
                    ItemKind::Manual,
                    format!("could not add `{text}`: {o}"),
                    "add the import by hand",
                );
            }
        }
    }

    /// Imports of tonic's request types and server stubs that nothing refers to any more once
    /// the signatures and registrations were rewritten.
    fn remove_unused_imports(&mut self) {
        if self.replaced.is_empty() {
            return;
        }
        let schema = self.schema;
        let edits = crate::rules::rename::unused_import_removals(
            self.file.file,
            self.idx,
            self.text,
            &self.replaced,
            |segs| {
                matches!(
                    segs,
                    ["tonic", "Request"] | ["tonic", "Streaming"] | ["tonic", "Response"]
                ) || (segs.len() >= 2
                    && schema.service_by_tonic_server_path(segs).is_some_and(|s| {
                        segs.last() == Some(&s.tonic_server.as_str())
                            || segs.last() == Some(&s.tonic_trait.as_str())
                    }))
            },
            "step02/imports",
        );
        // An import the step also edited stays as it is.
        let _ = self.out.commit(edits);
    }

    // -----------------------------------------------------------------------------------------
    // registrations

    fn registration(&mut self, call: &syn::ExprCall) -> bool {
        let syn::Expr::Path(p) = &*call.func else {
            return false;
        };
        if p.qself.is_some() || p.path.segments.len() < 2 {
            return false;
        }
        let ctor = p.path.segments.last().unwrap().ident.to_string();
        if !matches!(ctor.as_str(), "new" | "from_arc" | "with_interceptor") {
            return false;
        }
        let Some(r) = self.resolve_one(&p.path) else {
            return false;
        };
        if r.full.len() < 3 {
            return false;
        }
        let segs: Vec<&str> = r.full.iter().map(String::as_str).collect();
        let ty = &segs[..segs.len() - 1];
        let at = range(call.span()).start;
        let Some(svc) = self.stub_service(&r.full[..r.full.len() - 1], at) else {
            return false;
        };
        if ty.last() != Some(&svc.tonic_server.as_str()) {
            return false;
        }
        if self.suppressed(at) {
            self.report(
                at,
                "registration",
                ItemKind::Skipped,
                format!(
                    "registration of `{}` left alone (ignore marker)",
                    svc.full_name
                ),
                "",
            );
            return true;
        }
        let k = r.full.len() - 3;
        // The path minus `::new`: the written prefix for the package module.
        let mut ty_path = p.path.clone();
        ty_path.segments.pop();
        let ty_path_r = Resolved {
            full: r.full[..r.full.len() - 1].to_vec(),
            via: r.via.clone(),
            written: r.written - 1,
        };
        let pkg = if ty_path.segments.is_empty() {
            None
        } else {
            self.written_prefix(&ty_path, &ty_path_r, k)
        };
        let Some(pkg) = pkg else {
            self.report(
                at,
                "registration",
                ItemKind::Manual,
                format!("registration of `{}` not converted: the package module cannot be named here", svc.full_name),
                "host the connect service with connect_shim::tonic_hosted!(<pkg>::<SERVICE_NAME>, router)",
            );
            return true;
        };
        let args: Vec<&syn::Expr> = call.args.iter().collect();
        let expected = if ctor == "with_interceptor" { 2 } else { 1 };
        if args.len() != expected {
            return false;
        }
        let rule = "step02/registration";
        let cr = range(call.span());
        let a0 = range(args[0].span());
        let service = match ctor.as_str() {
            "from_arc" => "",
            _ => "std::sync::Arc::new(",
        };
        let close = if ctor == "from_arc" { "" } else { ")" };
        let head = format!(
            "connect_shim::tonic_hosted!({pkg}::{}, connectrpc::Router::new().add_service({service}",
            svc.connect_service_name_const
        );
        let edits = if ctor == "with_interceptor" {
            vec![
                Edit::replace(
                    cr.start..a0.start,
                    format!("tonic::service::interceptor::InterceptedService::new({head}"),
                    rule,
                ),
                Edit::insert(a0.end, format!("{close}))"), rule),
            ]
        } else {
            vec![
                Edit::replace(cr.start..a0.start, head, rule),
                Edit::replace(a0.end..cr.end, format!("{close}))"), rule),
            ]
        };
        // `with_interceptor(a, f)`: the text after the first argument (`, f)`) stays.
        let func = range(call.func.span());
        if let Err(o) = self.out.commit(edits) {
            self.report(
                at,
                "registration",
                ItemKind::Manual,
                format!("registration of `{}` not converted: {o}", svc.full_name),
                "host the connect service with connect_shim::tonic_hosted!",
            );
        } else if ctor != "with_interceptor" {
            self.replaced.push(func);
        } else {
            self.replaced.push(func);
            self.report(
                at,
                "hosted-interceptor",
                ItemKind::Manual,
                format!(
                    "`{}` is hosted through connect_shim::tonic_hosted! behind tonic's InterceptedService",
                    svc.full_name
                ),
                "the tonic interceptor still runs; step 5 moves it to a connectrpc/tower layer",
            );
        }
        true
    }

    /// `XServer::new(svc).max_decoding_message_size(n)`: options the hosted service cannot
    /// carry are dropped and reported.
    fn server_option(&mut self, mc: &syn::ExprMethodCall) {
        let m = mc.method.to_string();
        if !SERVER_OPTIONS.contains(&m.as_str()) {
            return;
        }
        let mut recv = &*mc.receiver;
        while let syn::Expr::MethodCall(inner) = recv {
            if !SERVER_OPTIONS.contains(&inner.method.to_string().as_str()) {
                return;
            }
            recv = &inner.receiver;
        }
        let syn::Expr::Call(call) = recv else {
            return;
        };
        let syn::Expr::Path(p) = &*call.func else {
            return;
        };
        let Some(r) = self.resolve_one(&p.path) else {
            return;
        };
        let segs: Vec<&str> = r.full.iter().map(String::as_str).collect();
        if segs.len() < 3 {
            return;
        }
        let full = self.idx.canonical(r.full[..r.full.len() - 1].to_vec());
        let Ok(Some(svc)) = stubs::server_service(self.file, self.schema, &full) else {
            return;
        };
        let rr = range(mc.receiver.span());
        let end = range(mc.span()).end;
        let dropped = self.text[rr.end..end].trim().to_string();
        let at = range(mc.method.span()).start;
        if self
            .out
            .commit(vec![Edit::delete(rr.end..end, "step02/server-option")])
            .is_ok()
        {
            self.report(
                at,
                "server-option",
                ItemKind::Manual,
                format!(
                    "`{dropped}` on `{}` was dropped: the hosted connect service has no such option",
                    svc.tonic_server
                ),
                "set limits and compression on the connectrpc Router / server (step 5)",
            );
        }
    }

    // -----------------------------------------------------------------------------------------
    // handler test calls

    /// The type identifier an expression obviously has: `T::ctor(..)`, `T { .. }`, `T`, a local
    /// initialised with one of those, through `&`, parentheses and `.clone()`.
    fn type_of(&self, e: &syn::Expr) -> Option<String> {
        match e {
            syn::Expr::Reference(r) => self.type_of(&r.expr),
            syn::Expr::Paren(p) => self.type_of(&p.expr),
            syn::Expr::Call(c) => match &*c.func {
                syn::Expr::Path(p) if p.path.segments.len() >= 2 => {
                    let n = p.path.segments.len();
                    Some(p.path.segments[n - 2].ident.to_string())
                }
                _ => None,
            },
            syn::Expr::Struct(s) => s.path.segments.last().map(|s| s.ident.to_string()),
            syn::Expr::Path(p) if p.path.segments.len() == 1 => {
                let name = p.path.segments[0].ident.to_string();
                for scope in self.lets.iter().rev() {
                    if let Some(t) = scope.get(&name) {
                        return t.clone();
                    }
                }
                if name.chars().next().is_some_and(char::is_uppercase) {
                    Some(name)
                } else {
                    None
                }
            }
            syn::Expr::MethodCall(m) if m.method == "clone" => self.type_of(&m.receiver),
            _ => None,
        }
    }

    fn test_call(&mut self, mc: &syn::ExprMethodCall) {
        if mc.args.len() != 1 {
            return;
        }
        let method = mc.method.to_string();
        let hits: Vec<(&str, &'s Service, StreamingKind)> = self
            .converted
            .iter()
            .flat_map(|c| {
                c.service
                    .methods
                    .iter()
                    .filter(|m| m.rust_name == method)
                    .map(move |m| (c.self_ident.as_str(), c.service, m.kind))
            })
            .collect();
        if hits.is_empty() {
            return;
        }
        let at = range(mc.method.span()).start;
        let ty = self.type_of(&mc.receiver);
        let Some(&(_, svc, kind)) = hits.iter().find(|(t, _, _)| Some(*t) == ty.as_deref()) else {
            if ty.as_deref().is_some_and(|t| t.ends_with("Client")) {
                return;
            }
            if ty.is_none() {
                self.report(
                    at,
                    "handler-call",
                    ItemKind::Unsure,
                    format!("`.{method}(..)` may call a handler that now takes connect arguments"),
                    "if it does, call it through connect_shim::tonic_call!(receiver, method, request)",
                );
            }
            return;
        };
        if self.suppressed(at) {
            return;
        }
        if kind != StreamingKind::Unary {
            self.report(
                at,
                "handler-call",
                ItemKind::Manual,
                format!(
                    "`.{method}(..)` calls a {} handler of `{}` with a tonic request",
                    match kind {
                        StreamingKind::ServerStream => "server-streaming",
                        StreamingKind::ClientStream => "client-streaming",
                        _ => "bidi-streaming",
                    },
                    svc.full_name
                ),
                "build the connect arguments (RequestContext, ServiceRequest::from_parts or an InboundStream) by hand",
            );
            return;
        }
        let rr = range(mc.receiver.span());
        let arg = range(mc.args[0].span());
        let rule = "step02/handler-call";
        let edits = vec![
            Edit::insert(rr.start, "connect_shim::tonic_call!(", rule),
            Edit::replace(rr.end..arg.start, format!(", {method}, "), rule),
        ];
        if self.out.commit(edits).is_err() {
            self.report(
                at,
                "handler-call",
                ItemKind::Manual,
                format!("`.{method}(..)` calls a handler with a tonic request"),
                "call it through connect_shim::tonic_call!(receiver, method, request)",
            );
        }
    }
}

/// Tokens in order: an empty parenthesis group stays (`()`), any other group becomes a marker
/// followed by its tokens.
fn flatten(t: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for tt in t {
        match tt {
            TokenTree::Group(g) => {
                if g.delimiter() == proc_macro2::Delimiter::Parenthesis && g.stream().is_empty() {
                    out.push(TokenTree::Group(g));
                } else {
                    let inner = g.stream();
                    out.push(TokenTree::Literal(proc_macro2::Literal::string("group")));
                    out.extend(flatten(inner));
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Finds `Self::XStream` paths whose name moved out of the impl.
struct SelfPaths<'m> {
    aliases: &'m HashMap<String, String>,
    found: Vec<(Range<usize>, String)>,
}

impl<'ast> Visit<'ast> for SelfPaths<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() >= 2 && p.segments[0].ident == "Self" && p.leading_colon.is_none() {
            if let Some(a) = self.aliases.get(&p.segments[1].ident.to_string()) {
                let start = range(p.segments[0].span()).start;
                let end = range(p.segments[1].ident.span()).end;
                self.found.push((start..end, a.clone()));
                return;
            }
        }
        syn::visit::visit_path(self, p);
    }

    /// Macro bodies (`try_stream! { .. }`, `vec![..]`) are tokens to syn: `Self :: XStream`
    /// sequences in them are found token by token.
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        fn scan(
            t: TokenStream,
            aliases: &HashMap<String, String>,
            found: &mut Vec<(Range<usize>, String)>,
        ) {
            let toks: Vec<TokenTree> = t.into_iter().collect();
            for (i, tt) in toks.iter().enumerate() {
                match tt {
                    TokenTree::Group(g) => scan(g.stream(), aliases, found),
                    TokenTree::Ident(id) if id == "Self" => {
                        let (
                            Some(TokenTree::Punct(a)),
                            Some(TokenTree::Punct(b)),
                            Some(TokenTree::Ident(name)),
                        ) = (toks.get(i + 1), toks.get(i + 2), toks.get(i + 3))
                        else {
                            continue;
                        };
                        if a.as_char() != ':' || b.as_char() != ':' {
                            continue;
                        }
                        if i > 1 {
                            // `<..>::Self` or `x::Self` is not this path.
                            if let TokenTree::Punct(p) = &toks[i - 1] {
                                if p.as_char() == ':' {
                                    continue;
                                }
                            }
                        }
                        if let Some(alias) = aliases.get(&name.to_string()) {
                            let r = range(id.span()).start..range(name.span()).end;
                            found.push((r, alias.clone()));
                        }
                    }
                    _ => {}
                }
            }
        }
        scan(m.tokens.clone(), self.aliases, &mut self.found);
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        self.lets.push(HashMap::new());
        syn::visit::visit_block(self, b);
        self.lets.pop();
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

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        if self.phase == Phase::Impls {
            self.convert_impl(imp);
        }
        syn::visit::visit_item_impl(self, imp);
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        syn::visit::visit_local(self, l);
        if self.phase != Phase::Calls {
            return;
        }
        let (pat, annotated) = match &l.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let syn::Pat::Ident(id) = pat else {
            return;
        };
        let ty = match annotated {
            Some(syn::Type::Path(p)) => p.path.segments.last().map(|s| s.ident.to_string()),
            Some(_) => None,
            None => l.init.as_ref().and_then(|i| self.type_of(&i.expr)),
        };
        if let Some(scope) = self.lets.last_mut() {
            scope.insert(id.ident.to_string(), ty);
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if self.phase == Phase::Impls && self.registration(c) {
            // The arguments are kept verbatim; nothing inside is rewritten twice.
            return;
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_expr_method_call(&mut self, mc: &'ast syn::ExprMethodCall) {
        match self.phase {
            Phase::Impls => self.server_option(mc),
            Phase::Calls => self.test_call(mc),
        }
        syn::visit::visit_expr_method_call(self, mc);
    }
}

#[cfg(test)]
mod tests;

/// Step 2 before the files: the crate contexts of step 1 (schema, package modules), and
/// `connectrpc` + `connect-shim` for crates that serve a migrated service but do not depend on
/// them yet (a server crate using another crate's stubs).
pub fn prepare(
    ws: &crate::workspace::Workspace,
    base: crate::steps::common::prepare::Prepared,
) -> crate::steps::common::prepare::Prepared {
    use crate::manifest::{self, DepKind, NewDep};
    let mut out = crate::steps::common::prepare::Prepared {
        ctx: base.ctx,
        ..Default::default()
    };
    // Step 1 is done for a crate when it (or the crate whose stubs it uses) depends on
    // connectrpc; before that there is no connect trait to move to.
    let step1_done = |c: &crate::workspace::Crate| {
        c.has_connectrpc
            || c.local_deps.iter().any(|d| {
                ws.crates
                    .iter()
                    .any(|o| &o.name == d && o.has_connectrpc && o.build_rs.is_some())
            })
    };
    let mut not_ready = Vec::new();
    for c in &ws.crates {
        if out.ctx.contains_key(&c.name) && !step1_done(c) {
            out.ctx.remove(&c.name);
            not_ready.push(c.name.clone());
        }
    }
    let mut manifests = manifest::ManifestEdits::new(ws.root.join("Cargo.toml"));
    for c in &ws.crates {
        if !out.ctx.contains_key(&c.name) {
            let serves = c.tonic_req.is_some()
                && c.files.iter().any(|f| {
                    std::fs::read(&f.path)
                        .is_ok_and(|b| memchr::memmem::find(&b, b"_server::").is_some())
                });
            if serves {
                if not_ready.contains(&c.name) {
                    out.items.push(crate::report::ItemReport {
                        path: crate::workspace::rel(&ws.root, &c.manifest_path),
                        krate: c.name.clone(),
                        line: 1,
                        column: 1,
                        rule: "step02/step1-first".into(),
                        kind: ItemKind::Manual,
                        message: format!(
                            "crate `{}` serves tonic stubs but step 1 was not applied (no connectrpc dependency): there is no connect trait to move its impls to",
                            c.name
                        ),
                        note: "apply step 1 first, then step 2".into(),
                    });
                    continue;
                }
                out.items.push(crate::report::ItemReport {
                    path: crate::workspace::rel(&ws.root, &c.manifest_path),
                    krate: c.name.clone(),
                    line: 1,
                    column: 1,
                    rule: "step02/no-schema".into(),
                    kind: ItemKind::Manual,
                    message: format!(
                        "crate `{}` uses tonic server stubs but no .proto schema was found for it (step 1 not applied, or stubs generated elsewhere): its service impls were not converted",
                        c.name
                    ),
                    note: "apply step 1 to the crate that generates the stubs (select it too), then run step 2 again".into(),
                });
            }
            continue;
        }
        let serves = c.files.iter().any(|f| {
            std::fs::read(&f.path).is_ok_and(|b| memchr::memmem::find(&b, b"_server::").is_some())
        });
        if !serves {
            continue;
        }
        let deps = [
            NewDep::new("connectrpc", "0.9", &["client", "server"], DepKind::Normal),
            crate::steps::common::prepare::shim_dep(ws),
        ];
        let Ok(member) = std::fs::read_to_string(&c.manifest_path) else {
            continue;
        };
        let root_cur = manifests.root_for(&c.manifest_path);
        let dirs = (c.dir.as_path(), ws.root.as_path());
        match manifest::add_deps_in(&member, root_cur.as_deref(), &deps, Some(dirs)) {
            Ok((m, r)) => manifests.record(&c.manifest_path, member, m, r),
            Err(e) => out.items.push(crate::report::ItemReport {
                path: crate::workspace::rel(&ws.root, &c.manifest_path),
                krate: c.name.clone(),
                line: 1,
                column: 1,
                rule: "step02/manifest".into(),
                kind: ItemKind::Manual,
                message: format!("Cargo.toml does not parse: {e}"),
                note: "fix the manifest and run the step again".into(),
            }),
        }
    }
    out.manifests = manifests.finish();
    out
}
