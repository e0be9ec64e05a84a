//! Interceptors in other spellings: an aliased `InterceptedService` inline in the chain, a
//! fn item as the interceptor, and a service that is still a tonic one (stays on tonic's routes).
use tonic::service::interceptor::InterceptedService as Guarded;
use tonic::transport::Server;

use crate::pb::legacy_server::LegacyServer;

fn check(req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
    Ok(req)
}

pub async fn serve(listener: tokio::net::TcpListener, token: String) -> Result<(), Box<dyn std::error::Error>> {
    Server::builder()
        .add_service(Guarded::new(
            connect_shim::tonic_hosted!(crate::pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo))),
            check,
        ))
        .add_service(LegacyServer::with_interceptor(Legacy, move |req| crate::auth::authorize(req, &token)))
        .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
        .await?;
    Ok(())
}
