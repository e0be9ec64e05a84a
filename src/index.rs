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

use std::collections::HashMap;

use crate::resolve::{Binding, FileIndex, ScopeId, ScopeKind};

pub type ItemPath = Vec<String>;

/// A type as declared: its text (tokens as written) and the absolute path of its head when it
/// is a path type (`XClient<Channel>` -> `crate::pb::x_client::XClient`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    pub text: String,
    pub head: Option<ItemPath>,
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

/// The symbol index of one crate. Paths are crate-absolute (`["crate", "pb", "X"]`); a library
/// of the same package grafted in ([`CrateIndex::graft`]) is under its crate name.
#[derive(Debug, Clone, Default)]
pub struct CrateIndex {
    pub modules: HashMap<ItemPath, ModuleSyms>,
    pub aliases: HashMap<ItemPath, TypeRef>,
    pub fns: HashMap<ItemPath, FnSig>,
    /// Struct path -> its named fields and their declared types, in order.
    pub fields: HashMap<ItemPath, Vec<(String, TypeRef)>>,
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
/// is a crate (a message's nested module is not followed through a glob).
pub fn generated_may_hold(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        || name.ends_with("_client")
        || name.ends_with("_server")
}

impl CrateIndex {
    /// Index a crate from its files: each with its crate-absolute module path (files without
    /// one are left out: where they sit in the module tree is unknown).
    pub fn build<'a>(
        files: impl IntoIterator<Item = (Option<&'a [String]>, &'a syn::File)>,
    ) -> CrateIndex {
        let mut ix = CrateIndex::default();
        for (module_path, file) in files {
            let Some(mp) = module_path else {
                continue;
            };
            if mp.first().map(String::as_str) != Some("crate") {
                continue;
            }
            let idx = FileIndex::build(file, Some(mp.to_vec()));
            let mut w = Walker {
                ix: &mut ix,
                idx: &idx,
            };
            w.module(&file.items, idx.root());
        }
        ix
    }

    /// Add the modules of a library of the same package (`greeter` for a bin's
    /// `use greeter::pb::*;`) under its crate name.
    pub fn graft(&mut self, lib: &str, other: &CrateIndex) {
        let rebase = |p: &ItemPath| -> ItemPath {
            if p.first().map(String::as_str) == Some("crate") {
                let mut v = vec![lib.to_string()];
                v.extend_from_slice(&p[1..]);
                v
            } else {
                p.clone()
            }
        };
        let rebase_ty = |t: &TypeRef| TypeRef {
            text: t.text.clone(),
            head: t.head.as_ref().map(rebase),
        };
        for (k, m) in &other.modules {
            let m = ModuleSyms {
                names: m
                    .names
                    .iter()
                    .map(|(n, s)| {
                        let s = match s {
                            Sym::Import { target, public } => Sym::Import {
                                target: rebase(target),
                                public: *public,
                            },
                            s => s.clone(),
                        };
                        (n.clone(), s)
                    })
                    .collect(),
                globs: m.globs.iter().map(|(g, p)| (rebase(g), *p)).collect(),
                generated: m.generated,
            };
            self.modules.insert(rebase(k), m);
        }
        for (k, t) in &other.aliases {
            self.aliases.insert(rebase(k), rebase_ty(t));
        }
        for (k, f) in &other.fns {
            let f = FnSig {
                params: f
                    .params
                    .iter()
                    .map(|(n, t)| (n.clone(), rebase_ty(t)))
                    .collect(),
                ret: f.ret.as_ref().map(rebase_ty),
            };
            self.fns.insert(rebase(k), f);
        }
        for (k, v) in &other.fields {
            let v = v.iter().map(|(n, t)| (n.clone(), rebase_ty(t))).collect();
            self.fields.insert(rebase(k), v);
        }
    }

    /// Is `module` generated code, or inside it?
    pub fn is_generated(&self, module: &[String]) -> bool {
        (1..=module.len()).any(|n| self.modules.get(&module[..n]).is_some_and(|m| m.generated))
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
        let Some(m) = self.modules.get(module) else {
            return self.generated_child(module, name);
        };
        match m.names.get(name) {
            Some(Sym::Import { target, public }) if visible(*public, module, from) => {
                return Lookup::Found(self.canonical(target.clone()));
            }
            Some(Sym::Item { public }) if visible(*public, module, from) => {
                return Lookup::Found(join(module, std::slice::from_ref(&name.to_string())));
            }
            _ => {}
        }
        if m.generated {
            return if generated_may_hold(name) {
                Lookup::Unknown
            } else {
                Lookup::Absent
            };
        }
        let mut unknown = false;
        for (g, public) in &m.globs {
            if !visible(*public, module, from) {
                continue;
            }
            match self.glob_lookup_depth(g, name, from, depth + 1) {
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
        if !self.modules.get(parent).is_some_and(|m| m.generated) {
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
        let n = (1..full.len())
            .rev()
            .find(|&n| self.modules.contains_key(&full[..n]))?;
        let module = &full[..n];
        let m = &self.modules[module];
        let name = &full[n];
        let rest = &full[n + 1..];
        match m.names.get(name) {
            Some(Sym::Import { target, .. }) => return Some(join(target, rest)),
            Some(Sym::Item { .. }) => {
                let here = &full[..=n];
                let t = self.aliases.get(here)?;
                let head = self.canonical_depth(t.head.clone()?, depth + 1);
                let module = &head[..head.len().saturating_sub(1)];
                return self.is_generated(module).then(|| join(&head, rest));
            }
            None => {}
        }
        if m.generated {
            return None;
        }
        // Through the module's globs: the one that has it, else the only one that may.
        let mut maybe = Vec::new();
        for (g, _) in &m.globs {
            match self.glob_lookup(g, name, module) {
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
    pub fn alias(&self, full: &[String]) -> Option<&TypeRef> {
        self.aliases.get(full)
    }

    /// The signature of a function (`crate::m::f`) or inherent method (`crate::m::S::f`).
    pub fn function(&self, full: &[String]) -> Option<&FnSig> {
        self.fns.get(full)
    }

    /// The declared type of a struct's field.
    pub fn field(&self, strukt: &[String], field: &str) -> Option<&TypeRef> {
        self.fields
            .get(strukt)?
            .iter()
            .find(|(n, _)| n == field)
            .map(|(_, t)| t)
    }
}

struct Walker<'a> {
    ix: &'a mut CrateIndex,
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
                    .filter_map(|f| {
                        Some((f.ident.as_ref()?.to_string(), self.type_ref(scope, &f.ty)))
                    })
                    .collect();
                self.ix.fields.insert(here(&s.ident), fields);
            }
            syn::Item::Impl(i) if i.trait_.is_none() => {
                let syn::Type::Path(p) = &*i.self_ty else {
                    return;
                };
                let Some(owner) = self.idx.resolve_full(scope, &p.path) else {
                    return;
                };
                for ii in &i.items {
                    if let syn::ImplItem::Fn(f) = ii {
                        let sig = self.sig(scope, &f.sig);
                        self.ix
                            .fns
                            .insert(join(&owner, &[f.sig.ident.to_string()]), sig);
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

    #[test]
    fn functions_and_fields_keep_their_declared_types() {
        let ix = index(&[
            ("crate::proto", PROTO),
            (
                "crate::svc",
                "use crate::proto::pb::{HelloRequest, greeter_client::GreeterClient};\npub struct Svc { client: GreeterClient<tonic::transport::Channel>, n: u32 }\npub fn make(req: HelloRequest, _n: u8) -> Option<HelloRequest> { None }\nimpl Svc { fn call(&self, r: &HelloRequest) {} }\n",
            ),
        ]);
        let f = ix.function(&path("crate::svc::make")).unwrap();
        assert_eq!(f.params[0].0, "req");
        assert_eq!(
            f.params[0].1.head,
            Some(path("crate::proto::pb::HelloRequest"))
        );
        assert_eq!(f.ret.as_ref().unwrap().head, Some(path("Option")));
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
            bin.modules[&path("crate")].globs,
            vec![(path("greeter::hello_world"), false)]
        );
    }
}
