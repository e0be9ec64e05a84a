//! Step 3 rewrites `get` here; its caller in `caller.rs` then fails, and restoring the caller
//! alone cannot help (the cause is this file): every file is restored.

pub mod caller;
pub mod other;

use tonic::Status;

pub mod pb {
    pub mod store_server {
        /// Stand-in for tonic's generated server module (server-side evidence).
        pub struct StoreServer;
    }
}

/// A server-side helper, as step 2 leaves it.
pub fn get(_: &pb::store_server::StoreServer) -> Result<(), Status> {
    Err(Status::internal("no store"))
}

/// A handler step 2 already moved to connect: the workspace serves connect, so step 3 runs.
pub mod served {
    pub fn ping(_ctx: connectrpc::RequestContext) {}
}
