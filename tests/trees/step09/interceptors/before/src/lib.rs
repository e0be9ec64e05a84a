//! Two services behind tonic interceptors, registered in other spellings.

pub mod guard;
pub mod peer;

use connect_shim::server::TonicInterceptor as Intercept;

pub const ECHO: &str = "echo.v1.Echo";
pub const ADMIN: &str = "admin.v1.Admin";

/// The connect service with both interceptors.
pub fn service(router: connectrpc::Router) -> connectrpc::ConnectRpcService {
    connectrpc::ConnectRpcService::new(router)
        // A fn item.
        .with_interceptor(Intercept::new(ECHO, guard::check))
        // A closure calling one; this one reads the peer address: it stays on the shim.
        .with_interceptor(connect_shim::server::TonicInterceptor::new(ADMIN, |r| peer::only_local(r)))
}
