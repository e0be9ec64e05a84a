use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::{Channel, Endpoint};

async fn dial(addr: &'static str) -> Result<Channel, tonic::transport::Error> {
    Endpoint::from_static(addr).connect().await
}

/// A client made in place from a helper's channel, as a call's receiver: bound before the call
/// where the call goes on the wrapper (whose closure cannot await), its construction rewritten.
async fn ping(addr: &'static str) -> Result<(), Box<dyn std::error::Error>> {
    EchoClient::new(dial(addr).await?)
        .say(Ping { text: "hi".into(), ..Default::default() })
        .await?;
    let pong = EchoClient::new(dial(addr).await?)
        .say(Ping::default())
        .await?
        .into_inner();
    println!("{}", pong.text);
    match addr {
        "" => Ok(()),
        "client" => EchoClient::new(dial(addr).await?).say(Ping { text: client(), ..Default::default() }).await.map(drop).map_err(Into::into),
        _ => EchoClient::new(dial(addr).await?).say(Ping::default()).await.map(drop).map_err(Into::into),
    }
}

fn client() -> String {
    "c".into()
}

/// A client made in place by `connect`, its answer read by a tonic accessor.
async fn connected(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let reply = EchoClient::connect(url.clone()).await?.say(Ping::default()).await?;
    println!("{}", reply.into_inner().text);
    let reply = EchoClient::connect(url).await?.say(Ping::default()).await?;
    println!("{:?}", reply.metadata());
    Ok(())
}

/// Not awaited where it is made: listed, left.
fn pending(ch: Channel) -> impl std::future::Future {
    EchoClient::new(ch).say(Ping::default())
}
