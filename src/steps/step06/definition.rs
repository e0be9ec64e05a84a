//! Step 6's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::common::prepare::Prepared;
use crate::steps::{Definition, Prepare, Renames, Step, Triggers};
use crate::workspace::Workspace;

/// Step 6.
pub const DEFINITION: Definition = Definition {
    number: 6,
    title: "Downstream calls on connect clients",
    limits: "unary calls are native only where every use of the request and response is understood (per-call metadata and timeouts become CallOptions, request-building helpers of the file's root module return the message and its CallOptions; the others, and every streaming call, stay tonic-shaped through connect_shim::client); channels from the user's helper functions and header-only interceptor structs become an (HttpClient, ClientConfig) pair and default headers, all or nothing per group of crates; other shared channels and per-call interceptors keep the tonic channel as the transport; tonic-health and tonic-reflection clients move to connectrpc-health/-reflection; errors are still tonic::Status until step 7",
    renames: Renames::Always,
    triggers: Triggers::RULES,
    prepare: Prepare::AfterStep1(prepare),
    passes,
};

fn passes(ctx: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    match ctx {
        Some(ctx) => vec![Box::new(super::ClientsPass { ctx })],
        None => Vec::new(),
    }
}

fn prepare(_: &Step, ws: &Workspace, base: Prepared) -> Prepared {
    super::prepare(ws, base)
}
