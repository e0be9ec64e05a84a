//! tonic codegen in `build.rs`: recognition, and the step 1 rewrite of each call.
//!
//! [`scan_build_rs`] parses a `build.rs` with syn and finds every tonic codegen call of tonic
//! 0.12, 0.13 (`tonic_build`, prost integration) and 0.14 (`tonic_prost_build`):
//! `compile_protos(path)`, `configure()…compile / compile_protos / compile_with_config /
//! compile_protos_with_config / compile_fds[_with_config]`, reached through full paths, `use`
//! imports (`use tonic_build::configure;`, groups, renames, globs), crate aliases
//! (`use tonic_prost_build as tb;`) and builder variables (`let b = configure(); b.compile(..)`,
//! `b = b.out_dir(..);`). Each call records its statement's byte range, its options with their
//! arguments' source text and byte ranges, and its `.proto` files and include directories,
//! resolved to paths when they are literals (directly, through a `const`/`static`/`let`, an
//! array, `vec![]`, `PathBuf::from`, `concat!` of literals and `env!("CARGO_MANIFEST_DIR")`)
//! and reported as [`PathValue::Unresolved`] otherwise.
//!
//! [`plan_step1_build_rs`] turns one call into its step 1 replacement (tonic's stubs on the buffa
//! messages through `extern_path` per package and `codec_path`: README, "Step 1 in practice"):
//!
//! Before:
//! ```text
//! tonic_build::configure()
//!     .build_client(false)
//!     .type_attribute(".", "#[derive(Eq)]")
//!     .compile_protos(&["proto/greet.proto"], &["proto"])?;
//! ```
//! After:
//! ```text
//! let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
//! connectrpc_build::Config::new()
//!     .buffa_config({ let mut config = …; config.type_attributes.push((…)); config })
//!     .files(&["proto/greet.proto"])
//!     .includes(&["proto"])
//!     .out_dir(out_dir.join("connect"))
//!     .include_file("_connectrpc.rs")
//!     .compile()?;
//! std::fs::create_dir_all(out_dir.join("tonic"))?;
//! tonic_prost_build::configure()
//!     .build_client(false)
//!     .out_dir(out_dir.join("tonic"))
//!     .extern_path(".greet.v1", "crate::connect::greet::v1")
//!     .codec_path("connect_shim::codec::BuffaCodec")
//!     .compile_protos(&["proto/greet.proto"], &["proto"])?;
//! ```
//!
//! Options are classified by [`classify_option`]: kept on tonic (`build_client`, `out_dir`,
//! `include_file`, ...), kept and mirrored on connectrpc-build (`file_descriptor_set_path` →
//! `emit_descriptor_set`, `emit_rerun_if_changed` → `emit_rerun_directives`), moved to buffa's
//! `CodeGenConfig` (`type_attribute` & co, `bytes`, `btree_map`, `boxed`), replaced by step 1's
//! own value (`codec_path`, `compile_well_known_types`), or dropped and reported (`skip_debug`,
//! serde derives, a WKT `extern_path`). Multi-line arguments are re-indented to where they land.
//!
//! The replacement was checked end to end: a crate whose `build.rs` is the output of this module
//! for a tonic 0.13 builder (descriptor set, attributes, `bytes`, three packages, WKTs, the odd
//! names of `tests/schema-data/names`) builds with connectrpc-build 0.9 and tonic-prost-build 0.14, and
//! its tonic stubs compile against the buffa types through `connect_shim::codec::BuffaCodec`.
//!
//! [`find_proto_includes`] finds, in any source file, the module-side macros that name tonic's
//! output: `tonic::include_proto!("pkg")`, `include!(concat!(env!("OUT_DIR"), "/pkg.rs"))`,
//! `tonic::include_file_descriptor_set!("x")` and `include_bytes!(concat!(env!("OUT_DIR"), ..))`.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use serde::Serialize;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Lit, Stmt, Token};

use crate::schema::{Schema, BUFFA_TYPES_WKT_PATH, WKT_PACKAGE};

/// A byte range in the scanned source.
pub type ByteRange = Range<usize>;

fn range(span: Span) -> ByteRange {
    span.byte_range()
}

fn src_of<'a>(src: &'a str, r: &ByteRange) -> &'a str {
    src.get(r.clone()).unwrap_or("")
}

/// Which tonic codegen API a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Generation {
    /// `tonic_build` with its prost integration: tonic 0.12 and 0.13.
    TonicBuild,
    /// `tonic_prost_build`: tonic 0.14.
    TonicProstBuild,
}

impl Generation {
    pub fn crate_name(self) -> &'static str {
        match self {
            Generation::TonicBuild => "tonic_build",
            Generation::TonicProstBuild => "tonic_prost_build",
        }
    }
}

/// The call that runs the generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Entry {
    /// Free function `compile_protos(path)`: include directory = the file's parent.
    CompileProtosFn,
    /// Free function `compile_fds(fds)`.
    CompileFdsFn,
    /// `Builder::compile(protos, includes)` (0.12 only).
    Compile,
    /// `Builder::compile_protos(protos, includes)`.
    CompileProtos,
    /// `Builder::compile_with_config(config, protos, includes)` (0.12 deprecated alias, 0.14).
    CompileWithConfig,
    /// `Builder::compile_protos_with_config(config, protos, includes)` (0.12, 0.13).
    CompileProtosWithConfig,
    /// `Builder::compile_fds(fds)`.
    CompileFds,
    /// `Builder::compile_fds_with_config(config, fds)` (0.12, 0.13) /
    /// `compile_fds_with_config(fds, config)` (0.14).
    CompileFdsWithConfig,
}

impl Entry {
    fn from_method(name: &str) -> Option<Entry> {
        Some(match name {
            "compile" => Entry::Compile,
            "compile_protos" => Entry::CompileProtos,
            "compile_with_config" => Entry::CompileWithConfig,
            "compile_protos_with_config" => Entry::CompileProtosWithConfig,
            "compile_fds" => Entry::CompileFds,
            "compile_fds_with_config" => Entry::CompileFdsWithConfig,
            _ => return None,
        })
    }
    fn is_fds(self) -> bool {
        matches!(
            self,
            Entry::CompileFds | Entry::CompileFdsFn | Entry::CompileFdsWithConfig
        )
    }
}

/// A path argument's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PathValue {
    /// A literal (possibly through a const, `PathBuf::from`, `concat!`), and the path it names,
    /// relative paths resolved against the crate directory.
    Resolved { literal: String, path: PathBuf },
    /// Computed at build time; why it cannot be known statically.
    Unresolved(String),
}

/// One `.proto` file or include directory argument.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathArg {
    /// Source text of the element (empty when implied, as the include directory of the free
    /// `compile_protos`).
    pub source: String,
    pub range: ByteRange,
    pub value: PathValue,
}

impl PathArg {
    pub fn literal(&self) -> Option<&str> {
        match &self.value {
            PathValue::Resolved { literal, .. } => Some(literal),
            PathValue::Unresolved(_) => None,
        }
    }
    pub fn path(&self) -> Option<&Path> {
        match &self.value {
            PathValue::Resolved { path, .. } => Some(path),
            PathValue::Unresolved(_) => None,
        }
    }
}

/// The list argument (`&["a.proto", "b.proto"]`, `PROTOS`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathList {
    /// Source text of the whole argument (as written at the call).
    pub source: String,
    pub range: ByteRange,
    /// Leading whitespace of the line the argument starts on.
    pub base_indent: String,
    pub items: Vec<PathArg>,
    /// Set when the list itself cannot be enumerated (a function call, a loop variable, ...).
    pub unresolved: Option<String>,
}

impl PathList {
    /// All paths, when every element resolved.
    pub fn resolved_paths(&self) -> Option<Vec<PathBuf>> {
        if self.unresolved.is_some() {
            return None;
        }
        self.items
            .iter()
            .map(|i| i.path().map(Path::to_path_buf))
            .collect()
    }
}

/// An argument of an option, as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionArg {
    pub source: String,
    pub range: ByteRange,
    /// Leading whitespace of the line the argument starts on (to re-indent multi-line
    /// arguments where they land).
    pub base_indent: String,
}

/// What step 1 does with a builder option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OptionClass {
    /// Stays on the tonic builder, unchanged.
    KeepOnTonic,
    /// Stays on the tonic builder, and connectrpc-build gets the named equivalent too.
    KeepOnTonicAndConnect(String),
    /// prost message option: moves to the named buffa `CodeGenConfig` field / connectrpc-build
    /// method, and leaves the tonic builder.
    MovesToBuffa(String),
    /// Step 1 writes its own value for this option (`codec_path`, `compile_well_known_types`);
    /// the original is dropped. The text says what replaces it.
    Replaced(String),
    /// Dropped from the generated code and listed for the user, with why.
    Reported(String),
}

/// A builder option call (`.build_server(false)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodegenOption {
    pub name: String,
    pub args: Vec<OptionArg>,
    /// From the method name to the closing parenthesis.
    pub range: ByteRange,
    pub class: OptionClass,
    /// A caveat to show even when the option is kept.
    pub note: Option<String>,
    /// `//` comments on the lines between the previous call of the chain and this one; the
    /// rewrite puts them back above the option wherever it lands.
    pub comments: Vec<String>,
    /// A `//` comment after the option on its line (`.build_server(true) // why`).
    pub trailing_comment: Option<String>,
}

/// How the call's result is handled, from the source text after the entry call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EndingKind {
    /// `?`
    Try,
    /// `.unwrap()`
    Unwrap,
    /// `.expect(..)`
    Expect,
    /// Nothing: a tail expression, `let _ = ..`, or a discarded result.
    None,
    /// Anything else (`.map_err(..)?`, `.unwrap_or_else(..)`): kept verbatim on the tonic call.
    Other,
}

/// The enclosing function's return type, as far as syntax tells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FnReturn {
    Unit,
    /// `std::io::Result<..>` / `io::Result<..>`: `?` on connectrpc-build's `anyhow::Result`
    /// needs `.map_err(std::io::Error::other)`.
    IoResult,
    /// Any other type (`Result<(), Box<dyn Error>>`, `anyhow::Result<()>`), as written.
    Other(String),
    /// Inside a closure or unknown.
    Unknown,
}

/// One tonic codegen call in `build.rs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodegenCall {
    /// The statement holding the call, `;` included when present. This is what the step 1
    /// replacement text replaces.
    pub stmt_range: ByteRange,
    /// Source text of `stmt_range`.
    pub stmt_source: String,
    /// The call expression with its ending (`?`, `.unwrap()`), without `let … =` and `;`.
    pub expr_range: ByteRange,
    /// Source before the expression inside the statement (`let _ = `), usually empty.
    pub stmt_prefix: String,
    pub has_semi: bool,
    /// Leading whitespace of the statement's line.
    pub indent: String,
    pub generation: Generation,
    /// The crate path as written (`tonic_build`, `::tonic_prost_build`, `tb`), or the imported
    /// function name when called bare (`configure`).
    pub crate_path: String,
    pub entry: Entry,
    pub entry_range: ByteRange,
    pub protos: PathList,
    pub includes: PathList,
    /// The `prost_build::Config` argument of the `*_with_config` entries.
    pub config_arg: Option<OptionArg>,
    /// The descriptor set argument of the `compile_fds*` entries.
    pub fds_arg: Option<OptionArg>,
    pub options: Vec<CodegenOption>,
    /// `//` comments written just before the entry call (`.compile_protos(..)`).
    pub entry_comments: Vec<String>,
    /// Source text after the entry call inside the expression (`?`, `.unwrap()`), leading
    /// whitespace removed.
    pub ending: String,
    /// The ending started on a new line (`.compile(..)\n    .unwrap()`).
    pub ending_newline: bool,
    pub ending_kind: EndingKind,
    /// The builder variable, when the chain starts from one.
    pub builder_var: Option<String>,
    /// Statements that built the builder variable (`let b = configure()…;`,
    /// `b = b.out_dir(..);`); step 1 deletes them when it replaces `stmt_range`.
    pub setup_stmts: Vec<ByteRange>,
    pub fn_return: FnReturn,
    /// The call already runs tonic on buffa messages (its `codec_path` names a `BuffaCodec`, or
    /// an `extern_path` points at `buffa_types`): step 1 was applied, nothing to do.
    pub already_step1: bool,
    /// The `OUT_DIR` path variable the rewrite uses: an existing local
    /// (`let out_dir = PathBuf::from(env::var("OUT_DIR")?);`) when one is in scope
    /// (`out_dir_is_existing`), else an identifier free in the file that step 1 introduces.
    pub out_dir_ident: String,
    pub out_dir_is_existing: bool,
    /// The file name given to `file_descriptor_set_path`, when it is a literal (directly or
    /// through a local `let`): `greeter_descriptor.bin`.
    pub descriptor_set_file: Option<String>,
}

impl CodegenCall {
    pub fn option(&self, name: &str) -> Option<&CodegenOption> {
        self.options.iter().find(|o| o.name == name)
    }

    /// The ranges to delete with the rewrite: each of [`CodegenCall::setup_stmts`], widened to
    /// its whole line(s) (indentation and newline) when nothing else shares them. Sorted,
    /// disjoint.
    pub fn setup_removals(&self, src: &str) -> Vec<ByteRange> {
        let mut out: Vec<ByteRange> = self
            .setup_stmts
            .iter()
            .map(|r| {
                let line_start = src[..r.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
                let line_end = src[r.end..]
                    .find('\n')
                    .map(|i| r.end + i + 1)
                    .unwrap_or(src.len());
                let alone = src[line_start..r.start].trim().is_empty()
                    && src[r.end..line_end].trim().is_empty();
                if alone {
                    line_start..line_end
                } else {
                    r.clone()
                }
            })
            .collect();
        out.sort_by_key(|r| r.start);
        out.dedup();
        out
    }

    /// The arguments for [`Schema::load`]: `(files, includes)`, or why they are unknown.
    ///
    /// Like protoc, tonic accepts a file either as a path (relative to the crate directory) or
    /// as a name relative to an include directory; a file missing on disk under the crate
    /// directory is passed as that relative name, which `Schema::load` resolves against the
    /// includes.
    pub fn schema_inputs(&self) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
        let unresolved = |l: &PathList| {
            l.unresolved.clone().or_else(|| {
                l.items.iter().find_map(|i| match &i.value {
                    PathValue::Unresolved(why) => Some(format!("`{}`: {why}", i.source)),
                    PathValue::Resolved { .. } => None,
                })
            })
        };
        if let Some(why) = unresolved(&self.protos).or_else(|| unresolved(&self.includes)) {
            return Err(why);
        }
        let includes: Vec<PathBuf> = self
            .includes
            .items
            .iter()
            .filter_map(|i| i.path().map(Path::to_path_buf))
            .collect();
        let files = self
            .protos
            .items
            .iter()
            .filter_map(|i| match &i.value {
                PathValue::Resolved { literal, path } if !path.exists() => {
                    Some(PathBuf::from(literal))
                }
                PathValue::Resolved { path, .. } => Some(path.clone()),
                PathValue::Unresolved(_) => None,
            })
            .collect();
        Ok((files, includes))
    }
}

/// A `use` item naming `tonic_build` or `tonic_prost_build`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TonicImport {
    pub range: ByteRange,
    pub source: String,
    pub generation: Generation,
}

/// tonic codegen found where the tool cannot rewrite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unrecognised {
    pub range: ByteRange,
    pub source: String,
    pub reason: String,
}

/// Everything [`scan_build_rs`] finds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildRsScan {
    pub calls: Vec<CodegenCall>,
    pub imports: Vec<TonicImport>,
    pub unrecognised: Vec<Unrecognised>,
}

/// Finds the tonic codegen calls of a `build.rs` (see [`scan_build_rs`]).
pub fn find_codegen_calls(src: &str, crate_dir: &Path) -> syn::Result<Vec<CodegenCall>> {
    Ok(scan_build_rs(src, crate_dir)?.calls)
}

/// Scans a `build.rs` source. `crate_dir` resolves relative paths (cargo runs build scripts in
/// the package directory).
pub fn scan_build_rs(src: &str, crate_dir: &Path) -> syn::Result<BuildRsScan> {
    let file = syn::parse_file(src)?;
    let mut names = Names::default();
    names.collect(&file, src);
    let mut scanner = Scanner {
        src,
        crate_dir,
        names: &names,
        scan: BuildRsScan::default(),
        fn_return: vec![],
        envs: vec![],
        consumed: HashSet::new(),
        out_dir_ident: free_ident(src, &["out_dir", "cargo_out_dir", "connect_out_dir"]),
    };
    scanner.scan.imports = names.imports.clone();
    scanner.visit_file(&file);
    // Roots never consumed by a recognised statement.
    let mut roots = RootFinder {
        names: &names,
        found: vec![],
    };
    roots.visit_file(&file);
    for (r, what) in roots.found {
        if !scanner.consumed.contains(&r.start) {
            scanner.scan.unrecognised.push(Unrecognised {
                source: src_of(src, &r).to_string(),
                range: r,
                reason: format!(
                    "`{what}` is used in a form step 1 does not rewrite (only statements \
                     `[let _ =] <chain>[?|.unwrap()|.expect(..)];` and builder variables are); \
                     migrate this call by hand"
                ),
            });
        }
    }
    scanner.scan.calls.sort_by_key(|c| c.stmt_range.start);
    scanner.scan.unrecognised.sort_by_key(|u| u.range.start);
    Ok(scanner.scan)
}

fn free_ident(src: &str, candidates: &[&str]) -> String {
    for c in candidates {
        let taken = src.match_indices(c).any(|(i, _)| {
            let before = src[..i].chars().next_back();
            let after = src[i + c.len()..].chars().next();
            let is_id = |ch: Option<char>| ch.is_some_and(|ch| ch.is_alphanumeric() || ch == '_');
            // `.out_dir(` is a method, not a binding.
            let method = src[..i].trim_end().ends_with('.');
            !is_id(before) && !is_id(after) && !method
        });
        if !taken {
            return c.to_string();
        }
    }
    format!("{}_{}", candidates[0], src.len())
}

// ---------------------------------------------------------------------------------------------
// Name resolution

/// What a local name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolved {
    Crate(Generation),
    /// A function of the crate (`configure`, `compile_protos`, `compile_fds`).
    Func(Generation, FnKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FnKind {
    Configure,
    CompileProtos,
    CompileFds,
}

fn fn_kind(name: &str) -> Option<FnKind> {
    Some(match name {
        "configure" => FnKind::Configure,
        "compile_protos" => FnKind::CompileProtos,
        "compile_fds" => FnKind::CompileFds,
        _ => return None,
    })
}

fn crate_gen(name: &str) -> Option<Generation> {
    match name {
        "tonic_build" => Some(Generation::TonicBuild),
        "tonic_prost_build" => Some(Generation::TonicProstBuild),
        _ => None,
    }
}

#[derive(Default)]
struct Names {
    /// Local name → what it resolves to (crate aliases, imported functions).
    local: HashMap<String, Resolved>,
    /// Crates glob-imported (`use tonic_build::*;`).
    globs: Vec<Generation>,
    imports: Vec<TonicImport>,
    /// `const`/`static` items by name: their value expressions.
    consts: HashMap<String, Expr>,
    /// Local names of `prost_build::Config` / `tonic_prost_build::Config`.
    prost_configs: HashSet<String>,
}

impl Names {
    fn collect(&mut self, file: &syn::File, src: &str) {
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
    fn resolve_fn(&self, path: &syn::Path) -> Option<(Generation, FnKind, String)> {
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
struct RootFinder<'n> {
    names: &'n Names,
    found: Vec<(ByteRange, String)>,
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

// ---------------------------------------------------------------------------------------------
// Statement scanning

/// Names visible at a point of a function body.
#[derive(Debug, Clone, Default)]
struct Env {
    /// Builders under construction, by variable.
    vars: HashMap<String, BuilderVar>,
    /// `let` initialisers, for resolving path arguments.
    lets: HashMap<String, Expr>,
    /// `prost_build::Config` values set up by statements (`config.bytes(["."]);`).
    configs: HashMap<String, BuilderVar>,
}

/// A builder under construction in a variable.
#[derive(Debug, Clone)]
struct BuilderVar {
    generation: Generation,
    crate_path: String,
    root_start: usize,
    options: Vec<CodegenOption>,
    setup: Vec<ByteRange>,
}

struct Scanner<'a> {
    src: &'a str,
    crate_dir: &'a Path,
    names: &'a Names,
    scan: BuildRsScan,
    fn_return: Vec<FnReturn>,
    /// Scopes: a block sees its enclosing blocks' names, a nested `fn` does not.
    envs: Vec<Env>,
    /// Start offsets of root calls consumed by a recognised call or builder variable.
    consumed: HashSet<usize>,
    out_dir_ident: String,
}

/// A method chain split into its root and calls.
struct Chain<'e> {
    root: ChainRoot<'e>,
    /// `(method, args, range of method..close paren)`, in call order.
    calls: Vec<(&'e syn::ExprMethodCall, ByteRange)>,
}

enum ChainRoot<'e> {
    Call(&'e syn::ExprCall, Generation, FnKind, String),
    Var(String),
    Other,
}

fn split_chain<'e>(e: &'e Expr, names: &Names) -> Chain<'e> {
    let mut calls = vec![];
    let mut cur = e;
    loop {
        match cur {
            Expr::MethodCall(m) => {
                let start = range(m.method.span()).start;
                let end = range(m.span()).end;
                calls.push((m, start..end));
                cur = &m.receiver;
            }
            Expr::Paren(p) => cur = &p.expr,
            _ => break,
        }
    }
    calls.reverse();
    let root = match cur {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => match names.resolve_fn(&p.path) {
                Some((g, k, path)) => ChainRoot::Call(c, g, k, path),
                None => ChainRoot::Other,
            },
            _ => ChainRoot::Other,
        },
        Expr::Path(p) if p.path.segments.len() == 1 && p.path.leading_colon.is_none() => {
            ChainRoot::Var(p.path.segments[0].ident.to_string())
        }
        _ => ChainRoot::Other,
    };
    Chain { root, calls }
}

const BUILDER_ENTRY: &[&str] = &[
    "compile",
    "compile_protos",
    "compile_with_config",
    "compile_protos_with_config",
    "compile_fds",
    "compile_fds_with_config",
];

impl<'a> Scanner<'a> {
    fn text(&self, r: &ByteRange) -> String {
        src_of(self.src, r).to_string()
    }

    fn current_return(&self) -> FnReturn {
        self.fn_return.last().cloned().unwrap_or(FnReturn::Unknown)
    }

    /// Scans one statement of a block, with the builder variables and `let` values visible at
    /// that point (`env`, updated in place).
    fn scan_stmt(&mut self, stmt: &Stmt, env: &mut Env) {
        {
            let stmt_r = range(stmt.span());
            match stmt {
                Stmt::Local(local) => {
                    let name = match &local.pat {
                        syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                        syn::Pat::Type(pt) => match &*pt.pat {
                            syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                            _ => None,
                        },
                        _ => None,
                    };
                    let Some(init) = &local.init else { return };
                    if init.diverge.is_none() {
                        // A builder being set up?
                        if let Some(name) = &name {
                            if let Some(b) =
                                self.builder_from(&init.expr, &env.vars, stmt_r.clone())
                            {
                                env.vars.insert(name.clone(), b);
                                return;
                            }
                            if let Some(c) = self.prost_config_from(&init.expr, stmt_r.clone()) {
                                env.configs.insert(name.clone(), c);
                                return;
                            }
                            env.configs.remove(name);
                            env.lets.insert(name.clone(), (*init.expr).clone());
                        }
                    }
                    // `let _ = <codegen>;` / `let r = <codegen>;`
                    let expr_r = range(init.expr.span());
                    if !self.try_call(&init.expr, stmt_r, expr_r, true, env) {
                        taint_configs(env, stmt);
                    }
                }
                Stmt::Expr(e, semi) => {
                    // `config.option(..);` on a prost_build::Config variable.
                    if semi.is_some() {
                        let chain = split_chain(e, self.names);
                        if let ChainRoot::Var(v) = &chain.root {
                            if !chain.calls.is_empty() {
                                if let Some(mut c) = env.configs.remove(v) {
                                    for (m, r) in &chain.calls {
                                        c.options.push(self.option(m, r.clone()));
                                    }
                                    c.setup.push(stmt_r);
                                    env.configs.insert(v.clone(), c);
                                    return;
                                }
                            }
                        }
                    }
                    if let Expr::Assign(a) = e {
                        // `b = b.option(..);`
                        if let Expr::Path(p) = &*a.left {
                            if let Some(id) = p.path.get_ident() {
                                let name = id.to_string();
                                if env.vars.contains_key(&name) {
                                    if let Some(b) =
                                        self.builder_from(&a.right, &env.vars, stmt_r.clone())
                                    {
                                        env.vars.insert(name, b);
                                        return;
                                    }
                                }
                            }
                        }
                    }
                    let expr_r = range(e.span());
                    if !self.try_call(e, stmt_r, expr_r, semi.is_some(), env) {
                        taint_configs(env, stmt);
                    }
                }
                _ => taint_configs(env, stmt),
            }
        }
        // Builders that never reach an entry call stay unconsumed, so their roots are reported.
    }

    /// `prost_build::Config::new()` / `tonic_prost_build::Config::new()` (or `Config::new()`
    /// imported from either), the start of a config variable.
    fn prost_config_from(&self, e: &Expr, stmt_r: ByteRange) -> Option<BuilderVar> {
        let Expr::Call(c) = e else { return None };
        let Expr::Path(p) = &*c.func else { return None };
        if !c.args.is_empty() {
            return None;
        }
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let ok = match segs.as_slice() {
            [krate, cfg, ctor] => {
                matches!(krate.as_str(), "prost_build" | "tonic_prost_build")
                    && cfg == "Config"
                    && matches!(ctor.as_str(), "new" | "default")
            }
            [cfg, ctor] => {
                self.names.prost_configs.contains(cfg) && matches!(ctor.as_str(), "new" | "default")
            }
            _ => false,
        };
        ok.then(|| BuilderVar {
            generation: Generation::TonicBuild,
            crate_path: String::new(),
            root_start: range(c.span()).start,
            options: vec![],
            setup: vec![stmt_r],
        })
    }

    /// A builder expression without an entry call: `configure()…` or `<var>.option(..)`.
    fn builder_from(
        &mut self,
        e: &Expr,
        vars: &HashMap<String, BuilderVar>,
        stmt_r: ByteRange,
    ) -> Option<BuilderVar> {
        let chain = split_chain(e, self.names);
        if chain
            .calls
            .iter()
            .any(|(m, _)| BUILDER_ENTRY.contains(&m.method.to_string().as_str()))
        {
            return None;
        }
        let mut b = match chain.root {
            ChainRoot::Call(c, g, FnKind::Configure, ref path) => BuilderVar {
                generation: g,
                crate_path: path.clone(),
                root_start: range(c.span()).start,
                options: vec![],
                setup: vec![],
            },
            ChainRoot::Var(ref v) => vars.get(v)?.clone(),
            _ => return None,
        };
        for (m, r) in &chain.calls {
            b.options.push(self.option(m, r.clone()));
        }
        b.setup.push(stmt_r);
        Some(b)
    }

    fn option(&self, m: &syn::ExprMethodCall, r: ByteRange) -> CodegenOption {
        let name = m.method.to_string();
        let args: Vec<OptionArg> = m
            .args
            .iter()
            .map(|a| {
                let r = range(a.span());
                OptionArg {
                    source: self.text(&r),
                    base_indent: line_indent(self.src, r.start),
                    range: r,
                }
            })
            .collect();
        let (class, note) = classify_option(&name, &args);
        let comments = self.comments_between(range(m.receiver.span()).end, r.start);
        let rest_of_line = &self.src[r.end..];
        let line = &rest_of_line[..rest_of_line.find('\n').unwrap_or(rest_of_line.len())];
        // Only a comment right after the call (`// ..` or `?; // ..`), not `//` in a later
        // call's string literal on the same line.
        let trailing_comment = line
            .find("//")
            .filter(|&i| {
                line[..i]
                    .chars()
                    .all(|c| c.is_whitespace() || "?;,)".contains(c))
            })
            .map(|i| line[i..].trim_end().to_string());
        CodegenOption {
            name,
            args,
            range: r,
            class,
            note,
            comments,
            trailing_comment,
        }
    }

    /// The `//` comments on the lines between two offsets of a method chain; a comment on the
    /// first line trails the previous element and is not included.
    fn comments_between(&self, from: usize, to: usize) -> Vec<String> {
        if from >= to {
            return vec![];
        }
        src_of(self.src, &(from..to))
            .lines()
            .skip(1)
            .filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_string()))
            .collect()
    }

    fn try_call(
        &mut self,
        e: &Expr,
        stmt_r: ByteRange,
        expr_r: ByteRange,
        has_semi: bool,
        env: &Env,
    ) -> bool {
        let (vars, lets) = (&env.vars, &env.lets);
        // Peel the ending: `?`, `.unwrap()`, `.expect(..)`, or anything after the entry call.
        let mut core = e;
        while let Expr::Try(t) = core {
            core = &t.expr;
        }
        let chain = split_chain(core, self.names);
        // Index of the entry call in the chain.
        let entry_idx = chain
            .calls
            .iter()
            .position(|(m, _)| BUILDER_ENTRY.contains(&m.method.to_string().as_str()));
        let (
            generation,
            crate_path,
            root_start,
            mut options,
            mut setup,
            builder_var,
            entry,
            entry_call,
        ) = match (&chain.root, entry_idx) {
            (&ChainRoot::Call(c, g, FnKind::CompileProtos, ref path), _)
            | (&ChainRoot::Call(c, g, FnKind::CompileFds, ref path), _) => {
                let k = if matches!(chain.root, ChainRoot::Call(_, _, FnKind::CompileProtos, _)) {
                    Entry::CompileProtosFn
                } else {
                    Entry::CompileFdsFn
                };
                (
                    g,
                    path.clone(),
                    range(c.span()).start,
                    vec![],
                    vec![],
                    None,
                    k,
                    None,
                )
            }
            (&ChainRoot::Call(c, g, FnKind::Configure, ref path), Some(i)) => {
                let opts = chain.calls[..i]
                    .iter()
                    .map(|(m, r)| self.option(m, r.clone()))
                    .collect();
                let m = chain.calls[i].0;
                let entry = Entry::from_method(&m.method.to_string()).expect("entry");
                (
                    g,
                    path.clone(),
                    range(c.span()).start,
                    opts,
                    vec![],
                    None,
                    entry,
                    Some(i),
                )
            }
            (ChainRoot::Var(v), Some(i)) => {
                let Some(b) = vars.get(v.as_str()) else {
                    return false;
                };
                let mut opts = b.options.clone();
                opts.extend(
                    chain.calls[..i]
                        .iter()
                        .map(|(m, r)| self.option(m, r.clone())),
                );
                let m = chain.calls[i].0;
                let entry = Entry::from_method(&m.method.to_string()).expect("entry");
                (
                    b.generation,
                    b.crate_path.clone(),
                    b.root_start,
                    opts,
                    b.setup.clone(),
                    Some(v.clone()),
                    entry,
                    Some(i),
                )
            }
            _ => return false,
        };
        // The entry call and what comes after it.
        let (entry_range, entry_args, after_start): (ByteRange, Vec<&Expr>, usize) =
            match entry_call {
                Some(i) => {
                    let (m, r) = &chain.calls[i];
                    (r.clone(), m.args.iter().collect(), r.end)
                }
                None => {
                    let ChainRoot::Call(c, ..) = &chain.root else {
                        return false;
                    };
                    let r = range(c.span());
                    (r.clone(), c.args.iter().collect(), r.end)
                }
            };
        // Methods after a free `compile_protos(..)` other than the ending are not a builder.
        let trailing: Vec<String> = match entry_call {
            Some(i) => chain.calls[i + 1..]
                .iter()
                .map(|(m, _)| m.method.to_string())
                .collect(),
            None => chain
                .calls
                .iter()
                .map(|(m, _)| m.method.to_string())
                .collect(),
        };
        let entry_comments = match entry_call {
            Some(i) => {
                let (m, r) = &chain.calls[i];
                self.comments_between(range(m.receiver.span()).end, r.start)
            }
            None => vec![],
        };
        let raw_ending = src_of(self.src, &(after_start..expr_r.end));
        let ending = raw_ending.trim_start().to_string();
        let ending_newline = raw_ending[..raw_ending.len() - ending.len()].contains('\n');
        let ending_kind = match (trailing.as_slice(), ending.trim()) {
            ([], "") => EndingKind::None,
            ([], "?") => EndingKind::Try,
            ([m], _) if m == "unwrap" && !ending.trim_end().ends_with('?') => EndingKind::Unwrap,
            ([m], _) if m == "expect" && !ending.trim_end().ends_with('?') => EndingKind::Expect,
            _ => EndingKind::Other,
        };
        self.consumed.insert(root_start);

        let mut config_arg = None;
        let mut fds_arg = None;
        let arg = |e: &Expr| {
            let r = range(e.span());
            OptionArg {
                source: self.text(&r),
                base_indent: line_indent(self.src, r.start),
                range: r,
            }
        };
        let empty = |why: &str| PathList {
            source: String::new(),
            base_indent: String::new(),
            range: entry_range.end..entry_range.end,
            items: vec![],
            unresolved: Some(why.to_string()),
        };
        let (protos, includes) = match entry {
            Entry::CompileProtosFn => match entry_args.first() {
                Some(p) => {
                    let item = self.path_arg(p, lets, 0);
                    let pr = range(p.span());
                    let include = match &item.value {
                        PathValue::Resolved { literal, .. } => {
                            let parent = Path::new(literal)
                                .parent()
                                .map(|p| p.to_string_lossy().into_owned())
                                .unwrap_or_default();
                            PathArg {
                                source: String::new(),
                                range: pr.clone(),
                                value: PathValue::Resolved {
                                    path: self.crate_dir.join(&parent),
                                    literal: parent,
                                },
                            }
                        }
                        PathValue::Unresolved(why) => PathArg {
                            source: String::new(),
                            range: pr.clone(),
                            value: PathValue::Unresolved(format!(
                                "the parent directory of an unresolved path ({why})"
                            )),
                        },
                    };
                    (
                        PathList {
                            source: self.text(&pr),
                            base_indent: String::new(),
                            range: pr.clone(),
                            items: vec![item],
                            unresolved: None,
                        },
                        PathList {
                            source: String::new(),
                            base_indent: String::new(),
                            range: pr,
                            items: vec![include],
                            unresolved: None,
                        },
                    )
                }
                None => (empty("no argument"), empty("no argument")),
            },
            Entry::Compile | Entry::CompileProtos => match entry_args.as_slice() {
                [p, i] => (self.path_list(p, lets), self.path_list(i, lets)),
                _ => (empty("unexpected arguments"), empty("unexpected arguments")),
            },
            Entry::CompileWithConfig | Entry::CompileProtosWithConfig => {
                match entry_args.as_slice() {
                    [c, p, i] => {
                        // A config variable set up by statements is folded into the builder:
                        // its options are classified like the builder's own.
                        let var = match c {
                            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                            _ => None,
                        };
                        match var.and_then(|v| env.configs.get(&v)) {
                            Some(cfg) => {
                                let mut merged = cfg.options.clone();
                                merged.append(&mut options);
                                options = merged;
                                let mut s = cfg.setup.clone();
                                s.append(&mut setup);
                                setup = s;
                                self.consumed.insert(cfg.root_start);
                            }
                            None => config_arg = Some(arg(c)),
                        }
                        (self.path_list(p, lets), self.path_list(i, lets))
                    }
                    _ => (empty("unexpected arguments"), empty("unexpected arguments")),
                }
            }
            Entry::CompileFds | Entry::CompileFdsFn | Entry::CompileFdsWithConfig => {
                let why =
                    "generation from a FileDescriptorSet value: the .proto files are not named";
                match entry_args.as_slice() {
                    [f] => fds_arg = Some(arg(f)),
                    [a, b] => {
                        // 0.12/0.13: (config, fds); 0.14: (fds, config).
                        let (c, f) = match generation {
                            Generation::TonicBuild => (a, b),
                            Generation::TonicProstBuild => (b, a),
                        };
                        config_arg = Some(arg(c));
                        fds_arg = Some(arg(f));
                    }
                    _ => {}
                }
                (empty(why), empty(why))
            }
        };
        for o in options.iter_mut() {
            if o.name == "out_dir" {
                if let Some(a) = o.args.first() {
                    let lit = first_string_literal(&a.source);
                    if lit.is_some_and(|l| !l.contains("OUT_DIR"))
                        && !a.source.contains("OUT_DIR")
                        && !a.source.contains("out_dir")
                    {
                        o.note = Some(
                            "tonic writes into a fixed directory, likely checked-in code: the \
                             buffa messages go to OUT_DIR/connect and the module must include \
                             them from there"
                                .into(),
                        );
                    }
                }
            }
        }
        // An existing `PathBuf` of OUT_DIR in scope is reused rather than shadowed.
        let existing_out = lets.iter().find_map(|(name, e)| {
            let Expr::Call(c) = e else { return None };
            let Expr::Path(p) = &*c.func else { return None };
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let is_pathbuf_from = segs.ends_with(&["PathBuf".to_string(), "from".to_string()]);
            let text = quote::ToTokens::to_token_stream(e)
                .to_string()
                .replace(' ', "");
            (is_pathbuf_from && text.contains("var(\"OUT_DIR\")")).then(|| name.clone())
        });
        let (out_dir_ident, out_dir_is_existing) = match existing_out {
            Some(n) => (n, true),
            None => (self.out_dir_ident.clone(), false),
        };
        let descriptor_set_file = options
            .iter()
            .find(|o| o.name == "file_descriptor_set_path")
            .and_then(|o| o.args.first())
            .and_then(|a| {
                last_string_literal(&a.source).or_else(|| {
                    let name = a.source.trim_start_matches('&').trim();
                    lets.get(name).and_then(|e| {
                        last_string_literal(&quote::ToTokens::to_token_stream(e).to_string())
                    })
                })
            })
            .map(|name| {
                Path::new(&name)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or(name)
            });
        let already_step1 = options.iter().any(|o| {
            (o.name == "codec_path" && o.args.iter().any(|a| a.source.contains("BuffaCodec")))
                || (o.name == "extern_path"
                    && o.args.iter().any(|a| a.source.contains("buffa_types")))
        });
        let prefix_r = stmt_r.start..expr_r.start;
        let indent = line_indent(self.src, stmt_r.start);
        self.scan.calls.push(CodegenCall {
            stmt_prefix: self.text(&prefix_r),
            stmt_source: self.text(&stmt_r),
            stmt_range: stmt_r,
            expr_range: expr_r,
            has_semi,
            indent,
            generation,
            crate_path,
            entry,
            entry_range,
            protos,
            includes,
            config_arg,
            fds_arg,
            options,
            entry_comments,
            ending,
            ending_newline,
            ending_kind,
            builder_var,
            setup_stmts: setup,
            already_step1,
            fn_return: self.current_return(),
            out_dir_ident,
            out_dir_is_existing,
            descriptor_set_file,
        });
        true
    }

    fn path_list(&self, e: &Expr, lets: &HashMap<String, Expr>) -> PathList {
        let r = range(e.span());
        let mut items = vec![];
        let unresolved = self.list_items(e, lets, 0, &mut items).err();
        PathList {
            source: self.text(&r),
            base_indent: line_indent(self.src, r.start),
            range: r,
            items,
            unresolved,
        }
    }

    fn list_items(
        &self,
        e: &Expr,
        lets: &HashMap<String, Expr>,
        depth: usize,
        out: &mut Vec<PathArg>,
    ) -> Result<(), String> {
        if depth > 8 {
            return Err("too many indirections".into());
        }
        match e {
            Expr::Reference(r) => self.list_items(&r.expr, lets, depth + 1, out),
            Expr::Paren(p) => self.list_items(&p.expr, lets, depth + 1, out),
            Expr::Group(g) => self.list_items(&g.expr, lets, depth + 1, out),
            Expr::Array(a) => {
                for el in &a.elems {
                    out.push(self.path_arg(el, lets, depth + 1));
                }
                Ok(())
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let elems = m
                    .mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .map_err(|_| "vec![..] with a repeat expression".to_string())?;
                for el in &elems {
                    out.push(self.path_arg(el, lets, depth + 1));
                }
                Ok(())
            }
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident().expect("ident").to_string();
                match lets.get(&name).or_else(|| self.names.consts.get(&name)) {
                    Some(def) => self.list_items(def, lets, depth + 1, out),
                    None => Err(format!("`{name}` is not a literal list in this file")),
                }
            }
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "as_ref" | "as_slice" | "to_vec"
                ) =>
            {
                self.list_items(&m.receiver, lets, depth + 1, out)
            }
            other => Err(format!(
                "`{}` is computed at build time",
                self.text(&range(other.span()))
            )),
        }
    }

    fn path_arg(&self, e: &Expr, lets: &HashMap<String, Expr>, depth: usize) -> PathArg {
        let r = range(e.span());
        let value = match self.path_value(e, lets, depth) {
            Ok(lit) => PathValue::Resolved {
                path: if Path::new(&lit).is_absolute() {
                    PathBuf::from(&lit)
                } else {
                    self.crate_dir.join(&lit)
                },
                literal: lit,
            },
            Err(why) => PathValue::Unresolved(why),
        };
        PathArg {
            source: self.text(&r),
            range: r,
            value,
        }
    }

    fn path_value(
        &self,
        e: &Expr,
        lets: &HashMap<String, Expr>,
        depth: usize,
    ) -> Result<String, String> {
        if depth > 8 {
            return Err("too many indirections".into());
        }
        let computed = |e: &Expr| {
            format!(
                "`{}` is computed at build time",
                self.text(&range(e.span()))
            )
        };
        match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(s.value()),
            Expr::Reference(r) => self.path_value(&r.expr, lets, depth + 1),
            Expr::Paren(p) => self.path_value(&p.expr, lets, depth + 1),
            Expr::Group(g) => self.path_value(&g.expr, lets, depth + 1),
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else {
                    return Err(computed(e));
                };
                let segs: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let tail: Vec<&str> = segs.iter().rev().take(2).map(String::as_str).collect();
                match (tail.as_slice(), c.args.len()) {
                    (
                        ["from", "PathBuf"]
                        | ["new", "Path"]
                        | ["from", "String"]
                        | ["new", "PathBuf"],
                        1,
                    ) => self.path_value(&c.args[0], lets, depth + 1),
                    _ => Err(computed(e)),
                }
            }
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "to_string" | "to_owned" | "into" | "as_ref" | "to_path_buf"
                    ) =>
            {
                self.path_value(&m.receiver, lets, depth + 1)
            }
            Expr::Macro(m) => {
                let name = m.mac.path.segments.last().map(|s| s.ident.to_string());
                match name.as_deref() {
                    Some("concat") => self.concat(&m.mac),
                    Some("format") => Err(format!(
                        "`{}` is formatted at build time",
                        self.text(&range(e.span()))
                    )),
                    _ => Err(computed(e)),
                }
            }
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident().expect("ident").to_string();
                match lets.get(&name).or_else(|| self.names.consts.get(&name)) {
                    Some(def) => self.path_value(def, lets, depth + 1),
                    None => Err(format!("`{name}` is not a literal in this file")),
                }
            }
            _ => Err(computed(e)),
        }
    }

    /// `concat!` of string literals and `env!("CARGO_MANIFEST_DIR")`.
    fn concat(&self, mac: &syn::Macro) -> Result<String, String> {
        let parts = mac
            .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
            .map_err(|_| "concat! with unparsable arguments".to_string())?;
        let mut out = String::new();
        for p in &parts {
            match p {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => out.push_str(&s.value()),
                Expr::Macro(m) if m.mac.path.is_ident("env") => {
                    let var: syn::LitStr = m
                        .mac
                        .parse_body()
                        .map_err(|_| "env! with a non-literal name".to_string())?;
                    if var.value() == "CARGO_MANIFEST_DIR" {
                        out.push_str(&self.crate_dir.to_string_lossy());
                    } else {
                        return Err(format!(
                            "concat! reads the environment variable {} at compile time",
                            var.value()
                        ));
                    }
                }
                other => {
                    return Err(format!(
                        "concat! with a non-literal part `{}`",
                        self.text(&range(other.span()))
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// A config variable used in a way the scan does not follow (passed to a function, printed,
/// moved) is no longer folded into the builder: its call keeps the config argument.
fn taint_configs(env: &mut Env, stmt: &Stmt) {
    if env.configs.is_empty() {
        return;
    }
    fn idents(ts: TokenStream, out: &mut HashSet<String>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut seen = HashSet::new();
    idents(quote::ToTokens::to_token_stream(stmt), &mut seen);
    env.configs.retain(|name, _| !seen.contains(name));
}

fn line_indent(src: &str, at: usize) -> String {
    let line_start = src[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    src[line_start..at]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect()
}

/// The string literals in a piece of source text, in order (`out.join("x.bin")` → `["x.bin"]`).
fn string_literals(source: &str) -> Vec<String> {
    struct L(Vec<String>);
    impl<'ast> Visit<'ast> for L {
        fn visit_lit_str(&mut self, l: &'ast syn::LitStr) {
            self.0.push(l.value());
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if let Ok(args) = m.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
                for a in &args {
                    self.visit_expr(a);
                }
            }
        }
    }
    let mut l = L(vec![]);
    if let Ok(e) = syn::parse_str::<Expr>(source) {
        l.visit_expr(&e);
    }
    l.0
}

fn first_string_literal(source: &str) -> Option<String> {
    string_literals(source).into_iter().next()
}

fn last_string_literal(source: &str) -> Option<String> {
    string_literals(source).pop()
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.fn_return.push(fn_return(&f.sig.output));
        self.envs.push(Env::default());
        syn::visit::visit_item_fn(self, f);
        self.envs.pop();
        self.fn_return.pop();
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.fn_return.push(fn_return(&f.sig.output));
        self.envs.push(Env::default());
        syn::visit::visit_impl_item_fn(self, f);
        self.envs.pop();
        self.fn_return.pop();
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.fn_return.push(match &c.output {
            syn::ReturnType::Default => FnReturn::Unknown,
            out => fn_return(out),
        });
        syn::visit::visit_expr_closure(self, c);
        self.fn_return.pop();
    }
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let mut env = self.envs.last().cloned().unwrap_or_default();
        for stmt in &b.stmts {
            self.scan_stmt(stmt, &mut env);
            // Nested blocks see the names defined so far.
            self.envs.push(env);
            syn::visit::visit_stmt(self, stmt);
            env = self.envs.pop().unwrap_or_default();
        }
    }
}

fn fn_return(out: &syn::ReturnType) -> FnReturn {
    match out {
        syn::ReturnType::Default => FnReturn::Unit,
        syn::ReturnType::Type(_, ty) => {
            let text = quote::quote!(#ty).to_string().replace(' ', "");
            if text == "()" {
                FnReturn::Unit
            } else if text.starts_with("io::Result<") || text.starts_with("std::io::Result<") {
                FnReturn::IoResult
            } else {
                FnReturn::Other(text)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Option classification

/// A serde derive or any serde attribute (`#[serde(..)]`, `#[serde_with::serde_as]`,
/// `#[serde_as(..)]`): buffa's own proto3-JSON impls replace them.
fn is_serde_derive(attr: &str) -> bool {
    let a = attr.replace(' ', "");
    (a.contains("derive(") && (a.contains("Serialize") || a.contains("Deserialize")))
        || a.contains("serde")
}

/// What step 1 does with a tonic/prost builder option: moved to buffa's config, kept on tonic's
/// builder, dropped, or reported (the `match` below is the reference).
pub fn classify_option(name: &str, args: &[OptionArg]) -> (OptionClass, Option<String>) {
    use OptionClass::*;
    let first = args.first().map(|a| a.source.as_str()).unwrap_or("");
    let second = args.get(1).map(|a| a.source.as_str()).unwrap_or("");
    match name {
        "build_client"
        | "build_server"
        | "build_transport"
        | "server_mod_attribute"
        | "server_attribute"
        | "client_mod_attribute"
        | "client_attribute"
        | "trait_attribute"
        | "use_arc_self"
        | "generate_default_stubs"
        | "proto_path"
        | "emit_package"
        | "disable_package_emission"
        | "include_file"
        | "out_dir" => (KeepOnTonic, None),
        "disable_comments" => (
            KeepOnTonic,
            Some("connectrpc-build has no equivalent: buffa messages keep their comments".into()),
        ),
        "file_descriptor_set_path" => (KeepOnTonicAndConnect("emit_descriptor_set".into()), None),
        "emit_rerun_if_changed" => (KeepOnTonicAndConnect("emit_rerun_directives".into()), None),
        "protoc_arg" => (
            KeepOnTonic,
            Some(
                "connectrpc-build has no protoc_arg: if the flag changes the schema, build the \
                 descriptor set yourself and pass it with `.descriptor_set(..)`"
                    .into(),
            ),
        ),
        "skip_protoc_run" => (
            KeepOnTonic,
            Some(
                "tonic reads a prebuilt descriptor set: give connectrpc-build the same set with \
                 `.descriptor_set(path)` and proto-relative `.files(..)`"
                    .into(),
            ),
        ),
        "extern_path" => {
            let proto = first_string_literal(first).unwrap_or_default();
            if proto == ".google.protobuf" || proto.starts_with(".google.protobuf.") {
                (
                    Reported(format!(
                        "the well-known types are mapped to `{BUFFA_TYPES_WKT_PATH}` by step 1; \
                         the mapping `{first}` → `{second}` is dropped"
                    )),
                    None,
                )
            } else {
                (
                    KeepOnTonic,
                    Some(format!(
                        "`{first}` comes from another crate (`{second}`): that crate must be \
                         migrated first so its messages are buffa types, and buffa needs the \
                         same mapping (`CodeGenConfig::extern_paths`)"
                    )),
                )
            }
        }
        "compile_well_known_types" => (
            Replaced(
                "step 1 sets `compile_well_known_types(true)` when the schema uses WKTs".into(),
            ),
            None,
        ),
        "codec_path" => (
            Replaced("step 1 points tonic at the buffa codec".into()),
            Some(format!(
                "the custom codec `{first}` is replaced by the buffa codec; port its behaviour"
            )),
        ),
        "type_attribute" | "message_attribute" | "enum_attribute" | "field_attribute" => {
            if is_serde_derive(second) {
                (
                    Reported(
                        "buffa messages already derive proto3-JSON serde (`generate_json`); a \
                         second serde derive conflicts, so the attribute is dropped"
                            .into(),
                    ),
                    None,
                )
            } else {
                let field = match name {
                    "type_attribute" => "type_attributes",
                    "message_attribute" => "message_attributes",
                    "enum_attribute" => "enum_attributes",
                    _ => "field_attributes",
                };
                let note = second.contains("Eq").then(|| {
                    "`Eq`/`Hash` derives fail on buffa messages unless \
                         `preserve_unknown_fields = false`"
                        .to_string()
                });
                (MovesToBuffa(field.into()), note)
            }
        }
        "bytes" => (MovesToBuffa("bytes_fields (BytesRepr::Bytes)".into()), None),
        "btree_map" => (MovesToBuffa("map_fields (MapRepr::BTreeMap)".into()), None),
        "boxed" => (
            MovesToBuffa("pointer_fields (PointerRepr::Box)".into()),
            None,
        ),
        "enable_type_names" | "type_name_domain" => (
            Reported(
                "buffa messages always carry `MessageName` consts (`FULL_NAME`, `TYPE_URL`)".into(),
            ),
            None,
        ),
        "retain_enum_prefix" => (
            Reported(
                "buffa enum variants are the proto names verbatim, with prefix-stripped alias \
                 consts"
                    .into(),
            ),
            None,
        ),
        "default_package_filename"
        | "format"
        | "service_generator"
        | "protoc_executable"
        | "include_file_descriptor_set" => (
            Reported(format!(
                "prost_build::Config::{name} has no place after step 1"
            )),
            None,
        ),
        "skip_debug" => (
            Reported("buffa always writes a manual `Debug`; `skip_debug` has no equivalent".into()),
            None,
        ),
        "with_extended_rust_types" => (
            Reported("prost's Rust-type mapping of WKTs does not apply to buffa types".into()),
            None,
        ),
        _ => (
            KeepOnTonic,
            Some(format!(
                "`{name}` is not a known tonic builder option; kept unchanged"
            )),
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Step 1 rewrite

/// Settings of the step 1 rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step1Config {
    /// Rust path of the module holding connectrpc-build's include file (`_connectrpc.rs`).
    pub connect_module: String,
    /// The tonic codec for buffa messages.
    pub codec_path: String,
    /// Sub-directory of `OUT_DIR` for connectrpc-build.
    pub connect_subdir: String,
    /// Sub-directory of `OUT_DIR` for tonic's stubs, unless the call sets its own `out_dir`.
    pub tonic_subdir: String,
    /// connectrpc-build's include file.
    pub include_file: String,
}

impl Default for Step1Config {
    fn default() -> Self {
        Step1Config {
            connect_module: "crate::connect".into(),
            codec_path: "connect_shim::codec::BuffaCodec".into(),
            connect_subdir: "connect".into(),
            tonic_subdir: "tonic".into(),
            include_file: "_connectrpc.rs".into(),
        }
    }
}

/// The step 1 rewrite of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step1BuildRs {
    /// Replacement for [`CodegenCall::stmt_range`]; `None` when the call cannot be rewritten
    /// (see `notes`). The [`CodegenCall::setup_stmts`] are to be deleted with it.
    pub replacement: Option<String>,
    /// Things the user must know or do, one sentence each.
    pub notes: Vec<String>,
    /// Crates the new `build.rs` needs in `[build-dependencies]` (`connectrpc-build`,
    /// `tonic-prost-build`, `buffa-codegen` when a repr option moved).
    pub build_dependencies: Vec<&'static str>,
    /// Crates the generated code needs in `[dependencies]`: `connectrpc`, `buffa`, `serde`
    /// (the generated proto3-JSON impls name `::serde`), `connect-shim` (the codec), `tonic`,
    /// and `buffa-types` when the schema uses well-known types (checked by building the
    /// generated code).
    pub dependencies: Vec<&'static str>,
    /// Where tonic's stubs are written, relative to `OUT_DIR` (`tonic`), or `None` when the call
    /// keeps its own `out_dir`: the module's `include!` must read them from there.
    pub tonic_out_subdir: Option<String>,
}

/// Replacement text for the call's statement (see [`plan_step1_build_rs`]); the original
/// statement text when the call cannot be rewritten.
pub fn generate_step1_build_rs_edit(call: &CodegenCall, schema: &Schema) -> String {
    generate_step1_build_rs_edit_with(call, schema, &Step1Config::default())
}

/// [`generate_step1_build_rs_edit`] with explicit settings. `src` is not needed: the call
/// carries every piece of source text it reuses.
pub fn generate_step1_build_rs_edit_with(
    call: &CodegenCall,
    schema: &Schema,
    cfg: &Step1Config,
) -> String {
    plan_step1_build_rs(call, schema, cfg)
        .replacement
        .unwrap_or_else(|| original_statement(call))
}

fn original_statement(call: &CodegenCall) -> String {
    call.stmt_source.clone()
}

/// Plans the step 1 rewrite of one call: connectrpc-build into `OUT_DIR/<connect>`, then
/// tonic-prost-build with `extern_path` per package (plus exact entries for differently spelled
/// RPC types), WKTs to `buffa-types`, `codec_path` to the buffa codec, and the original options
/// kept, moved to buffa's config, or reported.
pub fn plan_step1_build_rs(call: &CodegenCall, schema: &Schema, cfg: &Step1Config) -> Step1BuildRs {
    let mut notes: Vec<String> = vec![];
    let mut deps: Vec<&'static str> = vec!["connectrpc-build", "tonic-prost-build"];
    let fail = |notes: Vec<String>| Step1BuildRs {
        replacement: None,
        notes,
        build_dependencies: vec![],
        dependencies: vec![],
        tonic_out_subdir: None,
    };
    let mut runtime: Vec<&'static str> =
        vec!["connectrpc", "buffa", "serde", "connect-shim", "tonic"];

    if call.already_step1 {
        notes.push("already on buffa messages (step 1 was applied); left unchanged".into());
        return fail(notes);
    }
    if call.entry.is_fds() {
        notes.push(
            "tonic generates from a FileDescriptorSet value: write it to a file and give \
             connectrpc-build `.descriptor_set(path)` with proto-relative `.files(..)`; \
             this call is not rewritten"
                .into(),
        );
        return fail(notes);
    }
    if let Some(why) = &call.protos.unresolved {
        // A named list we could not enumerate is still usable as source text for both builders.
        if call.protos.source.is_empty() {
            notes.push(format!("the .proto files cannot be determined: {why}"));
            return fail(notes);
        }
    }
    if call.entry == Entry::CompileProtosFn {
        if let Some(PathValue::Unresolved(why)) = call.protos.items.first().map(|i| &i.value) {
            notes.push(format!(
                "`compile_protos({})`: the include directory is the file's parent, which \
                 cannot be determined ({why}); rewrite by hand",
                call.protos.source
            ));
            return fail(notes);
        }
    }
    for list in [&call.protos, &call.includes] {
        if let Some(why) = &list.unresolved {
            notes.push(format!(
                "`{}` is reused as written, but the schema step cannot read it: {why}",
                list.source
            ));
        }
        for i in &list.items {
            if let PathValue::Unresolved(why) = &i.value {
                notes.push(format!(
                    "`{}` cannot be resolved statically: {why}",
                    i.source
                ));
            }
        }
    }

    // Argument texts for both builders; multi-line ones re-indented to the chain's level
    // (relative to the statement: `render` adds the statement's indentation).
    let i1 = "    ";
    let (files_text, includes_text) = match call.entry {
        Entry::CompileProtosFn => {
            let file = call.protos.items[0].literal().unwrap_or_default();
            let inc = call.includes.items[0].literal().unwrap_or_default();
            (format!("&[{file:?}]"), format!("&[{inc:?}]"))
        }
        _ => (
            slice_text(&reindent(&call.protos.source, &call.protos.base_indent, i1)),
            slice_text(&reindent(
                &call.includes.source,
                &call.includes.base_indent,
                i1,
            )),
        ),
    };

    let out = &call.out_dir_ident;
    let mut connect: Vec<String> = vec![];
    let mut tonic: Vec<String> = vec![];
    let mut buffa_cfg: Vec<String> = vec![];

    let mut tonic_out_subdir = Some(cfg.tonic_subdir.clone());
    for o in &call.options {
        let owned: Vec<String> = o
            .args
            .iter()
            .map(|a| reindent(&a.source, &a.base_indent, i1))
            .collect();
        let deep: Vec<String> = o
            .args
            .iter()
            .map(|a| reindent(&a.source, &a.base_indent, &format!("{i1}{i1}")))
            .collect();
        let args: Vec<&str> = owned.iter().map(String::as_str).collect();
        let kept = format!(".{}({})", o.name, args.join(", "));
        let trailing = o
            .trailing_comment
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        if let Some(n) = &o.note {
            notes.push(format!("`.{}(..)`: {n}", o.name));
        }
        // Comments go where the option goes; those of dropped options are listed.
        match &o.class {
            OptionClass::KeepOnTonic | OptionClass::KeepOnTonicAndConnect(_) => {
                tonic.extend(o.comments.iter().cloned())
            }
            OptionClass::MovesToBuffa(_) => {
                buffa_cfg.extend(o.comments.iter().chain(&o.trailing_comment).cloned())
            }
            OptionClass::Replaced(_) | OptionClass::Reported(_) => {
                for c in o.comments.iter().chain(&o.trailing_comment) {
                    notes.push(format!(
                        "the comment `{c}` above `{kept}` is dropped with it"
                    ));
                }
            }
        }
        match &o.class {
            OptionClass::KeepOnTonic => {
                if o.name == "out_dir" {
                    tonic_out_subdir = None;
                }
                tonic.push(format!("{kept}{trailing}"));
            }
            OptionClass::KeepOnTonicAndConnect(what) => {
                tonic.push(format!("{kept}{trailing}"));
                match what.as_str() {
                    "emit_descriptor_set" => {
                        match &call.descriptor_set_file {
                            Some(file) => {
                                connect.push(format!(".emit_descriptor_set({file:?})"));
                            }
                            None => notes.push(format!(
                                "`.file_descriptor_set_path({})`: the file name is not a literal, \
                                 so connectrpc-build emits no descriptor set; add \
                                 `.emit_descriptor_set(\"<name>.bin\")` if the connect side needs one",
                                args.join(", ")
                            )),
                        }
                    }
                    other => connect.push(format!(".{other}({})", args.join(", "))),
                }
            }
            OptionClass::MovesToBuffa(_) => match o.name.as_str() {
                "type_attribute" | "message_attribute" | "enum_attribute" | "field_attribute" => {
                    let field = match o.name.as_str() {
                        "type_attribute" => "type_attributes",
                        "message_attribute" => "message_attributes",
                        "enum_attribute" => "enum_attributes",
                        _ => "field_attributes",
                    };
                    let (p, a) = (
                        deep.first().map(String::as_str).unwrap_or("\".\""),
                        deep.get(1).map(String::as_str).unwrap_or("\"\""),
                    );
                    // prost matches a path without a leading dot as a suffix of the full name;
                    // buffa only matches fully-qualified prefixes, so spell out each match.
                    let suffix = syn::parse_str::<syn::LitStr>(p)
                        .ok()
                        .map(|l| l.value())
                        .filter(|v| !v.starts_with('.'));
                    match suffix {
                        Some(sfx) => {
                            let hits = suffix_matches(schema, &sfx, o.name == "field_attribute");
                            if hits.is_empty() {
                                notes.push(format!(
                                    "`{kept}`: prost matches `{sfx}` as a name suffix and no \
                                     type of the schema ends with it; buffa needs a \
                                     fully-qualified `.package.Type` path"
                                ));
                            }
                            for h in hits {
                                buffa_cfg.push(format!(
                                    "config.{field}.push(({h:?}.into(), {a}.into()));"
                                ));
                            }
                        }
                        None => buffa_cfg
                            .push(format!("config.{field}.push(({p}.into(), {a}.into()));")),
                    }
                }
                "bytes" | "btree_map" | "boxed" => {
                    let (field, repr) = match o.name.as_str() {
                        "bytes" => ("bytes_fields", "buffa_codegen::BytesRepr::Bytes"),
                        "btree_map" => ("map_fields", "buffa_codegen::MapRepr::BTreeMap"),
                        _ => ("pointer_fields", "buffa_codegen::PointerRepr::Box"),
                    };
                    let paths = deep.first().map(String::as_str).unwrap_or("[\".\"]");
                    match literal_strings(paths) {
                        // Literal paths: one entry each, prost's suffix paths spelled out.
                        Some(lits) => {
                            for lit in lits {
                                let full = if lit.starts_with('.') {
                                    vec![lit.clone()]
                                } else {
                                    suffix_matches(schema, &lit, true)
                                };
                                if full.is_empty() {
                                    notes.push(format!(
                                        "`{kept}`: prost matches `{lit}` as a name suffix and no \
                                         field of the schema ends with it"
                                    ));
                                }
                                for f in full {
                                    buffa_cfg
                                        .push(format!("config.{field}.push(({f:?}.into(), {repr}));"));
                                }
                            }
                        }
                        None if o.name == "boxed" => buffa_cfg
                            .push(format!("config.{field}.push(({paths}.to_string(), {repr}));")),
                        None => buffa_cfg.push(format!(
                            "config.{field}.extend(IntoIterator::into_iter({paths}).map(|path| (path.to_string(), {repr})));"
                        )),
                    }
                    if !deps.contains(&"buffa-codegen") {
                        deps.push("buffa-codegen");
                    }
                }
                _ => notes.push(format!("`{kept}` has no automatic buffa translation")),
            },
            OptionClass::Replaced(_) => {}
            OptionClass::Reported(why) => notes.push(format!("`{kept}` is dropped: {why}")),
        }
    }

    // connectrpc-build.
    let mut c = vec!["connectrpc_build::Config::new()".to_string()];
    if !buffa_cfg.is_empty() {
        let mut b = String::from(".buffa_config({\n");
        b.push_str(&format!(
            "{i1}{i1}let mut config = connectrpc_build::CodeGenConfig::default();\n"
        ));
        b.push_str(&format!("{i1}{i1}config.generate_json = true;\n"));
        for l in &buffa_cfg {
            b.push_str(&format!("{i1}{i1}{l}\n"));
        }
        b.push_str(&format!("{i1}{i1}config\n{i1}}})"));
        c.push(b);
    }
    c.push(format!(".files({files_text})"));
    // prost generates the imported packages too (protoc runs with `--include_imports`); buffa
    // generates only the files it is given: name the imported ones (proto-relative, found through
    // the includes), well-known types excepted (buffa-types has them).
    // connectrpc-build strips an include prefix from each file to name it: write each import
    // as `<include>/<name>`, with the include it is found under.
    let imports: Vec<String> = schema
        .files
        .iter()
        .filter(|f| {
            f.is_import && f.package != WKT_PACKAGE && !f.name.starts_with("google/protobuf/")
        })
        .filter_map(|f| {
            call.includes.items.iter().find_map(|inc| match &inc.value {
                PathValue::Resolved { literal, path } if path.join(&f.name).is_file() => {
                    Some(format!(
                        "{:?}",
                        format!("{}/{}", literal.trim_end_matches('/'), f.name)
                    ))
                }
                _ => None,
            })
        })
        .collect();
    if !imports.is_empty() {
        if imports.len() <= 2 {
            c.push(format!(".files(&[{}])", imports.join(", ")));
        } else {
            let mut f = String::from(".files(&[\n");
            for i in &imports {
                f.push_str(&format!("{i1}{i1}{i},\n"));
            }
            f.push_str(&format!("{i1}])"));
            c.push(f);
        }
    }
    c.push(format!(".includes({includes_text})"));
    c.push(format!(".out_dir({out}.join({:?}))", cfg.connect_subdir));
    c.push(format!(".include_file({:?})", cfg.include_file));
    c.extend(connect);
    c.push(".compile()".into());

    // tonic-prost-build.
    let mut t = vec!["tonic_prost_build::configure()".to_string()];
    t.extend(tonic);
    if let Some(sub) = &tonic_out_subdir {
        t.push(format!(".out_dir({out}.join({sub:?}))"));
    }
    let needs_exact: HashSet<&str> = schema
        .packages_needing_exact_paths()
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let pkg_root = |pkg: &str| -> String {
        let mut root = cfg.connect_module.clone();
        if let Some(p) = schema.package(pkg) {
            for s in &p.buffa_module {
                root.push_str("::");
                root.push_str(s);
            }
        }
        root
    };
    // Entries the user already maps (kept on the builder) must not be added twice: prost-build
    // panics on a duplicate extern path.
    let user_externs: HashSet<String> = call
        .options
        .iter()
        .filter(|o| o.name == "extern_path" && o.class == OptionClass::KeepOnTonic)
        .filter_map(|o| o.args.first().and_then(|a| first_string_literal(&a.source)))
        .collect();
    for p in schema.generated_packages() {
        if p.name.is_empty()
            || needs_exact.contains(p.name.as_str())
            || user_externs.contains(&format!(".{}", p.name))
        {
            continue;
        }
        // prost-build snake-cases and keyword-escapes every segment of a prefix entry itself
        // (`type` → `r#type`), and would mangle an `r#` written here (`r#type` → `r_type`).
        let root = pkg_root(&p.name).replace("r#", "");
        t.push(format!(
            ".extern_path({:?}, {root:?})",
            format!(".{}", p.name)
        ));
    }
    let rpc = schema.rpc_types();
    let mut exact: Vec<(String, String)> = vec![];
    for d in schema.name_differences().iter().filter(|d| d.used_by_rpc) {
        exact.push(d.extern_path(&pkg_root(&d.package)));
    }
    for full in &rpc {
        let Some(m) = schema.message(full) else {
            continue;
        };
        if m.package.is_empty() || needs_exact.contains(m.package.as_str()) {
            let mut rust = pkg_root(&m.package);
            for s in &m.buffa_path {
                rust.push_str("::");
                rust.push_str(s);
            }
            let e = (format!(".{}", m.full_name), rust);
            if !exact.contains(&e) {
                exact.push(e);
            }
        }
    }
    exact.sort();
    exact.retain(|(proto, _)| !user_externs.contains(proto));
    for (proto, rust) in &exact {
        t.push(format!(".extern_path({proto:?}, {rust:?})"));
    }
    for p in schema.packages.iter().filter(|p| p.only_imported) {
        if rpc
            .iter()
            .any(|r| schema.message(r).is_some_and(|m| m.package == p.name))
        {
            notes.push(format!(
                "RPC types of package `{}` come from an imported file that this call does not \
                 compile; map them with an `extern_path` to where their buffa types live",
                p.name
            ));
        }
    }
    if !schema.descriptor_type_uses.is_empty() {
        notes.push(format!(
            "the schema uses descriptor types ({}) that buffa-types does not provide: map each \
             with an exact `extern_path` to buffa's descriptor crate and check the build",
            schema.descriptor_type_uses.join(", ")
        ));
    }
    if schema.uses_wkt() {
        t.push(".compile_well_known_types(true)".into());
        t.push(format!(
            ".extern_path({:?}, {BUFFA_TYPES_WKT_PATH:?})",
            format!(".{WKT_PACKAGE}")
        ));
        runtime.push("buffa-types");
    }
    t.push(format!(".codec_path({:?})", cfg.codec_path));
    let entry = match (call.entry, &call.config_arg) {
        (Entry::CompileWithConfig | Entry::CompileProtosWithConfig, Some(c)) => {
            notes.push(format!(
                "`{}` is a prost_build::Config: its message options no longer apply (messages \
                 are buffa types now) and tonic-prost-build 0.14 needs the prost-build 0.14 \
                 `tonic_prost_build::Config`; review it",
                c.source
            ));
            format!(
                ".compile_with_config({}, {files_text}, {includes_text})",
                reindent(&c.source, &c.base_indent, i1)
            )
        }
        _ => format!(".compile_protos({files_text}, {includes_text})"),
    };
    t.extend(call.entry_comments.iter().cloned());
    t.push(entry);

    // Endings.
    let tonic_ending = call.ending.trim().to_string();
    let connect_ending = match call.ending_kind {
        EndingKind::Unwrap => ".unwrap()".to_string(),
        EndingKind::Expect => {
            let msg = first_string_literal(&format!("x{}", call.ending))
                .unwrap_or_else(|| "connectrpc-build".into());
            format!(".expect({msg:?})")
        }
        _ => match (&call.fn_return, call.ending.contains('?')) {
            (FnReturn::IoResult, _) => ".map_err(std::io::Error::other)?".to_string(),
            (FnReturn::Other(ty), _) if !ty.contains("anyhow") && !ty.contains("Box<dyn") => {
                notes.push(format!(
                    "the function returns `{ty}`: check that `?` converts connectrpc-build's \
                     `anyhow::Error` into it"
                ));
                "?".to_string()
            }
            (FnReturn::Other(_), _) => "?".to_string(),
            (FnReturn::Unit | FnReturn::Unknown, _) => {
                ".expect(\"connectrpc-build failed\")".to_string()
            }
        },
    };

    let indent = &call.indent;
    let render = |lines: &[String], ending: &str, semi: bool| -> String {
        let mut s = lines[0].clone();
        for l in &lines[1..] {
            s.push('\n');
            s.push_str(indent);
            s.push_str(i1);
            // Multi-line pieces (the buffa config block) are indented relative to the chain.
            s.push_str(&l.replace('\n', &format!("\n{indent}")));
        }
        if call.ending_newline && ending.starts_with('.') {
            s.push('\n');
            s.push_str(indent);
            s.push_str(i1);
        }
        s.push_str(ending);
        if semi {
            s.push(';');
        }
        s
    };
    let mut text = if call.out_dir_is_existing {
        String::new()
    } else {
        format!(
            "let {out} = std::path::PathBuf::from(std::env::var(\"OUT_DIR\").expect(\"OUT_DIR is set by cargo\"));\n{indent}"
        )
    };
    text.push_str(&render(&c, &connect_ending, true));
    text.push('\n');
    text.push_str(indent);
    if let Some(sub) = &tonic_out_subdir {
        // prost-build writes into `out_dir` without creating it (connectrpc-build does create
        // its own).
        let ending = if connect_ending.ends_with('?') {
            "?".to_string()
        } else {
            format!(".expect(\"cannot create OUT_DIR/{sub}\")")
        };
        text.push_str(&format!(
            "std::fs::create_dir_all({out}.join({sub:?})){ending};\n{indent}"
        ));
    }
    text.push_str(&call.stmt_prefix);
    text.push_str(&render(&t, &tonic_ending, call.has_semi));

    if call.generation == Generation::TonicBuild {
        notes.push(
            "tonic 0.12/0.13 codegen moves to tonic-prost-build 0.14 (the shim runs on tonic \
             0.14): update `tonic`, drop `tonic-build`'s prost integration, and check the \
             `use tonic_build…` imports"
                .into(),
        );
    }
    if !call.setup_stmts.is_empty() {
        let what = match &call.builder_var {
            Some(v) => format!("the builder variable `{v}`"),
            None => "the prost_build::Config variable".to_string(),
        };
        notes.push(format!(
            "{what} is folded into the new calls; its setup statements are removed"
        ));
    }
    if let Some(sub) = &tonic_out_subdir {
        notes.push(format!(
            "tonic's stubs are now written to OUT_DIR/{sub}: the module's include must read \
             them from there"
        ));
    }
    Step1BuildRs {
        replacement: Some(text),
        notes,
        build_dependencies: deps,
        dependencies: runtime,
        tonic_out_subdir,
    }
}

/// The strings of a literal argument: `"a"`, `["a", "b"]`, `&["a"]`, `vec!["a"]`.
fn literal_strings(source: &str) -> Option<Vec<String>> {
    fn of(e: &Expr) -> Option<Vec<String>> {
        match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(vec![s.value()]),
            Expr::Reference(r) => of(&r.expr),
            Expr::Array(a) => a
                .elems
                .iter()
                .map(|el| match el {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Some(s.value()),
                    _ => None,
                })
                .collect(),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let elems = m
                    .mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .ok()?;
                let arr = Expr::Array(syn::ExprArray {
                    attrs: vec![],
                    bracket_token: Default::default(),
                    elems,
                });
                of(&arr)
            }
            _ => None,
        }
    }
    of(&syn::parse_str::<Expr>(source).ok()?)
}

/// Fully-qualified names (with a leading dot) of the schema's messages, enums (and, for
/// `fields`, message fields) that prost's suffix match of `suffix` selects.
fn suffix_matches(schema: &Schema, suffix: &str, fields: bool) -> Vec<String> {
    let matches = |full: &str| full == suffix || full.ends_with(&format!(".{suffix}"));
    let mut out: Vec<String> = if fields {
        schema
            .messages
            .iter()
            .flat_map(|m| {
                m.fields
                    .iter()
                    .map(move |f| format!("{}.{}", m.full_name, f.name))
            })
            .filter(|f| matches(f))
            .collect()
    } else {
        schema
            .messages
            .iter()
            .filter(|m| !m.is_map_entry)
            .map(|m| m.full_name.clone())
            .chain(schema.enums.iter().map(|e| e.full_name.clone()))
            .filter(|n| matches(n))
            .collect()
    };
    out.sort();
    out.into_iter().map(|n| format!(".{n}")).collect()
}

/// Re-indents the continuation lines of a multi-line argument from `old_base` (the indentation
/// of the line it started on) to `new_base`, keeping relative indentation. Text with a
/// multi-line string literal is returned unchanged (its content would change).
fn reindent(text: &str, old_base: &str, new_base: &str) -> String {
    if !text.contains('\n') || old_base == new_base {
        return text.to_string();
    }
    fn has_multiline_literal(ts: TokenStream) -> bool {
        ts.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Literal(l) => l.to_string().contains('\n'),
            proc_macro2::TokenTree::Group(g) => has_multiline_literal(g.stream()),
            _ => false,
        })
    }
    let plain = text
        .parse::<TokenStream>()
        .is_ok_and(|ts| !has_multiline_literal(ts));
    if !plain {
        return text.to_string();
    }
    let mut lines = text.split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        if line.trim().is_empty() {
            continue;
        }
        match line.strip_prefix(old_base) {
            Some(rest) => {
                out.push_str(new_base);
                out.push_str(rest);
            }
            None => out.push_str(line.trim_start()),
        }
    }
    out
}

/// A list argument as a slice expression for connectrpc-build's `&[P]` parameters.
fn slice_text(source: &str) -> String {
    let t = source.trim();
    if t.starts_with('[') {
        format!("&{t}")
    } else if let Some(inner) = t.strip_prefix("vec!") {
        format!("&{inner}")
    } else {
        t.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Module side

/// What a module-side macro includes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IncludeKind {
    /// `tonic::include_proto!("pkg")`.
    IncludeProto,
    /// `include!(concat!(env!("OUT_DIR"), "/…rs"))`.
    IncludeOutDir,
    /// `tonic::include_file_descriptor_set!("name")`.
    FileDescriptorSet,
    /// `include_bytes!(concat!(env!("OUT_DIR"), "/….bin"))`.
    IncludeBytesOutDir,
}

/// A module-side include of tonic's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtoInclude {
    pub kind: IncludeKind,
    /// The macro invocation, from its path to its closing delimiter.
    pub range: ByteRange,
    /// The file read, relative to `OUT_DIR` (`greet.v1.rs`, `tonic/greet.v1.rs`, `x.bin`).
    pub out_dir_file: String,
    /// The proto package, for `include_proto!` and `<pkg>.rs` includes.
    pub package: Option<String>,
    /// The Rust modules enclosing the macro in this file (`["pb"]`).
    pub module_path: Vec<String>,
}

/// Finds `include_proto!`, `include!(concat!(env!("OUT_DIR"), ..))`,
/// `include_file_descriptor_set!` and `include_bytes!(concat!(env!("OUT_DIR"), ..))` in a file.
pub fn find_proto_includes(src: &str) -> syn::Result<Vec<ProtoInclude>> {
    let file = syn::parse_file(src)?;
    let mut v = IncludeFinder {
        mods: vec![],
        found: vec![],
        tonic_macros: HashMap::new(),
    };
    v.collect_uses(&file);
    v.visit_file(&file);
    v.found.sort_by_key(|f| f.range.start);
    Ok(v.found)
}

struct IncludeFinder {
    mods: Vec<String>,
    found: Vec<ProtoInclude>,
    /// Local macro names imported from tonic (`use tonic::include_proto;`).
    tonic_macros: HashMap<String, String>,
}

impl IncludeFinder {
    fn collect_uses(&mut self, file: &syn::File) {
        struct U<'a>(&'a mut HashMap<String, String>);
        impl<'ast> Visit<'ast> for U<'_> {
            fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
                fn walk(t: &syn::UseTree, in_tonic: bool, out: &mut HashMap<String, String>) {
                    match t {
                        syn::UseTree::Path(p) => walk(&p.tree, in_tonic || p.ident == "tonic", out),
                        syn::UseTree::Name(n) if in_tonic => {
                            out.insert(n.ident.to_string(), n.ident.to_string());
                        }
                        syn::UseTree::Rename(r) if in_tonic => {
                            out.insert(r.rename.to_string(), r.ident.to_string());
                        }
                        syn::UseTree::Group(g) => {
                            for t in &g.items {
                                walk(t, in_tonic, out);
                            }
                        }
                        _ => {}
                    }
                }
                walk(&u.tree, false, self.0);
            }
        }
        U(&mut self.tonic_macros).visit_file(file);
    }

    /// The tonic macro a path names, if any.
    fn tonic_macro(&self, path: &syn::Path) -> Option<String> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        match segs.as_slice() {
            [t, m] if t == "tonic" => Some(m.clone()),
            [m] => self.tonic_macros.get(m).cloned(),
            _ => None,
        }
    }
}

/// `concat!(env!("OUT_DIR"), "/a", "b.rs")` → `a/b.rs`.
fn out_dir_concat(tokens: TokenStream) -> Option<String> {
    let m: syn::Macro = syn::parse2(tokens).ok()?;
    if !m.path.is_ident("concat") {
        return None;
    }
    let parts = m
        .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .ok()?;
    let mut it = parts.iter();
    match it.next()? {
        Expr::Macro(e) if e.mac.path.is_ident("env") => {
            let var: syn::LitStr = e.mac.parse_body().ok()?;
            if var.value() != "OUT_DIR" {
                return None;
            }
        }
        _ => return None,
    }
    let mut rest = String::new();
    for p in it {
        match p {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => rest.push_str(&s.value()),
            _ => return None,
        }
    }
    Some(rest.trim_start_matches('/').to_string())
}

impl<'ast> Visit<'ast> for IncludeFinder {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.mods.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.mods.pop();
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let r = range(mac.span());
        let push = |this: &mut Self, kind, file: String, package: Option<String>| {
            this.found.push(ProtoInclude {
                kind,
                range: r.clone(),
                out_dir_file: file,
                package,
                module_path: this.mods.clone(),
            })
        };
        match self.tonic_macro(&mac.path).as_deref() {
            Some("include_proto") => {
                if let Ok(pkg) = mac.parse_body::<syn::LitStr>() {
                    // tonic writes `concat!(env!("OUT_DIR"), "/", $pkg, ".rs")`: leading slashes
                    // of the argument name the same file (`"/a.b"` reads `OUT_DIR//a.b.rs`).
                    let p = pkg.value().trim_start_matches('/').to_string();
                    push(self, IncludeKind::IncludeProto, format!("{p}.rs"), Some(p));
                }
                return;
            }
            Some("include_file_descriptor_set") => {
                if let Ok(name) = mac.parse_body::<syn::LitStr>() {
                    push(
                        self,
                        IncludeKind::FileDescriptorSet,
                        format!("{}.bin", name.value().trim_start_matches('/')),
                        None,
                    );
                }
                return;
            }
            _ => {}
        }
        let kind = if mac.path.is_ident("include") {
            IncludeKind::IncludeOutDir
        } else if mac.path.is_ident("include_bytes") {
            IncludeKind::IncludeBytesOutDir
        } else {
            syn::visit::visit_macro(self, mac);
            return;
        };
        if let Some(file) = out_dir_concat(mac.tokens.clone()) {
            let package = (kind == IncludeKind::IncludeOutDir)
                .then(|| {
                    let name = file.rsplit('/').next().unwrap_or(&file);
                    name.strip_suffix(".rs").map(str::to_string)
                })
                .flatten();
            push(self, kind, file, package);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = "/c";

    fn scan(src: &str) -> BuildRsScan {
        scan_build_rs(src, Path::new(DIR)).expect("parses")
    }

    fn one(src: &str) -> CodegenCall {
        let s = scan(src);
        assert_eq!(
            s.calls.len(),
            1,
            "calls: {:#?}\nunrecognised: {:#?}",
            s.calls,
            s.unrecognised
        );
        s.calls.into_iter().next().unwrap()
    }

    fn lits(list: &PathList) -> Vec<&str> {
        list.items
            .iter()
            .map(|i| i.literal().unwrap_or("<unresolved>"))
            .collect()
    }

    fn names(call: &CodegenCall) -> Vec<&str> {
        call.options.iter().map(|o| o.name.as_str()).collect()
    }

    fn schema(files: &[&str]) -> Schema {
        let d = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data"));
        let files: Vec<PathBuf> = files.iter().map(|f| d.join(f)).collect();
        Schema::load(&files, &[d]).unwrap()
    }

    fn plan(call: &CodegenCall, files: &[&str]) -> Step1BuildRs {
        plan_step1_build_rs(call, &schema(files), &Step1Config::default())
    }

    /// buffa generates only the files it is given; prost generated the imported packages too.
    #[test]
    fn imported_files_are_named_for_connectrpc_build() {
        let d = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data");
        let src = format!(
            "fn main() {{\n    tonic_prost_build::configure()\n        .compile_protos(&[\"{d}/greet/v1/greet.proto\"], &[\"{d}\"])\n        .unwrap();\n}}\n"
        );
        let c = one(&src);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let text = p.replacement.unwrap();
        // `common/types.proto` is only imported: named through the include it is found under.
        assert!(
            text.contains(&format!(".files(&[\"{d}/common/types.proto\"])")),
            "{text}"
        );
        // Well-known types are not (buffa-types has them).
        assert!(!text.contains("google/protobuf"), "{text}");
    }

    // ---- recognition: forms and versions ------------------------------------------------

    #[test]
    fn free_compile_protos_tonic_012() {
        let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::compile_protos("proto/helloworld.proto")?;
    Ok(())
}
"#;
        let c = one(src);
        assert_eq!(c.generation, Generation::TonicBuild);
        assert_eq!(c.entry, Entry::CompileProtosFn);
        assert_eq!(c.crate_path, "tonic_build");
        assert_eq!(lits(&c.protos), vec!["proto/helloworld.proto"]);
        assert_eq!(lits(&c.includes), vec!["proto"]);
        assert_eq!(
            c.protos.items[0].path(),
            Some(Path::new("/c/proto/helloworld.proto"))
        );
        assert_eq!(c.includes.items[0].path(), Some(Path::new("/c/proto")));
        assert_eq!(
            &src[c.stmt_range.clone()],
            "tonic_build::compile_protos(\"proto/helloworld.proto\")?;"
        );
        assert_eq!(
            &src[c.expr_range.clone()],
            "tonic_build::compile_protos(\"proto/helloworld.proto\")?"
        );
        assert_eq!(c.stmt_source, &src[c.stmt_range.clone()]);
        assert_eq!((c.ending.as_str(), c.ending_kind), ("?", EndingKind::Try));
        assert_eq!(c.indent, "    ");
        assert!(c.has_semi);
        assert_eq!(
            c.fn_return,
            FnReturn::Other("Result<(),Box<dynstd::error::Error>>".into())
        );
    }

    #[test]
    fn free_compile_protos_tonic_014() {
        let c = one(r#"fn main() { tonic_prost_build::compile_protos("a/b/x.proto").unwrap(); }"#);
        assert_eq!(c.generation, Generation::TonicProstBuild);
        assert_eq!(c.entry, Entry::CompileProtosFn);
        assert_eq!(c.ending_kind, EndingKind::Unwrap);
        assert_eq!(lits(&c.includes), vec!["a/b"]);
        assert_eq!(c.fn_return, FnReturn::Unit);
    }

    #[test]
    fn configure_compile_tonic_012_with_options() {
        let src = r#"fn main() {
    tonic_build::configure()
        .build_server(true)
        .build_client(false)
        .out_dir("src/gen")
        .compile(&["proto/a.proto", "proto/b.proto"], &["proto"])
        .unwrap();
}"#;
        let c = one(src);
        assert_eq!(c.entry, Entry::Compile);
        assert_eq!(names(&c), vec!["build_server", "build_client", "out_dir"]);
        assert_eq!(lits(&c.protos), vec!["proto/a.proto", "proto/b.proto"]);
        assert_eq!(c.protos.source, r#"&["proto/a.proto", "proto/b.proto"]"#);
        assert_eq!(lits(&c.includes), vec!["proto"]);
        let o = c.option("build_server").unwrap();
        assert_eq!(&src[o.range.clone()], "build_server(true)");
        assert_eq!(o.args[0].source, "true");
        assert_eq!(&src[o.args[0].range.clone()], "true");
        assert_eq!(
            &src[c.entry_range.clone()],
            r#"compile(&["proto/a.proto", "proto/b.proto"], &["proto"])"#
        );
        assert!(
            c.option("out_dir").unwrap().note.is_some(),
            "a source-tree out_dir is noted"
        );
        assert_eq!(c.ending, ".unwrap()");
    }

    #[test]
    fn configure_compile_protos_tonic_013() {
        let c = one(r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure().compile_protos(&["proto/x.proto"], &["proto"])?;
    Ok(())
}"#);
        assert_eq!(
            (c.generation, c.entry),
            (Generation::TonicBuild, Entry::CompileProtos)
        );
        assert!(c.options.is_empty());
    }

    #[test]
    fn compile_protos_with_config_tonic_013() {
        let src = r#"fn main() {
    let mut config = prost_build::Config::new();
    config.bytes(["."]);
    tonic_build::configure()
        .compile_protos_with_config(config, &["proto/x.proto"], &["proto"])
        .expect("codegen");
}"#;
        let c = one(src);
        assert_eq!(c.entry, Entry::CompileProtosWithConfig);
        // The config's statements are folded into the call.
        assert_eq!(c.config_arg, None);
        assert_eq!(names(&c), vec!["bytes"]);
        assert_eq!(c.setup_stmts.len(), 2);
        assert_eq!(
            &src[c.setup_stmts[0].clone()],
            "let mut config = prost_build::Config::new();"
        );
        assert_eq!(&src[c.setup_stmts[1].clone()], "config.bytes([\".\"]);");
        assert_eq!(lits(&c.protos), vec!["proto/x.proto"]);
        assert_eq!(c.ending_kind, EndingKind::Expect);
    }

    #[test]
    fn prost_config_folding_and_its_limits() {
        let src = r##"use prost_build::Config as ProstConfig;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = ProstConfig::new();
    cfg.type_attribute(".", "#[derive(Hash)]").enable_type_names();
    cfg.protoc_arg("--experimental_allow_proto3_optional");
    tonic_build::configure()
        .build_client(false)
        .compile_protos_with_config(cfg, &["p/a.proto"], &["p"])?;
    Ok(())
}"##;
        let c = one(src);
        assert_eq!(c.config_arg, None);
        assert_eq!(
            names(&c),
            vec![
                "type_attribute",
                "enable_type_names",
                "protoc_arg",
                "build_client"
            ]
        );
        assert!(matches!(
            c.option("enable_type_names").unwrap().class,
            OptionClass::Reported(_)
        ));
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let t = p.replacement.unwrap();
        assert!(
            t.contains(".compile_protos(&[\"p/a.proto\"], &[\"p\"])?;"),
            "{t}"
        );
        assert!(t.contains(".protoc_arg(\"--experimental_allow_proto3_optional\")"));
        assert!(t.contains("config.type_attributes.push"));
        assert!(!t.contains("cfg"), "{t}");

        // A config used in a way the scan does not follow stays an argument.
        let c = one(r#"fn main() {
    let mut config = prost_build::Config::new();
    tweak(&mut config);
    tonic_build::configure().compile_protos_with_config(config, &["a.proto"], &["."]).unwrap();
}"#);
        assert_eq!(c.config_arg.unwrap().source, "config");
        assert!(c.setup_stmts.is_empty());
        assert!(c.options.is_empty());
    }

    #[test]
    fn compile_with_config_tonic_014() {
        let c = one(r#"fn main() -> std::io::Result<()> {
    tonic_prost_build::configure()
        .compile_with_config(tonic_prost_build::Config::new(), &["p/x.proto"], &["p"])
}"#);
        assert_eq!(
            (c.generation, c.entry),
            (Generation::TonicProstBuild, Entry::CompileWithConfig)
        );
        assert_eq!(
            c.config_arg.unwrap().source,
            "tonic_prost_build::Config::new()"
        );
        assert_eq!(c.ending_kind, EndingKind::None);
        assert!(!c.has_semi, "tail expression");
        assert_eq!(c.fn_return, FnReturn::IoResult);
    }

    #[test]
    fn compile_fds_forms() {
        let s = scan(
            r#"fn main() {
    let fds = protox::compile(["a.proto"], ["."]).unwrap();
    tonic_build::compile_fds(fds.clone()).unwrap();
    tonic_prost_build::configure().build_client(false).compile_fds(fds).unwrap();
}"#,
        );
        assert_eq!(s.calls.len(), 2);
        assert_eq!(s.calls[0].entry, Entry::CompileFdsFn);
        assert_eq!(s.calls[0].fds_arg.as_ref().unwrap().source, "fds.clone()");
        assert_eq!(s.calls[1].entry, Entry::CompileFds);
        assert!(s.calls[1].protos.unresolved.is_some());
        let p = plan(&s.calls[1], &["greet/v1/greet.proto"]);
        assert!(p.replacement.is_none());
        assert!(p.notes[0].contains("descriptor_set"));
    }

    #[test]
    fn use_imports_and_aliases() {
        let c = one(r#"use tonic_build::configure;
fn main() { configure().compile_protos(&["x.proto"], &["."]).unwrap(); }"#);
        assert_eq!(
            (c.generation, c.crate_path.as_str()),
            (Generation::TonicBuild, "configure")
        );

        let s = scan(
            r#"use tonic_prost_build as tb;
fn main() { tb::configure().build_server(false).compile_protos(&["x.proto"], &["."]).unwrap(); }"#,
        );
        assert_eq!(s.calls.len(), 1);
        assert_eq!(s.calls[0].generation, Generation::TonicProstBuild);
        assert_eq!(s.calls[0].crate_path, "tb");
        assert_eq!(s.imports.len(), 1);
        assert_eq!(s.imports[0].source, "use tonic_prost_build as tb;");

        let s = scan(
            r#"use tonic_build::{configure as cfg, compile_protos};
fn main() {
    compile_protos("proto/a.proto").unwrap();
    cfg().compile(&["b.proto"], &["."]).unwrap();
}"#,
        );
        assert_eq!(s.calls.len(), 2);
        assert_eq!(s.calls[0].entry, Entry::CompileProtosFn);
        assert_eq!(s.calls[1].entry, Entry::Compile);

        let c = one(r#"use tonic_prost_build::*;
fn main() { configure().compile_protos(&["x.proto"], &["."]).unwrap(); }"#);
        assert_eq!(c.generation, Generation::TonicProstBuild);

        let c = one(r#"extern crate tonic_build as tbuild;
fn main() { ::tonic_build::configure().compile(&["x.proto"], &["."]).unwrap(); tbuild::configure(); }"#);
        assert_eq!(c.crate_path, "::tonic_build");

        let c = one(r#"use tonic_build as tb; use tb::configure as c;
fn main() { c().compile(&["x.proto"], &["."]).unwrap(); }"#);
        assert_eq!(c.generation, Generation::TonicBuild);
    }

    #[test]
    fn other_codegen_is_not_tonic() {
        let s = scan(
            r#"fn main() {
    prost_build::compile_protos(&["a.proto"], &["."]).unwrap();
    connectrpc_build::Config::new().files(&["a.proto"]).compile().unwrap();
    configure().compile(&["a.proto"], &["."]).unwrap();
}
fn configure() -> Thing { Thing }"#,
        );
        assert!(s.calls.is_empty());
        assert!(s.unrecognised.is_empty());
        assert!(s.imports.is_empty());
    }

    #[test]
    fn builder_variable() {
        let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    let builder = tonic_build::configure().build_client(false);
    builder.compile(&["a.proto"], &["."])?;
    Ok(())
}"#;
        let c = one(src);
        let mut edited = src.to_string();
        for r in c.setup_removals(src).iter().rev() {
            edited.replace_range(r.clone(), "");
        }
        assert_eq!(
            edited,
            "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    builder.compile(&[\"a.proto\"], &[\".\"])?;\n    Ok(())\n}"
        );
        let shared = "fn main() { let b = tonic_build::configure(); b.compile(&[\"a.proto\"], &[\".\"]).unwrap(); }";
        let c2 = one(shared);
        assert_eq!(
            c2.setup_removals(shared),
            c2.setup_stmts,
            "a shared line is not widened"
        );
        assert_eq!(c.builder_var.as_deref(), Some("builder"));
        assert_eq!(names(&c), vec!["build_client"]);
        assert_eq!(c.setup_stmts.len(), 1);
        assert_eq!(
            &src[c.setup_stmts[0].clone()],
            "let builder = tonic_build::configure().build_client(false);"
        );
        assert_eq!(
            &src[c.stmt_range.clone()],
            r#"builder.compile(&["a.proto"], &["."])?;"#
        );
    }

    #[test]
    fn builder_variable_reassigned_and_shadowed() {
        let src = r##"fn main() {
    let mut b = tonic_prost_build::configure();
    b = b.build_server(true);
    let b = b.out_dir("gen");
    b.type_attribute(".", "#[derive(Eq)]").compile_protos(&["a.proto"], &["."]).unwrap();
}"##;
        let c = one(src);
        assert_eq!(names(&c), vec!["build_server", "out_dir", "type_attribute"]);
        assert_eq!(c.setup_stmts.len(), 3);
        assert_eq!(&src[c.setup_stmts[1].clone()], "b = b.build_server(true);");
    }

    #[test]
    fn builder_variable_used_in_a_nested_block_but_not_in_a_nested_fn() {
        let src = r#"fn main() {
    let b = tonic_build::configure().build_server(false);
    if cfg!(feature = "x") {
        b.compile(&["a.proto"], &["."]).unwrap();
    }
    fn inner() {
        b.compile(&["b.proto"], &["."]).unwrap();
    }
}"#;
        let s = scan(src);
        assert_eq!(s.calls.len(), 1);
        assert_eq!(lits(&s.calls[0].protos), vec!["a.proto"]);
        assert_eq!(s.calls[0].indent, "        ");
        assert_eq!(names(&s.calls[0]), vec!["build_server"]);
    }

    #[test]
    fn service_generator_form_is_reported() {
        let s = scan(
            r#"fn main() {
    prost_build::Config::new()
        .service_generator(tonic_build::configure().service_generator())
        .compile_protos(&["a.proto"], &["."])
        .unwrap();
}"#,
        );
        assert!(s.calls.is_empty());
        assert_eq!(s.unrecognised.len(), 1);
        assert_eq!(s.unrecognised[0].source, "tonic_build::configure()");
    }

    #[test]
    fn unused_builder_and_odd_forms_are_unrecognised() {
        let s = scan(
            r#"fn main() {
    let b = tonic_build::configure();
    helper(b);
    if let Err(e) = tonic_build::compile_protos("a/x.proto") { panic!("{e}") }
}"#,
        );
        assert!(s.calls.is_empty());
        assert_eq!(s.unrecognised.len(), 2);
        assert_eq!(s.unrecognised[0].source, "tonic_build::configure()");
        assert_eq!(
            s.unrecognised[1].source,
            r#"tonic_build::compile_protos("a/x.proto")"#
        );
        assert!(s.unrecognised[1].reason.contains("by hand"));
    }

    #[test]
    fn nested_blocks_and_let_underscore() {
        let src = "fn main() {\n    if true {\n        let _ = tonic_build::compile_protos(\"p/x.proto\");\n    }\n}\n";
        let c = one(src);
        assert_eq!(c.indent, "        ");
        assert_eq!(c.stmt_prefix, "let _ = ");
        assert_eq!(c.ending_kind, EndingKind::None);
        assert_eq!(
            &src[c.stmt_range.clone()],
            "let _ = tonic_build::compile_protos(\"p/x.proto\");"
        );
    }

    #[test]
    fn other_endings() {
        let c = one(r#"fn main() -> Result<(), String> {
    tonic_build::configure().compile(&["a.proto"], &["."]).map_err(|e| e.to_string())?;
    Ok(())
}"#);
        assert_eq!(c.ending, ".map_err(|e| e.to_string())?");
        assert_eq!(c.ending_kind, EndingKind::Other);
    }

    // ---- argument resolution ----------------------------------------------------------

    #[test]
    fn const_and_static_lists() {
        let src = r#"const PROTOS: &[&str] = &["proto/a.proto", "proto/b.proto"];
static INCLUDES: [&str; 1] = ["proto"];
fn main() { tonic_build::configure().compile_protos(PROTOS, &INCLUDES).unwrap(); }"#;
        let c = one(src);
        assert_eq!(lits(&c.protos), vec!["proto/a.proto", "proto/b.proto"]);
        assert_eq!(c.protos.source, "PROTOS");
        assert_eq!(&src[c.protos.items[1].range.clone()], "\"proto/b.proto\"");
        assert_eq!(lits(&c.includes), vec!["proto"]);
    }

    #[test]
    fn let_lists_vec_and_consts_in_arrays() {
        let c = one(r#"const A: &str = "proto/a.proto";
fn main() {
    let protos = vec![A, "proto/b.proto"];
    let includes = ["proto".to_string()];
    tonic_build::configure().compile_protos(&protos, &includes).unwrap();
}"#);
        assert_eq!(lits(&c.protos), vec!["proto/a.proto", "proto/b.proto"]);
        assert_eq!(lits(&c.includes), vec!["proto"]);
    }

    #[test]
    fn pathbuf_and_concat_resolve() {
        let c = one(r#"fn main() {
    tonic_build::configure().compile_protos(
        &[std::path::PathBuf::from("proto/a.proto"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/proto/b.proto"))],
        &[Path::new("proto").to_path_buf(), PathBuf::from(concat!("pro", "to2"))],
    ).unwrap();
}"#);
        assert_eq!(lits(&c.protos), vec!["proto/a.proto", "/c/proto/b.proto"]);
        assert_eq!(
            c.protos.items[1].path(),
            Some(Path::new("/c/proto/b.proto"))
        );
        assert_eq!(lits(&c.includes), vec!["proto", "proto2"]);
    }

    #[test]
    fn non_literal_args_are_unresolved() {
        let c = one(r#"fn main() {
    let root = std::env::var("PROTO_ROOT").unwrap();
    tonic_build::configure().compile_protos(
        &[format!("{root}/a.proto"), concat!(env!("OUT_DIR"), "/b.proto").to_string(), root.clone()],
        &find_includes(),
    ).unwrap();
}"#);
        let why: Vec<&PathValue> = c.protos.items.iter().map(|i| &i.value).collect();
        assert!(matches!(why[0], PathValue::Unresolved(w) if w.contains("format!")));
        assert!(matches!(why[1], PathValue::Unresolved(w) if w.contains("OUT_DIR")));
        assert!(matches!(why[2], PathValue::Unresolved(_)));
        assert!(c.protos.resolved_paths().is_none());
        assert!(c
            .includes
            .unresolved
            .as_deref()
            .unwrap()
            .contains("find_includes()"));
        assert!(c.includes.items.is_empty());
    }

    // ---- option classification ----------------------------------------------------------

    fn arg(s: &str) -> OptionArg {
        OptionArg {
            base_indent: String::new(),
            source: s.into(),
            range: 0..0,
        }
    }

    #[test]
    fn classify_each_option() {
        use OptionClass::*;
        let c = |n: &str, a: &[&str]| {
            classify_option(n, &a.iter().map(|s| arg(s)).collect::<Vec<_>>()).0
        };
        for keep in [
            "build_client",
            "build_server",
            "build_transport",
            "out_dir",
            "include_file",
            "server_mod_attribute",
            "client_attribute",
            "use_arc_self",
            "generate_default_stubs",
            "emit_package",
            "disable_package_emission",
            "protoc_arg",
            "skip_protoc_run",
        ] {
            assert_eq!(c(keep, &["x"]), KeepOnTonic, "{keep}");
        }
        assert_eq!(
            c("file_descriptor_set_path", &["p"]),
            KeepOnTonicAndConnect("emit_descriptor_set".into())
        );
        assert_eq!(
            c("emit_rerun_if_changed", &["false"]),
            KeepOnTonicAndConnect("emit_rerun_directives".into())
        );
        assert_eq!(
            c("type_attribute", &["\".\"", "\"#[derive(Eq)]\""]),
            MovesToBuffa("type_attributes".into())
        );
        assert_eq!(
            c("message_attribute", &["\".\"", "\"#[x]\""]),
            MovesToBuffa("message_attributes".into())
        );
        assert_eq!(
            c("enum_attribute", &["\".\"", "\"#[x]\""]),
            MovesToBuffa("enum_attributes".into())
        );
        assert_eq!(
            c("field_attribute", &["\".\"", "\"#[x]\""]),
            MovesToBuffa("field_attributes".into())
        );
        assert!(matches!(
            c(
                "type_attribute",
                &["\".\"", "\"#[derive(serde::Serialize)]\""]
            ),
            Reported(_)
        ));
        assert!(matches!(c("bytes", &["[\".\"]"]), MovesToBuffa(w) if w.contains("BytesRepr")));
        assert!(matches!(c("btree_map", &["[\".\"]"]), MovesToBuffa(w) if w.contains("BTreeMap")));
        assert!(matches!(c("boxed", &["\".a.B.c\""]), MovesToBuffa(w) if w.contains("Box")));
        assert!(matches!(
            c("compile_well_known_types", &["true"]),
            Replaced(_)
        ));
        assert!(matches!(c("codec_path", &["\"x::C\""]), Replaced(_)));
        assert!(matches!(c("skip_debug", &["[\".\"]"]), Reported(_)));
        assert!(matches!(
            c(
                "extern_path",
                &["\".google.protobuf\"", "\"::pbjson_types\""]
            ),
            Reported(_)
        ));
        assert_eq!(
            c("extern_path", &["\".other\"", "\"::other::pb\""]),
            KeepOnTonic
        );
        let (_, note) = classify_option("extern_path", &[arg("\".other\""), arg("\"::other\"")]);
        assert!(note.unwrap().contains("migrated first"));
        let (cls, note) = classify_option("frobnicate", &[]);
        assert_eq!(cls, KeepOnTonic);
        assert!(note.unwrap().contains("not a known"));
    }

    #[test]
    fn every_option_form_is_recorded_with_source() {
        let src = r##"fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    tonic_build::configure()
        .file_descriptor_set_path(out.join("greeter_descriptor.bin"))
        .type_attribute("greet.v1.HelloRequest", "#[derive(Hash)]")
        .field_attribute("greet.v1.HelloRequest.name", "#[allow(dead_code)]")
        .message_attribute(".", "#[allow(clippy::all)]")
        .enum_attribute(".", "#[allow(clippy::all)]")
        .extern_path(".common", "::common::pb")
        .bytes(["."])
        .btree_map(["."])
        .protoc_arg("--experimental_allow_proto3_optional")
        .include_file("mod.rs")
        .emit_rerun_if_changed(false)
        .compile_well_known_types(true)
        .codec_path("crate::MyCodec")
        .server_mod_attribute("greet.v1", "#[cfg(feature = \"server\")]")
        .compile(&["a.proto"], &["."])
        .unwrap();
}"##;
        let c = one(src);
        assert_eq!(c.options.len(), 14);
        for o in &c.options {
            assert!(src[o.range.clone()].starts_with(&o.name));
            for a in &o.args {
                assert_eq!(&src[a.range.clone()], a.source);
            }
        }
        let fds = c.option("file_descriptor_set_path").unwrap();
        assert_eq!(
            fds.args[0].source,
            r##"out.join("greeter_descriptor.bin")"##
        );
        let sm = c.option("server_mod_attribute").unwrap();
        assert_eq!(sm.args[1].source, r##""#[cfg(feature = \"server\")]""##);
    }

    // ---- step 1 rewrite ---------------------------------------------------------------

    #[test]
    fn step1_recipe_for_a_plain_call() {
        let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .build_client(false)
        .compile_protos(&["proto/names/v1/names.proto"], &["proto"])?;
    Ok(())
}"#;
        let c = one(src);
        let p = plan(&c, &["names/v1/names.proto"]);
        let expected = r#"let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/names/v1/names.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        .build_client(false)
        .out_dir(out_dir.join("tonic"))
        .extern_path(".names.v1", "crate::connect::names::v1")
        .extern_path(".names.v1.Foo_Bar", "crate::connect::names::v1::Foo_Bar")
        .extern_path(".names.v1.GetHTTPThing", "crate::connect::names::v1::GetHTTPThing")
        .extern_path(".names.v1.GetHTTPThing.XMLPart", "crate::connect::names::v1::get_http_thing::XMLPart")
        .extern_path(".names.v1.lower_snake_msg", "crate::connect::names::v1::lower_snake_msg")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/names/v1/names.proto"], &["proto"])?;"#;
        assert_eq!(p.replacement.as_deref(), Some(expected));
        assert_eq!(p.tonic_out_subdir.as_deref(), Some("tonic"));
        assert_eq!(
            p.build_dependencies,
            vec!["connectrpc-build", "tonic-prost-build"]
        );
        assert_eq!(
            p.dependencies,
            vec!["connectrpc", "buffa", "serde", "connect-shim", "tonic"],
            "no WKT in names.proto"
        );
        assert!(p.notes.iter().any(|n| n.contains("tonic-prost-build 0.14")));
        assert!(p.notes.iter().any(|n| n.contains("OUT_DIR/tonic")));
        // The same through the String API.
        assert_eq!(
            generate_step1_build_rs_edit(&c, &schema(&["names/v1/names.proto"])),
            expected
        );
    }

    #[test]
    fn step1_maps_wkts_and_emits_descriptor_set() {
        let src = r#"fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("greeter.bin"))
        .compile_well_known_types(false)
        .compile_protos(&["proto/greet/v1/greet.proto"], &["proto"])
        .unwrap();
}"#;
        let c = one(src);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let text = p.replacement.unwrap();
        assert!(
            text.contains(".emit_descriptor_set(\"greeter.bin\")"),
            "{text}"
        );
        assert!(text.contains(".file_descriptor_set_path(out.join(\"greeter.bin\"))"));
        assert!(text.contains(".compile_well_known_types(true)"));
        assert!(!text.contains("compile_well_known_types(false)"));
        assert!(text
            .contains(".extern_path(\".google.protobuf\", \"::buffa_types::google::protobuf\")"));
        assert!(text.contains(".extern_path(\".greet.v1\", \"crate::connect::greet::v1\")"));
        assert!(
            !text.contains(".extern_path(\".common\""),
            "imported-only packages are not mapped"
        );
        assert!(text.contains(".compile()\n        .unwrap();"), "{text}");
        assert!(text.ends_with(".unwrap();"));
        assert!(p.dependencies.contains(&"buffa-types"));
        assert!(!p.build_dependencies.contains(&"buffa-types"));
        assert!(!p
            .notes
            .iter()
            .any(|n| n.contains("tonic-prost-build 0.14 (the shim")));
    }

    #[test]
    fn step1_moves_prost_options_to_buffa_and_reports_the_rest() {
        let src = r##"fn main() {
    tonic_build::configure()
        .type_attribute(".", "#[derive(Hash)]")
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        .bytes(["."])
        .btree_map(&[".greet.v1.Rich.counts"])
        .skip_debug(["."])
        .compile(&["proto/greet/v1/greet.proto"], &["proto"])
        .expect("tonic codegen");
}"##;
        let c = one(src);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let text = p.replacement.unwrap();
        assert!(
            text.contains("let mut config = connectrpc_build::CodeGenConfig::default();"),
            "{text}"
        );
        assert!(text.contains("config.generate_json = true;"));
        assert!(text
            .contains(r##"config.type_attributes.push((".".into(), "#[derive(Hash)]".into()));"##));
        assert!(!text.contains("serde::Serialize"));
        assert!(
            text.contains(
                "config.bytes_fields.push((\".\".into(), buffa_codegen::BytesRepr::Bytes));"
            ),
            "{text}"
        );
        assert!(text.contains("config.map_fields.push((\".greet.v1.Rich.counts\".into(), buffa_codegen::MapRepr::BTreeMap));"), "{text}");
        assert!(text.contains("buffa_codegen::MapRepr::BTreeMap"));
        assert!(
            !text.contains(".type_attribute("),
            "moved options leave the tonic builder"
        );
        assert!(!text.contains(".bytes("));
        assert!(!text.contains("skip_debug"));
        assert!(
            text.contains(".compile()\n        .expect(\"tonic codegen\");"),
            "{text}"
        );
        assert!(p.build_dependencies.contains(&"buffa-codegen"));
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("skip_debug") && n.contains("dropped")));
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("serde") && n.contains("dropped")));
        // The buffa config block comes before files(): connectrpc-build discards earlier settings.
        assert!(text.find(".buffa_config(").unwrap() < text.find(".files(").unwrap());
    }

    #[test]
    fn step1_free_fn_and_reindent_in_nested_block() {
        let src = "fn main() {\n    if std::env::var(\"X\").is_ok() {\n        tonic_build::compile_protos(\"proto/greet/v1/greet.proto\").unwrap();\n    }\n}\n";
        let c = one(src);
        let text = plan(&c, &["greet/v1/greet.proto"]).replacement.unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[1].starts_with("        connectrpc_build::Config::new()"),
            "{text}"
        );
        assert!(
            lines[2].starts_with("            .files(&[\"proto/greet/v1/greet.proto\"])"),
            "{text}"
        );
        assert!(text.contains(".includes(&[\"proto/greet/v1\"])"));
        assert!(text
            .contains(".compile_protos(&[\"proto/greet/v1/greet.proto\"], &[\"proto/greet/v1\"])"));
        // Splice it in and check the file still parses.
        let mut out = src.to_string();
        out.replace_range(c.stmt_range.clone(), &text);
        syn::parse_file(&out).expect("rewritten build.rs parses");
    }

    #[test]
    fn step1_output_parses_for_every_recognised_form() {
        let cases = [
            r##"fn main() -> Result<(), Box<dyn std::error::Error>> { let b = tonic_build::configure().build_server(true); b.compile(&["a.proto"], &["."])?; Ok(()) }"##,
            r##"fn main() -> std::io::Result<()> { tonic_prost_build::configure().compile_protos(&["a.proto"], &["."]) }"##,
            r##"fn main() { let _ = tonic_build::configure().compile_protos_with_config(prost_build::Config::new(), &["a.proto"], &["."]); }"##,
            r##"const P: &[&str] = &["a.proto"]; fn main() { tonic_build::configure().bytes(["."]).type_attribute(".", "#[derive(Eq)]").compile(P, &["."]).unwrap(); }"##,
        ];
        for src in cases {
            let c = one(src);
            let p = plan(&c, &["greet/v1/greet.proto"]);
            let text = p.replacement.expect(src);
            let mut out = src.to_string();
            out.replace_range(c.stmt_range.clone(), &text);
            for r in c.setup_stmts.iter().rev() {
                out.replace_range(r.clone(), "");
            }
            syn::parse_file(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        }
    }

    #[test]
    fn step1_comments_in_the_chain_survive() {
        let src = r##"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_prost_build::configure()
        // The descriptor set feeds the reflection service.
        .file_descriptor_set_path(out.join("x.bin"))
        .build_server(true) // servers only
        // Hash for the cache.
        .type_attribute(".", "#[derive(Hash)]")
        // Not needed any more.
        .compile_well_known_types(true)
        // Both trees.
        .compile_protos(&["a.proto"], &["."])?;
    Ok(())
}"##;
        let c = one(src);
        assert_eq!(
            c.option("file_descriptor_set_path").unwrap().comments,
            vec!["// The descriptor set feeds the reflection service.".to_string()]
        );
        assert_eq!(
            c.option("type_attribute").unwrap().comments,
            vec!["// Hash for the cache.".to_string()]
        );
        assert_eq!(
            c.option("build_server")
                .unwrap()
                .trailing_comment
                .as_deref(),
            Some("// servers only")
        );
        assert_eq!(c.entry_comments, vec!["// Both trees.".to_string()]);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let t = p.replacement.unwrap();
        assert!(t.contains("    tonic_prost_build::configure()\n        // The descriptor set feeds the reflection service.\n        .file_descriptor_set_path(out.join(\"x.bin\"))"), "{t}");
        assert!(
            t.contains(
                "            // Hash for the cache.\n            config.type_attributes.push"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "        // Both trees.\n        .compile_protos(&[\"a.proto\"], &[\".\"])?;"
            ),
            "{t}"
        );
        assert!(
            t.contains("        .build_server(true) // servers only\n"),
            "{t}"
        );
        let same_line = one(
            r#"fn main() { tonic_build::configure().out_dir("x").protoc_arg("a//b").compile(&["a.proto"], &["."]).unwrap(); }"#,
        );
        assert_eq!(same_line.option("out_dir").unwrap().trailing_comment, None);
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("// Not needed any more.")));
        let mut out = src.to_string();
        out.replace_range(c.stmt_range.clone(), &t);
        syn::parse_file(&out).unwrap();
    }

    #[test]
    fn step1_reindents_multiline_arguments() {
        let src = "fn main() {\n    {\n        tonic_build::configure()\n            .type_attribute(\n                \".\",\n                \"#[derive(Eq)]\",\n            )\n            .compile(\n                &[\n                    \"a.proto\",\n                    \"b.proto\",\n                ],\n                &[\".\"],\n            )\n            .unwrap();\n    }\n}\n";
        let c = one(src);
        let t = plan(&c, &["greet/v1/greet.proto"]).replacement.unwrap();
        let expected_files = "        connectrpc_build::Config::new()\n            .buffa_config({\n                let mut config = connectrpc_build::CodeGenConfig::default();\n                config.generate_json = true;\n                config.type_attributes.push((\".\".into(), \"#[derive(Eq)]\".into()));\n                config\n            })\n            .files(&[\n                \"a.proto\",\n                \"b.proto\",\n            ])\n";
        assert!(t.contains(expected_files), "{t}");
        assert!(t.contains("            .compile_protos(&[\n                \"a.proto\",\n                \"b.proto\",\n            ], &[\".\"])\n            .unwrap();"), "{t}");
        // A multi-line string literal keeps its content.
        assert_eq!(
            reindent("r\"a\n        b\"", "        ", "    "),
            "r\"a\n        b\""
        );
        assert_eq!(
            reindent("&[\n        \"x\",\n    ]", "    ", "        "),
            "&[\n            \"x\",\n        ]"
        );
    }

    #[test]
    fn step1_endings_follow_the_function() {
        let io = one(
            r#"fn main() -> std::io::Result<()> { tonic_build::configure().compile(&["a.proto"], &["."])?; Ok(()) }"#,
        );
        let t = plan(&io, &["greet/v1/greet.proto"]).replacement.unwrap();
        assert!(
            t.contains(".compile().map_err(std::io::Error::other)?;"),
            "{t}"
        );
        let tail = one(
            r#"fn main() -> std::io::Result<()> { tonic_prost_build::configure().compile_protos(&["a.proto"], &["."]) }"#,
        );
        let t = plan(&tail, &["greet/v1/greet.proto"]).replacement.unwrap();
        assert!(
            t.ends_with(".compile_protos(&[\"a.proto\"], &[\".\"])"),
            "tail stays a tail: {t}"
        );
        let unit = one(r#"fn main() { let _ = tonic_build::compile_protos("p/a.proto"); }"#);
        let t = plan(&unit, &["greet/v1/greet.proto"]).replacement.unwrap();
        assert!(t.contains(".expect(\"connectrpc-build failed\");"), "{t}");
        assert!(t.contains("std::fs::create_dir_all(out_dir.join(\"tonic\")).expect(\"cannot create OUT_DIR/tonic\");"), "{t}");
        assert!(
            t.contains("\nlet _ = tonic_prost_build::configure()"),
            "{t}"
        );
        let odd = one(
            r#"fn main() -> Result<(), MyErr> { tonic_build::configure().compile(&["a.proto"], &["."])?; Ok(()) }"#,
        );
        let p = plan(&odd, &["greet/v1/greet.proto"]);
        assert!(p.notes.iter().any(|n| n.contains("MyErr")));
    }

    #[test]
    fn step1_descriptor_set_from_env_out_dir_and_user_extern_paths() {
        let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .file_descriptor_set_path(PathBuf::from(std::env::var("OUT_DIR")?).join("greet_fds.bin"))
        .extern_path(".names.v1.Foo_Bar", "::shared::FooBar")
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile(&["proto/names/v1/names.proto"], &["proto"])?;
    Ok(())
}"#;
        let c = one(src);
        let p = plan(&c, &["names/v1/names.proto"]);
        let t = p.replacement.unwrap();
        assert!(t.contains(".emit_descriptor_set(\"greet_fds.bin\")"), "{t}");
        assert_eq!(
            t.matches(".extern_path(\".names.v1.Foo_Bar\"").count(),
            1,
            "{t}"
        );
        assert!(t.contains(".extern_path(\".names.v1.Foo_Bar\", \"::shared::FooBar\")"));
        assert!(!t.contains("pbjson_types"));
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("pbjson_types") && n.contains("dropped")));
        assert!(p.notes.iter().any(|n| n.contains("migrated first")));
    }

    #[test]
    fn step1_reuses_an_out_dir_variable_and_resolves_descriptor_names_through_lets() {
        let src = r##"fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_file = out_dir.join("descriptors.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor_file)
        .type_attribute(".", "#[serde_with::serde_as]")
        .field_attribute(".a.B.c", "#[serde_as(as = \"serde_with::DisplayFromStr\")]")
        .compile_protos(&["proto/greet/v1/greet.proto"], &["proto"])?;
    Ok(())
}"##;
        let c = one(src);
        assert!(c.out_dir_is_existing);
        assert_eq!(c.out_dir_ident, "out_dir");
        assert_eq!(c.descriptor_set_file.as_deref(), Some("descriptors.bin"));
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let t = p.replacement.unwrap();
        assert!(
            t.starts_with("connectrpc_build::Config::new()"),
            "no second OUT_DIR variable: {t}"
        );
        assert!(t.contains(".out_dir(out_dir.join(\"connect\"))"));
        assert!(
            t.contains(".emit_descriptor_set(\"descriptors.bin\")"),
            "{t}"
        );
        assert!(!t.contains("serde"), "serde attributes are dropped: {t}");
        assert_eq!(p.notes.iter().filter(|n| n.contains("serde")).count(), 2);
    }

    #[test]
    fn step1_keeps_a_custom_out_dir_and_avoids_name_clashes() {
        let src = r#"fn main() {
    let out_dir = "src/gen";
    tonic_build::configure().out_dir(out_dir).compile(&["a.proto"], &["."]).unwrap();
}"#;
        let c = one(src);
        assert_eq!(c.out_dir_ident, "cargo_out_dir");
        let method_only = one(
            r#"fn main() { tonic_build::configure().out_dir("gen").compile(&["a.proto"], &["."]).unwrap(); }"#,
        );
        assert_eq!(
            method_only.out_dir_ident, "out_dir",
            "a method named out_dir is no clash"
        );
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let t = p.replacement.unwrap();
        assert!(t.starts_with("let cargo_out_dir = "));
        assert!(t.contains(".out_dir(cargo_out_dir.join(\"connect\"))"));
        assert!(t.contains(".out_dir(out_dir)"));
        assert!(!t.contains("join(\"tonic\")"));
        assert!(
            !t.contains("create_dir_all"),
            "a user out_dir is theirs to create"
        );
        assert_eq!(p.tonic_out_subdir, None);
    }

    #[test]
    fn step1_suffix_attribute_paths_are_spelled_out_for_buffa() {
        let src = r##"fn main() {
    let paths = ["."];
    tonic_build::configure()
        .bytes(["blob", ".greet.v1.HelloRequest.name"])
        .btree_map(paths)
        .type_attribute("Inner", "#[derive(Eq)]")
        .field_attribute("Rich.ratio", "#[allow(unused)]")
        .type_attribute("NoSuchType", "#[derive(Eq)]")
        .message_attribute(".greet.v1", "#[allow(unused)]")
        .compile(&["a.proto"], &["."])
        .unwrap();
}"##;
        let c = one(src);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let t = p.replacement.unwrap();
        assert!(t.contains(r##"config.type_attributes.push((".greet.v1.Rich.Inner".into(), "#[derive(Eq)]".into()));"##), "{t}");
        assert!(t.contains(r##"config.field_attributes.push((".greet.v1.Rich.ratio".into(), "#[allow(unused)]".into()));"##), "{t}");
        assert!(t.contains(r##"config.message_attributes.push((".greet.v1".into(), "#[allow(unused)]".into()));"##), "{t}");
        assert!(!t.contains("NoSuchType"));
        assert!(t.contains(r##"config.bytes_fields.push((".greet.v1.Rich.blob".into(), buffa_codegen::BytesRepr::Bytes));"##), "{t}");
        assert!(t.contains(r##"config.bytes_fields.push((".greet.v1.HelloRequest.name".into(), buffa_codegen::BytesRepr::Bytes));"##), "{t}");
        assert!(t.contains("config.map_fields.extend(IntoIterator::into_iter(paths).map(|path| (path.to_string(), buffa_codegen::MapRepr::BTreeMap)));"), "{t}");
        assert!(p
            .notes
            .iter()
            .any(|n| n.contains("NoSuchType") && n.contains("suffix")));
    }

    #[test]
    fn step1_keyword_package_segments() {
        let sc = Schema::from_sources(
            &[(
                "k.proto",
                "syntax = \"proto3\"; package acme.type.v2; \
                 service S { rpc Do(lower_req) returns (lower_req); } message lower_req {}",
            )],
            1,
        )
        .unwrap();
        let c = one(
            r#"fn main() { tonic_build::configure().compile(&["k.proto"], &["."]).unwrap(); }"#,
        );
        let t = generate_step1_build_rs_edit(&c, &sc);
        // Prefix entries are escaped by prost-build itself; exact entries are used verbatim.
        assert!(
            t.contains(".extern_path(\".acme.type.v2\", \"crate::connect::acme::type::v2\")"),
            "{t}"
        );
        assert!(t.contains(".extern_path(\".acme.type.v2.lower_req\", \"crate::connect::acme::r#type::v2::lower_req\")"), "{t}");
    }

    #[test]
    fn step1_exact_paths_for_packageless_rpc_types() {
        let sc = Schema::from_sources(
            &[(
                "x.proto",
                "syntax = \"proto3\"; service S { rpc Do(Req) returns (Req); } message Req {}",
            )],
            1,
        )
        .unwrap();
        let c = one(
            r#"fn main() { tonic_build::configure().compile(&["x.proto"], &["."]).unwrap(); }"#,
        );
        let t = generate_step1_build_rs_edit(&c, &sc);
        assert!(
            t.contains(".extern_path(\".Req\", \"crate::connect::Req\")"),
            "{t}"
        );
        assert!(!t.contains(".extern_path(\".\","));
        assert_eq!(sc.package("").unwrap().tonic_file(), "_.rs");
    }

    #[test]
    fn step1_unrewritable_call_returns_the_original_statement() {
        let src = r#"fn main() { let p = find(); tonic_build::compile_protos(p).unwrap(); }"#;
        let c = one(src);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        assert!(p.replacement.is_none());
        assert!(p.notes[0].contains("parent"));
        assert_eq!(
            generate_step1_build_rs_edit(&c, &schema(&["greet/v1/greet.proto"])),
            "tonic_build::compile_protos(p).unwrap();"
        );
    }

    #[test]
    fn schema_inputs_load_the_schema() {
        let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data"));
        let calls = find_codegen_calls(
            r#"fn main() {
    tonic_build::configure().compile(&["greet/v1/greet.proto"], &["."]).unwrap();
    tonic_build::configure().compile(&["v1/greet.proto"], &["greet", "."]).unwrap();
    tonic_build::compile_protos("names/v1/names.proto").unwrap();
    tonic_build::configure().compile(&[format!("x")], &["."]).unwrap();
}"#,
            &data,
        )
        .unwrap();
        let (files, includes) = calls[0].schema_inputs().unwrap();
        assert_eq!(files, vec![data.join("greet/v1/greet.proto")]);
        assert_eq!(includes, vec![data.join(".")]);
        let sc = Schema::load(&files, &includes).unwrap();
        assert!(sc.service("greet.v1.Greeter").is_some());
        // A name relative to an include directory, not to the crate.
        let (files, includes) = calls[1].schema_inputs().unwrap();
        assert_eq!(files, vec![PathBuf::from("v1/greet.proto")]);
        assert!(Schema::load(&files, &includes).is_ok());
        let (files, includes) = calls[2].schema_inputs().unwrap();
        assert_eq!(includes, vec![data.join("names/v1")]);
        let sc = Schema::load(&files, &includes).unwrap();
        assert!(sc.message("names.v1.Foo_Bar").is_some());
        assert!(calls[3].schema_inputs().unwrap_err().contains("format!"));
    }

    #[test]
    fn step1_is_idempotent() {
        let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .build_client(false)
        .compile_protos(&["proto/greet/v1/greet.proto"], &["proto"])?;
    Ok(())
}"#;
        let c = one(src);
        assert!(!c.already_step1);
        let sc = schema(&["greet/v1/greet.proto"]);
        let mut once = src.to_string();
        once.replace_range(c.stmt_range.clone(), &generate_step1_build_rs_edit(&c, &sc));
        let again = scan(&once);
        assert_eq!(
            again.calls.len(),
            1,
            "the tonic half is still a codegen call"
        );
        let c2 = &again.calls[0];
        assert!(c2.already_step1);
        assert_eq!(c2.generation, Generation::TonicProstBuild);
        let p = plan_step1_build_rs(c2, &sc, &Step1Config::default());
        assert!(p.replacement.is_none());
        let mut twice = once.clone();
        twice.replace_range(
            c2.stmt_range.clone(),
            &generate_step1_build_rs_edit(c2, &sc),
        );
        assert_eq!(twice, once);
    }

    #[test]
    fn parse_errors_surface() {
        assert!(scan_build_rs("fn main( {", Path::new(DIR)).is_err());
    }

    // ---- module side ------------------------------------------------------------------

    #[test]
    fn finds_module_includes() {
        let src = r#"pub mod pb {
    tonic::include_proto!("greet.v1");
    pub const FDS: &[u8] = tonic::include_file_descriptor_set!("greeter_descriptor");
}
pub mod raw {
    pub mod inner {
        include!(concat!(env!("OUT_DIR"), "/", "other.v2", ".rs"));
    }
}
const BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/x.bin"));
mod not_ours {
    include!("local.rs");
    include!(concat!(env!("CARGO_MANIFEST_DIR"), "/y.rs"));
}
"#;
        let found = find_proto_includes(src).unwrap();
        assert_eq!(found.len(), 4, "{found:#?}");
        assert_eq!(found[0].kind, IncludeKind::IncludeProto);
        assert_eq!(found[0].package.as_deref(), Some("greet.v1"));
        assert_eq!(found[0].out_dir_file, "greet.v1.rs");
        assert_eq!(found[0].module_path, vec!["pb".to_string()]);
        assert_eq!(
            &src[found[0].range.clone()],
            r#"tonic::include_proto!("greet.v1")"#
        );
        assert_eq!(found[1].kind, IncludeKind::FileDescriptorSet);
        assert_eq!(found[1].out_dir_file, "greeter_descriptor.bin");
        assert_eq!(
            &src[found[1].range.clone()],
            r#"tonic::include_file_descriptor_set!("greeter_descriptor")"#
        );
        assert_eq!(found[2].kind, IncludeKind::IncludeOutDir);
        assert_eq!(found[2].package.as_deref(), Some("other.v2"));
        assert_eq!(
            found[2].module_path,
            vec!["raw".to_string(), "inner".to_string()]
        );
        assert_eq!(found[3].kind, IncludeKind::IncludeBytesOutDir);
        assert_eq!(found[3].out_dir_file, "x.bin");
        assert!(found[3].module_path.is_empty());
    }

    #[test]
    fn finds_imported_and_subdir_includes() {
        let src = r#"use tonic::{include_proto, include_file_descriptor_set as fds};
mod a { include_proto!("a.v1"); }
mod b { include!(concat!(env!("OUT_DIR"), "/tonic/b.v1.rs")); }
const F: &[u8] = fds!("d");
mod c { other::include_proto!("c.v1"); }
"#;
        let found = find_proto_includes(src).unwrap();
        assert_eq!(found.len(), 3, "{found:#?}");
        assert_eq!(found[0].package.as_deref(), Some("a.v1"));
        assert_eq!(found[1].out_dir_file, "tonic/b.v1.rs");
        assert_eq!(found[1].package.as_deref(), Some("b.v1"));
        assert_eq!(found[2].kind, IncludeKind::FileDescriptorSet);
        assert_eq!(found[2].out_dir_file, "d.bin");
    }

    /// Before: `include_proto!("/grpc.examples.echo")` was taken for the package
    /// `/grpc.examples.echo` (no such package: the module was neither rewritten nor recognised by
    /// step 9). After: the package and file tonic's macro reads.
    #[test]
    fn leading_slash_names_the_same_package() {
        let src = r#"pub mod pb {
    tonic::include_proto!("/grpc.examples.echo");
    pub const FDS: &[u8] = tonic::include_file_descriptor_set!("//echo_descriptor");
}
"#;
        let found = find_proto_includes(src).unwrap();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].package.as_deref(), Some("grpc.examples.echo"));
        assert_eq!(found[0].out_dir_file, "grpc.examples.echo.rs");
        assert_eq!(found[1].out_dir_file, "echo_descriptor.bin");
    }
}
