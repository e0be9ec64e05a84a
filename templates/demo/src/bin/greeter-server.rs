use std::net::SocketAddr;

use greeter::hello_world::greeter_server::GreeterServer;
use greeter::MyGreeter;
use tokio::net::TcpListener;
use tonic::transport::{server::TcpIncoming, Server};

const DEFAULT_ADDR: &str = "127.0.0.1:50051";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Address: first CLI argument, then $ADDR, then the default.
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("ADDR").ok())
        .unwrap_or_else(|| DEFAULT_ADDR.to_string())
        .parse()?;

    // Bind ourselves so that port 0 works and we can print the real address.
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);

    let greeter = MyGreeter::default();

    Server::builder()
        .add_service(GreeterServer::new(greeter))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;

    Ok(())
}
