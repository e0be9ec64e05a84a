//! A service and the app that hosts it.

pub mod service;
pub mod connect_compat;

/// The app, for the binary and the tests.
pub fn app() -> axum::Router {
    crate::connect_compat::connect_app(connectrpc::Router::new())
}

/// The same, through the module.
pub fn app_again() -> axum::Router {
    crate::connect_compat::connect_app(connectrpc::Router::new())
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds() {
        let _ = super::app();
    }
}
