//! Finding the files to migrate: cargo metadata (never resolving dependencies, never touching the
//! network), the module tree of every target, plain directory walks for paths given on the
//! command line, and the git state of the tree.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use anyhow::{bail, Context, Result};

use crate::rules::rename::SideEvidence;

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
    /// The cargo targets (empty for files given as paths).
    pub targets: Vec<Target>,
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
    /// Where the steps that add `connect-shim` take it from (set by the command line).
    pub shim: crate::shim::ShimSource,
    /// The manifests of every member of the workspace, selected or not (what still names the
    /// vendored shim).
    pub member_manifests: Vec<PathBuf>,
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
            targets: Vec::new(),
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
            });
        }
        crates.push(c);
    }
    Ok(Workspace {
        root: meta.workspace_root.clone().into(),
        crates,
        shim: Default::default(),
        member_manifests,
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
        if !seen.insert(canon) || path.starts_with(target_dir) {
            continue;
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
        for decl in mod_decls(&text) {
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
    let mut out = Vec::new();
    if memchr::memmem::find(text.as_bytes(), b"mod").is_none() {
        return out;
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if let Ok(ts) = proc_macro2::TokenStream::from_str(text) {
        scan_mods(ts, &mut Vec::new(), &mut out);
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

fn scan_mods(ts: proc_macro2::TokenStream, parents: &mut Vec<String>, out: &mut Vec<ModDecl>) {
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
                            scan_mods(g.stream(), parents, out);
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
                manifest_path: dir.join("Cargo.toml"),
                dir,
                files: Vec::new(),
                generated: Vec::new(),
                evidence: SideEvidence::default(),
                tonic_req: None,
                has_connectrpc: true,
                local_deps: Vec::new(),
                build_rs: None,
                targets: Vec::new(),
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
        root,
        crates: crates.into_values().collect(),
        shim: Default::default(),
        member_manifests: Vec::new(),
    })
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
    fn generated_headers() {
        assert!(is_generated(
            b"// This file is @generated by prost-build.\nfn x() {}"
        ));
        assert!(is_generated(b"// Code generated. DO NOT EDIT.\n"));
        assert!(!is_generated(b"fn a() {}\n\n\n\n\n\n// @generated later\n"));
    }
}
