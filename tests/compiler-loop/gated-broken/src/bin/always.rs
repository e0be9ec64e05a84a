use tonic::Status;

/// A server-side helper, as step 2 leaves it: built by the default check.
fn get(_: &gated::pb::store_server::StoreServer) -> Result<(), Status> {
    Err(Status::internal("no store"))
}

fn main() {
    let _ = get(&gated::pb::store_server::StoreServer);
}
