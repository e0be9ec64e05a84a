use std::net::SocketAddr;

use greeter::MyGreeter;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: SocketAddr = "127.0.0.1:50051".parse()?;
    let listener = TcpListener::bind(addr).await?;
    let greeter = MyGreeter::default();

    axum::serve(
        listener,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .add_service(std::sync::Arc::new(greeter)),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;

    Ok(())
}
