//! Step 1's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 1.
pub const DEFINITION: Definition = Definition {
    number: 1,
    title: "Generate Connect code (buffa messages, tonic on the shim codec)",
    limits: "tonic 0.12/0.13 crates are upgraded to 0.14 (features, moved items, tonic-prost-build); what the upgrade cannot do mechanically is listed (step01/tonic-upgrade); message reads whose type is unknown are reported",
    renames: Renames::WithCrateCtx,
    triggers: Triggers::RULES,
    prepare: Prepare::Workspace(super::prepare),
    passes,
};

fn passes(ctx: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    let mut v: Vec<Box<dyn Pass + '_>> = Vec::new();
    if let Some(ctx) = ctx {
        v.push(Box::new(super::messages::MessagesPass { ctx }));
        // After the message pass: it reads that pass's edits (see `names`).
        v.push(Box::new(super::names::NamesPass { ctx }));
        v.push(Box::new(super::BuildRsPass { ctx }));
        v.push(Box::new(super::ModulePass { ctx }));
        v.push(Box::new(super::stub_globs::StubGlobsPass { ctx }));
    }
    v.push(Box::new(super::descriptors::DescriptorsPass));
    v.push(Box::new(super::any_compat::AnyCompatPass));
    v
}
