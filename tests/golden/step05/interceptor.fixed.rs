//! Interceptors in other spellings: an aliased `InterceptedService` inline in the chain, a
//! fn item as the interceptor, and a service that is still a tonic one (stays on tonic's routes).

use crate::pb::legacy_server::LegacyServer;

fn check(req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    Ok(req)
}

pub async fn serve(listener: tokio::net::TcpListener, token: String) -> Result<(), Box<dyn std::error::Error>> {
    axum::serve(
        listener,
        connect_shim::hosting::mixed_app(
            tonic::service::Routes::default()
                .add_service(LegacyServer::with_interceptor(Legacy, move |req| crate::auth::authorize(req, &token))),
            connectrpc::ConnectRpcService::new(
                connectrpc::Router::new()
                    .add_service(std::sync::Arc::new(Echo)),
            )
            .with_interceptor(connect_shim::server::TonicInterceptor::new(crate::pb::ECHO_SERVICE_NAME, check)),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
