use ::connect_shim::hosting::connect_app as host;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let service = connectrpc::ConnectRpcService::new(hosted_app::service::router());
    axum::serve(
        listener,
        host(service).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
