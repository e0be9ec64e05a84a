//! Rendering reports: cargo-style human text, JSON for machines, GitHub workflow annotations.

use std::fmt::Write as _;

use serde::Serialize;

use crate::engine::ItemKind;
use crate::rules::catalogue::{self, RuleInfo};
use crate::run::{FileStatus, Mode, RunReport};

/// A site the tool did not migrate, located in the workspace (file, line, crate), for every
/// output format.
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Format {
    Human,
    Json,
    Github,
    /// SARIF 2.1.0, for code-scanning uploads.
    Sarif,
}

/// cargo's colours: green bold verbs, yellow warnings, red errors. Text is styled always and
/// printed through `anstream`, which strips the styles when colour is off (`--color`,
/// `NO_COLOR`, not a terminal).
pub mod style {
    use anstyle::{AnsiColor, Style};
    pub const VERB: Style = AnsiColor::Green.on_default().bold();
    pub const WARNING: Style = AnsiColor::Yellow.on_default().bold();
    pub const ERROR: Style = AnsiColor::Red.on_default().bold();
    pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
}

/// `text` in `style`.
pub fn paint(style: anstyle::Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Human report: per-file lines, then manual items, then counts last.
pub fn human(r: &RunReport) -> String {
    let mut s = String::new();
    let verb = match r.mode {
        Mode::Write => "Migrated",
        Mode::DryRun | Mode::Check => "Would migrate",
    };
    for f in &r.files {
        match f.status {
            FileStatus::Changed if f.created => {
                let created = match r.mode {
                    Mode::Write => "Created",
                    Mode::DryRun | Mode::Check => "Would create",
                };
                let _ = writeln!(
                    s,
                    "{} {}",
                    paint(style::VERB, &format!("{created:>13}")),
                    f.path
                );
            }
            FileStatus::Changed if f.deleted => {
                let deleted = match r.mode {
                    Mode::Write => "Deleted",
                    Mode::DryRun | Mode::Check => "Would delete",
                };
                let _ = writeln!(s, "{deleted:>13} {}", f.path);
            }
            FileStatus::Changed => {
                let _ = writeln!(
                    s,
                    "{} {} ({})",
                    paint(style::VERB, &format!("{verb:>13}")),
                    f.path,
                    plural(f.edits, "edit", "edits")
                );
            }
            FileStatus::Failed => {
                let _ = writeln!(
                    s,
                    "{}: {}{}: {}",
                    paint(style::ERROR, "error"),
                    f.path,
                    location(f.line, f.column),
                    f.error.as_deref().unwrap_or("failed")
                );
            }
        }
    }
    for i in &r.items {
        item_human(&mut s, i);
    }
    let _ = writeln!(s, "{}", summary(r));
    if let Some(v) = &r.verdict {
        let _ = writeln!(s, "{}", v.text);
    }
    s
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        _ => String::new(),
    }
}

fn item_human(s: &mut String, i: &ItemReport) {
    let (level, st) = match i.kind {
        ItemKind::Manual => ("manual", style::WARNING),
        ItemKind::Unsure => ("unsure", style::WARNING),
        ItemKind::Skipped => ("skipped", style::NOTE),
    };
    let _ = writeln!(
        s,
        "{}: {}:{}:{}: {}",
        paint(st, &format!("{level}[{}]", i.rule)),
        i.path,
        i.line,
        i.column,
        i.message
    );
    if !i.note.is_empty() {
        let _ = writeln!(s, "  {} {}", paint(style::NOTE, "= help:"), i.note);
    }
}

pub fn summary(r: &RunReport) -> String {
    let count = |k: ItemKind| r.items.iter().filter(|i| i.kind == k).count();
    let verb = match r.mode {
        Mode::Write => "changed",
        Mode::DryRun | Mode::Check => "would change",
    };
    let mut s = format!(
        "Summary: step {} ({}): {} {verb} ({}), {} ({} manual, {} unsure, {} skipped)",
        r.step,
        r.title,
        plural(r.changed(), "file", "files"),
        plural(r.edits(), "edit", "edits"),
        plural(r.items.len(), "item to review", "items to review"),
        count(ItemKind::Manual),
        count(ItemKind::Unsure),
        count(ItemKind::Skipped),
    );
    if r.failed() > 0 {
        let _ = write!(
            s,
            ", {} could not be processed",
            plural(r.failed(), "file", "files")
        );
    }
    s
}

pub fn json(r: &RunReport) -> String {
    #[derive(Serialize)]
    struct Counts {
        files_changed: usize,
        edits: usize,
        manual_items: usize,
        files_failed: usize,
        files_scanned: usize,
        files_parsed: usize,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        report: &'a RunReport,
        counts: Counts,
        /// What the catalogue says of each rule of the items.
        rules: Vec<RuleInfo>,
    }
    let out = Out {
        report: r,
        rules: rules_of(&r.items),
        counts: Counts {
            files_changed: r.changed(),
            edits: r.edits(),
            manual_items: r.items.len(),
            files_failed: r.failed(),
            files_scanned: r.files_scanned,
            files_parsed: r.files_parsed,
        },
    };
    serde_json::to_string_pretty(&out).expect("report serializes") + "\n"
}

/// The catalogue's entries of the rules of `items`, each once, sorted by id.
pub fn rules_of(items: &[ItemReport]) -> Vec<RuleInfo> {
    catalogue::embedded().describe(items.iter().map(|i| i.rule.as_str()))
}

fn gh_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_prop(s: &str) -> String {
    gh_escape(s).replace(':', "%3A").replace(',', "%2C")
}

/// SARIF 2.1.0: one result per manual item, per failed file and per file the step changed (or
/// would change).
pub fn sarif(r: &RunReport) -> String {
    sarif_of(&[r])
}

/// SARIF of several step runs (`plan`): one run of the tool, the results of every step.
pub fn sarif_of(reports: &[&RunReport]) -> String {
    use serde_json::json;
    let mut rules: Vec<String> = vec!["connect-migrate/file".into()];
    let mut results = Vec::new();
    for r in reports {
        let change_rule = format!("step{:02}/change", r.step);
        for f in &r.files {
            match f.status {
                FileStatus::Failed => results.push(json!({
                    "ruleId": "connect-migrate/file",
                    "level": "error",
                    "message": { "text": f.error.clone().unwrap_or_default() },
                    "locations": [{ "physicalLocation": {
                        "artifactLocation": { "uri": f.path },
                        "region": { "startLine": f.line.unwrap_or(1), "startColumn": f.column.unwrap_or(1) }
                    }}]
                })),
                FileStatus::Changed => {
                    rules.push(change_rule.clone());
                    results.push(json!({
                        "ruleId": change_rule,
                        "level": "note",
                        "message": { "text": change_text(r, f) },
                        "locations": [{ "physicalLocation": {
                            "artifactLocation": { "uri": f.path },
                            "region": { "startLine": 1, "startColumn": 1 }
                        }}]
                    }));
                }
            }
        }
        for i in &r.items {
            rules.push(i.rule.clone());
            let level = match i.kind {
                ItemKind::Manual | ItemKind::Unsure => "warning",
                ItemKind::Skipped => "note",
            };
            let text = if i.note.is_empty() {
                i.message.clone()
            } else {
                format!("{} (help: {})", i.message, i.note)
            };
            results.push(json!({
                "ruleId": i.rule,
                "level": level,
                "message": { "text": text },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": i.path },
                    "region": { "startLine": i.line, "startColumn": i.column }
                }}]
            }));
        }
    }
    rules.sort();
    rules.dedup();
    let doc = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": {
                "name": "cargo-connect-migrate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": catalogue::embedded()
                    .describe(rules.iter().map(String::as_str))
                    .iter()
                    .map(sarif_rule)
                    .collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&doc).expect("SARIF serializes") + "\n"
}

/// A SARIF `reportingDescriptor`: the catalogue's message as the short description, its note
/// as the help.
fn sarif_rule(r: &RuleInfo) -> serde_json::Value {
    let mut d = serde_json::json!({
        "id": r.id,
        "shortDescription": { "text": r.message },
    });
    if !r.note.is_empty() {
        d["help"] = serde_json::json!({ "text": r.note });
    }
    d
}

/// "step 3 would change this file (2 edits)", "step 1 created this file".
fn change_text(r: &RunReport, f: &crate::run::FileReport) -> String {
    match (r.mode, f.created) {
        (Mode::Write, true) => format!("step {} created this file", r.step),
        (_, true) => format!("step {} would create this file", r.step),
        (Mode::Write, false) => format!(
            "step {} changed this file ({})",
            r.step,
            plural(f.edits, "edit", "edits")
        ),
        (_, false) => format!(
            "step {} would change this file ({})",
            r.step,
            plural(f.edits, "edit", "edits")
        ),
    }
}

/// GitHub workflow commands: one annotation per manual item and failed file (and per file a
/// `--check` or `--dry-run` would change), then the summary.
pub fn github(r: &RunReport) -> String {
    let mut s = github_annotations(r);
    let _ = writeln!(s, "{}", summary(r));
    if let Some(v) = &r.verdict {
        let _ = writeln!(s, "{}", v.text);
    }
    s
}

/// The annotations of [`github`], without the summary line.
pub fn github_annotations(r: &RunReport) -> String {
    let mut s = String::new();
    for f in &r.files {
        match f.status {
            FileStatus::Failed => {
                let _ = writeln!(
                    s,
                    "::error file={}{},title={}::{}",
                    gh_prop(&f.path),
                    match (f.line, f.column) {
                        (Some(l), Some(c)) => format!(",line={l},col={c}"),
                        _ => String::new(),
                    },
                    gh_prop("connect-migrate"),
                    gh_escape(f.error.as_deref().unwrap_or("failed"))
                );
            }
            FileStatus::Changed if r.mode != Mode::Write => {
                let _ = writeln!(
                    s,
                    "::notice file={},title={}::{}",
                    gh_prop(&f.path),
                    gh_prop(&format!("connect-migrate step {}", r.step)),
                    gh_escape(&change_text(r, f))
                );
            }
            FileStatus::Changed => {}
        }
    }
    for i in &r.items {
        let level = match i.kind {
            ItemKind::Manual | ItemKind::Unsure => "warning",
            ItemKind::Skipped => "notice",
        };
        let msg = if i.note.is_empty() {
            i.message.clone()
        } else {
            format!("{}\nhelp: {}", i.message, i.note)
        };
        let _ = writeln!(
            s,
            "::{level} file={},line={},col={},title={}::{}",
            gh_prop(&i.path),
            i.line,
            i.column,
            gh_prop(&i.rule),
            gh_escape(&msg)
        );
    }
    s
}
