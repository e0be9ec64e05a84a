use tonic::Status;

/// The same helper in a binary that needs the feature `extra`, which the default features leave
/// out: the check enables it, so what the step breaks here is seen (and restored).
fn get(_: &gated::pb::store_server::StoreServer) -> Result<(), Status> {
    Err(Status::internal("no store"))
}

/// Answers with tonic's own conversion, which the step cannot rewrite.
fn answer(s: &gated::pb::store_server::StoreServer) -> u16 {
    match get(s) {
        Ok(()) => 200,
        Err(e) => e.into_http(),
    }
}

fn main() {
    let _ = answer(&gated::pb::store_server::StoreServer);
}
