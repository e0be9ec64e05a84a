//! Step 9's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 9.
pub const DEFINITION: Definition = Definition {
    number: 9,
    title: "Stop generating gRPC code",
    limits: "removes tonic codegen, the tonic stub includes and the tonic/prost/connect-shim dependencies only once nothing names them; servers on connect_shim::hosting::connect_app get the hosting code as a module of the crate (connect_compat); handler tests on tonic_call_connect! with a plain Request::new call the handler natively; unused family imports and unused private aliases of tonic::Response go; what else still names them is listed, not rewritten",
    renames: Renames::Always,
    triggers: Triggers {
        own: Some(super::prefilter),
        ..Triggers::RULES
    },
    prepare: Prepare::Workspace(super::prepare),
    passes,
};

fn passes(ctx: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    vec![Box::new(super::CleanupPass { ctx })]
}
