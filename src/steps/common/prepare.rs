//! What a step's `prepare` hands the run layer, and the dependency several steps add.
//!
//! A `prepare` reads the workspace; it never runs the step's passes. What the rewritten files
//! need (a dependency, a new module) the passes declare themselves
//! ([`crate::engine::PassOutput::need`]), and the run layer applies it once per crate after the
//! files (`run::needs`). What depends on the whole crate after the step (a dependency that goes
//! once no file names it) `prepare` declares here, for the run layer to decide over the final
//! texts ([`Prepared::drop_unless_named`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::context::CrateCtx;
use crate::manifest::{DepKind, NewDep};
use crate::report::ItemReport;
use crate::workspace::Workspace;

/// The `connect-shim` dependency, from where the workspace gets the shim
/// ([`crate::shim::ShimSource`]): the vendored copy at `<root>/connect-shim` (by default), a
/// version from crates.io, or the `--shim-path` directory. Paths are written relative to the
/// manifest they land in (`[workspace.dependencies]` where the workspace uses them).
pub fn shim_dep(ws: &Workspace) -> NewDep {
    use crate::shim::ShimSource;
    let abs = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let version = match &ws.options.shim {
        ShimSource::Vendor => format!(
            "path:{}",
            abs(&ws.root).join(crate::shim::VENDOR_DIR).display()
        ),
        ShimSource::Registry => crate::shim::registry_requirement(),
        ShimSource::Path(p) => format!("path:{}", abs(p).display()),
    };
    NewDep::new("connect-shim", &version, &[], DepKind::Normal)
}

/// What a step's `prepare` found before the files: per-crate contexts, manifest changes, new
/// files and items.
#[derive(Default)]
pub struct Prepared {
    pub ctx: HashMap<String, Arc<CrateCtx>>,
    /// Manifests to rewrite: path, old text, new text.
    pub manifests: Vec<(PathBuf, String, String)>,
    /// Files to create (a new module): path, text. Never an existing file.
    pub new_files: Vec<(PathBuf, String)>,
    pub items: Vec<ItemReport>,
    /// Per crate (by name): dependencies to remove from its `[dependencies]` unless a file of
    /// the crate still names them once the step is applied, as (package, identifier):
    /// `("tonic-web", "tonic_web")`.
    pub drop_unless_named: HashMap<String, Vec<(&'static str, &'static str)>>,
    /// The rule id of the item that reports a manifest the needs of the files cannot be
    /// applied to (it does not parse); `None`: not reported.
    pub manifest_rule: Option<&'static str>,
}
