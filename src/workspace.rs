//! Finding the files to migrate: cargo metadata (never resolving dependencies, never touching the
//! network), the module tree of every target, plain directory walks for paths given on the
//! command line, and the git state of the tree.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{bail, Context, Result};

use crate::evidence::SideEvidence;

/// Which crates (or paths) a run covers, as the CLI gives them.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub manifest_path: Option<PathBuf>,
    pub packages: Vec<String>,
    pub workspace: bool,
    pub exclude: Vec<String>,
    /// Files or directories given on the command line: walked like rustfmt or ast-grep would.
    pub paths: Vec<PathBuf>,
}

#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    /// Crate-absolute module path when the file was reached through the module tree.
    pub module_path: Option<Vec<String>>,
}

/// One crate of the selection.
#[derive(Clone, Debug)]
pub struct Crate {
    pub name: String,
    /// The package's `[features]` table (empty for files given as paths).
    pub features: BTreeMap<String, Vec<String>>,
    pub manifest_path: PathBuf,
    pub dir: PathBuf,
    pub files: Vec<SourceFile>,
    /// Files skipped because their header marks them generated.
    pub generated: Vec<PathBuf>,
    pub evidence: SideEvidence,
    /// `tonic` requirement from the manifest (`^0.12`), when it depends on tonic.
    pub tonic_req: Option<String>,
    pub has_connectrpc: bool,
    /// Workspace members this crate depends on.
    pub local_deps: Vec<String>,
    pub build_rs: Option<PathBuf>,
    /// cargo's target directory for the package (where it records what build scripts printed);
    /// `None` for files given outside a package.
    pub target_dir: Option<PathBuf>,
    /// The cargo targets (empty for files given as paths).
    pub targets: Vec<Target>,
    /// Paths given on the command line inside this cargo package: the files of `files` (and
    /// `generated`) to process; the others only give the crate's context. `None`: all of them.
    pub only: Option<HashSet<PathBuf>>,
    /// Files of the module tree that do not lex (their modules were found by a line scan):
    /// reported by every step, even one with nothing to change in them.
    pub unlexed: Vec<PathBuf>,
    /// The real location of the files of the module tree whose path is not it (reached through
    /// a symbolic link, or below a linked directory).
    pub real: std::collections::HashMap<PathBuf, PathBuf>,
    /// Files of the module tree reached through `include!("x.rs")` (a literal path, relative to
    /// the including file), with every place that includes them: their items belong to the
    /// including module, whose names they use.
    pub included: BTreeMap<PathBuf, Vec<Inclusion>>,
}

/// One `include!("x.rs")` of a file of the module tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inclusion {
    /// The including file.
    pub from: PathBuf,
    /// Byte offset of the `include!` in it.
    pub offset: usize,
    /// The crate-absolute module the included items belong to.
    pub module: Vec<String>,
}

impl Crate {
    /// Is this file of the crate one the run processes?
    pub fn selected(&self, path: &Path) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(path))
    }
}

/// One cargo target of a crate.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    /// cargo's kinds: `lib`, `rlib`, `bin`, `test`, `example`, `bench`, `custom-build`, ..
    pub kinds: Vec<String>,
    /// The crate root file.
    pub root: PathBuf,
    /// The files its module tree reached first, as a range of [`Crate::files`].
    pub files: std::ops::Range<usize>,
    /// cargo's `required-features`: the target is not built without them.
    pub required_features: Vec<String>,
}

impl Target {
    /// A library other targets of the package can use.
    pub fn is_lib(&self) -> bool {
        self.kinds
            .iter()
            .any(|k| matches!(k.as_str(), "lib" | "rlib" | "dylib"))
    }
}

#[derive(Clone, Debug)]
pub struct Workspace {
    pub root: PathBuf,
    pub crates: Vec<Crate>,
    /// What the command line chose for the run (set by `app`, read by the steps' `prepare`).
    pub options: crate::options::RunOptions,
    /// The manifests of every member of the workspace, selected or not (what still names the
    /// vendored shim).
    pub member_manifests: Vec<PathBuf>,
    /// What discovery could not do as asked (paths in a package processed without its context).
    pub notes: Vec<String>,
}

impl Workspace {
    /// Library crate names of the members (`platform_server` for package `platform-server`).
    pub fn lib_names(&self) -> std::sync::Arc<[String]> {
        self.crates
            .iter()
            .flat_map(|c| {
                let libs: Vec<String> = c
                    .targets
                    .iter()
                    .filter(|t| t.is_lib())
                    .map(|t| t.name.replace('-', "_"))
                    .collect();
                if libs.is_empty() && c.targets.is_empty() {
                    vec![c.name.replace('-', "_")]
                } else {
                    libs
                }
            })
            .collect()
    }
}

/// Does the start of this file say it is generated?
pub fn is_generated(text: &[u8]) -> bool {
    let head_end = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(4)
        .map(|(i, _)| i)
        .unwrap_or(text.len())
        .min(2048);
    let head = &text[..head_end];
    memchr::memmem::find(head, b"@generated").is_some()
        || memchr::memmem::find(head, b"DO NOT EDIT").is_some()
}

/// Discover the selection.
pub fn discover(sel: &Selection) -> Result<Workspace> {
    if !sel.paths.is_empty() {
        return discover_paths(&sel.paths);
    }
    let mut cmd = cargo_metadata::MetadataCommand::new();
    cmd.no_deps();
    if let Some(p) = &sel.manifest_path {
        cmd.manifest_path(p);
    }
    let meta = cmd
        .exec()
        .context("`cargo metadata` failed: run inside a cargo workspace or pass --manifest-path")?;
    let target_dir: PathBuf = meta.target_directory.clone().into();
    // The shim is the tool's bridge, never migrated: a vendored copy (a path dependency inside
    // the workspace) joins the workspace as a member.
    let members: Vec<&cargo_metadata::Package> = meta
        .workspace_packages()
        .into_iter()
        .filter(|p| p.name.as_str() != "connect-shim")
        .collect();
    let member_manifests: Vec<PathBuf> = members
        .iter()
        .map(|p| p.manifest_path.clone().into())
        .collect();
    let member_names: HashSet<&str> = members.iter().map(|p| p.name.as_str()).collect();
    for p in sel.packages.iter().chain(&sel.exclude) {
        if !member_names.contains(p.as_str()) {
            bail!(
                "package `{p}` is not a member of the workspace at {} (members: {})",
                meta.workspace_root,
                {
                    let mut v: Vec<_> = member_names.iter().copied().collect();
                    v.sort();
                    v.join(", ")
                }
            );
        }
    }
    let default_ids: HashSet<&cargo_metadata::PackageId> =
        meta.workspace_default_members.iter().collect();
    let selected: Vec<&cargo_metadata::Package> = members
        .into_iter()
        .filter(|p| {
            if !sel.packages.is_empty() {
                sel.packages.iter().any(|n| n == p.name.as_str())
            } else if sel.workspace || !sel.exclude.is_empty() {
                true
            } else {
                default_ids.contains(&p.id)
            }
        })
        .filter(|p| !sel.exclude.iter().any(|n| n == p.name.as_str()))
        .collect();
    let mut crates = Vec::new();
    for p in selected {
        let manifest_path: PathBuf = p.manifest_path.clone().into();
        let dir = manifest_path.parent().unwrap().to_path_buf();
        let mut c = Crate {
            name: p.name.to_string(),
            features: p
                .features
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            manifest_path,
            dir,
            files: Vec::new(),
            generated: Vec::new(),
            evidence: SideEvidence::default(),
            tonic_req: p
                .dependencies
                .iter()
                .find(|d| d.name == "tonic")
                .map(|d| d.req.to_string()),
            has_connectrpc: p.dependencies.iter().any(|d| d.name == "connectrpc"),
            local_deps: p
                .dependencies
                .iter()
                .filter(|d| member_names.contains(d.name.as_str()))
                .map(|d| d.name.clone())
                .collect(),
            build_rs: None,
            target_dir: Some(target_dir.clone()),
            targets: Vec::new(),
            only: None,
            unlexed: Vec::new(),
            real: Default::default(),
            included: Default::default(),
        };
        let mut seen = HashSet::new();
        for t in &p.targets {
            let root: PathBuf = t.src_path.clone().into();
            let is_build = t.kind.iter().any(|k| k.to_string() == "custom-build");
            if is_build {
                c.build_rs = Some(root.clone());
            }
            let start = c.files.len();
            walk_modules(&root, vec!["crate".into()], &target_dir, &mut seen, &mut c);
            c.targets.push(Target {
                name: t.name.to_string(),
                kinds: t.kind.iter().map(|k| k.to_string()).collect(),
                root,
                files: start..c.files.len(),
                required_features: t.required_features.clone(),
            });
        }
        crates.push(c);
    }
    Ok(Workspace {
        root: meta.workspace_root.clone().into(),
        crates,
        options: Default::default(),
        member_manifests,
        notes: Vec::new(),
    })
}

/// Follow `mod` declarations from a target root.
fn walk_modules(
    root: &Path,
    module: Vec<String>,
    target_dir: &Path,
    seen: &mut HashSet<PathBuf>,
    c: &mut Crate,
) {
    let mut stack = vec![(root.to_path_buf(), module, true)];
    while let Some((path, module, is_root)) = stack.pop() {
        let Ok(canon) = path.canonicalize() else {
            continue;
        };
        if seen.contains(&canon) || path.starts_with(target_dir) {
            continue;
        }
        seen.insert(canon.clone());
        if canon != path {
            c.real.insert(path.clone(), canon);
        }
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if is_generated(&bytes) {
            c.generated.push(path);
            continue;
        }
        let ev = SideEvidence::scan(&bytes);
        c.evidence.add(ev);
        let Ok(text) = String::from_utf8(bytes) else {
            c.files.push(SourceFile {
                path,
                module_path: Some(module),
            });
            continue;
        };
        let is_mod_rs = is_root || path.file_name().is_some_and(|n| n == "mod.rs");
        let dir = path.parent().unwrap_or(Path::new("."));
        let own_dir = if is_mod_rs {
            dir.to_path_buf()
        } else {
            dir.join(path.file_stem().unwrap_or_default())
        };
        let (decls, lexed) = mod_decls_checked(&text);
        if !lexed {
            c.unlexed.push(path.clone());
        }
        for decl in decls {
            let mut base = own_dir.clone();
            for p in &decl.inline_parents {
                base.push(p);
            }
            let candidates = match &decl.path_attr {
                Some(p) => {
                    let rel_base = if decl.inline_parents.is_empty() {
                        dir.to_path_buf()
                    } else {
                        base.clone()
                    };
                    vec![rel_base.join(p)]
                }
                None => vec![
                    base.join(format!("{}.rs", decl.name)),
                    base.join(&decl.name).join("mod.rs"),
                ],
            };
            if let Some(found) = candidates.into_iter().find(|p| p.is_file()) {
                let mut m = module.clone();
                m.extend(decl.inline_parents.iter().cloned());
                m.push(decl.name.clone());
                // A `#[path]` file owns a directory like a mod.rs does.
                stack.push((found, m, decl.path_attr.is_some()));
            }
        }
        // `include!("x.rs")`: the file's items are the including module's (its path is
        // relative to the including file's directory).
        for inc in include_decls(&text) {
            let found = normalize(&dir.join(&inc.path));
            if !found.is_file() || found.starts_with(target_dir) {
                continue;
            }
            let mut m = module.clone();
            m.extend(inc.inline_parents.iter().cloned());
            let inclusion = Inclusion {
                from: path.clone(),
                offset: inc.offset,
                module: m.clone(),
            };
            let all = c.included.entry(found.clone()).or_default();
            if !all.contains(&inclusion) {
                all.push(inclusion);
            }
            stack.push((found, m, false));
        }
        c.files.push(SourceFile {
            path,
            module_path: Some(module),
        });
    }
}

/// A `mod name;` declaration found by lexing a file.
#[derive(Debug, PartialEq, Eq)]
pub struct ModDecl {
    pub name: String,
    pub path_attr: Option<String>,
    pub inline_parents: Vec<String>,
}

/// Out-of-line module declarations of a file, with `#[path = ".."]` and enclosing inline modules.
/// Lexing only (no parse): cheap, and right for any file that compiles.
pub fn mod_decls(text: &str) -> Vec<ModDecl> {
    mod_decls_checked(text).0
}

/// [`mod_decls`], and whether the file lexed. A file that does not (an unbalanced delimiter)
/// still has its `mod name;` lines found by a line scan, so the modules of a broken crate root
/// are processed.
pub fn mod_decls_checked(text: &str) -> (Vec<ModDecl>, bool) {
    let mut out = Vec::new();
    if memchr::memmem::find(text.as_bytes(), b"mod").is_none() {
        return (out, true);
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lexed = match proc_macro2::TokenStream::from_str(text) {
        Ok(ts) => {
            scan_mods(ts, &mut Vec::new(), &mut out, false);
            true
        }
        Err(_) => {
            out = mod_decls_by_lines(text);
            false
        }
    };
    proc_macro2::extra::invalidate_current_thread_spans();
    (out, lexed)
}

/// An `include!("x.rs")` found by lexing a file: the literal path, the inline modules around
/// it, and its byte offset (in the text after a BOM).
#[derive(Debug, PartialEq, Eq)]
pub struct IncludeDecl {
    pub path: String,
    pub inline_parents: Vec<String>,
    pub offset: usize,
}

/// The `include!` calls of a file whose argument is a plain string literal naming a `.rs`
/// file (`include!(concat!(env!("OUT_DIR"), ..))` is generated code, not a source file), in
/// item or expression position, with the inline modules they sit in.
pub fn include_decls(text: &str) -> Vec<IncludeDecl> {
    let mut out = Vec::new();
    if memchr::memmem::find(text.as_bytes(), b"include!").is_none()
        && memchr::memmem::find(text.as_bytes(), b"include !").is_none()
    {
        return out;
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Ok(ts) = proc_macro2::TokenStream::from_str(text) {
        scan_includes(ts, &mut Vec::new(), &mut out);
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

fn scan_includes(
    ts: proc_macro2::TokenStream,
    parents: &mut Vec<String>,
    out: &mut Vec<IncludeDecl>,
) {
    use proc_macro2::TokenTree;
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if id == "include" => {
                let bang =
                    matches!(tokens.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                let after_path =
                    i >= 2 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
                let qualified_std = !after_path
                    || matches!(tokens.get(i.wrapping_sub(3)), Some(TokenTree::Ident(c)) if c == "std" || c == "core");
                let Some(TokenTree::Group(g)) = tokens.get(i + 2) else {
                    continue;
                };
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let lit = match &inner[..] {
                    [TokenTree::Literal(l)] => l.to_string(),
                    _ => continue,
                };
                let Some(path) = lit
                    .strip_prefix('"')
                    .and_then(|l| l.strip_suffix('"'))
                    .filter(|p| p.ends_with(".rs") && !p.contains('\\'))
                else {
                    continue;
                };
                if bang && qualified_std {
                    out.push(IncludeDecl {
                        path: path.to_string(),
                        inline_parents: parents.clone(),
                        offset: id.span().byte_range().start,
                    });
                }
            }
            TokenTree::Group(g) => {
                // `mod name { .. }`: the includes inside belong to that module.
                let named = match (tokens.get(i.wrapping_sub(2)), tokens.get(i.wrapping_sub(1))) {
                    (Some(TokenTree::Ident(m)), Some(TokenTree::Ident(n)))
                        if m == "mod" && g.delimiter() == proc_macro2::Delimiter::Brace =>
                    {
                        let n = n.to_string();
                        Some(n.strip_prefix("r#").unwrap_or(&n).to_string())
                    }
                    _ => None,
                };
                if let Some(n) = &named {
                    parents.push(n.clone());
                }
                scan_includes(g.stream(), parents, out);
                if named.is_some() {
                    parents.pop();
                }
            }
            _ => {}
        }
    }
}

/// `mod name;` declarations of a file that does not lex, one per line (with a `#[path]` on
/// the same or an earlier attribute line); those inside inline modules are not found.
fn mod_decls_by_lines(text: &str) -> Vec<ModDecl> {
    let mut out = Vec::new();
    let mut path_attr: Option<String> = None;
    for line in text.lines() {
        let mut t = line.trim();
        while let Some(rest) = t.strip_prefix("#[") {
            let Some(end) = rest.find(']') else {
                break;
            };
            let attr = &rest[..end];
            if attr.trim_start().starts_with("path") {
                if let (Some(a), Some(b)) = (attr.find('"'), attr.rfind('"')) {
                    if b > a {
                        path_attr = Some(attr[a + 1..b].to_string());
                    }
                }
            }
            t = rest[end + 1..].trim_start();
        }
        if t.is_empty() || t.starts_with("//") {
            continue;
        }
        let mut rest = t;
        if let Some(r) = rest.strip_prefix("pub") {
            rest = r.trim_start();
            if rest.starts_with('(') {
                rest = rest.find(')').map_or("", |i| rest[i + 1..].trim_start());
            }
        }
        let name = rest
            .strip_prefix("mod ")
            .and_then(|r| r.trim().strip_suffix(';'))
            .map(str::trim);
        match name {
            Some(n)
                if !n.is_empty()
                    && n.trim_start_matches("r#")
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_') =>
            {
                out.push(ModDecl {
                    name: n.trim_start_matches("r#").to_string(),
                    path_attr: path_attr.take(),
                    inline_parents: Vec::new(),
                });
            }
            _ => path_attr = None,
        }
    }
    out
}

/// `in_macro`: the stream is the body of an item-level macro call (`cfg_if::cfg_if! { if
/// #[cfg(..)] { mod server; } }`): its blocks are scanned too.
fn scan_mods(
    ts: proc_macro2::TokenStream,
    parents: &mut Vec<String>,
    out: &mut Vec<ModDecl>,
    in_macro: bool,
) {
    use proc_macro2::{Delimiter, TokenTree};
    let tokens: Vec<TokenTree> = ts.into_iter().collect();
    let mut path_attr: Option<String> = None;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                if let Some(TokenTree::Group(g)) = tokens.get(i + 1) {
                    if g.delimiter() == Delimiter::Bracket {
                        let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                        if let [TokenTree::Ident(id), TokenTree::Punct(eq), TokenTree::Literal(l)] =
                            &inner[..]
                        {
                            if id == "path" && eq.as_char() == '=' {
                                let s = l.to_string();
                                path_attr = Some(s.trim_matches('"').to_string());
                            }
                        }
                        i += 2;
                        continue;
                    }
                }
                i += 1;
            }
            TokenTree::Ident(id) if id == "mod" => {
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    let name = name.to_string();
                    let name = name.strip_prefix("r#").unwrap_or(&name).to_string();
                    match tokens.get(i + 2) {
                        Some(TokenTree::Punct(p)) if p.as_char() == ';' => {
                            out.push(ModDecl {
                                name,
                                path_attr: path_attr.take(),
                                inline_parents: parents.clone(),
                            });
                            i += 3;
                            continue;
                        }
                        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                            parents.push(name);
                            scan_mods(g.stream(), parents, out, false);
                            parents.pop();
                            path_attr = None;
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            TokenTree::Ident(id) if id == "pub" || id == "unsafe" => i += 1,
            // An item-level macro call's body (not a `macro_rules!` definition: its `mod`s are
            // templates).
            TokenTree::Punct(p)
                if p.as_char() == '!'
                    && !matches!(tokens.get(i.wrapping_sub(1)), Some(TokenTree::Ident(m)) if m == "macro_rules") =>
            {
                if let Some(TokenTree::Group(g)) = tokens.get(i + 1) {
                    scan_mods(g.stream(), parents, out, true);
                    i += 2;
                    continue;
                }
                path_attr = None;
                i += 1;
            }
            TokenTree::Group(g) if in_macro && g.delimiter() == Delimiter::Brace => {
                scan_mods(g.stream(), parents, out, true);
                path_attr = None;
                i += 1;
            }
            TokenTree::Group(g)
                if g.delimiter() == Delimiter::Parenthesis
                    && matches!(tokens.get(i.wrapping_sub(1)), Some(TokenTree::Ident(p)) if p == "pub") =>
            {
                i += 1
            }
            _ => {
                path_attr = None;
                i += 1;
            }
        }
    }
}

/// Walk files and directories given on the command line. Files are grouped by the nearest
/// directory holding a `Cargo.toml` (their package), which gives the crate-level evidence of
/// server or client code that cargo discovery would give.
fn discover_paths(paths: &[PathBuf]) -> Result<Workspace> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_file() {
            files.push(p.clone());
        } else if p.is_dir() {
            walk_dir(p, &mut files)?;
        } else {
            bail!("{}: no such file or directory", p.display());
        }
    }
    files.sort();
    files.dedup();
    let root = std::env::current_dir()?;
    let mut package_of: BTreeMap<PathBuf, Option<PathBuf>> = BTreeMap::new();
    let (in_crates, mut files, notes) = crate_context(&root, paths, files, &mut package_of);
    // Reports and diffs are relative to the current directory, or to the package above it
    // when a path given inside a package brings the package's manifest and build script in.
    let mut report_root = root.clone();
    for c in &in_crates {
        let dir = normalize(&c.dir);
        while !dir.starts_with(&report_root) {
            if !report_root.pop() {
                break;
            }
        }
    }
    if report_root.parent().is_none() {
        report_root = root.clone();
    }
    if report_root != root {
        files = files.into_iter().map(|f| root.join(f)).collect();
    }
    let mut crates: BTreeMap<Option<PathBuf>, Crate> = BTreeMap::new();
    // Read and scan in parallel; group in order.
    use rayon::prelude::*;
    let scanned: Vec<(PathBuf, Option<(bool, SideEvidence)>)> = files
        .into_par_iter()
        .map(|f| {
            let scan = std::fs::read(&f)
                .ok()
                .map(|b| (is_generated(&b), SideEvidence::scan(&b)));
            (f, scan)
        })
        .collect();
    for (f, scan) in scanned {
        let dir = f.parent().unwrap_or(Path::new(".")).to_path_buf();
        let pkg = package_dir(&dir, &mut package_of);
        let c = crates.entry(pkg.clone()).or_insert_with(|| {
            let dir = pkg.clone().unwrap_or_else(|| root.clone());
            Crate {
                name: match &pkg {
                    Some(d) => rel(&root, d),
                    None => "(paths)".into(),
                },
                features: BTreeMap::new(),
                manifest_path: dir.join("Cargo.toml"),
                dir,
                files: Vec::new(),
                generated: Vec::new(),
                evidence: SideEvidence::default(),
                tonic_req: None,
                has_connectrpc: true,
                local_deps: Vec::new(),
                build_rs: None,
                target_dir: None,
                targets: Vec::new(),
                only: None,
                unlexed: Vec::new(),
                real: Default::default(),
                included: Default::default(),
            }
        });
        let Some((generated, ev)) = scan else {
            c.files.push(SourceFile {
                path: f,
                module_path: None,
            });
            continue;
        };
        if generated {
            c.generated.push(f);
            continue;
        }
        c.evidence.add(ev);
        c.files.push(SourceFile {
            path: f,
            module_path: None,
        });
    }
    Ok(Workspace {
        root: report_root,
        crates: in_crates.into_iter().chain(crates.into_values()).collect(),
        options: Default::default(),
        member_manifests: Vec::new(),
        notes,
    })
}

/// Paths inside a cargo package are processed with the package's context, as a run on the
/// package would (its targets, schema, build script, manifest): the package is discovered with
/// cargo, and the given files its module tree reaches are selected in it (with its build script,
/// which those files' code generation lives in). Returns those crates and the files left over,
/// processed as plain files (not in a package, or not reached by its module tree), and notes
/// saying which files of a package were left without its context, and why.
fn crate_context(
    root: &Path,
    paths: &[PathBuf],
    files: Vec<PathBuf>,
    package_of: &mut BTreeMap<PathBuf, Option<PathBuf>>,
) -> (Vec<Crate>, Vec<PathBuf>, Vec<String>) {
    let mut manifests = Vec::new();
    for p in paths {
        let abs = root.join(p);
        let dir = if abs.is_dir() {
            abs
        } else {
            abs.parent().map(Path::to_path_buf).unwrap_or(abs)
        };
        if let Some(pkg) = package_dir(&dir, package_of) {
            // Below a hidden or `target` directory of the package, nothing is its source (a
            // corpus kept in `.corpus/`, build output): no cargo run for it.
            let hidden = dir.strip_prefix(&pkg).is_ok_and(|r| {
                r.components().any(|c| {
                    let c = c.as_os_str().to_string_lossy();
                    c.starts_with('.') || c == "target"
                })
            });
            if hidden {
                continue;
            }
            let m = pkg.join("Cargo.toml");
            if !manifests.contains(&m) {
                manifests.push(m);
            }
        }
    }
    // Compared lexically (no file system calls per file: a directory may hold a whole corpus).
    let key = |p: &Path| normalize(&root.join(p));
    let mut left: std::collections::HashMap<PathBuf, PathBuf> =
        files.into_iter().map(|f| (key(&f), f)).collect();
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for m in manifests {
        let want = key(&m);
        let pkg_dir = want.parent().map(Path::to_path_buf).unwrap_or_default();
        // The files left whose own package is this one (not one nested below it).
        let mut under = |left: &std::collections::HashMap<PathBuf, PathBuf>| {
            let mut v: Vec<String> = left
                .keys()
                .filter(|k| {
                    k.starts_with(&pkg_dir)
                        && k.parent()
                            .and_then(|d| package_dir(d, package_of))
                            .as_deref()
                            == Some(pkg_dir.as_path())
                })
                .map(|k| rel(root, k))
                .collect();
            v.sort();
            match v.len() {
                0 => None,
                1 => Some(v.remove(0)),
                n => Some(format!("{n} files ({}, ..)", v[0])),
            }
        };
        let ws = match discover(&Selection {
            manifest_path: Some(m.clone()),
            workspace: true,
            ..Default::default()
        }) {
            Ok(ws) => ws,
            Err(e) => {
                if let Some(files) = under(&left) {
                    notes.push(format!(
                        "{files}: processed without the context of the package at {} (schema, build script): {e:#}",
                        m.display()
                    ));
                }
                continue;
            }
        };
        let Some(mut c) = ws
            .crates
            .into_iter()
            .find(|c| key(&c.manifest_path) == want)
        else {
            continue;
        };
        let mut only = HashSet::new();
        for f in c.files.iter().map(|f| &f.path).chain(&c.generated) {
            if left.remove(&key(f)).is_some() {
                only.insert(f.clone());
            }
        }
        if let Some(files) = under(&left) {
            notes.push(format!(
                "{files}: in package `{}`, but no target of it reaches there (no `mod` leads to it): processed as plain files, without the package's context",
                c.name,
            ));
        }
        if only.is_empty() {
            continue;
        }
        if let Some(b) = &c.build_rs {
            only.insert(b.clone());
        }
        c.only = Some(only);
        out.push(c);
    }
    let mut rest: Vec<PathBuf> = left.into_values().collect();
    rest.sort();
    (out, rest, notes)
}

/// `p` without `.` components and with `..` taken lexically.
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// The nearest ancestor of `dir` (itself included) that holds a `Cargo.toml`.
fn package_dir(dir: &Path, cache: &mut BTreeMap<PathBuf, Option<PathBuf>>) -> Option<PathBuf> {
    if let Some(v) = cache.get(dir) {
        return v.clone();
    }
    let v = if dir.join("Cargo.toml").is_file() {
        Some(dir.to_path_buf())
    } else {
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => package_dir(p, cache),
            _ => None,
        }
    };
    cache.insert(dir.to_path_buf(), v.clone());
    v
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
        for entry in rd {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                if name.starts_with('.') || name == "target" {
                    continue;
                }
                stack.push(entry.path());
            } else if ft.is_file() && name.ends_with(".rs") {
                out.push(entry.path());
            }
        }
    }
    Ok(())
}

/// Files with uncommitted or staged changes under `root`, or `None` when `root` is not in a git
/// work tree.
pub fn dirty_files(root: &Path) -> Option<Vec<String>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "status",
            "--porcelain=v1",
            "--untracked-files=normal",
            "--",
            ".",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter(|l| l.len() > 3)
            .map(|l| l[3..].to_string())
            .collect(),
    )
}

/// Path of `p` relative to `root` with `/` separators, for reports and diffs.
pub fn rel(root: &Path, p: &Path) -> String {
    let r = p.strip_prefix(root).unwrap_or(p);
    r.to_string_lossy().replace('\\', "/")
}

/// Group the crates by what they contain, for `plan`.
pub fn codegen_kind(c: &Crate, all: &BTreeMap<String, &Crate>) -> String {
    if let Some(b) = &c.build_rs {
        if let Ok(t) = std::fs::read_to_string(b) {
            if t.contains("tonic_build") || t.contains("tonic_prost_build") {
                return "build.rs (tonic codegen)".into();
            }
        }
    }
    for f in c.generated.iter().chain(c.files.iter().map(|f| &f.path)) {
        if let Ok(t) = std::fs::read(f) {
            if memchr::memmem::find(&t, b"tonic::codegen").is_some() {
                return format!("checked-in generated code ({})", rel(&c.dir, f));
            }
        }
    }
    for d in &c.local_deps {
        if let Some(dep) = all.get(d) {
            if dep.build_rs.is_some() && dep.tonic_req.is_some() {
                return format!("stubs from crate `{d}`");
            }
        }
    }
    if c.tonic_req.is_some() {
        "none found".into()
    } else {
        "no tonic".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_modules_declared_in_item_level_macro_calls() {
        let src = r#"
            #![recursion_limit = "1024"]
            cfg_if::cfg_if! {
                if #[cfg(feature = "server")] {
                    mod convert;
                    pub mod server;
                } else {
                    mod stub;
                }
            }
            macro_rules! m { () => { mod templated; } }
            fn f() { cfg_if::cfg_if! { if #[cfg(x)] { mod in_fn; } } }
        "#;
        let names: Vec<String> = mod_decls(src).into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["convert", "server", "stub"]);
    }

    #[test]
    fn finds_out_of_line_modules_with_path_and_inline_parents() {
        let src = r#"
            //! docs mention mod fake;
            mod a;
            pub(crate) mod b;
            #[path = "other/c.rs"]
            mod c;
            mod inline { mod d; fn f() {} }
            #[cfg(test)]
            mod tests { use super::*; }
            fn g() { let modx = 1; }
        "#;
        let v = mod_decls(src);
        let names: Vec<_> = v.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(v[2].path_attr.as_deref(), Some("other/c.rs"));
        assert_eq!(v[3].inline_parents, ["inline"]);
        assert_eq!(v[0].path_attr, None);
    }

    #[test]
    fn finds_includes_of_source_files_with_their_inline_modules() {
        let src = r#"
            mod pb { include!(concat!(env!("OUT_DIR"), "/x.rs")); }
            include!("top.rs");
            #[cfg(test)]
            mod tests {
                use super::*;
                mod deep { std::include!("../shared/cases.rs"); }
                fn f() -> &'static str { include_str!("data.rs") }
                const X: u8 = include!("value.txt");
            }
            fn g() { let v = include!("body.rs"); }
        "#;
        let got: Vec<(String, Vec<String>)> = include_decls(src)
            .into_iter()
            .map(|d| (d.path, d.inline_parents))
            .collect();
        assert_eq!(
            got,
            vec![
                ("top.rs".to_string(), vec![]),
                (
                    "../shared/cases.rs".to_string(),
                    vec!["tests".to_string(), "deep".to_string()]
                ),
                ("body.rs".to_string(), vec![]),
            ]
        );
        let at = include_decls(src)[0].offset;
        assert!(src[at..].starts_with("include!(\"top.rs\")"));
    }

    #[test]
    fn modules_of_a_file_that_does_not_lex_are_found_by_lines() {
        let src = "mod a;\npub(crate) mod b;\n#[path = \"x/c.rs\"]\n#[allow(dead_code)]\nmod c;\n// mod d;\nfn broken( {\n";
        let (v, lexed) = mod_decls_checked(src);
        assert!(!lexed);
        let names: Vec<_> = v.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(v[2].path_attr.as_deref(), Some("x/c.rs"));
        assert_eq!(v[0].path_attr, None);
        assert!(mod_decls_checked("mod a;\nfn ok() {}\n").1);
    }

    #[test]
    fn generated_headers() {
        assert!(is_generated(
            b"// This file is @generated by prost-build.\nfn x() {}"
        ));
        assert!(is_generated(b"// Code generated. DO NOT EDIT.\n"));
        assert!(!is_generated(b"fn a() {}\n\n\n\n\n\n// @generated later\n"));
    }
}
