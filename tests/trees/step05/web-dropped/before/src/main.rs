//! A gateway serving a connect service through tonic, with gRPC-Web; no file names tonic-web
//! after step 5, so the crate drops the dependency.

mod layers;

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}

use tonic::transport::Server;
use tonic_web::GrpcWebLayer;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = "127.0.0.1:50051".parse()?;
    let greeter = layers::Greeter;
    Server::builder()
        .accept_http1(true)
        .layer(GrpcWebLayer::new())
        .add_service(connect_shim::tonic_hosted!(
            pb::GREETER_SERVICE_NAME,
            connectrpc::Router::new().add_service(std::sync::Arc::new(greeter))
        ))
        .serve(addr)
        .await?;
    Ok(())
}
