/// A connect_app of our own: not the shim's.
pub fn connect_app(router: connectrpc::Router) -> connectrpc::Router {
    router
}

pub fn router() -> connectrpc::Router {
    connect_app(connectrpc::Router::new())
}
