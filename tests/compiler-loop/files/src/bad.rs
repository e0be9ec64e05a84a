use tonic::Status;

use crate::pb;

/// A server-side helper, as step 2 leaves it.
pub fn get(_: &pb::store_server::StoreServer) -> Result<(), Status> {
    // The store is not there yet.
    Err(Status::internal("no store"))
}

/// Answers with tonic's own conversion, which the step cannot rewrite.
pub fn answer(s: &pb::store_server::StoreServer) -> u16 {
    match get(s) {
        Ok(()) => 200,
        Err(e) => e.into_http(),
    }
}
