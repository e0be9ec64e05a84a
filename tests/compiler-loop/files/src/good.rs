use tonic::Status;

use crate::pb;

/// Another server-side helper: nothing else in the crate calls it.
pub fn put(_: &pb::store_server::StoreServer, key: &str) -> Result<(), Status> {
    if key.is_empty() {
        return Err(Status::internal("empty key"));
    }
    Ok(())
}
