use connect_shim::hosting::GrpcErrorFixLayer;

mod connect_compat;

#[test]
fn app() {
    let _ = crate::connect_compat::connect_app(connectrpc::Router::new());
    let _ = GrpcErrorFixLayer;
}
