//! A server on a Unix socket whose handlers read nothing of the connection: it moves to
//! axum through the shim's incoming_listener.

mod peer;

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}

use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sock = UnixListenerStream::new(UnixListener::bind("/tmp/sockets.sock")?);
    axum::serve(
        connect_shim::hosting::incoming_listener(sock),
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .add_service(std::sync::Arc::new(peer::Ledger)),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
