use crate::{pb::greeter_client::*, pb::*};

pub async fn call(url: String) -> Result<String, Box<dyn std::error::Error>> {
    let mut client = GreeterClient::connect(url).await?;
    let request = HelloRequest {
        name: "grouped".to_string(),
        times: 2,
    };
    let reply = client.say_hello(request).await?.into_inner();
    Ok(reply.message)
}
