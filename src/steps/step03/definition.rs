//! Step 3's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 3.
pub const DEFINITION: Definition = Definition {
    number: 3,
    title: "Connect errors (server side)",
    limits: "Status/Code renames with constructors; unary handlers on step 2's adapters unwrapped natively where every request use has a connect idiom, the others moved to connect_shim::server::connect_errors; tonic-types details (`Status::with_error_details`, `ErrorDetails`) move to a `google_rpc` module the step writes into the crate; `impl From<E> for Status` bodies and error metadata (`metadata_mut()`) are reported, not rewritten",
    renames: Renames::Always,
    triggers: Triggers {
        connect_shim: true,
        ..Triggers::RULES
    },
    prepare: Prepare::Step(crate::steps::details::prepare),
    passes,
};

fn passes(_: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    vec![Box::new(super::handlers_pass())]
}
