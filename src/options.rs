//! The settings of one run chosen on the command line, in one value: [`RunOptions`].
//!
//! `app` fills it from the arguments and sets it on the [`crate::workspace::Workspace`]; a step
//! reads what it needs in its `prepare` (which gets the workspace) and hands it to its passes
//! through the crate context (by type, [`crate::context::CrateCtx::plan`]) or its pass structs.
//! No setting lives in a static: two runs in one process (the tests) never see each other's.
//!
//! ```text
//! // app:             ws.options = RunOptions { shim, protocol };
//! // step 6 prepare:  ctx.set_plan(Arc::new(ws.options.protocol));
//! // step 6 pass:     ctx.plan::<ClientProtocol>()
//! ```

use crate::shim::ShimSource;

/// What the command line chose for the whole run (the defaults when run without it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Where the steps that add `connect-shim` take it from (`--shim`, `--shim-path`).
    pub shim: ShimSource,
    /// The wire protocol of the clients step 6 builds (`--protocol`).
    pub protocol: ClientProtocol,
}

/// The wire protocol migrated clients speak (`--protocol`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum ClientProtocol {
    /// Connect over HTTP/1.1 or HTTP/2 (the server must be a connect server).
    Connect,
    /// gRPC over HTTP/2: works against unmodified tonic servers.
    #[default]
    Grpc,
    /// gRPC-Web over HTTP/1.1.
    GrpcWeb,
}
