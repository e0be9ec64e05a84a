//! The demo's IO: its git history, its builds, and its servers and clients. The `demo` command in
//! `app.rs` drives these; what they return is judged and printed by the pure half in `demo/mod.rs`.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::Calls;

/// How long a demo server may take to print its `listening on <addr>` line.
const SERVER_START: Duration = Duration::from_secs(30);
/// How long one client run may take.
const CLIENT_RUN: Duration = Duration::from_secs(60);

/// The demo's server and client binaries (the greeter fixture's).
pub const SERVER: &str = "greeter-server";
pub const CLIENT: &str = "greeter-client";

/// `git -C dir args...`, its stdout, or what it said on failure. The demo repository has its own
/// committer (set by [`init_repo`]), so this works on a machine without a git config.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "git {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Whether a `git` can be run at all.
pub fn git_available() -> bool {
    Command::new("git")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Make `dir` a git repository with a local committer (no global config needed).
pub fn init_repo(dir: &Path) -> Result<(), String> {
    git(dir, &["-c", "init.defaultBranch=main", "init", "-q"])?;
    git(dir, &["config", "user.name", "connect-migrate demo"])?;
    git(
        dir,
        &["config", "user.email", "demo@connect-migrate.invalid"],
    )?;
    git(dir, &["config", "commit.gpgsign", "false"])?;
    Ok(())
}

/// Commit everything in `dir` (an unchanged tree still gets its commit, so there is one per
/// step); whether anything changed.
pub fn commit_all(dir: &Path, message: &str) -> Result<bool, String> {
    git(dir, &["add", "-A"])?;
    // `diff --cached --quiet` exits 1 when something is staged; before the first commit there is
    // nothing to compare with.
    let changed = git(dir, &["rev-parse", "--verify", "-q", "HEAD"]).is_err()
        || git(dir, &["diff", "--cached", "--quiet"]).is_err();
    let message = if changed {
        message.to_string()
    } else {
        format!("{message} (nothing to change in this workspace)")
    };
    git(dir, &["commit", "-q", "--allow-empty", "-m", &message])?;
    Ok(changed)
}

/// Remove what an earlier demo left in `dir`, but its `target/` (kept so the build is reused).
pub fn clear_earlier(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name() == "target" {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// The `PROTOC` the demo's build runs with: the user's (`PROTOC` set) or the vendored copy the
/// tool ships (tonic-prost-build in the step-0 `build.rs` needs one). `None`: the user's own.
pub fn protoc_env() -> Result<Vec<(&'static str, OsString)>, String> {
    if std::env::var_os("PROTOC").is_some_and(|p| !p.is_empty()) {
        return Ok(Vec::new());
    }
    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(|e| {
        format!("the demo's step-0 build runs protoc, and this tool has no vendored protoc for this platform ({e}): install protoc and set PROTOC to it")
    })?;
    let mut env = vec![("PROTOC", protoc.into_os_string())];
    if std::env::var_os("PROTOC_INCLUDE").is_none() {
        if let Ok(include) = protoc_bin_vendored::include_path() {
            env.push(("PROTOC_INCLUDE", include.into_os_string()));
        }
    }
    Ok(env)
}

/// Sets the modification time of every file of the demo (but `target/` and `.git/`) to now. Cargo
/// judges a path package fresh by modification times, and every step of the demo is the same
/// package (`greeter 0.1.0`): when the target directory is shared (`CARGO_TARGET_DIR`), a build
/// of another tree of that package newer than the demo's files would otherwise be reused.
fn touch_all(dir: &Path) {
    let now = std::time::SystemTime::now();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.map_while(Result::ok) {
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            touch_all(&path);
        } else if let Ok(f) = std::fs::File::options().write(true).open(&path) {
            let _ = f.set_modified(now);
        }
    }
}

/// `cargo build --bins` (debug) of the demo workspace at `dir`, cargo's progress on stderr. On
/// success the binaries are copied to `<dir>/target/demo-bins/<label>/` (each step's binaries
/// have the same names), which is returned; on failure, the compiler's errors.
pub fn build(dir: &Path, label: &str, env: &[(&'static str, OsString)]) -> Result<PathBuf, String> {
    touch_all(dir);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .current_dir(dir)
        .args([
            "build",
            "--bins",
            "--message-format=json-render-diagnostics",
        ])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_string(&mut stdout);
    }
    let status = child.wait().map_err(|e| format!("cargo: {e}"))?;
    let mut exes = Vec::new();
    let mut errors = String::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match msg["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(exe) = msg["executable"].as_str() {
                    exes.push(PathBuf::from(exe));
                }
            }
            Some("compiler-message") if msg["message"]["level"] == "error" => {
                if let Some(r) = msg["message"]["rendered"].as_str() {
                    errors.push_str(r);
                }
            }
            _ => {}
        }
    }
    if !status.success() {
        return Err(if errors.is_empty() {
            format!("cargo build failed ({status}); its output is above")
        } else {
            errors
        });
    }
    let bins = dir.join("target").join("demo-bins").join(label);
    if bins.exists() {
        std::fs::remove_dir_all(&bins).map_err(|e| format!("{}: {e}", bins.display()))?;
    }
    std::fs::create_dir_all(&bins).map_err(|e| format!("{}: {e}", bins.display()))?;
    for exe in exes {
        let Some(name) = exe.file_name() else {
            continue;
        };
        let to = bins.join(name);
        std::fs::copy(&exe, &to).map_err(|e| format!("copy {}: {e}", exe.display()))?;
    }
    Ok(bins)
}

/// Path of binary `name` in a directory returned by [`build`].
pub fn bin(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// A running server, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `server` on a free loopback port and wait for its `listening on <addr>` line.
fn start_server(server: &Path) -> Result<(Server, String), String> {
    const ADDR: &str = "127.0.0.1:0";
    let mut child = Command::new(server)
        .arg(ADDR)
        .env("ADDR", ADDR)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
    let pipe = child.stdout.take().expect("piped stdout");
    let server_guard = Server(child);
    let (tx, rx) = mpsc::channel::<String>();
    // Keep draining after the first line so the server never blocks on a full pipe.
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + SERVER_START;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    return Ok((server_guard, format!("http://{}", addr.trim())));
                }
            }
            Err(_) => return Err("the server did not start".to_string()),
        }
    }
}

/// Run `client` against `url`, with a time limit; what it said.
fn run_client(client: &Path, url: &str) -> Calls {
    let mut child = match Command::new(client)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return Calls::from_output("", Some(format!("cannot start the client: {e}"))),
    };
    let mut pipe = child.stdout.take().expect("piped stdout");
    let reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let exit = loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break None,
            Ok(Some(status)) => break Some(status.to_string()),
            Ok(None) if start.elapsed() > CLIENT_RUN => {
                let _ = child.kill();
                let _ = child.wait();
                break Some(format!("timed out after {}s", CLIENT_RUN.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(e) => break Some(e.to_string()),
        }
    };
    let stdout = reader.join().unwrap_or_default();
    Calls::from_output(&stdout, exit)
}

/// Start `server`, run `client` against it, stop the server.
pub fn call(client: &Path, server: &Path) -> Calls {
    match start_server(server) {
        Ok((_server, url)) => run_client(client, &url),
        Err(e) => Calls::from_output("", Some(e)),
    }
}
