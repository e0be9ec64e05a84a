//! What a build script compiled when it last ran, as cargo recorded it.
//!
//! A build script whose `.proto` paths are computed (joined onto `CARGO_MANIFEST_DIR`, mapped
//! over a list, read from a directory) cannot be read by the tool, but prost-build and
//! tonic-build print `cargo:rerun-if-changed=` for every file and include directory they are
//! given, and cargo keeps what a build script printed in
//! `<target>/[<triple>/]<profile>/build/<package>-<hash>/output`. That record, the newest one of
//! the package, names the schema the script compiled. tonic-prost-build 0.14 prints no such
//! directive; its generated files, named after their packages, then name the packages, and the
//! package's `.proto` files declaring them are the schema.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The `.proto` files and include directories of a build script's codegen `calls`: read from
/// the calls where their paths are literals; where one is computed, what cargo recorded of the
/// script's last run in `target_dir` (every call's files, [`recorded_schema_inputs`]). The error
/// says why a call's paths cannot be read, when nothing was recorded either.
pub fn codegen_inputs(
    calls: &[super::CodegenCall],
    target_dir: Option<&Path>,
    package: &str,
    dir: &Path,
) -> Result<(Vec<PathBuf>, Vec<PathBuf>), String> {
    let mut files = Vec::new();
    let mut includes = Vec::new();
    for call in calls {
        match call.schema_inputs() {
            Ok((f, i)) => {
                files.extend(f);
                includes.extend(i);
            }
            Err(why) => {
                return target_dir
                    .and_then(|t| recorded_schema_inputs(t, package, dir))
                    .ok_or(why)
            }
        }
    }
    Ok((files, includes))
}

/// The `.proto` files and include directories of the newest record of `package`'s build script
/// under `target_dir` that names at least one `.proto` file, every one of them existing
/// (relative paths resolved against the package directory `dir`, where cargo runs the script).
/// `None`: the package was never built there, or its script named no `.proto` file.
pub fn recorded_schema_inputs(
    target_dir: &Path,
    package: &str,
    dir: &Path,
) -> Option<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut records: Vec<(SystemTime, PathBuf)> = build_dirs(target_dir)
        .into_iter()
        .flat_map(|b| std::fs::read_dir(b).into_iter().flatten().flatten())
        .filter(|e| is_package_dir(&e.file_name().to_string_lossy(), package))
        .map(|e| e.path().join("output"))
        .filter_map(|out| Some((std::fs::metadata(&out).ok()?.modified().ok()?, out)))
        .collect();
    records.sort_by_key(|r| std::cmp::Reverse(r.0));
    // The package directory's `.proto` files, read once whatever the number of records.
    let protos = std::cell::OnceCell::new();
    let protos = || protos.get_or_init(|| proto_files(dir)).as_slice();
    records.iter().find_map(|(_, out)| {
        schema_inputs_of(&std::fs::read_to_string(out).ok()?, dir, protos)
            .or_else(|| generated_packages_inputs(&out.with_file_name("out"), protos()))
    })
}

/// What a record's `out` directory shows when the script printed no rerun directive
/// (tonic-prost-build 0.14 prints none): prost names each generated file after its package
/// (`lnrpc.rs`), so the packages compiled are known; the `.proto` files of the package directory
/// (`protos`) that declare them are the files, and their include directories are where their imports
/// are found (`import "lightning.proto"` found as `vendor/lightning.proto`: `vendor`).
fn generated_packages_inputs(
    out: &Path,
    protos: &[ProtoFile],
) -> Option<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut packages = std::collections::HashSet::new();
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                packages.extend(p.file_stem().map(|s| s.to_string_lossy().into_owned()));
            }
        }
    }
    let files: Vec<PathBuf> = protos
        .iter()
        .filter(|p| p.package.as_ref().is_some_and(|k| packages.contains(k)))
        .map(|p| p.path.clone())
        .collect();
    if files.is_empty() {
        return None;
    }
    let includes = include_roots(&files, protos);
    Some((files, includes))
}

/// The include directories of `files`: where the imports of the package directory's `.proto`
/// files are found (each import found at the end of a file's path names one), most used first;
/// a file under none of them is named from its own directory.
fn include_roots(files: &[PathBuf], protos: &[ProtoFile]) -> Vec<PathBuf> {
    let mut roots: Vec<(PathBuf, usize)> = Vec::new();
    for import in protos.iter().flat_map(|p| &p.imports) {
        for p in protos {
            let Some(root) = strip_tail(&p.path, import) else {
                continue;
            };
            match roots.iter_mut().find(|(r, _)| *r == root) {
                Some((_, n)) => *n += 1,
                None => roots.push((root, 1)),
            }
        }
    }
    roots.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let mut includes: Vec<PathBuf> = roots.into_iter().map(|(r, _)| r).collect();
    for f in files {
        if !includes.iter().any(|r| f.starts_with(r)) {
            includes.extend(f.parent().map(Path::to_path_buf));
        }
    }
    includes
}

/// A `.proto` file of the package directory: its package and imports.
struct ProtoFile {
    path: PathBuf,
    package: Option<String>,
    imports: Vec<String>,
}

/// The `.proto` files below `dir` (build output, hidden and dependency directories left out).
fn proto_files(dir: &Path) -> Vec<ProtoFile> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                if !name.starts_with('.') && name != "target" && name != "node_modules" {
                    stack.push(p);
                }
            } else if name.ends_with(".proto") && out.len() < 10_000 {
                let Ok(text) = std::fs::read_to_string(&p) else {
                    continue;
                };
                let (package, imports) = package_and_imports(&text);
                out.push(ProtoFile {
                    path: p,
                    package,
                    imports,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The `package` and `import` statements of a `.proto` file's text (comments left out).
fn package_and_imports(text: &str) -> (Option<String>, Vec<String>) {
    let mut package = None;
    let mut imports = Vec::new();
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("package ") {
            package = Some(rest.trim_end_matches(';').trim().to_string());
        } else if let Some(rest) = line.strip_prefix("import ") {
            let rest = rest
                .trim_start_matches("public ")
                .trim_start_matches("weak ")
                .trim();
            if let Some(name) = rest.trim_end_matches(';').trim().strip_prefix('"') {
                imports.push(name.trim_end_matches('"').to_string());
            }
        }
    }
    (package, imports)
}

/// `path` without its last components `tail` (`vendor/routerrpc/router.proto` without
/// `routerrpc/router.proto`: `vendor`).
fn strip_tail(path: &Path, tail: &str) -> Option<PathBuf> {
    let mut p = path.to_path_buf();
    for part in Path::new(tail).components().rev() {
        if p.file_name() != Some(part.as_os_str()) {
            return None;
        }
        p.pop();
    }
    Some(p)
}

/// `<target>/<profile>/build` and `<target>/<triple>/<profile>/build`.
fn build_dirs(target_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(target_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        let build = e.path().join("build");
        if build.is_dir() {
            out.push(build);
        }
        for inner in std::fs::read_dir(e.path()).into_iter().flatten().flatten() {
            let build = inner.path().join("build");
            if build.is_dir() {
                out.push(build);
            }
        }
    }
    out
}

/// `<package>-<hash>`: the package's name, then cargo's hexadecimal hash (so that `foo` does
/// not take `foo-bar`'s directories).
fn is_package_dir(name: &str, package: &str) -> bool {
    name.strip_prefix(package)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `.proto` files and directories a build script's output names in its rerun directives.
fn schema_inputs_of<'p>(
    output: &str,
    dir: &Path,
    protos: impl FnOnce() -> &'p [ProtoFile],
) -> Option<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut includes = Vec::new();
    for line in output.lines() {
        let Some(path) = line
            .strip_prefix("cargo:rerun-if-changed=")
            .or_else(|| line.strip_prefix("cargo::rerun-if-changed="))
        else {
            continue;
        };
        let path = dir.join(path.trim());
        if path.extension().is_some_and(|e| e == "proto") {
            if !path.is_file() {
                // Compiled from somewhere that is gone (another checkout): not this tree's.
                return None;
            }
            if !files.contains(&path) {
                files.push(path);
            }
        } else if path.is_dir() && !includes.contains(&path) {
            includes.push(path);
        }
    }
    if files.is_empty() {
        return None;
    }
    // connectrpc-build names its files but not its include directories.
    if includes.is_empty() {
        includes = include_roots(&files, protos());
    }
    Some((files, includes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A call whose paths are computed takes what cargo recorded of the script's last run
    /// (tonic-build 0.12/0.13 print a rerun directive per file and include); with no record,
    /// the error says why the paths cannot be read.
    #[test]
    fn computed_paths_are_read_from_the_record_of_the_last_build() {
        let t = tempfile::tempdir().unwrap();
        let pkg = t.path().join("inventory");
        std::fs::create_dir_all(pkg.join("proto/inv")).unwrap();
        std::fs::write(pkg.join("proto/inv/stock.proto"), "syntax = \"proto3\";").unwrap();
        let script = "fn main() {\n    let root = std::path::PathBuf::from(std::env::var(\"ROOT\").unwrap());\n    let files: Vec<_> = [\"inv/stock.proto\"].iter().map(|n| root.join(n)).collect();\n    tonic_build::configure().compile_protos(&files, &[root]).unwrap();\n}\n";
        let calls = super::super::find_codegen_calls(script, &pkg).unwrap();
        let target = t.path().join("target");
        let why = codegen_inputs(&calls, Some(&target), "inventory", &pkg).unwrap_err();
        assert!(why.contains("computed"), "{why}");
        let d = target.join("debug/build/inventory-0f65");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(
            d.join("output"),
            format!(
                "cargo:rerun-if-changed={0}/proto/inv/stock.proto\ncargo:rerun-if-changed={0}/proto\n",
                pkg.display()
            ),
        )
        .unwrap();
        let (files, includes) = codegen_inputs(&calls, Some(&target), "inventory", &pkg).unwrap();
        assert_eq!(files, vec![pkg.join("proto/inv/stock.proto")]);
        assert_eq!(includes, vec![pkg.join("proto")]);
        assert!(codegen_inputs(&calls, None, "inventory", &pkg).is_err());
    }

    /// A record with no rerun directive (tonic-prost-build 0.14): the packages of the files in
    /// its `out` directory give the `.proto` files declaring them, and their imports the include
    /// directory; a package nothing generated is not taken.
    #[test]
    fn with_no_directive_the_generated_packages_give_the_files() {
        let t = tempfile::tempdir().unwrap();
        let pkg = t.path().join("lnd");
        std::fs::create_dir_all(pkg.join("vendor/routerrpc")).unwrap();
        std::fs::create_dir_all(pkg.join("tests")).unwrap();
        std::fs::write(
            pkg.join("vendor/lightning.proto"),
            "syntax = \"proto3\";\npackage lnrpc; // main\n",
        )
        .unwrap();
        std::fs::write(
            pkg.join("vendor/routerrpc/router.proto"),
            "syntax = \"proto3\";\n\nimport \"lightning.proto\";\n// import \"gone.proto\";\npackage routerrpc;\n",
        )
        .unwrap();
        std::fs::write(
            pkg.join("tests/extra.proto"),
            "syntax = \"proto3\";\npackage testing;\n",
        )
        .unwrap();
        let record = t.path().join("target/debug/build/lnd-9a8b");
        std::fs::create_dir_all(record.join("out/sub")).unwrap();
        std::fs::write(record.join("output"), "").unwrap();
        std::fs::write(record.join("out/lnrpc.rs"), "").unwrap();
        std::fs::write(record.join("out/sub/routerrpc.rs"), "").unwrap();
        let (files, includes) =
            recorded_schema_inputs(&t.path().join("target"), "lnd", &pkg).unwrap();
        assert_eq!(
            files,
            vec![
                pkg.join("vendor/lightning.proto"),
                pkg.join("vendor/routerrpc/router.proto")
            ]
        );
        assert_eq!(includes, vec![pkg.join("vendor")]);
        let schema = crate::schema::Schema::load(&files, &includes).unwrap();
        assert!(schema.package("routerrpc").is_some());
    }

    /// connectrpc-build's directives name its files (relative to the package) and no include
    /// directory (lnd_grpc_rust after step 1: step 6 found no schema): the imports give it.
    #[test]
    fn files_recorded_without_their_include_directory() {
        let t = tempfile::tempdir().unwrap();
        let pkg = t.path().join("lnd");
        std::fs::create_dir_all(pkg.join("vendor/routerrpc")).unwrap();
        std::fs::write(
            pkg.join("vendor/lightning.proto"),
            "syntax = \"proto3\";\npackage lnrpc;\n",
        )
        .unwrap();
        std::fs::write(
            pkg.join("vendor/routerrpc/router.proto"),
            "syntax = \"proto3\";\nimport \"lightning.proto\";\npackage routerrpc;\n",
        )
        .unwrap();
        let record = t.path().join("target/debug/build/lnd-77aa");
        std::fs::create_dir_all(&record).unwrap();
        std::fs::write(
            record.join("output"),
            "cargo:rerun-if-env-changed=LND_REPO_DIR\ncargo:rerun-if-changed=vendor/lightning.proto\ncargo:rerun-if-changed=vendor/routerrpc/router.proto\n",
        )
        .unwrap();
        let (files, includes) =
            recorded_schema_inputs(&t.path().join("target"), "lnd", &pkg).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(includes, vec![pkg.join("vendor")]);
        assert!(crate::schema::Schema::load(&files, &includes).is_ok());
    }

    #[test]
    fn package_dirs_are_the_package_and_a_hash() {
        assert!(is_package_dir("lnd_grpc-0a1b2c3d4e5f6789", "lnd_grpc"));
        assert!(!is_package_dir(
            "lnd_grpc-rust-0a1b2c3d4e5f6789",
            "lnd_grpc"
        ));
        assert!(!is_package_dir("lnd_grpc", "lnd_grpc"));
        assert!(!is_package_dir("lnd_grpc_x-0a1b", "lnd_grpc"));
    }

    /// The newest record of the package that names `.proto` files gives them and the existing
    /// directories named beside them; a record naming a file that is gone is not this tree's.
    #[test]
    fn the_newest_record_naming_protos_gives_the_schema_inputs() {
        let t = tempfile::tempdir().unwrap();
        let pkg = t.path().join("pkg");
        std::fs::create_dir_all(pkg.join("proto/inv")).unwrap();
        std::fs::write(pkg.join("proto/inv/stock.proto"), "syntax = \"proto3\";").unwrap();
        let target = t.path().join("target");
        let record = |at: &str, text: &str| {
            let d = target.join(at);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("output"), text).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(recorded_schema_inputs(&target, "pkg", &pkg), None);
        record(
            "debug/build/pkg-00aa",
            "cargo:rerun-if-changed=proto/inv/stock.proto\ncargo:rerun-if-changed=proto\n",
        );
        // Another package's record, newer: not read.
        record(
            "debug/build/pkg-extra-11bb",
            &format!(
                "cargo:rerun-if-changed={}/proto/inv/gone.proto\n",
                pkg.display()
            ),
        );
        // A newer record of the package with no .proto file (the script's own directives).
        record(
            "x86_64-unknown-linux-gnu/debug/build/pkg-22cc",
            "cargo:rerun-if-changed=build.rs\n",
        );
        let (files, includes) = recorded_schema_inputs(&target, "pkg", &pkg).unwrap();
        assert_eq!(files, vec![pkg.join("proto/inv/stock.proto")]);
        assert_eq!(includes, vec![pkg.join("proto")]);
        // The newest record naming a file that no longer exists is passed over.
        record(
            "release/build/pkg-33dd",
            "cargo::rerun-if-changed=/elsewhere/inv/stock.proto\ncargo::rerun-if-changed=/elsewhere\n",
        );
        let (files, _) = recorded_schema_inputs(&target, "pkg", &pkg).unwrap();
        assert_eq!(files, vec![pkg.join("proto/inv/stock.proto")]);
    }
}
