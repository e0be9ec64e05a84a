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
    Server::builder()
        .http2_keepalive_interval(Some(std::time::Duration::from_secs(10)))
        .add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo))))
        .serve(addr)
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
