use tonic::transport::{Identity, Server, ServerTlsConfig};

async fn tls(addr: std::net::SocketAddr, cert: Vec<u8>, key: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
    Server::builder()
        .tls_config(ServerTlsConfig::new().identity(Identity::from_pem(cert, key)))?
        .add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo))))
        .serve(addr)
        .await?;
    Ok(())
}

async fn split(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Server::builder();
    let router = builder.add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo))));
    router.serve(addr).await?;
    Ok(())
}

async fn by_address(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    axum::serve(
        tokio::net::TcpListener::bind(addr).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .add_service(std::sync::Arc::new(Echo)),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}

async fn ignored(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    // connect-migrate: ignore
    Server::builder()
        .add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo))))
        .serve(addr)
        .await?;
    Ok(())
}
