//! Step 4's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 4.
pub const DEFINITION: Definition = Definition {
    number: 4,
    title: "Streaming handlers",
    limits: "streaming handlers on step 3's adapters unwrapped natively where the inbound stream is read as `let s = request.into_inner();` and the answer is `Response::new(stream)`; the others stay on connect_shim::server::connect_errors (listed)",
    renames: Renames::Always,
    triggers: Triggers {
        connect_shim: true,
        ..Triggers::RULES
    },
    prepare: Prepare::Workspace(super::prepare),
    passes,
};

fn passes(_: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    vec![Box::new(super::handlers_pass())]
}
