//! The thin IO layer around the engine: read, process in parallel, re-parse (in the engine),
//! write atomically or print a diff, and collect one report.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use crate::edit::line_col;
use crate::engine::{self, FileMeta, ItemKind, Outcome};
use crate::steps::Step;
use crate::workspace::{rel, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Write,
    DryRun,
    Check,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// Changed (or would change, in `--dry-run` / `--check`).
    Changed,
    /// Parse error, invalid output, unreadable, or the write failed: left untouched.
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    #[serde(rename = "crate")]
    pub krate: String,
    pub status: FileStatus,
    pub edits: usize,
    /// Where a file failed to parse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Why a file failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The unified diff (`--dry-run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// What the file held before a write (for the compiler loop, `verify`, to restore it).
    #[serde(skip)]
    pub original: Option<(PathBuf, String)>,
    /// The run created the file (a restoration deletes it).
    #[serde(skip)]
    pub created: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ItemReport {
    pub path: String,
    #[serde(rename = "crate")]
    pub krate: String,
    pub line: usize,
    pub column: usize,
    pub rule: String,
    pub kind: ItemKind,
    pub message: String,
    pub note: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub step: u8,
    pub title: String,
    pub mode: Mode,
    /// Files that changed or failed (unchanged files are not listed).
    pub files: Vec<FileReport>,
    pub items: Vec<ItemReport>,
    pub files_scanned: usize,
    pub files_parsed: usize,
    /// What the compiler said after a written step (None: not checked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<crate::verify::Verdict>,
}

impl RunReport {
    pub fn changed(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.status == FileStatus::Changed)
            .count()
    }

    pub fn failed(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.status == FileStatus::Failed)
            .count()
    }

    pub fn edits(&self) -> usize {
        self.files.iter().map(|f| f.edits).sum()
    }
}

struct Job<'a> {
    path: &'a Path,
    krate: &'a str,
    meta: FileMeta,
}

/// Run one step over the workspace.
pub fn run_step(step: &Step, ws: &Workspace, mode: Mode, progress: bool) -> RunReport {
    let prepared = step.prepare(ws);
    let mut jobs = Vec::new();
    let mut items = prepared.items;
    // Connect service code anywhere in the workspace (a helper crate serves another's handlers).
    let connect_server = ws.crates.iter().any(|c| c.evidence.connect_server);
    let workspace_libs = ws.lib_names();
    for c in &ws.crates {
        let crate_ctx = prepared.ctx.get(&c.name).cloned();
        for f in &c.files {
            jobs.push(Job {
                path: &f.path,
                krate: &c.name,
                meta: FileMeta {
                    module_path: f.module_path.clone(),
                    crate_evidence: crate::rules::rename::SideEvidence {
                        connect_server,
                        ..c.evidence
                    },
                    path: Some(f.path.clone()),
                    crate_ctx: crate_ctx.clone(),
                    workspace_libs: workspace_libs.clone(),
                },
            });
        }
        for g in &c.generated {
            // Generated files are never edited; those that hold constructs of the step are listed.
            if let Ok(bytes) = std::fs::read(g) {
                // The tool's own google.rpc module (steps 3 and 7) is not the user's generated code.
                if bytes.starts_with(crate::steps::details::MARKER.as_bytes()) {
                    continue;
                }
                if step.prefilter(&bytes, false) {
                    items.push(ItemReport {
                        path: rel(&ws.root, g),
                        krate: c.name.clone(),
                        line: 1,
                        column: 1,
                        rule: format!("step{:02}/generated-file", step.number),
                        kind: ItemKind::Skipped,
                        message: "generated file (its header says so): not edited".into(),
                        note:
                            "regenerate it from its source once the generator's input is migrated"
                                .into(),
                    });
                }
            }
        }
    }
    let bar = (progress && std::io::stderr().is_terminal() && jobs.len() > 50).then(|| {
        let b = indicatif::ProgressBar::new(jobs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} step {msg} [{bar:30}] {pos}/{len} files",
            )
            .unwrap()
            .progress_chars("=> "),
        );
        b.set_message(step.number.to_string());
        b
    });
    let results: Vec<(Option<FileReport>, Vec<ItemReport>, bool)> = jobs
        .par_iter()
        .map(|job| {
            let r = process_one(step, ws, job, mode);
            if let Some(b) = &bar {
                b.inc(1);
            }
            r
        })
        .collect();
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let mut files = Vec::new();
    let mut parsed = 0;
    for (f, its, was_parsed) in results {
        files.extend(f);
        items.extend(its);
        parsed += was_parsed as usize;
    }
    for (path, old, new) in &prepared.manifests {
        files.push(manifest_change(ws, path, old, new, mode));
    }
    for (path, text) in &prepared.new_files {
        files.push(new_file(ws, path, text, mode));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    items.sort_by(|a, b| {
        (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule))
    });
    RunReport {
        step: step.number,
        title: step.title().to_string(),
        mode,
        files,
        items,
        files_scanned: jobs.len(),
        files_parsed: parsed,
        verdict: None,
    }
}

fn process_one(
    step: &Step,
    ws: &Workspace,
    job: &Job<'_>,
    mode: Mode,
) -> (Option<FileReport>, Vec<ItemReport>, bool) {
    let relp = rel(&ws.root, job.path);
    let fail = |error: String| FileReport {
        path: relp.clone(),
        krate: job.krate.to_string(),
        status: FileStatus::Failed,
        edits: 0,
        line: None,
        column: None,
        error: Some(error),
        diff: None,
        original: None,
        created: false,
    };
    let bytes = match std::fs::read(job.path) {
        Ok(b) => b,
        Err(e) => return (Some(fail(format!("cannot read: {e}"))), Vec::new(), false),
    };
    if !step.prefilter(&bytes, job.meta.crate_ctx.is_some()) {
        return (None, Vec::new(), false);
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            return (
                Some(fail("not UTF-8: left unchanged".into())),
                Vec::new(),
                false,
            )
        }
    };
    let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let to_items = |items: Vec<engine::ManualItem>| -> Vec<ItemReport> {
        items
            .into_iter()
            .map(|i| {
                let (line, column) = line_col(body, i.offset);
                ItemReport {
                    path: relp.clone(),
                    krate: job.krate.to_string(),
                    line,
                    column,
                    rule: i.rule,
                    kind: i.kind,
                    message: i.message,
                    note: i.note,
                }
            })
            .collect()
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine::process(step, &text, &job.meta)
    }));
    let Ok(outcome) = outcome else {
        // A bug in a rule must not stop the run: the file is left as it is and reported.
        return (
            Some(fail(
                "internal error while rewriting (the file was left unchanged); please report it with this file".into(),
            )),
            Vec::new(),
            true,
        );
    };
    match outcome {
        Outcome::NotApplicable => (None, Vec::new(), false),
        Outcome::ParseError {
            line,
            column,
            message,
        } => {
            let message = if message == "cannot parse string into token stream" {
                "unbalanced delimiter or invalid token".to_string()
            } else {
                message
            };
            let mut f = fail(format!("does not parse: {message}; left unchanged"));
            f.line = Some(line);
            f.column = Some(column);
            (Some(f), Vec::new(), true)
        }
        Outcome::InvalidOutput { message, items } => (Some(fail(message)), to_items(items), true),
        Outcome::Rewritten {
            new_text,
            edits,
            items,
        } => {
            let items = to_items(items);
            let Some(new_text) = new_text else {
                return (None, items, true);
            };
            let mut report = FileReport {
                path: relp.clone(),
                krate: job.krate.to_string(),
                status: FileStatus::Changed,
                edits,
                line: None,
                column: None,
                error: None,
                diff: None,
                original: None,
                created: false,
            };
            match mode {
                Mode::Check => {}
                Mode::DryRun => report.diff = Some(unified_diff(&relp, &text, &new_text)),
                Mode::Write => {
                    if let Err(e) = write_atomic(job.path, &new_text) {
                        return (
                            Some(fail(format!("cannot write: {e}; left unchanged"))),
                            items,
                            true,
                        );
                    }
                    report.original = Some((job.path.to_path_buf(), text.clone()));
                }
            }
            (Some(report), items, true)
        }
    }
}

/// A manifest rewritten by a step (whole-text, by toml_edit, which keeps formatting).
fn manifest_change(ws: &Workspace, path: &Path, old: &str, new: &str, mode: Mode) -> FileReport {
    let relp = rel(&ws.root, path);
    let mut report = FileReport {
        path: relp.clone(),
        krate: String::new(),
        status: FileStatus::Changed,
        edits: 1,
        line: None,
        column: None,
        error: None,
        diff: None,
        original: None,
        created: false,
    };
    if let Err(e) = new.parse::<toml_edit::DocumentMut>() {
        report.status = FileStatus::Failed;
        report.error = Some(format!(
            "the rewritten manifest would not parse ({e}); left unchanged"
        ));
        return report;
    }
    match mode {
        Mode::Check => {}
        Mode::DryRun => report.diff = Some(unified_diff(&relp, old, new)),
        Mode::Write => {
            if let Err(e) = write_atomic(path, new) {
                report.status = FileStatus::Failed;
                report.error = Some(format!("cannot write: {e}; left unchanged"));
            } else {
                report.original = Some((path.to_path_buf(), old.to_string()));
            }
        }
    }
    report
}

/// A file a step creates (a new module). An existing file is never overwritten: the step checks
/// that the path is free, and a file that appeared since fails the write.
fn new_file(ws: &Workspace, path: &Path, text: &str, mode: Mode) -> FileReport {
    let relp = rel(&ws.root, path);
    let mut report = FileReport {
        path: relp.clone(),
        krate: String::new(),
        status: FileStatus::Changed,
        edits: 1,
        line: None,
        column: None,
        error: None,
        diff: None,
        original: None,
        created: true,
    };
    match mode {
        Mode::Check => {}
        Mode::DryRun => report.diff = Some(new_file_diff(&relp, text)),
        Mode::Write => {
            let write = || -> std::io::Result<()> {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(path)?;
                f.write_all(text.as_bytes())?;
                f.sync_all()
            };
            match write() {
                Ok(()) => report.original = Some((path.to_path_buf(), String::new())),
                Err(e) => {
                    report.status = FileStatus::Failed;
                    report.error = Some(format!("cannot create: {e}"));
                }
            }
        }
    }
    report
}

/// The diff that creates a file, in the form `git apply` accepts.
pub fn new_file_diff(rel_path: &str, text: &str) -> String {
    let diff = similar::TextDiff::from_lines("", text);
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header("/dev/null", &format!("b/{rel_path}"))
        .to_string();
    format!("diff --git a/{rel_path} b/{rel_path}\nnew file mode 100644\n{body}")
}

/// A unified diff that `git apply` accepts, with `a/` and `b/` prefixes.
pub fn unified_diff(rel_path: &str, old: &str, new: &str) -> String {
    let diff = similar::TextDiff::from_lines(old, new);
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{rel_path}"), &format!("b/{rel_path}"))
        .to_string();
    format!("diff --git a/{rel_path} b/{rel_path}\n{body}")
}

/// Write `text` to `path` through a temporary file in the same directory and a rename, keeping
/// the file's permissions.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let perms = std::fs::metadata(path).map(|m| m.permissions()).ok();
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Some(p) = perms {
        std::fs::set_permissions(tmp.path(), p)?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The workspace files a write run would touch, for the dirty-tree check.
pub fn paths_of(ws: &Workspace) -> Vec<PathBuf> {
    ws.crates
        .iter()
        .flat_map(|c| c.files.iter().map(|f| f.path.clone()))
        .collect()
}

/// Run `run` with stdout errors (a closed pipe) mapped to Ok.
pub fn print_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.into()),
    }
}
