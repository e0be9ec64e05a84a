// Addresses whose type came from tonic's `serve(addr: SocketAddr)`: after the rewrite,
// `TcpListener::bind` takes any `ToSocketAddrs`, so the parse gets its type written out.
use tonic::transport::Server;

async fn bound_first() -> Result<(), Box<dyn std::error::Error>> {
    let addr = "[::1]:50051".parse().unwrap(); // no type: serve gave it
    let svc = connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo)));
    Server::builder().add_service(svc).serve(addr).await?;
    Ok(())
}

async fn inline() -> Result<(), Box<dyn std::error::Error>> {
    let svc = connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo)));
    Server::builder()
        .add_service(svc)
        .serve("0.0.0.0:8080".parse()?)
        .await?;
    Ok(())
}

async fn typed_already(port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = "[::1]:50051".parse().unwrap();
    let addr: std::net::SocketAddr = if port == 0 { addr } else { format!("[::1]:{port}").parse()? };
    let svc = connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo)));
    Server::builder().add_service(svc).serve(addr).await?;
    Ok(())
}
