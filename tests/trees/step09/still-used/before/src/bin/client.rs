//! Still a tonic client (step 6 not applied).

use greet::pb::greeter_client::GreeterClient;
use greet::pb::HelloRequest;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = GreeterClient::connect("http://127.0.0.1:50051").await?;
    let reply = client
        .say_hello(tonic::Request::new(HelloRequest::default()))
        .await?;
    println!("{}", reply.into_inner().message);
    Ok(())
}
