//! The bundled demo: the `greeter` fixture's step-0 tree, shipped inside the binary, and what the
//! `demo` command says about it. This module is the pure part (which folder may take a demo, the
//! client's verdicts, the table, the closing lines); [`runner`] does the IO (git, cargo, the
//! server and client processes).
//!
//! The files come from `templates/demo/`, a copy of `fixtures/greeter/step-0/` (its manifest
//! stored as `Cargo.toml.in`: `cargo package` leaves out folders holding a `Cargo.toml`, so the
//! packaged crate could not include the fixture itself). `tests/cli.rs` checks that the copy
//! equals the fixture byte for byte.

pub mod runner;

use std::fmt::Write as _;
use std::path::Path;

/// (relative path, contents) of every file of the demo workspace.
pub const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../templates/demo/Cargo.toml.in"),
    ),
    ("build.rs", include_str!("../../templates/demo/build.rs")),
    (
        "proto/helloworld.proto",
        include_str!("../../templates/demo/proto/helloworld.proto"),
    ),
    (
        "src/lib.rs",
        include_str!("../../templates/demo/src/lib.rs"),
    ),
    (
        "src/bin/greeter-server.rs",
        include_str!("../../templates/demo/src/bin/greeter-server.rs"),
    ),
    (
        "src/bin/greeter-client.rs",
        include_str!("../../templates/demo/src/bin/greeter-client.rs"),
    ),
];

/// The file that marks a folder as written by `demo`: a later `demo --out` may replace such a
/// folder, and no other non-empty one.
pub const MARKER: &str = ".connect-migrate-demo";

/// The marker's text (its first line is what [`classify`] recognises).
pub const MARKER_TEXT: &str = "This folder was written by `cargo connect-migrate demo`; a later `demo --out` here replaces it.\n";

/// What the demo leaves out of its git history: build output and the lock file (so `git log -p`
/// shows the steps' edits alone).
pub const GITIGNORE: &str = "/target\n/Cargo.lock\n";

/// What `--out DIR` points at.
#[derive(Debug, PartialEq, Eq)]
pub enum OutDir {
    /// Nothing there yet, or an empty folder.
    Empty,
    /// A folder an earlier demo wrote ([`MARKER`]): replaced, its `target/` kept for the build.
    EarlierDemo,
    /// Anything else: refused. The entries found (a few, sorted), to say why.
    Taken(Vec<String>),
}

/// Classify `dir` for `demo --out` without writing anything.
pub fn classify(dir: &Path) -> std::io::Result<OutDir> {
    if !dir.exists() {
        return Ok(OutDir::Empty);
    }
    if !dir.is_dir() {
        return Ok(OutDir::Taken(vec![dir.display().to_string()]));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()?;
    if names.is_empty() {
        return Ok(OutDir::Empty);
    }
    let first_line = MARKER_TEXT.lines().next().unwrap_or_default();
    let marked = std::fs::read_to_string(dir.join(MARKER))
        .is_ok_and(|t| t.lines().next() == Some(first_line));
    if marked {
        return Ok(OutDir::EarlierDemo);
    }
    names.sort();
    Ok(OutDir::Taken(names))
}

/// Write the demo workspace into `dir` (created if needed), with its [`MARKER`] and `.gitignore`.
pub fn write(dir: &Path) -> std::io::Result<()> {
    let extra = [(MARKER, MARKER_TEXT), (".gitignore", GITIGNORE)];
    for (rel, text) in FILES.iter().chain(extra.iter()) {
        let p = dir.join(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, text)?;
    }
    Ok(())
}

/// What one run of a greeter client said: its `ok   <check>` and `FAIL <check>` lines.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Calls {
    pub ok: usize,
    pub failed: usize,
    /// Why the run said nothing usable (did not start, no server, timed out, exit status).
    pub error: Option<String>,
}

impl Calls {
    /// Read a client's stdout; `exit` is `None` when it succeeded, else what went wrong.
    pub fn from_output(stdout: &str, exit: Option<String>) -> Calls {
        let ok = stdout.lines().filter(|l| l.starts_with("ok ")).count();
        let failed = stdout.lines().filter(|l| l.starts_with("FAIL ")).count();
        // A client that failed without a failed check (it could not connect, it panicked) did not
        // have its calls answered.
        let error = match exit {
            Some(e) if failed == 0 => Some(e),
            _ if ok + failed == 0 => Some("the client printed no check".to_string()),
            _ => None,
        };
        Calls { ok, failed, error }
    }

    pub fn all_answered(&self) -> bool {
        self.error.is_none() && self.failed == 0 && self.ok > 0
    }

    fn cell(&self) -> String {
        match &self.error {
            Some(e) => format!("0 ({e})"),
            None => format!("{}/{}", self.ok, self.ok + self.failed),
        }
    }
}

/// One line of the `--build` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub step: u8,
    /// `None`: not built (an earlier failure stopped the run).
    pub builds: Option<bool>,
    /// (which client against which server, what it said).
    pub calls: Vec<(String, Calls)>,
}

impl Row {
    pub fn ok(&self) -> bool {
        self.builds == Some(true)
            && !self.calls.is_empty()
            && self.calls.iter().all(|(_, c)| c.all_answered())
    }
}

/// The `--build` table: `step | builds | calls answered`.
pub fn table(rows: &[Row]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "step | builds | calls answered");
    let _ = writeln!(s, "-----+--------+---------------");
    for r in rows {
        let builds = match r.builds {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        let calls = if r.calls.is_empty() {
            "-".to_string()
        } else {
            r.calls
                .iter()
                .map(|(label, c)| format!("{} {label}", c.cell()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(s, "{:>4} | {builds:<6} | {calls}", r.step);
    }
    s
}

/// `1-9`, `1-3, 5`, `1`: step numbers as a reader says them.
pub fn ranges(steps: &[u8]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let mut j = i;
        while j + 1 < steps.len() && steps[j + 1] == steps[j] + 1 {
            j += 1;
        }
        parts.push(if j == i {
            steps[i].to_string()
        } else {
            format!("{}-{}", steps[i], steps[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// The closing lines: which steps were applied (one commit each) and what to run next.
/// `rest`: the implemented steps not applied; `built`: whether `--build` ran.
pub fn closing(dir: &Path, applied: &[u8], rest: &[u8], built: bool) -> String {
    let d = dir.display();
    let mut s = String::new();
    if applied.is_empty() {
        let _ = writeln!(
            s,
            "No step was applied: the demo at {d} is the step-0 tonic workspace (one commit)."
        );
    } else {
        let plural = if applied.len() == 1 { "" } else { "s" };
        let _ = writeln!(
            s,
            "Applied step{plural} {} to the demo at {d}: one commit per step on top of the step-0 tonic workspace.",
            ranges(applied)
        );
    }
    let _ = writeln!(s, "Next:");
    let _ = writeln!(
        s,
        "  git -C {d} log -p --reverse                # each step's edits, in order"
    );
    if let Some(next) = rest.first() {
        let _ = writeln!(
            s,
            "  cargo connect-migrate --step {next} --dry-run --manifest-path {d}/Cargo.toml   # the next step's diff"
        );
    } else {
        let _ = writeln!(
            s,
            "  cargo run --manifest-path {d}/Cargo.toml --bin greeter-server   # the migrated server"
        );
    }
    if !built {
        let _ = writeln!(
            s,
            "  cargo connect-migrate demo --build --out {d}   # build and call every step"
        );
    }
    let _ = writeln!(
        s,
        "  cargo connect-migrate plan --manifest-path <your workspace>/Cargo.toml   # then your own code"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_tells_empty_earlier_and_taken_folders_apart() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("demo");
        assert_eq!(classify(&d).unwrap(), OutDir::Empty);
        std::fs::create_dir(&d).unwrap();
        assert_eq!(classify(&d).unwrap(), OutDir::Empty);
        std::fs::write(d.join("b.txt"), "x").unwrap();
        std::fs::write(d.join("a.txt"), "x").unwrap();
        assert_eq!(
            classify(&d).unwrap(),
            OutDir::Taken(vec!["a.txt".into(), "b.txt".into()])
        );
        // A marker with other text is not ours.
        std::fs::write(d.join(MARKER), "something else\n").unwrap();
        assert!(matches!(classify(&d).unwrap(), OutDir::Taken(_)));
        std::fs::write(d.join(MARKER), MARKER_TEXT).unwrap();
        assert_eq!(classify(&d).unwrap(), OutDir::EarlierDemo);
        // A file is not a folder.
        let f = t.path().join("file");
        std::fs::write(&f, "x").unwrap();
        assert!(matches!(classify(&f).unwrap(), OutDir::Taken(_)));
    }

    #[test]
    fn client_output_counts_checks() {
        let out =
            "ok   say_hello: Hello Tonic!\nFAIL say_goodbye: Err(..)\nok   x\n1 check(s) failed\n";
        let c = Calls::from_output(out, Some("exit status: 1".into()));
        assert_eq!((c.ok, c.failed, c.error.clone()), (2, 1, None));
        assert!(!c.all_answered());
        let c = Calls::from_output("ok   a\nok   b\nall checks passed\n", None);
        assert!(c.all_answered());
        assert_eq!(c.cell(), "2/2");
        // No server to talk to: the client fails before any check.
        let c = Calls::from_output("", Some("exit status: 1".into()));
        assert!(!c.all_answered());
        assert_eq!(c.cell(), "0 (exit status: 1)");
        // Success without a check is not an answer either.
        assert!(!Calls::from_output("hello\n", None).all_answered());
    }

    #[test]
    fn table_has_a_line_per_step() {
        let ok = Calls::from_output("ok   a\nok   b\n", None);
        let rows = vec![
            Row {
                step: 0,
                builds: Some(true),
                calls: vec![("step-0 client -> step-0 server".into(), ok.clone())],
            },
            Row {
                step: 1,
                builds: Some(false),
                calls: vec![],
            },
        ];
        assert_eq!(
            table(&rows),
            "step | builds | calls answered\n\
             -----+--------+---------------\n   \
             0 | yes    | 2/2 step-0 client -> step-0 server\n   \
             1 | NO     | -\n"
        );
        assert!(rows[0].ok());
        assert!(!rows[1].ok());
    }

    #[test]
    fn closing_lines_name_the_applied_steps_and_the_next_one() {
        let d = Path::new("/tmp/d");
        let all = closing(d, &[1, 2, 3, 4, 5, 6, 7, 8, 9], &[], true);
        assert!(
            all.starts_with("Applied steps 1-9 to the demo at /tmp/d"),
            "{all}"
        );
        assert!(all.contains("git -C /tmp/d log -p"), "{all}");
        assert!(all.contains("--bin greeter-server"), "{all}");
        assert!(!all.contains("--build"), "{all}");
        let some = closing(d, &[1, 2, 3], &[4, 5], false);
        assert!(some.starts_with("Applied steps 1-3 "), "{some}");
        assert!(some.contains("--step 4 --dry-run"), "{some}");
        assert!(some.contains("demo --build --out /tmp/d"), "{some}");
        let none = closing(d, &[], &[1], false);
        assert!(none.starts_with("No step was applied"), "{none}");
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), "1-3, 5, 7-8");
        assert_eq!(ranges(&[4]), "4");
    }
}
