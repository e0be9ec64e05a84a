//! The compiler in the loop (issue 16): applying a step checks the build before and after, repairs
//! what the compiler points at, and restores what still fails. The trees under
//! `tests/compiler-loop/` build offline against stand-ins for tonic and connectrpc, so each
//! `cargo check` takes seconds; `messages` is a real tonic crate. The nine-step chain with the loop
//! on, as a user runs it, is `tests/fixture_builds.rs`'s `greeter` (default flags).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{git, repo_with, snapshot};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-connect-migrate"))
}

/// Run the tool in `dir` with its own target directory (inside the temporary repository; the
/// stand-ins build in a second).
fn run(repo: &Path, dir: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .current_dir(repo.join(dir))
        .env("CARGO_TARGET_DIR", repo.join("target"))
        .args(args)
        .output()
        .unwrap()
}

/// Step 3 rewrote the stand-in helper of the `gated` trees (`Status::internal` -> `ConnectError`).
fn step3_converted(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .unwrap()
        .contains("Err(ConnectError::internal(\"no store\"))")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_construct_no_repair_knows_restores_every_file_and_lists_the_errors() {
    let repo = repo_with("tests/compiler-loop");
    let before = snapshot(repo.path());
    let out = run(repo.path(), "single", &["--step", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    // Byte for byte, and no lock file left behind by the checks.
    assert!(snapshot(repo.path()) == before, "{err}");
    assert!(
        err.contains("manual[step03/compile-E0599]: src/lib.rs:25:21: no method named `into_http` found for struct `ConnectError`"),
        "{err}"
    );
    assert!(
        err.contains("after the step's edits at src/lib.rs:1, 11, 13"),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with(
            "Restored: step 3 left 1 error (listed above); restored every file the run wrote"
        ),
        "{err}"
    );
    // The same in JSON: the item and the verdict.
    let out = run(repo.path(), "single", &["--step", "3", "--format", "json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["state"], "restored");
    assert_eq!(v["verdict"]["errors"], 1);
    assert_eq!(
        v["verdict"]["restored_crates"],
        serde_json::json!(["single"])
    );
    assert_eq!(v["files"], serde_json::json!([]));
    let item = &v["items"][0];
    assert_eq!(item["rule"], "step03/compile-E0599");
    assert_eq!(item["path"], "src/lib.rs");
    assert_eq!(item["line"], 25);
    assert!(snapshot(repo.path()) == before);
}

/// A build script that writes into the source tree (checked-in generated code regenerated at
/// every build) ran again in the step's check. Before: restoring the step's files left what it
/// wrote there, a change to the user's tree nobody listed. After: put back as the step's check
/// found it (the baseline's own build is the user's), and listed.
#[test]
fn what_a_build_script_writes_into_the_sources_during_the_check_is_put_back() {
    let repo = repo_with("tests/compiler-loop");
    let single = repo.path().join("single");
    std::fs::write(
        single.join("build.rs"),
        "fn main() {\n    let p = std::path::Path::new(\"src/stamp.txt\");\n    let n: u32 = std::fs::read_to_string(p).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);\n    std::fs::write(p, format!(\"{}\\n\", n + 1)).unwrap();\n}\n",
    )
    .unwrap();
    std::fs::write(single.join("src/stamp.txt"), "0\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    git(
        repo.path(),
        &["commit", "-qm", "a build script writing into src"],
    );
    let out = run(repo.path(), "single", &["--step", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    // The baseline check wrote 1; the step's check 2, put back.
    assert_eq!(
        std::fs::read_to_string(single.join("src/stamp.txt")).unwrap(),
        "1\n",
        "{err}"
    );
    assert!(
        err.contains("manual[step03/build-writes-sources]: single/src/stamp.txt:1:1: changed by a build script while the step was checked")
            || err.contains("manual[step03/build-writes-sources]: src/stamp.txt:1:1: changed by a build script while the step was checked"),
        "{err}"
    );
}

#[test]
fn the_check_builds_the_feature_gated_targets_the_step_changes() {
    let repo = repo_with("tests/compiler-loop");
    let always = repo.path().join("gated/src/bin/always.rs");
    let gated = repo.path().join("gated/src/bin/gated.rs");
    let gated_before = std::fs::read(&gated).unwrap();
    let out = run(repo.path(), "gated", &["--step", "3"]);
    let err = stderr(&out);
    // `gated` needs the feature `extra` (not a default one): the check enables it, sees the
    // error the step causes there and restores that file; `always` keeps the step.
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("manual[step03/compile-E0599]: src/bin/gated.rs:"),
        "{err}"
    );
    assert_eq!(std::fs::read(&gated).unwrap(), gated_before, "{err}");
    assert!(step3_converted(&always), "{err}");
}

#[test]
fn a_gated_target_broken_as_published_is_set_aside_not_refused() {
    let repo = repo_with("tests/compiler-loop");
    let always = repo.path().join("gated-broken/src/bin/always.rs");
    let gated = repo.path().join("gated-broken/src/bin/gated.rs");
    let before = std::fs::read(&gated).unwrap();
    let out = run(repo.path(), "gated-broken", &["--step", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(std::fs::read(&gated).unwrap(), before, "{err}");
    assert!(
        err.contains("manual[step03/not-checked]: src/bin/gated.rs:1:1: not migrated: only bin `gated` compiles it, which needs the feature `extra` that the check does not enable"),
        "{err}"
    );
    assert!(step3_converted(&always), "{err}");
}

#[test]
fn a_file_no_checked_target_compiles_is_restored_and_listed() {
    let repo = repo_with("tests/compiler-loop");
    let helper = repo.path().join("gated/tests/helper.rs");
    let before = std::fs::read(&helper).unwrap();
    let out = run(repo.path(), "gated", &["--step", "3", "--lib", "--bins"]);
    let err = stderr(&out);
    assert!(
        err.contains("manual[step03/not-checked]: tests/helper.rs:1:1: not migrated: only test `helper` compiles it, and the check builds --lib --bins"),
        "{err}"
    );
    assert_eq!(std::fs::read(&helper).unwrap(), before, "{err}");
}

#[test]
fn an_independent_crate_that_builds_keeps_the_step() {
    let repo = repo_with("tests/compiler-loop");
    let good = repo.path().join("pair/good/src/lib.rs");
    let bad = repo.path().join("pair/bad/src/lib.rs");
    let bad_before = std::fs::read(&bad).unwrap();
    let out = run(repo.path(), "pair", &["--step", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(std::fs::read(&bad).unwrap(), bad_before, "{err}");
    let good_after = std::fs::read_to_string(&good).unwrap();
    assert!(
        good_after.contains("Err(ConnectError::internal(\"no store\"))"),
        "{good_after}"
    );
    assert!(
        err.contains("Restored: step 3 left 1 error (listed above); restored crates bad; the other crates keep the step"),
        "{err}"
    );
    assert!(
        err.contains("manual[step03/compile-E0599]: bad/src/lib.rs:25:21"),
        "{err}"
    );
}

#[test]
fn a_file_that_fails_alone_is_restored_and_the_others_keep_the_step() {
    let repo = repo_with("tests/compiler-loop");
    let bad = repo.path().join("files/src/bad.rs");
    let good = repo.path().join("files/src/good.rs");
    let bad_before = std::fs::read(&bad).unwrap();
    let out = run(repo.path(), "files", &["--step", "3", "--format", "json"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert_eq!(std::fs::read(&bad).unwrap(), bad_before, "{err}");
    let good_after = std::fs::read_to_string(&good).unwrap();
    assert!(
        good_after.contains("Err(ConnectError::internal(\"empty key\"))"),
        "{good_after}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"]["state"], "restored");
    assert_eq!(v["verdict"]["errors"], 1);
    assert_eq!(
        v["verdict"]["restored_files"],
        serde_json::json!(["src/bad.rs"])
    );
    assert_eq!(v["verdict"]["restored_crates"], serde_json::json!([]));
    assert_eq!(
        v["verdict"]["text"],
        "Restored: step 3 left 1 error (listed above); restored file src/bad.rs; the other files keep the step"
    );
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["src/good.rs"]);
    let item = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == "step03/compile-E0599")
        .expect("the error is listed");
    assert_eq!(item["path"], "src/bad.rs");
    assert_eq!(item["line"], 15);
}

#[test]
fn a_file_whose_cause_is_elsewhere_restores_the_whole_step() {
    // Restoring `caller.rs` alone cannot help (`get` in lib.rs now returns the connect error):
    // the second check still fails there, and everything is restored, byte for byte.
    let repo = repo_with("tests/compiler-loop");
    let before = snapshot(repo.path());
    let out = run(repo.path(), "across", &["--step", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(snapshot(repo.path()) == before, "{err}");
    assert!(
        err.contains("manual[step03/compile-E0599]: src/caller.rs:7:21"),
        "{err}"
    );
    assert!(
        err.trim_end().ends_with(
            "Restored: step 3 left 1 error (listed above); restored every file the run wrote"
        ),
        "{err}"
    );
}

#[test]
fn the_compilers_suggestion_in_written_text_repairs_the_step() {
    let repo = repo_with("tests/compiler-loop");
    // The syntax rewrite alone does not build.
    let out = run(repo.path(), "repair", &["--step", "3", "--no-verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let check = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(repo.path().join("repair"))
        .env("CARGO_TARGET_DIR", repo.path().join("target"))
        .args(["check", "--quiet"])
        .output()
        .unwrap();
    assert!(
        !check.status.success(),
        "the bare rewrite builds: the test shows nothing"
    );
    git(repo.path(), &["checkout", "-q", "--", "."]);
    // With the loop, the suggestion is applied and the result builds.
    let out = run(repo.path(), "repair", &["--step", "3", "--allow-dirty"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Checked: the workspace builds after step 3 (1 repair)"),
        "{err}"
    );
    // The step's 3 edits and the repair.
    assert!(err.contains("Migrated src/lib.rs (4 edits)"), "{err}");
    let after = std::fs::read_to_string(repo.path().join("repair/src/lib.rs")).unwrap();
    assert!(
        after.contains("Err(ConnectError::internal(&msg))"),
        "{after}"
    );
    // A second run changes nothing.
    let again = snapshot(repo.path());
    let out = run(repo.path(), "repair", &["--step", "3", "--allow-dirty"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(snapshot(repo.path()) == again);
}

/// Each round re-checks only what it changed: in `rounds`, step 3 rewrites both crates; the
/// first check covers both, the repair round only `fixed`, whose file the repair changed.
#[test]
fn a_repair_round_re_checks_only_the_crates_it_changed() {
    let repo = repo_with("tests/compiler-loop");
    let out = Command::new(bin())
        .current_dir(repo.path().join("rounds"))
        .env("CARGO_TARGET_DIR", repo.path().join("target"))
        .env("CONNECT_MIGRATE_LOOP_TIMES", "1")
        .args(["--step", "3", "--no-progress"])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Checked: the workspace builds after step 3 (1 repair)"),
        "{err}"
    );
    let rounds: Vec<&str> = err
        .lines()
        .filter_map(|l| l.split_once("s check after the step, ").map(|(_, r)| r))
        .collect();
    assert_eq!(rounds, ["round 0 (fixed good)", "round 1 (fixed)"], "{err}");
    let fixed = std::fs::read_to_string(repo.path().join("rounds/fixed/src/lib.rs")).unwrap();
    assert!(
        fixed.contains("Err(ConnectError::internal(&msg))"),
        "{fixed}"
    );
}

/// On a terminal, the spinner names the crate being checked. The tool runs under `script`
/// (util-linux), which gives it a pseudo-terminal and records what it draws there.
#[test]
fn the_spinner_names_the_crate_being_checked_on_a_terminal() {
    let repo = repo_with("tests/compiler-loop");
    let typescript = repo.path().join("typescript");
    let out = Command::new("script")
        .current_dir(repo.path().join("repair"))
        .env("CARGO_TARGET_DIR", repo.path().join("target"))
        .args(["-qec"])
        .arg(format!("'{}' --step 3", bin().display()))
        .arg(&typescript)
        .output()
        .expect("`script` (util-linux) runs the tool on a pseudo-terminal");
    let drawn = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert_eq!(out.status.code(), Some(0), "{drawn}");
    assert!(
        drawn.contains("Checked: the workspace builds after step 3 (1 repair)"),
        "{drawn}"
    );
    assert!(drawn.contains("checking repair v0.1.0"), "{drawn}");
}

/// `tests/verify/app` does not build before step 3 (it names connectrpc without depending on
/// it).
#[test]
fn a_failing_baseline_is_refused_and_broken_code_proceeds() {
    let repo = repo_with("tests/verify");
    let before = snapshot(repo.path());
    let out = run(repo.path(), "app", &["--step", "3"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("error: the workspace does not build before step 3: nothing was changed"),
        "{err}"
    );
    // The compiler's first errors are shown.
    assert!(err.contains("connectrpc"), "{err}");
    assert!(snapshot(repo.path()) == before, "{err}");

    let out = run(repo.path(), "app", &["--step", "3", "--broken-code"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let lib = std::fs::read_to_string(repo.path().join("app/src/lib.rs")).unwrap();
    assert!(
        lib.contains("Err(ConnectError::internal(\"no store\"))"),
        "{lib}"
    );
    // The errors the step added are listed (not those of the baseline); the result is kept.
    assert!(err.contains("[step03/compile-E0432]"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Broken: step 3 left 1 error (listed above); kept as --broken-code asks"),
        "{err}"
    );
}

#[test]
fn no_verify_writes_without_building() {
    let repo = repo_with("tests/verify");
    let out = run(repo.path(), "app", &["--step", "3", "--no-verify"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let lib = std::fs::read_to_string(repo.path().join("app/src/lib.rs")).unwrap();
    assert!(lib.contains("ConnectError::internal"), "{lib}");
    assert!(
        !err.contains("Checked") && !err.contains("Restored"),
        "{err}"
    );
    // Nothing was built.
    assert!(!repo.path().join("target").exists());
    assert!(!repo.path().join("app/Cargo.lock").exists());
}

/// Step 1 on the real tonic crate `tests/compiler-loop/<name>`: first the bare rewrite
/// (`--no-verify`), whose `cargo check` must fail with each of `codes` (else the test shows
/// nothing), then, from the same tree, the run with the loop on.
fn step_1_bare_then_looped(name: &str, codes: &[&str]) -> (tempfile::TempDir, Output) {
    let repo = repo_with("tests/compiler-loop");
    let dir = repo.path().join(name);
    let shim = support::repo_root().join("connect-shim");
    let step1 = |extra: &[&str]| {
        Command::new(bin())
            .current_dir(&dir)
            .envs(support::fixture_env())
            .args(["--step", "1", "--allow-dirty", "--shim-path"])
            .arg(&shim)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = step1(&["--no-verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let check = support::run_with_timeout(
        support::cargo(&dir).args(["check", "--all-targets", "--quiet"]),
        support::CARGO_TIMEOUT,
    );
    assert!(
        !check.success(),
        "the bare rewrite builds: the test shows nothing"
    );
    for code in codes {
        assert!(check.stderr.contains(code), "{code}: {}", check.describe());
    }
    git(repo.path(), &["checkout", "-q", "--", "."]);
    git(repo.path(), &["clean", "-fdq", "-e", "target"]);
    let out = step1(&[]);
    (repo, out)
}

/// Step 1 moves messages to buffa; helpers written for prost's shapes (an `Option<Point>`
/// parameter fed a message field, an enum field compared with an integer) no longer compile,
/// and the syntax cannot see it. The loop repairs both from the compiler's diagnostics.
#[test]
fn step_1_type_mismatches_are_repaired_from_the_diagnostics() {
    let (repo, out) = step_1_bare_then_looped("messages", &["E0308", "E0277"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Checked: the workspace builds after step 1 (2 repairs)"),
        "{err}"
    );
    let lib = std::fs::read_to_string(repo.path().join("messages/src/lib.rs")).unwrap();
    assert!(lib.contains("owned(req.at.clone().into_option())"), "{lib}");
    assert!(
        lib.contains("req.kind == ::buffa::EnumValue::from(1)"),
        "{lib}"
    );
}

/// A server importing tonic's stubs by glob (`use atlas::atlas_server::*; use atlas::*;`):
/// after step 1, `atlas::*` also brings connectrpc's `Atlas` and `AtlasServer` (through the
/// step's `pub use crate::connect::atlas::*`), so both names would be ambiguous (E0659, no
/// compiler suggestion). Step 1 itself imports the stub names such a file uses explicitly
/// (`step01/stub_globs.rs`), so the check passes with no repair; the loop's E0659 repair
/// (`repairs::glob_ambiguity`, unit-tested there) is the net for shapes the step does not see.
#[test]
fn step_1_globs_of_a_package_and_its_stub_module_stay_unambiguous() {
    let repo = repo_with("tests/compiler-loop");
    let dir = repo.path().join("globs");
    let out = Command::new(bin())
        .current_dir(&dir)
        .envs(support::fixture_env())
        .args(["--step", "1", "--allow-dirty", "--shim-path"])
        .arg(support::repo_root().join("connect-shim"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Checked: the workspace builds after step 1"),
        "{err}"
    );
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains(
            "    use crate::atlas::atlas_server::*;\n    use crate::atlas::atlas_server::Atlas;\n    use crate::atlas::atlas_server::AtlasServer;\n    use crate::atlas::*;\n"
        ),
        "{lib}"
    );
}

/// `if let Some(p) = req.at` / `match req.at` copied prost's `Copy` field; step 1 writes
/// `req.at.into_option()`, which moves buffa's `MessageField`: out of a borrowed request
/// (E0507, where rustc suggests `.clone()`) and before a later read of the field (E0382, where
/// it has no machine-applicable suggestion: the loop's own repair). Both get `.clone()`.
#[test]
fn step_1_a_partial_move_of_a_message_field_is_cloned() {
    let (repo, out) = step_1_bare_then_looped("moves", &["E0507", "E0382"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Checked: the workspace builds after step 1 (2 repairs)"),
        "{err}"
    );
    let lib = std::fs::read_to_string(repo.path().join("moves/src/lib.rs")).unwrap();
    assert!(
        lib.contains("if let Some(p) = req.at.clone().into_option() {"),
        "{lib}"
    );
    assert!(
        lib.contains("let north = match req.at.clone().into_option() {"),
        "{lib}"
    );
    assert!(lib.contains("north + norm(req.at.as_option())"), "{lib}");
}

/// Code written against prost's spellings of names buffa keeps as written (a message
/// `HashKVRequest` used as `HashKvRequest`, fields `TTL` / `ID` / `peerURLs` as `ttl` / `id` /
/// `peer_ur_ls`) and a `const fn` that builds a message: step 1 renames what resolution and
/// local types show (`step01/names.rs`) and drops the `const` that buffa's messages cannot keep,
/// so the check passes with no repair (without the renames the loop restores the run: E0432,
/// E0560, E0609, E0015).
#[test]
fn step_1_prost_spellings_and_const_builders_build_with_buffa_names() {
    let repo = repo_with("tests/compiler-loop");
    let dir = repo.path().join("names");
    let out = Command::new(bin())
        .current_dir(&dir)
        .envs(support::fixture_env())
        .args(["--step", "1", "--allow-dirty", "--shim-path"])
        .arg(support::repo_root().join("connect-shim"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.trim_end()
            .ends_with("Checked: the workspace builds after step 1"),
        "{err}"
    );
    assert!(
        err.contains("manual[step01/const-fn]: src/lib.rs:15:9: `const fn new` builds or converts a buffa message"),
        "{err}"
    );
    let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    for expected in [
        "use lease::{HashKVRequest, LeaseGrantRequest as PbGrant, LeaseStatus};",
        "    pub fn new() -> Self {\n        GrantOptions(PbGrant { TTL: 0, ID: 0, ..Default::default() })",
        "    pub const fn with_id(mut self, id: i64) -> Self {\n        self.0.ID = id;",
        "        self.0.TTL = ttl;",
        "pub fn hash_kv(revision: i64) -> HashKVRequest {\n    HashKVRequest { revision, ..Default::default() }",
        "    LeaseStatus { ID: 7, TTL: ttl, peerURLs: peer_ur_ls, ..Default::default() }",
        "    let LeaseStatus { ID: id, peerURLs: peer_ur_ls, .. } = s;\n    format!(\"{id} {} {}\", s.TTL, peer_ur_ls.len())",
        "        assert_eq!(g.into_request().ID, 3);",
    ] {
        assert!(lib.contains(expected), "{expected}\n--- lib.rs ---\n{lib}");
    }
}
