//! The thin IO layer around the engine: read, process in parallel, re-parse (in the engine),
//! write atomically or print a diff, and collect one report. What the files need beyond
//! themselves (dependencies, new modules) is applied once after them ([`needs`]).

mod needs;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;

use crate::edit::line_col;
use crate::engine::{self, FileMeta, ItemKind, Outcome};
use crate::shim;
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
    /// The run deletes the file (step 9's vendored shim).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// Items are reported by [`crate::report`]; kept here by name for the callers of `run`.
use crate::report::ItemReport;

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
    /// The file it really is (see [`placement`]).
    real: PathBuf,
    krate: &'a str,
    meta: FileMeta,
    place: Placement,
    /// The file does not lex (its modules were found by a line scan): reported even when the
    /// step has nothing for it.
    unlexed: bool,
    /// A file reached through `include!` from more than one module: the other modules (the
    /// file is processed in each; the edits must be the same in all of them).
    other_modules: Vec<Vec<String>>,
}

/// Where a source file really is, for files reached through a symbolic link (the file itself
/// or a directory above it): the link is kept and its target edited in place, and reports and
/// diffs name the target, the path `git` knows the content by (a diff through a link does
/// not apply). A target outside the workspace is not edited: the link is reported.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Placement {
    Plain,
    Linked { real: PathBuf, rel_real: String },
    Outside { real: PathBuf },
}

/// The placement of `path` (whose real location discovery found to be `real`, when it is not
/// the path itself) and the real file, to tell files reached twice apart.
fn placement(
    root: &Path,
    canon_root: Option<&Path>,
    path: &Path,
    real: Option<&PathBuf>,
) -> (Placement, PathBuf) {
    let Some(real) = real else {
        return (Placement::Plain, path.to_path_buf());
    };
    let abs = root.join(path);
    let (Some(canon_root), Ok(rel)) = (canon_root, abs.strip_prefix(root)) else {
        return (Placement::Plain, real.clone());
    };
    if *real == canon_root.join(rel) {
        return (Placement::Plain, real.clone());
    }
    let place = match real.strip_prefix(canon_root) {
        Ok(r) => Placement::Linked {
            rel_real: r.to_string_lossy().replace('\\', "/"),
            real: real.clone(),
        },
        Err(_) => Placement::Outside { real: real.clone() },
    };
    (place, real.clone())
}

/// Run one step over the workspace.
pub fn run_step(step: &Step, ws: &Workspace, mode: Mode, progress: bool) -> RunReport {
    let mut prepared = step.prepare(ws);
    let watched = needs::watched(&prepared);
    let mut jobs = Vec::new();
    let mut items = std::mem::take(&mut prepared.items);
    // Connect service code anywhere in the workspace (a helper crate serves another's handlers).
    let connect_server = ws.crates.iter().any(|c| c.evidence.connect_server);
    let workspace_libs = ws.lib_names();
    let canon_root = ws.root.canonicalize().ok();
    // A file reached twice (through a link, or from two crates' `#[path]`) is processed once;
    // what it needs goes to each crate that holds it.
    let mut owners: std::collections::HashMap<PathBuf, Vec<&str>> = Default::default();
    let mut collected = needs::Collected::default();
    for c in &ws.crates {
        let crate_ctx = prepared.ctx.get(&c.name).cloned();
        let nested = crate_ctx
            .as_ref()
            .and_then(|x| x.schema.as_ref())
            .map(|s| std::sync::Arc::new(s.nested_module_names()))
            .unwrap_or_default();
        let symbols = crate_symbols(c, nested);
        for (i, f) in c.files.iter().enumerate() {
            if !c.selected(&f.path) {
                // Not processed: its text stays as it is.
                if prepared.drop_unless_named.contains_key(&c.name) {
                    let text = std::fs::read_to_string(&f.path).unwrap_or_default();
                    collected.names(&c.name, &needs::named_in(&text, &watched));
                }
                continue;
            }
            let (place, real) = placement(
                &ws.root,
                canon_root.as_deref(),
                &f.path,
                c.real.get(&f.path),
            );
            let seen = owners.entry(real.clone()).or_default();
            seen.push(&c.name);
            if seen.len() > 1 {
                continue;
            }
            let mut other_modules: Vec<Vec<String>> = Vec::new();
            for inc in c.included.get(&f.path).into_iter().flatten() {
                if Some(&inc.module) != f.module_path.as_ref()
                    && !other_modules.contains(&inc.module)
                {
                    other_modules.push(inc.module.clone());
                }
            }
            jobs.push(Job {
                place,
                real,
                other_modules,
                unlexed: c.unlexed.contains(&f.path),
                path: &f.path,
                krate: &c.name,
                meta: FileMeta {
                    module_path: f.module_path.clone(),
                    crate_evidence: crate::evidence::SideEvidence {
                        connect_server,
                        ..c.evidence
                    },
                    path: Some(f.path.clone()),
                    crate_ctx: crate_ctx.clone(),
                    workspace_libs: workspace_libs.clone(),
                    symbols: symbols.get(i).cloned().flatten(),
                },
            });
        }
        items.extend(generated_items(step, ws, c, &crate_ctx, &workspace_libs));
    }
    let bar = (progress && std::io::stderr().is_terminal() && jobs.len() > 50)
        .then(|| progress_bar(step, jobs.len()));
    let results: Vec<JobDone> = jobs
        .par_iter()
        .map(|job| {
            let r = process_one(step, ws, job, mode, &watched);
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
    let mut pending = Vec::new();
    let mut take = |job: &Job<'_>, r: JobDone, collected: &mut needs::Collected| {
        files.extend(r.file);
        items.extend(r.items);
        parsed += r.parsed as usize;
        for krate in &owners[&job.real] {
            collected.add(krate, &r.needs);
            collected.names(krate, &r.named);
        }
    };
    for (job, mut r) in jobs.iter().zip(results) {
        if let Some(p) = r.pending.take() {
            // What the file needs with its declarations (it may need its module itself).
            for krate in &owners[&job.real] {
                collected.add(krate, needs::of(&p.outcome));
            }
            pending.push((job, p));
        }
        take(job, r, &mut collected);
    }
    // Files that hold a module's declaration, once every file said what it needs.
    for (job, p) in pending {
        let r = finish_pending(ws, job, p, mode, &collected, &watched);
        take(job, r, &mut collected);
    }
    let (manifests, manifest_items) = needs::manifests(ws, &prepared, &collected);
    items.extend(manifest_items);
    for (path, old, new) in &manifests {
        // toml_edit prints `\n` and no BOM: put the manifest's own form back (and drop a
        // "change" that was only that).
        let new = crate::manifest::keep_form(old, new);
        if new != *old {
            files.push(manifest_change(ws, path, old, &new, mode));
        }
    }
    let new_files = [prepared.new_files, collected.new_files()].concat();
    files.extend(created_files(ws, &new_files, mode));
    let (shim_files, shim_items) = shim_changes(step, ws, &manifests);
    items.extend(shim_items);
    files.extend(shim_files.into_iter().map(|(path, change)| match change {
        shim::Change::Create(_, text) => new_file(ws, &path, &text, mode),
        shim::Change::Update(_, old, new) => text_change(ws, &path, &old, &new, mode),
        shim::Change::Delete(_, old) => deleted_file(ws, &path, &old, mode),
    }));
    if step.number == 9 && mode == Mode::Write {
        remove_emptied_dirs(ws);
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

/// The step's new files. Two targets of one directory may each need the same new module (two
/// binaries of `src/bin/` hosting their servers): the same text at the same path is one file.
fn created_files(ws: &Workspace, new_files: &[(PathBuf, String)], mode: Mode) -> Vec<FileReport> {
    let mut created: Vec<&(PathBuf, String)> = Vec::new();
    let mut files = Vec::new();
    for file in new_files {
        if created.contains(&file) {
            continue;
        }
        created.push(file);
        files.push(new_file(ws, &file.0, &file.1, mode));
    }
    files
}

/// The generated files of crate `c` that hold constructs of the step: never edited, listed.
fn generated_items(
    step: &Step,
    ws: &Workspace,
    c: &crate::workspace::Crate,
    crate_ctx: &Option<std::sync::Arc<crate::context::CrateCtx>>,
    workspace_libs: &std::sync::Arc<[String]>,
) -> Vec<ItemReport> {
    let mut items = Vec::new();
    for g in c.generated.iter().filter(|g| c.selected(g)) {
        // Generated files are never edited; those that hold constructs of the step are listed.
        if let Ok(bytes) = std::fs::read(g) {
            // The tool's own google.rpc module (steps 3 and 7) is not the user's generated code.
            if bytes.starts_with(crate::steps::details::MARKER.as_bytes()) {
                continue;
            }
            if step.prefilter(&bytes, false)
                || would_edit(
                    step,
                    &bytes,
                    &FileMeta {
                        module_path: None,
                        crate_evidence: c.evidence,
                        path: Some(g.clone()),
                        crate_ctx: crate_ctx.clone(),
                        workspace_libs: workspace_libs.clone(),
                        symbols: None,
                    },
                )
            {
                items.push(ItemReport {
                    path: rel(&ws.root, g),
                    krate: c.name.clone(),
                    line: 1,
                    column: 1,
                    rule: format!("step{:02}/generated-file", step.number),
                    kind: ItemKind::Skipped,
                    message: "generated file (its header says so): not edited".into(),
                    note: "regenerate it from its source once the generator's input is migrated"
                        .into(),
                });
            }
        }
    }
    items
}

/// The progress bar of a step over `n` files.
fn progress_bar(step: &Step, n: usize) -> indicatif::ProgressBar {
    let b = indicatif::ProgressBar::new(n as u64);
    b.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} step {msg} [{bar:30}] {pos}/{len} files",
        )
        .unwrap()
        .progress_chars("=> "),
    );
    b.set_message(step.number.to_string());
    b
}

/// The symbol index of each file's crate (one per cargo target's module tree, one per step; a
/// bin's index also holds its package's library under the library's name), by the file's
/// position in [`Crate::files`]. A file outside every target gets `None`. Nothing is read here:
/// the index reads a file when a lookup first reaches it (from the workers, in parallel), and a
/// file the step processes gives the index the engine's parse of it, so a crate none of whose
/// files the step processes is never read for its index. `nested`: the nested modules the schema
/// gives its generated package modules ([`crate::index::CrateIndex::with_nested_modules`]).
fn crate_symbols(
    c: &crate::workspace::Crate,
    nested: std::sync::Arc<std::collections::HashSet<String>>,
) -> Vec<Option<crate::index::FileSymbols>> {
    use crate::index::{CrateIndex, FileSymbols};
    use std::sync::Arc;
    let paths: Arc<[PathBuf]> = c.files.iter().map(|f| f.path.clone()).collect();
    let lazy = |range: std::ops::Range<usize>| {
        let start = range.start;
        let paths = paths.clone();
        CrateIndex::lazy(
            c.files[range]
                .iter()
                // A file reached through `include!` shares its module with the including file,
                // whose view of the module stands (see `FileSymbols::included`).
                .map(|f| {
                    if c.included.contains_key(&f.path) {
                        None
                    } else {
                        f.module_path.clone()
                    }
                })
                .collect(),
            Arc::new(move |slot| std::fs::read_to_string(&paths[start + slot]).ok()),
        )
        .with_nested_modules(nested.clone())
    };
    let mut out = vec![None; c.files.len()];
    let mut give = |range: std::ops::Range<usize>, ix: &Arc<CrateIndex>, own: bool| {
        for (i, o) in out[range].iter_mut().enumerate() {
            *o = Some(FileSymbols {
                index: ix.clone(),
                slot: own.then_some(i),
            });
        }
    };
    if c.targets.is_empty() {
        give(0..c.files.len(), &Arc::new(lazy(0..c.files.len())), true);
        return out;
    }
    let lib = c.targets.iter().find(|t| t.is_lib()).map(|t| {
        (
            t.name.replace('-', "_"),
            t.files.clone(),
            Arc::new(lazy(t.files.clone())),
        )
    });
    for t in &c.targets {
        match &lib {
            // (A second library target is given the first one's index, as before: not its own.)
            Some((_, range, l)) if t.is_lib() => give(t.files.clone(), l, *range == t.files),
            Some((name, _, l)) => {
                let mut ix = lazy(t.files.clone());
                ix.graft(name, l);
                give(t.files.clone(), &Arc::new(ix), true);
            }
            None => give(t.files.clone(), &Arc::new(lazy(t.files.clone())), true),
        }
    }
    out
}

/// Would the step edit (or list something in) this file if it were not generated? Asked of
/// generated files in crates where the step works from the crate's context (step 1's message
/// idioms), where the byte prefilter alone cannot tell.
fn would_edit(step: &Step, bytes: &[u8], meta: &FileMeta) -> bool {
    if meta.crate_ctx.is_none() || !step.prefilter(bytes, true) {
        return false;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine::process(step, text, meta)
    }));
    match outcome {
        Ok(Outcome::Rewritten {
            new_text, items, ..
        }) => new_text.is_some() || !items.is_empty(),
        _ => false,
    }
}

/// What the run made of one file.
#[derive(Default)]
struct JobDone {
    file: Option<FileReport>,
    items: Vec<ItemReport>,
    parsed: bool,
    /// What its new text needs beyond the file.
    needs: Vec<engine::Need>,
    /// The identifiers of the run's removal conditions its final text names.
    named: Vec<&'static str>,
    /// The file holds a module's declaration: it is finished once the run knows whether some
    /// file needs the module.
    pending: Option<Pending>,
}

/// A file whose text depends on what the other files need (a held declaration).
struct Pending {
    text: String,
    /// With the declarations.
    outcome: Outcome,
    /// The modules declared, and the outcome without their declarations.
    without: (Vec<PathBuf>, Outcome),
}

/// A pending file, finished: with its declarations when some file of its target needs one of
/// the modules, else without them.
fn finish_pending(
    ws: &Workspace,
    job: &Job<'_>,
    p: Pending,
    mode: Mode,
    collected: &needs::Collected,
    watched: &[&'static str],
) -> JobDone {
    let (modules, without) = p.without;
    let keep = modules.iter().any(|m| collected.declares(job.path, m));
    let outcome = if keep { p.outcome } else { without };
    job_done(Target::of(ws, job), outcome, p.text, mode, watched)
}

/// A file's final outcome as the run reports it, with what its new text needs and names.
fn job_done(
    t: Target<'_>,
    outcome: Outcome,
    text: String,
    mode: Mode,
    watched: &[&'static str],
) -> JobDone {
    let needs = needs::of(&outcome).to_vec();
    let named = needs::named_in(final_text(&outcome, &text), watched);
    let (file, items, parsed) = t.outcome(outcome, text, mode);
    JobDone {
        file,
        items,
        parsed,
        needs,
        named,
        pending: None,
    }
}

/// The file's text after the step: the new text, or the text it had.
fn final_text<'t>(outcome: &'t Outcome, text: &'t str) -> &'t str {
    match outcome {
        Outcome::Rewritten {
            new_text: Some(n), ..
        } => n,
        _ => text,
    }
}

fn process_one(
    step: &Step,
    ws: &Workspace,
    job: &Job<'_>,
    mode: Mode,
    watched: &[&'static str],
) -> JobDone {
    if let Placement::Outside { real } = &job.place {
        return JobDone {
            items: outside_link(step, ws, job, real),
            named: std::fs::read_to_string(real)
                .map(|t| needs::named_in(&t, watched))
                .unwrap_or_default(),
            ..Default::default()
        };
    }
    let t = Target::of(ws, job);
    let bytes = match std::fs::read(t.path) {
        Ok(b) => b,
        Err(e) => {
            return JobDone {
                file: Some(t.fail(format!("cannot read: {e}"))),
                ..Default::default()
            }
        }
    };
    let included = job.meta.symbols.as_ref().is_some_and(|s| s.included());
    if !included && !step.prefilter(&bytes, job.meta.crate_ctx.is_some()) {
        let named = needs::named_in(&String::from_utf8_lossy(&bytes), watched);
        return match job.unlexed.then(|| t.unparsed(&bytes)).flatten() {
            Some(f) => JobDone {
                file: Some(f),
                parsed: true,
                named,
                ..Default::default()
            },
            None => JobDone {
                named,
                ..Default::default()
            },
        };
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            return JobDone {
                file: Some(t.fail("not UTF-8: left unchanged".into())),
                ..Default::default()
            }
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        engine::process(step, &text, &job.meta)
    }));
    let Ok(mut outcome) = outcome else {
        // A bug in a rule must not stop the run: the file is left as it is and reported.
        return JobDone {
            file: Some(t.fail(
                "internal error while rewriting (the file was left unchanged); please report it with this file".into(),
            )),
            parsed: true,
            named: needs::named_in(&text, watched),
            ..Default::default()
        };
    };
    if !job.other_modules.is_empty() {
        outcome = same_in_every_module(step, job, &text, outcome);
    }
    if let Outcome::Rewritten { without, .. } = &mut outcome {
        if let Some((modules, w)) = without.take() {
            return JobDone {
                pending: Some(Pending {
                    text,
                    outcome,
                    without: (modules, *w),
                }),
                ..Default::default()
            };
        }
    }
    job_done(t, outcome, text, mode, watched)
}

/// A file included (`include!`) by several modules is one text for all of them: the step's
/// outcome stands when the file comes out the same in every including module (its names may
/// resolve differently in each), with the items of every module; otherwise nothing of it
/// changes and it is listed.
fn same_in_every_module(step: &Step, job: &Job<'_>, text: &str, mut outcome: Outcome) -> Outcome {
    let parts = |o: Outcome| match o {
        Outcome::Rewritten {
            new_text, items, ..
        } => Some((new_text, items)),
        _ => None,
    };
    let first = match &outcome {
        Outcome::Rewritten { new_text, .. } => Some(new_text.clone()),
        _ => None,
    };
    let mut differs = None;
    let mut more = Vec::new();
    for m in &job.other_modules {
        let meta = FileMeta {
            module_path: Some(m.to_vec()),
            ..job.meta.clone()
        };
        let other = parts(engine::process(step, text, &meta));
        if other.as_ref().map(|(t, _)| t.clone()) != first {
            differs = Some(m);
            break;
        }
        more.extend(other.map(|(_, items)| items).unwrap_or_default());
    }
    let Some(other) = differs else {
        if let Outcome::Rewritten { items, .. } = &mut outcome {
            for i in more {
                if !items.contains(&i) {
                    items.push(i);
                }
            }
        }
        return outcome;
    };
    let here = job
        .meta
        .module_path
        .as_deref()
        .unwrap_or_default()
        .join("::");
    Outcome::Rewritten {
        new_text: None,
        edits: 0,
        items: vec![engine::ManualItem {
            offset: 0,
            rule: format!("step{:02}/included-file", step.number),
            message: format!(
                "this file is included (`include!`) by `{here}` and by `{}`, whose names make the step's edits differ: not edited",
                other.join("::")
            ),
            note: "migrate the file by hand so that it compiles in every module that includes it (or give the including modules the same imports), then run the step again".into(),
            kind: engine::ItemKind::Manual,
        }],
        needs: Vec::new(),
        without: None,
    }
}

/// A file reached through a symbolic link to a place outside the workspace: not edited, listed
/// when the step has something for it.
fn outside_link(step: &Step, ws: &Workspace, job: &Job<'_>, real: &Path) -> Vec<ItemReport> {
    let relp = rel(&ws.root, job.path);
    let item = ItemReport {
        path: relp.clone(),
        krate: job.krate.to_string(),
        line: 1,
        column: 1,
        rule: format!("step{:02}/symlink", step.number),
        kind: ItemKind::Manual,
        message: format!(
            "{relp} is a symbolic link to {}, outside the workspace: not edited",
            real.display()
        ),
        note: "run the step where that file lives (its own workspace), or replace the link with a copy".into(),
    };
    let touched =
        std::fs::read(real).is_ok_and(|b| step.prefilter(&b, job.meta.crate_ctx.is_some()));
    if touched {
        vec![item]
    } else {
        Vec::new()
    }
}

/// The file a job reads, edits and names: through a link, the target (the link stays a link).
struct Target<'j> {
    path: &'j Path,
    relp: String,
    krate: &'j str,
}

impl<'j> Target<'j> {
    fn of(ws: &Workspace, job: &'j Job<'_>) -> Self {
        let (path, relp): (&Path, String) = match &job.place {
            Placement::Linked { real, rel_real } => (real, rel_real.clone()),
            _ => (job.path, rel(&ws.root, job.path)),
        };
        Target {
            path,
            relp,
            krate: job.krate,
        }
    }

    fn fail(&self, error: String) -> FileReport {
        FileReport {
            path: self.relp.clone(),
            krate: self.krate.to_string(),
            status: FileStatus::Failed,
            edits: 0,
            line: None,
            column: None,
            error: Some(error),
            diff: None,
            original: None,
            created: false,
            deleted: false,
        }
    }

    /// A file that does not lex and that the step has nothing for: the failure when it does
    /// not parse either.
    fn unparsed(&self, bytes: &[u8]) -> Option<FileReport> {
        let text = String::from_utf8_lossy(bytes);
        let e = syn::parse_file(text.strip_prefix('\u{feff}').unwrap_or(&text)).err()?;
        let start = e.span().start();
        proc_macro2::extra::invalidate_current_thread_spans();
        let mut f = self.fail(
            "does not parse: unbalanced delimiter or invalid token; left unchanged (the modules it declares were found line by line and processed)".into(),
        );
        f.line = Some(start.line);
        f.column = Some(start.column + 1);
        Some(f)
    }

    /// The manual items of the engine, located in `text`.
    fn items(&self, text: &str, items: Vec<engine::ManualItem>) -> Vec<ItemReport> {
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        items
            .into_iter()
            .map(|i| {
                let (line, column) = line_col(body, i.offset);
                ItemReport {
                    path: self.relp.clone(),
                    krate: self.krate.to_string(),
                    line,
                    column,
                    rule: i.rule,
                    kind: i.kind,
                    message: i.message,
                    note: i.note,
                }
            })
            .collect()
    }

    /// The file's line, items and parse flag from what the engine made of `text`; in write
    /// mode, the new text written.
    fn outcome(
        &self,
        outcome: Outcome,
        text: String,
        mode: Mode,
    ) -> (Option<FileReport>, Vec<ItemReport>, bool) {
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
                let mut f = self.fail(format!("does not parse: {message}; left unchanged"));
                f.line = Some(line);
                f.column = Some(column);
                (Some(f), Vec::new(), true)
            }
            Outcome::InvalidOutput { message, items } => {
                (Some(self.fail(message)), self.items(&text, items), true)
            }
            Outcome::Rewritten {
                new_text,
                edits,
                items,
                ..
            } => {
                let items = self.items(&text, items);
                let Some(new_text) = new_text else {
                    return (None, items, true);
                };
                let mut report = FileReport {
                    path: self.relp.clone(),
                    krate: self.krate.to_string(),
                    status: FileStatus::Changed,
                    edits,
                    line: None,
                    column: None,
                    error: None,
                    diff: None,
                    original: None,
                    created: false,
                    deleted: false,
                };
                match mode {
                    Mode::Check => {}
                    Mode::DryRun => report.diff = Some(unified_diff(&self.relp, &text, &new_text)),
                    Mode::Write => {
                        if let Err(e) = write_atomic(self.path, &new_text) {
                            return (
                                Some(self.fail(format!("cannot write: {e}; left unchanged"))),
                                items,
                                true,
                            );
                        }
                        report.original = Some((self.path.to_path_buf(), text));
                    }
                }
                (Some(report), items, true)
            }
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
        deleted: false,
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
        deleted: false,
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

/// The vendored shim's file changes this run makes ([`crate::shim`]): with the default
/// [`shim::ShimSource::Vendor`], when a manifest of the workspace names `<root>/connect-shim` by
/// path once the step's manifest edits are in, the folder gets the embedded shim (written when
/// missing, updated when older, left alone when of the same version); step 9 deletes a copy the
/// tool wrote once no manifest names connect-shim, and lists it while one still does.
fn shim_changes(
    step: &Step,
    ws: &Workspace,
    edited: &[(PathBuf, String, String)],
) -> (Vec<(PathBuf, shim::Change)>, Vec<ItemReport>) {
    if ws.member_manifests.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let root = ws.root.canonicalize().unwrap_or_else(|_| ws.root.clone());
    // Compared with canonical manifest folders; files are named under the root as given.
    let abs_dir = root.join(shim::VENDOR_DIR);
    let dir = ws.root.join(shim::VENDOR_DIR);
    let root_manifest = ws.root.join("Cargo.toml");
    let mut manifests: Vec<PathBuf> = ws.member_manifests.clone();
    if !manifests.contains(&root_manifest) {
        manifests.push(root_manifest);
    }
    // Each manifest, its canonical folder, and its text as it is after the step.
    let texts: Vec<(&PathBuf, PathBuf, String)> = manifests
        .iter()
        .filter_map(|p| {
            let text = match edited.iter().find(|(e, _, _)| e == p) {
                Some((_, _, new)) => new.clone(),
                None => std::fs::read_to_string(p).ok()?,
            };
            let d = p.parent()?;
            Some((
                p,
                d.canonicalize().unwrap_or_else(|_| d.to_path_buf()),
                text,
            ))
        })
        .collect();
    let read = |rel: &str| std::fs::read_to_string(dir.join(rel)).ok();
    let existing = shim::classify(dir.exists(), read("Cargo.toml").as_deref());
    let mut items = Vec::new();
    let naming: Vec<&PathBuf> = texts
        .iter()
        .filter(|(_, _, t)| shim::names_shim(t))
        .map(|(p, _, _)| *p)
        .collect();
    let changes = if ws.options.shim == shim::ShimSource::Vendor
        && texts
            .iter()
            .any(|(_, d, t)| shim::names_path(t, d, &abs_dir))
    {
        shim::ensure(&existing, read)
    } else if step.number == 9 && naming.is_empty() {
        shim::remove(&existing, read)
    } else {
        Vec::new()
    };
    if step.number == 9 && !naming.is_empty() && matches!(existing, shim::Existing::Vendored(_)) {
        items.push(ItemReport {
            path: rel(&ws.root, &dir.join("Cargo.toml")),
            krate: String::new(),
            line: 1,
            column: 1,
            rule: "step09/shim-kept".into(),
            kind: ItemKind::Manual,
            message: format!(
                "the vendored {}/ stays: {} still depend(s) on connect-shim",
                shim::VENDOR_DIR,
                naming
                    .iter()
                    .map(|p| rel(&ws.root, p))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            note: "see the step09/dep-kept and step09/still-used items; step 9 deletes the folder once nothing names connect_shim".into(),
        });
    }
    let changes = changes
        .into_iter()
        .map(|c| {
            let rel = match &c {
                shim::Change::Create(p, _)
                | shim::Change::Update(p, _, _)
                | shim::Change::Delete(p, _) => p.clone(),
            };
            (dir.join(rel), c)
        })
        .collect();
    (changes, items)
}

/// After step 9 deleted the vendored shim's files: its directories that are now empty.
fn remove_emptied_dirs(ws: &Workspace) {
    let dir = ws.root.join(shim::VENDOR_DIR);
    for d in [dir.join("src"), dir] {
        // `remove_dir` only removes an empty directory: files the tool did not write stay.
        let _ = std::fs::remove_dir(d);
    }
}

/// A file (not a manifest) whose text a run replaces.
fn text_change(ws: &Workspace, path: &Path, old: &str, new: &str, mode: Mode) -> FileReport {
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
        deleted: false,
    };
    match mode {
        Mode::Check => {}
        Mode::DryRun => report.diff = Some(unified_diff(&relp, old, new)),
        Mode::Write => match write_atomic(path, new) {
            Ok(()) => report.original = Some((path.to_path_buf(), old.to_string())),
            Err(e) => {
                report.status = FileStatus::Failed;
                report.error = Some(format!("cannot write: {e}; left unchanged"));
            }
        },
    }
    report
}

/// A file a run deletes (step 9's vendored shim).
fn deleted_file(ws: &Workspace, path: &Path, old: &str, mode: Mode) -> FileReport {
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
        deleted: true,
    };
    match mode {
        Mode::Check => {}
        Mode::DryRun => report.diff = Some(deleted_file_diff(&relp, old)),
        Mode::Write => match std::fs::remove_file(path) {
            Ok(()) => report.original = Some((path.to_path_buf(), old.to_string())),
            Err(e) => {
                report.status = FileStatus::Failed;
                report.error = Some(format!("cannot delete: {e}"));
            }
        },
    }
    report
}

/// The diff that deletes a file, in the form `git apply` accepts.
pub fn deleted_file_diff(rel_path: &str, text: &str) -> String {
    let diff = similar::TextDiff::from_lines(text, "");
    let body = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{rel_path}"), "/dev/null")
        .to_string();
    format!("diff --git a/{rel_path} b/{rel_path}\ndeleted file mode 100644\n{body}")
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
/// the file's permissions (and a link: the file it points to is the one replaced).
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    // A symbolic link stays one: its target is replaced, never the link.
    let resolved;
    let path = if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        resolved = path.canonicalize()?;
        resolved.as_path()
    } else {
        path
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_of_linked_files() {
        let root = Path::new("/ws");
        let canon = Some(Path::new("/real/ws"));
        let p = Path::new("/ws/src/a.rs");
        // Not a link (discovery found the path to be the file), or only the root is linked.
        assert_eq!(placement(root, canon, p, None).0, Placement::Plain);
        let same = PathBuf::from("/real/ws/src/a.rs");
        assert_eq!(
            placement(root, canon, p, Some(&same)),
            (Placement::Plain, same.clone())
        );
        // A link inside the workspace: the target, named from the root.
        let shared = PathBuf::from("/real/ws/shared/a.rs");
        assert_eq!(
            placement(root, canon, p, Some(&shared)).0,
            Placement::Linked {
                real: shared.clone(),
                rel_real: "shared/a.rs".into()
            }
        );
        // Out of the workspace.
        let out = PathBuf::from("/elsewhere/a.rs");
        assert_eq!(
            placement(root, canon, p, Some(&out)).0,
            Placement::Outside { real: out.clone() }
        );
    }
}
