//! Request helpers: a root-module function building a tonic request with metadata returns
//! `(message, CallOptions)` when every call of it converts.

use super::*;

/// A function of the file's root module building a tonic request for its caller:
/// `fn name<T>(message: T, ..) -> Request<T> { let mut r = Request::new(message); r.metadata_mut()..; r }`.
pub(super) struct Helper {
    pub(super) name: String,
    /// Where it is defined (its `fn` item).
    pub(super) offset: usize,
    /// How many times the file names it (each must be a converted call).
    pub(super) uses: usize,
    /// The edits of the function itself: returns `(T, CallOptions)`.
    pub(super) edits: Vec<Edit>,
    pub(super) encode: bool,
}

pub(super) fn request_helpers(file: &FileCtx<'_>) -> Vec<Helper> {
    let idx = file.index;
    let text = file.text;
    let root = idx.root();
    let resolve = |p: &syn::Path| match idx.resolve(root, p)? {
        Resolution::One(r) => Some(idx.canonical(r.full)),
        Resolution::Ambiguous(_) => None,
    };
    let mut out = Vec::new();
    // A private function of a file without out-of-line child modules: every use of it is in
    // this file (a `pub` one or one reachable from `mod x;` files may be called elsewhere).
    let outlined = file
        .file
        .items
        .iter()
        .any(|it| matches!(it, syn::Item::Mod(m) if m.content.is_none()));
    if outlined {
        return out;
    }
    for it in &file.file.items {
        let syn::Item::Fn(f) = it else { continue };
        if !matches!(f.vis, syn::Visibility::Inherited) {
            continue;
        }
        let syn::ReturnType::Type(_, ret) = &f.sig.output else {
            continue;
        };
        let syn::Type::Path(tp) = &**ret else {
            continue;
        };
        if resolve(&tp.path).as_deref() != Some(&["tonic".to_string(), "Request".to_string()][..]) {
            continue;
        }
        let Some(syn::PathArguments::AngleBracketed(ab)) =
            tp.path.segments.last().map(|s| &s.arguments)
        else {
            continue;
        };
        let [syn::GenericArgument::Type(inner)] = ab.args.iter().collect::<Vec<_>>()[..] else {
            continue;
        };
        let stmts = &f.block.stmts;
        let Some((syn::Stmt::Local(local), rest)) = stmts.split_first() else {
            continue;
        };
        let Some((syn::Stmt::Expr(syn::Expr::Path(tail), None), middle)) = rest.split_last() else {
            continue;
        };
        let syn::Pat::Ident(pi) = &local.pat else {
            continue;
        };
        let var = pi.ident.to_string();
        if !tail.path.is_ident(&var) {
            continue;
        }
        let Some(init) = &local.init else { continue };
        let syn::Expr::Call(c) = &*init.expr else {
            continue;
        };
        let syn::Expr::Path(fp) = &*c.func else {
            continue;
        };
        if c.args.len() != 1
            || resolve(&fp.path).as_deref()
                != Some(&["tonic".into(), "Request".into(), "new".into()][..])
        {
            continue;
        }
        let opt = format!("{var}_options");
        if text[range(f.block.span())].contains(&opt) {
            continue;
        }
        let mut edits = vec![Edit::replace(
            range(ret.span()),
            format!(
                "({}, connectrpc::client::CallOptions)",
                &text[range(inner.span())]
            ),
            "step06/request-helper",
        )];
        let r = range(c.span());
        let a = range(c.args[0].span());
        edits.push(Edit::delete(r.start..a.start, "step06/request-helper"));
        edits.push(Edit::delete(a.end..r.end, "step06/request-helper"));
        if let Some(m) = &pi.mutability {
            let r = range(m.span());
            let end = r.end + text[r.end..].len() - text[r.end..].trim_start().len();
            edits.push(Edit::delete(r.start..end, "step06/request-helper"));
        }
        let mut ok = true;
        let mut encode = false;
        let mut first = true;
        for st in middle {
            let syn::Stmt::Expr(e, Some(_)) = st else {
                ok = false;
                break;
            };
            match crate::steps::metadata::request_stmt(text, e, &var, &resolve) {
                Ok(step) => {
                    encode |= step.bin_encode;
                    let base = if first {
                        "connectrpc::client::CallOptions::default()".to_string()
                    } else {
                        opt.clone()
                    };
                    first = false;
                    edits.push(Edit::replace(
                        range(st.span()),
                        format!("let {opt} = {base}{}{};", step.call, step.suffix),
                        "step06/request-helper",
                    ));
                }
                Err(_) => {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            continue;
        }
        if first {
            edits.push(Edit::insert(
                range(local.span()).end,
                format!(" let {opt} = connectrpc::client::CallOptions::default();"),
                "step06/request-helper",
            ));
        }
        edits.push(Edit::replace(
            range(tail.span()),
            format!("({var}, {opt})"),
            "step06/request-helper",
        ));
        let name = f.sig.ident.to_string();
        let uses = count_idents(&file.file.items, &name).saturating_sub(1);
        if uses == 0 {
            continue;
        }
        out.push(Helper {
            name,
            offset: range(f.span()).start,
            uses,
            edits,
            encode,
        });
    }
    out
}

/// How many identifier tokens spell `name` in the items (macro bodies included).
pub(super) fn count_idents(items: &[syn::Item], name: &str) -> usize {
    fn walk(ts: proc_macro2::TokenStream, name: &str, n: &mut usize) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) if i == name => *n += 1,
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), name, n),
                _ => {}
            }
        }
    }
    let mut n = 0;
    for it in items {
        walk(quote::ToTokens::to_token_stream(it), name, &mut n);
    }
    n
}

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    /// `h(..)` naming a request helper of the file being converted: its index.
    pub(super) fn helper_call(&self, e: &syn::Expr) -> Option<usize> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let id = fp.path.get_ident()?.to_string();
        let i = self.helpers.iter().position(|h| h.name == id)?;
        // Resolves to the file's own item (not a shadowing import).
        let full = self.resolve_full(&fp.path);
        if full
            .as_ref()
            .is_some_and(|f| f.first().map(String::as_str) == Some("tonic"))
        {
            return None;
        }
        Some(i)
    }

    /// The request of a streaming call built by a request helper of the file: `helper(..)`, or
    /// a local bound once to `helper(..)` and used only as this argument. The helper's index
    /// and the edits to the `let` (its `mut`, useless on the `(message, options)` pair, goes).
    pub(super) fn helper_parts(&self, arg: &'ast syn::Expr) -> Option<(usize, Vec<Edit>)> {
        if let Some(h) = self.helper_call(arg) {
            return Some((h, Vec::new()));
        }
        let syn::Expr::Path(p) = arg else { return None };
        let name = p.path.get_ident()?.to_string();
        let body = *self.fn_bodies.last()?;
        let lets = lets_named(&name, body);
        let [(local, _)] = lets[..] else { return None };
        let syn::Pat::Ident(pi) = &local.pat else {
            return None;
        };
        if pi.by_ref.is_some() || pi.subpat.is_some() {
            return None;
        }
        let init = &local.init.as_ref()?;
        if init.diverge.is_some() {
            return None;
        }
        let h = self.helper_call(&init.expr)?;
        if uses_in(&name, |u| u.visit_block(body)).len() != 1 {
            return None;
        }
        let mut edits = Vec::new();
        if let Some(m) = &pi.mutability {
            let r = range(m.span());
            let end = r.end + self.text[r.end..].len() - self.text[r.end..].trim_start().len();
            edits.push(Edit::delete(r.start..end, "step06/request-helper"));
        }
        Some((h, edits))
    }

    /// A local `let mut r = helper(..);` changed by statements setting metadata or a timeout
    /// before a streaming call `c.m(r)`: `let (r, r_options) = helper(..);`, the statements
    /// building on `r_options` (as for a unary call), and the argument becomes the pair
    /// `(r, r_options)`.
    pub(super) fn helper_let_options(&self, arg: &'ast syn::Expr) -> Option<(usize, Vec<Edit>)> {
        if !matches!(arg, syn::Expr::Path(_)) {
            return None;
        }
        let plan = self.native_request(arg)?;
        let (Some(h), Some(opt)) = (plan.helper, &plan.options) else {
            return None;
        };
        if plan.encode {
            // The binary metadata encoder would have to be added for this path too.
            return None;
        }
        let mut edits = plan.edits;
        edits.push(Edit::replace(
            range(arg.span()),
            format!("({}, {opt})", self.src(range(arg.span()))),
            "step06/request-helper",
        ));
        Some((h, edits))
    }

    pub(super) fn at_file_root(&self) -> bool {
        self.idx.module_scope(self.tr.current()) == self.idx.module_scope(self.idx.root())
    }

    /// Appends the binary metadata helpers a committed rewrite uses (once per file).
    pub(super) fn add_bin_helpers(&mut self) {
        let encode = self.need_encode && !self.text.contains("fn grpc_bin_encode(");
        let decode = self.need_decode && !self.text.contains("fn grpc_bin_decode(");
        if !(encode || decode) {
            return;
        }
        let mut text = crate::steps::metadata::bin_helpers(encode, decode);
        if !self.text.ends_with('\n') {
            text.insert(0, '\n');
        }
        let at = self.text.len();
        if self
            .out
            .commit(vec![Edit::insert(at, text, "step06/bin-metadata")])
            .is_err()
        {
            self.report(
                at,
                "bin-metadata",
                ItemKind::Manual,
                "the binary metadata helpers could not be added".into(),
                "add `grpc_bin_encode` / `grpc_bin_decode` (base64 of `-bin` headers) by hand",
            );
        }
    }
}
