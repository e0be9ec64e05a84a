//! Step 7's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 7.
pub const DEFINITION: Definition = Definition {
    number: 7,
    title: "Client error inspection",
    limits: "Code/Status renames in client code; step 6's `map_err(to_status)` removed, its tonic-shaped wrappers moved to their ConnectError twins, `code()`/`message()` of the errors of those calls rewritten; tonic-types detail reads go through the crate's `google_rpc` module, `metadata().get(key)` reads trailers then headers; a file that reads other tonic-only error parts keeps tonic errors (listed); the crate's own error type that `?` filled through `to_status` gets a `From<ConnectError>` through tonic's Status (listed)",
    renames: Renames::Always,
    triggers: Triggers {
        connect_shim: true,
        ..Triggers::RULES
    },
    prepare: Prepare::Step(super::conversions::prepare),
    passes,
};

fn passes(_: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    vec![Box::new(super::ClientErrorsPass)]
}
