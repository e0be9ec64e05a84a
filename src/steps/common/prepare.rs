//! What a step's `prepare` hands the run layer, and the dependency several steps add.

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
}
