//! A server on a Unix socket whose handlers read nothing of the connection: it moves to
//! axum through the shim's incoming_listener.

mod peer;

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}

use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sock = UnixListenerStream::new(UnixListener::bind("/tmp/sockets.sock")?);
    Server::builder()
        .add_service(connect_shim::tonic_hosted!(
            pb::LEDGER_SERVICE_NAME,
            connectrpc::Router::new().add_service(std::sync::Arc::new(peer::Ledger))
        ))
        .serve_with_incoming(sock)
        .await?;
    Ok(())
}
