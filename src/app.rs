//! The commands: a step run, `plan`, `demo`. Every user-facing error is printed here, with the
//! exit code the README documents.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{Cli, Command, MigrateArgs, SelectArgs};
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
    eprintln!("error: {msg}");
    if let Some(h) = hint {
        eprintln!("  = help: {h}");
    }
    exit::USAGE
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
    let steps = match steps::all() {
        Ok(s) => s,
        Err(e) => return fail(format!("the embedded rules do not load: {e}"), None),
    };
    match cli.command {
        Some(Command::Plan(p)) => plan(&steps, &selection(&p.select, &[]), p.format),
        Some(Command::Demo(d)) => demo(&steps, d.out),
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
    if let Some(dir) = &a.shim_path {
        if !dir.join("Cargo.toml").is_file() {
            return fail(
                format!("--shim-path {}: no Cargo.toml there", dir.display()),
                Some("give the directory of the connect-shim crate"),
            );
        }
        let _ = steps::step01::SHIM_PATH.set(dir.clone());
    }
    if let Some(p) = a.protocol {
        let _ = steps::step06::PROTOCOL.set(p);
    }
    let step = steps::get(steps, n);
    if !step.implemented {
        return fail(
            format!(
                "step {n} ({}) is not implemented in this version of cargo-connect-migrate",
                step.title()
            ),
            Some("`cargo connect-migrate plan` lists the steps this version implements"),
        );
    }
    let ws = match workspace::discover(&selection(&a.select, &a.paths)) {
        Ok(ws) => ws,
        Err(e) => return fail(format!("{e:#}"), None),
    };
    let mode = if a.check {
        Mode::Check
    } else if a.dry_run {
        Mode::DryRun
    } else {
        Mode::Write
    };
    if mode == Mode::Write && !a.allow_dirty {
        match workspace::dirty_files(&ws.root) {
            Some(dirty) if !dirty.is_empty() => {
                eprintln!(
                    "error: the working tree at {} has uncommitted changes:",
                    ws.root.display()
                );
                for f in &dirty {
                    eprintln!("  {f}");
                }
                eprintln!("  = help: commit or stash them first so the migration can be reviewed as its own diff, or pass --allow-dirty");
                return exit::USAGE;
            }
            Some(_) => {}
            None => eprintln!(
                "warning: {} is not in a git work tree: changes cannot be reviewed or undone with git",
                ws.root.display()
            ),
        }
    }
    // Step 1 adds connectrpc to the crates that generate code (and step 2 to the crates that
    // serve them); a workspace where no crate has it yet has skipped step 1.
    if n >= 2 && !ws.crates.iter().any(|c| c.has_connectrpc) {
        for c in &ws.crates {
            if c.tonic_req.is_some() && !c.has_connectrpc {
                eprintln!(
                    "warning: crate `{}` does not depend on connectrpc yet: apply step 1 first, or the rewritten code will not compile",
                    c.name
                );
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
    let report = match report {
        Ok(r) => r,
        Err(code) => return code,
    };
    let out = match a.format {
        Format::Human => {
            if mode == Mode::DryRun {
                let diffs: String = report.files.iter().filter_map(|f| f.diff.clone()).collect();
                if run::print_stdout(&diffs).is_err() {
                    return exit::PARTIAL;
                }
            }
            eprint!("{}", report::human(&report));
            String::new()
        }
        Format::Json => report::json(&report),
        Format::Github => report::github(&report),
        Format::Sarif => report::sarif(&report),
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
    implemented: bool,
    /// `done`, `todo`, `review` (no edits left, manual items remain), or `not-implemented`.
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
    items: Vec<run::ItemReport>,
}

fn plan(steps: &[Step], sel: &Selection, format: Format) -> u8 {
    let ws = match workspace::discover(sel) {
        Ok(ws) => ws,
        Err(e) => return fail(format!("{e:#}"), None),
    };
    let reports: Vec<(u8, Option<RunReport>)> = steps
        .iter()
        .map(|s| {
            (
                s.number,
                s.implemented
                    .then(|| run::run_step(s, &ws, Mode::Check, false)),
            )
        })
        .collect();
    let plans = crate_plans(steps, &ws, &reports);
    match format {
        Format::Json => {
            let _ = run::print_stdout(
                &(serde_json::to_string_pretty(&plans).expect("plan serializes") + "\n"),
            );
        }
        Format::Human | Format::Github | Format::Sarif => {
            let _ = run::print_stdout(&plan_human(&plans));
        }
    }
    let failed = reports
        .iter()
        .filter_map(|(_, r)| r.as_ref())
        .any(|r| r.failed() > 0);
    if failed {
        exit::PARTIAL
    } else {
        exit::OK
    }
}

fn crate_plans(
    steps: &[Step],
    ws: &Workspace,
    reports: &[(u8, Option<RunReport>)],
) -> Vec<CratePlan> {
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
                    match r {
                        None => StepPlan {
                            step: *n,
                            title: s.title(),
                            implemented: false,
                            state: "not-implemented",
                            files: 0,
                            edits: 0,
                            manual_items: 0,
                            limits: s.limits,
                        },
                        Some(r) => {
                            let files: Vec<_> =
                                r.files.iter().filter(|f| f.krate == c.name).collect();
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
                        }
                    }
                })
                .collect();
            CratePlan {
                name: c.name.clone(),
                manifest: workspace::rel(&ws.root, &c.manifest_path),
                tonic: c.tonic_req.clone(),
                connectrpc: c.has_connectrpc,
                codegen: workspace::codegen_kind(c, &by_name),
                steps: step_plans,
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
                "not-implemented" => "not implemented in this version".to_string(),
                "done" => "done (nothing to change)".to_string(),
                _ => format!(
                    "{}: {} edits in {} files, {} items to review",
                    st.state, st.edits, st.files, st.manual_items
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
        }
        let _ = writeln!(s);
    }
    let total: usize = plans.iter().map(|p| p.items.len()).sum();
    let _ = writeln!(s, "{} crates, {} items need a human", plans.len(), total);
    s
}

fn demo(steps: &[Step], out: Option<PathBuf>) -> u8 {
    let dir = match out {
        Some(d) => d,
        None => match tempfile::Builder::new()
            .prefix("connect-migrate-demo-")
            .tempdir()
        {
            Ok(t) => t.keep(),
            Err(e) => return fail(format!("cannot create a temporary directory: {e}"), None),
        },
    };
    if let Err(e) = crate::demo::write(&dir) {
        return fail(
            format!("cannot write the demo workspace to {}: {e}", dir.display()),
            None,
        );
    }
    eprintln!("Wrote the demo tonic workspace to {}", dir.display());
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
    for s in steps.iter().filter(|s| s.implemented) {
        eprintln!(
            "\n$ cargo connect-migrate --step {} --dry-run --manifest-path {}",
            s.number,
            manifest.display()
        );
        let args = MigrateArgs {
            step: Some(s.number),
            dry_run: true,
            check: false,
            allow_dirty: false,
            verify: false,
            no_verify: true,
            broken_code: false,
            features: Vec::new(),
            all_features: false,
            no_default_features: false,
            target: None,
            shim_path: None,
            protocol: None,
            select: SelectArgs {
                manifest_path: Some(manifest.clone()),
                ..Default::default()
            },
            format: Format::Human,
            no_progress: true,
            jobs: None,
            paths: Vec::new(),
        };
        let code = migrate(steps, &args);
        if code > exit::CHANGES {
            return code;
        }
        // Apply the complete steps, so the next step's dry run starts from their result (the
        // demo directory is not a git tree: nothing to protect). The last step has no next one:
        // its dry run is the demo.
        let last = steps
            .iter()
            .filter(|x| x.implemented)
            .map(|x| x.number)
            .max();
        if !s.limits.starts_with("partial") && Some(s.number) != last {
            eprintln!(
                "\n$ cargo connect-migrate --step {} --manifest-path {}",
                s.number,
                manifest.display()
            );
            let apply = MigrateArgs {
                dry_run: false,
                allow_dirty: true,
                ..args
            };
            let code = migrate(steps, &apply);
            if code != exit::OK {
                return code;
            }
        }
    }
    eprintln!(
        "\nThe demo workspace is at {}; apply a step there with --step N.",
        dir.display()
    );
    exit::OK
}

/// Where the demo's files come from, for tests.
pub fn demo_root() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/greeter/step-0"
    ))
}
