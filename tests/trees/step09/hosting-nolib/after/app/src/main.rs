//! A server without a library.

mod connect_compat;
mod connect_grpc_compat;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(connect_compat::ADDR).await?;
    let app = crate::connect_grpc_compat::connect_app(connectrpc::Router::new());
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
    Ok(())
}
