//! The `connect-shim` crate that travels inside the tool, and where a migrated workspace gets it.
//!
//! The shim's sources are embedded from `templates/connect-shim/`, a committed copy of
//! `connect-shim/` (its manifest stored as `Cargo.toml.in`, so that cargo does not take the copy
//! for a package and `cargo package` keeps it). A test checks that the copy equals
//! `connect-shim/`; `CONNECT_MIGRATE_REFRESH_SHIM=1 cargo test --lib shim` refreshes it.
//!
//! By default ([`ShimSource::Vendor`]) the step that first adds the dependency writes the crate
//! into `<workspace root>/connect-shim/` ([`vendored_files`]: a standalone manifest, a README
//! saying what the folder is, the license and `src/`) and depends on it by path. Step 9 deletes
//! the folder once no manifest names it. This module is pure: the IO is in `run`.

use std::path::{Component, Path, PathBuf};

/// Where the `connect-shim` dependency comes from (`--shim`, `--shim-path`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ShimSource {
    /// A copy written into the workspace (`<root>/connect-shim/`), depended on by path.
    #[default]
    Vendor,
    /// `connect-shim = "<version>"` from crates.io.
    Registry,
    /// A path dependency on a checkout of the shim (`--shim-path DIR`).
    Path(PathBuf),
}

/// The folder of the vendored copy, relative to the workspace root.
pub const VENDOR_DIR: &str = "connect-shim";
/// The shim's package name.
pub const PACKAGE: &str = "connect-shim";

/// The first line of a vendored manifest: how a copy written by the tool is told from the
/// user's own folder of that name (which is never deleted or overwritten).
pub const MARKER: &str = "# Vendored by cargo connect-migrate";

/// The embedded copy of `connect-shim/`: path inside the crate, text.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/connect-shim/Cargo.toml.in"),
    ),
    (
        "README.md",
        include_str!("../templates/connect-shim/README.md"),
    ),
    ("LICENSE", include_str!("../templates/connect-shim/LICENSE")),
    (
        "src/client.rs",
        include_str!("../templates/connect-shim/src/client.rs"),
    ),
    (
        "src/codec.rs",
        include_str!("../templates/connect-shim/src/codec.rs"),
    ),
    (
        "src/hosting.rs",
        include_str!("../templates/connect-shim/src/hosting.rs"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/connect-shim/src/lib.rs"),
    ),
    (
        "src/prost_compat.rs",
        include_str!("../templates/connect-shim/src/prost_compat.rs"),
    ),
    (
        "src/server.rs",
        include_str!("../templates/connect-shim/src/server.rs"),
    ),
    (
        "src/status.rs",
        include_str!("../templates/connect-shim/src/status.rs"),
    ),
];

fn embedded(path: &str) -> &'static str {
    EMBEDDED
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| *t)
        .expect("embedded shim file")
}

/// The embedded shim's version (`0.2.0`; raised with every change of its API or behaviour, so that
/// a copy an earlier run vendored is updated).
pub fn version() -> String {
    package_version(embedded("Cargo.toml"))
        .map(|(_, v)| v)
        .expect("the embedded shim manifest has a package name and version")
}

/// The version requirement `--shim registry` writes (`0.1` for `0.1.x`).
pub fn registry_requirement() -> String {
    let v = version();
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        ["0", minor, ..] => format!("0.{minor}"),
        [major, ..] => major.to_string(),
        [] => v.clone(),
    }
}

/// `(package name, version)` of a manifest's `[package]`.
pub fn package_version(manifest: &str) -> Option<(String, String)> {
    let doc: toml_edit::DocumentMut = manifest.parse().ok()?;
    let p = doc.get("package")?;
    Some((
        p.get("name")?.as_str()?.to_string(),
        p.get("version")?.as_str()?.to_string(),
    ))
}

/// The dev-dependencies the shim's `src/` unit tests use (`#[cfg(test)]` modules), kept in the
/// vendored manifest; `vendored_unit_tests_use_only_kept_dev_dependencies` checks the list.
pub const UNIT_TEST_DEV_DEPS: &[&str] = &["proptest"];

/// Is `manifest` the manifest of the connect-shim package?
pub fn is_shim_manifest(manifest: &str) -> bool {
    package_version(manifest).is_some_and(|(n, _)| n == "connect-shim")
}

/// `a < b` for dotted numeric versions (pre-release parts compare as text).
pub fn older(a: &str, b: &str) -> bool {
    let key = |v: &str| -> Vec<(u64, String)> {
        v.split(['.', '-', '+'])
            .map(|p| (p.parse().unwrap_or(0), p.to_string()))
            .collect()
    };
    key(a) < key(b)
}

/// The manifest of the vendored copy: the shim's own, standalone in a user's workspace. Its unit
/// tests and doc tests are switched off (`cargo test --workspace` of the user's workspace, which
/// the copy joins as a path dependency inside it, must not run them), and it is never published
/// from there. Of the dev-dependencies (most name the shim's test service, which stays in its
/// repository) only [`UNIT_TEST_DEV_DEPS`] stay: `cargo check --all-targets` (or clippy) still
/// compiles the lib's unit tests of a workspace member, `test = false` or not, and they must
/// compile there.
pub fn vendored_manifest(original: &str) -> String {
    use toml_edit::{value, DocumentMut, Item, Table};
    let mut doc: DocumentMut = original.parse().expect("the shim manifest parses");
    let mut unit_test_deps = Table::new();
    if let Some(dev) = doc.get("dev-dependencies").and_then(Item::as_table) {
        for name in UNIT_TEST_DEV_DEPS {
            if let Some(spec) = dev.get(name) {
                unit_test_deps.insert(name, spec.clone());
            }
        }
    }
    for key in ["dev-dependencies", "workspace", "example", "test", "bench"] {
        doc.remove(key);
    }
    if !unit_test_deps.is_empty() {
        unit_test_deps.decor_mut().set_prefix(
            "\n# What the lib's own unit tests use (`cargo check --all-targets` compiles them).\n",
        );
        doc.insert("dev-dependencies", Item::Table(unit_test_deps));
    }
    if let Some(p) = doc.get_mut("package").and_then(Item::as_table_mut) {
        for key in ["include", "exclude", "workspace"] {
            p.remove(key);
        }
        p.insert("publish", value(false));
    }
    let mut lib = Table::new();
    lib.insert("test", value(false));
    lib.insert("doctest", value(false));
    lib.decor_mut().set_prefix(
        "\n# The shim's tests stay in its repository (they need its dev-dependencies).\n",
    );
    doc.insert("lib", Item::Table(lib));
    let v = version();
    format!(
        "{MARKER} (connect-shim {v}): the runtime bridge the migration steps\n\
         # depend on until the code is native connectrpc. Step 9 deletes this folder once nothing\n\
         # names connect_shim; a newer cargo-connect-migrate updates it. Not meant to be edited.\n{}",
        doc.to_string().trim_start()
    )
}

/// The vendored README: what the folder is, then the shim's own documentation.
pub fn vendored_readme(original: &str) -> String {
    let v = version();
    format!(
        "# connect-shim {v} (vendored by cargo connect-migrate)\n\
         \n\
         This folder was written by `cargo connect-migrate`. It is the `connect-shim` crate: the\n\
         runtime bridge that keeps this workspace building and serving while the migration steps move\n\
         it from tonic to connectrpc. Commit it with the step that added it. `cargo connect-migrate\n\
         --step 9` deletes it, with the dependency lines naming it, once no code names `connect_shim`.\n\
         Do not edit it: a newer cargo-connect-migrate updates it (the diff of that step shows how).\n\
         \n\
         The shim's documentation follows.\n\
         \n\
         ---\n\
         \n\
         {original}"
    )
}

/// The vendored copy's `rustfmt.toml`: `cargo fmt --all` formats path dependencies too, and
/// rustfmt takes the nearest configuration file, so the workspace's own style settings would
/// otherwise apply to (and fail `--check` on) the shim's sources, formatted with the defaults.
pub const RUSTFMT_TOML: &str =
    "# The vendored connect-shim is formatted with rustfmt's defaults, whatever the workspace's\n\
     # own rustfmt.toml says (cargo fmt --all formats path dependencies too).\n";

/// Every file of the vendored copy: path inside the folder, text.
pub fn vendored_files() -> Vec<(&'static str, String)> {
    let mut files: Vec<(&'static str, String)> = EMBEDDED
        .iter()
        .map(|(p, t)| {
            let text = match *p {
                "Cargo.toml" => vendored_manifest(t),
                "README.md" => vendored_readme(t),
                _ => t.to_string(),
            };
            (*p, text)
        })
        .collect();
    files.push(("rustfmt.toml", RUSTFMT_TOML.to_string()));
    files
}

/// `base.join(rel)` with `.` and `..` resolved lexically (the folder may not exist yet).
pub fn join_lexically(base: &Path, rel: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for c in base.join(rel).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Do the dependency tables of this manifest (every table, `[workspace.dependencies]` included)
/// name `connect-shim` by a path that leads to `dir`? `manifest_dir` is the manifest's folder.
pub fn names_path(manifest: &str, manifest_dir: &Path, dir: &Path) -> bool {
    let Ok(doc) = manifest.parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    let mut tables = crate::manifest::dep_tables(&doc)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>();
    if let Some(t) = doc
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml_edit::Item::as_table)
    {
        tables.push(t);
    }
    tables.iter().any(|t| {
        t.iter().any(|(k, item)| {
            crate::manifest::package_of(k, item) == "connect-shim"
                && item
                    .get("path")
                    .and_then(|p| p.as_str())
                    .is_some_and(|p| join_lexically(manifest_dir, p) == dir)
        })
    })
}

/// Does any dependency table name `connect-shim` (under its name or renamed)?
pub fn names_shim(manifest: &str) -> bool {
    let Ok(doc) = manifest.parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    crate::manifest::has_dep(&doc, "connect-shim", None)
        || doc
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(toml_edit::Item::as_table)
            .is_some_and(|t| {
                t.iter()
                    .any(|(k, i)| crate::manifest::package_of(k, i) == "connect-shim")
            })
}

/// What is at `<root>/connect-shim/` now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Existing {
    Missing,
    /// A copy the tool wrote (its manifest starts with [`MARKER`]), of this version.
    Vendored(String),
    /// The shim package, not written by the tool (a checkout).
    Checkout,
    /// Something else of that name: the tool never writes there.
    Foreign,
}

/// Classify the folder from its manifest's text (`None`: no manifest) and whether it exists.
pub fn classify(exists: bool, manifest: Option<&str>) -> Existing {
    match manifest {
        None if !exists => Existing::Missing,
        None => Existing::Foreign,
        Some(m) if !is_shim_manifest(m) => Existing::Foreign,
        Some(m) if m.starts_with(MARKER) => {
            Existing::Vendored(package_version(m).map(|(_, v)| v).unwrap_or_default())
        }
        Some(_) => Existing::Checkout,
    }
}

/// One file change of the vendored folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// Write a new file.
    Create(String, String),
    /// Replace a file's text (old, new).
    Update(String, String, String),
    /// Delete a file (its text).
    Delete(String, String),
}

/// The changes that make the folder hold this version of the shim: nothing when a copy of the
/// same or a newer version is there (it is left alone), every file when none is, the files that
/// differ when an older copy is. `read(path)` gives the current text of a file of the folder.
pub fn ensure(existing: &Existing, read: impl Fn(&str) -> Option<String>) -> Vec<Change> {
    match existing {
        Existing::Missing => vendored_files()
            .into_iter()
            .map(|(p, t)| Change::Create(p.to_string(), t))
            .collect(),
        Existing::Vendored(v) if older(v, &version()) => vendored_files()
            .into_iter()
            .filter_map(|(p, t)| match read(p) {
                None => Some(Change::Create(p.to_string(), t)),
                Some(old) if old != t => Some(Change::Update(p.to_string(), old, t)),
                Some(_) => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The changes that delete a vendored copy: the files the tool writes that are there (files the
/// user added stay, and so does the folder then).
pub fn remove(existing: &Existing, read: impl Fn(&str) -> Option<String>) -> Vec<Change> {
    if !matches!(existing, Existing::Vendored(_)) {
        return Vec::new();
    }
    vendored_files()
        .into_iter()
        .filter_map(|(p, _)| read(p).map(|t| Change::Delete(p.to_string(), t)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
    }

    /// The embedded copy equals `connect-shim/`: its manifest, README, license and every file of
    /// `src/`. `CONNECT_MIGRATE_REFRESH_SHIM=1` rewrites `templates/connect-shim/` from it first
    /// (a new file of `src/` must then be added to [`EMBEDDED`] by hand).
    #[test]
    fn embedded_copy_equals_connect_shim() {
        let shim = repo().join("connect-shim");
        let mut want: BTreeMap<String, String> = BTreeMap::new();
        for f in ["Cargo.toml", "README.md", "LICENSE"] {
            want.insert(f.into(), std::fs::read_to_string(shim.join(f)).unwrap());
        }
        for e in std::fs::read_dir(shim.join("src")).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            want.insert(format!("src/{name}"), std::fs::read_to_string(&p).unwrap());
        }
        if std::env::var_os("CONNECT_MIGRATE_REFRESH_SHIM").is_some() {
            let t = repo().join("templates/connect-shim");
            let _ = std::fs::remove_dir_all(&t);
            for (p, text) in &want {
                let name = if p == "Cargo.toml" {
                    "Cargo.toml.in"
                } else {
                    p
                };
                let dest = t.join(name);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::write(dest, text).unwrap();
            }
            return;
        }
        let got: BTreeMap<String, String> = EMBEDDED
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "the embedded shim lists other files than connect-shim/: refresh templates/connect-shim \
             (CONNECT_MIGRATE_REFRESH_SHIM=1 cargo test --lib shim) and list new files in shim::EMBEDDED"
        );
        for (p, t) in &want {
            assert!(
                got[p] == *t,
                "templates/connect-shim/{p} differs from connect-shim/{p}: refresh it with \
                 CONNECT_MIGRATE_REFRESH_SHIM=1 cargo test --lib shim"
            );
        }
    }

    #[test]
    fn version_and_requirement_come_from_the_manifest() {
        let (name, v) = package_version(
            &std::fs::read_to_string(repo().join("connect-shim/Cargo.toml")).unwrap(),
        )
        .unwrap();
        assert_eq!(name, "connect-shim");
        assert_eq!(version(), v);
        let req = registry_requirement();
        assert!(v.starts_with(&req) && req.len() < v.len(), "{req} for {v}");
    }

    /// The crates the shim's `src/` names are its dependencies or [`UNIT_TEST_DEV_DEPS`]: the
    /// vendored copy's unit tests compile under `cargo check --all-targets` in a user's
    /// workspace.
    #[test]
    fn vendored_unit_tests_use_only_kept_dev_dependencies() {
        let orig: toml::Table = embedded("Cargo.toml").parse().unwrap();
        let normal: Vec<String> = orig["dependencies"]
            .as_table()
            .unwrap()
            .keys()
            .map(|k| k.replace('-', "_"))
            .collect();
        let dev: Vec<String> = orig["dev-dependencies"]
            .as_table()
            .unwrap()
            .keys()
            .map(|k| k.replace('-', "_"))
            .collect();
        for (path, text) in EMBEDDED.iter().filter(|(p, _)| p.ends_with(".rs")) {
            for krate in &dev {
                if normal.contains(krate) || UNIT_TEST_DEV_DEPS.contains(&krate.as_str()) {
                    continue;
                }
                // `krate::` not preceded by an identifier character (`futures_util::` is not
                // `futures::`).
                // Comments do not count.
                let needle = format!("{krate}::");
                let named = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .any(|l| {
                        l.match_indices(&needle).any(|(i, _)| {
                            !l[..i]
                                .chars()
                                .next_back()
                                .is_some_and(|c| c.is_alphanumeric() || c == '_')
                        }) || l.contains(&format!("extern crate {krate}"))
                    });
                assert!(
                    !named,
                    "{path} names the dev-dependency `{krate}`: add it to UNIT_TEST_DEV_DEPS"
                );
            }
        }
    }

    #[test]
    fn vendored_manifest_is_standalone() {
        let m = vendored_manifest(embedded("Cargo.toml"));
        assert!(m.starts_with(MARKER), "{m}");
        let doc: toml::Table = m.parse().unwrap();
        let dev: Vec<&String> = doc["dev-dependencies"].as_table().unwrap().keys().collect();
        assert_eq!(dev, UNIT_TEST_DEV_DEPS, "{m}");
        assert!(!doc.contains_key("workspace"), "{m}");
        assert_eq!(doc["lib"]["test"].as_bool(), Some(false));
        assert_eq!(doc["lib"]["doctest"].as_bool(), Some(false));
        assert_eq!(doc["package"]["publish"].as_bool(), Some(false));
        assert_eq!(doc["package"]["name"].as_str(), Some("connect-shim"));
        // The same dependencies as the shim's own manifest, none of them a path.
        let orig: toml::Table = embedded("Cargo.toml").parse().unwrap();
        assert_eq!(doc["dependencies"], orig["dependencies"]);
        for (k, v) in doc["dependencies"].as_table().unwrap() {
            assert!(v.get("path").is_none(), "{k} is a path dependency");
        }
        assert_eq!(
            classify(true, Some(&m)),
            Existing::Vendored(version()),
            "a vendored copy is recognised as one"
        );
    }

    #[test]
    fn vendored_files_are_the_embedded_ones_with_a_readme_saying_what_they_are() {
        let files = vendored_files();
        assert_eq!(files.len(), EMBEDDED.len() + 1);
        let rustfmt = &files.iter().find(|(p, _)| *p == "rustfmt.toml").unwrap().1;
        assert!(
            rustfmt.parse::<toml::Table>().unwrap().is_empty(),
            "rustfmt's defaults"
        );
        let readme = &files.iter().find(|(p, _)| *p == "README.md").unwrap().1;
        assert!(readme.contains("cargo connect-migrate") && readme.contains("--step 9"));
        assert!(readme.ends_with(embedded("README.md")));
        for (p, t) in &files {
            if p.ends_with(".rs") || *p == "LICENSE" {
                assert_eq!(t, embedded(p), "{p} is copied verbatim");
            }
        }
    }

    #[test]
    fn classify_tells_copies_checkouts_and_other_folders_apart() {
        assert_eq!(classify(false, None), Existing::Missing);
        assert_eq!(classify(true, None), Existing::Foreign);
        assert_eq!(
            classify(
                true,
                Some("[package]\nname = \"other\"\nversion = \"1.0.0\"\n")
            ),
            Existing::Foreign
        );
        assert_eq!(
            classify(true, Some(embedded("Cargo.toml"))),
            Existing::Checkout
        );
        let old = format!("{MARKER} (connect-shim 0.0.9)\n[package]\nname = \"connect-shim\"\nversion = \"0.0.9\"\n");
        assert_eq!(
            classify(true, Some(&old)),
            Existing::Vendored("0.0.9".into())
        );
    }

    #[test]
    fn ensure_creates_updates_an_older_copy_and_leaves_the_same_or_newer_alone() {
        let files: BTreeMap<&str, String> = vendored_files().into_iter().collect();
        let created = ensure(&Existing::Missing, |_| None);
        assert_eq!(created.len(), files.len());
        assert!(created.iter().all(|c| matches!(c, Change::Create(..))));
        // The same version: nothing, even where a file differs (the user's choice).
        let same = ensure(&Existing::Vendored(version()), |_| Some("edited".into()));
        assert!(same.is_empty());
        assert!(ensure(&Existing::Vendored("99.0.0".into()), |_| None).is_empty());
        assert!(ensure(&Existing::Checkout, |_| None).is_empty());
        assert!(ensure(&Existing::Foreign, |_| None).is_empty());
        // An older copy: the files that differ, and the missing ones.
        let old = ensure(&Existing::Vendored("0.0.1".into()), |p| match p {
            "src/lib.rs" => Some("// old\n".into()),
            "LICENSE" => None,
            p => Some(files[p].clone()),
        });
        assert_eq!(
            old,
            vec![
                Change::Create("LICENSE".into(), files["LICENSE"].clone()),
                Change::Update(
                    "src/lib.rs".into(),
                    "// old\n".into(),
                    files["src/lib.rs"].clone()
                ),
            ]
        );
        assert!(older("0.1.0", "0.1.1") && older("0.9.0", "0.10.0") && !older("0.1.0", "0.1.0"));
    }

    #[test]
    fn remove_deletes_only_a_vendored_copy() {
        let read = |p: &str| (p != "LICENSE").then(|| format!("text of {p}"));
        let gone = remove(&Existing::Vendored(version()), read);
        assert_eq!(gone.len(), vendored_files().len() - 1);
        assert!(gone.contains(&Change::Delete(
            "src/lib.rs".into(),
            "text of src/lib.rs".into()
        )));
        assert!(remove(&Existing::Checkout, read).is_empty());
        assert!(remove(&Existing::Foreign, read).is_empty());
    }

    #[test]
    fn names_path_resolves_relative_paths_from_the_manifest() {
        let root = Path::new("/ws");
        let dir = root.join(VENDOR_DIR);
        let member = "[dependencies]\nconnect-shim = { path = \"../connect-shim\" }\n";
        assert!(names_path(member, &root.join("server"), &dir));
        assert!(!names_path(member, root, &dir));
        let ws = "[workspace.dependencies]\nconnect-shim = { path = \"connect-shim\" }\n";
        assert!(names_path(ws, root, &dir));
        let renamed =
            "[dependencies]\nshim = { package = \"connect-shim\", path = \"./connect-shim\" }\n";
        assert!(names_path(renamed, root, &dir));
        assert!(!names_path(
            "[dependencies]\nconnect-shim = \"0.1\"\n",
            root,
            &dir
        ));
        assert!(names_shim("[dependencies]\nconnect-shim = \"0.1\"\n"));
        assert!(names_shim(ws));
        assert!(!names_shim("[dependencies]\ntonic = \"0.14\"\n"));
    }
}
