//! Name resolution: what the local names of a `build.rs` refer to (crate aliases, imported
//! functions, `use` groups, renames and globs).

use super::*;

/// What a local name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resolved {
    Crate(Generation),
    /// A function of the crate (`configure`, `compile_protos`, `compile_fds`).
    Func(Generation, FnKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FnKind {
    Configure,
    CompileProtos,
    CompileFds,
}

pub(super) fn fn_kind(name: &str) -> Option<FnKind> {
    Some(match name {
        "configure" => FnKind::Configure,
        "compile_protos" => FnKind::CompileProtos,
        "compile_fds" => FnKind::CompileFds,
        _ => return None,
    })
}

pub(super) fn crate_gen(name: &str) -> Option<Generation> {
    match name {
        "tonic_build" => Some(Generation::TonicBuild),
        "tonic_prost_build" => Some(Generation::TonicProstBuild),
        _ => None,
    }
}

#[derive(Default)]
pub(super) struct Names {
    /// Local name → what it resolves to (crate aliases, imported functions).
    pub(super) local: HashMap<String, Resolved>,
    /// Crates glob-imported (`use tonic_build::*;`).
    pub(super) globs: Vec<Generation>,
    pub(super) imports: Vec<TonicImport>,
    /// `const`/`static` items by name: their value expressions.
    pub(super) consts: HashMap<String, Expr>,
    /// Local names of `prost_build::Config` / `tonic_prost_build::Config`.
    pub(super) prost_configs: HashSet<String>,
}

impl Names {
    pub(super) fn collect(&mut self, file: &syn::File, src: &str) {
        struct V<'a> {
            uses: Vec<&'a syn::ItemUse>,
            externs: Vec<&'a syn::ItemExternCrate>,
            consts: Vec<(String, &'a Expr)>,
        }
        impl<'a> Visit<'a> for V<'a> {
            fn visit_item_use(&mut self, u: &'a syn::ItemUse) {
                self.uses.push(u);
            }
            fn visit_item_extern_crate(&mut self, e: &'a syn::ItemExternCrate) {
                self.externs.push(e);
            }
            fn visit_item_const(&mut self, c: &'a syn::ItemConst) {
                self.consts.push((c.ident.to_string(), &c.expr));
                syn::visit::visit_item_const(self, c);
            }
            fn visit_item_static(&mut self, s: &'a syn::ItemStatic) {
                self.consts.push((s.ident.to_string(), &s.expr));
                syn::visit::visit_item_static(self, s);
            }
        }
        let mut v = V {
            uses: vec![],
            externs: vec![],
            consts: vec![],
        };
        v.visit_file(file);
        for (n, e) in v.consts {
            self.consts.insert(n, e.clone());
        }
        fn configs(t: &syn::UseTree, path: &mut Vec<String>, out: &mut HashSet<String>) {
            let is_cfg = |path: &[String], name: &str| {
                name == "Config"
                    && matches!(
                        path,
                        [k] if k == "prost_build" || k == "tonic_prost_build"
                    )
            };
            match t {
                syn::UseTree::Path(p) => {
                    path.push(p.ident.to_string());
                    configs(&p.tree, path, out);
                    path.pop();
                }
                syn::UseTree::Name(n) if is_cfg(path, &n.ident.to_string()) => {
                    out.insert("Config".into());
                }
                syn::UseTree::Rename(r) if is_cfg(path, &r.ident.to_string()) => {
                    out.insert(r.rename.to_string());
                }
                syn::UseTree::Group(g) => {
                    for t in &g.items {
                        configs(t, path, out);
                    }
                }
                _ => {}
            }
        }
        for u in &v.uses {
            configs(&u.tree, &mut vec![], &mut self.prost_configs);
        }
        for e in &v.externs {
            if let Some(g) = crate_gen(&e.ident.to_string()) {
                let local = e
                    .rename
                    .as_ref()
                    .map(|(_, i)| i.to_string())
                    .unwrap_or_else(|| e.ident.to_string());
                self.local.insert(local, Resolved::Crate(g));
            }
        }
        // Two passes so `use tonic_build as tb; use tb::configure;` resolves in any order.
        for _ in 0..2 {
            for u in &v.uses {
                let mut hit = None;
                self.use_tree(&u.tree, None, &mut hit);
                if let Some(g) = hit {
                    let r = range(u.span());
                    if !self.imports.iter().any(|i| i.range == r) {
                        self.imports.push(TonicImport {
                            source: src_of(src, &r).to_string(),
                            range: r,
                            generation: g,
                        });
                    }
                }
            }
        }
        self.imports.sort_by_key(|i| i.range.start);
    }

    /// Walks a use tree; `base` is the crate the path is inside, once known.
    fn use_tree(
        &mut self,
        t: &syn::UseTree,
        base: Option<Generation>,
        hit: &mut Option<Generation>,
    ) {
        match t {
            syn::UseTree::Path(p) => {
                let name = p.ident.to_string();
                let next = match base {
                    Some(g) => Some(g), // a sub-module of the crate: keep the crate
                    None => crate_gen(&name).or(match self.local.get(&name) {
                        Some(Resolved::Crate(g)) => Some(*g),
                        _ => None,
                    }),
                };
                if name == "crate" || name == "self" || name == "super" {
                    return;
                }
                if next.is_some() {
                    *hit = next;
                }
                if let Some(g) = next {
                    self.use_tree(&p.tree, Some(g), hit);
                }
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                self.use_name(&name, &name, base, hit);
            }
            syn::UseTree::Rename(r) => {
                self.use_name(&r.ident.to_string(), &r.rename.to_string(), base, hit);
            }
            syn::UseTree::Glob(_) => {
                if let Some(g) = base {
                    if !self.globs.contains(&g) {
                        self.globs.push(g);
                    }
                    *hit = Some(g);
                }
            }
            syn::UseTree::Group(gr) => {
                for t in &gr.items {
                    self.use_tree(t, base, hit);
                }
            }
        }
    }

    fn use_name(
        &mut self,
        name: &str,
        local: &str,
        base: Option<Generation>,
        hit: &mut Option<Generation>,
    ) {
        match base {
            None => {
                if let Some(g) = crate_gen(name) {
                    self.local.insert(local.to_string(), Resolved::Crate(g));
                    *hit = Some(g);
                }
            }
            Some(g) => {
                *hit = Some(g);
                if name == "self" {
                    self.local.insert(local.to_string(), Resolved::Crate(g));
                } else if let Some(k) = fn_kind(name) {
                    self.local.insert(local.to_string(), Resolved::Func(g, k));
                }
            }
        }
    }

    /// Resolves the path of a called function.
    pub(super) fn resolve_fn(&self, path: &syn::Path) -> Option<(Generation, FnKind, String)> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        match segs.as_slice() {
            [only] => match self.local.get(only) {
                Some(Resolved::Func(g, k)) => Some((*g, *k, only.clone())),
                Some(Resolved::Crate(_)) => None,
                None => {
                    let k = fn_kind(only)?;
                    match self.globs.as_slice() {
                        [g] => Some((*g, k, only.clone())),
                        _ => None,
                    }
                }
            },
            [krate, func] => {
                let g = if path.leading_colon.is_some() {
                    crate_gen(krate)?
                } else {
                    match self.local.get(krate) {
                        Some(Resolved::Crate(g)) => *g,
                        Some(Resolved::Func(..)) => return None,
                        None => crate_gen(krate)?,
                    }
                };
                let prefix = if path.leading_colon.is_some() {
                    "::"
                } else {
                    ""
                };
                Some((g, fn_kind(func)?, format!("{prefix}{krate}")))
            }
            _ => None,
        }
    }
}

/// Finds every call to a tonic codegen root function, for the "unrecognised" report.
pub(super) struct RootFinder<'n> {
    pub(super) names: &'n Names,
    pub(super) found: Vec<(ByteRange, String)>,
}

impl<'ast> Visit<'ast> for RootFinder<'_> {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func {
            if let Some((_, k, _)) = self.names.resolve_fn(&p.path) {
                let what = match k {
                    FnKind::Configure => "configure()",
                    FnKind::CompileProtos => "compile_protos(..)",
                    FnKind::CompileFds => "compile_fds(..)",
                };
                self.found.push((range(c.span()), what.to_string()));
            }
        }
        syn::visit::visit_expr_call(self, c);
    }
}
