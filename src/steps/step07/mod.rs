//! Step 7: client error inspection.
//!
//! After step 6, unary calls on connect clients hand their errors to tonic-shaped code through
//! `.map_err(connect_shim::status::to_status)`, and the call sites step 6 kept tonic-shaped run
//! through `connect_shim::client::tonic_*` wrappers. The rename rules of `rules/step07.toml` turn
//! `Status`/`Code` in client code into `ConnectError`/`ErrorCode`; this pass then
//!
//! - deletes the `.map_err(connect_shim::status::to_status)` step 6 added (the call's own
//!   `ConnectError` comes through);
//! - moves the `tonic_*` wrappers to their `connect_shim::client::connect_errors` twins, whose
//!   errors (and streamed messages' errors) are `ConnectError`s;
//! - rewrites the accessors of the errors that come out of those calls, and of parameters the
//!   renames made `ConnectError`: `err.code()` -> `err.code`, `err.message()` ->
//!   `err.message.as_deref().unwrap_or("")`.
//!
//! A file that reads client errors the way only tonic's `Status` can (`details()`,
//! `metadata()`, tonic-types' `get_details_*`), or still names tonic error types the renames
//! could not place, keeps tonic errors throughout (nothing of it changes) and is listed: its
//! errors and its helpers must move together.
//!
//! Behaviour differences are listed where they show: a client matching `Code::Cancelled` saw
//! tonic's timeouts, which connectrpc reports as `DeadlineExceeded`.

mod conversions;
mod definition;
mod left;
pub use definition::DEFINITION;

use std::collections::HashSet;
use std::ops::Range;

use proc_macro2::Delimiter;
use quote::ToTokens;
use syn::visit::Visit;

use crate::edit::Edit;
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::resolve::{range, FileIndex, ScopeTracker};
use crate::steps::common::items::item_at;
use crate::steps::common::tokens::{empty_call_at, flatten, Tok};

const WRAPPERS: [&str; 4] = [
    "tonic_unary",
    "tonic_server_stream",
    "tonic_client_stream",
    "tonic_bidi",
];

/// The step-7 pass (after the renames).
pub struct ClientErrorsPass;

impl Pass for ClientErrorsPass {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        crate::steps::details::declare_needs(file, out);
        let mut w = Walker {
            idx: file.index,
            text: file.text,
            tr: ScopeTracker::new(file.index),
            out,
            edits: Vec::new(),
            tonic_only: None,
            items: Vec::new(),
            details_ok: crate::steps::details::converts(file),
            held_stream: file
                .crate_ctx
                .and_then(|c| c.plan::<conversions::ConversionPlan>())
                .and_then(|p| p.held_stream.as_ref())
                .map(|(path, line)| format!("{}:{line}", path.display())),
        };
        crate::steps::details::commit_declaration(file, w.out, "step07/error-details");
        // The crate's error types that `?` fills from client calls (planned crate-wide).
        let (conversions, conversion_items) = conversions::edits(file);
        // Calls still on tonic's generated clients (step 6 not applied) return tonic errors
        // (`x_client::XClient`; a workspace crate named `*_client` is not one, and a glob
        // `x_client::*` left beside the package module's glob names no client by itself).
        let mut toks = Vec::new();
        flatten(file.file.to_token_stream(), &mut toks);
        let tonic_client = toks.iter().enumerate().find(|(i, t)| {
            t.ident().is_some_and(|n| {
                n.ends_with("_client") && !file.workspace_libs.iter().any(|l| l == n)
            }) && toks.get(i + 1).is_some_and(|t| t.is_punct(':'))
                && toks.get(i + 2).is_some_and(|t| t.is_punct(':'))
                && !toks.get(i + 3).is_some_and(|t| t.is_punct('*'))
        });
        let connect_clients = file.crate_evidence.connect_client
            || crate::evidence::SideEvidence::scan(file.text.as_bytes()).connect_client;
        // What the rename pass did or could not decide (`unsure`: server or client side?).
        let renamed = w
            .out
            .buffer
            .edits()
            .iter()
            .any(|e| e.rule.starts_with("step07/"))
            || w.out.items.iter().any(|i| i.rule.starts_with("step07/"));
        if let Some((_, t)) = tonic_client {
            w.keep_tonic(
                t.range().start,
                "it still calls tonic's generated clients (step 6 has not moved them)".into(),
            );
        } else if !connect_clients && renamed {
            // No connect client anywhere in the crate: its calls still fail with tonic errors.
            w.keep_tonic(
                0,
                "its crate has no connect client yet (step 6 has not moved its clients)".into(),
            );
        } else {
            w.visit_file(file.file);
        }
        if let Some((at, why)) = w.tonic_only.take() {
            // Nothing of the file changes: take back the renames too.
            w.out
                .buffer
                .retain(|e| !e.rule.starts_with("step07/") || e.rule == "step07/error-details");
            if !w.details_ok {
                w.out
                    .items
                    .extend(crate::steps::details::blocked_items(file, 7));
            }
            w.out.items.retain(|i| !i.rule.starts_with("step07/"));
            if w.out.commit(conversions).is_ok() {
                w.out.items.extend(conversion_items);
            }
            w.out.items.push(item(
                at,
                "kept-tonic",
                ItemKind::Manual,
                format!("this file keeps tonic errors: {why}"),
                if why.contains("step 6") {
                    "apply step 6 to its clients first, then run step 7 again"
                } else {
                    "move its error handling to ConnectError by hand (`err.code`, `err.message`, `err.details` as Vec<ErrorDetail>, `err.response_headers()`/`err.trailers()`), then run step 7 again"
                },
            ));
            return;
        }
        let moot = w.edits.is_empty()
            && w.out.buffer.edits().iter().all(|e| {
                !e.rule.starts_with("step07/")
                    || e.rule == "step07/imports"
                    || e.rule == "step07/keep-tonic"
                    || e.rule == "step07/error-details"
            });
        if moot {
            // Every rename was taken back: the import changes go too.
            w.out
                .buffer
                .retain(|e| !e.rule.starts_with("step07/") || e.rule == "step07/error-details");
        }
        let mut edits = std::mem::take(&mut w.edits);
        // Nested functions are seen from their enclosing one too.
        edits.sort_by(|a, b| {
            (a.range.start, a.range.end, &a.text).cmp(&(b.range.start, b.range.end, &b.text))
        });
        edits.dedup_by(|a, b| a.range == b.range && a.text == b.text);
        if w.details_ok && !moot && file.text.contains("tonic_types") {
            edits.extend(crate::steps::details::conversion(
                file,
                &[],
                "step07/error-details",
            ));
        } else if !w.details_ok {
            w.items
                .extend(crate::steps::details::blocked_items(file, 7));
        }
        // A type whose `#[from] tonic::Status` field this step renamed to `ConnectError`
        // converts from it natively: the planned impl would conflict (E0119) and go through a
        // `From<Status>` the type no longer has.
        for r in conversions::status_kept(file) {
            w.revert_renames(&r);
            // What the renames could not decide there is decided (the error-conversion item).
            w.out
                .items
                .retain(|i| !(i.rule.starts_with("step07/") && r.contains(&i.offset)));
        }
        let native = conversions::renamed_types(file, |r| w.renamed_status_in(r));
        edits.extend(
            conversions
                .into_iter()
                .filter(|e| !native.iter().any(|n| n == &e.range.start)),
        );
        let mut items = std::mem::take(&mut w.items);
        items.extend(
            conversion_items
                .into_iter()
                .filter(|i| !native.contains(&i.offset)),
        );
        if w.out.commit(edits).is_ok() {
            w.out.items.extend(items);
        }
        left::list_left_codes(file, w.out);
    }
}

fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
    item_at(offset, format!("step07/{rule}"), kind, message, note)
}

struct Walker<'a, 'o> {
    idx: &'a FileIndex,
    text: &'a str,
    tr: ScopeTracker,
    out: &'o mut PassOutput,
    edits: Vec<Edit>,
    /// Why the file must keep tonic errors (first reason), and where.
    tonic_only: Option<(usize, String)>,
    /// Where the crate holds tonic's `Streaming` in a declared type (`file:line`): its
    /// streaming wrappers keep tonic's streams ([`conversions::held_streams`]).
    held_stream: Option<String>,
    /// The file's tonic-types paths move to the crate's `google_rpc` module, whose `StatusExt`
    /// reads details on `ConnectError` (`get_details_*`, `get_error_details`, ..).
    details_ok: bool,
    items: Vec<ManualItem>,
}

impl Walker<'_, '_> {
    /// tonic's interceptor shape ([`interceptor_shape`](crate::steps::common::syntax::interceptor_shape)).
    fn interceptor_shape<'t>(
        &self,
        inputs: impl Iterator<Item = &'t syn::Type>,
        output: &syn::ReturnType,
    ) -> bool {
        crate::steps::common::syntax::interceptor_shape(self.idx, self.tr.current(), inputs, output)
    }

    fn resolve_written(&self, segs: &[&str]) -> Option<Vec<String>> {
        let p: syn::Path = syn::parse_str(&segs.join("::")).ok()?;
        let r = self.idx.resolve(self.tr.current(), &p)?;
        r.resolved().map(|r| r.full.clone())
    }

    /// Does a step-7 rename (of `Status`) lie inside `r`?
    fn renamed_status_in(&self, r: &Range<usize>) -> bool {
        self.out.buffer.edits().iter().any(|e| {
            e.rule.starts_with("step07/status") && r.start <= e.range.start && e.range.end <= r.end
        })
    }

    fn edited(&self, r: &Range<usize>) -> bool {
        self.out
            .buffer
            .edits()
            .iter()
            .any(|e| e.range.start < r.end && r.start < e.range.end.max(e.range.start + 1))
    }

    /// Takes back the renames inside `r` (see
    /// [`take_back_renames`](crate::rules::rename::take_back_renames)).
    fn revert_renames(&mut self, r: &Range<usize>) {
        let edits = crate::rules::rename::take_back_renames(
            self.out,
            self.text,
            self.idx,
            self.tr.current(),
            r,
            "step07/",
        );
        let _ = self.out.buffer.commit(edits);
    }

    fn keep_tonic(&mut self, at: usize, why: String) {
        if self.tonic_only.is_none() {
            self.tonic_only = Some((at, why));
        }
    }

    /// Moves a function's client error handling off tonic's `Status`: the `to_status`
    /// conversions go, the shim wrappers switch to their `connect_errors` twins, the errors
    /// coming out of them are read through `ConnectError`'s accessors, and what only tonic's
    /// `Status` can do keeps the function on tonic (listed).
    fn convert_client_errors(&mut self, sig: &syn::Signature, block: &syn::Block) {
        let mut toks = Vec::new();
        flatten(block.to_token_stream(), &mut toks);
        let mut errs = self.error_params(sig);
        let outflow = self.outflow(sig, block);
        let signals = self.remove_signals(&toks, &outflow);
        streams_and_error_bindings(&toks, &signals, &mut errs);
        self.rewrite_accessors(&toks, &errs);
        if !signals.is_empty() || !errs.is_empty() {
            self.keep_unplaced_tonic_names(&toks);
        }
        self.report_cancelled(&toks);
    }

    /// Parameters whose type the renames made a `ConnectError`: errors throughout the function.
    fn error_params(&self, sig: &syn::Signature) -> Vec<ErrBinding> {
        let mut errs: Vec<ErrBinding> = Vec::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(t) = input else {
                continue;
            };
            let syn::Pat::Ident(pi) = &*t.pat else {
                continue;
            };
            if self.renamed_status_in(&range(syn::spanned::Spanned::span(&*t.ty))) {
                errs.push(ErrBinding {
                    name: pi.ident.to_string(),
                    from: 0,
                    to: usize::MAX,
                });
            }
        }
        errs
    }

    /// The callees of the calls whose value leaves the function as its result (on the spine of
    /// its tail expression and `return`s: through `Ok(..)`, `?`, `.await`, method calls,
    /// blocks and branches), when its return type did not move to `ConnectError`: a tonic
    /// stream built there is what the function returns, declared with tonic's type
    /// (`Result<tonic::Streaming<M>>`).
    fn outflow(&self, sig: &syn::Signature, block: &syn::Block) -> Vec<Range<usize>> {
        let syn::ReturnType::Type(_, ty) = &sig.output else {
            return Vec::new();
        };
        if self.renamed_status_in(&range(syn::spanned::Spanned::span(&**ty))) {
            return Vec::new();
        }
        let mut out = Vec::new();
        block_spine(block, &mut out);
        struct Returns<'r>(&'r mut Vec<Range<usize>>);
        impl<'ast> Visit<'ast> for Returns<'_> {
            fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
                if let Some(e) = &r.expr {
                    spine(e, self.0);
                }
            }
            // A closure's or nested item's `return` is not the function's.
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        Returns(&mut out).visit_block(block);
        out
    }

    /// Signals: removed `map_err(to_status)` and wrappers (switched to their twins). Returns
    /// their ranges. A streaming wrapper in `outflow` keeps its tonic stream (listed).
    fn remove_signals(&mut self, toks: &[Tok], outflow: &[Range<usize>]) -> Vec<Range<usize>> {
        let mut signals: Vec<Range<usize>> = Vec::new();
        let mut i = 0;
        while i < toks.len() {
            if toks[i].is_ident("map_err")
                && i > 0
                && toks[i - 1].is_punct('.')
                && toks
                    .get(i + 1)
                    .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
            {
                // `. map_err ( a :: b :: to_status )`
                let mut j = i + 2;
                let mut segs = Vec::new();
                while let Some(Tok::Ident(s, _)) = toks.get(j) {
                    segs.push(s.as_str());
                    if toks.get(j + 1).is_some_and(|t| t.is_punct(':'))
                        && toks.get(j + 2).is_some_and(|t| t.is_punct(':'))
                    {
                        j += 3;
                    } else {
                        j += 1;
                        break;
                    }
                }
                let closes = toks
                    .get(j)
                    .is_some_and(|t| t.is_close(Delimiter::Parenthesis));
                if closes
                    && !segs.is_empty()
                    && self
                        .resolve_written(&segs)
                        .is_some_and(|f| f == ["connect_shim", "status", "to_status"])
                {
                    let r = toks[i - 1].range().start..toks[j].range().end;
                    // A `.map_err(..)` on a line of its own goes with its line.
                    let ls = crate::edit::line_start(self.text, r.start);
                    let le = self.text[r.end..]
                        .find('\n')
                        .map_or(self.text.len(), |k| r.end + k + 1);
                    let whole = self.text[ls..r.start].trim().is_empty()
                        && self.text[r.end..le].trim().is_empty();
                    let del = if whole { ls..le } else { r.clone() };
                    self.edits.push(Edit::delete(del, "step07/to-status"));
                    signals.push(r);
                    i = j + 1;
                    continue;
                }
            }
            if let Tok::Ident(name, r) = &toks[i] {
                if WRAPPERS.contains(&name.as_str()) && !(i > 0 && toks[i - 1].is_punct('.')) {
                    let mut k = i;
                    while k >= 3
                        && toks[k - 1].is_punct(':')
                        && toks[k - 2].is_punct(':')
                        && toks[k - 3].ident().is_some()
                    {
                        k -= 3;
                    }
                    let segs: Vec<&str> =
                        (k..=i).step_by(3).filter_map(|j| toks[j].ident()).collect();
                    let streaming = matches!(name.as_str(), "tonic_server_stream" | "tonic_bidi");
                    let returned =
                        streaming && outflow.iter().any(|o| o.start <= r.start && r.end <= o.end);
                    let held = self.held_stream.as_ref().filter(|_| streaming && !returned);
                    match self.resolve_written(&segs) {
                        Some(f)
                            if held.is_some()
                                && f.len() == 3
                                && f[0] == "connect_shim"
                                && f[1] == "client" =>
                        {
                            self.items.push(item(
                                r.start,
                                "held-stream",
                                ItemKind::Manual,
                                format!(
                                    "the crate holds tonic's `Streaming` in a declared type ({}): the stream of `{name}` keeps the tonic-shaped call and its tonic error",
                                    held.map(String::as_str).unwrap_or_default()
                                ),
                                "step 8 moves the streaming calls and the types holding their streams; or change the holder to the connect stream (`connect_shim::client::connect_errors::tonic_server_stream`/`tonic_bidi` yield one) together with this call, then run step 7 again",
                            ));
                        }
                        Some(f)
                            if returned
                                && f.len() == 3
                                && f[0] == "connect_shim"
                                && f[1] == "client" =>
                        {
                            self.items.push(item(
                                r.start,
                                "returned-stream",
                                ItemKind::Manual,
                                format!("the stream of `{name}` is what the function returns, declared as tonic's `Streaming`: it keeps the tonic-shaped call and its tonic error"),
                                "change the function's return type to the connect stream (`connect_shim::client::connect_errors::tonic_server_stream`/`tonic_bidi` yield one) together with its callers, then run step 7 again",
                            ));
                        }
                        Some(f) if f.len() == 3 && f[0] == "connect_shim" && f[1] == "client" => {
                            self.edits.push(Edit::insert(
                                r.start,
                                "connect_errors::",
                                "step07/wrapper",
                            ));
                            signals.push(r.clone());
                        }
                        Some(f)
                            if f.len() == 4
                                && f[0] == "connect_shim"
                                && f[2] == "connect_errors" =>
                        {
                            signals.push(r.clone());
                        }
                        _ => {}
                    }
                }
            }
            i += 1;
        }
        signals
    }

    /// Accessors of the errors (`code()`, `message()`, `details()`, `metadata()`) rewritten to
    /// `ConnectError`'s; any other read keeps the function on tonic.
    fn rewrite_accessors(&mut self, toks: &[Tok], errs: &[ErrBinding]) {
        for i in 0..toks.len() {
            let Tok::Ident(name, r) = &toks[i] else {
                continue;
            };
            if i > 0 && (toks[i - 1].is_punct('.') || toks[i - 1].is_punct(':')) {
                continue;
            }
            if !errs
                .iter()
                .any(|e| &e.name == name && e.from <= r.start && r.start < e.to)
            {
                continue;
            }
            if !toks.get(i + 1).is_some_and(|t| t.is_punct('.')) {
                continue;
            }
            let Some(m) = toks.get(i + 2).and_then(Tok::ident) else {
                continue;
            };
            let called = toks
                .get(i + 3)
                .is_some_and(|t| t.is_open(Delimiter::Parenthesis));
            if !called {
                continue;
            }
            match (m, empty_call_at(toks, i)) {
                ("code", Some(_)) => self.edits.push(Edit::replace(
                    toks[i + 2].range().start..toks[i + 4].range().end,
                    "code",
                    "step07/error-accessor",
                )),
                ("message", Some(_)) => self.edits.push(Edit::replace(
                    toks[i + 2].range().start..toks[i + 4].range().end,
                    "message.as_deref().unwrap_or(\"\")",
                    "step07/error-accessor",
                )),
                // `status.details().is_empty()`: whether any detail came, on the field.
                ("details", Some(_))
                    if toks.get(i + 5).is_some_and(|t| t.is_punct('.'))
                        && toks.get(i + 6).is_some_and(|t| t.is_ident("is_empty")) =>
                {
                    self.edits.push(Edit::replace(
                        toks[i + 2].range().start..toks[i + 4].range().end,
                        "details",
                        "step07/error-accessor",
                    ))
                }
                // `status.metadata().get("key")`: tonic merged the error's headers and trailers
                // into its metadata; a ConnectError keeps them apart (trailers first, as tonic).
                ("metadata", Some(_))
                    if toks.get(i + 5).is_some_and(|t| t.is_punct('.'))
                        && toks.get(i + 6).is_some_and(|t| t.is_ident("get"))
                        && toks
                            .get(i + 7)
                            .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
                        && matches!(toks.get(i + 8), Some(Tok::Lit(_)))
                        && toks
                            .get(i + 9)
                            .is_some_and(|t| t.is_close(Delimiter::Parenthesis)) =>
                {
                    let key = &self.text[toks[i + 8].range()];
                    self.edits.push(Edit::replace(
                        toks[i + 2].range().start..toks[i + 9].range().end,
                        format!("trailers().get({key}).or_else(|| {name}.response_headers().get({key}))"),
                        "step07/error-accessor",
                    ))
                }
                // `format!("{:?}", status.metadata())`: a whole value only printed with `{:?}`;
                // both maps print instead.
                ("metadata", Some(_))
                    if toks
                        .get(i + 5)
                        .is_some_and(|t| t.is_punct(',') || t.is_close(Delimiter::Parenthesis))
                        && i > 0
                        && toks[i - 1].is_punct(',')
                        && in_format_macro(toks, i) =>
                {
                    self.edits.push(Edit::replace(
                        r.start..toks[i + 4].range().end,
                        format!("({name}.response_headers(), {name}.trailers())"),
                        "step07/error-accessor",
                    ))
                }
                ("to_string" | "clone", _) => {}
                (other, _)
                    if self.details_ok && crate::steps::details::READERS.contains(&other) => {}
                (other, _) => self.keep_tonic(
                    r.start,
                    format!(
                        "`{name}.{other}(..)` reads a client error the way only tonic's Status can"
                    ),
                ),
            }
        }
    }

    /// Tonic error names the renames did not place, in a function that handles client errors.
    fn keep_unplaced_tonic_names(&mut self, toks: &[Tok]) {
        for (i, t) in toks.iter().enumerate() {
            let Tok::Ident(n, r) = t else { continue };
            if (n != "Status" && n != "Code") || (i > 0 && toks[i - 1].is_punct('.')) {
                continue;
            }
            if self.edited(r) {
                continue;
            }
            let qualified = i >= 3 && toks[i - 3].is_ident("tonic") && toks[i - 1].is_punct(':');
            if qualified && self.edited(&(toks[i - 3].range().start..r.end)) {
                continue;
            }
            let tonic = qualified
                || self
                    .resolve_written(&[n.as_str()])
                    .is_some_and(|f| f.first().map(String::as_str) == Some("tonic"));
            if tonic {
                self.keep_tonic(
                    r.start,
                    format!("it still names tonic's `{n}` where the step could not tell the side"),
                );
            }
        }
    }

    /// Behaviour: tonic reported client timeouts as Cancelled.
    fn report_cancelled(&mut self, toks: &[Tok]) {
        for t in toks {
            if let Tok::Ident(n, r) = t {
                if n == "Cancelled" && self.edited(r) {
                    self.items.push(item(
                        r.start,
                        "timeout-code",
                        ItemKind::Manual,
                        "tonic reported client-side timeouts as Code::Cancelled; connectrpc reports them as ErrorCode::DeadlineExceeded".into(),
                        "check whether this arm was meant for timeouts, and match DeadlineExceeded for them",
                    ));
                }
            }
        }
    }
}

/// The callees on the spine of a block's tail expression (see [`Walker::outflow`]).
fn block_spine(b: &syn::Block, out: &mut Vec<Range<usize>>) {
    if let Some(syn::Stmt::Expr(e, None)) = b.stmts.last() {
        spine(e, out);
    }
}

fn spine(e: &syn::Expr, out: &mut Vec<Range<usize>>) {
    use syn::Expr as E;
    match e {
        E::Call(c) => {
            out.push(range(syn::spanned::Spanned::span(&*c.func)));
            let wraps = matches!(&*c.func, E::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Ok" || s.ident == "Some"));
            if wraps {
                c.args.iter().for_each(|a| spine(a, out));
            }
        }
        E::Try(t) => spine(&t.expr, out),
        E::Await(a) => spine(&a.base, out),
        E::MethodCall(m) => spine(&m.receiver, out),
        E::Paren(p) => spine(&p.expr, out),
        E::Group(g) => spine(&g.expr, out),
        E::Block(b) => block_spine(&b.block, out),
        E::Unsafe(b) => block_spine(&b.block, out),
        E::If(i) => {
            block_spine(&i.then_branch, out);
            if let Some((_, e)) = &i.else_branch {
                spine(e, out);
            }
        }
        E::Match(m) => m.arms.iter().for_each(|a| spine(&a.body, out)),
        _ => {}
    }
}

/// An error binding: its name and the offsets between which it names a client error.
struct ErrBinding {
    name: String,
    from: usize,
    to: usize,
}

/// Bindings fed by a signal: `let s = <..wrapper..>` (streams), and `Err(e)` arms of a
/// `match` / `if let` on an expression holding one (added to `errs`).
fn streams_and_error_bindings(toks: &[Tok], signals: &[Range<usize>], errs: &mut Vec<ErrBinding>) {
    let has_signal = |r: Range<usize>| signals.iter().any(|s| r.start <= s.start && s.end <= r.end);
    let mut streams: HashSet<String> = HashSet::new();
    for (i, t) in toks.iter().enumerate() {
        if t.is_ident("let") {
            // let [mut] NAME = ... ;
            let mut j = i + 1;
            if toks.get(j).is_some_and(|t| t.is_ident("mut")) {
                j += 1;
            }
            let (Some(Tok::Ident(name, _)), true) = (
                toks.get(j),
                toks.get(j + 1).is_some_and(|t| t.is_punct('=')),
            ) else {
                continue;
            };
            let end = statement_end(toks, j + 2).min(toks.len() - 1);
            let r = toks[j + 2].range().start..toks[end].range().end;
            if has_signal(r) {
                streams.insert(name.clone());
                // `let e = call.await.err()..`, `.unwrap_err()`, `match call { .. Err(e) => e }`:
                // `e` is the call's error from here on.
                let takes_err = (j + 2..end).any(|k| {
                    (toks[k].is_ident("err")
                        || toks[k].is_ident("unwrap_err")
                        || toks[k].is_ident("expect_err"))
                        && toks[k - 1].is_punct('.')
                }) || (j + 2..end).any(|k| {
                    toks[k].is_ident("Err")
                        && toks
                            .get(k + 1)
                            .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
                        && toks
                            .get(k + 3)
                            .is_some_and(|t| t.is_close(Delimiter::Parenthesis))
                        && toks.get(k + 4).is_some_and(|t| t.is_punct('='))
                        && toks.get(k + 5).is_some_and(|t| t.is_punct('>'))
                        && toks.get(k + 6).and_then(Tok::ident)
                            == toks.get(k + 2).and_then(Tok::ident)
                });
                if takes_err {
                    errs.push(ErrBinding {
                        name: name.clone(),
                        from: toks[end].range().end,
                        to: usize::MAX,
                    });
                }
            }
        }
        if t.is_ident("match")
            || (t.is_ident("if") && toks.get(i + 1).is_some_and(|t| t.is_ident("let")))
        {
            let start = if t.is_ident("match") { i + 1 } else { i + 2 };
            // The scrutinee runs to the `{` at depth 0.
            let mut depth = 0i32;
            let mut j = start;
            while j < toks.len() {
                match &toks[j] {
                    Tok::Open(Delimiter::Brace, _) if depth == 0 => break,
                    Tok::Open(..) => depth += 1,
                    Tok::Close(..) => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
            if j >= toks.len() {
                continue;
            }
            let scrut = toks[start].range().start..toks[j].range().start;
            let from_stream =
                (start..j).any(|k| toks[k].ident().is_some_and(|n| streams.contains(n)));
            if !has_signal(scrut.clone()) && !from_stream {
                continue;
            }
            // The `{ .. }` that follows.
            let body_end = close_of(toks, j);
            let (from, to) = if t.is_ident("match") {
                (toks[j].range().start, toks[body_end].range().end)
            } else {
                // `if let Err(e) = x {`: the pattern sits before the `=`.
                (toks[i].range().start, toks[body_end].range().end)
            };
            let scan_from = if t.is_ident("match") { j } else { i };
            for k in scan_from..body_end {
                if toks[k].is_ident("Err")
                    && toks
                        .get(k + 1)
                        .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
                    && toks
                        .get(k + 3)
                        .is_some_and(|t| t.is_close(Delimiter::Parenthesis))
                {
                    if let Some(Tok::Ident(n, _)) = toks.get(k + 2) {
                        errs.push(ErrBinding {
                            name: n.clone(),
                            from,
                            to,
                        });
                    }
                }
            }
        }
    }
}

/// The index of the `;` ending the statement that starts at `from` (depth 0), or the last token.
fn statement_end(toks: &[Tok], from: usize) -> usize {
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate().skip(from) {
        match t {
            Tok::Open(..) => depth += 1,
            Tok::Close(..) => {
                depth -= 1;
                if depth < 0 {
                    return k.saturating_sub(1);
                }
            }
            Tok::Punct(';', _) if depth == 0 => return k,
            _ => {}
        }
    }
    toks.len().saturating_sub(1)
}

/// Macros whose arguments after the format string are only formatted.
const FORMAT_MACROS: &[&str] = &[
    "format",
    "print",
    "println",
    "eprint",
    "eprintln",
    "write",
    "writeln",
    "panic",
    "format_args",
    "trace",
    "debug",
    "info",
    "warn",
    "error",
    "unreachable",
    "todo",
    "unimplemented",
];

/// Is token `i` directly inside the parentheses of a formatting macro call (`format!(..)`)?
fn in_format_macro(toks: &[Tok], i: usize) -> bool {
    let mut depth = 0i32;
    for k in (0..i).rev() {
        match &toks[k] {
            Tok::Close(..) => depth += 1,
            Tok::Open(d, _) if depth == 0 => {
                return *d == Delimiter::Parenthesis
                    && k >= 2
                    && toks[k - 1].is_punct('!')
                    && toks[k - 2]
                        .ident()
                        .is_some_and(|n| FORMAT_MACROS.contains(&n));
            }
            Tok::Open(..) => depth -= 1,
            _ => {}
        }
    }
    false
}

/// The index of the token closing the group opened at `open`.
fn close_of(toks: &[Tok], open: usize) -> usize {
    let mut depth = 0i32;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Open(..) => depth += 1,
            Tok::Close(..) => {
                depth -= 1;
                if depth == 0 {
                    return k;
                }
            }
            _ => {}
        }
    }
    toks.len() - 1
}

impl<'ast> Visit<'ast> for Walker<'_, '_> {
    crate::scoped_visit!();

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        // An impl of one of tonic's traits (`Interceptor`, ..) keeps tonic's signatures.
        if let Some((_, path, _)) = &imp.trait_ {
            let full = self
                .idx
                .resolve(self.tr.current(), path)
                .and_then(|r| r.resolved().cloned())
                .map(|r| r.full);
            if full.is_some_and(|f| f.first().map(String::as_str) == Some("tonic")) {
                let r = range(syn::spanned::Spanned::span(imp));
                self.revert_renames(&r);
                return;
            }
        }
        syn::visit::visit_item_impl(self, imp);
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if self.interceptor_fn(&f.sig, range(syn::spanned::Spanned::span(f))) {
            return;
        }
        self.convert_client_errors(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    // A function type with tonic's interceptor shape (`dyn Fn(Request<()>) ->
    // Result<Request<()>, Status>`, a `fn(..)` pointer) is what tonic's interceptors call: its
    // `Status` stays tonic's (skywalking's `custom_intercept` handler, called with `?` inside
    // an `Interceptor` impl).
    fn visit_trait_bound(&mut self, b: &'ast syn::TraitBound) {
        if let Some(syn::PathArguments::Parenthesized(args)) =
            b.path.segments.last().map(|s| &s.arguments)
        {
            if self.interceptor_shape(args.inputs.iter(), &args.output) {
                self.revert_renames(&range(syn::spanned::Spanned::span(b)));
                return;
            }
        }
        syn::visit::visit_trait_bound(self, b);
    }

    fn visit_type_bare_fn(&mut self, f: &'ast syn::TypeBareFn) {
        if self.interceptor_shape(f.inputs.iter().map(|a| &a.ty), &f.output) {
            self.revert_renames(&range(syn::spanned::Spanned::span(f)));
            return;
        }
        syn::visit::visit_type_bare_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if self.interceptor_fn(&f.sig, range(syn::spanned::Spanned::span(f))) {
            return;
        }
        self.convert_client_errors(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
}

impl Walker<'_, '_> {
    /// A function with tonic's interceptor shape (`fn intercept(req: Request<()>) ->
    /// Result<Request<()>, Status>`, handed to `with_interceptor` / `InterceptedService`): tonic
    /// calls it, so its `Status` stays tonic's (the renames inside `item` are taken back).
    fn interceptor_fn(&mut self, sig: &syn::Signature, item: Range<usize>) -> bool {
        let inputs = sig.inputs.iter().filter_map(|a| match a {
            syn::FnArg::Typed(t) => Some(&*t.ty),
            syn::FnArg::Receiver(_) => None,
        });
        if sig.inputs.len() != 1 || !self.interceptor_shape(inputs, &sig.output) {
            return false;
        }
        self.revert_renames(&item);
        true
    }
}
