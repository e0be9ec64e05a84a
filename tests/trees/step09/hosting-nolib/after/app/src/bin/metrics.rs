// A second binary in the same directory as `admin`: both reach the hosting module at
// `src/bin/connect_compat/mod.rs`, written once.
mod connect_compat;

fn main() {
    let _app = crate::connect_compat::connect_app(connectrpc::Router::new());
}
