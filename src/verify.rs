//! The compiler in the loop: a step applied to a cargo workspace never leaves a broken build.
//!
//! Like `cargo fix`: check the affected packages before editing (a baseline that does not build
//! is refused unless `--broken-code`), write the step, check again, repair what the compiler
//! points at (the pure [`crate::repairs`]) for a few rounds, re-checking only the crates a round
//! changed, and when errors remain restore what the run wrote, file by file where the errors are
//! in files the step wrote and the rest builds without them, else crate by crate where crates are
//! independent, listing every remaining error as a manual item `stepNN/compile-EXXXX`.
//!
//! Packages checked: the crates whose files the step changes and the workspace members that
//! depend on them (`cargo check --all-targets --message-format=json -p ..`), with the user's
//! feature and target flags.

mod guard;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::engine::ItemKind;
use crate::repairs::{self, Diag};
use crate::report::ItemReport;
use crate::run::{self, Mode, RunReport};
use crate::steps::Step;
use crate::workspace::{rel, Workspace};

/// Repair rounds after the first check of a written step.
pub const MAX_ROUNDS: usize = 3;

/// The cargo flags of the check, and the loop's options.
#[derive(Clone, Debug, Default)]
pub struct CheckOpts {
    pub features: Vec<String>,
    pub all_features: bool,
    pub no_default_features: bool,
    pub target: Option<String>,
    /// cargo's target selection (`--lib`, `--bins`, ..); empty: `--all-targets`.
    pub targets: Vec<&'static str>,
    /// Keep going when the baseline fails, and keep a result that does not build.
    pub broken_code: bool,
    /// Draw a spinner naming the crate being checked (only on a terminal).
    pub progress: bool,
}

/// How a checked step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VerdictState {
    /// The workspace builds after the step (repairs included).
    Checked,
    /// Errors remained: what the run wrote was restored (in `restored_crates`, or everything).
    Restored,
    /// Errors remained and `--broken-code` kept them.
    Broken,
}

#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub state: VerdictState,
    /// Repairs applied (kept or not).
    pub repairs: usize,
    /// Compiler errors left (each listed as an item).
    pub errors: usize,
    /// Crates whose edits were restored (every affected crate when the whole run was).
    pub restored_crates: Vec<String>,
    /// Files restored on their own, the rest of the step kept (relative to the workspace root;
    /// empty when whole crates were restored).
    pub restored_files: Vec<String>,
    /// The verdict line of the summary.
    pub text: String,
}

/// One compiler error, located.
#[derive(Clone, Debug)]
pub struct CompileError {
    /// Absolute path of the primary span's file (None: no span, e.g. a cargo error).
    pub file: Option<PathBuf>,
    pub line: usize,
    pub column: usize,
    pub diag: Diag,
    pub rendered: String,
}

#[derive(Debug, Default)]
pub struct CheckOutcome {
    pub success: bool,
    pub errors: Vec<CompileError>,
    /// cargo's own errors (`error: ...` lines of stderr), when it failed before compiling.
    pub cargo_errors: Vec<String>,
}

/// What `apply_step` did.
pub enum Applied {
    Report(RunReport),
    /// The baseline does not build (nothing was written).
    Refused(CheckOutcome),
    /// cargo could not be run.
    Failed(String),
}

fn package_args(packages: &Option<Vec<String>>) -> Vec<String> {
    match packages {
        // The vendored shim joins a workspace whose root it sits in; it is not the user's code
        // (cargo only warns when no member has that name).
        None => vec![
            "--workspace".into(),
            "--exclude".into(),
            crate::shim::PACKAGE.into(),
        ],
        Some(p) if p.is_empty() => vec![
            "--workspace".into(),
            "--exclude".into(),
            crate::shim::PACKAGE.into(),
        ],
        Some(p) => p
            .iter()
            .flat_map(|n| ["-p".to_string(), n.clone()])
            .collect(),
    }
}

/// The arguments of the check: the packages, the user's feature and target flags.
fn check_args(root: &Path, packages: &Option<Vec<String>>, opts: &CheckOpts) -> Vec<String> {
    let mut a: Vec<String> = vec!["check".into()];
    if opts.targets.is_empty() {
        a.push("--all-targets".into());
    } else {
        a.extend(opts.targets.iter().map(|t| t.to_string()));
    }
    a.extend(["--message-format=json", "--manifest-path"].map(String::from));
    a.push(root.join("Cargo.toml").to_string_lossy().into_owned());
    a.extend(package_args(packages));
    if !opts.features.is_empty() {
        a.push("--features".into());
        a.push(opts.features.join(","));
    }
    if opts.all_features {
        a.push("--all-features".into());
    }
    if opts.no_default_features {
        a.push("--no-default-features".into());
    }
    if let Some(t) = &opts.target {
        a.push("--target".into());
        a.push(t.clone());
    }
    a
}

/// The spinner of a check, drawn on `target` (stderr on a terminal).
fn spinner(target: indicatif::ProgressDrawTarget) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::with_draw_target(None, target)
        .with_style(indicatif::ProgressStyle::default_spinner());
    b.enable_steady_tick(std::time::Duration::from_millis(120));
    b.set_message("checking the workspace");
    b
}

/// What the spinner says for a status line of cargo's stderr (`   Checking foo v0.1.0 (/p)`,
/// `  Compiling bar v1.2.3`): the crate cargo started on, with its version.
fn status_message(line: &str) -> Option<String> {
    let t = line.trim_start();
    let (verb, rest) = if let Some(r) = t.strip_prefix("Checking ") {
        ("checking", r)
    } else {
        ("compiling", t.strip_prefix("Compiling ")?)
    };
    let name = rest.split(" (").next().unwrap_or(rest).trim();
    (!name.is_empty()).then(|| format!("{verb} {name}"))
}

/// Read cargo's stderr: the spinner names the crate being checked; cargo's own errors
/// (`error: ...` with their following lines) are returned.
fn read_cargo_stderr(stderr: impl BufRead, bar: Option<&indicatif::ProgressBar>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut current: Option<String> = None;
    for line in stderr.lines().map_while(Result::ok) {
        let t = line.trim_start();
        if let (Some(b), Some(m)) = (bar, status_message(&line)) {
            b.set_message(m);
        }
        if let Some(e) = t.strip_prefix("error") {
            if let Some(c) = current.take() {
                errors.push(c);
            }
            current = Some(format!("error{e}"));
        } else if let Some(c) = &mut current {
            if !t.is_empty() {
                c.push('\n');
                c.push_str(&line);
            }
        }
    }
    errors.extend(current);
    errors
}

/// Run `cargo check --all-targets --message-format=json` on `packages` (None: the workspace).
pub fn cargo_check(
    root: &Path,
    packages: &Option<Vec<String>>,
    opts: &CheckOpts,
) -> std::io::Result<CheckOutcome> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.args(check_args(root, packages, opts));
    cmd.env("CARGO_TERM_COLOR", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let spinner = (opts.progress && std::io::stderr().is_terminal())
        .then(|| spinner(indicatif::ProgressDrawTarget::stderr()));
    let stderr = child.stderr.take().expect("piped stderr");
    let bar = spinner.clone();
    let err_thread =
        std::thread::spawn(move || read_cargo_stderr(BufReader::new(stderr), bar.as_ref()));
    let stdout = child.stdout.take().expect("piped stdout");
    let mut errors = Vec::new();
    for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        let Ok(cargo_metadata::Message::CompilerMessage(m)) =
            serde_json::from_str::<cargo_metadata::Message>(&line)
        else {
            continue;
        };
        if m.message.level != cargo_metadata::diagnostic::DiagnosticLevel::Error {
            continue;
        }
        if m.message.code.is_none()
            && (m.message.message.starts_with("aborting due to") || m.message.spans.is_empty())
        {
            continue;
        }
        let raw = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .map(|v| v["message"].to_string())
            .unwrap_or_default();
        let primary = m.message.spans.iter().find(|s| s.is_primary);
        let file = primary.map(|s| {
            let p = PathBuf::from(&s.file_name);
            if p.is_absolute() {
                p
            } else {
                root.join(p)
            }
        });
        errors.push(CompileError {
            file,
            line: primary.map_or(1, |s| s.line_start),
            column: primary.map_or(1, |s| s.column_start),
            diag: Diag {
                code: m.message.code.as_ref().map(|c| c.code.clone()),
                message: m.message.message.clone(),
                label: primary.and_then(|s| s.label.clone()),
                range: primary.map_or(0..0, |s| s.byte_start as usize..s.byte_end as usize),
                raw,
            },
            rendered: m.message.rendered.clone().unwrap_or_default(),
        });
    }
    let status = child.wait()?;
    let cargo_errors = err_thread.join().unwrap_or_default();
    if let Some(b) = spinner {
        b.finish_and_clear();
    }
    // The same error is reported once per target that compiles the file (lib and test).
    let mut seen = HashSet::new();
    errors.retain(|e| seen.insert((e.file.clone(), e.diag.range.clone(), e.diag.message.clone())));
    Ok(CheckOutcome {
        success: status.success(),
        errors,
        cargo_errors: if status.success() {
            Vec::new()
        } else {
            cargo_errors
                .into_iter()
                .filter(|e| !e.starts_with("error: could not compile"))
                .collect()
        },
    })
}

/// Workspace members and the members each depends on (from `cargo metadata --no-deps`).
type Graph = BTreeMap<String, (PathBuf, Vec<String>)>;

/// What `cargo metadata --no-deps` says that the loop needs.
struct Meta {
    graph: Graph,
    /// Where cargo builds (the check cache lives there).
    target_dir: PathBuf,
    /// Directories of path dependencies outside the workspace root (a check depends on them).
    outside: Vec<PathBuf>,
}

fn metadata(root: &Path) -> Option<Meta> {
    let meta = cargo_metadata::MetadataCommand::new()
        .no_deps()
        .manifest_path(root.join("Cargo.toml"))
        .exec()
        .ok()?;
    let names: HashSet<String> = meta
        .workspace_packages()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    let mut outside: Vec<PathBuf> = meta
        .workspace_packages()
        .iter()
        .flat_map(|p| &p.dependencies)
        .filter_map(|d| d.path.as_ref().map(|p| PathBuf::from(p.as_std_path())))
        .filter(|p| !p.starts_with(root))
        .collect();
    outside.extend(patch_paths(root));
    outside.retain(|p| !p.starts_with(root));
    outside.sort();
    outside.dedup();
    let graph = meta
        .workspace_packages()
        .iter()
        .map(|p| {
            let dir: PathBuf = p.manifest_path.parent()?.to_path_buf().into();
            let deps = p
                .dependencies
                .iter()
                .filter(|d| names.contains(d.name.as_str()) && d.path.is_some())
                .map(|d| d.name.to_string())
                .collect();
            Some((p.name.to_string(), (dir, deps)))
        })
        .collect::<Option<_>>()?;
    Some(Meta {
        graph,
        target_dir: meta.target_directory.clone().into(),
        outside,
    })
}

/// The directories of the root manifest's `[patch.*]` and `[replace]` path entries (a check
/// builds them; `cargo metadata --no-deps` does not list them).
fn patch_paths(root: &Path) -> Vec<PathBuf> {
    let Ok(doc) = std::fs::read_to_string(root.join("Cargo.toml"))
        .unwrap_or_default()
        .parse::<toml_edit::DocumentMut>()
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut entries = |t: &dyn toml_edit::TableLike| {
        for (_, dep) in t.iter() {
            if let Some(p) = dep
                .as_table_like()
                .and_then(|d| d.get("path"))
                .and_then(|p| p.as_str())
            {
                out.push(root.join(p));
            }
        }
    };
    if let Some(patch) = doc.get("patch").and_then(|p| p.as_table_like()) {
        for (_, source) in patch.iter() {
            if let Some(t) = source.as_table_like() {
                entries(t);
            }
        }
    }
    if let Some(t) = doc.get("replace").and_then(|p| p.as_table_like()) {
        entries(t);
    }
    out
}

/// With `CONNECT_MIGRATE_LOOP_TIMES` set, how long each phase of the loop took (on stderr; for
/// `benches/loop.sh`).
fn phase(since: std::time::Instant, what: &str) {
    if std::env::var_os("CONNECT_MIGRATE_LOOP_TIMES").is_some() {
        eprintln!("loop-time: {:.2}s {what}", since.elapsed().as_secs_f64());
    }
}

/// Environment variables that do not change a build (shell bookkeeping).
const NOISE_ENV: &[&str] = &[
    "_",
    "OLDPWD",
    "PWD",
    "SHLVL",
    "TERM",
    "COLUMNS",
    "LINES",
    "PS1",
    "SSH_TTY",
    "SSH_CLIENT",
    "SSH_CONNECTION",
    "TMUX_PANE",
    "WINDOWID",
];

/// At most this many bytes of files are hashed for a key (a larger tree is always checked).
const KEY_MAX_BYTES: u64 = 256 << 20;

/// What a check's verdict depends on, as one hash: its arguments, the toolchain (`rustc -vV`
/// from the workspace root, so `rust-toolchain.toml` counts), the environment (shell noise
/// left out), and every file of the workspace and of the path dependencies outside it (cargo's
/// target directories, found by their `CACHEDIR.TAG`, `target/` and `.git/` left out). None when
/// the tree is too large or a file cannot be read: the check runs.
fn tree_key(root: &Path, outside: &[PathBuf], args: &[String]) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    env!("CARGO_PKG_VERSION").hash(&mut h);
    args.hash(&mut h);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let v = Command::new(rustc)
        .arg("-vV")
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !v.status.success() {
        return None;
    }
    v.stdout.hash(&mut h);
    let mut env: Vec<(std::ffi::OsString, std::ffi::OsString)> = std::env::vars_os()
        .filter(|(k, _)| !NOISE_ENV.iter().any(|n| k == n))
        .collect();
    env.sort();
    env.hash(&mut h);
    // cargo's configuration outside the workspace (its parents' `.cargo/`, `CARGO_HOME`'s):
    // flags, target settings, `[patch]`es the check would use.
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let configs = root
        .ancestors()
        .skip(1)
        .map(|d| d.join(".cargo"))
        .chain(home);
    for dir in configs {
        for name in ["config.toml", "config"] {
            if let Ok(bytes) = std::fs::read(dir.join(name)) {
                dir.join(name).hash(&mut h);
                bytes.hash(&mut h);
            }
        }
    }
    let mut budget = KEY_MAX_BYTES;
    for dir in std::iter::once(root).chain(outside.iter().map(PathBuf::as_path)) {
        dir.hash(&mut h);
        hash_dir(dir, dir, &mut h, &mut budget)?;
    }
    Some(h.finish())
}

fn hash_dir(
    base: &Path,
    dir: &Path,
    h: &mut impl std::hash::Hasher,
    budget: &mut u64,
) -> Option<()> {
    use std::hash::Hash;
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .ok()?;
    entries.sort();
    for p in entries {
        if guard::not_the_users(&p) {
            continue;
        }
        let meta = std::fs::symlink_metadata(&p).ok()?;
        p.strip_prefix(base).unwrap_or(&p).hash(h);
        if meta.is_dir() {
            hash_dir(base, &p, h, budget)?;
        } else if meta.is_file() {
            *budget = budget.checked_sub(meta.len())?;
            std::fs::read(&p).ok()?.hash(h);
        } else if meta.is_symlink() {
            std::fs::read_link(&p).ok()?.hash(h);
        }
    }
    Some(())
}

/// The keys ([`tree_key`]) of trees whose check passed, in the target directory (a few, the
/// most recent last).
struct CheckCache {
    path: PathBuf,
}

impl CheckCache {
    const KEPT: usize = 16;

    fn new(target_dir: &Path) -> Self {
        CheckCache {
            path: target_dir.join("connect-migrate").join("checked-trees"),
        }
    }

    fn keys(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .map(|t| t.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    fn has(&self, key: u64) -> bool {
        self.keys().contains(&format!("{key:016x}"))
    }

    /// Best effort: a cache that cannot be written only costs a check.
    fn add(&self, key: u64) {
        let k = format!("{key:016x}");
        let mut keys: Vec<String> = self.keys().into_iter().filter(|x| *x != k).collect();
        keys.push(k);
        let skip = keys.len().saturating_sub(Self::KEPT);
        if let Some(dir) = self.path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = run::write_atomic(&self.path, &(keys[skip..].join("\n") + "\n"));
    }
}

/// Which member a path belongs to (the deepest member directory holding it).
fn crate_of(graph: &BTreeMap<String, (PathBuf, Vec<String>)>, path: &Path) -> Option<String> {
    graph
        .iter()
        .filter(|(_, (dir, _))| path.starts_with(dir))
        .max_by_key(|(_, (dir, _))| dir.components().count())
        .map(|(n, _)| n.clone())
}

/// `set` and every member that depends on one of them, transitively.
fn with_dependents(
    graph: &BTreeMap<String, (PathBuf, Vec<String>)>,
    set: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = set.clone();
    loop {
        let more: Vec<String> = graph
            .iter()
            .filter(|(n, (_, deps))| !out.contains(*n) && deps.iter().any(|d| out.contains(d)))
            .map(|(n, _)| n.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

/// `set` and every member they depend on, transitively.
fn with_dependencies(
    graph: &BTreeMap<String, (PathBuf, Vec<String>)>,
    set: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = set.clone();
    let mut stack: Vec<String> = set.iter().cloned().collect();
    while let Some(n) = stack.pop() {
        if let Some((_, deps)) = graph.get(&n) {
            for d in deps {
                if out.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
    }
    out
}

/// A file the run (or a repair) wrote: what it held before, whether the run created it.
struct Written {
    path: PathBuf,
    original: String,
    created: bool,
    krate: Option<String>,
}

fn restore(files: &[&Written]) -> Result<(), String> {
    for f in files {
        if f.created {
            match std::fs::remove_file(&f.path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("{}: cannot remove: {e}", f.path.display())),
            }
            // The folders the run created for it (the vendored shim's `src/`) go when emptied:
            // `remove_dir` only removes an empty one, and the walk stops at the first that is not.
            let mut dir = f.path.parent();
            while let Some(d) = dir {
                if std::fs::remove_dir(d).is_err() {
                    break;
                }
                dir = d.parent();
            }
        } else if std::fs::read_to_string(&f.path).ok().as_deref() != Some(&f.original) {
            // A file the run deleted (step 9's vendored shim) comes back with its folder.
            if let Some(dir) = f.path.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            run::write_atomic(&f.path, &f.original)
                .map_err(|e| format!("{}: cannot restore: {e}", f.path.display()))?;
        }
    }
    Ok(())
}

/// cargo refused to resolve because a tonic feature does not exist (renamed in 0.14).
fn tonic_feature_error(cargo_errors: &[String]) -> bool {
    cargo_errors.iter().any(|e| {
        e.lines()
            .any(|l| l.contains("depends on `tonic` with feature") && l.contains("does not have"))
    })
}

/// A dependency from the registry whose code panicked in a build script (`panicked at
/// /…/registry/src/<index>/prettyplease-0.2.22/src/generics.rs:113:18`): its name and locked
/// version.
fn panicking_registry_crate(cargo_errors: &[String]) -> Option<(String, String)> {
    cargo_errors.iter().flat_map(|e| e.lines()).find_map(|l| {
        let (_, at) = l.split_once("panicked at ")?;
        let (_, rest) = at.split_once("/registry/src/")?;
        let dir = rest.split('/').nth(1)?;
        let (name, version) = dir.rsplit_once('-')?;
        version
            .starts_with(|c: char| c.is_ascii_digit())
            .then(|| (name.to_string(), version.to_string()))
    })
}

/// A build script fails inside a dependency's code after the step (not as on the baseline):
/// the step's manifest changes left the lock with a version older than the new code generators
/// need (dragonfly-api: prettyplease 0.2.22, locked for tonic-build 0.12, panics on what
/// prost-build 0.14 asks it to print). The dependency is updated within its semver range, as a
/// fresh resolution would have it, once per dependency; the lock goes back as it was if the step
/// is restored.
fn repair_lock(
    scope: &Scope,
    cargo_errors: &[String],
    tried: &mut BTreeSet<String>,
    round: &mut Round,
) {
    let Some((name, version)) = panicking_registry_crate(cargo_errors) else {
        return;
    };
    let spec = format!("{name}@{version}");
    if !tried.insert(spec.clone()) {
        return;
    }
    let ok = Command::new("cargo")
        .current_dir(&scope.ws.root)
        .args(["update", "--quiet", "-p", &spec])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        round.applied += 1;
        round.crates.insert(None);
    }
}

/// Put the lock file back as it was before the run (removed when there was none).
fn restore_lock(path: &Path, lock: &Option<String>) {
    match lock {
        Some(l) => {
            if std::fs::read_to_string(path).ok().as_ref() != Some(l) {
                let _ = run::write_atomic(path, l);
            }
        }
        None => {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn error_key(e: &CompileError) -> (Option<PathBuf>, Option<String>, String) {
    (e.file.clone(), e.diag.code.clone(), e.diag.message.clone())
}

/// The check before the step, unless the tree already passed this very check (same files,
/// flags, toolchain and environment: the previous step's final check, usually); a passing check
/// is recorded. Also the cache, for the check after the step.
fn baseline_check(
    ws: &Workspace,
    meta: Option<&Meta>,
    packages: &Option<Vec<String>>,
    opts: &CheckOpts,
) -> Result<(CheckOutcome, Option<CheckCache>), String> {
    let t0 = std::time::Instant::now();
    let args = check_args(&ws.root, packages, opts);
    let cache = meta.map(|m| CheckCache::new(&m.target_dir));
    let key = meta.and_then(|m| tree_key(&ws.root, &m.outside, &args));
    let passed = matches!((&cache, key), (Some(c), Some(k)) if c.has(k));
    phase(t0, "baseline cache");
    let t0 = std::time::Instant::now();
    let baseline = if passed {
        CheckOutcome {
            success: true,
            ..Default::default()
        }
    } else {
        cargo_check(&ws.root, packages, opts).map_err(|e| format!("cannot run cargo check: {e}"))?
    };
    phase(
        t0,
        if passed {
            "baseline (cached)"
        } else {
            "baseline check"
        },
    );
    if baseline.success && !passed {
        // Keyed after the check (it may have written the lock file).
        if let (Some(c), Some(m)) = (&cache, meta) {
            if let Some(k) = tree_key(&ws.root, &m.outside, &args) {
                c.add(k);
            }
        }
    }
    Ok((baseline, cache))
}

/// Apply `step` in write mode with the compiler in the loop.
pub fn apply_step(step: &Step, ws: &Workspace, opts: &CheckOpts, progress: bool) -> Applied {
    let preview = run::run_step(step, ws, Mode::Check, false);
    if preview.changed() == 0 {
        return Applied::Report(run::run_step(step, ws, Mode::Write, progress));
    }
    // The check builds the feature-gated targets the step changes; a baseline that does not
    // build with their features (a gated binary broken as published) falls back to the
    // flags as given, and those targets' files are set aside below.
    let widened = widen_features(ws, opts, &preview);
    let (opts, scope) = match Scope::before_step(ws, &widened, &preview) {
        Ok(s) => (&widened, s),
        Err(_) if widened.features.len() != opts.features.len() => {
            match Scope::before_step(ws, opts, &preview) {
                Ok(s) => (opts, s),
                Err(applied) => return *applied,
            }
        }
        Err(applied) => return *applied,
    };
    // What the checks may write besides the step (a build script generating into `src/`).
    let tree = guard::TreeGuard::take(&ws.root);
    let t0 = std::time::Instant::now();
    let mut report = run::run_step(step, ws, Mode::Write, progress);
    phase(t0, "write");
    let mut written = written_files(&report, &scope.graph);
    let mut ours: HashSet<PathBuf> = written.iter().map(|w| w.path.clone()).collect();
    ours.insert(scope.lock_path.clone());
    set_aside_unchecked(ws, opts, &mut written, &mut report, step.number);
    let end = match repair_loop(&scope, written) {
        Ok(end) => end,
        Err(e) => return Applied::Failed(e),
    };
    let n = step.number;
    let applied = verdict(&scope, report, &end, n);
    let Applied::Report(mut report) = applied else {
        return applied;
    };
    let restored = !matches!(
        report.verdict.as_ref().map(|v| &v.state),
        Some(VerdictState::Checked | VerdictState::Broken)
    );
    guard_sources(ws, &tree, &ours, restored, n, &mut report);
    Applied::Report(report)
}

/// Files a build script changed in the source tree while the step was checked: put back when
/// the step was restored, listed either way (the step's diff does not show them).
fn guard_sources(
    ws: &Workspace,
    tree: &guard::TreeGuard,
    ours: &HashSet<PathBuf>,
    restored: bool,
    n: u8,
    report: &mut RunReport,
) {
    let changes = tree.changes(&ws.root, ours);
    let failed = if restored {
        tree.restore(&changes)
    } else {
        Vec::new()
    };
    for c in &changes {
        let what = match c {
            guard::Change::Modified(_) => "changed",
            guard::Change::Created(_) => "created",
            guard::Change::Deleted(_) => "deleted",
        };
        let (message, note) = if !restored {
            (
                format!("{what} by a build script while the step was checked, not by the step's edits (its code generation writes into the source tree)"),
                "review it with the step's diff: the migrated build script writes it at every build",
            )
        } else if failed.iter().any(|f| f == c.path()) {
            (
                format!("{what} by a build script while the step was checked, and could not be put back"),
                "restore it from git (`git checkout -- <file>`)",
            )
        } else {
            (
                format!("{what} by a build script while the step was checked (its code generation writes into the source tree); put back as it was, with the step's files"),
                "nothing to do: the step was restored; migrate the build script's output directory by hand (`OUT_DIR`) first",
            )
        };
        report.items.push(ItemReport {
            path: rel(&ws.root, c.path()),
            krate: String::new(),
            line: 1,
            column: 1,
            rule: format!("step{n:02}/build-writes-sources"),
            kind: ItemKind::Manual,
            message,
            note: note.into(),
        });
    }
}

/// The verdict of a step whose compiler loop ended: checked, kept broken (`--broken-code`), or
/// restored.
fn verdict(scope: &Scope, mut report: RunReport, end: &LoopEnd, n: u8) -> Applied {
    let opts = scope.opts;
    let ws = scope.ws;
    let failed_cargo = scope.cargo_failed(&end.outcome);
    count_repairs(&mut report, ws, &scope.graph, &end.per_file);
    if end.outcome.errors.is_empty() && !failed_cargo {
        scope.record_passed();
        report.verdict = Some(Verdict {
            state: VerdictState::Checked,
            repairs: end.repairs,
            errors: 0,
            restored_crates: Vec::new(),
            restored_files: Vec::new(),
            text: format!(
                "Checked: the workspace builds after step {n}{}",
                match end.repairs {
                    0 => String::new(),
                    1 => " (1 repair)".into(),
                    k => format!(" ({k} repairs)"),
                }
            ),
        });
        return Applied::Report(report);
    }
    // Errors remain.
    let errors_left = end.outcome.errors.len().max(failed_cargo as usize);
    if opts.broken_code {
        report
            .items
            .extend(error_items(ws, &scope.graph, &end.outcome, &[], n, false));
        report.verdict = Some(Verdict {
            state: VerdictState::Broken,
            repairs: end.repairs,
            errors: errors_left,
            restored_crates: Vec::new(),
            restored_files: Vec::new(),
            text: format!(
                "Broken: step {n} left {} (listed above); kept as --broken-code asks",
                plural(errors_left, "error", "errors")
            ),
        });
        return Applied::Report(report);
    }
    Applied::Report(restore_after_errors(
        scope,
        report,
        end,
        failed_cargo,
        n,
        errors_left,
    ))
}

/// What the compiler loop of one step works with, settled before the step writes: the members,
/// the packages to check, the baseline check and the lock file as it was.
struct Scope<'a> {
    ws: &'a Workspace,
    opts: &'a CheckOpts,
    graph: Option<Graph>,
    /// The crates the step changes and their dependents (None: the whole workspace).
    packages: Option<Vec<String>>,
    baseline: CheckOutcome,
    /// The baseline's errors (not the step's).
    known: HashSet<(Option<PathBuf>, Option<String>, String)>,
    cache: Option<CheckCache>,
    lock_path: PathBuf,
    /// The lock file as it was before any check (the baseline check may create or update it).
    lock: Option<String>,
}

impl<'a> Scope<'a> {
    /// The scope of the changes `preview` shows. `Err`: the step is not applied (the baseline
    /// does not build, or cargo cannot be run).
    fn before_step(
        ws: &'a Workspace,
        opts: &'a CheckOpts,
        preview: &RunReport,
    ) -> Result<Self, Box<Applied>> {
        let t0 = std::time::Instant::now();
        let meta = metadata(&ws.root);
        phase(t0, "metadata");
        let graph = meta.as_ref().map(|m| m.graph.clone());
        let packages = packages_to_check(ws, &graph, preview);
        let lock_path = ws.root.join("Cargo.lock");
        let lock = std::fs::read_to_string(&lock_path).ok();
        let (baseline, cache) = baseline_check(ws, meta.as_ref(), &packages, opts)
            .map_err(|e| Box::new(Applied::Failed(e)))?;
        if !baseline.success && !opts.broken_code {
            restore_lock(&lock_path, &lock);
            return Err(Box::new(Applied::Refused(baseline)));
        }
        let known = baseline.errors.iter().map(error_key).collect();
        Ok(Scope {
            ws,
            opts,
            graph,
            packages,
            baseline,
            known,
            cache,
            lock_path,
            lock,
        })
    }

    /// cargo failed without a compiler error, and not as it failed on the baseline.
    fn cargo_failed(&self, outcome: &CheckOutcome) -> bool {
        !outcome.success
            && outcome.errors.is_empty()
            && !baseline_failed_same(&self.baseline, outcome)
    }

    /// The tree builds as the step leaves it: the next step's baseline need not check it.
    fn record_passed(&self) {
        let root = &self.ws.root;
        if let (Some(c), Some(m)) = (&self.cache, metadata(root)) {
            if let Some(k) = tree_key(
                root,
                &m.outside,
                &check_args(root, &self.packages, self.opts),
            ) {
                c.add(k);
            }
        }
    }
}

/// The members holding the files `preview` changes and every member depending on them. None: a
/// file outside any one member (a virtual workspace's manifest): the whole workspace. The
/// vendored connect-shim is the tool's, not the user's: never checked on its own (its users'
/// checks compile it).
fn packages_to_check(
    ws: &Workspace,
    graph: &Option<Graph>,
    preview: &RunReport,
) -> Option<Vec<String>> {
    let g = graph.as_ref()?;
    let affected: BTreeSet<String> = preview
        .files
        .iter()
        .filter(|f| f.status == run::FileStatus::Changed)
        .map(|f| crate_of(g, &ws.root.join(&f.path)))
        .collect::<Option<BTreeSet<String>>>()?;
    Some(users_of(g, &affected))
}

/// `crates` and the members depending on them, without the vendored connect-shim (the tool's,
/// not the user's: never checked on its own, its users' checks compile it).
fn users_of(g: &Graph, crates: &BTreeSet<String>) -> Vec<String> {
    with_dependents(g, crates)
        .into_iter()
        .filter(|p| p != crate::shim::PACKAGE)
        .collect()
}

/// The files the run wrote, with what they held before.
fn written_files(report: &RunReport, graph: &Option<Graph>) -> Vec<Written> {
    report
        .files
        .iter()
        .filter_map(|f| {
            let (path, original) = f.original.clone()?;
            let krate = graph.as_ref().and_then(|g| crate_of(g, &path));
            Some(Written {
                path,
                original,
                created: f.created,
                krate,
            })
        })
        .collect()
}

/// The check's options with the features that the targets of the files the step changes
/// require (`required-features` of a binary, example, ..), so that the check builds what the
/// step edits: tonic's examples leave `tower-client` (feature `tower`) out of their default
/// features, and step 6 kept a client there that did not compile. Unchanged with
/// `--all-features`.
fn widen_features(ws: &Workspace, opts: &CheckOpts, preview: &RunReport) -> CheckOpts {
    let mut out = opts.clone();
    if opts.all_features {
        return out;
    }
    for f in preview
        .files
        .iter()
        .filter(|f| f.status == run::FileStatus::Changed)
    {
        let path = ws.root.join(&f.path);
        let Some((c, owners)) = owners_of(ws, &path) else {
            continue;
        };
        let active = active_features(c, &out).unwrap_or_default();
        let checked: Vec<&&crate::workspace::Target> = owners
            .iter()
            .filter(|t| kind_checked(&t.kinds, &out.targets))
            .collect();
        if checked.is_empty()
            || checked
                .iter()
                .any(|t| t.required_features.iter().all(|r| active.contains(r)))
        {
            continue;
        }
        // One target is enough: the first whose kind the check builds.
        for r in &checked[0].required_features {
            if !active.contains(r) {
                out.features.push(format!("{}/{r}", c.name));
            }
        }
    }
    out
}

/// The crate holding `path` and the targets whose module trees reach it.
fn owners_of<'w>(
    ws: &'w Workspace,
    path: &Path,
) -> Option<(
    &'w crate::workspace::Crate,
    Vec<&'w crate::workspace::Target>,
)> {
    let c = ws
        .crates
        .iter()
        .find(|c| c.files.iter().any(|f| f.path == path))?;
    let i = c.files.iter().position(|f| f.path == path)?;
    let owners: Vec<&crate::workspace::Target> =
        c.targets.iter().filter(|t| t.files.contains(&i)).collect();
    (!owners.is_empty()).then_some((c, owners))
}

/// Files the step wrote that no target of the check compiles (a test when only `--lib --bins`
/// are checked): their edits cannot be verified, so they are restored and listed, unless the
/// step also rewrote the crate's build script or manifest (restored alone, the file would
/// read what the step changed: it keeps the step, listed as not verified).
fn set_aside_unchecked(
    ws: &Workspace,
    opts: &CheckOpts,
    written: &mut Vec<Written>,
    report: &mut RunReport,
    n: u8,
) {
    let build_changed = |krate: &Option<String>| {
        written.iter().any(|w| {
            w.krate == *krate
                && w.path
                    .file_name()
                    .is_some_and(|f| f == "build.rs" || f == "Cargo.toml")
        })
    };
    let mut aside: Vec<usize> = Vec::new();
    for (i, w) in written.iter().enumerate() {
        let Some(why) = unchecked_why(ws, opts, w) else {
            continue;
        };
        let keep = build_changed(&w.krate);
        let restored = !keep && restore(&[w]).is_ok();
        report.items.push(ItemReport {
            path: rel(&ws.root, &w.path),
            krate: w.krate.clone().unwrap_or_default(),
            line: 1,
            column: 1,
            rule: format!("step{n:02}/not-checked"),
            kind: ItemKind::Manual,
            message: if restored {
                format!("not migrated: only {why}, so the build check cannot verify the step's edits here")
            } else {
                format!("migrated but not verified: only {why} (the step also changed the crate's build script or manifest, which this file reads)")
            },
            note: "apply the step again with the flags that build it (`--all-targets`, `--tests`, ..)".into(),
        });
        if restored {
            aside.push(i);
        }
    }
    let paths: Vec<PathBuf> = aside.iter().map(|&i| written[i].path.clone()).collect();
    written.retain(|w| !paths.contains(&w.path));
    report.files.retain(|f| {
        f.original
            .as_ref()
            .is_none_or(|(path, _)| !paths.contains(path))
    });
}

/// Why no checked target compiles `w` (None: one does, or the file's targets are not known).
fn unchecked_why(ws: &Workspace, opts: &CheckOpts, w: &Written) -> Option<String> {
    if w.created || w.path.extension().is_none_or(|e| e != "rs") {
        return None;
    }
    let (c, owners) = owners_of(ws, &w.path)?;
    let active = active_features(c, opts);
    let mut whys = Vec::new();
    for t in owners {
        let kind = t.kinds.first().map(String::as_str).unwrap_or("target");
        if !kind_checked(&t.kinds, &opts.targets) {
            whys.push(format!(
                "{kind} `{}` compiles it, and the check builds {}",
                t.name,
                opts.targets.join(" ")
            ));
            continue;
        }
        let missing: Vec<&String> = match &active {
            None => Vec::new(),
            Some(a) => t
                .required_features
                .iter()
                .filter(|f| !a.contains(*f))
                .collect(),
        };
        if missing.is_empty() {
            return None;
        }
        whys.push(format!(
            "{kind} `{}` compiles it, which needs the feature{} {} that the check does not enable",
            t.name,
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Some(whys.join("; "))
}

/// The features of `c` the check enables, transitively (None: all of them).
fn active_features(c: &crate::workspace::Crate, opts: &CheckOpts) -> Option<BTreeSet<String>> {
    if opts.all_features {
        return None;
    }
    let mut todo: Vec<String> = opts
        .features
        .iter()
        .flat_map(|f| f.split([',', ' ']))
        .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
        .filter(|f| !f.is_empty())
        .collect();
    if !opts.no_default_features && c.features.contains_key("default") {
        todo.push("default".into());
    }
    let mut on = BTreeSet::new();
    while let Some(f) = todo.pop() {
        if !on.insert(f.clone()) {
            continue;
        }
        for sub in c.features.get(&f).into_iter().flatten() {
            if c.features.contains_key(sub.as_str()) {
                todo.push(sub.clone());
            }
        }
    }
    Some(on)
}

/// Does the check's target selection (`--lib`, `--bins`, ..; empty: `--all-targets`) build a
/// target of these kinds?
fn kind_checked(kinds: &[String], selected: &[&str]) -> bool {
    if selected.is_empty() {
        return true;
    }
    kinds.iter().any(|k| {
        let flag = match k.as_str() {
            "bin" => "--bins",
            "test" => "--tests",
            "example" => "--examples",
            "bench" => "--benches",
            "custom-build" => return true,
            _ => "--lib",
        };
        selected.contains(&flag)
    })
}

/// Where the compiler loop ended.
struct LoopEnd {
    /// The last check, without the baseline's errors.
    outcome: CheckOutcome,
    /// The files the run and the repairs wrote.
    written: Vec<Written>,
    /// The repairs made.
    repairs: usize,
    /// Repairs per file, for the report's file lines.
    per_file: BTreeMap<PathBuf, usize>,
}

/// Check, repair what the errors allow, re-check what the repairs changed: at most
/// [`MAX_ROUNDS`] rounds of repairs. `Err`: cargo could not be run.
fn repair_loop(scope: &Scope, mut written: Vec<Written>) -> Result<LoopEnd, String> {
    let mut repairs = 0;
    let mut per_file: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let mut to_check = scope.packages.clone();
    let mut carried: Vec<CompileError> = Vec::new();
    let mut lock_updates: BTreeSet<String> = BTreeSet::new();
    let mut round = 0;
    loop {
        let t0 = std::time::Instant::now();
        let mut outcome = cargo_check(&scope.ws.root, &to_check, scope.opts)
            .map_err(|e| format!("cannot run cargo check: {e}"))?;
        phase(
            t0,
            &format!(
                "check after the step, round {round} ({})",
                match &to_check {
                    Some(p) => p.join(" "),
                    None => "the workspace".into(),
                }
            ),
        );
        outcome
            .errors
            .retain(|e| !scope.known.contains(&error_key(e)));
        outcome.errors.append(&mut carried);
        let failed_cargo = scope.cargo_failed(&outcome);
        let done = (outcome.errors.is_empty() && !failed_cargo) || round == MAX_ROUNDS;
        let mut this = Round::default();
        if !done {
            round += 1;
            // cargo's own errors: a tonic feature 0.14 renamed, in a manifest the step wrote.
            if tonic_feature_error(&outcome.cargo_errors) {
                repair_manifests(&written, &mut this, &mut per_file);
            }
            if failed_cargo {
                repair_lock(scope, &outcome.cargo_errors, &mut lock_updates, &mut this);
            }
            repair_sources(scope, &outcome, &mut written, &mut this, &mut per_file);
        }
        if this.applied == 0 {
            return Ok(LoopEnd {
                outcome,
                written,
                repairs,
                per_file,
            });
        }
        repairs += this.applied;
        (to_check, carried) = next_check(scope, outcome.errors, this.crates, failed_cargo);
    }
}

/// What one round of repairs did.
#[derive(Default)]
struct Round {
    applied: usize,
    /// The crates the round changed (None: a file outside any member).
    crates: BTreeSet<Option<String>>,
}

impl Round {
    fn record(
        &mut self,
        per_file: &mut BTreeMap<PathBuf, usize>,
        path: &Path,
        k: usize,
        krate: Option<String>,
    ) {
        self.applied += k;
        *per_file.entry(path.to_path_buf()).or_default() += k;
        self.crates.insert(krate);
    }
}

/// The tonic features 0.14 renamed, in the manifests the step wrote (not created).
fn repair_manifests(
    written: &[Written],
    round: &mut Round,
    per_file: &mut BTreeMap<PathBuf, usize>,
) {
    for w in written
        .iter()
        .filter(|w| !w.created && w.path.ends_with("Cargo.toml"))
    {
        let Ok(text) = std::fs::read_to_string(&w.path) else {
            continue;
        };
        if let Some((new, k)) = repairs::rename_tonic_features(&text) {
            if run::write_atomic(&w.path, &new).is_ok() {
                round.record(per_file, &w.path, k, w.krate.clone());
            }
        }
    }
}

/// Compiler errors, file by file, in the members of the workspace: the repairs they allow, kept
/// when the file still parses. A file only a repair wrote joins `written`.
fn repair_sources(
    scope: &Scope,
    outcome: &CheckOutcome,
    written: &mut Vec<Written>,
    round: &mut Round,
    per_file: &mut BTreeMap<PathBuf, usize>,
) {
    let graph = &scope.graph;
    let mut by_file: BTreeMap<PathBuf, Vec<&CompileError>> = BTreeMap::new();
    for e in &outcome.errors {
        if let Some(f) = &e.file {
            let in_member = graph.as_ref().is_some_and(|g| crate_of(g, f).is_some());
            if in_member && !f.starts_with(scope.ws.root.join("target")) {
                by_file.entry(f.clone()).or_default().push(e);
            }
        }
    }
    // Modules the step gave a glob re-export (for a name such a glob made ambiguous).
    let glob_modules: BTreeSet<String> = written
        .iter()
        .filter(|w| w.path.extension().is_some_and(|e| e == "rs"))
        .filter_map(|w| {
            let now = std::fs::read_to_string(&w.path).ok()?;
            Some(repairs::modules_given_a_glob(&w.original, &now))
        })
        .flatten()
        .collect();
    for (file, errs) in by_file {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let original = written
            .iter()
            .find(|w| w.path == file)
            .map(|w| w.original.clone());
        let wrote = repairs::written_ranges(original.as_deref().unwrap_or(&text), &text);
        let fixes: Vec<_> = errs
            .iter()
            .flat_map(|e| {
                repairs::repairs_for(
                    &e.diag,
                    &repairs::Site {
                        text: &text,
                        written: &wrote,
                        glob_modules: &glob_modules,
                    },
                )
            })
            .collect();
        if fixes.is_empty() {
            continue;
        }
        let (new, k) = repairs::apply(&text, fixes);
        if k == 0 || new == text || syn::parse_file(new.trim_start_matches('\u{feff}')).is_err() {
            continue;
        }
        if run::write_atomic(&file, &new).is_err() {
            continue;
        }
        let krate = graph.as_ref().and_then(|g| crate_of(g, &file));
        round.record(per_file, &file, k, krate.clone());
        if original.is_none() {
            written.push(Written {
                path: file,
                original: text,
                created: false,
                krate,
            });
        }
    }
}

/// What to check after a round of repairs, and the errors carried over: the crates the round
/// changed and their dependents, the errors of the other crates kept as they were; the first
/// packages again (nothing carried) when a repair touched a file outside any member or cargo
/// itself failed.
fn next_check(
    scope: &Scope,
    errors: Vec<CompileError>,
    crates: BTreeSet<Option<String>>,
    failed_cargo: bool,
) -> (Option<Vec<String>>, Vec<CompileError>) {
    match (&scope.graph, crates.iter().all(Option::is_some)) {
        (Some(g), true) if !failed_cargo => {
            let changed: BTreeSet<String> = crates.into_iter().flatten().collect();
            let again = with_dependents(g, &changed);
            let carried = errors
                .into_iter()
                .filter(|e| {
                    e.file
                        .as_ref()
                        .and_then(|f| crate_of(g, f))
                        .is_some_and(|c| !again.contains(&c))
                })
                .collect();
            (Some(again.into_iter().collect()), carried)
        }
        _ => (scope.packages.clone(), Vec::new()),
    }
}

/// Errors remain: list them and restore the broken crates (with the members they depend on and
/// those depending on them) when the others still build without them, else every file the run
/// wrote and the lock file.
fn restore_after_errors(
    scope: &Scope,
    report: RunReport,
    end: &LoopEnd,
    failed_cargo: bool,
    n: u8,
    errors_left: usize,
) -> RunReport {
    let written = &end.written;
    // Read before the restoration.
    let mut items = error_items(scope.ws, &scope.graph, &end.outcome, written, n, true);
    if !failed_cargo {
        if let Some(files) = restore_files(scope, written, &end.outcome, n, &mut items) {
            return files_restored_report(scope, report, end, items, &files, n);
        }
    }
    let all_affected: BTreeSet<String> = written.iter().filter_map(|w| w.krate.clone()).collect();
    let partial = match (&scope.graph, failed_cargo) {
        (Some(g), false) => crates_to_restore(g, &end.outcome, written, &all_affected),
        _ => None,
    };
    let kept = partial
        .as_ref()
        .and_then(|set| restore_crates(scope, written, set, &all_affected));
    let restore_all = kept.is_none();
    let restored_crates: Vec<String> =
        kept.unwrap_or_else(|| all_affected.iter().cloned().collect());
    if restore_all {
        let files: Vec<&Written> = written.iter().collect();
        if let Err(e) = restore(&files) {
            items.push(ItemReport {
                path: String::new(),
                krate: String::new(),
                line: 1,
                column: 1,
                rule: format!("step{n:02}/restore"),
                kind: ItemKind::Manual,
                message: format!("a file could not be restored: {e}"),
                note: "restore it from git (`git checkout -- <file>`)".into(),
            });
        }
        restore_lock(&scope.lock_path, &scope.lock);
    }
    let mut report = restored_report(report, written, restore_all, &restored_crates);
    report.items.extend(items);
    report.verdict = Some(Verdict {
        state: VerdictState::Restored,
        repairs: end.repairs,
        errors: errors_left,
        restored_crates: restored_crates.clone(),
        restored_files: Vec::new(),
        text: format!(
            "Restored: step {n} left {} (listed above); restored {}{}",
            plural(errors_left, "error", "errors"),
            if restore_all {
                "every file the run wrote".to_string()
            } else {
                format!("crates {}", restored_crates.join(", "))
            },
            if restore_all || restored_crates.is_empty() {
                String::new()
            } else {
                "; the other crates keep the step".into()
            }
        ),
    });
    report
}

/// Attempts at restoring files on their own, each followed by a check.
const FILE_ATTEMPTS: usize = 3;

/// Restore only the files holding the step's errors and keep the rest of the step, when the
/// affected crates then build: the errors of each check name the files restored next (each one a
/// file the run wrote, else the cause is elsewhere and this gives up). Some(the files restored);
/// None: nothing was kept this way (the caller restores whole crates, which covers any file
/// restored here). The items of errors a later attempt finds are added to `items` (read before
/// those files are restored). Not tried when the step rewrote a build script in the crates
/// concerned: the errors are then against regenerated code, which the files' old text does not
/// fit either.
fn restore_files(
    scope: &Scope,
    written: &[Written],
    first: &CheckOutcome,
    n: u8,
    items: &mut Vec<ItemReport>,
) -> Option<Vec<PathBuf>> {
    let g = scope.graph.as_ref()?;
    let mut restored: Vec<PathBuf> = Vec::new();
    let mut outcome: Option<CheckOutcome> = None;
    for _ in 0..FILE_ATTEMPTS {
        let errors = &outcome.as_ref().unwrap_or(first).errors;
        let mut next: Vec<&Written> = Vec::new();
        for e in errors {
            let w = written.iter().find(|w| Some(&w.path) == e.file.as_ref())?;
            if restored.contains(&w.path) {
                // Restored already and still failing: the cause is in another file.
                return None;
            }
            if !next.iter().any(|x| x.path == w.path) {
                next.push(w);
            }
        }
        let crates: BTreeSet<String> = next
            .iter()
            .map(|w| w.krate.clone())
            .collect::<Option<_>>()?;
        let rewrote_build_script = written.iter().any(|w| {
            w.path.file_name().is_some_and(|f| f == "build.rs")
                && w.krate.as_ref().is_some_and(|k| crates.contains(k))
        });
        if next.is_empty() || rewrote_build_script {
            return None;
        }
        // Something of the step must stay in each crate, or this is a crate restoration.
        let kept: BTreeSet<&String> = written
            .iter()
            .filter(|w| !restored.contains(&w.path) && !next.iter().any(|x| x.path == w.path))
            .filter(|w| crates.iter().any(|c| w.krate.as_ref() == Some(c)))
            .filter(|w| std::fs::read_to_string(&w.path).ok().as_deref() != Some(&w.original))
            .filter_map(|w| w.krate.as_ref())
            .collect();
        if !crates.iter().all(|c| kept.contains(c)) {
            return None;
        }
        if let Some(o) = &outcome {
            items.extend(error_items(scope.ws, &scope.graph, o, written, n, true));
        }
        restore(&next).ok()?;
        restored.extend(next.iter().map(|w| w.path.clone()));
        let again = users_of(g, &crates);
        let t0 = std::time::Instant::now();
        let mut o = cargo_check(&scope.ws.root, &Some(again), scope.opts).ok()?;
        phase(t0, "check after restoring files");
        o.errors.retain(|e| !scope.known.contains(&error_key(e)));
        if o.errors.is_empty() && (o.success || !scope.baseline.success) {
            return Some(restored);
        }
        if scope.cargo_failed(&o) {
            return None;
        }
        outcome = Some(o);
    }
    None
}

/// The report after files were restored on their own: their lines go, the errors are listed,
/// and the verdict names them.
fn files_restored_report(
    scope: &Scope,
    mut report: RunReport,
    end: &LoopEnd,
    items: Vec<ItemReport>,
    files: &[PathBuf],
    n: u8,
) -> RunReport {
    report.files.retain(|f| {
        f.original
            .as_ref()
            .is_none_or(|(path, _)| !files.contains(path))
    });
    let errors = items
        .iter()
        .filter(|i| i.rule.contains("/compile-"))
        .count();
    report.items.extend(items);
    let names: Vec<String> = files.iter().map(|f| rel(&scope.ws.root, f)).collect();
    report.verdict = Some(Verdict {
        state: VerdictState::Restored,
        repairs: end.repairs,
        errors,
        restored_crates: Vec::new(),
        restored_files: names.clone(),
        text: format!(
            "Restored: step {n} left {} (listed above); restored {} {}; the other files keep the step",
            plural(errors, "error", "errors"),
            if names.len() == 1 { "file" } else { "files" },
            names.join(", "),
        ),
    });
    report
}

/// Which crates to restore: the broken ones, the members they depend on (the cause may be
/// there), and every member depending on those (built against the restored code). None: restore
/// everything (an error outside any member, a file outside any member written, or no affected
/// crate would keep the step).
fn crates_to_restore(
    g: &Graph,
    outcome: &CheckOutcome,
    written: &[Written],
    all_affected: &BTreeSet<String>,
) -> Option<BTreeSet<String>> {
    let broken: BTreeSet<String> = outcome
        .errors
        .iter()
        .map(|e| e.file.as_ref().and_then(|f| crate_of(g, f)))
        .collect::<Option<_>>()?;
    let set = with_dependents(g, &with_dependencies(g, &broken));
    let keeps_some = all_affected.iter().any(|c| !set.contains(c));
    let root_files = written.iter().any(|w| w.krate.is_none());
    (keeps_some && !root_files).then_some(set)
}

/// Restore the files of the crates in `set` alone. Some(the affected crates restored) when the
/// check of the restored crates then shows no error of the step's.
fn restore_crates(
    scope: &Scope,
    written: &[Written],
    set: &BTreeSet<String>,
    all_affected: &BTreeSet<String>,
) -> Option<Vec<String>> {
    let files: Vec<&Written> = written
        .iter()
        .filter(|w| w.krate.as_ref().is_some_and(|k| set.contains(k)))
        .collect();
    restore(&files).ok()?;
    // Only the restored crates (and their dependents, in the set) changed: the others passed
    // the last check and do not depend on them.
    let restored: Vec<String> = set
        .iter()
        .filter(|c| *c != crate::shim::PACKAGE)
        .filter(|c| scope.packages.as_ref().is_none_or(|p| p.contains(c)))
        .cloned()
        .collect();
    let t0 = std::time::Instant::now();
    let again = cargo_check(&scope.ws.root, &Some(restored), scope.opts);
    phase(t0, "check after restoring crates");
    again
        .is_ok_and(|o| {
            o.errors.iter().all(|e| scope.known.contains(&error_key(e)))
                && (o.success || !scope.baseline.success)
        })
        .then(|| all_affected.intersection(set).cloned().collect())
}

/// The repairs in the report's file lines: added to the edits of a file the step changed, or a
/// line of its own for a file only a repair changed.
fn count_repairs(
    report: &mut RunReport,
    ws: &Workspace,
    graph: &Option<BTreeMap<String, (PathBuf, Vec<String>)>>,
    repaired: &BTreeMap<PathBuf, usize>,
) {
    for (path, k) in repaired {
        if let Some(f) = report
            .files
            .iter_mut()
            .find(|f| f.original.as_ref().is_some_and(|(p, _)| p == path))
        {
            f.edits += k;
            continue;
        }
        report.files.push(run::FileReport {
            path: rel(&ws.root, path),
            krate: graph
                .as_ref()
                .and_then(|g| crate_of(g, path))
                .unwrap_or_default(),
            status: run::FileStatus::Changed,
            edits: *k,
            line: None,
            column: None,
            error: None,
            diff: None,
            // Marks the line as written by this run (a restoration drops it).
            original: Some((path.clone(), String::new())),
            created: false,
            deleted: false,
        });
    }
    report.files.sort_by(|a, b| a.path.cmp(&b.path));
}

/// A failure whose cargo errors are those of the baseline (`--broken-code` on a workspace that
/// does not resolve) is not the step's.
fn baseline_failed_same(baseline: &CheckOutcome, now: &CheckOutcome) -> bool {
    !baseline.success && baseline.cargo_errors == now.cargo_errors
}

/// The first lines of a cargo error after its own first line, at most a few hundred characters.
fn brief(error: &str) -> String {
    const MAX: usize = 300;
    // A build script's failure says why on its stderr.
    let body = match error.split_once("--- stderr") {
        Some((_, after)) => format!("build script: {after}"),
        None => error.lines().skip(1).collect::<Vec<_>>().join("\n"),
    };
    let mut s: String = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note:"))
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    if s.len() > MAX {
        let cut = (0..=MAX)
            .rev()
            .find(|i| s.is_char_boundary(*i))
            .unwrap_or(0);
        s.truncate(cut);
        s.push_str(" ...");
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The report after a restoration: the restored files are no longer listed as changed.
fn restored_report(
    mut r: RunReport,
    written: &[Written],
    all: bool,
    crates: &[String],
) -> RunReport {
    r.files.retain(|f| {
        let Some((path, _)) = &f.original else {
            return true;
        };
        let w = written.iter().find(|w| &w.path == path);
        let gone = all || w.is_some_and(|w| w.krate.as_ref().is_some_and(|k| crates.contains(k)));
        !gone
    });
    r
}

/// Where the run wrote, read before the restoration: `src/lib.rs:1, 11; Cargo.toml:7` (a few
/// places at most).
fn edits_summary(ws: &Workspace, written: &[Written], krate: &str) -> Option<String> {
    const SHOWN: usize = 4;
    let mut parts = Vec::new();
    // The edits in the error's crate first, then the others (a dependency's edit may be why).
    let mut order: Vec<&Written> = written.iter().collect();
    order.sort_by_key(|w| w.krate.as_deref() != Some(krate));
    for w in order {
        let Ok(now) = std::fs::read_to_string(&w.path) else {
            continue;
        };
        if now == w.original {
            continue;
        }
        let lines: Vec<String> = repairs::edited_old_lines(&w.original, &now)
            .iter()
            .take(SHOWN)
            .map(|l| l.to_string())
            .collect();
        parts.push(format!("{}:{}", rel(&ws.root, &w.path), lines.join(", ")));
        if parts.len() == SHOWN {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Each remaining error as a manual item. `restored`: the locations are mapped back to the
/// restored text (the line the step's edit started at).
fn error_items(
    ws: &Workspace,
    graph: &Option<BTreeMap<String, (PathBuf, Vec<String>)>>,
    outcome: &CheckOutcome,
    written: &[Written],
    n: u8,
    restored: bool,
) -> Vec<ItemReport> {
    let mut items = Vec::new();
    for e in &outcome.errors {
        let krate = e
            .file
            .as_ref()
            .and_then(|f| graph.as_ref().and_then(|g| crate_of(g, f)))
            .unwrap_or_default();
        let code = e.diag.code.clone().unwrap_or_else(|| "error".into());
        let w = e
            .file
            .as_ref()
            .and_then(|f| written.iter().find(|w| &w.path == f));
        let (line, column, edit) = match (w, restored) {
            (Some(w), true) => {
                // Read before the restoration: map the line back through the diff of the
                // original and the written text.
                let now = std::fs::read_to_string(&w.path)
                    .ok()
                    .filter(|t| t != &w.original);
                let snippet = now
                    .as_deref()
                    .and_then(|t| t.lines().nth(e.line.saturating_sub(1)))
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty());
                match &now {
                    Some(t) => {
                        let line = repairs::old_line(&w.original, t, e.line);
                        let same = w.original.lines().nth(line.saturating_sub(1))
                            == t.lines().nth(e.line.saturating_sub(1));
                        (
                            line,
                            if same { e.column } else { 1 },
                            snippet.filter(|_| !same),
                        )
                    }
                    None => (e.line, e.column, None),
                }
            }
            _ => (e.line, e.column, None),
        };
        let why = match &edit {
            Some(s) => format!(" (the step wrote `{s}` here)"),
            None if restored => edits_summary(ws, written, &krate)
                .map(|s| format!(" (after the step's edits at {s})"))
                .unwrap_or_default(),
            None => String::new(),
        };
        items.push(ItemReport {
            path: e
                .file
                .as_ref()
                .map(|f| rel(&ws.root, f))
                .unwrap_or_default(),
            krate,
            line,
            column,
            rule: format!("step{n:02}/compile-{code}"),
            kind: ItemKind::Manual,
            message: format!("{}{why}", e.diag.message),
            note: if restored {
                format!("step {n} was restored because this did not compile after it: change this code by hand (or apply the step with --broken-code and fix the errors it leaves), then run the step again")
            } else {
                "this does not compile after the step (kept by --broken-code): fix it by hand".into()
            },
        });
    }
    if !outcome.success && outcome.errors.is_empty() {
        let first = outcome
            .cargo_errors
            .first()
            .cloned()
            .unwrap_or_else(|| "cargo check failed".into());
        items.push(ItemReport {
            path: "Cargo.toml".into(),
            krate: String::new(),
            line: 1,
            column: 1,
            rule: format!("step{n:02}/compile-cargo"),
            kind: ItemKind::Manual,
            message: first
                .lines()
                .next()
                .unwrap_or("cargo check failed")
                .to_string(),
            note: format!(
                "cargo failed before compiling after step {n}: {} (run `cargo check` after applying the step with --broken-code for the whole message)",
                brief(&first)
            ),
        });
    }
    items
}

#[cfg(test)]
mod lock_tests {
    #[test]
    fn a_dependency_that_panicked_in_a_build_script_is_named_with_its_version() {
        let errors = vec!["error: failed to run custom build command for `dragonfly-api v2.1.70`\n\nCaused by:\n  --- stderr\n\n  thread 'main' (18375) panicked at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/prettyplease-0.2.22/src/generics.rs:113:18:\n  not implemented: unknown TypeParamBound".to_string()];
        assert_eq!(
            super::panicking_registry_crate(&errors),
            Some(("prettyplease".into(), "0.2.22".into()))
        );
        // The crate's own build script panicking is not a dependency's.
        let errors = vec!["  thread 'main' panicked at build.rs:115:31: Failed".to_string()];
        assert_eq!(super::panicking_registry_crate(&errors), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// app -> lib -> proto; tool is on its own.
    fn graph() -> BTreeMap<String, (PathBuf, Vec<String>)> {
        let m = |dir: &str, deps: &[&str]| {
            (
                PathBuf::from(dir),
                deps.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            )
        };
        BTreeMap::from([
            ("app".to_string(), m("/w/app", &["lib"])),
            ("lib".to_string(), m("/w/lib", &["proto"])),
            ("proto".to_string(), m("/w/lib/proto", &[])),
            ("tool".to_string(), m("/w/tool", &[])),
        ])
    }

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dependents_and_dependencies_are_transitive() {
        let g = graph();
        assert_eq!(
            with_dependents(&g, &set(&["proto"])),
            set(&["app", "lib", "proto"])
        );
        assert_eq!(with_dependents(&g, &set(&["tool"])), set(&["tool"]));
        assert_eq!(
            with_dependencies(&g, &set(&["app"])),
            set(&["app", "lib", "proto"])
        );
    }

    #[test]
    fn a_missing_tonic_feature_is_recognised_in_cargos_error() {
        // cargo 1.95's words, on a crate asking tonic 0.14 for 0.12's `tls`.
        let e = "error: failed to select a version for `tonic`.\n    ... required by package `app v0.1.0 (/w/app)`\nversions that meet the requirements `^0.14` are: 0.14.9\npackage `app` depends on `tonic` with feature `tls` but `tonic` does not have that feature.\n available features: tls-ring\nfailed to select a version for `tonic` which could resolve this conflict";
        assert!(tonic_feature_error(&[e.to_string()]));
        assert!(!tonic_feature_error(&[
            "error: no matching package named `connect-shim` found".to_string()
        ]));
    }

    #[test]
    fn a_cargo_error_is_cut_short_in_the_note() {
        let e = format!(
            "error: failed to run custom build command for `x`\nnote: backtraces\n\nCaused by:\n  process didn't exit successfully\n  --- stdout\n{}",
            "cargo:rerun-if-changed=a.proto\n".repeat(50)
        );
        let b = brief(&e);
        assert!(b.starts_with("Caused by: process didn't exit successfully --- stdout cargo:rerun-if-changed=a.proto"), "{b}");
        assert!(b.len() <= 304, "{b}");
        let e = format!("{e}  --- stderr\n  thread 'main' panicked at build.rs:115:31:\n  Failed to fixup module\n  stack backtrace:\n");
        assert_eq!(
            brief(&e),
            "build script: thread 'main' panicked at build.rs:115:31: Failed to fixup module stack backtrace:"
        );
    }

    #[test]
    fn cargo_flags_pass_through() {
        let opts = CheckOpts {
            features: vec!["tls".into(), "gzip".into()],
            no_default_features: true,
            target: Some("x86_64-unknown-linux-musl".into()),
            ..Default::default()
        };
        let a = check_args(
            Path::new("/w"),
            &Some(vec!["app".into(), "lib".into()]),
            &opts,
        );
        assert_eq!(
            a.join(" "),
            "check --all-targets --message-format=json --manifest-path /w/Cargo.toml -p app -p lib --features tls,gzip --no-default-features --target x86_64-unknown-linux-musl"
        );
        let a = check_args(
            Path::new("/w"),
            &None,
            &CheckOpts {
                all_features: true,
                ..Default::default()
            },
        );
        assert_eq!(
            a.join(" "),
            "check --all-targets --message-format=json --manifest-path /w/Cargo.toml --workspace --exclude connect-shim --all-features"
        );
        // A crate whose examples or tests do not build (a published package without its test
        // files) is checked on the targets the user names.
        let a = check_args(
            Path::new("/w"),
            &None,
            &CheckOpts {
                targets: vec!["--lib", "--bins"],
                ..Default::default()
            },
        );
        assert_eq!(
            a.join(" "),
            "check --lib --bins --message-format=json --manifest-path /w/Cargo.toml --workspace --exclude connect-shim"
        );
    }

    /// A terminal that records what is drawn on it.
    #[derive(Debug, Clone, Default)]
    struct Screen(std::sync::Arc<std::sync::Mutex<String>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            self.0.lock().unwrap().push_str(s);
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            self.write_str("\r")
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_spinner_names_the_crate_being_checked() {
        assert_eq!(
            status_message("    Checking repair v0.1.0 (/tmp/x/repair)").as_deref(),
            Some("checking repair v0.1.0")
        );
        assert_eq!(
            status_message("   Compiling proc-macro2 v1.0.95").as_deref(),
            Some("compiling proc-macro2 v1.0.95")
        );
        assert_eq!(status_message("warning: unused import"), None);
        assert_eq!(status_message("    Finished `dev` profile"), None);

        // cargo's stderr, as the check reads it, drawn on a terminal.
        let screen = Screen::default();
        let bar = spinner(indicatif::ProgressDrawTarget::term_like(Box::new(
            screen.clone(),
        )));
        let stderr = "    Checking repair v0.1.0 (/tmp/x/repair)\nerror: could not compile `repair` (lib) due to 1 previous error\n";
        let errors = read_cargo_stderr(stderr.as_bytes(), Some(&bar));
        assert_eq!(bar.message(), "checking repair v0.1.0");
        bar.tick();
        bar.finish_and_clear();
        let drawn = screen.0.lock().unwrap().clone();
        assert!(drawn.contains("checking repair v0.1.0"), "{drawn:?}");
        assert_eq!(
            errors,
            ["error: could not compile `repair` (lib) due to 1 previous error"]
        );
    }

    #[test]
    fn a_tree_key_follows_the_files_the_flags_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"a\"\n").unwrap();
        std::fs::write(root.join("src/lib.rs"), "pub fn f() {}\n").unwrap();
        let args = vec!["check".to_string(), "-p".into(), "a".into()];
        let key = || tree_key(root, &[], &args).unwrap();
        let k0 = key();
        assert_eq!(key(), k0);
        // Build output (a target directory, by name or by cargo's tag) and `.git` do not count.
        for d in ["target/debug", "out/debug", ".git"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
            std::fs::write(root.join(d).join("x"), "1").unwrap();
        }
        std::fs::write(root.join("out/CACHEDIR.TAG"), "Signature").unwrap();
        assert_eq!(key(), k0);
        // A source, a new file, the flags: each changes it.
        std::fs::write(root.join("src/lib.rs"), "pub fn f() { }\n").unwrap();
        let k1 = key();
        assert_ne!(k1, k0);
        std::fs::write(root.join("Cargo.lock"), "version = 4\n").unwrap();
        let k2 = key();
        assert_ne!(k2, k1);
        assert_ne!(
            tree_key(root, &[], &["check".to_string(), "--all-features".into()]).unwrap(),
            k2
        );
        // A path dependency outside the workspace counts too.
        let dep = tempfile::tempdir().unwrap();
        std::fs::write(dep.path().join("lib.rs"), "").unwrap();
        let with_dep = tree_key(root, &[dep.path().to_path_buf()], &args).unwrap();
        assert_ne!(with_dep, k2);
        std::fs::write(dep.path().join("lib.rs"), "//").unwrap();
        assert_ne!(
            tree_key(root, &[dep.path().to_path_buf()], &args).unwrap(),
            with_dep
        );

        // A `[patch]` by path outside the workspace is found.
        std::fs::write(
            root.join("Cargo.toml"),
            format!(
                "[package]\nname = \"a\"\n[patch.crates-io]\nb = {{ path = \"{}\" }}\n",
                dep.path().display()
            ),
        )
        .unwrap();
        assert_eq!(patch_paths(root), [dep.path().to_path_buf()]);

        let cache = CheckCache::new(&root.join("target"));
        assert!(!cache.has(k2));
        cache.add(k2);
        assert!(cache.has(k2) && !cache.has(k1));
        for k in 0..CheckCache::KEPT as u64 {
            cache.add(k);
        }
        // The oldest go first.
        assert!(!cache.has(k2) && cache.has(0));
    }

    #[test]
    fn a_file_belongs_to_the_deepest_member() {
        let g = graph();
        assert_eq!(
            crate_of(&g, Path::new("/w/lib/proto/src/lib.rs")).as_deref(),
            Some("proto")
        );
        assert_eq!(
            crate_of(&g, Path::new("/w/lib/src/lib.rs")).as_deref(),
            Some("lib")
        );
        assert_eq!(crate_of(&g, Path::new("/w/Cargo.toml")), None);
    }
}
