//! The crate-wide symbol index: what every module of one crate (one cargo target's module tree)
//! declares and imports, built once per crate per step from its parsed files, so that name
//! resolution ([`crate::resolve`]) follows a name across files:
//!
//! - modules (inline and `mod x;` files), their explicit names (`use`, `pub use`, local items)
//!   and their globs (`use pb::*;`, `use crate::pb::{self, *};`,
//!   `use crate::{pb::x_client::*, pb::*}`);
//! - generated modules (a body from `include_proto!` / `include!`): their names are not in the
//!   text, but tonic's naming says what its `x_client` / `x_server` submodules hold;
//! - type aliases (`pub type TestClient = XClient<Channel>;`), with the absolute path of the
//!   aliased type's head;
//! - functions (free and inherent methods) with their parameter and return types, and the
//!   declared types of struct fields.
//!
//! Before (two files):
//! ```text
//! // src/proto.rs                        // src/main.rs
//! pub mod pb { tonic::include_proto!("x"); }   use crate::proto::pb::*;
//! pub use pb::greeter_client::*;              fn f() { HelloRequest { .. }; }
//! ```
//! After: `HelloRequest` in `main.rs` resolves to `crate::proto::pb::HelloRequest` (a candidate
//! of the generated module's glob), and `crate::proto::GreeterClient` to
//! `crate::proto::pb::greeter_client::GreeterClient`.
//!
//! A core module: it reads syntax only (no IO) and names nothing above [`crate::resolve`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use crate::resolve::{Binding, FileIndex, ScopeId, ScopeKind};

pub type ItemPath = Vec<String>;

/// A type as declared: its text (tokens as written) and the absolute path of its head when it
/// is a path type (`XClient<Channel>` -> `crate::pb::x_client::XClient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub text: String,
    pub head: Option<ItemPath>,
    /// The head of the one value the type holds, through `&`, `Option`, `Result`, `Box`, `Arc`
    /// and `Rc` (`Option<&pb::Span>` -> `crate::pb::Span`), when it is a path type.
    pub held: Option<ItemPath>,
}

/// A function's signature: parameters (pattern text, type; a receiver is `self`) and the
/// return type (`None` for `()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnSig {
    pub params: Vec<(String, TypeRef)>,
    pub ret: Option<TypeRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sym {
    /// `use a::b::X;` (`public`: a `pub use`, seen by other modules' globs and paths).
    Import { target: ItemPath, public: bool },
    /// An item declared in the module (struct, enum, fn, mod, trait, type, const, ..).
    Item { public: bool },
}

/// One module's names.
#[derive(Debug, Clone, Default)]
pub struct ModuleSyms {
    pub names: HashMap<String, Sym>,
    /// Glob imports: absolute path of the globbed module, and whether the `use` is `pub`.
    pub globs: Vec<(ItemPath, bool)>,
    /// The body comes from `include_proto!` / `include!`: names not in the text.
    pub generated: bool,
}

/// What a glob of a module brings for one name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// This item, for sure.
    Found(ItemPath),
    /// Not this module's (it is fully known).
    Absent,
    /// Cannot tell (an external crate's module, or generated code).
    Unknown,
}

fn join(a: &[String], b: &[String]) -> ItemPath {
    let mut v = a.to_vec();
    v.extend_from_slice(b);
    v
}

fn visible(public: bool, module: &[String], from: &[String]) -> bool {
    public || from.starts_with(module)
}

/// `greeter` -> `Greeter`, `route_guide` -> `RouteGuide` (tonic's service names from module
/// names).
fn camel(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// Can a generated package module (prost/tonic, or buffa/connectrpc through step 1's re-export)
/// hold a name like this? Types and consts (`HelloRequest`, `GREETER_SERVICE_NAME`) and tonic's
/// `x_client` / `x_server` modules; not a lower-case name such as `connect_shim` or `tokio`, which
/// is a crate (a message's nested module is followed through a glob when the schema names it:
/// [`CrateIndex::with_nested_modules`]).
pub fn generated_may_hold(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        || name.ends_with("_client")
        || name.ends_with("_server")
}

/// Reads the text of a file of an index by its slot (the caller's IO: this module does none).
pub type Loader = Arc<dyn Fn(usize) -> Option<String> + Send + Sync>;

/// What one file declares: its modules (its own and its inline ones), type aliases, functions
/// and struct fields, with crate-absolute paths.
#[derive(Debug, Default)]
struct FileSyms {
    modules: HashMap<ItemPath, ModuleSyms>,
    aliases: HashMap<ItemPath, TypeRef>,
    fns: HashMap<ItemPath, FnSig>,
    fields: HashMap<ItemPath, Vec<(String, TypeRef)>>,
}

impl FileSyms {
    /// The names of `file`, from its in-file index (built without a crate index).
    fn of(file: &syn::File, idx: &FileIndex) -> FileSyms {
        let mut syms = FileSyms::default();
        let mut w = Walker { ix: &mut syms, idx };
        w.module(&file.items, idx.root());
        syms
    }
}

/// The files of one cargo target, each indexed the first time a lookup reaches it: a lookup of
/// a path reads the files whose module is a prefix of it (`crate`, `crate::a` for
/// `crate::a::X`), so a step that processes a few files of a large crate indexes those and their
/// ancestors, not the crate. Where two files declare the same path, the later one (by slot)
/// wins, whatever order the lookups came in.
#[derive(Default)]
struct Part {
    /// Each slot's crate-absolute module path (files without one are left out).
    paths: Vec<Option<ItemPath>>,
    /// Module path -> the slots of the files with that path.
    by_module: HashMap<ItemPath, Vec<usize>>,
    /// Each file's names, once read: `None` when it is left out, unreadable or does not parse.
    syms: Vec<OnceLock<Option<FileSyms>>>,
    load: Option<Loader>,
}

impl std::fmt::Debug for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let read = self.syms.iter().filter(|s| s.get().is_some()).count();
        write!(f, "Part({} files, {read} read)", self.paths.len())
    }
}

impl Part {
    fn new(paths: Vec<Option<ItemPath>>, load: Option<Loader>) -> Part {
        let paths: Vec<Option<ItemPath>> = paths
            .into_iter()
            .map(|p| p.filter(|p| p.first().map(String::as_str) == Some("crate")))
            .collect();
        let mut by_module: HashMap<ItemPath, Vec<usize>> = HashMap::new();
        for (slot, p) in paths.iter().enumerate() {
            if let Some(p) = p {
                by_module.entry(p.clone()).or_default().push(slot);
            }
        }
        Part {
            syms: paths.iter().map(|_| OnceLock::new()).collect(),
            paths,
            by_module,
            load,
        }
    }

    /// The names of the file in `slot`, read and parsed the first time.
    fn file(&self, slot: usize) -> Option<&FileSyms> {
        self.syms[slot]
            .get_or_init(|| {
                let mp = self.paths[slot].clone()?;
                let text = (self.load.as_ref()?)(slot)?;
                let file = syn::parse_file(text.strip_prefix('\u{feff}').unwrap_or(&text)).ok()?;
                Some(FileSyms::of(&file, &FileIndex::build(&file, Some(mp))))
            })
            .as_ref()
    }

    /// Give the part the parse a caller already has of the file in `slot` (`idx` built from
    /// `file` with the slot's module path and no crate index), so that it is not read again.
    fn offer(&self, slot: usize, file: &syn::File, idx: &FileIndex) {
        let Some(mp) = self.paths.get(slot) else {
            return;
        };
        if mp.as_deref() != Some(idx.module_path(idx.root())) || idx.symbols.is_some() {
            return;
        }
        self.syms[slot].get_or_init(|| Some(FileSyms::of(file, idx)));
    }

    /// What the files that can declare `path` (those of its prefixes) say about it: the last
    /// file's answer.
    fn get<'a, T>(
        &'a self,
        path: &[String],
        pick: fn(&'a FileSyms, &[String]) -> Option<&'a T>,
    ) -> Option<&'a T> {
        let mut best = None;
        for n in 1..=path.len() {
            for &slot in self.by_module.get(&path[..n]).into_iter().flatten() {
                if let Some(v) = self.file(slot).and_then(|f| pick(f, path)) {
                    if best.is_none_or(|(b, _)| slot > b) {
                        best = Some((slot, v));
                    }
                }
            }
        }
        best.map(|(_, v)| v)
    }

    /// What any file says about `path` (inherent methods are declared where the impl is):
    /// every file is read.
    fn get_anywhere<'a, T>(
        &'a self,
        path: &[String],
        pick: fn(&'a FileSyms, &[String]) -> Option<&'a T>,
    ) -> Option<&'a T> {
        (0..self.paths.len())
            .rev()
            .find_map(|slot| self.file(slot).and_then(|f| pick(f, path)))
    }
}

/// A module's names as seen from an index: a grafted library's paths (`crate::..` in its own
/// files) are put under the library's name.
#[derive(Clone, Copy)]
struct View<'a> {
    m: &'a ModuleSyms,
    lib: Option<&'a str>,
}

fn rebase(lib: Option<&str>, p: &ItemPath) -> ItemPath {
    match lib {
        Some(lib) if p.first().map(String::as_str) == Some("crate") => {
            let mut v = vec![lib.to_string()];
            v.extend_from_slice(&p[1..]);
            v
        }
        _ => p.clone(),
    }
}

fn rebase_ty(lib: Option<&str>, t: &TypeRef) -> TypeRef {
    TypeRef {
        text: t.text.clone(),
        head: t.head.as_ref().map(|h| rebase(lib, h)),
        held: t.held.as_ref().map(|h| rebase(lib, h)),
    }
}

impl View<'_> {
    fn names(&self, name: &str) -> Option<Sym> {
        Some(match self.m.names.get(name)? {
            Sym::Import { target, public } => Sym::Import {
                target: rebase(self.lib, target),
                public: *public,
            },
            s => s.clone(),
        })
    }

    fn globs(&self) -> impl Iterator<Item = (ItemPath, bool)> + '_ {
        self.m.globs.iter().map(|(g, p)| (rebase(self.lib, g), *p))
    }
}

/// The symbol index of one crate. Paths are crate-absolute (`["crate", "pb", "X"]`); a library
/// of the same package grafted in ([`CrateIndex::graft`]) is under its crate name. Built from
/// parsed files ([`CrateIndex::build`]) or read on demand ([`CrateIndex::lazy`]); the answers
/// are the same.
#[derive(Debug, Clone, Default)]
pub struct CrateIndex {
    own: Arc<Part>,
    /// Libraries of the same package, by crate name (the last one grafted first).
    grafts: Vec<(String, Arc<Part>)>,
    /// The nested modules the schema gives generated package modules (prost's `amount_or_all`
    /// for a message `AmountOrAll` with a oneof or nested types): names a glob of generated
    /// code may bring beside [`generated_may_hold`]'s.
    nested: Arc<HashSet<String>>,
}

/// A file's handle on its crate's index: the index, and the file's slot in it when the file is
/// one of the index's own (the engine gives the index the parse it has of that file).
#[derive(Debug, Clone)]
pub struct FileSymbols {
    pub index: Arc<CrateIndex>,
    pub slot: Option<usize>,
}

impl FileSymbols {
    /// The file is one of the index's slots but not indexed under a module path of its own:
    /// a file reached through `include!`, whose items belong to the including module (the run
    /// leaves its path out so that the including file's view of that module stands).
    pub fn included(&self) -> bool {
        self.slot
            .is_some_and(|s| self.index.own.paths.get(s).is_some_and(Option::is_none))
    }

    /// Give the index this file's parse (`idx` built without a crate index), if it has not read
    /// the file yet.
    pub fn offer(&self, file: &syn::File, idx: &FileIndex) {
        if let Some(slot) = self.slot {
            self.index.own.offer(slot, file, idx);
        }
    }
}

impl CrateIndex {
    /// Index a crate from its files: each with its crate-absolute module path (files without
    /// one are left out: where they sit in the module tree is unknown).
    pub fn build<'a>(
        files: impl IntoIterator<Item = (Option<&'a [String]>, &'a syn::File)>,
    ) -> CrateIndex {
        let files: Vec<_> = files.into_iter().collect();
        let part = Part::new(
            files
                .iter()
                .map(|(mp, _)| mp.map(<[String]>::to_vec))
                .collect(),
            None,
        );
        for (slot, (_, file)) in files.iter().enumerate() {
            if let Some(mp) = part.paths[slot].clone() {
                part.offer(slot, file, &FileIndex::build(file, Some(mp)));
            }
        }
        CrateIndex {
            own: Arc::new(part),
            grafts: Vec::new(),
            nested: Default::default(),
        }
    }

    /// The index of a crate whose files (by slot: their crate-absolute module paths) are read
    /// through `load` and indexed when a lookup first reaches them.
    pub fn lazy(paths: Vec<Option<ItemPath>>, load: Loader) -> CrateIndex {
        CrateIndex {
            own: Arc::new(Part::new(paths, Some(load))),
            grafts: Vec::new(),
            nested: Default::default(),
        }
    }

    /// The nested module names the schema gives generated package modules (see `nested`).
    pub fn with_nested_modules(mut self, names: Arc<HashSet<String>>) -> CrateIndex {
        self.nested = names;
        self
    }

    /// Add the modules of a library of the same package (`greeter` for a bin's
    /// `use greeter::pb::*;`) under its crate name.
    pub fn graft(&mut self, lib: &str, other: &CrateIndex) {
        self.grafts.insert(0, (lib.to_string(), other.own.clone()));
    }

    /// The part that holds `path`, the path inside it, and the library name it is under.
    fn part<'a>(&'a self, path: &[String]) -> Option<(&'a Part, ItemPath, Option<&'a str>)> {
        let first = path.first()?;
        if first == "crate" {
            return Some((&self.own, path.to_vec(), None));
        }
        let (lib, part) = self.grafts.iter().find(|(lib, _)| lib == first)?;
        let mut inner = vec!["crate".to_string()];
        inner.extend_from_slice(&path[1..]);
        Some((part, inner, Some(lib.as_str())))
    }

    fn view(&self, module: &[String]) -> Option<View<'_>> {
        let (part, inner, lib) = self.part(module)?;
        let m = part.get(&inner, |f, p| f.modules.get(p))?;
        Some(View { m, lib })
    }

    /// Is `module` a module of the crate (or of a grafted library) that the index knows?
    pub fn has_module(&self, module: &[String]) -> bool {
        self.view(module).is_some()
    }

    /// A module's names (a grafted library's under its name).
    pub fn module(&self, module: &[String]) -> Option<ModuleSyms> {
        let v = self.view(module)?;
        Some(ModuleSyms {
            names: v
                .m
                .names
                .keys()
                .filter_map(|n| Some((n.clone(), v.names(n)?)))
                .collect(),
            globs: v.globs().collect(),
            generated: v.m.generated,
        })
    }

    /// Is `module` generated code, or inside it?
    pub fn is_generated(&self, module: &[String]) -> bool {
        (1..=module.len()).any(|n| self.view(&module[..n]).is_some_and(|v| v.m.generated))
    }

    /// What a glob import of `module` (written in the module `from`) brings for `name`.
    pub fn glob_lookup(&self, module: &[String], name: &str, from: &[String]) -> Lookup {
        self.glob_lookup_depth(module, name, from, 0)
    }

    fn glob_lookup_depth(
        &self,
        module: &[String],
        name: &str,
        from: &[String],
        depth: usize,
    ) -> Lookup {
        if depth > 8 {
            return Lookup::Unknown;
        }
        let Some(m) = self.view(module) else {
            return self.generated_child(module, name);
        };
        match m.names(name) {
            Some(Sym::Import { target, public }) if visible(public, module, from) => {
                return Lookup::Found(self.canonical(target));
            }
            Some(Sym::Item { public }) if visible(public, module, from) => {
                return Lookup::Found(join(module, std::slice::from_ref(&name.to_string())));
            }
            _ => {}
        }
        if m.m.generated {
            return if generated_may_hold(name) || self.nested.contains(name) {
                Lookup::Unknown
            } else {
                Lookup::Absent
            };
        }
        let mut unknown = false;
        for (g, public) in m.globs() {
            if !visible(public, module, from) {
                continue;
            }
            match self.glob_lookup_depth(&g, name, from, depth + 1) {
                Lookup::Found(p) => return Lookup::Found(p),
                Lookup::Unknown => unknown = true,
                Lookup::Absent => {}
            }
        }
        if unknown {
            Lookup::Unknown
        } else {
            Lookup::Absent
        }
    }

    /// Tonic's submodules of a generated package module: `x_client` holds `XClient`; `x_server`
    /// holds `XServer`, the trait `X` and `SERVICE_NAME`.
    fn generated_child(&self, module: &[String], name: &str) -> Lookup {
        let Some((last, parent)) = module.split_last() else {
            return Lookup::Unknown;
        };
        if !self.view(parent).is_some_and(|m| m.m.generated) {
            return Lookup::Unknown;
        }
        let found = if let Some(svc) = last.strip_suffix("_client") {
            name == format!("{}Client", camel(svc))
        } else if let Some(svc) = last.strip_suffix("_server") {
            let c = camel(svc);
            name == c || name == format!("{c}Server") || name == "SERVICE_NAME"
        } else {
            return Lookup::Unknown;
        };
        if found {
            Lookup::Found(join(module, std::slice::from_ref(&name.to_string())))
        } else {
            Lookup::Absent
        }
    }

    /// Follow re-exports across the crate's modules (`crate::proto::GreeterClient` where
    /// `proto.rs` has `pub use pb::greeter_client::*;`) and type aliases of generated items
    /// (`crate::util::TestClient` for `pub type TestClient = XClient<Channel>;`), to where the
    /// item is declared.
    pub fn canonical(&self, full: ItemPath) -> ItemPath {
        self.canonical_depth(full, 0)
    }

    fn canonical_depth(&self, mut full: ItemPath, depth: usize) -> ItemPath {
        if depth > 4 {
            return full;
        }
        for _ in 0..8 {
            match self.step(&full, depth) {
                Some(next) if next != full => full = next,
                _ => break,
            }
        }
        full
    }

    fn step(&self, full: &[String], depth: usize) -> Option<ItemPath> {
        // The longest known module that is a proper prefix of the path.
        let (n, m) = (1..full.len())
            .rev()
            .find_map(|n| Some((n, self.view(&full[..n])?)))?;
        let module = &full[..n];
        let name = &full[n];
        let rest = &full[n + 1..];
        match m.names(name) {
            Some(Sym::Import { target, .. }) => return Some(join(&target, rest)),
            Some(Sym::Item { .. }) => {
                let here = &full[..=n];
                let t = self.alias(here)?;
                let head = self.canonical_depth(t.head?, depth + 1);
                let module = &head[..head.len().saturating_sub(1)];
                return self.is_generated(module).then(|| join(&head, rest));
            }
            None => {}
        }
        if m.m.generated {
            return None;
        }
        // Through the module's globs: the one that has it, else the only one that may.
        let mut maybe = Vec::new();
        for (g, _) in m.globs() {
            match self.glob_lookup(&g, name, module) {
                Lookup::Found(p) => return Some(join(&p, rest)),
                Lookup::Unknown => maybe.push(g),
                Lookup::Absent => {}
            }
        }
        match maybe.as_slice() {
            [g] => Some(join(&join(g, std::slice::from_ref(name)), rest)),
            _ => None,
        }
    }

    /// The declared type of a type alias.
    pub fn alias(&self, full: &[String]) -> Option<TypeRef> {
        let (part, inner, lib) = self.part(full)?;
        let t = part.get(&inner, |f, p| f.aliases.get(p))?;
        Some(rebase_ty(lib, t))
    }

    /// The signature of a function (`crate::m::f`) or inherent method (`crate::m::S::f`).
    pub fn function(&self, full: &[String]) -> Option<FnSig> {
        let rebased = |lib: Option<&str>, f: &FnSig| FnSig {
            params: f
                .params
                .iter()
                .map(|(n, t)| (n.clone(), rebase_ty(lib, t)))
                .collect(),
            ret: f.ret.as_ref().map(|t| rebase_ty(lib, t)),
        };
        // A grafted library's own declaration first; then the crate's files (an inherent
        // method is declared where its impl is, under the path of its type).
        if let Some((part, inner, Some(lib))) = self.part(full) {
            if let Some(f) = part.get_anywhere(&inner, |f, p| f.fns.get(p)) {
                return Some(rebased(Some(lib), f));
            }
        }
        let f = self.own.get_anywhere(full, |f, p| f.fns.get(p))?;
        Some(rebased(None, f))
    }

    /// Does the crate declare a struct at this path (its fields by name, a tuple struct's by
    /// position)?
    pub fn has_struct(&self, strukt: &[String]) -> bool {
        self.part(strukt)
            .is_some_and(|(part, inner, _)| part.get(&inner, |f, p| f.fields.get(p)).is_some())
    }

    /// The declared type of a struct's field.
    pub fn field(&self, strukt: &[String], field: &str) -> Option<TypeRef> {
        let (part, inner, lib) = self.part(strukt)?;
        let fields = part.get(&inner, |f, p| f.fields.get(p))?;
        fields
            .iter()
            .find(|(n, _)| n == field)
            .map(|(_, t)| rebase_ty(lib, t))
    }
}

struct Walker<'a> {
    ix: &'a mut FileSyms,
    idx: &'a FileIndex,
}

fn is_pub(v: &syn::Visibility) -> bool {
    !matches!(v, syn::Visibility::Inherited)
}

fn tokens(t: &impl quote::ToTokens) -> String {
    t.to_token_stream().to_string()
}

impl Walker<'_> {
    fn type_ref(&self, scope: ScopeId, ty: &syn::Type) -> TypeRef {
        let head = match ty {
            syn::Type::Path(p) if p.qself.is_none() => self.idx.resolve_full(scope, &p.path),
            _ => None,
        };
        TypeRef {
            text: tokens(ty),
            head,
            held: self.held(scope, ty),
        }
    }

    /// See [`TypeRef::held`].
    fn held(&self, scope: ScopeId, ty: &syn::Type) -> Option<ItemPath> {
        match ty {
            syn::Type::Reference(r) => self.held(scope, &r.elem),
            syn::Type::Paren(p) => self.held(scope, &p.elem),
            syn::Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                let wrapper = ["Option", "Result", "Box", "Arc", "Rc"]
                    .iter()
                    .any(|w| last.ident == w);
                match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) if wrapper => match a.args.first()? {
                        syn::GenericArgument::Type(inner) => self.held(scope, inner),
                        _ => None,
                    },
                    _ => self.idx.resolve_full(scope, &p.path),
                }
            }
            _ => None,
        }
    }

    fn sig(&self, scope: ScopeId, sig: &syn::Signature) -> FnSig {
        let params = sig
            .inputs
            .iter()
            .map(|a| match a {
                syn::FnArg::Receiver(r) => (
                    "self".to_string(),
                    TypeRef {
                        text: tokens(&r.ty),
                        head: None,
                        held: None,
                    },
                ),
                syn::FnArg::Typed(t) => (tokens(&t.pat), self.type_ref(scope, &t.ty)),
            })
            .collect();
        let ret = match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, t) => Some(self.type_ref(scope, t)),
        };
        FnSig { params, ret }
    }

    /// Index the items of the module `scope` (the file's root or an inline `mod`).
    fn module(&mut self, items: &[syn::Item], scope: ScopeId) {
        let ScopeKind::Module(mp) = &self.idx.scopes[scope].kind else {
            return;
        };
        let mp = mp.clone();
        let sc = &self.idx.scopes[scope];
        let mut syms = ModuleSyms {
            generated: sc.opaque,
            ..ModuleSyms::default()
        };
        for (name, b) in &sc.names {
            if let Binding::Import(l) = b {
                let leaf = &self.idx.leaves[*l];
                let public = self.idx.use_items[leaf.item].is_pub;
                let target = self.idx.canonical(self.idx.leaf_path(*l));
                syms.names
                    .insert(name.clone(), Sym::Import { target, public });
            }
        }
        for &g in &sc.globs {
            let leaf = &self.idx.leaves[g];
            let public = self.idx.use_items[leaf.item].is_pub;
            let target = self.idx.canonical(self.idx.leaf_path(g));
            syms.globs.push((target, public));
        }
        for item in items {
            let (ident, public) = match item {
                syn::Item::Struct(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Enum(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Union(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Fn(i) => (&i.sig.ident, is_pub(&i.vis)),
                syn::Item::Mod(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Type(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Trait(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::TraitAlias(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Const(i) => (&i.ident, is_pub(&i.vis)),
                syn::Item::Static(i) => (&i.ident, is_pub(&i.vis)),
                _ => continue,
            };
            syms.names.insert(ident.to_string(), Sym::Item { public });
        }
        self.ix.modules.insert(mp.clone(), syms);
        for item in items {
            self.item(item, scope, &mp);
        }
    }

    fn item(&mut self, item: &syn::Item, scope: ScopeId, mp: &[String]) {
        let here = |name: &syn::Ident| join(mp, &[name.to_string()]);
        match item {
            syn::Item::Type(t) => {
                let ty = self.type_ref(scope, &t.ty);
                self.ix.aliases.insert(here(&t.ident), ty);
            }
            syn::Item::Fn(f) => {
                let sig = self.sig(scope, &f.sig);
                self.ix.fns.insert(here(&f.sig.ident), sig);
            }
            syn::Item::Struct(s) => {
                let fields = s
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        // A tuple struct's fields by position (`self.0`).
                        let name = f.ident.as_ref().map_or(i.to_string(), ToString::to_string);
                        (name, self.type_ref(scope, &f.ty))
                    })
                    .collect();
                self.ix.fields.insert(here(&s.ident), fields);
            }
            // Inherent methods, and the methods of trait impls (`impl Tr for S`: `s.m()`
            // calls it where the trait is in scope; an inherent method of the name wins).
            syn::Item::Impl(i) => {
                let syn::Type::Path(p) = &*i.self_ty else {
                    return;
                };
                let Some(owner) = self.idx.resolve_full(scope, &p.path) else {
                    return;
                };
                for ii in &i.items {
                    if let syn::ImplItem::Fn(f) = ii {
                        let sig = self.sig(scope, &f.sig);
                        let key = join(&owner, &[f.sig.ident.to_string()]);
                        if i.trait_.is_none() {
                            self.ix.fns.insert(key, sig);
                        } else {
                            self.ix.fns.entry(key).or_insert(sig);
                        }
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((brace, items)) = &m.content {
                    let open = crate::resolve::range(brace.span.open()).start;
                    if let Some(&s) = self.idx.scope_at.get(&open) {
                        self.module(items, s);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &str) -> ItemPath {
        s.split("::").map(String::from).collect()
    }

    /// Index files given as (module path, source).
    fn index(files: &[(&str, &str)]) -> CrateIndex {
        let parsed: Vec<(ItemPath, syn::File)> = files
            .iter()
            .map(|(m, s)| (path(m), syn::parse_file(s).unwrap()))
            .collect();
        CrateIndex::build(parsed.iter().map(|(m, f)| (Some(m.as_slice()), f)))
    }

    const PROTO: &str = "pub mod pb { tonic::include_proto!(\"helloworld\"); }\npub use pb::greeter_client::*;\nmod private { pub struct Hidden; }\nuse private::Hidden;\n";

    const PB_ROOT: &str = "pub mod pb { tonic::include_proto!(\"helloworld\"); }\n";

    #[test]
    fn generated_modules_and_tonic_submodules() {
        let ix = index(&[("crate::proto", PROTO)]);
        assert!(ix.is_generated(&path("crate::proto::pb")));
        assert!(ix.is_generated(&path("crate::proto::pb::greeter_client")));
        assert!(!ix.is_generated(&path("crate::proto")));
        let from = path("crate");
        // A message of the package module: not in the text, so not known for sure.
        assert_eq!(
            ix.glob_lookup(&path("crate::proto::pb"), "HelloRequest", &from),
            Lookup::Unknown
        );
        assert_eq!(
            ix.glob_lookup(
                &path("crate::proto::pb::greeter_client"),
                "GreeterClient",
                &from
            ),
            Lookup::Found(path("crate::proto::pb::greeter_client::GreeterClient"))
        );
        assert_eq!(
            ix.glob_lookup(&path("crate::proto::pb::greeter_server"), "Greeter", &from),
            Lookup::Found(path("crate::proto::pb::greeter_server::Greeter"))
        );
        assert_eq!(
            ix.glob_lookup(&path("crate::proto::pb::greeter_client"), "Status", &from),
            Lookup::Absent
        );
        // A crate's name is not taken from generated code (`connect_shim::server::unary`).
        assert_eq!(
            ix.glob_lookup(&path("crate::proto::pb"), "connect_shim", &from),
            Lookup::Absent
        );
        assert_eq!(
            ix.glob_lookup(&path("crate::proto::pb"), "greeter_server", &from),
            Lookup::Unknown
        );
    }

    #[test]
    fn pub_use_and_glob_re_exports_are_followed() {
        let ix = index(&[
            ("crate::proto", PROTO),
            ("crate", "mod proto;\npub use proto::pb as api;\n"),
        ]);
        // `pub use pb::greeter_client::*;` in proto.rs.
        assert_eq!(
            ix.canonical(path("crate::proto::GreeterClient::connect")),
            path("crate::proto::pb::greeter_client::GreeterClient::connect")
        );
        // A glob re-export of the generated module: its only source.
        let ix2 = index(&[
            ("crate", PB_ROOT),
            ("crate::api", "pub use crate::pb::*;\n"),
        ]);
        assert_eq!(
            ix2.canonical(path("crate::api::HelloRequest")),
            path("crate::pb::HelloRequest")
        );
        // `pub use proto::pb as api;` at the root, then the generated module.
        assert_eq!(
            ix.canonical(path("crate::api::HelloRequest")),
            path("crate::proto::pb::HelloRequest")
        );
        // A glob of proto from the root sees the re-exported client, not the private import.
        assert_eq!(
            ix.glob_lookup(&path("crate::proto"), "GreeterClient", &path("crate")),
            Lookup::Found(path("crate::proto::pb::greeter_client::GreeterClient"))
        );
        // (and proto's only glob is of tonic's client module, which holds `GreeterClient` only).
        assert_eq!(
            ix.glob_lookup(&path("crate::proto"), "Hidden", &path("crate")),
            Lookup::Absent
        );
        // From inside proto (a descendant), the private import is visible.
        assert_eq!(
            ix.glob_lookup(&path("crate::proto"), "Hidden", &path("crate::proto")),
            Lookup::Found(path("crate::proto::private::Hidden"))
        );
    }

    #[test]
    fn type_aliases_of_generated_items_resolve_to_them() {
        let ix = index(&[
            ("crate::proto", PROTO),
            (
                "crate::util",
                "use tonic::transport::Channel;\nuse crate::proto::GreeterClient;\npub type TestClient = GreeterClient<Channel>;\npub type Plain = Vec<u8>;\n",
            ),
        ]);
        let t = ix.alias(&path("crate::util::TestClient")).unwrap();
        assert_eq!(t.text, "GreeterClient < Channel >");
        assert_eq!(
            ix.canonical(path("crate::util::TestClient::connect")),
            path("crate::proto::pb::greeter_client::GreeterClient::connect")
        );
        // An alias of anything else stays itself.
        assert_eq!(
            ix.canonical(path("crate::util::Plain::new")),
            path("crate::util::Plain::new")
        );
    }

    /// The held head of the return type of the function at `full`.
    fn m_ret(ix: &CrateIndex, full: &str) -> Option<ItemPath> {
        ix.function(&path(full))?.ret?.held
    }

    #[test]
    fn functions_and_fields_keep_their_declared_types() {
        let ix = index(&[
            ("crate::proto", PROTO),
            (
                "crate::svc",
                "use crate::proto::pb::{HelloRequest, greeter_client::GreeterClient};\npub struct Svc { client: GreeterClient<tonic::transport::Channel>, n: u32 }\npub fn make(req: HelloRequest, _n: u8) -> Option<HelloRequest> { None }\nimpl Svc { fn call(&self, r: &HelloRequest) {} }\nimpl Tr for Svc { fn get(&self) -> Result<&HelloRequest, E> { make_it() } fn call(&self) -> HelloRequest { make_it() } }\nimpl Other for Svc { fn describe(&self) -> Box<HelloRequest> { make_it() } }\n",
            ),
        ]);
        let f = ix.function(&path("crate::svc::make")).unwrap();
        assert_eq!(f.params[0].0, "req");
        assert_eq!(
            f.params[0].1.head,
            Some(path("crate::proto::pb::HelloRequest"))
        );
        assert_eq!(f.ret.as_ref().unwrap().head, Some(path("Option")));
        assert_eq!(
            f.ret.as_ref().unwrap().held,
            Some(path("crate::proto::pb::HelloRequest"))
        );
        assert_eq!(
            m_ret(&ix, "crate::svc::Svc::get"),
            Some(path("crate::proto::pb::HelloRequest"))
        );
        // A trait impl's method is the type's, unless an inherent one has the name.
        assert_eq!(
            m_ret(&ix, "crate::svc::Svc::describe"),
            Some(path("crate::proto::pb::HelloRequest"))
        );
        assert_eq!(m_ret(&ix, "crate::svc::Svc::call"), None);
        let m = ix.function(&path("crate::svc::Svc::call")).unwrap();
        assert_eq!(m.params[0].0, "self");
        assert_eq!(m.params[1].1.text, "& HelloRequest");
        assert_eq!(
            ix.field(&path("crate::svc::Svc"), "client").unwrap().head,
            Some(path("crate::proto::pb::greeter_client::GreeterClient"))
        );
        assert!(ix.field(&path("crate::svc::Svc"), "nope").is_none());
    }

    #[test]
    fn a_tuple_struct_has_its_fields_by_position() {
        let ix = index(&[
            ("crate::proto", PROTO),
            (
                "crate::svc",
                "use crate::proto::pb::greeter_client::GreeterClient;
pub struct Wrap(pub GreeterClient<tonic::transport::Channel>, u32);
",
            ),
        ]);
        assert!(ix.has_struct(&path("crate::svc::Wrap")));
        assert_eq!(
            ix.field(&path("crate::svc::Wrap"), "0").unwrap().head,
            Some(path("crate::proto::pb::greeter_client::GreeterClient"))
        );
        assert_eq!(
            ix.field(&path("crate::svc::Wrap"), "1").unwrap().text,
            "u32"
        );
        assert!(ix.field(&path("crate::svc::Wrap"), "2").is_none());
    }

    #[test]
    fn graft_puts_a_library_under_its_name() {
        let lib = index(&[(
            "crate",
            "pub mod hello_world { tonic::include_proto!(\"helloworld\"); }\n",
        )]);
        let mut bin = index(&[("crate", "use greeter::hello_world::*;\nfn main() {}\n")]);
        bin.graft("greeter", &lib);
        assert!(bin.is_generated(&path("greeter::hello_world")));
        assert_eq!(
            bin.glob_lookup(
                &path("greeter::hello_world::greeter_client"),
                "GreeterClient",
                &path("crate")
            ),
            Lookup::Found(path("greeter::hello_world::greeter_client::GreeterClient"))
        );
        assert_eq!(
            bin.module(&path("crate")).unwrap().globs,
            vec![(path("greeter::hello_world"), false)]
        );
    }

    /// A lazy index over (module path, source) files, and the slots its loader was asked for.
    fn lazy(files: &[(&str, &str)]) -> (CrateIndex, Arc<std::sync::Mutex<Vec<usize>>>) {
        let texts: Vec<String> = files.iter().map(|(_, s)| s.to_string()).collect();
        let read = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = read.clone();
        let ix = CrateIndex::lazy(
            files.iter().map(|(m, _)| Some(path(m))).collect(),
            Arc::new(move |slot| {
                log.lock().unwrap().push(slot);
                Some(texts[slot].clone())
            }),
        );
        (ix, read)
    }

    #[test]
    fn a_lazy_index_reads_only_the_files_a_lookup_reaches() {
        let files = [
            (
                "crate",
                "pub mod pb { tonic::include_proto!(\"x\"); }\nmod svc;\nmod other;\n",
            ),
            ("crate::svc", "pub use crate::pb::greeter_client::*;\n"),
            // Unrelated, and does not even parse: never read.
            ("crate::other", "fn broken( {\n"),
            ("crate::other::deep", "pub struct Deep;\n"),
        ];
        let (ix, read) = lazy(&files);
        assert!(read.lock().unwrap().is_empty(), "nothing is read up front");
        // A glob of the generated module, seen from the service module.
        assert_eq!(
            ix.glob_lookup(&path("crate::pb"), "HelloRequest", &path("crate::svc")),
            Lookup::Unknown
        );
        assert_eq!(
            ix.canonical(path("crate::svc::GreeterClient::connect")),
            path("crate::pb::greeter_client::GreeterClient::connect")
        );
        // An external path reads nothing.
        assert_eq!(
            ix.canonical(path("tokio::sync::Mutex")),
            path("tokio::sync::Mutex")
        );
        let mut got = read.lock().unwrap().clone();
        got.sort();
        assert_eq!(
            got,
            vec![0, 1],
            "only the root and the service module are read"
        );
        // Each file is read once, however many lookups reach it.
        assert_eq!(
            ix.canonical(path("crate::svc::GreeterClient")),
            path("crate::pb::greeter_client::GreeterClient")
        );
        assert_eq!(read.lock().unwrap().len(), 2);
    }

    #[test]
    fn an_offered_parse_is_not_read_again() {
        let files = [
            ("crate", "pub mod pb { tonic::include_proto!(\"x\"); }\nmod svc;\n"),
            ("crate::svc", "pub use crate::pb::*;\npub type Alias = crate::pb::greeter_client::GreeterClient<u8>;\n"),
        ];
        let (ix, read) = lazy(&files);
        let ix = Arc::new(ix);
        let svc = syn::parse_file(files[1].1).unwrap();
        let fs = FileSymbols {
            index: ix.clone(),
            slot: Some(1),
        };
        // A parse of another module's file, or one built with a crate index, is not taken.
        let other = FileIndex::build(&svc, Some(path("crate::elsewhere")));
        fs.offer(&svc, &other);
        let with = FileIndex::build(&svc, Some(path("crate::svc"))).with_symbols(Some(ix.clone()));
        fs.offer(&svc, &with);
        fs.offer(&svc, &FileIndex::build(&svc, Some(path("crate::svc"))));
        assert_eq!(
            ix.canonical(path("crate::svc::Alias::connect")),
            path("crate::pb::greeter_client::GreeterClient::connect")
        );
        assert_eq!(
            ix.canonical(path("crate::svc::HelloRequest")),
            path("crate::pb::HelloRequest")
        );
        assert_eq!(
            *read.lock().unwrap(),
            vec![0],
            "the offered file is not read"
        );
    }

    #[test]
    fn lazy_answers_are_the_eager_ones_whatever_the_order() {
        // Two files declare `crate::sys` (a `#[path]` pair) and the root an inline `crate::dup`
        // that a later file also declares: the later file wins, as when all are indexed.
        let files = [
            ("crate::dup", "pub struct FromFile;\n"),
            (
                "crate",
                "mod sys;\npub mod dup { pub struct Inline; }\npub use sys::*;\n",
            ),
            ("crate::sys", "pub struct Unix;\n"),
            ("crate::sys", "pub struct Windows;\n"),
        ];
        let eager = index(&files);
        let queries = [
            (path("crate::dup"), "Inline"),
            (path("crate::dup"), "FromFile"),
            (path("crate::sys"), "Unix"),
            (path("crate::sys"), "Windows"),
            (path("crate"), "Windows"),
        ];
        for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]] {
            let (ix, _) = lazy(&files);
            for &q in &order {
                let (m, name) = &queries[q];
                assert_eq!(
                    ix.glob_lookup(m, name, &path("crate")),
                    eager.glob_lookup(m, name, &path("crate")),
                    "{m:?} {name}"
                );
            }
        }
        assert_eq!(
            eager.glob_lookup(&path("crate::dup"), "Inline", &path("crate")),
            Lookup::Found(path("crate::dup::Inline"))
        );
        assert_eq!(
            eager.glob_lookup(&path("crate"), "Windows", &path("crate")),
            Lookup::Found(path("crate::sys::Windows"))
        );
    }

    #[test]
    fn a_grafted_lazy_library_is_read_once_for_all_its_bins() {
        let (lib, read) = lazy(&[(
            "crate",
            "pub mod hello_world { tonic::include_proto!(\"helloworld\"); }\n",
        )]);
        let mut bins = Vec::new();
        for _ in 0..2 {
            let mut bin = index(&[("crate", "use greeter::hello_world::*;\nfn main() {}\n")]);
            bin.graft("greeter", &lib);
            bins.push(bin);
        }
        for bin in &bins {
            assert_eq!(
                bin.glob_lookup(
                    &path("greeter::hello_world::greeter_client"),
                    "GreeterClient",
                    &path("crate")
                ),
                Lookup::Found(path("greeter::hello_world::greeter_client::GreeterClient"))
            );
        }
        assert_eq!(*read.lock().unwrap(), vec![0]);
    }
}
