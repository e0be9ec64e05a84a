//! A server without a library.

mod connect_compat;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(connect_compat::ADDR).await?;
    let app = connect_shim::hosting::connect_app(connectrpc::Router::new());
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
    Ok(())
}
