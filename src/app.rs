//! The commands: a step run, `plan`, `demo`. Every user-facing error is printed here, with the
//! exit code the README documents.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{Cli, ColorWhen, Command, MigrateArgs, SelectArgs};
use crate::report::{self, Format};
use crate::run::{self, Mode, RunReport};
use crate::steps::{self, Step};
use crate::workspace::{self, Selection, Workspace};

/// Exit codes (documented in the README).
pub mod exit {
    pub const OK: u8 = 0;
    pub const CHANGES: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const PARTIAL: u8 = 3;
}

/// Print an error with a hint and give its exit code.
fn fail(msg: impl std::fmt::Display, hint: Option<&str>) -> u8 {
    error(&msg.to_string());
    if let Some(h) = hint {
        help(h);
    }
    exit::USAGE
}

fn error(msg: &str) {
    anstream::eprintln!("{}: {msg}", report::paint(report::style::ERROR, "error"));
}

fn warning(msg: &str) {
    anstream::eprintln!(
        "{}: {msg}",
        report::paint(report::style::WARNING, "warning")
    );
}

fn help(msg: &str) {
    anstream::eprintln!("  {} {msg}", report::paint(report::style::NOTE, "= help:"));
}

/// A cargo-style status line: the verb right-aligned, green and bold.
fn status(verb: &str, msg: &str) {
    anstream::eprintln!(
        "{} {msg}",
        report::paint(report::style::VERB, &format!("{verb:>13}"))
    );
}

/// What step 5 does about crates that steps 1-2 did not put on connectrpc.
enum Readiness {
    Ready,
    /// Refused (exit code): the user skipped steps 1-2.
    Refused(u8),
    /// Crates step 1 cannot migrate (it has nothing to do there and listed them): left out of
    /// the run, with an item for each file step 5 would have rewritten.
    Skip(Vec<String>, Vec<crate::report::ItemReport>),
}

/// Steps that write code needing earlier steps refuse to run before them (exit 2, nothing
/// written). Step 5 hosts the services on a connectrpc `Router` through connect-shim: a crate
/// whose server code it would rewrite must depend on connectrpc (steps 1-2) or the result does
/// not compile. (Steps 2 and 9 skip such crates themselves and list them.) A crate where step 1
/// has nothing to do (its stubs are generated in another crate or checked in: step 1 listed it)
/// never gets connectrpc from the steps, so refusing would tell the user to apply a step that
/// cannot help: step 5 leaves that crate on tonic and lists each file it would have rewritten.
fn step5_readiness(steps: &[Step], step: &Step, ws: &Workspace) -> Readiness {
    if step.number != 5 {
        return Readiness::Ready;
    }
    let unready: Vec<&workspace::Crate> = ws
        .crates
        .iter()
        .filter(|c| c.tonic_req.is_some() && !c.has_connectrpc)
        .collect();
    if unready.is_empty() {
        return Readiness::Ready;
    }
    let probe = run::run_step(step, ws, Mode::DryRun, false);
    let changed_in = |report: &RunReport, name: &str| {
        report
            .files
            .iter()
            .any(|f| f.krate == name && f.status == run::FileStatus::Changed)
    };
    let blocked: Vec<&str> = unready
        .iter()
        .filter(|c| changed_in(&probe, &c.name))
        .map(|c| c.name.as_str())
        .collect();
    if blocked.is_empty() {
        return Readiness::Ready;
    }
    let step1 = run::run_step(steps::get(steps, 1), ws, Mode::Check, false);
    let skipped: Vec<&str> = blocked
        .iter()
        .copied()
        .filter(|name| !changed_in(&step1, name))
        .collect();
    if skipped.len() < blocked.len() {
        let waiting: Vec<&str> = blocked
            .iter()
            .copied()
            .filter(|name| !skipped.contains(name))
            .collect();
        return Readiness::Refused(fail(
            format!(
                "step 5 needs steps 1 and 2 first: {} {} not depend on connectrpc yet, so the Connect server step 5 would write cannot compile; nothing was changed",
                waiting
                    .iter()
                    .map(|c| format!("crate `{c}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if waiting.len() == 1 { "does" } else { "do" },
            ),
            Some("apply step 1, then step 2 (`cargo connect-migrate --step 1`), then step 5"),
        ));
    }
    // Each file of those crates the step would have rewritten or listed: one item, where the
    // step would have acted first (its first item in the file, else its first change).
    // (crate, first line the step lists, first line it changes)
    let mut files: BTreeMap<&str, (&str, Option<usize>, usize)> = BTreeMap::new();
    for f in probe
        .files
        .iter()
        .filter(|f| f.status == run::FileStatus::Changed && skipped.contains(&f.krate.as_str()))
    {
        let changed = f.diff.as_deref().map_or(1, first_changed_line);
        files.insert(&f.path, (&f.krate, None, changed));
    }
    for i in probe
        .items
        .iter()
        .filter(|i| skipped.contains(&i.krate.as_str()))
    {
        let e = files.entry(&i.path).or_insert((&i.krate, None, i.line));
        e.1 = Some(e.1.map_or(i.line, |l| l.min(i.line)));
    }
    let items = files
        .into_iter()
        .map(|(path, (krate, listed, changed))| crate::report::ItemReport {
            path: path.to_string(),
            krate: krate.to_string(),
            line: listed.unwrap_or(changed),
            column: 1,
            rule: "step05/step1-first".into(),
            kind: crate::engine::ItemKind::Manual,
            message: format!(
                "crate `{krate}` does not depend on connectrpc and step 1 cannot put it there (its stubs are generated elsewhere or checked in): its server stays on tonic"
            ),
            note: "generate the crate's stubs with connectrpc-build (or depend on a crate that does), then apply steps 1, 2 and 5".into(),
        })
        .collect();
    Readiness::Skip(skipped.iter().map(|s| s.to_string()).collect(), items)
}

/// The first line of the old text a unified diff changes (context lines skipped), 1 when there
/// is none.
fn first_changed_line(diff: &str) -> usize {
    let mut line = None;
    for l in diff.lines() {
        if let Some(rest) = l.strip_prefix("@@ -") {
            line = rest
                .split([',', ' '])
                .next()
                .and_then(|n| n.parse::<usize>().ok());
        } else if let Some(n) = line.as_mut() {
            if l.starts_with('-') || l.starts_with('+') {
                return (*n).max(1);
            }
            *n += 1;
        }
    }
    1
}

fn selection(s: &SelectArgs, paths: &[PathBuf]) -> Selection {
    Selection {
        manifest_path: s.manifest_path.clone(),
        packages: s.packages.clone(),
        workspace: s.workspace,
        exclude: s.exclude.clone(),
        paths: paths.to_vec(),
    }
}

pub fn run(cli: Cli) -> u8 {
    // `auto` leaves anstream's detection: colour on a terminal unless `NO_COLOR` is set
    // (`CLICOLOR_FORCE` forces it).
    match cli.color {
        ColorWhen::Auto => {}
        ColorWhen::Always => anstream::ColorChoice::Always.write_global(),
        ColorWhen::Never => anstream::ColorChoice::Never.write_global(),
    }
    let steps = match steps::all() {
        Ok(s) => s,
        Err(e) => return fail(format!("the embedded rules do not load: {e}"), None),
    };
    match cli.command {
        Some(Command::Plan(p)) => plan(&steps, &selection(&p.select, &[]), p.format),
        Some(Command::Demo(d)) => demo(&steps, d),
        None => migrate(&steps, &cli.migrate),
    }
}

fn migrate(steps: &[Step], a: &MigrateArgs) -> u8 {
    let Some(n) = a.step else {
        return fail(
            "nothing to do: give a step with --step N (1..=9), or a command",
            Some("`cargo connect-migrate plan` shows where each crate stands"),
        );
    };
    let shim_source = match shim_source(a) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let step = steps::get(steps, n);
    let sel = selection(&a.select, &a.paths);
    let mut ws = match workspace::discover(&sel) {
        Ok(ws) => ws,
        Err(e) => return fail(format!("{e:#}"), None),
    };
    // The steps that add connect-shim (1, 2 and 6) write the vendored copy: never over a folder
    // of that name that is not the shim.
    let vendor_dir = ws.root.join(crate::shim::VENDOR_DIR);
    if shim_source == crate::shim::ShimSource::Vendor && matches!(n, 1 | 2 | 6) {
        let existing = crate::shim::classify(
            vendor_dir.exists(),
            std::fs::read_to_string(vendor_dir.join("Cargo.toml"))
                .ok()
                .as_deref(),
        );
        if existing == crate::shim::Existing::Foreign {
            return fail(
                format!(
                    "{} exists and is not the connect-shim crate: the step cannot write the shim there",
                    vendor_dir.display()
                ),
                Some("move that folder, or pass --shim-path DIR (a checkout of connect-shim) or --shim registry"),
            );
        }
    }
    ws.options = crate::options::RunOptions {
        shim: shim_source,
        protocol: a.protocol.unwrap_or_default(),
    };
    let mode = if a.check {
        Mode::Check
    } else if a.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    for note in &ws.notes {
        warning(note);
    }
    let skipped_items = match step5_readiness(steps, step, &ws) {
        Readiness::Ready => Vec::new(),
        Readiness::Refused(code) => return code,
        Readiness::Skip(crates, items) => {
            ws.crates.retain(|c| !crates.contains(&c.name));
            items
        }
    };
    // One write run at a time: the lock is taken before the tree is checked and held until this
    // function returns (after the compiler loop restored what it had to).
    let _lock = if mode == Mode::Write {
        match lock_and_check_tree(a, &sel, &mut ws) {
            Ok(l) => Some(l),
            Err(code) => return code,
        }
    } else {
        None
    };
    // Step 1 adds connectrpc to the crates that generate code (and step 2 to the crates that
    // serve them); a workspace where no crate has it yet has skipped step 1.
    if n >= 2 && !ws.crates.iter().any(|c| c.has_connectrpc) {
        for c in &ws.crates {
            if c.tonic_req.is_some() && !c.has_connectrpc {
                warning(&format!(
                    "crate `{}` does not depend on connectrpc yet: apply step 1 first, or the rewritten code will not compile",
                    c.name
                ));
            }
        }
    }
    let checked = mode == Mode::Write && !a.no_verify && a.paths.is_empty();
    if mode == Mode::Write && !a.no_verify && !a.paths.is_empty() {
        eprintln!(
            "warning: files given as paths are not a cargo workspace: the build is not checked"
        );
    }
    let opts = crate::verify::CheckOpts {
        features: a.features.clone(),
        all_features: a.all_features,
        no_default_features: a.no_default_features,
        target: a.target.clone(),
        targets: a.check_targets(),
        broken_code: a.broken_code,
        progress: !a.no_progress,
    };
    let apply = || -> Result<RunReport, u8> {
        if !checked {
            return Ok(run::run_step(step, &ws, mode, !a.no_progress));
        }
        match crate::verify::apply_step(step, &ws, &opts, !a.no_progress) {
            crate::verify::Applied::Report(r) => Ok(r),
            crate::verify::Applied::Failed(e) => Err(fail(
                e,
                Some("pass --no-verify to apply the step without checking the build"),
            )),
            crate::verify::Applied::Refused(o) => Err(refuse_baseline(n, &o)),
        }
    };
    let report = match a.jobs {
        None => apply(),
        Some(j) => match rayon::ThreadPoolBuilder::new()
            .num_threads(j as usize)
            .build()
        {
            Ok(pool) => pool.install(apply),
            Err(e) => return fail(format!("cannot start {j} worker threads: {e}"), None),
        },
    };
    let mut report = match report {
        Ok(r) => r,
        Err(code) => return code,
    };
    report.items.extend(skipped_items);
    print_report(&report, a.format, mode)
}

/// Print a step's report in `format` (the diffs first for a human dry run) and give the exit code.
fn print_report(report: &RunReport, format: Format, mode: Mode) -> u8 {
    let out = match format {
        Format::Human => {
            if mode == Mode::DryRun {
                let diffs: String = report.files.iter().filter_map(|f| f.diff.clone()).collect();
                if run::print_stdout(&diffs).is_err() {
                    return exit::PARTIAL;
                }
            }
            anstream::eprint!("{}", report::human(report));
            String::new()
        }
        Format::Json => report::json(report),
        Format::Github => report::github(report),
        Format::Sarif => report::sarif(report),
    };
    if !out.is_empty() && run::print_stdout(&out).is_err() {
        return exit::PARTIAL;
    }
    let unchecked = report
        .verdict
        .as_ref()
        .is_some_and(|v| v.state != crate::verify::VerdictState::Checked);
    if report.failed() > 0 || unchecked {
        exit::PARTIAL
    } else if mode == Mode::Check && report.changed() > 0 {
        exit::CHANGES
    } else {
        exit::OK
    }
}

/// Where the steps that add `connect-shim` take it from (`--shim`, `--shim-path`, checked).
fn shim_source(a: &MigrateArgs) -> Result<crate::shim::ShimSource, u8> {
    Ok(match (&a.shim_path, a.shim) {
        (Some(dir), _) => {
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml"));
            let what = match &manifest {
                Err(_) => Some("no Cargo.toml there".to_string()),
                Ok(m) => match crate::shim::package_version(m) {
                    Some((name, _)) if name == "connect-shim" => None,
                    Some((name, _)) => {
                        Some(format!("that is the package `{name}`, not connect-shim"))
                    }
                    None => {
                        Some("its Cargo.toml has no [package] (not the connect-shim crate)".into())
                    }
                },
            };
            if let Some(what) = what {
                return Err(fail(
                    format!("--shim-path {}: {what}", dir.display()),
                    Some("give the directory of the connect-shim crate (the one holding its Cargo.toml), or leave --shim-path out to use the shim embedded in this tool"),
                ));
            }
            crate::shim::ShimSource::Path(dir.clone())
        }
        (None, crate::cli::ShimMode::Vendor) => crate::shim::ShimSource::Vendor,
        (None, crate::cli::ShimMode::Registry) => crate::shim::ShimSource::Registry,
    })
}

/// Take the workspace's lock (waiting for another run, then looking at the workspace again),
/// then refuse a dirty tree (unless `--allow-dirty`) or a tree outside git (unless
/// `--allow-no-vcs`). The lock is held as long as the value lives.
fn lock_and_check_tree(
    a: &MigrateArgs,
    sel: &Selection,
    ws: &mut Workspace,
) -> Result<crate::lock::WorkspaceLock, u8> {
    let path = crate::lock::lock_path(&ws.root);
    let lock = match crate::lock::try_lock(&path) {
        Ok(Some(l)) => l,
        Ok(None) => {
            status(
                "Blocking",
                &format!(
                    "waiting for another cargo-connect-migrate run on {} to finish (lock {})",
                    ws.root.display(),
                    path.display()
                ),
            );
            let l = match crate::lock::lock(&path) {
                Ok(l) => l,
                Err(e) => {
                    return Err(fail(
                        format!("cannot lock the workspace ({}): {e}", path.display()),
                        None,
                    ))
                }
            };
            // The other run may have added or removed files: look again (keeping what the
            // command line set on the workspace).
            let options = std::mem::take(&mut ws.options);
            *ws = match workspace::discover(sel) {
                Ok(ws) => ws,
                Err(e) => return Err(fail(format!("{e:#}"), None)),
            };
            ws.options = options;
            l
        }
        Err(e) => {
            return Err(fail(
                format!("cannot lock the workspace ({}): {e}", path.display()),
                None,
            ))
        }
    };
    match workspace::dirty_files(&ws.root) {
        Some(dirty) if !dirty.is_empty() && !a.allow_dirty => {
            error(&format!(
                "the working tree at {} has uncommitted changes:",
                ws.root.display()
            ));
            for f in &dirty {
                anstream::eprintln!("  {f}");
            }
            help("commit or stash them first so the migration can be reviewed as its own diff, or pass --allow-dirty");
            return Err(exit::USAGE);
        }
        Some(_) => {}
        None if !a.allow_no_vcs => {
            return Err(fail(
                format!(
                    "{} is not in a git work tree (or git cannot be run): the changes could be neither reviewed as a diff nor undone",
                    ws.root.display()
                ),
                Some("run it in a git repository (`git init && git add -A && git commit`), look first with --dry-run, or pass --allow-no-vcs"),
            ));
        }
        None => warning(&format!(
            "{} is not in a git work tree: changes cannot be reviewed or undone with git (--allow-no-vcs)",
            ws.root.display()
        )),
    }
    Ok(lock)
}

/// A workspace that does not build before the step: refused, with the first errors.
fn refuse_baseline(n: u8, o: &crate::verify::CheckOutcome) -> u8 {
    const SHOWN: usize = 3;
    for e in o.errors.iter().take(SHOWN) {
        eprintln!("{}", e.rendered.trim_end());
    }
    if o.errors.len() > SHOWN {
        eprintln!("... and {} more errors", o.errors.len() - SHOWN);
    }
    for e in &o.cargo_errors {
        eprintln!("{}", e.trim_end());
    }
    eprintln!("error: the workspace does not build before step {n}: nothing was changed");
    eprintln!("  = help: fix the build first so the step's result can be checked, or pass --broken-code to apply it anyway (or --no-verify to skip the checks)");
    exit::USAGE
}

#[derive(Serialize)]
struct StepPlan {
    step: u8,
    title: &'static str,
    /// Always true (every step exists); kept in the JSON for the consumers that read it.
    implemented: bool,
    /// `done`, `todo`, or `review` (no edits left, manual items remain).
    state: &'static str,
    files: usize,
    edits: usize,
    manual_items: usize,
    limits: &'static str,
}

#[derive(Serialize)]
struct CratePlan {
    name: String,
    manifest: String,
    tonic: Option<String>,
    connectrpc: bool,
    codegen: String,
    steps: Vec<StepPlan>,
    items: Vec<crate::report::ItemReport>,
    /// What the catalogue says of each rule of `items`.
    rules: Vec<crate::rules::catalogue::RuleInfo>,
}

fn plan(steps: &[Step], sel: &Selection, format: Format) -> u8 {
    let ws = match workspace::discover(sel) {
        Ok(ws) => ws,
        Err(e) => return fail(format!("{e:#}"), None),
    };
    let reports: Vec<(u8, RunReport)> = steps
        .iter()
        .map(|s| (s.number, run::run_step(s, &ws, Mode::Check, false)))
        .collect();
    let plans = crate_plans(steps, &ws, &reports);
    match format {
        Format::Json => {
            let _ = run::print_stdout(
                &(serde_json::to_string_pretty(&plans).expect("plan serializes") + "\n"),
            );
        }
        Format::Human => {
            let _ = run::print_stdout(&plan_human(&plans));
        }
        Format::Github => {
            let mut out: String = reports
                .iter()
                .map(|(_, r)| report::github_annotations(r))
                .collect();
            out.push_str(&plan_total(&plans));
            out.push('\n');
            let _ = run::print_stdout(&out);
        }
        Format::Sarif => {
            let rs: Vec<&RunReport> = reports.iter().map(|(_, r)| r).collect();
            let _ = run::print_stdout(&report::sarif_of(&rs));
        }
    }
    let failed = reports.iter().any(|(_, r)| r.failed() > 0);
    if failed {
        exit::PARTIAL
    } else {
        exit::OK
    }
}

fn crate_plans(steps: &[Step], ws: &Workspace, reports: &[(u8, RunReport)]) -> Vec<CratePlan> {
    let by_name: BTreeMap<String, &workspace::Crate> =
        ws.crates.iter().map(|c| (c.name.clone(), c)).collect();
    ws.crates
        .iter()
        .map(|c| {
            let mut items = Vec::new();
            let step_plans = reports
                .iter()
                .map(|(n, r)| {
                    let s = steps::get(steps, *n);
                    let files: Vec<_> = r.files.iter().filter(|f| f.krate == c.name).collect();
                    let its: Vec<_> = r
                        .items
                        .iter()
                        .filter(|i| i.krate == c.name)
                        .cloned()
                        .collect();
                    let edits = files.iter().map(|f| f.edits).sum();
                    let state = if edits > 0 || files.iter().any(|f| f.error.is_some()) {
                        "todo"
                    } else if its
                        .iter()
                        .any(|i| i.kind != crate::engine::ItemKind::Skipped)
                    {
                        "review"
                    } else {
                        "done"
                    };
                    let p = StepPlan {
                        step: *n,
                        title: s.title(),
                        implemented: true,
                        state,
                        files: files.len(),
                        edits,
                        manual_items: its.len(),
                        limits: s.limits,
                    };
                    items.extend(its);
                    p
                })
                .collect();
            CratePlan {
                name: c.name.clone(),
                manifest: workspace::rel(&ws.root, &c.manifest_path),
                tonic: c.tonic_req.clone(),
                connectrpc: c.has_connectrpc,
                codegen: workspace::codegen_kind(c, &by_name),
                steps: step_plans,
                rules: report::rules_of(&items),
                items,
            }
        })
        .collect()
}

fn plan_human(plans: &[CratePlan]) -> String {
    let mut s = String::new();
    for p in plans {
        let _ = writeln!(s, "{} ({})", p.name, p.manifest);
        let _ = writeln!(
            s,
            "  tonic: {}   connectrpc: {}   codegen: {}",
            p.tonic.as_deref().unwrap_or("none"),
            if p.connectrpc { "yes" } else { "no" },
            p.codegen
        );
        for st in &p.steps {
            let what = match st.state {
                "done" => "done (nothing to change)".to_string(),
                _ => format!(
                    "{}: {} in {}, {} to review",
                    st.state,
                    report::plural(st.edits, "edit", "edits"),
                    report::plural(st.files, "file", "files"),
                    report::plural(st.manual_items, "item", "items")
                ),
            };
            let _ = writeln!(s, "  step {} {:<64} {what}", st.step, st.title);
        }
        if !p.items.is_empty() {
            let _ = writeln!(s, "  needs a human:");
            for i in &p.items {
                let _ = writeln!(
                    s,
                    "    {}:{}:{} [{}] {}",
                    i.path, i.line, i.column, i.rule, i.message
                );
            }
            let _ = writeln!(s, "  rules:");
            for r in &p.rules {
                let _ = writeln!(s, "    {}: {}", r.id, r.message);
                if !r.note.is_empty() {
                    let _ = writeln!(s, "      = help: {}", r.note);
                }
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "{}", plan_total(plans));
    s
}

/// "1 crate, 2 items need a human".
fn plan_total(plans: &[CratePlan]) -> String {
    let total: usize = plans.iter().map(|p| p.items.len()).sum();
    format!(
        "{}, {} a human",
        report::plural(plans.len(), "crate", "crates"),
        report::plural(total, "item needs", "items need")
    )
}

/// The demo's folder: `--out` when it is new, empty or an earlier demo (cleared, its `target/`
/// kept), else refused before anything is written; a fresh temporary folder without `--out`.
fn demo_dir(out: Option<PathBuf>) -> Result<PathBuf, u8> {
    use crate::demo::{self, runner, OutDir};
    match out {
        Some(d) => {
            match demo::classify(&d) {
                Ok(OutDir::Empty) => {}
                Ok(OutDir::EarlierDemo) => {
                    eprintln!(
                        "Replacing the earlier demo at {} (its target/ is kept)",
                        d.display()
                    );
                    if let Err(e) = runner::clear_earlier(&d) {
                        return Err(fail(
                            format!("cannot clear the earlier demo at {}: {e}", d.display()),
                            None,
                        ));
                    }
                }
                Ok(OutDir::Taken(_)) if !d.is_dir() => {
                    return Err(fail(
                        format!(
                            "--out {}: that is a file, not a folder; nothing was written",
                            d.display()
                        ),
                        Some("give a new or empty folder"),
                    ));
                }
                Ok(OutDir::Taken(names)) => {
                    let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
                    let more = if names.len() > 5 { ", ..." } else { "" };
                    return Err(fail(
                        format!(
                            "--out {}: not an empty folder nor an earlier demo (it holds {}{more}); nothing was written",
                            d.display(),
                            shown.join(", ")
                        ),
                        Some("give a new or empty folder; a folder an earlier demo wrote (it has a .connect-migrate-demo file) is replaced"),
                    ));
                }
                Err(e) => return Err(fail(format!("--out {}: {e}", d.display()), None)),
            }
            Ok(d)
        }
        None => match tempfile::Builder::new()
            .prefix("connect-migrate-demo-")
            .tempdir()
        {
            Ok(t) => Ok(t.keep()),
            Err(e) => Err(fail(
                format!("cannot create a temporary directory: {e}"),
                None,
            )),
        },
    }
}

fn demo(steps: &[Step], args: crate::cli::DemoArgs) -> u8 {
    use crate::demo::{self, runner, Row};
    // Everything that can refuse does so before anything is written.
    if !runner::git_available() {
        return fail(
            "the demo keeps each step as a git commit, and `git` cannot be run here",
            Some("install git and run the demo again"),
        );
    }
    let protoc = if args.build {
        match runner::protoc_env() {
            Ok(env) => env,
            Err(e) => return fail(e, None),
        }
    } else {
        Vec::new()
    };
    let dir = match demo_dir(args.out.clone()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if let Err(e) = crate::demo::write(&dir) {
        return fail(
            format!("cannot write the demo workspace to {}: {e}", dir.display()),
            None,
        );
    }
    let dir = dir.canonicalize().unwrap_or(dir);
    if let Err(e) = runner::init_repo(&dir).and_then(|()| {
        runner::commit_all(
            &dir,
            "step 0: the tonic greeter (demo of cargo connect-migrate)",
        )
    }) {
        return fail(format!("cannot make the demo a git repository: {e}"), None);
    }
    eprintln!(
        "Wrote the demo tonic workspace to {} (a git repository: one commit per step)",
        dir.display()
    );
    let manifest = dir.join("Cargo.toml");
    let sel = Selection {
        manifest_path: Some(manifest.clone()),
        ..Default::default()
    };
    eprintln!(
        "\n$ cargo connect-migrate plan --manifest-path {}",
        manifest.display()
    );
    let code = plan(steps, &sel, Format::Human);
    if code != exit::OK {
        return code;
    }

    let implemented: Vec<u8> = steps.iter().map(|s| s.number).collect();
    let until = args.until_step.unwrap_or(9);
    let (to_apply, rest): (Vec<u8>, Vec<u8>) = implemented.iter().partition(|&&n| n <= until);

    // Step 0, built and called by itself: the baseline every later step is measured against.
    let mut rows: Vec<Row> = Vec::new();
    let mut step0_bins: Option<PathBuf> = None;
    if args.build {
        eprintln!(
            "\n    Building step 0 (the first build compiles the tonic dependency graph: minutes)"
        );
        let (row, bins) = demo_step0_row(&dir, &protoc);
        step0_bins = bins;
        eprint!("\n{}", demo::table(std::slice::from_ref(&row)));
        rows.push(row);
    }

    let mut applied = Vec::new();
    let mut last_bins = step0_bins.clone();
    for n in &to_apply {
        let s = steps::get(steps, *n);
        eprintln!(
            "\n$ cargo connect-migrate --step {n} --no-verify --manifest-path {}",
            manifest.display()
        );
        let argv = demo_step_argv(*n, &manifest);
        let cli = match crate::cli::parse_from(argv) {
            Ok(c) => c,
            Err(e) => return fail(format!("the demo's own arguments do not parse: {e}"), None),
        };
        let code = migrate(steps, &cli.migrate);
        if code != exit::OK {
            return code;
        }
        let changed = match runner::commit_all(&dir, &format!("step {n}: {}", s.title())) {
            Ok(c) => c,
            Err(e) => return fail(format!("cannot commit step {n} in the demo: {e}"), None),
        };
        applied.push(*n);
        if let Ok(hash) = runner::git(&dir, &["rev-parse", "--short", "HEAD"]) {
            eprintln!("    Committed step {n} as {} (git show {0})", hash.trim());
        }
        if let Some(bins0) = &step0_bins {
            // A step that changed nothing runs the binaries of the step before.
            let built = match (&last_bins, changed) {
                (Some(prev), false) => {
                    eprintln!("\n    Step {n} changed nothing: its binaries are the step before's");
                    Ok(prev.clone())
                }
                _ => {
                    eprintln!("\n    Building step {n}");
                    runner::build(&dir, &format!("step-{n}"), &protoc)
                }
            };
            last_bins = built.as_ref().ok().cloned();
            let row = demo_row(*n, built, bins0);
            eprint!("\n{}", demo::table(std::slice::from_ref(&row)));
            rows.push(row);
        } else if args.build {
            rows.push(Row {
                step: *n,
                builds: None,
                calls: Vec::new(),
            });
        }
    }
    let mut out = String::new();
    if args.build {
        out.push('\n');
        out.push_str(&demo::table(&rows));
    }
    out.push('\n');
    out.push_str(&demo::closing(&dir, &applied, &rest, args.build));
    if run::print_stdout(&out).is_err() {
        return exit::PARTIAL;
    }
    if rows.iter().all(Row::ok) {
        exit::OK
    } else {
        eprintln!("error: not every step of the demo built and answered every call (table above)");
        exit::PARTIAL
    }
}

/// The command line of the demo's step `n`: the default flags, as a user would type them (the
/// embedded shim is vendored into the demo by the step that first needs it), but `--no-verify`:
/// with `--build` the demo builds and calls every step itself (more than the compiler loop's
/// `cargo check`), and without it the demo only shows the edits, in seconds.
fn demo_step_argv(n: u8, manifest: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "cargo-connect-migrate".into(),
        "--step".into(),
        n.to_string().into(),
        "--no-verify".into(),
        "--manifest-path".into(),
        manifest.into(),
        "--no-progress".into(),
    ]
}

/// Step 0 built and called by itself: its row and, when it built, where its binaries are.
fn demo_step0_row(
    dir: &Path,
    protoc: &[(&'static str, std::ffi::OsString)],
) -> (crate::demo::Row, Option<PathBuf>) {
    use crate::demo::{runner, Row};
    match runner::build(dir, "step-0", protoc) {
        Ok(bins) => {
            let client = runner::bin(&bins, runner::CLIENT);
            let server = runner::bin(&bins, runner::SERVER);
            let calls = runner::call(&client, &server);
            (
                Row {
                    step: 0,
                    builds: Some(true),
                    calls: vec![("step-0 client -> step-0 server".into(), calls)],
                },
                Some(bins),
            )
        }
        Err(e) => {
            eprintln!("{}", e.trim_end());
            (
                Row {
                    step: 0,
                    builds: Some(false),
                    calls: Vec::new(),
                },
                None,
            )
        }
    }
}

/// The table row of step `n`: whether it built, and the calls between its binaries and step 0's.
fn demo_row(n: u8, built: Result<PathBuf, String>, bins0: &Path) -> crate::demo::Row {
    use crate::demo::{runner, Row};
    match built {
        Ok(bins) => {
            let old_client = runner::bin(bins0, runner::CLIENT);
            let old_server = runner::bin(bins0, runner::SERVER);
            let client = runner::bin(&bins, runner::CLIENT);
            let server = runner::bin(&bins, runner::SERVER);
            Row {
                step: n,
                builds: Some(true),
                calls: vec![
                    (
                        "step-0 client -> this server".into(),
                        runner::call(&old_client, &server),
                    ),
                    (
                        "this client -> step-0 server".into(),
                        runner::call(&client, &old_server),
                    ),
                ],
            }
        }
        Err(e) => {
            eprintln!("{}", e.trim_end());
            Row {
                step: n,
                builds: Some(false),
                calls: Vec::new(),
            }
        }
    }
}

/// Where the demo's files come from, for tests.
pub fn demo_root() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/greeter/step-0"
    ))
}
