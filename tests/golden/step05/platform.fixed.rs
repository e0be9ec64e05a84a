//! Health, reflection (v1 and v1alpha), gRPC-Web, an interceptor and a timeout on one port.

use std::future::Future;
use std::time::Duration;

use pb::catalog_server::CatalogServer;
use tonic::transport::server::TcpIncoming;

pub async fn run(
    incoming: TcpIncoming,
    token: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (health_service, health_reporter) = connectrpc_health::install_static(connectrpc::Router::new(), std::iter::empty::<&str>());
    let _ = health_reporter.register(<CatalogServer<Catalog> as tonic::server::NamedService>::NAME);
    health_reporter.set_status(<CatalogServer<Catalog> as tonic::server::NamedService>::NAME, connectrpc_health::Status::Serving).ok();

    let reflection_v1 = connectrpc_reflection::Reflector::from_descriptor_set_bytes(pb::FILE_DESCRIPTOR_SET)
        .and_then(|mut reflector| reflector.add_descriptor_set_bytes(tonic_health::pb::FILE_DESCRIPTOR_SET).map(|()| reflector))
        .map(|reflector| {
            connectrpc_reflection::ServerReflectionExt::register(
                std::sync::Arc::new(connectrpc_reflection::ReflectionService::new(reflector)),
                connectrpc::Router::new(),
            )
        })?;
    let reflection_v1alpha = connectrpc_reflection::Reflector::from_descriptor_set_bytes(pb::FILE_DESCRIPTOR_SET)
        .map(|reflector| {
            connectrpc_reflection::ServerReflectionV1alphaExt::register(
                std::sync::Arc::new(connectrpc_reflection::ReflectionService::new(reflector)),
                connectrpc::Router::new(),
            )
        })
        .expect("descriptors");

    let catalog = connectrpc::Router::new().add_service(std::sync::Arc::new(Catalog::default()));

    axum::serve(
        // gRPC-Web for the browser clients, over HTTP/1.1.
        connect_shim::hosting::incoming_listener(incoming),
        connect_shim::hosting::connect_app(
            connectrpc::ConnectRpcService::new(
                connectrpc::Router::new()
                    .merge(health_service)
                    .merge(reflection_v1)
                    .merge(reflection_v1alpha)
                    .merge(catalog),
            )
            .with_deadline_policy(
                connectrpc::DeadlinePolicy::new()
                    .with_max(Duration::from_secs(30))
                    .with_default_timeout(Duration::from_secs(30)),
            )
            .with_interceptor(connect_shim::server::TonicInterceptor::new(pb::CATALOG_SERVICE_NAME, move |req| auth(req, &token))),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}
