//! `demo --build` end to end: the embedded greeter is migrated step by step, built after every
//! step, and its step-0 tonic client calls each step's server (and each step's client the step-0
//! server). This is the README's first set-up command, run as a user would, with nothing but the
//! tool: no `PROTOC` (the tool brings its own), no shim flag, no cargo patch.
//!
//! It builds the greeter ten times over. The dependency graph (tonic, connectrpc, axum, ...) is
//! the fixture builds' one: the demo runs with the fixture target directory (`CARGO_TARGET_DIR`
//! from `support::fixture_env`), so after `tests/fixture_builds.rs` each step only rebuilds the
//! greeter crate (about half a minute on two cores).

mod support;

use std::process::Command;

use support::{fixture_env, mark_other_build, run_with_timeout, CARGO_TIMEOUT};

#[test]
fn demo_build_shows_every_step_building_and_answering() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    // The README's first set-up command (`cargo run --locked --release -- demo --build`), its
    // arguments after `--`, on this test's build of the binary.
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let setup = readme
        .split("## Set up\n")
        .nth(1)
        .expect("a Set up section");
    let first = setup
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.lines().next())
        .expect("a command in Set up");
    let args: Vec<&str> = first
        .split(" #")
        .next()
        .and_then(|c| c.split(" -- ").nth(1))
        .expect("cargo run ... -- <args>")
        .split_whitespace()
        .collect();
    assert_eq!(args, ["demo", "--build"], "{first}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-connect-migrate"));
    cmd.args(&args).args(["--out", dir.to_str().unwrap()]);
    for (key, value) in fixture_env() {
        if !key.starts_with("PROTOC") {
            cmd.env(key, value);
        }
    }
    cmd.env_remove("PROTOC").env_remove("PROTOC_INCLUDE");
    let out = run_with_timeout(&mut cmd, CARGO_TIMEOUT);
    // The demo is the greeter package too: the fixture builds after it must not take its
    // artifacts for theirs.
    mark_other_build(&dir.to_string_lossy());
    assert!(out.success(), "demo --build failed\n{}", out.describe());

    // The closing table: a line per step, 0 to 9, each built, each call answered both ways.
    let table = out
        .stdout
        .split("step | builds | calls answered\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no table on stdout\n{}", out.describe()));
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split(" | ").map(str::trim).collect())
        .collect();
    let steps: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(
        steps,
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        "{table}"
    );
    for r in &rows {
        assert_eq!(r[1], "yes", "step {} builds\n{table}", r[0]);
        let cells: Vec<&str> = r[2].split(", ").collect();
        let expected = if r[0] == "0" { 1 } else { 2 };
        assert_eq!(cells.len(), expected, "{table}");
        for c in cells {
            assert!(c.starts_with("4/4 "), "step {}: {c}\n{table}", r[0]);
        }
    }
    assert!(
        out.stdout.contains("Applied steps 1-9 to the demo at "),
        "{}",
        out.stdout
    );
    // One commit per step, the build output ignored.
    let log = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["log", "--format=%s"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 10);
    let status = Command::new("git")
        .arg("-C")
        .arg(&dir)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");
}
