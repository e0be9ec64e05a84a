use connect_shim::hosting::{connect_app, GrpcErrorFixLayer};

#[test]
fn app() {
    let _ = connect_app(connectrpc::Router::new());
    let _ = GrpcErrorFixLayer;
}
