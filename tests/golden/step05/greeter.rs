use std::net::SocketAddr;

use greeter::MyGreeter;
use tokio::net::TcpListener;
use tonic::transport::{server::TcpIncoming, Server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = "127.0.0.1:50051".parse()?;
    let listener = TcpListener::bind(addr).await?;
    let greeter = MyGreeter::default();

    Server::builder()
        .add_service(connect_shim::tonic_hosted!(greeter::hello_world::GREETER_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(greeter))))
        .serve_with_incoming(TcpIncoming::from(listener))
        .await?;

    Ok(())
}
