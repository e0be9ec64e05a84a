//! Tree cases: a small workspace before and after one step, for what a single file cannot show
//! (build.rs, Cargo.toml, modules, what other crates still use).
//!
//! `tests/trees/stepNN/<case>/before/` is copied to a temporary directory and step NN is applied
//! to the whole workspace; the result must equal `<case>/after/` (missing `after/`: unchanged),
//! the manual items must equal `<case>/items` (one `path:line:col kind rule` per line, sorted as
//! the report sorts them, lines of the files before the run), and a second run must change
//! nothing and list the same items.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == "target" || name == "Cargo.lock" {
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

/// Apply step `n` to the workspace in `dir`; the manual items as `path:line:col kind rule`.
fn apply(dir: &Path, n: u8, case: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-connect-migrate"))
        .args([
            "--step",
            &n.to_string(),
            "--no-verify",
            "--workspace",
            "--allow-no-vcs",
            "--format",
            "json",
        ])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{case}: step {n}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{}:{}:{} {} {}",
                i["path"].as_str().unwrap(),
                i["line"],
                i["column"],
                i["kind"].as_str().unwrap(),
                i["rule"].as_str().unwrap()
            )
        })
        .collect()
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
    assert_eq!(
        g.keys().collect::<Vec<_>>(),
        w.keys().collect::<Vec<_>>(),
        "{what}: file lists differ"
    );
    for (k, v) in &w {
        assert!(
            g[k] == *v,
            "{what}: {k} differs\n--- got ---\n{}\n--- want ---\n{}",
            String::from_utf8_lossy(&g[k]),
            String::from_utf8_lossy(v)
        );
    }
}

/// One case: step `n` on `case/before/`; the result, the items, and a second run.
fn check_case(n: u8, case: &Path) {
    let name = format!("step{n:02}/{}", case.file_name().unwrap().to_string_lossy());
    let before = case.join("before");
    let work = tempfile::tempdir().unwrap();
    for (rel, bytes) in files_of(&before) {
        let p = work.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    let items = apply(work.path(), n, &name);
    let catalogue = cargo_connect_migrate::rules::catalogue::embedded();
    for i in &items {
        let rule = i.rsplit(' ').next().unwrap();
        assert!(
            catalogue.contains(rule),
            "{name}: rule `{rule}` is not in the catalogue (rules/code/)"
        );
    }
    // `GOLDEN_BLESS=1` writes what the step produces as the expected tree and items
    // (review the diff before committing).
    if std::env::var_os("GOLDEN_BLESS").is_some() {
        let out = case.join("after");
        let _ = std::fs::remove_dir_all(&out);
        // The vendored shim stays out of the expected trees (see without_vendored_shim).
        let prefix = format!("{}/", cargo_connect_migrate::shim::VENDOR_DIR);
        let mut got = files_of(work.path());
        got.retain(|k, _| !k.starts_with(&prefix));
        if got != files_of(&before) {
            for (rel, bytes) in got {
                let p = out.join(rel);
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, bytes).unwrap();
            }
        }
        if items.is_empty() {
            let _ = std::fs::remove_file(case.join("items"));
        } else {
            std::fs::write(case.join("items"), items.join("\n") + "\n").unwrap();
        }
        return;
    }
    let after = if case.join("after").exists() {
        case.join("after")
    } else {
        before.clone()
    };
    assert_same_tree(work.path(), &after, &name);
    let want: Vec<String> = std::fs::read_to_string(case.join("items"))
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default();
    assert_eq!(items, want, "{name}: manual items");
    let again = apply(work.path(), n, &name);
    assert_same_tree(work.path(), &after, &format!("{name}, second run"));
    // Lines move when the first run edited the file: the same items, wherever they are now.
    let sites = |v: &[String]| -> Vec<String> {
        v.iter()
            .map(|i| {
                let (loc, rest) = i.split_once(' ').unwrap();
                format!("{} {rest}", loc.split(':').next().unwrap())
            })
            .collect()
    };
    assert_eq!(
        sites(&again),
        sites(&want),
        "{name}: manual items of the second run"
    );
}

/// Each case is its own test: `cargo test --test trees -- --list` names them
/// (`step06/channel-helpers`, ...), `cargo test --test trees -- step06/channel-helpers --exact`
/// runs one.
fn main() {
    use libtest_mimic::{Arguments, Trial};
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for step_dir in std::fs::read_dir(root().join("tests/trees")).unwrap() {
        let step_dir = step_dir.unwrap().path();
        let n: u8 = step_dir.file_name().unwrap().to_str().unwrap()["step".len()..]
            .parse()
            .unwrap();
        for case in std::fs::read_dir(&step_dir).unwrap() {
            let case = case.unwrap().path();
            let name = format!("step{n:02}/{}", case.file_name().unwrap().to_string_lossy());
            trials.push(Trial::test(name, move || {
                check_case(n, &case);
                Ok(())
            }));
        }
    }
    assert!(trials.len() >= 3, "tree cases were found");
    trials.sort_by(|a, b| a.name().cmp(b.name()));
    libtest_mimic::run(&args, trials).exit();
}
