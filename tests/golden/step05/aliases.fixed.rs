
async fn spawned(listener: tokio::net::TcpListener) {
    let service = connectrpc::Router::new().add_service(std::sync::Arc::new(Echo));
    tokio::spawn(async move {
        axum::serve(
            listener,
            connect_shim::hosting::connect_app(
                connectrpc::Router::new()
                    .merge(service),
            )
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
            .expect("server failed");
    });
}

async fn by_address(addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let legacy = pb::legacy_server::LegacyServer::new(Legacy);
    axum::serve(
        tokio::net::TcpListener::bind(addr).await?,
        connect_shim::hosting::mixed_app(
            tonic::service::Routes::default()
                .add_service(legacy),
            connectrpc::Router::new()
                .add_service(std::sync::Arc::new(Echo))
                .add_service(std::sync::Arc::new(Other)),
        )
        .layer(tower_http::trace::TraceLayer::new_for_grpc())
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
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
