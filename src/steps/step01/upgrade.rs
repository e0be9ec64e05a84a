//! Step 1, the tonic 0.12 -> 0.14 upgrade in the code (the manifest's part is
//! `tonic_014_upgrade` in this step's `mod.rs`): the check of the `tonic-upgrade` guard of
//! `rules/step01.toml`, which renames what tonic moved.
//!
//! tonic 0.12's `Channel::balance_channel` took tower's `tower::discover::Change`; tonic 0.13
//! and 0.14 take their own `tonic::transport::channel::Change`. A crate that moves from 0.12 and
//! sends changes to that channel names tonic's. A file that also drives tower's own balancer
//! (`tower::balance`, a `tower::discover::Discover`) needs tower's `Change` for it: it keeps it
//! (the crate's `tonic-upgrade` item says what to check).
//!
//! Before (a crate on tonic 0.12):
//! ```text
//! use tower::discover::Change;
//! let (channel, tx) = Channel::balance_channel(64);
//! tx.send(Change::Insert(uri, endpoint)).await?;
//! ```
//! After (tonic 0.14):
//! ```text
//! use tonic::transport::channel::Change;
//! let (channel, tx) = Channel::balance_channel(64);
//! tx.send(Change::Insert(uri, endpoint)).await?;
//! ```

use super::CodegenPlan;
use crate::engine::FileCtx;

/// Does tower's `Change` move to tonic's in this file? `Err(reason)` when it stays.
pub fn change_moves(ctx: &FileCtx<'_>) -> Result<(), String> {
    let plan = ctx.crate_ctx.and_then(|c| c.plan::<CodegenPlan>());
    if !plan.is_some_and(|p| p.balance_channel_upgrade) {
        return Err(
            "the crate neither moves from tonic 0.12 nor calls `Channel::balance_channel`".into(),
        );
    }
    let idx = ctx.index;
    let tower_balancer = (0..idx.leaves.len()).any(|l| {
        let p = idx.leaf_path(l);
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        matches!(
            p[..],
            ["tower", "balance", ..]
                | ["tower", "discover", "Discover" | "ServiceList" | "discover"]
        )
    });
    if tower_balancer {
        return Err("the file drives tower's own balancer, which takes tower's `Change`".into());
    }
    Ok(())
}

/// Does crate text call tonic's `balance_channel` (the byte scan of `prepare`)?
pub fn calls_balance_channel(text: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), b"balance_channel").is_some()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::{CodegenPlan, CrateCtx};
    use crate::engine::{process, FileMeta, ManualItem, Outcome};

    /// Step 1 on `src` in a crate whose plan says `upgrade` (moves from tonic 0.12 and calls
    /// `balance_channel`).
    fn run(src: &str, upgrade: bool) -> (String, Vec<ManualItem>) {
        let plan = CodegenPlan {
            balance_channel_upgrade: upgrade,
            ..Default::default()
        };
        let ctx = CrateCtx::default().with_plan(plan);
        let all = crate::steps::all().unwrap();
        let meta = FileMeta {
            module_path: Some(vec!["crate".into()]),
            crate_ctx: Some(Arc::new(ctx)),
            ..Default::default()
        };
        match process(crate::steps::get(&all, 1), src, &meta) {
            Outcome::Rewritten {
                new_text, items, ..
            } => (new_text.unwrap_or_else(|| src.to_string()), items),
            o => panic!("{o:?}"),
        }
    }

    const CLIENT: &str = "use tokio::sync::mpsc::Sender;\n\
        use tonic::transport::{Channel, Endpoint};\n\
        use tower::discover::Change;\n\
        // tower's Change\n\
        pub struct Client { tx: Sender<Change<http::Uri, Endpoint>> }\n\
        async fn connect(e: Endpoint) -> Client {\n    let (_channel, tx) = Channel::balance_channel(64);\n    tx.send(Change::Insert(e.uri().clone(), e)).await.unwrap();\n    Client { tx }\n}\n";

    #[test]
    fn towers_change_sent_to_balance_channel_becomes_tonics() {
        let (got, items) = run(CLIENT, true);
        assert_eq!(
            got,
            CLIENT.replace(
                "use tower::discover::Change;",
                "use tonic::transport::channel::Change;"
            ),
            "\n--- got ---\n{got}"
        );
        assert!(items.is_empty(), "{items:#?}");
        let (again, _) = run(&got, true);
        assert_eq!(again, got, "a second run changed the text");
        // A group keeps its other members; a full path is renamed in place.
        let grouped = "use tower::{discover::Change, ServiceExt};\nfn f(tx: S<tower::discover::Change<u8, E>>) { let _ = Channel::balance_channel::<u8>(1); let _ = Change::<u8, E>::Remove(0); }\n";
        let (got, _) = run(grouped, true);
        assert_eq!(
            got,
            "use tower::ServiceExt;\nuse tonic::transport::channel::Change;\nfn f(tx: S<tonic::transport::channel::Change<u8, E>>) { let _ = Channel::balance_channel::<u8>(1); let _ = Change::<u8, E>::Remove(0); }\n"
        );
    }

    #[test]
    fn towers_change_stays_outside_the_upgrade_and_beside_towers_balancer() {
        // A crate that does not move from 0.12 (or never calls balance_channel).
        assert_eq!(run(CLIENT, false).0, CLIENT);
        // A file that builds tower's own balancer needs tower's `Change`.
        let balancer = "use tower::{balance::p2c::Balance, discover::Change};\nfn f(c: Change<u8, u8>) -> Option<Balance<S, u8>> { let _ = c; None }\n";
        let (got, items) = run(balancer, true);
        assert_eq!(got, balancer);
        assert!(items.is_empty(), "{items:#?}");
    }
}
