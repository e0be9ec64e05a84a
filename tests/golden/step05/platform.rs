//! Health, reflection (v1 and v1alpha), gRPC-Web, an interceptor and a timeout on one port.

use std::future::Future;
use std::time::Duration;

use pb::catalog_server::CatalogServer;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic_web::GrpcWebLayer;

pub async fn run(
    incoming: TcpIncoming,
    token: String,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (mut health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<CatalogServer<Catalog>>().await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .expect("descriptors");

    let catalog = tonic::service::interceptor::InterceptedService::new(
        connect_shim::tonic_hosted!(pb::CATALOG_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Catalog::default()))),
        move |req| auth(req, &token),
    );

    Server::builder()
        // gRPC-Web for the browser clients, over HTTP/1.1.
        .accept_http1(true)
        .timeout(Duration::from_secs(30))
        .layer(GrpcWebLayer::new())
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(catalog)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await?;
    Ok(())
}
