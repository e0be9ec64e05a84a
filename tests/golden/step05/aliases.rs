use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::Server as GrpcServer;

async fn spawned(listener: tokio::net::TcpListener) {
    let service = connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo)));
    tokio::spawn(async move {
        GrpcServer::builder()
            .add_service(service)
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .expect("server failed");
    });
}

async fn by_address(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let legacy = pb::legacy_server::LegacyServer::new(Legacy);
    ::tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .layer(tower_http::trace::TraceLayer::new_for_grpc())
        .layer(::tonic_web::GrpcWebLayer::new())
        .add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Echo)).add_service(std::sync::Arc::new(Other))))
        .add_optional_service(Some(legacy))
        .serve_with_shutdown(addr, async { tokio::signal::ctrl_c().await.ok(); })
        .await?;
    Ok(())
}

mod not_tonic {
    struct Server;
    impl Server {
        fn builder() -> Self {
            Server
        }
        async fn serve(self, _a: u16) {}
    }
    async fn run() {
        Server::builder().serve(1).await;
    }
}
