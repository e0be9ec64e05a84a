// A glob of another crate is in scope: it could provide a `tonic` of its own, so the builder
// below is not known to be tonic's. It is listed (unsure), not converted, not left unsaid.
use tracing_subscriber::prelude::*;

async fn host(console: crate::Console, web: bool) {
    if web {
        console
            .serve_with_web(tonic::transport::Server::builder())
            .await;
    }
}

async fn plain(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    tonic::transport::Server::builder()
        .add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo))))
        .serve(addr)
        .await?;
    Ok(())
}
