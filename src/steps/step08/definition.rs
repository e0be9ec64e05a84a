//! Step 8's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 8.
pub const DEFINITION: Definition = Definition {
    number: 8,
    title: "Streaming calls",
    limits: "server-stream, client-stream and bidi calls on step 6/7's connect_shim wrappers become native where the request is a plain message or stream and the answer is read with `into_inner()` and `message().await`; requests carrying metadata, response metadata and other uses stay on the wrappers (listed)",
    renames: Renames::Always,
    triggers: Triggers {
        own: Some(super::prefilter),
        ..Triggers::RULES
    },
    prepare: Prepare::Workspace(super::prepare),
    passes,
};

fn passes(_: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    vec![Box::new(super::StreamsPass)]
}
