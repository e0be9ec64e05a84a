//! Paths: `x_client::XClient` -> `XClient`, and type arguments (`XClient<Channel>` ->
//! `XClient<connectrpc::client::HttpClient>`).

use super::*;

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// The written path text of a tonic client path, without the `x_client::` segment.
    pub(super) fn path_text_without_mod(&self, p: &syn::Path, svc: &Service) -> String {
        let mut out = String::new();
        if p.leading_colon.is_some() {
            out.push_str("::");
        }
        let n = p.segments.len();
        let mut first = true;
        for (i, s) in p.segments.iter().enumerate() {
            if s.ident == svc.tonic_client_mod
                && i + 1 < n
                && p.segments[i + 1].ident == svc.tonic_client
            {
                continue;
            }
            if !first {
                out.push_str("::");
            }
            first = false;
            out.push_str(&s.ident.to_string());
        }
        out
    }

    pub(super) fn rewrite_uses(&mut self) {
        // `use pb::x_client::XClient;` -> `use pb::XClient;`
        let mut edits = Vec::new();
        for (li, l) in self.idx.leaves.iter().enumerate() {
            let segs: Vec<&str> = l.written.iter().map(String::as_str).collect();
            let full = self.idx.canonical(self.idx.leaf_path(li));
            let Some(svc) = self.service_of_client(&full) else {
                continue;
            };
            if segs.last() != Some(&svc.tonic_client.as_str()) {
                continue;
            }
            let ui = &self.idx.use_items[l.item];
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
            let Some((pr, lr)) = find(&ui.tree, li) else {
                continue;
            };
            let seg = &self.text[pr.start..lr.start];
            let ident = seg.trim_end().trim_end_matches("::").trim();
            if ident != svc.tonic_client_mod {
                self.report(
                    pr.start,
                    "client-import",
                    ItemKind::Manual,
                    format!("import of tonic's `{}` not rewritten", svc.tonic_client),
                    "import the connect client from the package module instead",
                );
                continue;
            }
            edits.push(Edit::delete(
                pr.start..lr.start,
                &format!("{RULE}/client-type"),
            ));
        }
        for e in edits {
            let at = e.range.start;
            self.commit(vec![e], at, "client-type");
        }
    }

    pub(super) fn rewrite_type_path(&mut self, p: &'ast syn::Path) {
        let r = range(p.span());
        if self.in_replaced(&r) {
            return;
        }
        let Some(svc) = self.client_path_service(p) else {
            return;
        };
        let mut edits = Vec::new();
        let n = p.segments.len();
        if n >= 2 && p.segments[n - 2].ident == svc.tonic_client_mod {
            let a = range(p.segments[n - 2].span()).start;
            let b = range(p.segments[n - 1].span()).start;
            edits.push(Edit::delete(a..b, "step06/client-type"));
        }
        if let syn::PathArguments::AngleBracketed(args) = &p.segments[n - 1].arguments {
            for a in &args.args {
                let syn::GenericArgument::Type(t) = a else {
                    continue;
                };
                let Some(tp) = type_path(t) else { continue };
                let full = self.resolve_full(tp).unwrap_or_default();
                let tr = range(t.span());
                let from_tonic = full.first().map(String::as_str) == Some("tonic");
                // The file builds this client on a kept channel: tonic's, or the crate's own
                // tower service over one (`AuthService<Channel>`, a concrete type named through
                // the crate's paths, not a generic parameter). Its types are wrapped as the
                // construction is.
                let kept_on = match full.last().map(String::as_str) {
                    Some("Channel") if from_tonic => Some((
                        "the tonic channel".to_string(),
                        "once the client is built on `HttpClient`, make this `HttpClient` too",
                    )),
                    Some(last)
                        if !from_tonic
                            && full.len() >= 2
                            && !matches!(
                                last,
                                "ChannelTransport" | "HttpClient" | "Http2Connection"
                            ) =>
                    {
                        Some((
                            format!("the crate's own channel service `{last}`"),
                            "port the service's behaviour to a connectrpc interceptor and build the client on `HttpClient`",
                        ))
                    }
                    _ => None,
                };
                if let Some((on, note)) =
                    kept_on.filter(|_| self.channel_kept.contains(&svc.full_name))
                {
                    edits.extend(on_channel_transport(tr.clone()));
                    self.report(
                        tr.start,
                        "channel-transport",
                        ItemKind::Manual,
                        format!("`{}` type kept on {on} (connect_shim::client::ChannelTransport), as the file builds it on one", svc.tonic_client),
                        note,
                    );
                    continue;
                }
                match full.last().map(String::as_str) {
                    Some("Channel") if full.first().map(String::as_str) == Some("tonic") => {
                        edits.push(Edit::replace(
                            tr,
                            "connectrpc::client::HttpClient",
                            "step06/client-type",
                        ));
                    }
                    Some("InterceptedService")
                        if full.first().map(String::as_str) == Some("tonic")
                            && self.chan.intercepted.contains(&tr.start) =>
                    {
                        edits.push(Edit::replace(
                            tr,
                            "connectrpc::client::HttpClient",
                            "step06/client-type",
                        ));
                    }
                    Some("InterceptedService")
                        if full.first().map(String::as_str) == Some("tonic") =>
                    {
                        edits.extend(on_channel_transport(tr.clone()));
                        self.report(
                            tr.start,
                            "intercepted-type",
                            ItemKind::Manual,
                            INTERCEPTED_TYPE.0.into(),
                            INTERCEPTED_TYPE.1,
                        );
                    }
                    _ => {}
                }
            }
        }
        if !edits.is_empty() {
            let at = r.start;
            self.commit(edits, at, "client-type");
        }
    }
}

/// `T` -> `connect_shim::client::ChannelTransport<T>`: a client type kept on a tonic channel.
fn on_channel_transport(tr: std::ops::Range<usize>) -> [Edit; 2] {
    [
        Edit::insert(
            tr.start,
            "connect_shim::client::ChannelTransport<",
            "step06/client-type",
        ),
        Edit::insert(tr.end, ">", "step06/client-type"),
    ]
}
