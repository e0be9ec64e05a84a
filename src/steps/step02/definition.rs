//! Step 2's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::common::prepare::Prepared;
use crate::steps::{Definition, Prepare, Renames, Step, Triggers};
use crate::workspace::Workspace;

/// Step 2.
pub const DEFINITION: Definition = Definition {
    number: 2,
    title: "Service impls take connect requests and return connect responses",
    limits: "only simple unary bodies are rewritten natively; the others are kept tonic-style inside connect_shim::server adapters; streaming handler tests are reported",
    renames: Renames::Always,
    triggers: Triggers::RULES,
    prepare: Prepare::AfterStep1(prepare),
    passes,
};

fn passes(ctx: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    match ctx {
        Some(ctx) => vec![Box::new(super::ServicesPass { ctx })],
        None => Vec::new(),
    }
}

fn prepare(_: &Step, ws: &Workspace, base: Prepared) -> Prepared {
    super::prepare(ws, base)
}
