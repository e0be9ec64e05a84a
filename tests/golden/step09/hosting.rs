//! A file given alone: step 9 cannot write the hosting module without the crate around it, so
//! every way of naming connect_shim::hosting::connect_app is listed, and nothing is edited.
//! Look-alikes (a local `connect_app`, another crate's, the shim's other hosting items) are not
//! connect_app sites.

use connect_shim::hosting::connect_app as host;
use connect_shim::hosting::{self, connect_app};

mod mine {
    /// Our own, not the shim's.
    pub fn connect_app(r: connectrpc::Router) -> connectrpc::Router {
        r
    }
}

pub fn apps(r: connectrpc::Router) -> Vec<axum::Router> {
    vec![
        host(r.clone()),
        connect_app(r.clone()),
        hosting::connect_app(r.clone()),
        ::connect_shim::hosting::connect_app(r.clone()),
    ]
}

pub fn look_alikes(r: connectrpc::Router) {
    let _ = mine::connect_app(r.clone());
    let _ = other_crate::hosting::connect_app(r.clone());
    let _ = connect_shim::hosting::connect_service(r);
}
