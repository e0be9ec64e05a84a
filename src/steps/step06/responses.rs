//! Responses: the uses of a unary call's response, read through a view, owned, or as headers.

use super::*;

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// Uses of a response binding in `visit` are all understood: the edits renaming them.
    pub(super) fn response_uses(
        &self,
        name: &str,
        output: &str,
        f: impl FnOnce(&mut UseFinder<'ast>),
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        for (_, parent) in uses_in(name, f) {
            let parent = parent?;
            let syn::Expr::MethodCall(m) = parent else {
                return None;
            };
            if !m.args.is_empty() {
                return None;
            }
            match m.method.to_string().as_str() {
                "into_inner" => edits.push(Edit::replace(
                    range(m.method.span()),
                    "into_owned",
                    "step06/response",
                )),
                "get_ref" => {
                    // Only `get_ref().field` of a scalar field: checked by the caller's text.
                    let after = &self.text[range(m.span()).end..];
                    let field: String = after
                        .strip_prefix('.')?
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let next = after[1 + field.len()..].trim_start();
                    if !(self.scalar_field(output, &field) || next.starts_with('.')) {
                        return None;
                    }
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "view",
                        "step06/response",
                    ));
                }
                _ => return None,
            }
        }
        Some(edits)
    }

    /// A unary response bound by `let name = <call>..;`: every later use of `name` understood
    /// (`into_inner()` -> `into_owned()`, `get_ref().f`, `metadata()` -> `headers()` read with
    /// `get`, `get_bin(..)..to_bytes()`); the edits.
    pub(super) fn bound_response(&self, l: &'ast syn::Local, output: &str) -> Option<Vec<Edit>> {
        let syn::Pat::Ident(pi) = &l.pat else {
            return None;
        };
        if pi.subpat.is_some() || pi.by_ref.is_some() {
            return None;
        }
        let name = pi.ident.to_string();
        let body = *self.fn_bodies.last()?;
        if lets_named(&name, body).len() != 1 {
            return None;
        }
        let mut edits = Vec::new();
        let mut metadata_hits = Vec::new();
        for hit in ancestors_of(&name, body) {
            let parent = match hit.first() {
                Some(Anc::Expr(p)) => p,
                _ => return None,
            };
            match parent {
                syn::Expr::MethodCall(m) if m.method == "metadata" && m.args.is_empty() => {
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "headers",
                        "step06/response-metadata",
                    ));
                    metadata_hits.push(hit[1..].to_vec());
                }
                _ => {}
            }
        }
        // The other uses: what a response bound in a `match` arm may do.
        let rest = self.response_uses_filtered(&name, output, body)?;
        edits.extend(rest);
        for anc in metadata_hits {
            edits.extend(self.header_map_use(&anc, body, 0)?);
        }
        Some(edits)
    }

    /// `response_uses` on every use of `name` in `body` that is not `name.metadata()`.
    pub(super) fn response_uses_filtered(
        &self,
        name: &str,
        output: &str,
        body: &'ast syn::Block,
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        for (_, parent) in uses_in(name, |u| u.visit_block(body)) {
            let parent = parent?;
            if let syn::Expr::MethodCall(m) = parent {
                if m.method == "metadata" && m.args.is_empty() {
                    continue;
                }
            }
            let one: &'ast syn::Expr = parent;
            // Reuse the match-arm reading on this one use.
            let mut sub = self.response_uses(name, output, |u| {
                u.hits.push((leak_dummy(), Some(one)));
            })?;
            edits.append(&mut sub);
        }
        Some(edits)
    }

    /// The uses of an `http::HeaderMap` that was tonic's response `MetadataMap` (`anc`: the
    /// ancestors of the `metadata()` call, or of a local bound to it): the edits.
    pub(super) fn header_map_use(
        &self,
        anc: &[Anc<'ast>],
        body: &'ast syn::Block,
        depth: usize,
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        match anc.first() {
            Some(Anc::Local(l)) if depth == 0 => {
                let syn::Pat::Ident(pi) = &l.pat else {
                    return None;
                };
                let n = pi.ident.to_string();
                if lets_named(&n, body).len() != 1 {
                    return None;
                }
                for hit in ancestors_of(&n, body) {
                    edits.extend(self.header_map_use(&hit, body, depth + 1)?);
                }
            }
            Some(Anc::Macro) => {}
            Some(Anc::Expr(syn::Expr::MethodCall(m))) => match m.method.to_string().as_str() {
                "get" | "contains_key" | "len" | "is_empty" | "keys" => {}
                "get_bin" if m.args.len() == 1 => {
                    edits.push(Edit::replace(
                        range(m.method.span()),
                        "get",
                        "step06/response-metadata",
                    ));
                    // Up the chain to `.to_bytes()`.
                    let mut cur: &syn::Expr = match anc.first() {
                        Some(Anc::Expr(e)) => e,
                        _ => return None,
                    };
                    let mut found = None;
                    for a in &anc[1..] {
                        let Anc::Expr(p) = a else { break };
                        let cont = match p {
                            syn::Expr::Try(t) => ptr_eq(&*t.expr, cur),
                            syn::Expr::MethodCall(pm) => {
                                ptr_eq(&*pm.receiver, cur)
                                    && matches!(
                                        pm.method.to_string().as_str(),
                                        "ok_or" | "ok_or_else" | "unwrap" | "expect" | "to_bytes"
                                    )
                            }
                            _ => false,
                        };
                        if !cont {
                            break;
                        }
                        if let syn::Expr::MethodCall(pm) = p {
                            if pm.method == "to_bytes" && pm.args.is_empty() {
                                found = Some(pm);
                                break;
                            }
                        }
                        cur = p;
                    }
                    let tb = found?;
                    let recv = range(tb.receiver.span());
                    edits.push(Edit::insert(
                        recv.start,
                        format!("{}(", crate::steps::metadata::BIN_DECODE),
                        "step06/response-metadata",
                    ));
                    edits.push(Edit::replace(
                        recv.end..range(tb.span()).end,
                        ")",
                        "step06/response-metadata",
                    ));
                    self.decode.set(true);
                }
                _ => return None,
            },
            _ => return None,
        }
        Some(edits)
    }

    /// Uses of a response binding made owned (`.map(|r| r.into_owned())` on the call): each is
    /// `name.into_inner()` (the message itself) or `name.get_ref()` (`name` before a field or
    /// method, `&name` elsewhere); the edits, or `None` for any other use.
    pub(super) fn owned_uses(
        &self,
        name: &str,
        f: impl FnOnce(&mut UseFinder<'ast>),
    ) -> Option<Vec<Edit>> {
        let mut edits = Vec::new();
        for (hit, parent) in uses_in(name, f) {
            let Some(syn::Expr::MethodCall(m)) = parent else {
                return None;
            };
            if !m.args.is_empty() || m.turbofish.is_some() || !ptr_eq(&*m.receiver, hit) {
                return None;
            }
            let call = range(m.span());
            let recv_end = range(hit.span()).end;
            match m.method.to_string().as_str() {
                "into_inner" => {
                    edits.push(Edit::delete(recv_end..call.end, "step06/response"));
                }
                "get_ref" => {
                    if self.text[call.end..].trim_start().starts_with('.') {
                        edits.push(Edit::delete(recv_end..call.end, "step06/response"));
                    } else {
                        edits.push(Edit::replace(call, format!("&{name}"), "step06/response"));
                    }
                }
                _ => return None,
            }
        }
        Some(edits)
    }

    /// After the response value: `.into_inner()` / `.get_ref().field`, or nothing.
    pub(super) fn response_chain(
        &self,
        rest: &[&'ast syn::Expr],
        output: &str,
        edits: &mut Vec<Edit>,
    ) -> Option<()> {
        match rest.first() {
            None => {
                // The value goes somewhere: fine only when discarded or bound to `_`.
                let depth = self.chain_up(0).len() - rest.len();
                match self.stack_node(depth + 1) {
                    Some(Node::Block(_)) => Some(()),
                    Some(Node::Local(l)) => {
                        edits.extend(self.bound_response(l, output)?);
                        Some(())
                    }
                    _ => None,
                }
            }
            Some(syn::Expr::MethodCall(m)) if m.method == "into_inner" && m.args.is_empty() => {
                edits.push(Edit::replace(
                    range(m.method.span()),
                    "into_owned",
                    "step06/response",
                ));
                Some(())
            }
            Some(syn::Expr::MethodCall(m)) if m.method == "get_ref" && m.args.is_empty() => {
                let Some(syn::Expr::Field(f)) = rest.get(1) else {
                    return None;
                };
                let syn::Member::Named(id) = &f.member else {
                    return None;
                };
                // A `Copy` field (numbers, bools) is read on `view()`; any other on the owned
                // message (a view gives `&str` for a `String`, views for repeated and message
                // fields, and borrows the response this temporary is).
                let to = if self.copy_field(output, &id.to_string()) {
                    "view"
                } else {
                    "into_owned"
                };
                edits.push(Edit::replace(range(m.method.span()), to, "step06/response"));
                Some(())
            }
            _ => None,
        }
    }
}
