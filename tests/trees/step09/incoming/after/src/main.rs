#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let addr: std::net::SocketAddr = "127.0.0.1:50051".parse()?;
    let incoming = tokio::net::TcpListener::bind(addr).await?;
    incoming_app::serve(incoming, async {}).await?;
    Ok(())
}
