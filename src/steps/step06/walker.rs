//! The walk over a file: scopes, the visit order, commits, and the helpers on local names
//! (their `let`s, their uses).

use super::*;

pub(super) fn ptr_eq<T>(a: &T, b: &T) -> bool {
    std::ptr::eq(a, b)
}

/// The `let` statements of `body` (any block) that bind `name` by a plain identifier pattern.
pub(super) fn lets_binding<'x>(body: &'x syn::Block, name: &str) -> Vec<&'x syn::Local> {
    struct FindLet<'x, 'n> {
        name: &'n str,
        found: Vec<&'x syn::Local>,
    }
    impl<'x> Visit<'x> for FindLet<'x, '_> {
        fn visit_local(&mut self, l: &'x syn::Local) {
            if let syn::Pat::Ident(i) = &l.pat {
                if i.ident == self.name {
                    self.found.push(l);
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut fl = FindLet {
        name,
        found: Vec::new(),
    };
    fl.visit_block(body);
    fl.found
}

/// Names of the parameters of `sig` bound by a plain identifier whose type passes `keep`.
pub(super) fn typed_params(
    sig: &syn::Signature,
    keep: impl Fn(&syn::Type) -> bool,
) -> HashSet<String> {
    sig.inputs
        .iter()
        .filter_map(|input| match input {
            syn::FnArg::Typed(pt) => match &*pt.pat {
                syn::Pat::Ident(id) if keep(&pt.ty) => Some(id.ident.to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Occurrences of the local `name` (as a path expression) inside `node`, with their parent.
pub(super) fn uses_in<'ast>(
    name: &str,
    f: impl FnOnce(&mut UseFinder<'ast>),
) -> Vec<(&'ast syn::Expr, Option<&'ast syn::Expr>)> {
    let mut u = UseFinder {
        name: name.to_string(),
        stack: Vec::new(),
        hits: Vec::new(),
        other: false,
    };
    f(&mut u);
    if u.other {
        // Mentioned inside a macro we cannot read: treat as an unknown use.
        u.hits.push((
            u.hits.first().map(|h| h.0).unwrap_or_else(|| leak_dummy()),
            None,
        ));
    }
    u.hits
}

/// The `let name = ..;` items in `body` with the block whose statement each is (`None` when
/// it is not a statement of a block, which cannot happen for a `let`, but stay total).
pub(super) fn lets_named<'x>(
    name: &str,
    body: &'x syn::Block,
) -> Vec<(&'x syn::Local, Option<&'x syn::Block>)> {
    struct FindLet<'x> {
        name: String,
        blocks: Vec<&'x syn::Block>,
        found: Vec<(&'x syn::Local, Option<&'x syn::Block>)>,
    }
    impl<'x> Visit<'x> for FindLet<'x> {
        fn visit_block(&mut self, b: &'x syn::Block) {
            self.blocks.push(b);
            syn::visit::visit_block(self, b);
            self.blocks.pop();
        }
        fn visit_local(&mut self, l: &'x syn::Local) {
            let pat = match &l.pat {
                syn::Pat::Type(t) => &*t.pat,
                p => p,
            };
            if let syn::Pat::Ident(i) = pat {
                if i.ident == self.name {
                    self.found.push((l, self.blocks.last().copied()));
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut fl = FindLet {
        name: name.to_string(),
        blocks: Vec::new(),
        found: Vec::new(),
    };
    fl.visit_block(body);
    fl.found
}

/// One ancestor of a use of a local: an expression, the `let` it initialises, or a
/// format-style macro it is an argument of.
#[derive(Clone, Copy)]
pub(super) enum Anc<'ast> {
    Expr(&'ast syn::Expr),
    Local(&'ast syn::Local),
    Macro,
}

/// Every use of the local `name` (a path expression) in `body`, with its ancestors innermost
/// first (up to the enclosing statement); a use inside a macro that is not format-style is
/// a use with no ancestors (unknown).
pub(super) fn ancestors_of<'ast>(name: &str, body: &'ast syn::Block) -> Vec<Vec<Anc<'ast>>> {
    struct F<'ast> {
        name: String,
        stack: Vec<Anc<'ast>>,
        hits: Vec<Vec<Anc<'ast>>>,
    }
    impl<'ast> Visit<'ast> for F<'ast> {
        fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
            let saved = std::mem::take(&mut self.stack);
            syn::visit::visit_stmt(self, s);
            self.stack = saved;
        }
        fn visit_local(&mut self, l: &'ast syn::Local) {
            self.stack.push(Anc::Local(l));
            syn::visit::visit_local(self, l);
            self.stack.pop();
        }
        fn visit_expr(&mut self, e: &'ast syn::Expr) {
            if let syn::Expr::Path(p) = e {
                if p.path.is_ident(&self.name) {
                    self.hits.push(self.stack.iter().rev().copied().collect());
                }
            }
            self.stack.push(Anc::Expr(e));
            syn::visit::visit_expr(self, e);
            self.stack.pop();
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if let Some(exprs) = crate::resolve::macro_exprs(m) {
                self.stack.push(Anc::Macro);
                for e in exprs {
                    let e: &'ast syn::Expr = Box::leak(Box::new(e));
                    self.visit_expr(e);
                }
                self.stack.pop();
            } else if m
                .tokens
                .to_string()
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|t| t == self.name)
            {
                self.hits.push(Vec::new());
            }
        }
    }
    let mut f = F {
        name: name.to_string(),
        stack: Vec::new(),
        hits: Vec::new(),
    };
    f.visit_block(body);
    f.hits
}

pub(super) fn leak_dummy() -> &'static syn::Expr {
    Box::leak(Box::new(syn::parse_quote!(())))
}

pub(super) struct UseFinder<'ast> {
    pub(super) name: String,
    pub(super) stack: Vec<&'ast syn::Expr>,
    pub(super) hits: Vec<(&'ast syn::Expr, Option<&'ast syn::Expr>)>,
    pub(super) other: bool,
}

impl<'ast> Visit<'ast> for UseFinder<'ast> {
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if let syn::Expr::Path(p) = e {
            if p.path.is_ident(&self.name) {
                self.hits.push((e, self.stack.last().copied()));
            }
        }
        self.stack.push(e);
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if let Some(exprs) = crate::resolve::macro_exprs(m) {
            // Format-style macros: a bare use of the name (e.g. `{:?}`) is not a method call.
            for e in exprs {
                let e: &'ast syn::Expr = Box::leak(Box::new(e));
                self.visit_expr(e);
            }
        } else if m
            .tokens
            .to_string()
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|t| t == self.name)
        {
            self.other = true;
        }
    }
}

impl<'ast> Visit<'ast> for Walker<'_, '_, 'ast> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let p = self
            .tr
            .enter(self.idx, range(b.brace_token.span.open()).start);
        self.stack.push(Node::Block(b));
        syn::visit::visit_block(self, b);
        self.stack.pop();
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

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
        self.vars.pop();
        self.struct_vars.pop();
        self.fn_bodies.pop();
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        self.debug_without_clients(s);
        syn::visit::visit_item_struct(self, s);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.enter_impl(i);
        syn::visit::visit_item_impl(self, i);
        self.self_ty.pop();
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.enter_fn(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
        self.vars.pop();
        self.struct_vars.pop();
        self.fn_bodies.pop();
    }

    fn visit_arm(&mut self, a: &'ast syn::Arm) {
        self.stack.push(Node::Arm(a));
        syn::visit::visit_arm(self, a);
        self.stack.pop();
    }

    fn visit_local(&mut self, l: &'ast syn::Local) {
        self.stack.push(Node::Local(l));
        syn::visit::visit_local(self, l);
        self.stack.pop();
        let (pat, ty) = match &l.pat {
            syn::Pat::Type(t) => (&*t.pat, Some(&*t.ty)),
            p => (p, None),
        };
        let syn::Pat::Ident(id) = pat else { return };
        self.bind_struct(&id.ident.to_string(), ty, l.init.as_ref().map(|i| &*i.expr));
        let svc = ty
            .and_then(|t| self.client_type_service(t))
            .or_else(|| l.init.as_ref().and_then(|i| self.value_service(&i.expr)));
        if let (Some(svc), Some(vars)) = (svc, self.vars.last_mut()) {
            vars.insert(id.ident.to_string(), svc.full_name.clone());
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        self.relist_kept(p);
        self.rewrite_type_path(p);
        syn::visit::visit_path(self, p);
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        self.stack.push(Node::Expr(e));
        match e {
            syn::Expr::Call(_) => {
                if let Some((c, svc, ctor)) = self.ctor_call(e) {
                    self.convert_ctor(c, svc, ctor);
                } else if let Some((client, included)) = self.foreign_client(e) {
                    self.report(
                        range(e.span()).start,
                        "not-from-proto",
                        ItemKind::Manual,
                        format!("`{client}` left on tonic: its module includes `{included}`, generated code that is not from a .proto compiled by connectrpc-build (a service built by hand, or another generator), so there is no connect client for it"),
                        "keep the client on tonic (its server stays on tonic too), or describe the service in a .proto that connectrpc-build compiles and migrate it then",
                    );
                } else if let Some(client) = self.unmigrated_client(e) {
                    self.report(
                        range(e.span()).start,
                        "client-unmigrated",
                        ItemKind::Manual,
                        format!("`{client}` left on tonic: a tonic generated client that is not generated from this crate's protos by connectrpc-build (stubs from another crate, or checked in), so the step has no connect client for it"),
                        "generate the service's stubs with connectrpc-build (or depend on a crate that ships connect stubs), then apply step 6 again",
                    );
                }
            }
            syn::Expr::MethodCall(m) => {
                // A local's client, or one made in place (constructions, client functions).
                if let Some(svc) = self
                    .receiver_service(&m.receiver)
                    .or_else(|| self.value_service(&m.receiver))
                {
                    if svc.methods.iter().any(|x| m.method == x.rust_name) {
                        self.convert_call(m, svc);
                    } else {
                        self.convert_option_on_client(m);
                    }
                }
            }
            _ => {}
        }
        syn::visit::visit_expr(self, e);
        self.stack.pop();
    }
}

/// Can `e`, a call's receiver, be written again inside a closure (a local, a field, a reference
/// or a clone of one)?
pub(super) fn place_like(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Path(_) => true,
        syn::Expr::Field(f) => place_like(&f.base),
        syn::Expr::Paren(p) => place_like(&p.expr),
        syn::Expr::Reference(r) => place_like(&r.expr),
        syn::Expr::Unary(u) => matches!(u.op, syn::UnOp::Deref(_)) && place_like(&u.expr),
        syn::Expr::MethodCall(m) => {
            m.method == "clone" && m.args.is_empty() && place_like(&m.receiver)
        }
        _ => false,
    }
}

impl<'a, 's, 'ast> Walker<'a, 's, 'ast> {
    pub(super) fn suppressed(&self, offset: usize) -> bool {
        let (line, _) = line_col(self.text, offset);
        self.file.suppress_lines.contains(&line)
            || (line > 1 && self.file.suppress_lines.contains(&(line - 1)))
    }

    pub(super) fn report(
        &mut self,
        offset: usize,
        rule: &str,
        kind: ItemKind,
        message: String,
        note: &str,
    ) {
        self.out.items.push(item(offset, rule, kind, message, note));
    }

    pub(super) fn src(&self, r: Range<usize>) -> &'a str {
        &self.text[r]
    }

    pub(super) fn resolve_full(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p)? {
            Resolution::One(r) => Some(self.idx.canonical(r.full)),
            Resolution::Ambiguous(_) => None,
        }
    }

    pub(super) fn service(&self, full_name: &str) -> Option<&'s Service> {
        self.schema
            .services
            .iter()
            .find(|s| s.full_name == full_name)
            .filter(|s| !self.left.contains(&s.full_name))
    }

    /// The service of a tonic client type path (`XClient`, `pb::x_client::XClient`).
    pub(super) fn client_path_service(&self, p: &syn::Path) -> Option<&'s Service> {
        let full = self.resolve_full(p)?;
        self.service_of_client(&full)
    }

    /// The service of a resolved tonic client path (crate-absolute).
    pub(super) fn service_of_client(&self, full: &[String]) -> Option<&'s Service> {
        // A client of generated code that is not the schema's (a service built with
        // `tonic_prost_build::manual`) is none of the schema's: see `foreign_client`.
        crate::steps::common::stubs::client_service(self.file, self.schema, full)
            .ok()?
            .or_else(|| self.client_in_generated_module(full))
            .filter(|s| !self.left.contains(&s.full_name))
    }

    /// `XClient::connect|new(..)` of a module of generated code that is not the schema's
    /// (tonic's json-codec example): what that module includes. Such a client stays on tonic.
    fn foreign_client(&self, e: &syn::Expr) -> Option<(String, String)> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let mut ty = fp.path.clone();
        ty.segments.pop()?;
        let full = self.resolve_full(&ty)?;
        let included =
            crate::steps::common::stubs::client_service(self.file, self.schema, &full).err()?;
        Some((full.join("::"), included))
    }

    /// `x_client::XClient::connect|new|with_interceptor|with_origin(..)` (tonic's generated
    /// client shape) whose service the step does not know: the client path, as resolved.
    fn unmigrated_client(&self, e: &syn::Expr) -> Option<String> {
        let syn::Expr::Call(c) = e else { return None };
        let syn::Expr::Path(fp) = &*c.func else {
            return None;
        };
        let n = fp.path.segments.len();
        let ctor = fp.path.segments.last()?.ident.to_string();
        if n < 2 || !super::construct::CTORS.contains(&ctor.as_str()) {
            return None;
        }
        let mut ty = fp.path.clone();
        ty.segments.pop()?;
        let written: Vec<String> = ty.segments.iter().map(|s| s.ident.to_string()).collect();
        let full = self.resolve_full(&ty).unwrap_or(written);
        let k = full.len();
        let tonic_shaped = k >= 2
            && full[k - 1].ends_with("Client")
            && full[k - 2].ends_with("_client")
            && crate::schema::naming::tonic_naive_snake(&full[k - 1]) == full[k - 2];
        // tonic-health's and tonic-reflection's clients are the helpers' (helpers/).
        let helper = matches!(full[0].as_str(), "tonic_health" | "tonic_reflection");
        // A service of the schema this file leaves on tonic is listed at its construction.
        let known = crate::steps::common::stubs::client_service(self.file, self.schema, &full)
            .ok()
            .flatten()
            .or_else(|| self.client_in_generated_module(&full))
            .is_some();
        (tonic_shaped && !helper && !known).then(|| full.join("::"))
    }

    /// A client path under a generated module of the crate (`crate::sdk::api::sdk_client::
    /// SdkClient`, `api` holding one package): the service of that package, where the path
    /// alone cannot tell between services of one name in several packages.
    fn client_in_generated_module(&self, full: &[String]) -> Option<&'s Service> {
        let module = full.get(..full.len().checked_sub(2)?)?;
        let modules = &self.file.crate_ctx?.modules;
        let (_, package) = modules.iter().find(|(m, _)| m.as_slice() == module)?;
        let segs: Vec<&str> = full.iter().map(String::as_str).collect();
        self.schema.service_by_tonic_client_in(&segs, package)
    }

    pub(super) fn client_type_service(&self, ty: &syn::Type) -> Option<&'s Service> {
        // The stub module's own include first: the binaries of one package may each generate a
        // service of one name from a different package (tonic's examples: `grpc.examples.echo`
        // and `grpc.examples.unaryecho` both have `Echo`); the names alone pick either.
        if let Some(full) = type_path(ty).and_then(|p| self.resolve_full(p)) {
            match crate::steps::common::stubs::client_service(self.file, self.schema, &full) {
                Ok(Some(s)) => return self.service(&s.full_name),
                Err(_) => return None,
                Ok(None) => {}
            }
        }
        let s = client_of_type(self.schema, self.idx, &self.tr, ty, None, &self.known)?;
        self.service(&s)
    }

    pub(super) fn in_replaced(&self, r: &Range<usize>) -> bool {
        self.replaced
            .iter()
            .any(|o| o.start <= r.start && r.end <= o.end)
    }

    pub(super) fn commit(&mut self, edits: Vec<Edit>, at: usize, what: &str) -> bool {
        if self.suppressed(at) {
            self.report(
                at,
                what,
                ItemKind::Skipped,
                "left alone (ignore marker)".into(),
                "",
            );
            return false;
        }
        let ranges: Vec<Range<usize>> = edits.iter().map(|e| e.range.clone()).collect();
        match self.out.commit(edits) {
            Ok(()) => {
                self.replaced
                    .extend(ranges.into_iter().filter(|r| !r.is_empty()));
                true
            }
            Err(o) => {
                self.report(
                    at,
                    what,
                    ItemKind::Manual,
                    format!("not rewritten: {o}"),
                    "rewrite this client site by hand",
                );
                false
            }
        }
    }

    /// The statement range (with its line) of the one `let name = ..;` of the current function,
    /// when `name` is used once.
    pub(super) fn single_use_let(&self, name: &str) -> Option<Range<usize>> {
        let body = *self.fn_bodies.last()?;
        let found = lets_binding(body, name);
        if found.len() != 1 || uses_in(name, |u| u.visit_block(body)).len() != 1 {
            return None;
        }
        let r = range(found[0].span());
        let line_start = self.text[..r.start].rfind('\n').map_or(0, |i| i + 1);
        let mut del = r.clone();
        if self.text[line_start..r.start].trim().is_empty() {
            del.start = line_start;
            if self.text[r.end..].starts_with('\n') {
                del.end = r.end + 1;
            } else if self.text[r.end..].starts_with("\r\n") {
                del.end = r.end + 2;
            }
        }
        Some(del)
    }

    pub(super) fn enter_fn(&mut self, sig: &'ast syn::Signature, body: &'ast syn::Block) {
        let mut vars = HashMap::new();
        let mut structs = HashMap::new();
        for input in &sig.inputs {
            let syn::FnArg::Typed(pt) = input else {
                continue;
            };
            let syn::Pat::Ident(id) = &*pt.pat else {
                continue;
            };
            if let Some(svc) = self.client_type_service(&pt.ty) {
                vars.insert(id.ident.to_string(), svc.full_name.clone());
            } else if let Some(s) = self.struct_type(&pt.ty) {
                structs.insert(id.ident.to_string(), s);
            }
        }
        self.vars.push(vars);
        self.struct_vars.push(structs);
        self.fn_bodies.push(body);
    }
}
