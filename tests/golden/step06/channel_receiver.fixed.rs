use crate::pb::EchoClient;
use crate::pb::Ping;

async fn dial(addr: &'static str) -> Result<(connectrpc::client::HttpClient, connectrpc::client::ClientConfig), http::uri::InvalidUri> {
    Ok((connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(addr.parse().expect("a valid URI")).with_protocol(connectrpc::Protocol::Grpc)))
}

/// The client built from a helper's channel is a statement's first receiver: the block that binds
/// the pair must not end the statement.
async fn ping(addr: &'static str) -> Result<(), Box<dyn std::error::Error>> {
    ({ let (transport, config) = dial(addr).await?; EchoClient::new(transport, config) })
        .say(Ping { text: "hi".into(), ..Default::default() })
        .await.map_err(connect_shim::status::to_status)?;
    let pong = ({ let (transport, config) = dial(addr).await?; EchoClient::new(transport, config) })
        .say(Ping::default())
        .await.map_err(connect_shim::status::to_status)?
        .into_owned();
    println!("{}", pong.text);
    Ok(())
}
