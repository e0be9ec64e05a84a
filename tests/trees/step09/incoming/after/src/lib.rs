//! tonic 0.12/0.13 spellings, through an alias.

use std::future::Future;

/// Serves on `conns`.
pub async fn serve(conns: tokio::net::TcpListener, stop: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    axum::serve(axum::serve::ListenerExt::tap_io(conns, |tcp| { let _ = tcp.set_nodelay(true); }), axum::Router::new())
        .with_graceful_shutdown(stop)
        .await
}
