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
    /// Where the script reads `OUT_DIR` besides running its codegen: code outside the item
    /// holding the first codegen call, or after the last call in it (a post-processing of the
    /// generated files, say: containerd's fixes the paths in tonic's output). Step 1 then keeps
    /// tonic's stubs at the root of `OUT_DIR`, where that code reads them
    /// ([`out_dir_post_processing`]).
    pub post_processing: Option<usize>,
}

/// See [`BuildRsScan::post_processing`]. Mentions in line comments do not count; any other
/// read does (a false positive costs nothing but the stubs' place).
pub fn out_dir_post_processing(
    src: &str,
    file: &syn::File,
    calls: &[CodegenCall],
) -> Option<usize> {
    let (first, last) = (calls.first()?, calls.last()?);
    let around = file
        .items
        .iter()
        .map(|i| range(i.span()))
        .find(|r| r.start <= first.stmt_range.start && first.stmt_range.end <= r.end)?;
    memchr::memmem::find_iter(src.as_bytes(), b"OUT_DIR").find(|&at| {
        let line = &src[src[..at].rfind('\n').map_or(0, |i| i + 1)..at];
        !line.contains("//") && (at < around.start || at >= around.end || at >= last.stmt_range.end)
    })
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
    scanner.scan.post_processing = out_dir_post_processing(src, &file, &scanner.scan.calls);
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

mod includes;
mod names;
mod options;
mod recorded;
mod rewrite;
mod scan;
#[cfg(test)]
mod tests;

pub use includes::*;
use names::*;
pub use options::*;
pub use recorded::{codegen_inputs, recorded_schema_inputs};
pub use rewrite::*;
use scan::*;
