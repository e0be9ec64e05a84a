mod connect_compat;

fn main() {
    let _app = crate::connect_compat::connect_app(connectrpc::Router::new());
}
