//! Step 5's definition: what `steps/mod.rs` lists (see [`crate::steps::Definition`]).

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::steps::{Definition, Prepare, Renames, Triggers};

/// Step 5.
pub const DEFINITION: Definition = Definition {
    number: 5,
    title: "main on the Connect server",
    limits: "TLS servers and servers built across several statements are reported, not converted; a tonic interceptor in front of a connect service runs through connect_shim::server::TonicInterceptor (step 9 makes it a connectrpc interceptor); services still on tonic stay hosted through tonic's routes on the same axum app",
    renames: Renames::Always,
    triggers: Triggers {
        // `tonic` also finds tonic_health, tonic_reflection and tonic_web.
        crates: &["tonic"],
        // `HealthReporter`: a helper given the reporter (converted with it, or listed);
        // `incoming_listener`: what the step wrote for a connection stream (listed again on a
        // later run, in a file that may no longer name tonic: hence `connect_shim`).
        idents: &["builder", "health_reporter", "configure", "HealthReporter", "incoming_listener"],
        connect_shim: true,
        ..Triggers::RULES
    },
    prepare: Prepare::AfterStep1(super::prepare),
    passes,
};

fn passes(ctx: Option<&CrateCtx>) -> Vec<Box<dyn Pass + '_>> {
    vec![Box::new(super::HostingPass { ctx })]
}
