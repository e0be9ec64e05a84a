use tonic::Status;

/// The same helper in a binary that needs the feature `extra`: the default check never
/// compiles it, so the step cannot verify an edit here.
fn get(_: &gated::pb::store_server::StoreServer) -> Result<(), Status> {
    Err(Status::internal("no store"))
}

fn main() {
    let _ = get(&gated::pb::store_server::StoreServer);
}
