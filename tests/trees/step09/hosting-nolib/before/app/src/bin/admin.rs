use connect_shim::hosting as h;

fn main() {
    let _app = h::connect_app(connectrpc::Router::new());
}
