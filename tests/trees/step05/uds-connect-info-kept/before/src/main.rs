//! A server on a Unix socket whose handler reads the peer's credentials from tonic's
//! `UdsConnectInfo`: only tonic's server records it, so the server stays on tonic (listed).

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
