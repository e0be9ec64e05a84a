use tonic::Status;

/// A binary that needs the feature `extra` and does not build as published (it calls a
/// function that does not exist): the check cannot enable `extra`, so this file is set aside.
fn get(_: &gated::pb::store_server::StoreServer) -> Result<(), Status> {
    Err(Status::internal("no store"))
}

fn main() {
    let _ = get(&gated::pb::store_server::StoreServer);
    missing_function();
}
