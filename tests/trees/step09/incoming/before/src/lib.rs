//! tonic 0.12/0.13 spellings, through an alias.

use std::future::Future;

use tonic::transport::server::TcpIncoming as Incoming;

/// Serves on `conns`.
pub async fn serve(conns: Incoming, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(connect_shim::hosting::incoming_listener(conns), axum::Router::new())
        .with_graceful_shutdown(stop)
        .await
}
