//! The CLI contract: transcripts in `tests/cli/*.toml` (trycmd), and the acceptance points that
//! need a real git repository.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{copy_tree, git, repo_with, snapshot};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-connect-migrate"))
}

#[test]
fn transcripts() {
    // One variable refreshes every snapshot: `GOLDEN_BLESS=1` (golden and tree cases) means
    // `TRYCMD=overwrite` here.
    if std::env::var_os("GOLDEN_BLESS").is_some() {
        std::env::set_var("TRYCMD", "overwrite");
    }
    trycmd::TestCases::new()
        .register_bin("cargo-connect-migrate", bin())
        .case("tests/cli/*.toml");
}

/// Run the tool in `dir`; a write skips the build checks (these trees are not built here; the
/// compiler loop has its own tests in tests/compiler_loop.rs).
fn run(dir: &Path, args: &[&str]) -> Output {
    let write =
        args.contains(&"--step") && !args.contains(&"--check") && !args.contains(&"--dry-run");
    Command::new(bin())
        .current_dir(dir)
        .args(args)
        .args(write.then_some("--no-verify"))
        .output()
        .unwrap()
}

/// Idempotence on a committed result: `--check` finds nothing and a second write changes no file.
fn assert_second_run_changes_nothing(dir: &Path, step: &str) {
    let after = snapshot(dir);
    assert_eq!(
        run(dir, &["--step", step, "--check"]).status.code(),
        Some(0)
    );
    assert_eq!(run(dir, &["--step", step]).status.code(), Some(0));
    assert_eq!(snapshot(dir), after, "a second run changed files");
}

#[test]
fn dry_run_diff_applies_and_equals_the_write() {
    let repo = repo_with("fixtures/routes/step-2");
    let before = snapshot(repo.path());
    let out = run(repo.path(), &["--step", "3", "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "the dry run shows a diff");
    assert_eq!(snapshot(repo.path()), before, "--dry-run wrote something");

    // `git apply` accepts the diff; the result is the write's result, byte for byte.
    let patch = repo.path().join("../step3.patch");
    std::fs::write(&patch, &out.stdout).unwrap();
    git(repo.path(), &["apply", "--check", patch.to_str().unwrap()]);
    git(repo.path(), &["apply", patch.to_str().unwrap()]);
    let applied = snapshot(repo.path());
    git(repo.path(), &["checkout", "-q", "--", "."]);
    assert_eq!(snapshot(repo.path()), before);
    let out = run(repo.path(), &["--step", "3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        snapshot(repo.path()),
        applied,
        "write differs from the dry run's diff"
    );
    std::fs::remove_file(patch).unwrap();
}

#[test]
fn check_exits_1_until_applied_and_a_second_run_changes_nothing() {
    let repo = repo_with("fixtures/routes/step-2");
    assert_eq!(
        run(repo.path(), &["--step", "3", "--check"]).status.code(),
        Some(1)
    );
    assert_eq!(run(repo.path(), &["--step", "3"]).status.code(), Some(0));
    git(repo.path(), &["commit", "-qam", "step 3"]);
    assert_second_run_changes_nothing(repo.path(), "3");
}

#[test]
fn dirty_tree_is_refused_and_nothing_changes() {
    let repo = repo_with("fixtures/routes/step-2");
    let lib = repo.path().join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("\n// local change\n");
    std::fs::write(&lib, &text).unwrap();
    std::fs::write(repo.path().join("notes.txt"), "staged\n").unwrap();
    git(repo.path(), &["add", "notes.txt"]);
    let before = snapshot(repo.path());
    let out = run(repo.path(), &["--step", "3"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("src/lib.rs") && err.contains("notes.txt"),
        "{err}"
    );
    assert_eq!(snapshot(repo.path()), before);
    // --dry-run and --check are never refused; --allow-dirty lets the write through.
    assert_eq!(
        run(repo.path(), &["--step", "3", "--check"]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(repo.path(), &["--step", "3", "--dry-run"])
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        run(repo.path(), &["--step", "3", "--allow-dirty"])
            .status
            .code(),
        Some(0)
    );
    assert_ne!(snapshot(repo.path()), before);
}

#[test]
fn a_file_that_does_not_parse_is_reported_and_the_rest_migrated() {
    let repo = repo_with("tests/cli/broken");
    let bad_before = std::fs::read(repo.path().join("src/bad.rs")).unwrap();
    let out = run(repo.path(), &["--step", "3"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("src/bad.rs:4:14: does not parse"), "{err}");
    assert_eq!(
        std::fs::read(repo.path().join("src/bad.rs")).unwrap(),
        bad_before
    );
    let good = std::fs::read_to_string(repo.path().join("src/good.rs")).unwrap();
    assert!(good.contains("ConnectError::aborted"), "{good}");
}

#[test]
fn permissions_are_kept_by_the_atomic_write() {
    use std::os::unix::fs::PermissionsExt;
    let repo = repo_with("tests/cli/broken");
    let good = repo.path().join("src/good.rs");
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(repo.path(), &["--step", "3", "--allow-dirty"]);
    assert_eq!(out.status.code(), Some(3));
    let mode = std::fs::metadata(&good).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // No temporary file is left behind.
    let names: Vec<_> = std::fs::read_dir(repo.path().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

#[test]
fn readme_documents_every_flag_and_command() {
    use clap::CommandFactory;
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let cmd = cargo_connect_migrate::cli::Cli::command();
    let mut missing = Vec::new();
    let check = |c: &clap::Command, missing: &mut Vec<String>| {
        for a in c.get_arguments() {
            if let Some(l) = a.get_long() {
                if l != "help" && l != "version" && !readme.contains(&format!("--{l}")) {
                    missing.push(format!("--{l}"));
                }
            }
        }
    };
    check(&cmd, &mut missing);
    for sub in cmd.get_subcommands() {
        if !readme.contains(&format!("connect-migrate {}", sub.get_name())) {
            missing.push(sub.get_name().to_string());
        }
        check(sub, &mut missing);
    }
    assert!(
        missing.is_empty(),
        "README.md does not document: {missing:?}"
    );
}

#[test]
fn demo_writes_the_bundled_workspace_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("demo");
    let out = Command::new(bin())
        .args(["demo", "--out", out_dir.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("greeter (Cargo.toml)"), "{stdout}");
    assert!(
        stdout.contains("Applied steps 1-9 to the demo at "),
        "the closing lines say which steps were applied: {stdout}"
    );
    // The bundled files are the greeter fixture's step-0 tree, byte for byte; the demo applies
    // the complete steps in turn (saying so on stderr), so it ends as the fixture's tree of the
    // last step it applied.
    let applied: Vec<u32> = err
        .lines()
        .filter_map(|l| l.strip_prefix("$ cargo connect-migrate --step "))
        .filter(|l| !l.contains("--dry-run"))
        .filter_map(|l| l.split(' ').next()?.parse().ok())
        .collect();
    let last = *applied.last().expect("the demo applies steps");
    assert!(applied.windows(2).all(|w| w[0] < w[1]), "{applied:?}");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/greeter");
    for (rel, text) in cargo_connect_migrate::demo::FILES {
        let step0 = cargo_connect_migrate::app::demo_root().join(rel);
        assert_eq!(std::fs::read_to_string(step0).unwrap(), *text);
        assert_eq!(
            std::fs::read_to_string(out_dir.join(rel)).unwrap(),
            std::fs::read_to_string(fixture.join(format!("step-{last}")).join(rel)).unwrap(),
            "{rel} after step {last}"
        );
    }
}

#[test]
fn output_is_the_same_with_one_and_two_threads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for step in ["3", "7"] {
        let outputs: Vec<Output> = ["1", "2"]
            .iter()
            .map(|j| {
                Command::new(bin())
                    .current_dir(root)
                    .args(["--step", step, "--dry-run", "--format", "json", "-j", j])
                    .args(["fixtures", "tests/golden", "tests/cli/ws"])
                    .output()
                    .unwrap()
            })
            .collect();
        assert!(!outputs[0].stdout.is_empty());
        assert_eq!(outputs[0].status.code(), outputs[1].status.code());
        assert!(
            outputs[0].stdout == outputs[1].stdout,
            "step {step}: -j 1 and -j 2 disagree"
        );
    }
}

#[test]
fn shim_path_writes_a_relative_path_dependency() {
    let repo = repo_with("fixtures/greeter/step-0");
    let shim = Path::new(env!("CARGO_MANIFEST_DIR")).join("connect-shim");
    let out = run(
        repo.path(),
        &["--step", "1", "--shim-path", shim.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap();
    let line = manifest
        .lines()
        .find(|l| l.starts_with("connect-shim = { path = "))
        .unwrap_or_else(|| panic!("{manifest}"));
    let rel = line.split('"').nth(1).unwrap();
    assert!(!Path::new(rel).is_absolute(), "{line}");
    assert_eq!(
        repo.path().join(rel).canonicalize().unwrap(),
        shim.canonicalize().unwrap()
    );
    assert!(
        !repo.path().join("connect-shim").exists(),
        "--shim-path vendors nothing"
    );
    // A directory without a crate, or with another crate (this tool's own root), is refused
    // before anything is written.
    git(repo.path(), &["checkout", "-q", "--", "."]);
    let before = snapshot(repo.path());
    let out = run(repo.path(), &["--step", "1", "--shim-path", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
    let own_root = env!("CARGO_MANIFEST_DIR");
    let out = run(repo.path(), &["--step", "1", "--shim-path", own_root]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cargo-connect-migrate") && err.contains("not connect-shim"),
        "{err}"
    );
    assert_eq!(
        snapshot(repo.path()),
        before,
        "a refused run wrote something"
    );
}

/// `--protocol` reaches the clients step 6 builds (command line -> the run's options on the
/// workspace -> step 6's prepare -> its passes): the channel-helpers tree comes out as its
/// committed result with Connect's transport and protocol in place of gRPC's.
#[test]
fn protocol_connect_builds_clients_speaking_connect() {
    let case = support::repo_root().join("tests/trees/step06/channel-helpers");
    let repo = repo_with("tests/trees/step06/channel-helpers/before");
    let out = run(repo.path(), &["--step", "6", "--protocol", "connect"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rel in ["src/conn.rs", "src/bin/greeter-client.rs"] {
        let grpc = std::fs::read_to_string(case.join("after").join(rel)).unwrap();
        let want = grpc
            .replace("plaintext_http2_only()", "plaintext()")
            .replace("Protocol::Grpc", "Protocol::Connect");
        assert_ne!(want, grpc, "{rel}: the case builds no client");
        let got = std::fs::read_to_string(repo.path().join(rel)).unwrap();
        assert_eq!(got, want, "{rel}");
    }
}

/// The files of `<dir>/connect-shim/` (relative path, text).
fn vendored_folder(dir: &Path) -> Vec<(String, String)> {
    let root = dir.join("connect-shim");
    let mut v: Vec<(String, String)> = snapshot(&root)
        .into_iter()
        .map(|(p, b)| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, String::from_utf8(b).unwrap())
        })
        .collect();
    v.sort();
    v
}

fn embedded_shim() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = cargo_connect_migrate::shim::vendored_files()
        .into_iter()
        .map(|(p, t)| (p.to_string(), t))
        .collect();
    v.sort();
    v
}

/// Default flags: step 1 writes the embedded shim into the workspace and depends on it by path;
/// the dry run shows the new files as diffs `git apply` accepts; a second run changes nothing.
#[test]
fn step1_vendors_the_embedded_shim_by_default() {
    let repo = repo_with("fixtures/greeter/step-0");
    let out = run(repo.path(), &["--step", "1", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let diff = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        diff.contains(
            "diff --git a/connect-shim/src/lib.rs b/connect-shim/src/lib.rs\nnew file mode 100644"
        ),
        "{diff}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Would create connect-shim/Cargo.toml"),
        "{err}"
    );
    let patch = repo.path().join("../step1.patch");
    std::fs::write(&patch, &out.stdout).unwrap();
    git(repo.path(), &["apply", "--check", patch.to_str().unwrap()]);
    std::fs::remove_file(&patch).unwrap();
    assert!(
        !repo.path().join("connect-shim").exists(),
        "--dry-run wrote the shim"
    );

    let out = run(repo.path(), &["--step", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("connect-shim = { path = \"connect-shim\" }"),
        "{manifest}"
    );
    assert_eq!(vendored_folder(repo.path()), embedded_shim());
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "step 1"]);
    assert_second_run_changes_nothing(repo.path(), "1");
}

/// A copy of the same version is left alone, even where it differs; an older one is updated, and
/// the dry run shows how.
#[test]
fn an_older_vendored_shim_is_updated_and_the_same_version_left_alone() {
    let repo = repo_with("fixtures/greeter/step-1");
    let lib = repo.path().join("connect-shim/src/lib.rs");
    std::fs::write(&lib, "// patched by the user\n").unwrap();
    git(repo.path(), &["commit", "-qam", "user patch"]);
    let before = snapshot(repo.path());
    assert_eq!(run(repo.path(), &["--step", "2"]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(&lib).unwrap(),
        "// patched by the user\n",
        "the same version was overwritten"
    );
    git(repo.path(), &["checkout", "-q", "--", "."]);
    assert_eq!(snapshot(repo.path()), before);

    // Mark the copy as written by an older tool.
    let manifest = repo.path().join("connect-shim/Cargo.toml");
    let version = cargo_connect_migrate::shim::version();
    let old = std::fs::read_to_string(&manifest)
        .unwrap()
        .replace(&format!("version = \"{version}\""), "version = \"0.0.1\"");
    std::fs::write(&manifest, old).unwrap();
    git(repo.path(), &["commit", "-qam", "an older shim"]);
    let out = run(repo.path(), &["--step", "2", "--dry-run"]);
    let diff = String::from_utf8_lossy(&out.stdout);
    assert!(diff.contains("--- a/connect-shim/Cargo.toml"), "{diff}");
    assert!(diff.contains("-// patched by the user"), "{diff}");
    assert_eq!(run(repo.path(), &["--step", "2"]).status.code(), Some(0));
    assert_eq!(vendored_folder(repo.path()), embedded_shim());
}

/// `--shim registry` writes a version requirement and vendors nothing; a folder named
/// connect-shim that is not the shim is never written over (exit 2, nothing written).
#[test]
fn registry_mode_and_a_foreign_connect_shim_folder() {
    let repo = repo_with("fixtures/greeter/step-0");
    let out = run(repo.path(), &["--step", "1", "--shim", "registry"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap();
    let want = format!(
        "connect-shim = \"{}\"",
        cargo_connect_migrate::shim::registry_requirement()
    );
    assert!(manifest.contains(&want), "{manifest}");
    assert!(!repo.path().join("connect-shim").exists());

    let repo = repo_with("fixtures/greeter/step-0");
    std::fs::create_dir(repo.path().join("connect-shim")).unwrap();
    std::fs::write(repo.path().join("connect-shim/notes.md"), "mine\n").unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "a folder of the user"]);
    let before = snapshot(repo.path());
    let out = run(repo.path(), &["--step", "1"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is not the connect-shim crate"), "{err}");
    assert_eq!(snapshot(repo.path()), before);
}

/// Step 9 deletes the vendored copy with the dependency once nothing names connect_shim (the
/// deletion is a diff `git apply` accepts), and keeps both, listed, while something does.
#[test]
fn step9_deletes_the_vendored_shim_only_when_nothing_names_it() {
    let repo = repo_with("fixtures/greeter/step-8");
    assert!(repo.path().join("connect-shim/src/lib.rs").is_file());
    let out = run(repo.path(), &["--step", "9", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    let diff = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        diff.contains("diff --git a/connect-shim/src/lib.rs b/connect-shim/src/lib.rs\ndeleted file mode 100644"),
        "{diff}"
    );
    let patch = repo.path().join("../step9.patch");
    std::fs::write(&patch, &out.stdout).unwrap();
    git(repo.path(), &["apply", "--check", patch.to_str().unwrap()]);
    std::fs::remove_file(&patch).unwrap();
    let out = run(repo.path(), &["--step", "9"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Deleted connect-shim/LICENSE"));
    assert!(
        !repo.path().join("connect-shim").exists(),
        "the vendored folder stays"
    );
    let manifest = std::fs::read_to_string(repo.path().join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("connect-shim"), "{manifest}");

    // A use of the shim left in the code: the dependency and the folder stay, and it is listed.
    let repo = repo_with("fixtures/greeter/step-8");
    let lib = repo.path().join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("\npub use connect_shim::codec::BuffaCodec as KeptCodec;\n");
    std::fs::write(&lib, text).unwrap();
    git(repo.path(), &["commit", "-qam", "a shim use"]);
    let out = run(repo.path(), &["--step", "9"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`connect-shim` stays"), "{err}");
    assert!(
        err.contains("step09/shim-kept") && err.contains("the vendored connect-shim/ stays"),
        "{err}"
    );
    assert_eq!(vendored_folder(repo.path()), embedded_shim());
}

/// Issue 15: outside a VCS a write is refused (exit 2, nothing written) unless `--allow-no-vcs`;
/// `--dry-run` and `--check` are never refused. (The trycmd case `no-vcs` shows the message.)
#[test]
fn no_vcs_write_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/routes/step-2"),
        dir.path(),
    );
    if support::names_vendored_shim(dir.path()) {
        support::write_vendored_shim(dir.path());
    }
    let before = snapshot(dir.path());
    let out = run(dir.path(), &["--step", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("not in a git work tree") && err.contains("--allow-no-vcs"),
        "{err}"
    );
    // --allow-dirty is not --allow-no-vcs (as in cargo fix).
    assert_eq!(
        run(dir.path(), &["--step", "3", "--allow-dirty"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(
        run(dir.path(), &["--step", "3", "--check"]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(dir.path(), &["--step", "3", "--dry-run"]).status.code(),
        Some(0)
    );
    assert_eq!(snapshot(dir.path()), before);
    let out = run(dir.path(), &["--step", "3", "--allow-no-vcs"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(snapshot(dir.path()), before);
}

/// Issue 15: step 5 before step 1 would write a Connect server that cannot compile: it refuses
/// like a usage error (exit 2, nothing written, even the dry run), and runs once step 1 is in.
#[test]
fn step5_refuses_before_step1() {
    let repo = repo_with("fixtures/greeter/step-0");
    let before = snapshot(repo.path());
    for extra in [&[][..], &["--dry-run"], &["--check"]] {
        let out = run(repo.path(), &[&["--step", "5"][..], extra].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains("step 5 needs steps 1 and 2 first") && err.contains("crate `greeter`"),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "{extra:?}: no diff is shown");
    }
    assert_eq!(snapshot(repo.path()), before);
    let out = run(repo.path(), &["--step", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(repo.path(), &["--step", "5", "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty());
}

/// A crate whose stubs are checked in (step 1 lists it and has nothing to do there) never gets
/// connectrpc from the steps: step 5 does not refuse the run telling the user to apply step 1
/// (which cannot help) but leaves that crate on tonic and lists the file it would have rewritten,
/// at the server, as steps 2 and 9 do for such crates.
#[test]
fn step5_lists_a_crate_step1_cannot_migrate_instead_of_refusing() {
    let repo = repo_with("tests/cli/checked-in-server");
    let before = snapshot(repo.path());
    let out = run(repo.path(), &["--step", "1", "--check"]);
    assert_eq!(out.status.code(), Some(0), "step 1 has nothing to do here");
    for extra in [&[][..], &["--dry-run"], &["--check"]] {
        let out = run(
            repo.path(),
            &[&["--step", "5", "--format", "json"][..], extra].concat(),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{extra:?}: {err}");
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["files"].as_array().unwrap().len(), 0, "{extra:?}");
        let items: Vec<String> = report["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{}:{} {}", i["path"], i["line"], i["rule"]))
            .collect();
        assert_eq!(
            items,
            [
                // `.add_service(..)` of the server it would have rewritten
                "\"src/main.rs\":16 \"step05/step1-first\"",
                // a server it would only have listed (built here, served elsewhere)
                "\"src/other.rs\":5 \"step05/step1-first\"",
            ],
            "{extra:?}"
        );
    }
    assert_eq!(snapshot(repo.path()), before);
}

/// Issue 15: a write run holds the workspace lock from before its dirty-tree check until its
/// writes are done. A run started while another holds it waits (saying so), then sees the other
/// run's uncommitted result and refuses (exit 2) instead of writing over it.
#[test]
fn a_second_run_waits_for_the_lock_then_sees_the_first_runs_changes() {
    let repo = repo_with("fixtures/routes/step-2");
    let path = cargo_connect_migrate::lock::lock_path(repo.path());
    assert!(
        path.starts_with(repo.path().canonicalize().unwrap().join(".git")),
        "the lock lives in .git, never in the tree: {}",
        path.display()
    );
    let held = cargo_connect_migrate::lock::lock(&path).unwrap();
    let err_path = repo.path().join(".git/second-run.err");
    let mut child = Command::new(bin())
        .current_dir(repo.path())
        .args(["--step", "3", "--no-verify"])
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !std::fs::read_to_string(&err_path)
        .unwrap()
        .contains("Blocking")
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run did not wait for the lock: {}",
            std::fs::read_to_string(&err_path).unwrap()
        );
        assert!(std::time::Instant::now() < deadline, "no Blocking line");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // What the run holding the lock writes, uncommitted.
    let lib = repo.path().join("src/lib.rs");
    let mut text = std::fs::read_to_string(&lib).unwrap();
    text.push_str("\n// the first run's edit\n");
    std::fs::write(&lib, &text).unwrap();
    let before = snapshot(repo.path());
    drop(held);
    let status = child.wait().unwrap();
    let err = std::fs::read_to_string(&err_path).unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("uncommitted changes") && err.contains("src/lib.rs"),
        "{err}"
    );
    assert_eq!(snapshot(repo.path()), before, "the second run wrote");
    assert!(
        git(repo.path(), &["status", "--porcelain", "--ignored"]).stdout == b" M src/lib.rs\n",
        "the lock left a file in the tree"
    );
}

/// Issue 15: two write runs started together never both succeed with one's edits lost: one
/// writes, the other refuses (the tree it would write is dirty by then).
#[test]
fn two_runs_started_together_lose_nothing() {
    let repo = repo_with("fixtures/routes/step-2");
    let out = run(repo.path(), &["--step", "3"]);
    assert_eq!(out.status.code(), Some(0));
    let want = snapshot(repo.path());
    for round in 0..3 {
        git(repo.path(), &["checkout", "-q", "--", "."]);
        let spawn = || {
            Command::new(bin())
                .current_dir(repo.path())
                .args(["--step", "3", "--no-verify"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        let mut codes = [a.status.code(), b.status.code()];
        codes.sort();
        assert_eq!(
            codes,
            [Some(0), Some(2)],
            "round {round}:\n{}\n{}",
            String::from_utf8_lossy(&a.stderr),
            String::from_utf8_lossy(&b.stderr)
        );
        assert_eq!(snapshot(repo.path()), want, "round {round}");
    }
}

/// Issue 15: colour like cargo. Green bold verbs, yellow manual items, red errors with
/// `--color always` (even under `NO_COLOR`, an explicit choice); none with `--color never`;
/// `auto` colours when forced (`CLICOLOR_FORCE`, as on a terminal) unless `NO_COLOR` is set.
#[test]
fn colour_follows_color_and_no_color() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stderr = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(bin())
            .current_dir(root.join("tests/cli/broken"))
            .args(["--step", "3", "--check"])
            .args(args)
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env_remove("CLICOLOR")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        String::from_utf8(out.stderr).unwrap()
    };
    let green_verb = "\x1b[1m\x1b[32mWould migrate\x1b[0m src/good.rs (3 edits)";
    let red_error = "\x1b[1m\x1b[31merror\x1b[0m: src/bad.rs:4:14";
    let yellow_warning = "\x1b[1m\x1b[33mwarning\x1b[0m: crate `half`";
    let coloured = stderr(&["--color", "always"], &[("NO_COLOR", "1")]);
    for want in [green_verb, red_error, yellow_warning] {
        assert!(coloured.contains(want), "{want:?} in {coloured:?}");
    }
    assert_eq!(stderr(&[], &[("CLICOLOR_FORCE", "1")]), coloured);
    for (args, env) in [
        (&["--color", "never"][..], &[("CLICOLOR_FORCE", "1")][..]),
        (&[], &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]),
        (&[], &[]),
    ] {
        let plain = stderr(args, env);
        assert!(!plain.contains('\x1b'), "{args:?} {env:?}: {plain:?}");
        assert!(
            plain.contains("\nWould migrate src/good.rs (3 edits)"),
            "{plain}"
        );
    }
}

/// Issue 15: a generated file (`@generated` / `DO NOT EDIT` header) is never edited, and every
/// step that would have changed it says so (step 1 reaches message idioms through the crate's
/// schema, which the byte prefilter alone does not see).
#[test]
fn generated_files_are_reported_by_the_steps_that_skip_them() {
    let repo = repo_with("fixtures/greeter/step-0");
    let canned = "// @generated by a script. DO NOT EDIT.\n\
        use crate::hello_world::HelloRequest;\n\n\
        pub fn canned() -> HelloRequest {\n    HelloRequest { name: \"canned\".into() }\n}\n\n\
        pub fn refuse() -> tonic::Status {\n    tonic::Status::internal(\"no\")\n}\n";
    std::fs::write(repo.path().join("src/canned.rs"), canned).unwrap();
    let lib = repo.path().join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap() + "\npub mod canned;\n";
    std::fs::write(&lib, text).unwrap();
    for step in ["1", "3"] {
        let out = run(
            repo.path(),
            &["--step", step, "--check", "--format", "json"],
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rule = format!("step0{step}/generated-file");
        assert!(
            report["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["path"] == "src/canned.rs" && i["rule"] == rule.as_str()),
            "step {step}: {report:#}"
        );
        assert!(
            !report["files"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["path"] == "src/canned.rs"),
            "step {step} would edit the generated file"
        );
    }
}

/// Issue 15: a `Cargo.toml` with a BOM and CRLF line ends keeps both through a step's edit (as
/// `.rs` files do): the diff shows only the lines added, `git apply` takes it, and a second run
/// has nothing to change.
#[test]
fn manifest_keeps_bom_and_crlf() {
    let repo = repo_with("fixtures/greeter/step-0");
    let manifest = repo.path().join("Cargo.toml");
    let lf = std::fs::read_to_string(&manifest).unwrap();
    let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
    std::fs::write(&manifest, &crlf).unwrap();
    git(repo.path(), &["commit", "-qam", "crlf"]);
    let out = run(repo.path(), &["--step", "1", "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = String::from_utf8(out.stdout).unwrap();
    let start = diff
        .find("diff --git a/Cargo.toml")
        .expect("the manifest changes");
    let end = diff[start + 1..]
        .find("diff --git")
        .map_or(diff.len(), |e| start + 1 + e);
    let removed = diff[start..end]
        .lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("---"))
        .count();
    assert_eq!(removed, 0, "only additions: {}", &diff[start..end]);
    let patch = repo.path().join(".git/step1.patch");
    std::fs::write(&patch, &diff).unwrap();
    git(repo.path(), &["apply", "--check", patch.to_str().unwrap()]);
    let out = run(repo.path(), &["--step", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&manifest).unwrap();
    assert!(
        after.starts_with("\u{feff}[package]"),
        "BOM lost: {after:?}"
    );
    assert!(after.len() > crlf.len());
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "CRLF lost: {after:?}"
    );
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "step 1"]);
    let out = run(repo.path(), &["--step", "1", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 15: a source file that is a symbolic link stays a link: its target is edited in place
/// (a link replaced by a regular file would fork shared code), the dry run's diff names the
/// target so `git apply` takes it, and a link leading out of the workspace is reported, not
/// followed.
#[test]
fn symlinked_sources_are_edited_at_their_target() {
    let repo = repo_with("fixtures/routes/step-2");
    let shared = repo.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::rename(
        repo.path().join("src/service.rs"),
        shared.join("service.rs"),
    )
    .unwrap();
    std::os::unix::fs::symlink("../shared/service.rs", repo.path().join("src/service.rs")).unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "shared service"]);
    let before = std::fs::read_to_string(shared.join("service.rs")).unwrap();

    let out = run(repo.path(), &["--step", "3", "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(diff.contains("+++ b/shared/service.rs"), "{diff}");
    let patch = repo.path().join(".git/step3.patch");
    std::fs::write(&patch, &diff).unwrap();
    git(repo.path(), &["apply", "--check", patch.to_str().unwrap()]);

    let out = run(repo.path(), &["--step", "3"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let link = std::fs::symlink_metadata(repo.path().join("src/service.rs")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    let after = std::fs::read_to_string(shared.join("service.rs")).unwrap();
    assert_ne!(after, before, "the target was not migrated");
    // The write equals the dry run's diff.
    let written = snapshot(repo.path());
    git(repo.path(), &["checkout", "-q", "--", "."]);
    git(repo.path(), &["apply", patch.to_str().unwrap()]);
    assert_eq!(snapshot(repo.path()), written);

    // A link out of the workspace: reported, its target untouched.
    let repo = repo_with("fixtures/routes/step-2");
    let outside = tempfile::tempdir().unwrap();
    std::fs::rename(
        repo.path().join("src/service.rs"),
        outside.path().join("service.rs"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("service.rs"),
        repo.path().join("src/service.rs"),
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    git(repo.path(), &["commit", "-qm", "outside"]);
    let out = run(repo.path(), &["--step", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("step03/symlink") && err.contains("outside the workspace"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(outside.path().join("service.rs")).unwrap(),
        before
    );
    assert!(
        std::fs::symlink_metadata(repo.path().join("src/service.rs"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

/// Issue 15: a path given inside a crate is migrated with the crate's context (its schema,
/// build script and manifest), as a run on the crate would: the same edits in that file, and
/// the crate-level files its edits need; the crate's other files are left alone.
#[test]
fn a_path_inside_a_crate_is_migrated_with_the_crates_context() {
    let repo = repo_with("fixtures/greeter/step-0");
    let json = |args: &[&str]| {
        let out = run(
            repo.path(),
            &[&["--step", "1", "--check", "--format", "json"][..], args].concat(),
        );
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        r["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["edits"].as_u64().unwrap(),
                )
            })
            .collect::<Vec<_>>()
    };
    let whole = json(&[]);
    let lib = whole
        .iter()
        .find(|f| f.0 == "src/lib.rs")
        .expect("step 1 edits src/lib.rs");
    assert!(lib.1 > 0);
    let one = json(&["src/lib.rs"]);
    assert!(one.contains(lib), "{one:?} vs {whole:?}");
    assert!(one.iter().any(|f| f.0 == "build.rs"), "{one:?}");
    assert!(!one.iter().any(|f| f.0.starts_with("src/bin/")), "{one:?}");
    // Run from inside the package, the report and the diff are relative to the package, so
    // the diff applies there.
    let out = run(
        &repo.path().join("src"),
        &["--step", "1", "--dry-run", "lib.rs"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let diff = String::from_utf8(out.stdout).unwrap();
    assert!(
        diff.contains("+++ b/src/lib.rs") && diff.contains("+++ b/build.rs"),
        "{diff}"
    );
    let patch = repo.path().join(".git/path.patch");
    std::fs::write(&patch, &diff).unwrap();
    git(repo.path(), &["apply", "--check", patch.to_str().unwrap()]);
    // The write: the given file, with what it needs, builds the same text as the whole run.
    let out = run(repo.path(), &["--step", "1", "src/lib.rs"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_path = std::fs::read_to_string(repo.path().join("src/lib.rs")).unwrap();
    git(repo.path(), &["checkout", "-q", "--", "."]);
    let out = run(repo.path(), &["--step", "1"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("src/lib.rs")).unwrap(),
        by_path
    );
    // A file of the package that no target reaches: processed, and the run says it had no
    // package context for it.
    std::fs::write(repo.path().join("src/orphan.rs"), "pub fn f() {}\n").unwrap();
    let out = run(repo.path(), &["--step", "3", "--check", "src/orphan.rs"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("src/orphan.rs: in package `greeter`, but no target of it reaches there"),
        "{err}"
    );
}

/// Issue 15: a crate root that does not parse is reported (every step, even with nothing to
/// change in it), and the modules it declares are still found and processed.
#[test]
fn a_crate_root_that_does_not_parse_is_reported_and_its_modules_processed() {
    let repo = repo_with("tests/cli/broken");
    std::fs::write(
        repo.path().join("src/lib.rs"),
        "mod good;\nmod bad;\nmod served;\n\nfn oops( {\n",
    )
    .unwrap();
    git(repo.path(), &["commit", "-qam", "broken root"]);
    let out = run(repo.path(), &["--step", "3"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("error: src/lib.rs:5:"), "{err}");
    assert!(err.contains("does not parse"), "{err}");
    let good = std::fs::read_to_string(repo.path().join("src/good.rs")).unwrap();
    assert!(good.contains("ConnectError::aborted"), "{good}");
    // A step with nothing to change still says the root is broken.
    let out = run(repo.path(), &["--step", "8", "--check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("error: src/lib.rs:5:"), "{err}");
}

/// Every file under `dir` (`.git` and `target` left out), with its contents.
fn demo_dir_snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all = snapshot(dir);
    all.sort();
    all
}

/// The demo command with a machine's bare git: no global or system config (the demo sets its own
/// committer in its repository).
fn demo_cmd(args: &[&str]) -> Command {
    // An empty home of the tests' own (git reads no config from it).
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("demo-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(bin());
    cmd.arg("demo")
        .args(args)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL");
    cmd
}

#[test]
fn demo_out_refuses_a_non_empty_folder_and_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("project");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), "[package]\nname = \"mine\"\n").unwrap();
    std::fs::write(dir.join("src/lib.rs"), "// mine\n").unwrap();
    let before = demo_dir_snapshot(&dir);
    for extra in [&[][..], &["--build"][..]] {
        let out = demo_cmd(&["--out", dir.to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(
            err.contains("not an empty folder nor an earlier demo"),
            "{err}"
        );
        assert!(err.contains("Cargo.toml, src"), "{err}");
        assert_eq!(demo_dir_snapshot(&dir), before, "nothing was written");
        assert!(!dir.join(".git").exists());
    }
    // A file is refused too.
    let file = dir.join("src/lib.rs");
    let out = demo_cmd(&["--out", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("that is a file"));
    assert_eq!(demo_dir_snapshot(&dir), before);
}

#[test]
fn demo_out_replaces_an_earlier_demo_and_keeps_its_target() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    let first = demo_cmd(&["--out", dir.to_str().unwrap(), "--until-step", "2"])
        .output()
        .unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    // What a build would leave, and a stray edit of the earlier demo.
    std::fs::create_dir_all(dir.join("target/debug")).unwrap();
    std::fs::write(dir.join("target/debug/cached"), "x").unwrap();
    std::fs::write(dir.join("src/stray.rs"), "// stray\n").unwrap();
    let second = demo_cmd(&["--out", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{err}");
    assert!(err.contains("Replacing the earlier demo at "), "{err}");
    assert!(dir.join("target/debug/cached").is_file(), "target/ is kept");
    assert!(
        !dir.join("src/stray.rs").exists(),
        "the earlier demo is replaced"
    );
    // A fresh history: step 0 and the nine steps, not the earlier run's commits as well.
    let log = git(&dir, &["log", "--format=%s"]);
    assert_eq!(String::from_utf8_lossy(&log.stdout).lines().count(), 10);
}

#[test]
fn demo_is_a_git_repository_with_one_commit_per_applied_step() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    let out = demo_cmd(&["--out", dir.to_str().unwrap(), "--until-step", "3"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Applied steps 1-3 to the demo at "),
        "{stdout}"
    );
    assert!(
        stdout.contains("--step 4 --dry-run"),
        "what to run next: {stdout}"
    );
    let log = git(&dir, &["log", "--reverse", "--format=%H %s"]);
    let commits: Vec<(String, String)> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .map(|l| {
            let (h, s) = l.split_once(' ').unwrap();
            (h.to_string(), s.to_string())
        })
        .collect();
    let subjects: Vec<&str> = commits.iter().map(|(_, s)| &s[..6]).collect();
    assert_eq!(subjects, ["step 0", "step 1", "step 2", "step 3"]);
    // Nothing is left uncommitted (build output and the lock file are ignored).
    let status = git(&dir, &["status", "--porcelain", "--ignored=no"]);
    assert_eq!(String::from_utf8_lossy(&status.stdout), "");
    // Each commit holds that step's tree: its sources are the greeter fixture's of the step.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/greeter");
    for (n, (hash, _)) in commits.iter().enumerate() {
        if n > 0 {
            let stat = git(&dir, &["show", "--format=", "--stat", hash]);
            assert!(!stat.stdout.is_empty(), "step {n} changed something");
        }
        for rel in [
            "build.rs",
            "src/lib.rs",
            "src/bin/greeter-server.rs",
            "src/bin/greeter-client.rs",
        ] {
            let shown = git(&dir, &["show", &format!("{hash}:{rel}")]);
            assert_eq!(
                String::from_utf8_lossy(&shown.stdout),
                std::fs::read_to_string(fixture.join(format!("step-{n}")).join(rel)).unwrap(),
                "{rel} at step {n}"
            );
        }
    }
}

/// The commands of the README's "Set up" section: its first `sh` block.
fn readme_setup_commands() -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let setup = readme
        .split("## Set up\n")
        .nth(1)
        .expect("a Set up section");
    let setup = setup.split("\n## ").next().unwrap();
    let block = setup.split("```sh\n").nth(1).expect("a sh block in Set up");
    let block = block.split("```").next().unwrap();
    block
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readme_setup_is_the_demo_and_the_tests_with_install_beside_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        readme_setup_commands(),
        [
            "cargo run --locked --release -- demo --build",
            "cargo test --workspace"
        ]
    );
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let setup = readme.split("## Set up\n").nth(1).unwrap();
    let setup = setup.split("\n## ").next().unwrap();
    assert!(setup.contains("cargo install --locked --path ."), "{setup}");
    // What CI runs is the second command.
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(
        ci.lines()
            .any(|l| l.trim_start().trim_start_matches("time ").trim() == "cargo test --workspace"),
        "{ci}"
    );
    // The first command's arguments parse, and name the demo with --build (tests/demo_build.rs
    // runs exactly them).
    let first = &readme_setup_commands()[0];
    let args: Vec<&str> = first.split(" -- ").nth(1).unwrap().split(' ').collect();
    let cli = cargo_connect_migrate::cli::parse_from(
        std::iter::once("cargo-connect-migrate").chain(args.iter().copied()),
    )
    .unwrap();
    match cli.command {
        Some(cargo_connect_migrate::cli::Command::Demo(d)) => assert!(d.build),
        other => panic!("{first}: {other:?}"),
    }
}
