//! Name resolution inside one file, from syntax alone.
//!
//! A construct is recognised by what its path resolves to, never by a bare identifier: `Status`
//! is `tonic::Status` only when a `use` item, an `extern crate` alias, a glob, or a fully qualified
//! path says so. The resolver models what rustc does for the parts a migration needs:
//!
//! - `use` items with groups, `as` renames (`as _` binds nothing), globs, `self` in groups, nested
//!   trees, `::`-rooted paths and paths starting at another import (`extern crate tonic as t; use
//!   t::Status;`);
//! - scopes: the file, inline `mod` blocks, and any block holding items (a `use` inside a `fn`);
//!   names are looked up from the innermost block outwards up to the nearest module, as in Rust;
//! - local items (`struct Status`, `mod pb`) shadow imports from globs and the extern prelude;
//! - `crate::`, `self::` and `super::` relative to the file's module path when it is known;
//! - globs of modules of the same file (`mod tests { use super::*; }`) are followed exactly; a name
//!   that only an external glob could bring is a *candidate*, and two external globs make it
//!   ambiguous, which the rules report instead of editing.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::index::{CrateIndex, Lookup};

pub type ScopeId = usize;
pub type LeafId = usize;

/// The input of a macro call read as comma-separated expressions (`vec![..]`, `format!(..)`,
/// `assert_eq!(..)`), or `None` when it is something else. Their spans point into the file, so
/// rewrites inside them are ordinary edits.
pub fn macro_exprs(m: &syn::Macro) -> Option<Vec<syn::Expr>> {
    use syn::parse::Parser;
    let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
    parser
        .parse2(m.tokens.clone())
        .ok()
        .map(|p| p.into_iter().collect())
}

/// The identifiers of a path's segments, in order (`a::b::C<T>` -> `["a", "b", "C"]`).
pub fn segment_names(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// Byte range of a span in the text it was parsed from.
pub fn range(span: Span) -> Range<usize> {
    span.byte_range()
}

#[derive(Debug, Clone)]
pub enum ScopeKind {
    /// A module: the file's root or an inline `mod`; the path is crate-absolute when known
    /// (`["crate", "a", "b"]`), otherwise relative to the file (`["self", ...]`).
    Module(Vec<String>),
    Block,
}

#[derive(Debug, Clone)]
pub enum Binding {
    Import(LeafId),
    /// An item declared in this scope; the path is where it lives.
    Local(Vec<String>),
    /// `extern crate x as y;` binds `y` to the crate `x`.
    ExternCrate(String),
}

#[derive(Debug)]
pub struct Scope {
    pub parent: Option<ScopeId>,
    pub kind: ScopeKind,
    pub names: HashMap<String, Binding>,
    pub globs: Vec<LeafId>,
    /// `use` items declared directly in this scope, in source order.
    pub use_items: Vec<usize>,
    /// Byte offset where new items can be inserted when the scope has no `use` item.
    pub first_item_at: Option<usize>,
    /// A module whose items come (also) from a macro call at item level (`include_proto!`,
    /// `include!`): its names are not all in the text, so a glob of it is not exact.
    pub opaque: bool,
}

/// One binding made by a `use` tree: `tonic::Status`, `Status as S`, `tonic::*`.
#[derive(Debug, Clone)]
pub struct UseLeaf {
    /// The name it binds (`S` for `Status as S`); empty for globs and `as _`.
    pub name: String,
    /// The path as written, from the use item's root (`["tonic", "Status"]`, `["self"...]`).
    pub written: Vec<String>,
    pub leading_colon: bool,
    pub is_glob: bool,
    pub scope: ScopeId,
    pub item: usize,
}

/// A `use` item: its range (with attributes and the line it stands on) and its tree shape,
/// which import removal needs.
#[derive(Debug, Clone)]
pub struct UseItem {
    pub range: Range<usize>,
    pub is_pub: bool,
    pub tree: UTree,
    pub scope: ScopeId,
}

#[derive(Debug, Clone)]
pub enum UTree {
    Leaf(LeafId, Range<usize>),
    Path(Box<UTree>, Range<usize>),
    Group(Vec<UTree>, Range<usize>),
}

impl UTree {
    pub fn range(&self) -> Range<usize> {
        match self {
            UTree::Leaf(_, r) | UTree::Path(_, r) | UTree::Group(_, r) => r.clone(),
        }
    }

    pub fn leaves(&self, out: &mut Vec<LeafId>) {
        match self {
            UTree::Leaf(l, _) => out.push(*l),
            UTree::Path(t, _) => t.leaves(out),
            UTree::Group(v, _) => v.iter().for_each(|t| t.leaves(out)),
        }
    }
}

/// How a path came to mean what it means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// The first segment is bound by this `use` leaf.
    Import(LeafId),
    /// The first segment comes from this glob `use` of an external path.
    Glob(LeafId),
    /// Written from a crate root: `tonic::Status`, `::tonic::Status`, `crate::pb::X`.
    Absolute,
    /// The first segment is an item of this file.
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Crate-absolute path: `["tonic", "Status", "not_found"]`.
    pub full: Vec<String>,
    pub via: Via,
    /// How many segments the written path has.
    pub written: usize,
}

/// The result of resolving a path: one meaning, several candidates (only through external
/// globs: ambiguous), or nothing known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    One(Resolved),
    Ambiguous(Vec<Resolved>),
}

impl Resolution {
    /// The meaning, when there is exactly one.
    pub fn resolved(&self) -> Option<&Resolved> {
        match self {
            Resolution::One(r) => Some(r),
            Resolution::Ambiguous(_) => None,
        }
    }
}

/// Everything name resolution knows about one file.
#[derive(Debug)]
pub struct FileIndex {
    pub scopes: Vec<Scope>,
    pub leaves: Vec<UseLeaf>,
    pub use_items: Vec<UseItem>,
    /// Scope of each block or inline module, keyed by the byte offset where it starts.
    pub scope_at: HashMap<usize, ScopeId>,
    /// Crates bound by `extern crate` at the file root (name -> crate).
    pub extern_crates: HashMap<String, String>,
    /// The symbol index of the file's crate: names reached through other files (globs of their
    /// modules, `pub use`, type aliases). `None`: the file alone.
    pub symbols: Option<Arc<CrateIndex>>,
    /// A file reached through `include!("x.rs")`: the names of the module that includes it (its
    /// items are that module's), as the crate's index knows them from the including file.
    /// Looked up after the file's own names; what they give is written as a full path.
    pub outer: Option<crate::index::ModuleSyms>,
}

impl FileIndex {
    /// Index `file`. `module_path` is the file's crate-absolute module path when known
    /// (`["crate"]` for a crate root, `["crate", "service"]` for `src/service.rs`).
    pub fn build(file: &syn::File, module_path: Option<Vec<String>>) -> FileIndex {
        let root_path = module_path.unwrap_or_else(|| vec!["self".to_string()]);
        let mut b = Builder {
            idx: FileIndex {
                scopes: Vec::new(),
                leaves: Vec::new(),
                use_items: Vec::new(),
                scope_at: HashMap::new(),
                extern_crates: HashMap::new(),
                symbols: None,
                outer: None,
            },
            stack: Vec::new(),
        };
        let root = b.new_scope(None, ScopeKind::Module(root_path));
        b.idx.scope_at.insert(0, root);
        b.stack.push(root);
        b.declare_items(&file.items);
        for item in &file.items {
            b.visit_item(item);
        }
        b.idx
    }

    pub fn root(&self) -> ScopeId {
        0
    }

    /// Resolve across files with the crate's symbol index (see [`crate::index`]).
    pub fn with_symbols(mut self, symbols: Option<Arc<CrateIndex>>) -> FileIndex {
        self.symbols = symbols;
        self
    }

    /// The file is included (`include!`) by the module it sits in: resolve what it does not
    /// bind itself through that module's names, from the crate's index (call after
    /// [`FileIndex::with_symbols`]).
    pub fn with_outer(mut self) -> FileIndex {
        let root = self.module_path(self.root()).to_vec();
        self.outer = self.symbols.as_ref().and_then(|s| s.module(&root));
        self
    }

    /// What the including module binds `name` to (see [`FileIndex::outer`]).
    fn outer_name(&self, name: &str) -> Option<Vec<String>> {
        let outer = self.outer.as_ref()?;
        match outer.names.get(name)? {
            crate::index::Sym::Import { target, .. } => Some(target.clone()),
            crate::index::Sym::Item { .. } => {
                Some(join(self.module_path(self.root()), &[name.to_string()]))
            }
        }
    }

    /// The module path of the module enclosing `scope`.
    pub fn module_path(&self, mut scope: ScopeId) -> &[String] {
        loop {
            match &self.scopes[scope].kind {
                ScopeKind::Module(p) => return p,
                ScopeKind::Block => scope = self.scopes[scope].parent.unwrap_or(0),
            }
        }
    }

    /// The innermost module scope at or around `scope`.
    pub fn module_scope(&self, mut scope: ScopeId) -> ScopeId {
        loop {
            match &self.scopes[scope].kind {
                ScopeKind::Module(_) => return scope,
                ScopeKind::Block => scope = self.scopes[scope].parent.unwrap_or(0),
            }
        }
    }

    /// The absolute path a `use` leaf binds.
    pub fn leaf_path(&self, leaf: LeafId) -> Vec<String> {
        self.leaf_path_depth(leaf, 0)
    }

    fn leaf_path_depth(&self, leaf: LeafId, depth: usize) -> Vec<String> {
        let l = &self.leaves[leaf];
        if l.leading_colon || l.written.is_empty() || depth > 16 {
            return l.written.clone();
        }
        let first = l.written[0].as_str();
        let rest = &l.written[1..];
        let module = self.module_path(l.scope).to_vec();
        match first {
            "crate" => l.written.clone(),
            "self" => join(&module, rest),
            "super" => {
                let mut m = module;
                let mut rest = rest;
                m.pop();
                while rest.first().map(String::as_str) == Some("super") {
                    m.pop();
                    rest = &rest[1..];
                }
                join(&m, rest)
            }
            _ => match self.lookup_name(l.scope, first, Some(leaf), depth + 1) {
                Some(p) => join(&p, rest),
                None => l.written.clone(),
            },
        }
    }

    /// What the single name `name` means at `scope` (explicit names only, then in-file globs),
    /// as an absolute path. `exclude` keeps a leaf from resolving through itself.
    fn lookup_name(
        &self,
        scope: ScopeId,
        name: &str,
        exclude: Option<LeafId>,
        depth: usize,
    ) -> Option<Vec<String>> {
        let mut s = Some(scope);
        while let Some(id) = s {
            let sc = &self.scopes[id];
            if let Some(b) = sc.names.get(name) {
                match b {
                    Binding::Import(l) if Some(*l) == exclude => {}
                    Binding::Import(l) => return Some(self.leaf_path_depth(*l, depth)),
                    Binding::Local(p) => return Some(p.clone()),
                    Binding::ExternCrate(c) => return Some(vec![c.clone()]),
                }
            }
            if matches!(sc.kind, ScopeKind::Module(_)) {
                break;
            }
            s = sc.parent;
        }
        None
    }

    /// Resolve a path written at `scope`.
    pub fn resolve(&self, scope: ScopeId, path: &syn::Path) -> Option<Resolution> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let r = self.resolve_segments(scope, &segs, path.leading_colon.is_some())?;
        Some(match r {
            Resolution::One(mut r) => {
                r.full = self.canonical(r.full);
                Resolution::One(r)
            }
            a => a,
        })
    }

    /// The full (canonical) path `path` written at `scope` names, when it names one thing.
    pub fn resolve_full(&self, scope: ScopeId, path: &syn::Path) -> Option<Vec<String>> {
        match self.resolve(scope, path)? {
            Resolution::One(r) => Some(r.full),
            Resolution::Ambiguous(_) => None,
        }
    }

    /// Follow re-exports of in-file modules: `crate::catalog::Item` where the crate root has
    /// `pub use platform::catalog::v1 as catalog;` is `crate::platform::catalog::v1::Item`; with
    /// the crate's symbol index, also those of other files and type aliases of generated items
    /// ([`CrateIndex::canonical`]).
    pub fn canonical(&self, full: Vec<String>) -> Vec<String> {
        let full = self.canonical_in_file(full);
        match &self.symbols {
            Some(s) => {
                let across = s.canonical(full.clone());
                if across == full {
                    full
                } else {
                    self.canonical_in_file(across)
                }
            }
            None => full,
        }
    }

    fn canonical_in_file(&self, mut full: Vec<String>) -> Vec<String> {
        for _ in 0..8 {
            let mut changed = false;
            for sc in &self.scopes {
                let ScopeKind::Module(mp) = &sc.kind else {
                    continue;
                };
                if full.len() > mp.len() + 1 && full[..mp.len()] == mp[..] {
                    if let Some(Binding::Import(l)) = sc.names.get(&full[mp.len()]) {
                        let target = self.leaf_path(*l);
                        if target != full[..=mp.len()] {
                            let mut v = target;
                            v.extend_from_slice(&full[mp.len() + 1..]);
                            full = v;
                            changed = true;
                            break;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        full
    }

    pub fn resolve_segments(
        &self,
        scope: ScopeId,
        segs: &[String],
        leading_colon: bool,
    ) -> Option<Resolution> {
        let first = segs.first()?;
        let written = segs.len();
        let one =
            |full: Vec<String>, via: Via| Some(Resolution::One(Resolved { full, via, written }));
        if leading_colon {
            return one(segs.to_vec(), Via::Absolute);
        }
        let module = self.module_path(scope).to_vec();
        match first.as_str() {
            "crate" => return one(segs.to_vec(), Via::Absolute),
            "Self" => return None,
            "self" => return one(join(&module, &segs[1..]), Via::Absolute),
            "super" => {
                let mut m = module;
                let mut rest = segs;
                while rest.first().map(String::as_str) == Some("super") {
                    m.pop();
                    rest = &rest[1..];
                }
                return one(join(&m, rest), Via::Absolute);
            }
            _ => {}
        }
        // Explicit names, innermost scope first, up to the nearest module.
        let mut s = Some(scope);
        while let Some(id) = s {
            let sc = &self.scopes[id];
            if let Some(b) = sc.names.get(first.as_str()) {
                return match b {
                    Binding::Import(l) => {
                        if self.leaves[*l].name == "_" {
                            None
                        } else {
                            one(join(&self.leaf_path(*l), &segs[1..]), Via::Import(*l))
                        }
                    }
                    Binding::Local(p) => one(join(p, &segs[1..]), Via::Local),
                    Binding::ExternCrate(c) => {
                        let mut full = vec![c.clone()];
                        full.extend_from_slice(&segs[1..]);
                        one(full, Via::Absolute)
                    }
                };
            }
            if matches!(sc.kind, ScopeKind::Module(_)) {
                // An included file's root: the including module's names.
                if id == self.root() {
                    if let Some(p) = self.outer_name(first) {
                        return one(join(&p, &segs[1..]), Via::Absolute);
                    }
                }
                break;
            }
            s = sc.parent;
        }
        // Globs: in-file modules are followed exactly; other modules of the crate through its
        // symbol index; external ones and generated code (not in the text) give candidates.
        let mut candidates = Vec::new();
        let mut s = Some(scope);
        while let Some(id) = s {
            let sc = &self.scopes[id];
            for &g in &sc.globs {
                let prefix = self.leaf_path(g);
                if let Some(target) = self.scope_of_module(&prefix) {
                    if let Some((p, via)) = self.lookup_in_module_glob(target, first, 0) {
                        return one(join(&p, &segs[1..]), via);
                    }
                    // An in-file module is exact unless its items are generated, or the
                    // crate's index knows its globs of other files' modules.
                    let indexed = self.symbols.as_ref().is_some_and(|s| s.has_module(&prefix));
                    if !self.scopes[target].opaque && !indexed {
                        continue;
                    }
                }
                match self.glob_lookup(&prefix, first, &module) {
                    Lookup::Found(p) => return one(join(&p, &segs[1..]), Via::Glob(g)),
                    Lookup::Absent => {}
                    Lookup::Unknown => candidates.push(Resolved {
                        full: join(&prefix, segs),
                        via: Via::Glob(g),
                        written,
                    }),
                }
            }
            if let (ScopeKind::Module(here), true) = (&sc.kind, sc.opaque) {
                // The module holds generated code itself (`include_proto!` beside the user's
                // `impl Message { .. }`): a name not written here may be one of its items,
                // which shadow the globs'.
                if self.glob_lookup(here, first, &module) == Lookup::Unknown {
                    candidates.insert(
                        0,
                        Resolved {
                            full: join(here, segs),
                            via: Via::Absolute,
                            written,
                        },
                    );
                }
            }
            if matches!(sc.kind, ScopeKind::Module(_)) {
                // An included file's root: the including module's globs.
                if let (true, Some(outer)) = (id == self.root(), &self.outer) {
                    for (g, _) in &outer.globs {
                        match self.glob_lookup(g, first, &module) {
                            Lookup::Found(p) => return one(join(&p, &segs[1..]), Via::Absolute),
                            Lookup::Absent => {}
                            Lookup::Unknown => candidates.push(Resolved {
                                full: join(g, segs),
                                via: Via::Absolute,
                                written,
                            }),
                        }
                    }
                }
                break;
            }
            s = sc.parent;
        }
        match candidates.len() {
            0 => one(segs.to_vec(), Via::Absolute),
            1 => Some(Resolution::One(candidates.pop().unwrap())),
            _ => Some(Resolution::Ambiguous(candidates)),
        }
    }

    /// A name as seen by a glob import of the module `scope` (its explicit names and its own
    /// in-file globs). A name that the module imports is reported as that import
    /// (`Via::Import`): it is where the binding really lives.
    fn lookup_in_module_glob(
        &self,
        scope: ScopeId,
        name: &str,
        depth: usize,
    ) -> Option<(Vec<String>, Via)> {
        if depth > 8 {
            return None;
        }
        let sc = &self.scopes[scope];
        if let Some(b) = sc.names.get(name) {
            return match b {
                Binding::Import(l) => Some((self.leaf_path(*l), Via::Import(*l))),
                Binding::Local(p) => Some((p.clone(), Via::Local)),
                Binding::ExternCrate(c) => Some((vec![c.clone()], Via::Absolute)),
            };
        }
        for &g in &sc.globs {
            let prefix = self.leaf_path(g);
            if let Some(t) = self.scope_of_module(&prefix) {
                if let Some(p) = self.lookup_in_module_glob(t, name, depth + 1) {
                    return Some(p);
                }
            }
        }
        None
    }

    /// What a glob of the module `prefix` (not an exact in-file one), written in `module`,
    /// brings for `name`: the symbol index decides when it knows the module.
    fn glob_lookup(&self, prefix: &[String], name: &str, module: &[String]) -> Lookup {
        match &self.symbols {
            Some(s) => {
                let canon = s.canonical(prefix.to_vec());
                s.glob_lookup(&canon, name, module)
            }
            None => match self.scope_of_module(prefix) {
                // An in-file generated module (the file alone).
                Some(t) if self.scopes[t].opaque && !crate::index::generated_may_hold(name) => {
                    Lookup::Absent
                }
                _ => Lookup::Unknown,
            },
        }
    }

    /// The scope of an in-file module with this absolute path.
    fn scope_of_module(&self, path: &[String]) -> Option<ScopeId> {
        self.scopes
            .iter()
            .position(|s| matches!(&s.kind, ScopeKind::Module(p) if p == path))
    }

    /// Is `name` bound at `scope` by something an explicit import could not shadow, and to what
    /// absolute path? (A name that only a glob brings can be shadowed by a new `use`.)
    pub fn binding_of(&self, scope: ScopeId, name: &str) -> Option<Vec<String>> {
        match self.resolve_segments(scope, &[name.to_string()], false)? {
            Resolution::One(r) if matches!(r.via, Via::Glob(_)) => None,
            Resolution::One(r) if r.via != Via::Absolute || r.full != [name] => Some(r.full),
            Resolution::One(_) => None,
            Resolution::Ambiguous(_) => None,
        }
    }
}

fn join(a: &[String], b: &[String]) -> Vec<String> {
    let mut v = a.to_vec();
    v.extend_from_slice(b);
    v
}

struct Builder {
    idx: FileIndex,
    stack: Vec<ScopeId>,
}

impl Builder {
    fn new_scope(&mut self, parent: Option<ScopeId>, kind: ScopeKind) -> ScopeId {
        self.idx.scopes.push(Scope {
            parent,
            kind,
            names: HashMap::new(),
            globs: Vec::new(),
            use_items: Vec::new(),
            first_item_at: None,
            opaque: false,
        });
        self.idx.scopes.len() - 1
    }

    fn cur(&self) -> ScopeId {
        *self.stack.last().unwrap()
    }

    fn declare_items(&mut self, items: &[syn::Item]) {
        let scope = self.cur();
        let module = self.idx.module_path(scope).to_vec();
        for item in items {
            if self.idx.scopes[scope].first_item_at.is_none() {
                self.idx.scopes[scope].first_item_at = Some(item_start(item));
            }
            let local_name = match item {
                syn::Item::Use(u) => {
                    self.declare_use(u);
                    None
                }
                syn::Item::ExternCrate(e) => {
                    let krate = e.ident.to_string();
                    let name = match &e.rename {
                        Some((_, r)) => r.to_string(),
                        None => krate.clone(),
                    };
                    if self.stack.len() == 1 {
                        self.idx.extern_crates.insert(name.clone(), krate.clone());
                    }
                    self.idx.scopes[scope]
                        .names
                        .insert(name, Binding::ExternCrate(krate));
                    None
                }
                syn::Item::Struct(i) => Some(&i.ident),
                syn::Item::Enum(i) => Some(&i.ident),
                syn::Item::Union(i) => Some(&i.ident),
                syn::Item::Fn(i) => Some(&i.sig.ident),
                syn::Item::Mod(i) => Some(&i.ident),
                syn::Item::Type(i) => Some(&i.ident),
                syn::Item::Trait(i) => Some(&i.ident),
                syn::Item::TraitAlias(i) => Some(&i.ident),
                syn::Item::Const(i) => Some(&i.ident),
                syn::Item::Static(i) => Some(&i.ident),
                syn::Item::Macro(m) if is_include_macro(&m.mac) => {
                    self.idx.scopes[scope].opaque = true;
                    None
                }
                _ => None,
            };
            if let Some(ident) = local_name {
                let name = ident.to_string();
                let path = join(&module, std::slice::from_ref(&name));
                self.idx.scopes[scope]
                    .names
                    .insert(name, Binding::Local(path));
            }
        }
    }

    fn declare_use(&mut self, u: &syn::ItemUse) {
        let scope = self.cur();
        let item = self.idx.use_items.len();
        let mut prefix = Vec::new();
        let tree = self.use_tree(&u.tree, &mut prefix, u.leading_colon.is_some(), scope, item);
        let start = u
            .attrs
            .first()
            .map(|a| range(a.span()).start)
            .unwrap_or_else(|| range(u.span()).start)
            .min(range(u.span()).start);
        let vis_start = match &u.vis {
            syn::Visibility::Inherited => range(u.use_token.span).start,
            v => range(v.span()).start,
        };
        self.idx.use_items.push(UseItem {
            range: start.min(vis_start)..range(u.semi_token.span).end,
            is_pub: !matches!(u.vis, syn::Visibility::Inherited),
            tree,
            scope,
        });
        self.idx.scopes[scope].use_items.push(item);
    }

    fn use_tree(
        &mut self,
        t: &syn::UseTree,
        prefix: &mut Vec<String>,
        leading_colon: bool,
        scope: ScopeId,
        item: usize,
    ) -> UTree {
        let r = range(t.span());
        match t {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                let inner = self.use_tree(&p.tree, prefix, leading_colon, scope, item);
                prefix.pop();
                UTree::Path(Box::new(inner), r)
            }
            syn::UseTree::Name(n) => {
                let ident = n.ident.to_string();
                let (written, name) = if ident == "self" {
                    (prefix.clone(), prefix.last().cloned().unwrap_or_default())
                } else {
                    (join(prefix, std::slice::from_ref(&ident)), ident)
                };
                self.leaf(name, written, leading_colon, false, scope, item, r)
            }
            syn::UseTree::Rename(n) => {
                let ident = n.ident.to_string();
                let written = if ident == "self" {
                    prefix.clone()
                } else {
                    join(prefix, std::slice::from_ref(&ident))
                };
                self.leaf(
                    n.rename.to_string(),
                    written,
                    leading_colon,
                    false,
                    scope,
                    item,
                    r,
                )
            }
            syn::UseTree::Glob(_) => self.leaf(
                String::new(),
                prefix.clone(),
                leading_colon,
                true,
                scope,
                item,
                r,
            ),
            syn::UseTree::Group(g) => {
                let v = g
                    .items
                    .iter()
                    .map(|t| self.use_tree(t, prefix, leading_colon, scope, item))
                    .collect();
                UTree::Group(v, r)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn leaf(
        &mut self,
        name: String,
        written: Vec<String>,
        leading_colon: bool,
        is_glob: bool,
        scope: ScopeId,
        item: usize,
        r: Range<usize>,
    ) -> UTree {
        let id = self.idx.leaves.len();
        self.idx.leaves.push(UseLeaf {
            name: name.clone(),
            written,
            leading_colon,
            is_glob,
            scope,
            item,
        });
        if is_glob {
            self.idx.scopes[scope].globs.push(id);
        } else if name != "_" && !name.is_empty() {
            // A name imported twice keeps the first binding (rustc would reject the file).
            self.idx.scopes[scope]
                .names
                .entry(name)
                .or_insert(Binding::Import(id));
        }
        UTree::Leaf(id, r)
    }
}

/// `include_proto!(..)`, `tonic::include_proto!(..)`, `include!(..)`: items that are not in
/// the text (generated code).
pub fn is_include_macro(m: &syn::Macro) -> bool {
    m.path
        .segments
        .last()
        .is_some_and(|s| s.ident == "include_proto" || s.ident == "include")
}

fn item_start(item: &syn::Item) -> usize {
    range(item.span()).start
}

impl<'ast> Visit<'ast> for Builder {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if let Some((brace, items)) = &m.content {
            let parent = self.cur();
            let mut path = self.idx.module_path(parent).to_vec();
            path.push(m.ident.to_string());
            let s = self.new_scope(Some(parent), ScopeKind::Module(path));
            self.idx.scope_at.insert(range(brace.span.open()).start, s);
            self.stack.push(s);
            self.declare_items(items);
            for item in items {
                self.visit_item(item);
            }
            self.stack.pop();
        }
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        let items: Vec<syn::Item> = b
            .stmts
            .iter()
            .filter_map(|s| match s {
                syn::Stmt::Item(i) => Some(i.clone()),
                _ => None,
            })
            .collect();
        if items.is_empty() {
            syn::visit::visit_block(self, b);
            return;
        }
        let parent = self.cur();
        let s = self.new_scope(Some(parent), ScopeKind::Block);
        self.idx
            .scope_at
            .insert(range(b.brace_token.span.open()).start, s);
        self.stack.push(s);
        self.declare_items(&items);
        syn::visit::visit_block(self, b);
        self.stack.pop();
    }
}

/// The `visit_block` and `visit_item_mod` methods that keep a visitor's `tr: ScopeTracker` in
/// step with the file's scopes (the visitor also has `idx: &FileIndex`). Use inside
/// `impl Visit for ...`.
#[macro_export]
macro_rules! scoped_visit {
    () => {
        fn visit_block(&mut self, b: &'ast syn::Block) {
            let p = self.tr.enter(
                self.idx,
                $crate::resolve::range(b.brace_token.span.open()).start,
            );
            syn::visit::visit_block(self, b);
            self.tr.leave(p);
        }

        fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
            let p = match &m.content {
                Some((b, _)) => self
                    .tr
                    .enter(self.idx, $crate::resolve::range(b.span.open()).start),
                None => false,
            };
            syn::visit::visit_item_mod(self, m);
            self.tr.leave(p);
        }
    };
}

/// Keeps track of the current scope while a rule visitor walks the file: call `enter_*` /
/// `leave` from the visitor's `visit_block` and `visit_item_mod` (see [`scoped_visit!`]).
#[derive(Debug)]
pub struct ScopeTracker {
    stack: Vec<ScopeId>,
}

impl ScopeTracker {
    pub fn new(idx: &FileIndex) -> ScopeTracker {
        ScopeTracker {
            stack: vec![idx.root()],
        }
    }

    pub fn current(&self) -> ScopeId {
        *self.stack.last().unwrap()
    }

    /// Enter the block or inline module whose opening brace starts at `open`; returns whether a
    /// scope was pushed (pass it to [`ScopeTracker::leave`]).
    pub fn enter(&mut self, idx: &FileIndex, open: usize) -> bool {
        match idx.scope_at.get(&open) {
            Some(&s) if open != 0 || s != 0 => {
                self.stack.push(s);
                true
            }
            _ => false,
        }
    }

    pub fn leave(&mut self, pushed: bool) {
        if pushed {
            self.stack.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_at(src: &str, needle: &str) -> Option<Resolution> {
        resolve_with(src, needle, &["crate"], None)
    }

    /// Resolve the path at `needle` in `src` (the module `module`), with a crate index.
    fn resolve_with(
        src: &str,
        needle: &str,
        module: &[&str],
        symbols: Option<Arc<CrateIndex>>,
    ) -> Option<Resolution> {
        let file = syn::parse_file(src).unwrap();
        let mp = module.iter().map(|s| s.to_string()).collect();
        let idx = FileIndex::build(&file, Some(mp)).with_symbols(symbols);
        // Find the path expression/type whose text starts at `needle`'s offset.
        let at = src.find(needle).expect("needle");
        struct Find<'a> {
            idx: &'a FileIndex,
            tr: ScopeTracker,
            at: usize,
            out: Option<Option<Resolution>>,
        }
        impl<'ast> Visit<'ast> for Find<'_> {
            fn visit_block(&mut self, b: &'ast syn::Block) {
                let p = self
                    .tr
                    .enter(self.idx, range(b.brace_token.span.open()).start);
                syn::visit::visit_block(self, b);
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
            fn visit_path(&mut self, p: &'ast syn::Path) {
                if self.out.is_none() && range(p.span()).start == self.at {
                    self.out = Some(self.idx.resolve(self.tr.current(), p));
                }
                syn::visit::visit_path(self, p);
            }
        }
        let mut f = Find {
            idx: &idx,
            tr: ScopeTracker::new(&idx),
            at,
            out: None,
        };
        f.visit_file(&file);
        f.out.expect("path found")
    }

    fn full(r: Option<Resolution>) -> String {
        match r {
            Some(Resolution::One(r)) => r.full.join("::"),
            Some(Resolution::Ambiguous(v)) => format!("ambiguous({})", v.len()),
            None => "none".into(),
        }
    }

    #[test]
    fn group_rename_and_self() {
        let src = "use tonic::{self as t, Status as S, codegen::{http}};\nfn f() { S::ok(); t::Code::Ok; http::X; }";
        assert_eq!(full(resolve_at(src, "S::ok")), "tonic::Status::ok");
        assert_eq!(full(resolve_at(src, "t::Code")), "tonic::Code::Ok");
        assert_eq!(full(resolve_at(src, "http::X")), "tonic::codegen::http::X");
    }

    #[test]
    fn extern_crate_alias_and_use_through_it() {
        let src = "extern crate tonic as tn;\nuse tn::Status;\nfn f() { Status::internal(); tn::Code::Internal; }";
        assert_eq!(
            full(resolve_at(src, "Status::internal")),
            "tonic::Status::internal"
        );
        assert_eq!(full(resolve_at(src, "tn::Code")), "tonic::Code::Internal");
    }

    #[test]
    fn local_items_shadow_and_block_scopes() {
        let src = "use tonic::*;\nstruct Status;\nfn f() { Status; { use tonic::Code; Code::Ok; } Code::Ok; }";
        assert_eq!(full(resolve_at(src, "Status; {")), "crate::Status");
        assert_eq!(full(resolve_at(src, "Code::Ok; }")), "tonic::Code::Ok");
        // Outside the block: only the glob can bring `Code`.
        let file = syn::parse_file(src).unwrap();
        let idx = FileIndex::build(&file, Some(vec!["crate".into()]));
        let r = idx.resolve_segments(0, &["Code".into(), "Ok".into()], false);
        assert!(matches!(
            r,
            Some(Resolution::One(Resolved {
                via: Via::Glob(_),
                ..
            }))
        ));
    }

    #[test]
    fn super_glob_in_test_module_follows_parent_imports() {
        let src = "use tonic::Status;\nmod tests { use super::*; fn t() { Status::aborted(); } }";
        assert_eq!(
            full(resolve_at(src, "Status::aborted")),
            "tonic::Status::aborted"
        );
    }

    #[test]
    fn two_external_globs_are_ambiguous() {
        let src = "use tonic::*;\nuse mylib::*;\nfn f() { Status::ok(); }";
        assert_eq!(full(resolve_at(src, "Status::ok")), "ambiguous(2)");
    }

    #[test]
    fn leading_colon_crate_and_unbound() {
        let src = "mod pb {}\nfn f() { ::tonic::Status::ok(); crate::pb::X; pb::Y; Status::ok(); }";
        assert_eq!(full(resolve_at(src, "::tonic")), "tonic::Status::ok");
        assert_eq!(full(resolve_at(src, "crate::pb")), "crate::pb::X");
        assert_eq!(full(resolve_at(src, "pb::Y")), "crate::pb::Y");
        // An unbound bare name resolves to itself, never to tonic.
        assert_eq!(full(resolve_at(src, "Status::ok(); }")), "Status::ok");
    }

    #[test]
    fn re_exports_of_in_file_modules_are_followed() {
        // `crate::catalog::Item` through `pub use platform::catalog::v1 as catalog;`.
        let src = "pub mod platform { pub mod catalog { pub mod v1 { pub struct Item; } } }\npub use platform::catalog::v1 as catalog;\nmod tests { use super::catalog::Item; fn f() { let _ = Item ; } }";
        assert_eq!(
            full(resolve_at(src, "Item ;")),
            "crate::platform::catalog::v1::Item"
        );
    }

    #[test]
    fn underscore_import_binds_nothing() {
        let src = "use tonic::Status as _;\nfn f() { Status::ok(); }";
        assert_eq!(full(resolve_at(src, "Status::ok")), "Status::ok");
    }

    /// The crate index of these (module path, source) files.
    fn crate_index(files: &[(&str, &str)]) -> Option<Arc<CrateIndex>> {
        let parsed: Vec<(Vec<String>, syn::File)> = files
            .iter()
            .map(|(m, s)| {
                (
                    m.split("::").map(String::from).collect(),
                    syn::parse_file(s).unwrap(),
                )
            })
            .collect();
        Some(Arc::new(CrateIndex::build(
            parsed.iter().map(|(m, f)| (Some(m.as_slice()), f)),
        )))
    }

    const PB: &str = "pub mod pb { tonic::include_proto!(\"greet.v1\"); }\n";

    #[test]
    fn names_beside_the_generated_code_of_their_own_module() {
        // `impl` blocks in the module that includes the generated code (chirpstack_api's
        // `gw.rs`): the generated items are this module's, not written in the text.
        let src = "pub mod gw {\n    include!(concat!(env!(\"OUT_DIR\"), \"/gw/gw.rs\"));\n    use std::str::FromStr;\n    impl UplinkFrame { fn f(&self) { let t = UplinkTxInfo::default(); let m = modulation::Parameters::Lora(x); let s = String::new(); let c = FromStr::from_str(\"\"); } }\n}\n";
        assert_eq!(
            full(resolve_at(src, "UplinkTxInfo::default")),
            "crate::gw::UplinkTxInfo::default"
        );
        // A lower-case name is no generated item (a crate, a local module) unless the schema
        // nests it: left as written.
        assert_eq!(
            full(resolve_at(src, "modulation::Parameters")),
            "modulation::Parameters::Lora"
        );
        // Explicit imports come first.
        assert_eq!(
            full(resolve_at(src, "FromStr::from_str")),
            "std::str::FromStr::from_str"
        );
        // Without the include, nothing is generated here.
        let src = "pub mod gw {\n    impl UplinkFrame { fn f(&self) { let t = UplinkTxInfo::default(); } }\n}\n";
        assert_eq!(
            full(resolve_at(src, "UplinkTxInfo::default")),
            "UplinkTxInfo::default"
        );
    }

    #[test]
    fn glob_of_an_in_file_generated_module() {
        // Before the index: the glob of a module whose items come from `include_proto!` brought
        // nothing, and `HelloRequest` resolved to itself.
        let src = "pub mod pb { tonic::include_proto!(\"greet.v1\"); }\nuse pb::*;\nfn f() { HelloRequest::default(); }";
        assert_eq!(
            full(resolve_at(src, "HelloRequest::default")),
            "crate::pb::HelloRequest::default"
        );
        // `use crate::pb::{self, *};`
        let src = "pub mod pb { tonic::include_proto!(\"greet.v1\"); }\nuse crate::pb::{self, *};\nfn f() { HelloReply::default(); pb::HelloRequest::default(); }";
        assert_eq!(
            full(resolve_at(src, "HelloReply::default")),
            "crate::pb::HelloReply::default"
        );
        assert_eq!(
            full(resolve_at(src, "pb::HelloRequest")),
            "crate::pb::HelloRequest::default"
        );
        // A crate's name is not taken from the generated module.
        let src = "pub mod pb { tonic::include_proto!(\"greet.v1\"); }\nuse pb::*;\nfn f() { connect_shim::server::unary(); }";
        assert_eq!(
            full(resolve_at(src, "connect_shim::server")),
            "connect_shim::server::unary"
        );
        // A module with an ordinary macro (not an include) is still exact.
        let src = "mod a { macro_rules! m { () => {} } pub struct S; }\nuse a::*;\nfn f() { Status::ok(); }";
        assert_eq!(full(resolve_at(src, "Status::ok")), "Status::ok");
    }

    #[test]
    fn super_glob_of_a_module_that_globs_a_generated_module_of_another_file() {
        let src =
            "use crate::pb::*;\nmod tests { use super::*; fn t() { HelloRequest::default(); } }";
        // The file alone: `super`'s names are exact, and the generated glob is not followed.
        assert_eq!(
            full(resolve_with(
                src,
                "HelloRequest::default",
                &["crate", "m"],
                None
            )),
            "HelloRequest::default"
        );
        let ix = crate_index(&[("crate", PB), ("crate::m", src)]);
        assert_eq!(
            full(resolve_with(
                src,
                "HelloRequest::default",
                &["crate", "m"],
                ix
            )),
            "crate::pb::HelloRequest::default"
        );
    }

    #[test]
    fn grouped_globs_of_a_package_and_its_client_module() {
        let src = "pub mod pb { tonic::include_proto!(\"greet.v1\"); }\nuse crate::{pb::greeter_client::*, pb::*};\nfn f() { GreeterClient::connect(u); HelloRequest::default(); }";
        // The file alone cannot tell which glob brings `GreeterClient`.
        assert_eq!(
            full(resolve_at(src, "GreeterClient::connect")),
            "ambiguous(2)"
        );
        // The index knows tonic's `greeter_client` module holds `GreeterClient`, and only it.
        let ix = crate_index(&[("crate", src)]);
        assert_eq!(
            full(resolve_with(
                src,
                "GreeterClient::connect",
                &["crate"],
                ix.clone()
            )),
            "crate::pb::greeter_client::GreeterClient::connect"
        );
        assert_eq!(
            full(resolve_with(src, "HelloRequest::default", &["crate"], ix)),
            "crate::pb::HelloRequest::default"
        );
    }

    #[test]
    fn globs_and_pub_use_of_modules_in_other_files() {
        let api = "pub use crate::pb::greeter_server::*;\nuse tonic::Status;\n";
        let user =
            "use crate::api::*;\nuse tokio::sync::*;\nfn f() { Greeter::say_hello; Status::ok(); }";
        // Before: two external-looking globs, nothing decided.
        assert_eq!(
            full(resolve_with(user, "Greeter::say", &["crate", "user"], None)),
            "ambiguous(2)"
        );
        let ix = crate_index(&[("crate", PB), ("crate::api", api), ("crate::user", user)]);
        assert_eq!(
            full(resolve_with(
                user,
                "Greeter::say",
                &["crate", "user"],
                ix.clone()
            )),
            "crate::pb::greeter_server::Greeter::say_hello"
        );
        // `Status` is a private import of `api`: its glob does not bring it; tokio's might.
        assert_eq!(
            full(resolve_with(user, "Status::ok", &["crate", "user"], ix)),
            "tokio::sync::Status::ok"
        );
        // A named import through another file's `pub use` is followed to the generated item.
        let user = "use crate::api::GreeterServer;\nfn f() { GreeterServer::new(s); }";
        let ix = crate_index(&[("crate", PB), ("crate::api", api), ("crate::user", user)]);
        assert_eq!(
            full(resolve_with(
                user,
                "GreeterServer::new",
                &["crate", "user"],
                None
            )),
            "crate::api::GreeterServer::new"
        );
        assert_eq!(
            full(resolve_with(
                user,
                "GreeterServer::new",
                &["crate", "user"],
                ix
            )),
            "crate::pb::greeter_server::GreeterServer::new"
        );
    }

    #[test]
    fn type_alias_in_another_file_resolves_to_the_generated_client() {
        let util = "use crate::pb::greeter_client::GreeterClient;\nuse tonic::transport::Channel;\npub type TestClient = GreeterClient<Channel>;\n";
        let user = "use crate::util::TestClient;\nasync fn f() { TestClient::connect(u).await; }";
        assert_eq!(
            full(resolve_with(
                user,
                "TestClient::connect",
                &["crate", "user"],
                None
            )),
            "crate::util::TestClient::connect"
        );
        let ix = crate_index(&[("crate", PB), ("crate::util", util), ("crate::user", user)]);
        assert_eq!(
            full(resolve_with(
                user,
                "TestClient::connect",
                &["crate", "user"],
                ix
            )),
            "crate::pb::greeter_client::GreeterClient::connect"
        );
    }
}
