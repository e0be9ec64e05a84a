//! The command line, in the shape of a cargo subcommand: `cargo connect-migrate ...` runs the
//! binary as `cargo-connect-migrate connect-migrate ...`; running it directly works too.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

#[derive(Debug, Parser)]
#[command(
    name = "cargo-connect-migrate",
    bin_name = "cargo connect-migrate",
    version,
    about = "Migrate a Rust codebase from tonic to connectrpc, one reviewed step at a time",
    after_help = "Exit codes: 0 done or nothing to do; 1 --check found changes; 2 usage error or refusal (a workspace that does not build before the step included); 3 some files could not be processed (the others were), or the step did not build and was restored.",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub migrate: MigrateArgs,
    /// Colour the output: `auto` (on a terminal, unless `NO_COLOR` is set), `always`, `never`.
    #[arg(
        long,
        value_enum,
        value_name = "WHEN",
        default_value = "auto",
        global = true
    )]
    pub color: ColorWhen,
}

/// When to colour the output (cargo's `--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Say where each crate stands: tonic version, codegen kind, steps done, what needs a human.
    Plan(PlanArgs),
    /// Write a small bundled tonic workspace as a git repository, run `plan`, and apply the steps
    /// to it, one commit each (`--build`: build and call it after every step).
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The migration step to apply (1..=9).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=9))]
    pub step: Option<u8>,
    /// Print the unified diff the step would make; write nothing.
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Write nothing; exit 1 when the step would change anything (for CI).
    #[arg(long)]
    pub check: bool,
    /// Allow writing into a git tree with uncommitted or staged changes.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Allow writing outside a version control system (git): without one, the changes can be
    /// neither reviewed as a diff nor undone.
    #[arg(long)]
    pub allow_no_vcs: bool,
    /// Accepted for compatibility: applying a step checks the build by default.
    #[arg(long, hide = true, conflicts_with_all = ["check", "dry_run", "no_verify"])]
    pub verify: bool,
    /// Do not run `cargo check` before and after writing (no repairs, no restoration).
    #[arg(long, conflicts_with_all = ["check", "dry_run"])]
    pub no_verify: bool,
    /// Apply the step even when the workspace does not build before it, and keep a result that
    /// does not build (its errors are listed), like `cargo fix --broken-code`.
    #[arg(long, conflicts_with_all = ["check", "dry_run", "no_verify"])]
    pub broken_code: bool,
    /// Features to activate for the checks (passed to `cargo check`; repeatable).
    #[arg(
        short = 'F',
        long,
        value_name = "FEATURES",
        help_heading = "Build check"
    )]
    pub features: Vec<String>,
    /// Activate all features for the checks.
    #[arg(long, help_heading = "Build check")]
    pub all_features: bool,
    /// Do not activate the default features for the checks.
    #[arg(long, help_heading = "Build check")]
    pub no_default_features: bool,
    /// Check for this target triple.
    #[arg(long, value_name = "TRIPLE", help_heading = "Build check")]
    pub target: Option<String>,
    /// Check only the library (with the other target flags: these kinds of target only;
    /// without any, `--all-targets`).
    #[arg(long, help_heading = "Build check")]
    pub lib: bool,
    /// Check only the binaries (see `--lib`).
    #[arg(long, help_heading = "Build check")]
    pub bins: bool,
    /// Check only the integration tests and the unit tests (see `--lib`).
    #[arg(long, help_heading = "Build check")]
    pub tests: bool,
    /// Check only the examples (see `--lib`).
    #[arg(long, help_heading = "Build check")]
    pub examples: bool,
    /// Check only the benchmarks (see `--lib`).
    #[arg(long, help_heading = "Build check")]
    pub benches: bool,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format of the report.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Where the steps that add `connect-shim` take it from: `vendor` writes the shim embedded in
    /// this tool into `<workspace root>/connect-shim/` and depends on it by path (step 9 deletes
    /// it); `registry` writes a version requirement (crates.io).
    #[arg(long, value_enum, value_name = "WHERE", default_value = "vendor")]
    pub shim: ShimMode,
    /// Depend on the connect-shim crate at this directory by path instead (a checkout of it).
    #[arg(long, value_name = "DIR", conflicts_with = "shim")]
    pub shim_path: Option<PathBuf>,
    /// Never draw a progress bar (it is only drawn when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
    /// Protocol of the clients step 6 builds (`grpc` talks to unmodified tonic servers).
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    pub protocol: Option<crate::options::ClientProtocol>,
    /// Number of files processed in parallel (default: one per core).
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
    /// Files or directories to process instead of the cargo workspace (walked recursively,
    /// skipping `target/` and hidden directories).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// `--shim`: where the `connect-shim` dependency comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ShimMode {
    /// A copy in the workspace (`<root>/connect-shim/`), depended on by path.
    #[default]
    Vendor,
    /// `connect-shim = "<version>"` from crates.io.
    Registry,
}

#[derive(Debug, Args, Clone, Default)]
pub struct SelectArgs {
    /// Path to Cargo.toml of the workspace or package.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Package to process (repeatable).
    #[arg(short = 'p', long = "package", value_name = "SPEC")]
    pub packages: Vec<String>,
    /// Process every member of the workspace.
    #[arg(long)]
    pub workspace: bool,
    /// Exclude a package (repeatable; implies --workspace).
    #[arg(long, value_name = "SPEC")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory to write the demo workspace to (default: a fresh temporary directory). It must
    /// be empty or hold an earlier demo, which is replaced (its `target/` kept).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Build the demo after every step and run the step-0 tonic client against each step's
    /// server (and each step's client against the step-0 server).
    #[arg(long)]
    pub build: bool,
    /// Apply the steps up to this one only (default: every implemented step).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=9))]
    pub until_step: Option<u8>,
}

/// Parse the process arguments, dropping the `connect-migrate` that cargo inserts.
impl MigrateArgs {
    /// cargo's target selection for the build checks (`--lib --bins`, ..); empty: all targets.
    pub fn check_targets(&self) -> Vec<&'static str> {
        [
            (self.lib, "--lib"),
            (self.bins, "--bins"),
            (self.tests, "--tests"),
            (self.examples, "--examples"),
            (self.benches, "--benches"),
        ]
        .into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
        .collect()
    }
}

pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut v: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    if v.get(1).is_some_and(|a| a == "connect-migrate") {
        v.remove(1);
    }
    // `--color WHEN` before a command (`cargo connect-migrate --color never plan`): clap reads
    // any argument before a command as the migrate form's, so it goes after the command name.
    let mut color = Vec::new();
    while v.len() > 1 {
        if v[1] == "--color" && v.len() > 2 {
            color.extend(v.drain(1..3));
        } else if v[1].to_str().is_some_and(|a| a.starts_with("--color=")) {
            color.push(v.remove(1));
        } else {
            break;
        }
    }
    let is_command = v.get(1).and_then(|a| a.to_str()).is_some_and(|a| {
        use clap::CommandFactory;
        Cli::command().get_subcommands().any(|c| c.get_name() == a)
    });
    let at = if is_command { 2 } else { 1 };
    v.splice(at..at, color);
    Cli::try_parse_from(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn cargo_subcommand_shape() {
        let c = parse_from([
            "cargo-connect-migrate",
            "connect-migrate",
            "--step",
            "3",
            "--check",
        ])
        .unwrap();
        assert_eq!(c.migrate.step, Some(3));
        assert!(c.migrate.check);
        let c = parse_from(["cargo-connect-migrate", "plan", "--format", "json"]).unwrap();
        assert!(matches!(c.command, Some(Command::Plan(_))));
        assert!(parse_from(["x", "--step", "10"]).is_err());
        for args in [
            &["x", "--color", "never", "plan"][..],
            &["x", "connect-migrate", "--color=never", "plan"],
            &["x", "plan", "--color", "never"],
        ] {
            let c = parse_from(args).unwrap();
            assert!(matches!(c.command, Some(Command::Plan(_))), "{args:?}");
            assert_eq!(c.color, ColorWhen::Never, "{args:?}");
        }
        let c = parse_from(["x", "--color", "always", "--step", "1", "plan"]).unwrap();
        assert_eq!(c.migrate.paths, [PathBuf::from("plan")]);
        assert_eq!(c.color, ColorWhen::Always);
        assert!(parse_from(["x", "--step", "3", "--check", "--dry-run"]).is_err());
        let c = parse_from(["x", "--step", "1"]).unwrap();
        assert!(c.migrate.check_targets().is_empty());
        let c = parse_from(["x", "--step", "1", "--bins", "--lib"]).unwrap();
        assert_eq!(c.migrate.check_targets(), ["--lib", "--bins"]);
    }
}
