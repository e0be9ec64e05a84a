//! The CLI contract: transcripts in `tests/cli/*.toml` (trycmd), and the acceptance points that
//! need a real git repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_cargo-connect-migrate"))
}

#[test]
fn transcripts() {
    trycmd::TestCases::new()
        .register_bin("cargo-connect-migrate", bin())
        .case("tests/cli/*.toml");
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A git repository holding a copy of `tree`, committed.
fn repo_with(tree: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(tree),
        dir.path(),
    );
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    dir
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

fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_name() == ".git" || e.file_name() == "target" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
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
    let after = snapshot(repo.path());
    assert_eq!(
        run(repo.path(), &["--step", "3", "--check"]).status.code(),
        Some(0)
    );
    assert_eq!(run(repo.path(), &["--step", "3"]).status.code(), Some(0));
    assert_eq!(snapshot(repo.path()), after, "a second run changed files");
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
        stdout.contains("+use connectrpc::"),
        "the dry runs show diffs: {stdout}"
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
    // A directory without a crate is refused.
    let out = run(repo.path(), &["--step", "1", "--shim-path", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(2));
}
