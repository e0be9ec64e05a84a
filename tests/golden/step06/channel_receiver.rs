use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::{Channel, Endpoint};

async fn dial(addr: &'static str) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static(addr).connect().await
}

/// The client built from a helper's channel is a statement's first receiver: the block that binds
/// the pair must not end the statement.
async fn ping(addr: &'static str) -> Result<(), Box<dyn std::error::Error>> {
    EchoClient::new(dial(addr).await?)
        .say(Ping { text: "hi".into(), ..Default::default() })
        .await?;
    let pong = EchoClient::new(dial(addr).await?)
        .say(Ping::default())
        .await?
        .into_inner();
    println!("{}", pong.text);
    Ok(())
}
