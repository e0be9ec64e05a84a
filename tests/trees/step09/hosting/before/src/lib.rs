//! A service and the app that hosts it.

pub mod service;

use connect_shim::hosting::{self, connect_app};

/// The app, for the binary and the tests.
pub fn app() -> axum::Router {
    connect_app(connectrpc::Router::new())
}

/// The same, through the module.
pub fn app_again() -> axum::Router {
    hosting::connect_app(connectrpc::Router::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds() {
        let _ = super::app();
    }
}
