//! The crate's own error types that `?` fills from client calls.
//!
//! Step 6 hands a connect client's error to tonic-shaped code through
//! `.map_err(connect_shim::status::to_status)`; a function returning the crate's own error
//! (`Result<T, Error>`, or a `Result<T>` alias of it) then converts the `Status` with `?`
//! through the crate's `From<tonic::Status>` (an `impl From<tonic::Status> for Error`, or
//! thiserror's `#[from] tonic::Status` on a variant). Once step 7 removes the `map_err`, `?`
//! meets a `ConnectError`: the type needs a `From<connectrpc::ConnectError>`. Step 7 writes it
//! beside the type (or the impl), through the conversion the type already has, and lists it so
//! that a human can move the type's variant to `ConnectError` when tonic goes.
//!
//! [`plan`] decides which types need it, crate-wide (the functions are often in other files
//! than the type), before the files are processed; the pass writes the planned impls.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::context::CrateCtx;
use crate::edit::Edit;
use crate::engine::{FileCtx, ItemKind, ManualItem};
use crate::resolve::range;
use crate::steps::common::items::item_at;
use crate::steps::common::prepare::Prepared;
use crate::workspace::Workspace;

/// Where `From<ConnectError>` impls go, per file (offset after the item, the type's name), and
/// the impls of it already there that go through tonic's `Status` (listed again).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ConversionPlan {
    pub files: HashMap<PathBuf, Vec<Conversion>>,
    /// The first place the crate holds tonic's `Streaming` in a declared type (a field, a
    /// parameter, a type alias): file and 1-based line. Streams built by the shim's
    /// tonic-shaped wrappers flow into it, so those calls keep tonic's stream and its `Status`
    /// errors until step 8 ([`held_streams`]).
    pub held_stream: Option<(PathBuf, usize)>,
    /// The crate names tonic's `Streaming` in some type (a return type too): its streams still
    /// yield tonic's `Status` after this step, so its error types keep `From<tonic::Status>`.
    pub names_stream: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversion {
    /// Byte offset: the end of the item the new impl follows, or the existing impl's start.
    pub at: usize,
    /// The error type's name.
    pub ty: String,
    /// The impl is there already (a run after the one that wrote it).
    pub written: bool,
}

const RULE: &str = "step07/error-conversion";

/// Step 7's prepare: google.rpc details (see [`crate::steps::details::prepare`]) and the
/// crates' error conversions.
pub fn prepare(st: &crate::steps::Step, ws: &Workspace) -> Prepared {
    let mut out = crate::steps::details::prepare(st, ws);
    for c in &ws.crates {
        let mut seen = HashSet::new();
        let texts: Vec<(&crate::workspace::SourceFile, String)> = c
            .files
            .iter()
            .filter(|f| seen.insert(f.path.clone()))
            .filter_map(|f| {
                let t = std::fs::read_to_string(&f.path).ok()?;
                Some((f, t.trim_start_matches('\u{feff}').to_string()))
            })
            .collect();
        let files: Vec<CrateFile<'_>> = texts
            .iter()
            .map(|(f, t)| CrateFile {
                path: &f.path,
                module: f.module_path.as_deref(),
                text: t,
            })
            .collect();
        let mut p = plan(&files);
        if p.files.is_empty() && p.held_stream.is_none() && !p.names_stream {
            continue;
        }
        if let Some((path, _)) = &mut p.held_stream {
            *path = PathBuf::from(crate::workspace::rel(&ws.root, path));
        }
        let ctx = match out.ctx.remove(&c.name) {
            None => CrateCtx::default(),
            Some(a) => match Arc::try_unwrap(a) {
                Ok(ctx) => ctx,
                Err(a) => {
                    // Shared with other crates: left as it is (the compiler loop is the net).
                    out.ctx.insert(c.name.clone(), a);
                    continue;
                }
            },
        };
        out.ctx.insert(c.name.clone(), Arc::new(ctx.with_plan(p)));
    }
    out
}

/// The impls the file gets, and the items listing them.
pub fn edits(file: &FileCtx<'_>) -> (Vec<Edit>, Vec<ManualItem>) {
    let (Some(ctx), Some(path)) = (file.crate_ctx, file.path) else {
        return Default::default();
    };
    let Some(list) = ctx.plan::<ConversionPlan>().and_then(|p| p.files.get(path)) else {
        return Default::default();
    };
    let mut edits = Vec::new();
    let mut items = Vec::new();
    for c in list {
        if !c.written {
            edits.push(Edit::insert(
                c.at,
                file.line_ending.convert(&impl_text(&c.ty)),
                RULE,
            ));
        }
        items.push(item_at(
            c.at,
            RULE.into(),
            ItemKind::Manual,
            format!(
                "`{}` converts from tonic's Status only: `From<connectrpc::ConnectError>` goes through `connect_shim::status::to_status` so that `?` on connect client calls keeps working",
                c.ty
            ),
            "give the type a variant holding connectrpc::ConnectError (thiserror: `#[from] connectrpc::ConnectError`) and drop this impl before tonic and connect-shim go",
        ));
    }
    (edits, items)
}

/// The offsets (as in [`Conversion::at`]) of the planned conversions whose type had a field's
/// `tonic::Status` renamed by this step, or whose `impl From<tonic::Status>` it renamed
/// (`renamed(item range)`): the type converts from `ConnectError` through the renamed field
/// (thiserror's `#[from]`) or impl, so no impl is written (it would conflict).
pub fn renamed_types(
    file: &FileCtx<'_>,
    renamed: impl Fn(&std::ops::Range<usize>) -> bool,
) -> Vec<usize> {
    let (Some(ctx), Some(path)) = (file.crate_ctx, file.path) else {
        return Vec::new();
    };
    let Some(list) = ctx.plan::<ConversionPlan>().and_then(|p| p.files.get(path)) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    collect_types(&file.file.items, &mut items);
    list.iter()
        .filter(|c| !c.written)
        .filter(|c| {
            items
                .iter()
                .any(|(name, r)| name == &c.ty && r.end == c.at && renamed(r))
        })
        .map(|c| c.at)
        .collect()
}

/// The items of the file's planned error types (the type, its `From` impls) whose renames are
/// taken back: the crate still names tonic's `Streaming` ([`ConversionPlan::names_stream`]), so
/// its streams yield tonic's `Status` after this step and `?` on them needs the type's
/// `From<tonic::Status>`; the type gets `From<ConnectError>` beside it instead.
pub fn status_kept(file: &FileCtx<'_>) -> Vec<std::ops::Range<usize>> {
    let (Some(ctx), Some(path)) = (file.crate_ctx, file.path) else {
        return Vec::new();
    };
    let Some(plan) = ctx.plan::<ConversionPlan>().filter(|p| p.names_stream) else {
        return Vec::new();
    };
    let Some(list) = plan.files.get(path) else {
        return Vec::new();
    };
    let mut items = Vec::new();
    collect_types(&file.file.items, &mut items);
    items
        .into_iter()
        .filter(|(name, _)| list.iter().any(|c| &c.ty == name))
        .map(|(_, r)| r)
        .collect()
}

/// The structs, enums and `From` impls of `items` (inline modules too): the type's name and
/// the item's byte range.
fn collect_types(items: &[syn::Item], out: &mut Vec<(String, std::ops::Range<usize>)>) {
    for i in items {
        match i {
            syn::Item::Struct(s) => out.push((s.ident.to_string(), range(s.span()))),
            syn::Item::Enum(e) => out.push((e.ident.to_string(), range(e.span()))),
            // `impl From<tonic::Status> for T`: the new impl follows it.
            syn::Item::Impl(i)
                if i.trait_.as_ref().is_some_and(|(_, t, _)| {
                    t.segments.last().is_some_and(|s| s.ident == "From")
                }) =>
            {
                if let syn::Type::Path(tp) = &*i.self_ty {
                    if let Some(last) = tp.path.segments.last() {
                        out.push((last.ident.to_string(), range(i.span())));
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_types(inner, out);
                }
            }
            _ => {}
        }
    }
}

fn impl_text(ty: &str) -> String {
    format!(
        "\n\nimpl From<connectrpc::ConnectError> for {ty} {{\n    fn from(err: connectrpc::ConnectError) -> Self {{\n        Self::from(connect_shim::status::to_status(err))\n    }}\n}}"
    )
}

/// One file of the crate: its path, crate-absolute module path when known, and text.
pub struct CrateFile<'a> {
    pub path: &'a Path,
    pub module: Option<&'a [String]>,
    pub text: &'a str,
}

/// The crate's error types that `?` on a step-6 `to_status` conversion fills, which convert
/// from tonic's `Status` and not from `ConnectError`. Pure: the crate's files and their texts.
pub fn plan(files: &[CrateFile<'_>]) -> ConversionPlan {
    let mut scan = Scan::default();
    let parsed: Vec<(&CrateFile<'_>, syn::File)> = files
        .iter()
        .filter_map(|f| Some((f, syn::parse_file(f.text).ok()?)))
        .collect();
    // Type aliases of tonic's `Streaming`, crate-wide: a field of one holds a stream.
    let aliases: HashSet<String> = parsed.iter().flat_map(|(_, f)| stream_aliases(f)).collect();
    for (file, f) in &parsed {
        let mut v = FileScan {
            path: file.path,
            module: file.module.map(<[String]>::to_vec),
            tonic_names: tonic_imports(f, "Status"),
            scan: &mut scan,
        };
        v.visit_file(f);
        let streams = held_streams(f, &aliases);
        scan.names_stream |= streams.named;
        if let (None, Some(at)) = (&scan.held_stream, streams.held) {
            let line = file.text[..at.min(file.text.len())].matches('\n').count() + 1;
            scan.held_stream = Some((file.path.to_path_buf(), line));
        }
    }
    let mut out = ConversionPlan {
        held_stream: scan.held_stream.take(),
        names_stream: scan.names_stream,
        ..ConversionPlan::default()
    };
    let unique = |name: &str, v: &[(PathBuf, usize)]| v.len() == 1 && !name.is_empty();
    for (name, at) in &scan.connect_via_status {
        if let Some(v) = scan.from_status.get(name) {
            if unique(name, v) {
                out.files.entry(at.0.clone()).or_default().push(Conversion {
                    at: at.1,
                    ty: name.clone(),
                    written: true,
                });
            }
        }
    }
    let mut needed: Vec<String> = scan
        .fills
        .iter()
        .filter_map(|f| match f {
            Fill::Named(n) => Some(n),
            Fill::Alias(m) => scan.alias_seen_from(m),
        })
        .filter(|n| !scan.from_connect.contains(*n))
        .cloned()
        .collect();
    needed.sort();
    needed.dedup();
    for n in needed {
        let Some(v) = scan.from_status.get(&n) else {
            continue;
        };
        if !unique(&n, v) {
            continue;
        }
        let (path, at) = &v[0];
        out.files.entry(path.clone()).or_default().push(Conversion {
            at: *at,
            ty: n,
            written: false,
        });
    }
    out
}

#[derive(Default)]
struct Scan {
    /// Error type name -> (file, end of the item that gives it `From<tonic::Status>`).
    from_status: HashMap<String, Vec<(PathBuf, usize)>>,
    /// Types with a `From<ConnectError>` already.
    from_connect: HashSet<String>,
    /// Those whose `From<ConnectError>` goes through `to_status` (file, impl start).
    connect_via_status: Vec<(String, (PathBuf, usize))>,
    /// The error types of `type Result<T> = ..Result<T, E>` aliases, by module.
    result_aliases: HashMap<Vec<String>, String>,
    /// `use path::Result;` by the module that has it: the module of the alias it names.
    result_imports: HashMap<Vec<String>, Vec<String>>,
    /// The error types functions with a `to_status` conversion under `?` return.
    fills: Vec<Fill>,
    /// See [`ConversionPlan::held_stream`] (the path as given).
    held_stream: Option<(PathBuf, usize)>,
    /// See [`ConversionPlan::names_stream`].
    names_stream: bool,
}

enum Fill {
    Named(String),
    /// `Result<T>` in this module: an alias it defines or imports.
    Alias(Vec<String>),
}

impl Scan {
    /// The error type of the `Result` alias module `m` sees.
    fn alias_seen_from(&self, m: &[String]) -> Option<&String> {
        self.result_aliases.get(m).or_else(|| {
            self.result_imports
                .get(m)
                .and_then(|target| self.result_aliases.get(target))
        })
    }
}

struct FileScan<'a> {
    path: &'a Path,
    /// The current module (crate-absolute), `None` when the file's is unknown.
    module: Option<Vec<String>>,
    /// Names the file imports from tonic (`Status` of `use tonic::Status;`).
    tonic_names: HashSet<String>,
    scan: &'a mut Scan,
}

impl FileScan<'_> {
    fn is_tonic_status(&self, ty: &syn::Type) -> bool {
        let syn::Type::Path(tp) = ty else {
            return false;
        };
        let segs = crate::resolve::segment_names(&tp.path);
        match segs.as_slice() {
            [t, s] => t == "tonic" && s == "Status",
            [s] => self.tonic_names.contains(s),
            _ => false,
        }
    }

    fn is_connect_error(ty: &syn::Type) -> bool {
        last_ident(ty).is_some_and(|n| n == "ConnectError")
    }

    fn fn_body(&mut self, sig: &syn::Signature, block: &syn::Block) {
        if !fills_from_to_status(block) {
            return;
        }
        let syn::ReturnType::Type(_, ty) = &sig.output else {
            return;
        };
        let syn::Type::Path(tp) = &**ty else {
            return;
        };
        let Some(last) = tp.path.segments.last() else {
            return;
        };
        if last.ident != "Result" {
            return;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return;
        };
        let tys: Vec<&syn::Type> = args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect();
        match tys.as_slice() {
            [_] if tp.path.segments.len() == 1 => {
                if let Some(m) = &self.module {
                    self.scan.fills.push(Fill::Alias(m.clone()));
                }
            }
            [_, e] => {
                if let Some(n) = plain_name(e) {
                    self.scan.fills.push(Fill::Named(n));
                }
            }
            _ => {}
        }
    }
}

impl<'ast> Visit<'ast> for FileScan<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let outer = self.module.clone();
        if let Some(p) = &mut self.module {
            p.push(m.ident.to_string());
        }
        syn::visit::visit_item_mod(self, m);
        self.module = outer;
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let Some(m) = &self.module else { return };
        let mut prefix = Vec::new();
        if let Some(target) = result_import(&u.tree, &mut prefix) {
            if let Some(abs) = absolute(m, &target) {
                self.scan.result_imports.insert(m.clone(), abs);
            }
        }
    }

    fn visit_item_impl(&mut self, imp: &'ast syn::ItemImpl) {
        if let (Some((None, path, _)), true) = (&imp.trait_, imp.generics.params.is_empty()) {
            let last = path.segments.last();
            let arg = last
                .filter(|s| s.ident == "From")
                .and_then(|s| match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a.args.first(),
                    _ => None,
                });
            if let (Some(syn::GenericArgument::Type(from)), Some(name)) =
                (arg, plain_name(&imp.self_ty))
            {
                let r = range(syn::spanned::Spanned::span(imp));
                if self.is_tonic_status(from) {
                    self.scan
                        .from_status
                        .entry(name)
                        .or_default()
                        .push((self.path.to_path_buf(), r.end));
                } else if Self::is_connect_error(from) {
                    if imp.to_token_stream().to_string().contains("to_status") {
                        self.scan
                            .connect_via_status
                            .push((name.clone(), (self.path.to_path_buf(), r.start)));
                    }
                    self.scan.from_connect.insert(name);
                }
            }
        }
        syn::visit::visit_item_impl(self, imp);
    }

    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        if e.generics.params.is_empty() {
            let fields: Vec<&syn::Field> =
                e.variants.iter().flat_map(|v| v.fields.iter()).collect();
            self.derived_from(&e.ident, &fields, range(syn::spanned::Spanned::span(e)).end);
        }
        syn::visit::visit_item_enum(self, e);
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        if s.generics.params.is_empty() {
            let fields: Vec<&syn::Field> = s.fields.iter().collect();
            self.derived_from(&s.ident, &fields, range(syn::spanned::Spanned::span(s)).end);
        }
        syn::visit::visit_item_struct(self, s);
    }

    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        if t.ident == "Result" && t.generics.params.len() == 1 {
            if let syn::Type::Path(tp) = &*t.ty {
                if let Some(syn::PathArguments::AngleBracketed(a)) =
                    tp.path.segments.last().map(|s| &s.arguments)
                {
                    if let Some(syn::GenericArgument::Type(e)) = a.args.iter().nth(1) {
                        if let (Some(n), Some(m)) = (plain_name(e), &self.module) {
                            self.scan.result_aliases.insert(m.clone(), n);
                        }
                    }
                }
            }
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.fn_body(&f.sig, &f.block);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.fn_body(&f.sig, &f.block);
        syn::visit::visit_impl_item_fn(self, f);
    }
}

impl FileScan<'_> {
    /// thiserror's `#[from]` on a field of the type.
    fn derived_from(&mut self, ident: &syn::Ident, fields: &[&syn::Field], end: usize) {
        for f in fields {
            if !f.attrs.iter().any(|a| a.path().is_ident("from")) {
                continue;
            }
            if self.is_tonic_status(&f.ty) {
                self.scan
                    .from_status
                    .entry(ident.to_string())
                    .or_default()
                    .push((self.path.to_path_buf(), end));
            } else if Self::is_connect_error(&f.ty) {
                self.scan.from_connect.insert(ident.to_string());
            }
        }
    }
}

/// The module path a `use` tree imports `Result` from (`use crate::errors::Result;`).
fn result_import(t: &syn::UseTree, prefix: &mut Vec<String>) -> Option<Vec<String>> {
    match t {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            let r = result_import(&p.tree, prefix);
            prefix.pop();
            r
        }
        syn::UseTree::Name(n) if n.ident == "Result" => Some(prefix.clone()),
        syn::UseTree::Group(g) => g.items.iter().find_map(|i| result_import(i, prefix)),
        _ => None,
    }
}

/// A written module path (`crate::a`, `super::b`, `self::c`) made crate-absolute from module
/// `m`; `None` for a path into another crate.
fn absolute(m: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut out: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => vec!["crate".into()],
        Some("self" | "super") => m.to_vec(),
        _ => return None,
    };
    for (i, seg) in path.iter().enumerate() {
        match seg.as_str() {
            "crate" | "self" if i == 0 => {}
            "super" => {
                if out.len() <= 1 {
                    return None;
                }
                out.pop();
            }
            s => out.push(s.to_string()),
        }
    }
    Some(out)
}

/// A type written as a plain name (`Error`, `crate::errors::Error`): its last segment, when no
/// segment has generic arguments.
fn plain_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(tp) = ty else {
        return None;
    };
    if tp.qself.is_some()
        || tp
            .path
            .segments
            .iter()
            .any(|s| !matches!(s.arguments, syn::PathArguments::None))
    {
        return None;
    }
    tp.path.segments.last().map(|s| s.ident.to_string())
}

fn last_ident(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(tp) = ty else {
        return None;
    };
    tp.path.segments.last().map(|s| s.ident.to_string())
}

/// Does the body hand a `to_status` conversion (outside closures) to `?`: a
/// `.map_err(connect_shim::status::to_status)` followed, in its statement, by `?`.
fn fills_from_to_status(block: &syn::Block) -> bool {
    let mut toks = Vec::new();
    crate::steps::common::tokens::flatten(block.to_token_stream(), &mut toks);
    toks.iter().enumerate().any(|(i, t)| {
        t.is_ident("to_status")
            && i >= 3
            && toks[i - 1].is_punct(':')
            && toks[i - 3].is_ident("status")
            && toks[i + 1..]
                .iter()
                .take_while(|t| !t.is_punct(';'))
                .any(|t| t.is_punct('?'))
    })
}

/// The names under which the file imports tonic's item `name` (`use tonic::{Request, Status};`,
/// `use tonic::codec::Streaming as S;`), at any depth of its modules.
fn tonic_imports(f: &syn::File, name: &str) -> HashSet<String> {
    struct Uses<'n> {
        name: &'n str,
        out: HashSet<String>,
    }
    impl Uses<'_> {
        fn walk(&mut self, t: &syn::UseTree, under_tonic: bool, first: bool) {
            match t {
                syn::UseTree::Path(p) => {
                    self.walk(&p.tree, under_tonic || (first && p.ident == "tonic"), false)
                }
                syn::UseTree::Name(n) if under_tonic && n.ident == self.name => {
                    self.out.insert(n.ident.to_string());
                }
                syn::UseTree::Rename(r) if under_tonic && r.ident == self.name => {
                    self.out.insert(r.rename.to_string());
                }
                syn::UseTree::Group(g) => g
                    .items
                    .iter()
                    .for_each(|i| self.walk(i, under_tonic, first)),
                _ => {}
            }
        }
    }
    impl<'ast> Visit<'ast> for Uses<'_> {
        fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
            self.walk(&u.tree, false, true);
        }
    }
    let mut v = Uses {
        name,
        out: HashSet::new(),
    };
    v.visit_file(f);
    v.out
}

/// Where a file names tonic's `Streaming` type: `held` is the offset of the first field,
/// parameter or type alias declared with it (a stream kept beyond the call that made it),
/// `named` says whether any type names it (a return type, a `let` annotation too).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StreamUses {
    pub held: Option<usize>,
    pub named: bool,
}

/// See [`StreamUses`]. By syntax: `tonic::Streaming`, `tonic::codec::Streaming`, a name the
/// file imports from tonic as `Streaming`, or one of `aliases` (the crate's type aliases of it,
/// [`stream_aliases`]: an alias alone holds nothing, a field of its type does).
pub fn held_streams(f: &syn::File, aliases: &HashSet<String>) -> StreamUses {
    let mut names = tonic_imports(f, "Streaming");
    names.extend(aliases.iter().cloned());
    let mut s = StreamScan {
        names,
        out: StreamUses::default(),
    };
    s.visit_file(f);
    s.out
}

/// The type aliases of the file that name tonic's `Streaming` (`type Events =
/// tonic::Streaming<Event>;`).
pub fn stream_aliases(f: &syn::File) -> Vec<String> {
    struct Aliases {
        names: HashSet<String>,
        out: Vec<String>,
    }
    impl<'ast> Visit<'ast> for Aliases {
        fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
            if names_streaming(&self.names, &t.ty) {
                self.out.push(t.ident.to_string());
            }
        }
    }
    let mut a = Aliases {
        names: tonic_imports(f, "Streaming"),
        out: Vec::new(),
    };
    a.visit_file(f);
    a.out
}

/// Whether `ty` names tonic's `Streaming` (qualified, or one of `names`).
fn names_streaming(names: &HashSet<String>, ty: &syn::Type) -> bool {
    struct Names<'n>(&'n HashSet<String>, bool);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_type_path(&mut self, tp: &'ast syn::TypePath) {
            let segs = crate::resolve::segment_names(&tp.path);
            let hit = match segs.as_slice() {
                [t, s] => t == "tonic" && s == "Streaming",
                [t, c, s] => t == "tonic" && c == "codec" && s == "Streaming",
                [s] => tp.qself.is_none() && self.0.contains(s),
                _ => false,
            };
            self.1 |= hit;
            syn::visit::visit_type_path(self, tp);
        }
    }
    let mut n = Names(names, false);
    n.visit_type(ty);
    n.1
}

struct StreamScan {
    names: HashSet<String>,
    out: StreamUses,
}

impl StreamScan {
    fn names(&self, ty: &syn::Type) -> bool {
        names_streaming(&self.names, ty)
    }
    fn hold(&mut self, ty: &syn::Type) {
        if self.out.held.is_none() && self.names(ty) {
            self.out.held = Some(range(ty.span()).start);
        }
    }
}
impl<'ast> Visit<'ast> for StreamScan {
    fn visit_field(&mut self, f: &'ast syn::Field) {
        self.hold(&f.ty);
        syn::visit::visit_field(self, f);
    }
    fn visit_fn_arg(&mut self, a: &'ast syn::FnArg) {
        if let syn::FnArg::Typed(t) = a {
            self.hold(&t.ty);
        }
        syn::visit::visit_fn_arg(self, a);
    }
    fn visit_type(&mut self, ty: &'ast syn::Type) {
        if !self.out.named && self.names(ty) {
            self.out.named = true;
        }
        // Nested types are seen through `names`.
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ERRORS: &str = "pub type Result<T> = std::result::Result<T, Error>;\n\n#[derive(thiserror::Error, Debug)]\npub enum Error {\n    #[error(\"rpc\")]\n    Rpc(#[from] tonic::Status),\n}\n";
    const CALLS: &str = "use crate::errors::Result;\nimpl Alpha {\n    pub async fn count(&mut self) -> Result<i64> {\n        Ok(self\n            .client\n            .count(Empty::default())\n            .await.map_err(connect_shim::status::to_status)\n            .map(|c| c.into_owned().count)?)\n    }\n}\n";

    fn run(files: &[(&str, &str)]) -> ConversionPlan {
        let modules: Vec<Vec<String>> = files
            .iter()
            .map(|(p, _)| {
                let stem = p.trim_start_matches("src/").trim_end_matches(".rs");
                let mut m = vec!["crate".to_string()];
                if stem != "lib" {
                    m.push(stem.to_string());
                }
                m
            })
            .collect();
        let v: Vec<CrateFile<'_>> = files
            .iter()
            .zip(&modules)
            .map(|((p, t), m)| CrateFile {
                path: Path::new(*p),
                module: Some(m),
                text: t,
            })
            .collect();
        plan(&v)
    }

    #[test]
    fn an_alias_of_a_derived_from_status_error_gets_the_impl_beside_the_type() {
        let p = run(&[("src/errors.rs", ERRORS), ("src/alpha.rs", CALLS)]);
        let end = ERRORS.rfind('}').unwrap() + 1;
        assert_eq!(
            p.files.get(Path::new("src/errors.rs")),
            Some(&vec![Conversion {
                at: end,
                ty: "Error".into(),
                written: false
            }])
        );
        assert_eq!(p.files.len(), 1);
    }

    #[test]
    fn the_alias_is_the_one_the_module_sees() {
        // Another file's private `Result` alias (over `String`) is not the one `alpha` imports.
        let other = "mod tests {\n    type Result<T> = std::result::Result<T, String>;\n}\n";
        let p = run(&[
            ("src/beta.rs", other),
            ("src/errors.rs", ERRORS),
            ("src/alpha.rs", CALLS),
        ]);
        assert_eq!(
            p.files
                .get(Path::new("src/errors.rs"))
                .map(|v| v[0].ty.as_str()),
            Some("Error")
        );
        // Without the import, `Result` names no alias of the crate: nothing to write.
        let unimported = CALLS.replace("use crate::errors::Result;\n", "");
        assert!(
            run(&[("src/errors.rs", ERRORS), ("src/alpha.rs", &unimported)])
                .files
                .is_empty()
        );
    }

    #[test]
    fn a_written_from_status_impl_gets_the_impl_after_it() {
        let errors = "use tonic::Status;\npub struct MyError(String);\nimpl From<Status> for MyError {\n    fn from(s: Status) -> Self { MyError(s.to_string()) }\n}\n";
        let calls = "pub async fn go(c: &mut C) -> Result<(), crate::errors::MyError> {\n    c.call(()).await.map_err(connect_shim::status::to_status)?;\n    Ok(())\n}\n";
        let p = run(&[("src/errors.rs", errors), ("src/calls.rs", calls)]);
        let end = errors.rfind('}').unwrap() + 1;
        assert_eq!(
            p.files[Path::new("src/errors.rs")],
            vec![Conversion {
                at: end,
                ty: "MyError".into(),
                written: false
            }]
        );
        // `Status` not from tonic: not the class.
        let own = errors.replace("use tonic::Status;\n", "pub struct Status;\n");
        assert!(run(&[("src/errors.rs", &own), ("src/calls.rs", calls)])
            .files
            .is_empty());
        // The conversion not under `?` (matched, returned as it is): nothing to convert.
        let matched = calls.replace(
            "c.call(()).await.map_err(connect_shim::status::to_status)?;",
            "let _ = c.call(()).await.map_err(connect_shim::status::to_status);",
        );
        assert!(
            run(&[("src/errors.rs", errors), ("src/calls.rs", &matched)])
                .files
                .is_empty()
        );
    }

    #[test]
    fn a_type_converting_from_connect_error_already_gets_nothing_new() {
        let written = format!("{ERRORS}{}\n", impl_text("Error").trim_start());
        let p = run(&[("src/errors.rs", &written), ("src/alpha.rs", CALLS)]);
        // Listed again (through tonic's Status still), not written twice.
        let at = written.find("impl From<connectrpc").unwrap();
        assert_eq!(
            p.files[Path::new("src/errors.rs")],
            vec![Conversion {
                at,
                ty: "Error".into(),
                written: true
            }]
        );
        let derived = ERRORS.replace(
            "Rpc(#[from] tonic::Status),",
            "Rpc(#[from] tonic::Status),\n    Connect(#[from] connectrpc::ConnectError),",
        );
        assert!(run(&[("src/errors.rs", &derived), ("src/alpha.rs", CALLS)])
            .files
            .is_empty());
    }

    #[test]
    fn tonic_streams_held_in_declared_types_are_found() {
        let uses = |src: &str| held_streams(&syn::parse_file(src).unwrap(), &HashSet::new());
        // A field, a parameter, an alias hold the stream; the names resolve through the
        // file's imports of tonic (renamed too), or the qualified paths.
        let field = "use tonic::Streaming;\nstruct W { s: Option<Streaming<M>> }";
        assert_eq!(uses(field).held, Some(field.find("Option").unwrap()));
        assert!(uses(field).named);
        let param = "fn new(s: tonic::codec::Streaming<M>) {}";
        assert!(uses(param).held.is_some());
        let renamed = "mod a { use tonic::{Streaming as S}; pub struct W(S<M>); }";
        assert!(uses(renamed).held.is_some());
        // An alias holds nothing; a field of its type does.
        let alias = "pub type Events = tonic::Streaming<M>;\nstruct W { e: Events }";
        let f = syn::parse_file(alias).unwrap();
        let aliases: HashSet<String> = stream_aliases(&f).into_iter().collect();
        assert_eq!(aliases, HashSet::from(["Events".to_string()]));
        assert_eq!(held_streams(&f, &HashSet::new()).held, None);
        assert!(held_streams(&f, &HashSet::new()).named);
        assert_eq!(held_streams(&f, &aliases).held, alias.rfind("Events"));
        // A return type names it without holding it.
        let ret = "async fn f() -> Result<tonic::Streaming<M>, E> { loop {} }";
        assert_eq!(
            uses(ret),
            StreamUses {
                held: None,
                named: true
            }
        );
        // Another crate's `Streaming`, or the name without tonic's import, is not tonic's.
        let other =
            "use futures::Streaming;\nstruct W { s: Streaming<M>, t: grpcio::Streaming<M> }";
        assert_eq!(uses(other), StreamUses::default());
    }
}
