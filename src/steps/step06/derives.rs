//! `#[derive(Debug)]` on a struct holding a client: tonic's clients implement `Debug`,
//! connectrpc's generated clients do not, so once the field's type is the connect client the
//! derive no longer compiles. The derive loses `Debug`, and a hand-written `Debug` impl after
//! the struct prints every other field (`finish_non_exhaustive`: `..` for the clients). Listed:
//! the struct's `Debug` output changes.
//!
//! Before:
//! ```text
//! #[derive(Clone, Debug)]
//! pub struct Sdk {
//!     client: EchoClient<Channel>,
//!     name: String,
//! }
//! ```
//! After:
//! ```text
//! #[derive(Clone)]
//! pub struct Sdk {
//!     client: EchoClient<connectrpc::client::HttpClient>,
//!     name: String,
//! }
//!
//! impl std::fmt::Debug for Sdk {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.debug_struct("Sdk").field("name", &self.name).finish_non_exhaustive()
//!     }
//! }
//! ```
//! A generic struct is listed and left as it is (its impl would need the derive's bounds).

use super::*;
use syn::punctuated::Punctuated;

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// Does the type hold a tonic client (that the step makes a connect client) anywhere in it
    /// (`XClient<Channel>`, `Option<XClient<..>>`, an alias of a client)?
    fn holds_client(&self, ty: &syn::Type) -> bool {
        struct Find<'w, 'a, 's, 'ast> {
            w: &'w Walker<'a, 's, 'ast>,
            found: bool,
        }
        impl<'x> Visit<'x> for Find<'_, '_, '_, '_> {
            fn visit_type(&mut self, t: &'x syn::Type) {
                if self.w.client_type_service(t).is_some() {
                    self.found = true;
                } else {
                    syn::visit::visit_type(self, t);
                }
            }
        }
        let mut f = Find {
            w: self,
            found: false,
        };
        f.visit_type(ty);
        f.found
    }

    /// A struct deriving `Debug` with a client field: the derive loses `Debug`, a hand-written
    /// impl leaving the client fields out follows the struct.
    pub(super) fn debug_without_clients(&mut self, s: &'ast syn::ItemStruct) {
        let clients: Vec<bool> = s.fields.iter().map(|f| self.holds_client(&f.ty)).collect();
        if !clients.contains(&true) {
            self.relist_debug(s);
            return;
        }
        let Some((attr, list, at)) = s.attrs.iter().find_map(|a| {
            if !a.path().is_ident("derive") {
                return None;
            }
            let list = a
                .parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                .ok()?;
            let at = list.iter().position(|p| {
                p.segments.last().is_some_and(|l| l.ident == "Debug")
                    && p.segments.len() <= 3
                    && p.segments.iter().all(|s| {
                        ["std", "core", "fmt", "Debug"].contains(&s.ident.to_string().as_str())
                    })
            })?;
            Some((a, list, at))
        }) else {
            return;
        };
        let name = s.ident.to_string();
        let start = range(s.ident.span()).start;
        if !s.generics.params.is_empty() {
            self.report(
                start,
                "client-debug",
                ItemKind::Manual,
                format!("`{name}` derives `Debug` and holds a client: connect clients do not implement `Debug`"),
                "write `impl Debug` by hand, leaving the client fields out (`finish_non_exhaustive()`)",
            );
            return;
        }
        // The derive without `Debug`: the path and its comma, or the whole attribute.
        let paths: Vec<Range<usize>> = list.iter().map(|p| range(p.span())).collect();
        let mut edits = vec![if paths.len() == 1 {
            let r = range(attr.span());
            let rest = &self.text[r.end..];
            let ws = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let nl = usize::from(rest[ws..].starts_with('\n'));
            let line_start = self.text[..r.start].rfind('\n').map_or(0, |i| i + 1);
            let from = if self.text[line_start..r.start].trim().is_empty() && nl == 1 {
                line_start
            } else {
                r.start
            };
            Edit::delete(from..r.end + ws + nl, "step06/client-debug")
        } else if at + 1 < paths.len() {
            Edit::delete(paths[at].start..paths[at + 1].start, "step06/client-debug")
        } else {
            Edit::delete(paths[at - 1].end..paths[at].end, "step06/client-debug")
        }];
        // The impl, at the struct's indentation.
        let r = range(s.span());
        let line_start = self.text[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = self.text[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let mut body = match &s.fields {
            syn::Fields::Named(_) => format!("f.debug_struct(\"{name}\")"),
            _ => format!("f.debug_tuple(\"{name}\")"),
        };
        for (i, (f, client)) in s.fields.iter().zip(&clients).enumerate() {
            if *client {
                continue;
            }
            match &f.ident {
                Some(id) => {
                    let id = id.to_string();
                    let shown = id.strip_prefix("r#").unwrap_or(&id);
                    body.push_str(&format!(".field(\"{shown}\", &self.{id})"));
                }
                None => body.push_str(&format!(".field(&self.{i})")),
            }
        }
        body.push_str(".finish_non_exhaustive()");
        let text = format!(
            "\n\n{indent}impl std::fmt::Debug for {name} {{\n{indent}    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n{indent}        {body}\n{indent}    }}\n{indent}}}"
        );
        edits.push(Edit::insert(r.end, text, "step06/client-debug"));
        if self.commit(edits, start, "client-debug") {
            self.report_debug(start, &name);
        }
    }

    fn report_debug(&mut self, at: usize, name: &str) {
        self.report(
            at,
            "client-debug",
            ItemKind::Manual,
            format!("`{name}` derived `Debug` and holds a client: connect clients do not implement `Debug`, so its `Debug` is written by hand and leaves the client fields out"),
            "check the `Debug` output of this struct (the client fields print as `..`)",
        );
    }

    /// A later run: a struct holding a connect client of the schema, whose `Debug` is the
    /// impl an earlier run wrote (`impl std::fmt::Debug for Name` in the file, ending in
    /// `finish_non_exhaustive()`), is listed again, as the first run listed it.
    fn relist_debug(&mut self, s: &syn::ItemStruct) {
        let connect: HashSet<&str> = self
            .schema
            .services
            .iter()
            .map(|svc| svc.connect_client.as_str())
            .collect();
        struct Names<'n> {
            connect: &'n HashSet<&'n str>,
            found: bool,
        }
        impl<'x> Visit<'x> for Names<'_> {
            fn visit_path(&mut self, p: &'x syn::Path) {
                if p.segments
                    .last()
                    .is_some_and(|l| self.connect.contains(l.ident.to_string().as_str()))
                {
                    self.found = true;
                }
                syn::visit::visit_path(self, p);
            }
        }
        let mut names = Names {
            connect: &connect,
            found: false,
        };
        for f in &s.fields {
            names.visit_type(&f.ty);
        }
        if !names.found || !s.generics.params.is_empty() {
            return;
        }
        let name = s.ident.to_string();
        fn written(items: &[syn::Item], name: &str) -> bool {
            items.iter().any(|it| match it {
                syn::Item::Impl(i) => {
                    let debug = i.trait_.as_ref().is_some_and(|(_, p, _)| {
                        p.segments
                            .iter()
                            .map(|s| s.ident.to_string())
                            .collect::<Vec<_>>()
                            == ["std", "fmt", "Debug"]
                    });
                    debug
                        && type_path(&i.self_ty).is_some_and(|p| p.is_ident(name))
                        && quote::ToTokens::to_token_stream(i)
                            .to_string()
                            .contains("finish_non_exhaustive")
                }
                syn::Item::Mod(m) => m.content.as_ref().is_some_and(|(_, v)| written(v, name)),
                _ => false,
            })
        }
        if written(&self.file.file.items, &name) {
            self.report_debug(range(s.ident.span()).start, &name);
        }
    }
}
