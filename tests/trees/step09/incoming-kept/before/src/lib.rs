//! A TcpIncoming kept in a struct: step 9 cannot follow it, so no site of the crate moves.

use tonic::transport::server::TcpIncoming;

pub struct Listening {
    pub incoming: TcpIncoming,
}

pub async fn serve(incoming: TcpIncoming) -> std::io::Result<()> {
    axum::serve(connect_shim::hosting::incoming_listener(incoming), axum::Router::new()).await
}

pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<Listening> {
    // Not async: tokio's bind would need `.await`.
    let incoming = TcpIncoming::bind(addr)?.with_nodelay(Some(true));
    Ok(Listening { incoming })
}

pub async fn keepalive(addr: std::net::SocketAddr) -> std::io::Result<TcpIncoming> {
    Ok(TcpIncoming::bind(addr)?.with_keepalive(Some(std::time::Duration::from_secs(30))))
}
