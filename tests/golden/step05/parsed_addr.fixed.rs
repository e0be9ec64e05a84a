// Addresses whose type came from tonic's `serve(addr: SocketAddr)`: after the rewrite,
// `TcpListener::bind` takes any `ToSocketAddrs`, so the parse gets its type written out.

async fn bound_first() -> Result<(), Box<dyn std::error::Error>> {
    let addr: std::net::SocketAddr = "[::1]:50051".parse().unwrap(); // no type: serve gave it
    let svc = connectrpc::Router::new().add_service(std::sync::Arc::new(Echo));
    axum::serve(
        tokio::net::TcpListener::bind(addr).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .merge(svc),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    ).await?;
    Ok(())
}

async fn inline() -> Result<(), Box<dyn std::error::Error>> {
    let svc = connectrpc::Router::new().add_service(std::sync::Arc::new(Echo));
    axum::serve(
        tokio::net::TcpListener::bind("0.0.0.0:8080".parse::<std::net::SocketAddr>()?).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .merge(svc),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}

async fn typed_already(port: u16) -> Result<(), Box<dyn std::error::Error>> {
    let addr = "[::1]:50051".parse().unwrap();
    let addr: std::net::SocketAddr = if port == 0 { addr } else { format!("[::1]:{port}").parse()? };
    let svc = connectrpc::Router::new().add_service(std::sync::Arc::new(Echo));
    axum::serve(
        tokio::net::TcpListener::bind(addr).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .merge(svc),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    ).await?;
    Ok(())
}
