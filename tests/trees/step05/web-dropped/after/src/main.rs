//! A gateway serving a connect service through tonic, with gRPC-Web; no file names tonic-web
//! after step 5, so the crate drops the dependency.

mod layers;

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}


#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: std::net::SocketAddr = "127.0.0.1:50051".parse()?;
    let greeter = layers::Greeter;
    axum::serve(
        tokio::net::TcpListener::bind(addr).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .add_service(std::sync::Arc::new(greeter)),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
