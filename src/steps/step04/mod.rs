//! Step 4: streaming handlers. The handler pass of [`crate::steps::handlers`] in its step-4 mode
//! unwraps the streaming adapters step 3 left on `connect_shim::server::connect_errors`: an inbound
//! `let mut s = request.into_inner();` becomes an owned-message stream over the connect
//! `InboundStream`, `s.message().await` becomes `s.next().await.transpose()`, and the outbound
//! `Response::new(stream)` becomes `connectrpc::Response::stream(stream)`.
//!
//! Assumes step 3: the handlers are on the `connect_errors` adapters (a file that does not name
//! `connect_shim` is left alone). A handler that stays on an adapter is listed with what blocked
//! it.

mod definition;
pub use definition::DEFINITION;

use crate::engine::ItemKind;
use crate::steps::handlers::HandlersPass;

/// The step's pass over a file.
pub fn handlers_pass() -> HandlersPass {
    HandlersPass { step: 4 }
}

/// The step's work before the files: crates with streaming handlers on the `connect_errors`
/// adapters get `futures` (its `StreamExt` reads the native inbound streams).
pub fn prepare(ws: &crate::workspace::Workspace) -> crate::steps::common::prepare::Prepared {
    use crate::manifest::{self, DepKind, NewDep};
    let mut out = crate::steps::common::prepare::Prepared::default();
    let mut manifests = manifest::ManifestEdits::new(ws.root.join("Cargo.toml"));
    for c in &ws.crates {
        let streams = c.files.iter().any(|f| {
            std::fs::read(&f.path).is_ok_and(|b| {
                memchr::memmem::find(&b, b"connect_errors::client_stream").is_some()
                    || memchr::memmem::find(&b, b"connect_errors::bidi_stream").is_some()
            })
        });
        if !streams {
            continue;
        }
        let Ok(member) = std::fs::read_to_string(&c.manifest_path) else {
            continue;
        };
        let deps = [NewDep::new("futures", "0.3", &[], DepKind::Normal)];
        let root_cur = manifests.root_for(&c.manifest_path);
        let dirs = (c.dir.as_path(), ws.root.as_path());
        match manifest::add_deps_in(&member, root_cur.as_deref(), &deps, Some(dirs)) {
            Ok((m, r)) => manifests.record(&c.manifest_path, member, m, r),
            Err(e) => out.items.push(crate::report::ItemReport {
                path: crate::workspace::rel(&ws.root, &c.manifest_path),
                krate: c.name.clone(),
                line: 1,
                column: 1,
                rule: "step04/manifest".into(),
                kind: ItemKind::Manual,
                message: format!("Cargo.toml does not parse: {e}"),
                note: "fix the manifest and run the step again".into(),
            }),
        }
    }
    out.manifests = manifests.finish();
    out
}
