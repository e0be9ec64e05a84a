//! Helpers shared by the integration tests: `protoc`, building and testing
//! the fixture trees under `fixtures/`, and running their server and client
//! binaries.
//!
//! Fixture trees are standalone cargo workspaces. They are never built in
//! place: each tree is mirrored into `target/fixture-trees/<name>__step-N/`
//! first, so no `target/` or `Cargo.lock` ever lands in `fixtures/`. The copy
//! sits as deep below the repository root as `fixtures/<name>/step-N/`, so a
//! relative path dependency on a crate of this repository resolves the same in
//! both places. Unchanged files keep their timestamps, so rebuilding an
//! unchanged tree is cheap.
//!
//! The trees from step 1 on depend on the shim the tool vendors into them
//! (`connect-shim = { path = "connect-shim" }`, the default `--shim vendor`).
//! The committed trees leave that folder out (`.gitignore`; `tests/golden.rs`
//! checks that the tool writes exactly the embedded copy there): the working
//! copy gets it from the same function the tool writes it with
//! ([`cargo_connect_migrate::shim::vendored_files`]). No cargo `patch`.
//!
//! Every fixture build uses one shared `CARGO_TARGET_DIR` (`target/fixtures`)
//! and the same environment, so the tonic/prost dependency graph is compiled
//! once for all fixtures and all steps. To reproduce a harness build by hand:
//!
//! ```text
//! CARGO_TARGET_DIR=target/fixtures CARGO_PROFILE_DEV_DEBUG=false \
//!     CARGO_INCREMENTAL=0 PROTOC=<vendored protoc> cargo test
//! ```

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// How long one cargo invocation on a fixture may take (a cold build of the
/// whole tonic graph on two busy cores included).
pub const CARGO_TIMEOUT: Duration = Duration::from_secs(40 * 60);
/// How long a server may take to print its `listening on` line.
pub const SERVER_START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a scripted client run may take.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Serialises cargo invocations of this test process: they share one target
/// directory (cargo would block on its lock anyway), and binaries are copied
/// out of it right after a build, before another build can overwrite them.
static CARGO_LOCK: Mutex<()> = Mutex::new(());

fn cargo_lock() -> MutexGuard<'static, ()> {
    // A test that panicked while holding the lock leaves nothing half done
    // that matters to the next one.
    CARGO_LOCK
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The repository root (the root crate's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/` of the repository.
pub fn fixtures_dir() -> PathBuf {
    repo_root().join("fixtures")
}

/// `fixtures/<name>`.
pub fn fixture_dir(name: &str) -> PathBuf {
    fixtures_dir().join(name)
}

/// Names of the fixture scenarios: the directories of `fixtures/` that hold
/// a `step-0` tree, sorted.
pub fn fixture_names() -> Vec<String> {
    let dir = fixtures_dir();
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("read_dir entry").path())
        .filter(|path| path.join("step-0").is_dir())
        .filter_map(|path| Some(path.file_name()?.to_str()?.to_owned()))
        .collect();
    names.sort();
    names
}

/// The `step-N` trees of a fixture that exist, ordered by N.
pub fn fixture_steps(name: &str) -> Vec<(u32, PathBuf)> {
    let dir = fixture_dir(name);
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read fixture directory {}: {e}", dir.display()));
    let mut steps: Vec<(u32, PathBuf)> = entries
        .map(|entry| entry.expect("read_dir entry").path())
        .filter(|path| path.is_dir())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?;
            let n = name.strip_prefix("step-")?.parse().ok()?;
            Some((n, path))
        })
        .collect();
    steps.sort();
    steps
}

/// The shared target directory of every fixture build: `<repo>/target/fixtures`.
pub fn fixture_target_dir() -> PathBuf {
    // Several checkouts (git worktrees) of this repository may share one fixture target dir: the
    // tonic graph is then compiled once for all of them.
    match std::env::var_os("CONNECT_MIGRATE_FIXTURE_TARGET") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("target").join("fixtures"),
    }
}

/// Path of the vendored `protoc` (the `protoc-bin-vendored` dev-dependency).
pub fn protoc() -> PathBuf {
    protoc_bin_vendored::protoc_bin_path()
        .expect("protoc-bin-vendored has no protoc for this platform")
}

/// The well-known-type include directory shipped with the vendored `protoc`.
pub fn protoc_include() -> PathBuf {
    protoc_bin_vendored::include_path().expect("protoc-bin-vendored has no include directory")
}

/// The environment every fixture build runs with.
pub fn fixture_env() -> Vec<(&'static str, OsString)> {
    vec![
        ("CARGO_TARGET_DIR", fixture_target_dir().into_os_string()),
        ("PROTOC", protoc().into_os_string()),
        ("PROTOC_INCLUDE", protoc_include().into_os_string()),
        // Fixtures are built for their tests only: no debug info, no
        // incremental caches. Same values everywhere, so artifacts are shared.
        ("CARGO_PROFILE_DEV_DEBUG", "false".into()),
        ("CARGO_INCREMENTAL", "0".into()),
        ("CARGO_TERM_COLOR", "never".into()),
    ]
}

/// A `cargo` command running in `dir` with [`fixture_env`].
pub fn cargo(dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(dir);
    for (key, value) in fixture_env() {
        cmd.env(key, value);
    }
    cmd
}

/// What a finished (or timed-out) process left behind.
#[derive(Debug)]
pub struct RunOutput {
    /// `None` when the process was killed after the timeout.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl RunOutput {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// Status, stderr and stdout, for failure messages.
    pub fn describe(&self) -> String {
        let status = match self.status {
            Some(status) => status.to_string(),
            None => format!("killed after {:?} (timeout)", self.elapsed),
        };
        format!(
            "status: {status}\n--- stderr ---\n{}\n--- stdout ---\n{}",
            self.stderr, self.stdout
        )
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// `cmd.spawn()`, again after a pause while the executable is busy (ETXTBSY): a binary this
/// process has just copied can still be open for writing in a child another test thread forked
/// meanwhile (it inherited the descriptor until its own exec), and exec refuses such a file.
pub fn spawn_when_free(cmd: &mut Command) -> std::io::Result<std::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 50 => {
                tries += 1;
                thread::sleep(Duration::from_millis(100));
            }
            r => return r,
        }
    }
}

/// Runs `cmd` to completion with piped output, killing it after `timeout`.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> RunOutput {
    let start = Instant::now();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn_when_free(cmd).unwrap_or_else(|e| panic!("cannot spawn {cmd:?}: {e}"));
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));

    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    RunOutput {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: start.elapsed(),
    }
}

/// The working-copy directory name of a tree: `greeter__step-0` for
/// `fixtures/greeter/step-0`, else its last two path components joined the
/// same way. One component, so the copy is as deep as the original.
fn tree_label(tree: &Path) -> String {
    let tree = tree.canonicalize().unwrap_or_else(|_| tree.to_path_buf());
    let fixtures = fixtures_dir()
        .canonicalize()
        .unwrap_or_else(|_| fixtures_dir());
    let rel = match tree.strip_prefix(&fixtures) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => tree
            .iter()
            .rev()
            .take(2)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect(),
    };
    rel.to_string_lossy().replace(['/', '\\'], "__")
}

/// Mirrors `src` into `dest`: files whose content is unchanged are left alone
/// (so cargo sees them as fresh), changed files are rewritten, files and
/// directories that are not in `src` are removed. `target/` and `Cargo.lock`
/// of `src` are never copied; `Cargo.lock` in `dest` is removed so that
/// every build resolves the same (newest) versions.
fn mirror_tree(src: &Path, dest: &Path) {
    mirror_tree_keeping(src, dest, &[]);
}

/// [`mirror_tree`], leaving the entries of `dest` named in `keep` alone.
fn mirror_tree_keeping(src: &Path, dest: &Path, keep: &[&str]) {
    fs::create_dir_all(dest).unwrap_or_else(|e| panic!("create {}: {e}", dest.display()));
    let mut wanted = Vec::new();
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display())) {
        let entry = entry.expect("read_dir entry");
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        let from = entry.path();
        let to = dest.join(&name);
        let file_type = entry.file_type().expect("file type");
        if file_type.is_dir() {
            if to.is_file() {
                fs::remove_file(&to).expect("remove file replaced by a directory");
            }
            mirror_tree(&from, &to);
        } else {
            let content =
                fs::read(&from).unwrap_or_else(|e| panic!("read {}: {e}", from.display()));
            if to.is_dir() {
                fs::remove_dir_all(&to).expect("remove directory replaced by a file");
            }
            if fs::read(&to).ok().as_deref() != Some(&content[..]) {
                fs::write(&to, &content).unwrap_or_else(|e| panic!("write {}: {e}", to.display()));
            }
        }
        wanted.push(name);
    }
    for entry in fs::read_dir(dest).expect("read dest") {
        let entry = entry.expect("read_dir entry");
        if wanted.contains(&entry.file_name())
            || keep
                .iter()
                .any(|k| entry.file_name() == std::ffi::OsStr::new(k))
        {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            fs::remove_dir_all(&path).expect("remove stale directory");
        } else {
            fs::remove_file(&path).expect("remove stale file");
        }
    }
}

/// Copies `tree` to its working copy under `target/fixture-trees/` and
/// returns the copy's path. Unchanged files keep their timestamps, so a
/// second build of the same tree is incremental.
pub fn working_copy(tree: &Path) -> PathBuf {
    assert!(
        tree.join("Cargo.toml").is_file(),
        "{} has no Cargo.toml",
        tree.display()
    );
    let dest = repo_root()
        .join("target")
        .join("fixture-trees")
        .join(tree_label(tree));
    let vendored = names_vendored_shim(tree);
    let keep: &[&str] = if vendored {
        &[cargo_connect_migrate::shim::VENDOR_DIR]
    } else {
        &[]
    };
    mirror_tree_keeping(tree, &dest, keep);
    if vendored {
        write_vendored_shim(&dest);
    }
    dest
}

/// Does a manifest of `tree` depend on the vendored shim (`<tree>/connect-shim` by path)?
pub fn names_vendored_shim(tree: &Path) -> bool {
    let dir = tree.join(cargo_connect_migrate::shim::VENDOR_DIR);
    manifests_of(tree).iter().any(|m| {
        let text = fs::read_to_string(m).unwrap_or_default();
        cargo_connect_migrate::shim::names_path(&text, m.parent().unwrap(), &dir)
    })
}

/// Every `Cargo.toml` of a tree (`target/` and the vendored shim left out).
fn manifests_of(tree: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![tree.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().map_while(Result::ok) {
            let name = e.file_name();
            let path = e.path();
            if path.is_dir() {
                if name != "target" && name != cargo_connect_migrate::shim::VENDOR_DIR {
                    stack.push(path);
                }
            } else if name == "Cargo.toml" {
                out.push(path);
            }
        }
    }
    out
}

/// Writes the vendored shim into `<dir>/connect-shim/` as the tool does, rewriting only the
/// files whose content differs (so cargo sees the others as fresh) and removing any other file.
pub fn write_vendored_shim(dir: &Path) {
    let shim = dir.join(cargo_connect_migrate::shim::VENDOR_DIR);
    let files = cargo_connect_migrate::shim::vendored_files();
    let src = tempfile::tempdir().expect("temp dir");
    for (rel, text) in &files {
        let p = src.path().join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    mirror_tree(src.path(), &shim);
}

/// Sets the modification time of every file under `dir` (but `target/`) to now.
fn touch_all(dir: &Path) {
    let now = std::time::SystemTime::now();
    for entry in fs::read_dir(dir).expect("read working copy") {
        let entry = entry.expect("read_dir entry");
        if entry.file_name() == "target" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            touch_all(&path);
        } else if let Ok(f) = fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(now);
        }
    }
}

/// Two steps of one fixture have the same packages (names, versions, often the same
/// dependencies), so cargo gives their units the same hashes in the shared target directory, and
/// judges freshness by modification times: a tree built after another one whose files are older
/// than that build would reuse the other tree's artifacts. Files of a working copy are touched
/// whenever the previous build in the target directory was of another tree.
fn mark_current_tree(copy: &Path) {
    let marker = fixture_target_dir().join("last-fixture-tree");
    let label = copy.to_string_lossy().into_owned();
    if fs::read_to_string(&marker).ok().as_deref() != Some(label.as_str()) {
        touch_all(copy);
        let _ = fs::create_dir_all(fixture_target_dir());
        let _ = fs::write(&marker, &label);
    }
}

/// Record that something else than a working copy (`label`, for example the demo of
/// `tests/demo_build.rs`) was built in the shared target directory, so the next fixture build
/// touches its files ([`mark_current_tree`]).
pub fn mark_other_build(label: &str) {
    let _ = fs::create_dir_all(fixture_target_dir());
    let _ = fs::write(fixture_target_dir().join("last-fixture-tree"), label);
}

fn run_cargo(tree: &Path, args: &[&str]) -> (PathBuf, RunOutput) {
    let _guard = cargo_lock();
    let copy = working_copy(tree);
    mark_current_tree(&copy);
    let out = run_with_timeout(cargo(&copy).args(args), CARGO_TIMEOUT);
    assert!(
        out.success(),
        "`cargo {}` failed for {} (working copy {})\n{}",
        args.join(" "),
        tree.display(),
        copy.display(),
        out.describe()
    );
    (copy, out)
}

/// Builds `tree` (a cargo workspace) and runs all its tests, in debug, in a
/// working copy, with the shared fixture target directory. Panics with the
/// build and test output if anything fails; returns that output otherwise.
pub fn build_and_test(tree: &Path) -> RunOutput {
    let (_, out) = run_cargo(tree, &["test", "--workspace", "--no-fail-fast"]);
    out
}

/// Name of the file, in a directory of binaries made by [`build_bins`], that
/// records the fingerprint of what they were built from ([`inputs_fingerprint`]).
const BINS_STAMP: &str = ".inputs-fingerprint";

/// Builds every binary of `tree` and copies them into a directory of their
/// own (binaries of different trees share names, e.g. every step of `routes`
/// has `routes-server`), which is returned. The directory also records what
/// the binaries were built from, for [`cached_bins`].
pub fn build_bins(tree: &Path) -> PathBuf {
    let fingerprint = inputs_fingerprint(tree);
    let (copy, out) = run_cargo(
        tree,
        &[
            "build",
            "--workspace",
            "--bins",
            "--message-format=json-render-diagnostics",
        ],
    );
    let mut bin_dir = copy.into_os_string();
    bin_dir.push(".bin");
    let bin_dir = PathBuf::from(bin_dir);
    if bin_dir.exists() {
        fs::remove_dir_all(&bin_dir).expect("remove old binaries");
    }
    fs::create_dir_all(&bin_dir).expect("create binary directory");

    for line in out.stdout.lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = message["executable"].as_str() else {
            continue;
        };
        let exe = Path::new(exe);
        let dest = bin_dir.join(exe.file_name().expect("executable file name"));
        let source = unique_artifact(exe).unwrap_or_else(|| exe.to_path_buf());
        fs::copy(&source, &dest)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", source.display(), dest.display()));
    }
    fs::write(bin_dir.join(BINS_STAMP), fingerprint).expect("write the inputs fingerprint");
    bin_dir
}

/// The binaries of `tree` as [`build_bins`] returns them, without running
/// cargo when an earlier [`build_bins`] (of this test binary or another one,
/// e.g. `tests/fixture_builds.rs` in the same `cargo test` run) built them
/// from the same inputs ([`inputs_fingerprint`]).
pub fn cached_bins(tree: &Path) -> PathBuf {
    let mut bin_dir = repo_root()
        .join("target")
        .join("fixture-trees")
        .join(tree_label(tree))
        .into_os_string();
    bin_dir.push(".bin");
    let bin_dir = PathBuf::from(bin_dir);
    let recorded = fs::read_to_string(bin_dir.join(BINS_STAMP)).ok();
    if recorded.as_deref() == Some(inputs_fingerprint(tree).as_str()) {
        return bin_dir;
    }
    build_bins(tree)
}

/// A fingerprint of what the binaries of `tree` are built from: the files of
/// the tree and of the shim vendored into it (`templates/connect-shim/`, the
/// embedded copy), paths and contents, `target/` and `Cargo.lock` left out. The toolchain and the
/// registry are not part of it.
pub fn inputs_fingerprint(tree: &Path) -> String {
    fn walk(dir: &Path, rel: &Path, files: &mut Vec<(PathBuf, PathBuf)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.map_while(Result::ok) {
            let name = entry.file_name();
            if name == "target" || name == "Cargo.lock" {
                continue;
            }
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &rel.join(&name), files);
            } else {
                files.push((rel.join(&name), path));
            }
        }
    }
    // FNV-1a, 64 bits: stable across runs and toolchains.
    fn feed(hash: &mut u64, bytes: &[u8]) {
        for &b in bytes {
            *hash ^= u64::from(b);
            *hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (label, root) in [
        ("tree", tree.to_path_buf()),
        ("shim", repo_root().join("templates").join("connect-shim")),
    ] {
        let mut files = Vec::new();
        walk(&root, Path::new(label), &mut files);
        files.sort();
        for (rel, path) in files {
            let content = fs::read(&path).unwrap_or_default();
            feed(&mut hash, rel.to_string_lossy().as_bytes());
            feed(&mut hash, &(content.len() as u64).to_le_bytes());
            feed(&mut hash, &content);
        }
    }
    format!("{hash:016x}")
}

/// The `deps/<crate>-<hash>` file that cargo hard-linked to `exe` (e.g.
/// `debug/routes-server`). Its name is unique to this working copy, so unlike
/// `exe` it cannot be replaced by a build of another tree with a binary of
/// the same name (say, another step of the same fixture built by another
/// process sharing the target directory).
#[cfg(unix)]
fn unique_artifact(exe: &Path) -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt;

    let inode = fs::metadata(exe).ok()?.ino();
    let prefix = format!("{}-", exe.file_stem()?.to_str()?.replace('-', "_"));
    fs::read_dir(exe.parent()?.join("deps"))
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
        .find(|entry| entry.metadata().is_ok_and(|m| m.ino() == inode))
        .map(|entry| entry.path())
}

#[cfg(not(unix))]
fn unique_artifact(_exe: &Path) -> Option<PathBuf> {
    None
}

/// Path of binary `name` in a directory returned by [`build_bins`].
pub fn bin_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A running server binary; killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// The address from its `listening on <addr>` line.
    pub addr: SocketAddr,
    stderr: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// `http://<addr>`, what the client binaries take.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts server binary `bin` on `127.0.0.1:0` (first argument and `ADDR`)
/// with `extra_env`, and waits for its `listening on <addr>` line.
pub fn spawn_server(bin: &Path, extra_env: &[(&str, &str)]) -> ServerProcess {
    const LISTEN_ADDR: &str = "127.0.0.1:0";
    let mut cmd = Command::new(bin);
    cmd.arg(LISTEN_ADDR)
        .env("ADDR", LISTEN_ADDR)
        .envs(extra_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child =
        spawn_when_free(&mut cmd).unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));

    let stderr = Arc::new(Mutex::new(String::new()));
    {
        let stderr = Arc::clone(&stderr);
        let pipe = child.stderr.take().expect("piped stderr");
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut buf = stderr.lock().unwrap();
                buf.push_str(&line);
                buf.push('\n');
            }
        });
    }

    // Forward stdout lines; keep draining after the first so the server
    // never blocks on a full pipe.
    let (tx, rx) = mpsc::channel::<String>();
    let pipe = child.stdout.take().expect("piped stdout");
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    let deadline = Instant::now() + SERVER_START_TIMEOUT;
    let mut seen = Vec::new();
    let addr = loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(remaining) {
            Ok(line) => {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    break addr.trim().parse::<SocketAddr>().unwrap_or_else(|e| {
                        panic!("{}: bad address in {line:?}: {e}", bin.display())
                    });
                }
                seen.push(line);
            }
            Err(_) => {
                let _ = child.kill();
                let status = child.wait().ok();
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "{} printed no `listening on` line within {:?} (exit status {status:?})\n\
                     --- stdout ---\n{}\n--- stderr ---\n{}",
                    bin.display(),
                    SERVER_START_TIMEOUT,
                    seen.join("\n"),
                    stderr.lock().unwrap()
                );
            }
        }
    };

    ServerProcess {
        child,
        addr,
        stderr,
    }
}

/// Runs client binary `bin` against `url` and asserts that it succeeds,
/// showing its output otherwise. Returns its stdout (one line per check).
pub fn run_client(bin: &Path, url: &str) -> String {
    let out = try_run_client(bin, url);
    assert!(
        out.success(),
        "client {} against {url} failed\n{}",
        bin.display(),
        out.describe()
    );
    out.stdout
}

/// Runs client binary `bin` against `url` (with [`CLIENT_TIMEOUT`]) and
/// returns what happened, without judging it.
pub fn try_run_client(bin: &Path, url: &str) -> RunOutput {
    run_with_timeout(Command::new(bin).arg(url), CLIENT_TIMEOUT)
}

/// Copy a tree (its `target/` and `Cargo.lock` left out).
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&dest).unwrap();
            copy_tree(&entry.path(), &dest);
        } else {
            fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Run git in `dir` with a fixed identity; it must succeed.
pub fn git(dir: &Path, args: &[&str]) -> std::process::Output {
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

/// A committed git repository holding a copy of `tree` (a path of this repository), with the
/// vendored shim its manifests name (the fixture trees leave the folder out; a user's tree holds
/// it, committed with step 1).
pub fn repo_with(tree: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join(tree), dir.path());
    if names_vendored_shim(dir.path()) {
        write_vendored_shim(dir.path());
    }
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    dir
}

/// Every file under `dir` but `.git` and `target`, with its bytes, sorted.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            if e.file_name() == ".git" || e.file_name() == "target" {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}
