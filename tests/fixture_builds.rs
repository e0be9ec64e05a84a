//! Every fixture tree (`fixtures/<name>/step-N/`) builds and passes its own
//! tests, and the server of every step answers the scripted client of
//! `step-0` (the unmodified tonic client).
//!
//! These tests build real tonic workspaces: the first run compiles the tonic
//! dependency graph once into `target/fixtures` (shared by all fixtures and
//! steps); later runs only rebuild the fixture crates.

mod support;

use std::path::{Path, PathBuf};

use support::{
    bin_path, build_and_test, build_bins, fixture_dir, fixture_names, fixture_steps, spawn_server,
    try_run_client,
};

/// Scenarios with a test of their own below; `other_fixtures` covers the rest.
const KNOWN: &[&str] = &["greeter", "routes", "platform", "plain"];

fn steps_of(name: &str) -> Vec<(u32, PathBuf)> {
    let steps = fixture_steps(name);
    assert!(
        steps.first().is_some_and(|(n, _)| *n == 0),
        "{} has no step-0 tree",
        fixture_dir(name).display()
    );
    steps
}

/// Starts `server` and runs the step-0 `client` against it.
fn client_against_server(client: &Path, server: &Path, label: &str) {
    let server_process = spawn_server(server, &[]);
    let url = server_process.url();
    let out = try_run_client(client, &url);
    assert!(
        out.success(),
        "{label}: step-0 client against {} at {url} failed\n{}\n--- server stderr ---\n{}",
        server.display(),
        out.describe(),
        server_process.stderr()
    );
    println!("{label}: step-0 client against {url}:\n{}", out.stdout);
}

/// Builds and tests every step of fixture `name`. By convention its server
/// and client binaries are `<name>-server` and `<name>-client`; when step-0
/// has them, the step-0 client runs against the server of every step. With
/// `has_server`, missing binaries are an error.
fn check_fixture(name: &str, has_server: bool) {
    let all = steps_of(name);
    // A step that changed nothing in this fixture (its tree equals the previous one) was built,
    // tested and called as the previous tree already.
    let mut steps: Vec<(u32, PathBuf)> = Vec::new();
    let mut previous: Option<Vec<(PathBuf, Vec<u8>)>> = None;
    for (n, tree) in all {
        let contents = tree_contents(&tree);
        if previous.as_ref() == Some(&contents) {
            println!("{name}/step-{n}: same tree as the step before");
            continue;
        }
        previous = Some(contents);
        steps.push((n, tree));
    }
    for (n, tree) in &steps {
        build_and_test(tree);
        println!("{name}/step-{n}: build and tests ok");
    }

    let server_name = format!("{name}-server");
    let client_name = format!("{name}-client");
    let step0_bins = build_bins(&steps[0].1);
    let client = bin_path(&step0_bins, &client_name);
    let step0_server = bin_path(&step0_bins, &server_name);
    if !(has_server || client.is_file() && step0_server.is_file()) {
        return;
    }
    assert!(
        client.is_file() && step0_server.is_file(),
        "{name}/step-0 lacks {server_name} or {client_name}"
    );

    // The servers of the server steps (2-5) answer the step-0 client; from step 6 on, the
    // migrated client of the step runs against the unmodified step-0 server and against the
    // step-5 server (the first fully connect-hosted one), besides its own.
    let mut step5_server = None;
    for (n, tree) in &steps {
        let bins = match n {
            0 => step0_bins.clone(),
            _ => build_bins(tree),
        };
        let server = bin_path(&bins, &server_name);
        assert!(
            server.is_file(),
            "{name}/step-{n} has no server binary {server_name}"
        );
        client_against_server(&client, &server, &format!("{name}/step-{n}"));
        if *n <= 5 {
            // The step-5 server (or the last tree before it, when step 5 changed nothing).
            step5_server = Some(server.clone());
        }
        if *n >= 6 {
            let own_client = bin_path(&bins, &client_name);
            assert!(own_client.is_file(), "{name}/step-{n} has no {client_name}");
            client_against_server(
                &own_client,
                &step0_server,
                &format!("{name}/step-{n} client vs step-0 server"),
            );
            if let Some(s5) = &step5_server {
                client_against_server(
                    &own_client,
                    s5,
                    &format!("{name}/step-{n} client vs step-5 server"),
                );
            }
        }
    }
}

/// Every file of a tree (relative path, bytes), sorted.
fn tree_contents(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_path_buf();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every file of a tree (relative path with `/`, bytes), `target/` and `Cargo.lock` left out.
fn files_of(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree_contents(root)
        .into_iter()
        .map(|(p, b)| (p.to_string_lossy().replace('\\', "/"), b))
        .filter(|(p, _)| {
            !p.starts_with("target/")
                && p != "Cargo.lock"
                && p != ".gitignore"
                && !p.starts_with(".git/")
        })
        .collect()
}

/// Fixture `name` migrated step by step by the tool with its default flags (no `--shim-path`, no
/// cargo `patch`): after each step the tree is the committed `step-N` tree plus the shim the
/// tool vendors into it, byte for byte, which is what [`check_fixture`] then builds (the working
/// copies hold the same bytes); after step 9 neither a dependency on connect-shim nor the
/// vendored folder remains.
fn migrate_with_default_flags(name: &str) {
    use cargo_connect_migrate::shim;
    let steps = steps_of(name);
    let work = tempfile::tempdir().unwrap();
    for (rel, bytes) in files_of(&steps[0].1) {
        let p = work.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    // As a user runs it: a git repository, one commit per step (the tool refuses a dirty tree).
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(work.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(work.path().join(".gitignore"), "target/\nCargo.lock\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-qm", "step 0"]);
    for (n, tree) in steps.iter().skip(1) {
        // The compiler loop is on (the default): `cargo check` before and after the step, in the
        // shared fixture target directory.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-connect-migrate"))
            .envs(support::fixture_env())
            .args(["--step", &n.to_string(), "--workspace", "--manifest-path"])
            .arg(work.path().join("Cargo.toml"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: step {n}:\n{err}");
        // A step with nothing to change in this fixture writes nothing and checks nothing.
        let verdict = err.trim_end().lines().last().unwrap_or_default();
        assert!(
            verdict.starts_with(&format!("Checked: the workspace builds after step {n}"))
                || err.contains(": 0 files changed (0 edits)"),
            "{name}: step {n}: {err}"
        );
        git(&["add", "-A"]);
        git(&["commit", "-qm", &format!("step {n}"), "--allow-empty"]);
        let mut want = files_of(tree);
        if support::names_vendored_shim(tree) {
            for (p, t) in shim::vendored_files() {
                want.insert(format!("{}/{p}", shim::VENDOR_DIR), t.into_bytes());
            }
        }
        let got = files_of(work.path());
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{name}: files after step {n}"
        );
        for (k, v) in &want {
            assert!(got[k] == *v, "{name}: {k} after step {n} differs");
        }
    }
    let last = files_of(work.path());
    assert!(
        !last.keys().any(|k| k.starts_with("connect-shim/")),
        "{name}: the vendored shim is left after step 9"
    );
    for (k, v) in &last {
        if k.ends_with("Cargo.toml") {
            assert!(
                !shim::names_shim(&String::from_utf8_lossy(v)),
                "{name}: {k} still depends on connect-shim after step 9"
            );
        }
    }
}

/// Acceptance (issue 15): the greeter fixture migrated with default flags builds, passes its
/// tests and serves the step-0 client after every step.
#[test]
fn greeter() {
    migrate_with_default_flags("greeter");
    check_fixture("greeter", true);
}

#[test]
fn routes() {
    check_fixture("routes", true);
}

#[test]
fn platform() {
    check_fixture("platform", true);
}

/// No tonic at all: it only has to build and pass its tests (the golden
/// tests check that every step leaves it byte-identical).
#[test]
fn plain() {
    check_fixture("plain", false);
}

/// Scenarios added later without a test of their own here.
#[test]
fn other_fixtures() {
    for name in fixture_names() {
        if !KNOWN.contains(&name.as_str()) {
            check_fixture(&name, false);
        }
    }
}
