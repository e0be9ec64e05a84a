//! Golden tests.
//!
//! - `tests/golden/stepNN/<case>.rs` -> `<case>.fixed.rs` (+ `<case>.items`, the expected manual
//!   items as `line:col kind rule`): one file through one step; a second run changes nothing.
//!
//! Each case is its own test (a `libtest-mimic` harness): `cargo test --test golden -- --list`
//! names them (`file/step03/status`, `fixture/greeter`, ...), and `cargo test --test golden --
//! file/step03/status --exact` runs one. `GOLDEN_BLESS=1` rewrites the expected files.
//! - `fixtures/<name>/step-N/`: every expected tree equals step N applied to the tree of step N-1,
//!   and the chain from `step-0` through every step equals the last tree; a second run of each step
//!   changes nothing; `plain` comes out byte-identical from every implemented step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_connect_migrate::engine::{process, FileMeta, Outcome};
use cargo_connect_migrate::steps;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn kind_name(k: cargo_connect_migrate::engine::ItemKind) -> &'static str {
    use cargo_connect_migrate::engine::ItemKind::*;
    match k {
        Manual => "manual",
        Unsure => "unsure",
        Skipped => "skipped",
    }
}

/// A case with a `<case>.proto` beside it runs with that schema as its crate context, the
/// package module being `crate::pb` (steps that need the schema: 6). Every case sits in a
/// workspace where step 2 converted some handler (a workspace without one: `tests/trees`).
fn meta_for(case: &Path) -> FileMeta {
    let after_step2 = cargo_connect_migrate::evidence::SideEvidence {
        connect_server: true,
        ..Default::default()
    };
    let proto = case.with_extension("proto");
    let Ok(text) = std::fs::read_to_string(&proto) else {
        return FileMeta {
            crate_evidence: after_step2,
            ..Default::default()
        };
    };
    let schema =
        cargo_connect_migrate::schema::Schema::from_sources(&[("case.proto", text.as_str())], 1)
            .unwrap();
    let package = schema
        .services
        .first()
        .map(|s| s.package.clone())
        .unwrap_or_default();
    FileMeta {
        module_path: Some(vec!["crate".into()]),
        crate_ctx: Some(std::sync::Arc::new(
            cargo_connect_migrate::context::CrateCtx {
                schema: Some(std::sync::Arc::new(schema)),
                modules: vec![(vec!["crate".into(), "pb".into()], package)],
                ..Default::default()
            },
        )),
        crate_evidence: after_step2,
        ..Default::default()
    }
}

/// The file cases: `tests/golden/stepNN/<case>.rs`, as (test name, step, path).
fn file_cases() -> Vec<(String, u8, PathBuf)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root().join("tests/golden")).unwrap() {
        let dir = entry.unwrap().path();
        let step_dir = dir.file_name().unwrap().to_str().unwrap().to_string();
        let n: u8 = step_dir["step".len()..].parse().unwrap();
        for case in std::fs::read_dir(&dir).unwrap() {
            let path = case.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if !name.ends_with(".rs") || name.ends_with(".fixed.rs") {
                continue;
            }
            let stem = name.trim_end_matches(".rs");
            out.push((format!("file/{step_dir}/{stem}"), n, path));
        }
    }
    out.sort();
    out
}

/// One file through step `n`: the output equals `<case>.fixed.rs`, the items `<case>.items`,
/// every item's rule is in the catalogue, and a second run changes nothing.
fn check_file_case(n: u8, path: &Path) {
    let all = steps::all().unwrap();
    let step = steps::get(&all, n);
    let name = path.file_name().unwrap().to_str().unwrap().to_string();
    let dir = path.parent().unwrap();
    let before = std::fs::read_to_string(path).unwrap();
    let fixed = std::fs::read_to_string(path.with_extension("fixed.rs")).unwrap();
    let meta = meta_for(path);
    let (after, items) = match process(step, &before, &meta) {
        Outcome::Rewritten {
            new_text, items, ..
        } => (new_text.unwrap_or_else(|| before.clone()), items),
        Outcome::NotApplicable => (before.clone(), Vec::new()),
        o => panic!("{name}: {o:?}"),
    };
    // `GOLDEN_BLESS=1` writes what the step produces as the expected files (review the
    // diff before committing); it refreshes the tree cases and the CLI transcripts too.
    let bless = std::env::var_os("GOLDEN_BLESS").is_some();
    if bless {
        std::fs::write(path.with_extension("fixed.rs"), &after).unwrap();
    } else {
        assert_eq!(
            after,
            fixed,
            "{}: output differs from {name} fixed",
            dir.display()
        );
    }
    let catalogue = cargo_connect_migrate::rules::catalogue::embedded();
    for i in &items {
        assert!(
            catalogue.contains(&i.rule),
            "{name}: rule `{}` is not in the catalogue (rules/code/)",
            i.rule
        );
    }
    let got_items: Vec<String> = items
        .iter()
        .map(|i| {
            let (l, c) = cargo_connect_migrate::edit::line_col(&before, i.offset);
            format!("{l}:{c} {} {}", kind_name(i.kind), i.rule)
        })
        .collect();
    let items_file = path.with_extension("items");
    if bless {
        if got_items.is_empty() {
            if items_file.exists() {
                std::fs::write(&items_file, "").unwrap();
            }
        } else {
            std::fs::write(&items_file, got_items.join("\n") + "\n").unwrap();
        }
    }
    let want_items: Vec<String> = std::fs::read_to_string(&items_file)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    assert_eq!(
        got_items,
        want_items,
        "{}: manual items",
        items_file.display()
    );
    match process(step, &after, &meta) {
        Outcome::Rewritten { new_text: None, .. } | Outcome::NotApplicable => {}
        o => panic!("{name}: a second run changed something: {o:?}"),
    }
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == "target" || name == "Cargo.lock" || name == ".git" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e
                    .path()
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// A copy of `tree` in a temporary directory, with the vendored shim a user's tree would hold
/// (committed with the step that wrote it) where a manifest depends on it.
fn copy_to_temp(tree: &Path) -> tempfile::TempDir {
    use cargo_connect_migrate::shim;
    let dir = tempfile::tempdir().unwrap();
    let files = files_of(tree);
    let vendored = files.iter().any(|(k, v)| {
        k.ends_with("Cargo.toml")
            && shim::names_path(
                &String::from_utf8_lossy(v),
                tree.join(k).parent().unwrap(),
                &tree.join(shim::VENDOR_DIR),
            )
    });
    let extra = vendored
        .then(shim::vendored_files)
        .into_iter()
        .flatten()
        .map(|(p, t)| (format!("{}/{p}", shim::VENDOR_DIR), t.into_bytes()));
    for (rel, bytes) in files.into_iter().chain(extra) {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    dir
}

/// Apply step `n` to the tree in `dir` (a write, in a tree without git: `--allow-no-vcs`).
fn apply(dir: &Path, n: u32) {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-connect-migrate"))
        .args([
            "--step",
            &n.to_string(),
            "--no-verify",
            "--workspace",
            "--allow-no-vcs",
            "--manifest-path",
        ])
        .arg(dir.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "step {n} on {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The files of `got`, but the vendored shim (`connect-shim/`): the committed trees leave it out
/// (`.gitignore`), so it is checked here instead: present exactly when a manifest of `want`
/// depends on it by path, and then equal to the copy the tool embeds.
#[track_caller]
fn without_vendored_shim(got: &Path, want: &Path, what: &str) -> BTreeMap<String, Vec<u8>> {
    use cargo_connect_migrate::shim;
    let mut g = files_of(got);
    let prefix = format!("{}/", shim::VENDOR_DIR);
    let found: BTreeMap<String, Vec<u8>> = g
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k[prefix.len()..].to_string(), v.clone()))
        .collect();
    g.retain(|k, _| !k.starts_with(&prefix));
    let dir = want.join(shim::VENDOR_DIR);
    let expected = files_of(want).iter().any(|(k, v)| {
        k.ends_with("Cargo.toml")
            && shim::names_path(
                &String::from_utf8_lossy(v),
                want.join(k).parent().unwrap(),
                &dir,
            )
    });
    let vendored: BTreeMap<String, Vec<u8>> = if expected {
        shim::vendored_files()
            .into_iter()
            .map(|(p, t)| (p.to_string(), t.into_bytes()))
            .collect()
    } else {
        BTreeMap::new()
    };
    assert!(
        found == vendored,
        "{what}: the vendored shim folder is not what the tool embeds (expected {} files, found {:?})",
        vendored.len(),
        found.keys().collect::<Vec<_>>()
    );
    g
}

#[track_caller]
fn assert_same_tree(got: &Path, want: &Path, what: &str) {
    let (g, w) = (without_vendored_shim(got, want, what), files_of(want));
    let gk: Vec<_> = g.keys().collect();
    let wk: Vec<_> = w.keys().collect();
    assert_eq!(gk, wk, "{what}: file lists differ");
    for (k, v) in &w {
        assert!(
            g[k] == *v,
            "{what}: {k} differs\n--- got ---\n{}\n--- want ---\n{}",
            String::from_utf8_lossy(&g[k]),
            String::from_utf8_lossy(v)
        );
    }
}

fn fixture_trees(name: &str) -> Vec<(u32, PathBuf)> {
    let mut v: Vec<(u32, PathBuf)> = std::fs::read_dir(root().join("fixtures").join(name))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            let n = p
                .file_name()?
                .to_str()?
                .strip_prefix("step-")?
                .parse()
                .ok()?;
            Some((n, p))
        })
        .collect();
    v.sort();
    v
}

fn check_fixture(name: &str) {
    let trees = fixture_trees(name);
    assert_eq!(
        trees.first().map(|t| t.0),
        Some(0),
        "{name} has a step-0 tree"
    );
    // Each step on the previous expected tree; a second run changes nothing.
    for w in trees.windows(2) {
        let ((a, from), (b, to)) = (&w[0], &w[1]);
        let work = copy_to_temp(from);
        for n in a + 1..=*b {
            apply(work.path(), n);
        }
        assert_same_tree(
            work.path(),
            to,
            &format!("{name}: steps {}..={b} on step-{a}", a + 1),
        );
        for n in a + 1..=*b {
            apply(work.path(), n);
        }
        assert_same_tree(
            work.path(),
            to,
            &format!("{name}: second run of steps ..={b}"),
        );
    }
    // The whole chain from step-0.
    if let Some((last, last_tree)) = trees.last().filter(|t| t.0 > 0) {
        let work = copy_to_temp(&trees[0].1);
        for n in 1..=*last {
            apply(work.path(), n);
        }
        assert_same_tree(work.path(), last_tree, &format!("{name}: chain 1..={last}"));
    }
}

fn plain_is_byte_identical_after_every_step() {
    let tree = root().join("fixtures/plain/step-0");
    let all = steps::all().unwrap();
    let implemented: Vec<u32> = all.iter().map(|s| s.number as u32).collect();
    assert!(!implemented.is_empty());
    let work = copy_to_temp(&tree);
    for n in implemented {
        apply(work.path(), n);
        assert_same_tree(work.path(), &tree, &format!("plain after step {n}"));
    }
}

/// After step 1 the fixtures' sources name no prost message type, no prost `Message` import and
/// no prost well-known type, and tonic runs on the shim's buffa codec.
fn step1_trees_are_prost_free_and_on_the_buffa_codec() {
    let descriptor_types = [
        "FileDescriptorSet",
        "FileDescriptorProto",
        "DescriptorProto",
    ];
    let mut checked = 0;
    for name in ["greeter", "routes", "platform"] {
        let tree = root().join("fixtures").join(name).join("step-1");
        if !tree.exists() {
            continue;
        }
        let files = files_of(&tree);
        for (rel, bytes) in &files {
            if !rel.ends_with(".rs") {
                continue;
            }
            let text = String::from_utf8_lossy(bytes);
            for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
                assert!(!line.contains("use prost::"), "{name}/{rel}: {line}");
                assert!(!line.contains("include_proto!"), "{name}/{rel}: {line}");
                if let Some(i) = line.find("prost_types::") {
                    let rest = &line[i + "prost_types::".len()..];
                    assert!(
                        descriptor_types.iter().any(|d| rest.starts_with(d)),
                        "{name}/{rel}: a prost well-known type is left: {line}"
                    );
                }
            }
            if rel.ends_with("build.rs") && text.contains("tonic_prost_build") {
                assert!(
                    text.contains("connect_shim::codec::BuffaCodec"),
                    "{name}/{rel}"
                );
                assert!(text.contains("connectrpc_build::Config"), "{name}/{rel}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "every codegen build.rs was checked");
}

/// Crates step 9 removes once nothing names them (package or code spelling).
fn is_family(name: &str) -> bool {
    cargo_connect_migrate::steps::step09::scan::is_family(&name.replace('-', "_"))
}

/// Every dependency of `manifest` (all tables, target-specific ones included) as
/// `(table, key, package)`.
fn dependencies(manifest: &str) -> Vec<(String, String, String)> {
    fn walk(t: &toml::Table, at: &str, out: &mut Vec<(String, String, String)>) {
        for (k, v) in t {
            let here = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            if k.ends_with("dependencies") {
                for (dk, dv) in v.as_table().into_iter().flatten() {
                    let package = dv
                        .get("package")
                        .and_then(|p| p.as_str())
                        .unwrap_or(dk)
                        .to_string();
                    out.push((here.clone(), dk.clone(), package));
                }
            } else if let Some(t) = v.as_table() {
                walk(t, &here, out);
            }
        }
    }
    let t: toml::Table = manifest.parse().unwrap();
    let mut out = Vec::new();
    walk(&t, "", &mut out);
    out
}

/// Identifiers of `text` (comments and string literals excluded) that name a crate of the
/// family, with their line.
fn family_idents(text: &str) -> Vec<(usize, String)> {
    fn walk(ts: proc_macro2::TokenStream, out: &mut Vec<(usize, String)>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                proc_macro2::TokenTree::Ident(i) if is_family(&i.to_string()) => {
                    out.push((i.span().start().line, i.to_string()))
                }
                _ => {}
            }
        }
    }
    let ts: proc_macro2::TokenStream = text.parse().unwrap();
    let mut out = Vec::new();
    walk(ts, &mut out);
    out
}

/// After step 9 (issue 6): no fixture depends on tonic, prost or the shim, and no source names
/// them. (What step 9 keeps and lists when something still does: `tests/trees/step09/*/items`.)
fn step9_trees_leave_tonic_prost_and_the_shim() {
    for name in ["greeter", "routes", "legacy", "platform"] {
        let tree = root().join("fixtures").join(name).join("step-9");
        let files = files_of(&tree);
        let mut left: Vec<String> = Vec::new();
        for (rel, bytes) in &files {
            let text = String::from_utf8_lossy(bytes);
            if rel.ends_with("Cargo.toml") {
                for (table, key, package) in dependencies(&text) {
                    if is_family(&package) {
                        left.push(format!("{rel} [{table}] {key}"));
                    }
                }
            }
        }
        assert!(left.is_empty(), "{name}: still depends on {left:#?}");
        for (rel, bytes) in &files {
            if rel.ends_with(".rs") {
                let names = family_idents(&String::from_utf8_lossy(bytes));
                assert!(names.is_empty(), "{name}/{rel} still names {names:?}");
            }
        }
    }
}

fn main() {
    use libtest_mimic::{Arguments, Trial};
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = Vec::new();
    let cases = file_cases();
    assert!(cases.len() >= 3, "golden cases were found");
    for (name, n, path) in cases {
        trials.push(Trial::test(name, move || {
            check_file_case(n, &path);
            Ok(())
        }));
    }
    for fixture in ["greeter", "routes", "legacy", "platform"] {
        // `platform` is optional (a checkout without it skips it); the others must exist.
        if fixture != "platform" || root().join("fixtures").join(fixture).exists() {
            trials.push(Trial::test(format!("fixture/{fixture}"), move || {
                check_fixture(fixture);
                Ok(())
            }));
        }
    }
    let named: [(&str, fn()); 3] = [
        (
            "plain_is_byte_identical_after_every_step",
            plain_is_byte_identical_after_every_step,
        ),
        (
            "step1_trees_are_prost_free_and_on_the_buffa_codec",
            step1_trees_are_prost_free_and_on_the_buffa_codec,
        ),
        (
            "step9_trees_leave_tonic_prost_and_the_shim",
            step9_trees_leave_tonic_prost_and_the_shim,
        ),
    ];
    for (name, f) in named {
        trials.push(Trial::test(name, move || {
            f();
            Ok(())
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
