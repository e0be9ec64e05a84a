mod other;
mod pb;

use pb::greeter_server::{Greeter, GreeterServer};
use tonic::transport::Server;

pub struct MyGreeter;

impl Greeter for MyGreeter {}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = "[::1]:50051".parse()?;
    // served on tonic
    Server::builder()
        .add_service(GreeterServer::new(MyGreeter))
        .serve(addr)
        .await?;
    Ok(())
}
