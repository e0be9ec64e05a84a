use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let router = connectrpc::Router::new().add_service(Arc::new(greet::MyGreeter));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    connectrpc::Server::from_listener(listener).serve(router).await
}
