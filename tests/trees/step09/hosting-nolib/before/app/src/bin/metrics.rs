// A second binary in the same directory as `admin`: both reach the hosting module at
// `src/bin/connect_compat/mod.rs`, written once.
fn main() {
    let _app = connect_shim::hosting::connect_app(connectrpc::Router::new());
}
