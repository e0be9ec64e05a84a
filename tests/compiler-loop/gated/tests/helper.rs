use tonic::Status;

/// A helper only a test compiles: a check of `--lib --bins` never builds it.
fn get(_: &gated::pb::store_server::StoreServer) -> Result<(), Status> {
    Err(Status::internal("no store"))
}

#[test]
fn fails() {
    assert!(get(&gated::pb::store_server::StoreServer).is_err());
}
