use crate::pb::EchoClient;
use crate::pb::Ping;

async fn dial(addr: &'static str) -> Result<(connectrpc::client::HttpClient, connectrpc::client::ClientConfig), http::uri::InvalidUri> {
    Ok((connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(addr.parse().expect("a valid URI")).with_protocol(connectrpc::Protocol::Grpc)))
}

/// A client made in place from a helper's channel, as a call's receiver: bound before the call
/// where the call goes on the wrapper (whose closure cannot await), its construction rewritten.
async fn ping(addr: &'static str) -> Result<(), Box<dyn std::error::Error>> {
    { let (transport, config) = dial(addr).await?; EchoClient::new(transport, config) }
        .say(Ping { text: "hi".into(), ..Default::default() })
        .await.map_err(connect_shim::status::to_status)?;
    let pong = { let (transport, config) = dial(addr).await?; EchoClient::new(transport, config) }
        .say(Ping::default())
        .await.map_err(connect_shim::status::to_status)?
        .into_owned();
    println!("{}", pong.text);
    match addr {
        "" => Ok(()),
        "client" => { let client_ = { let (transport, config) = dial(addr).await?; EchoClient::new(transport, config) }; connect_shim::client::tonic_unary(Ping { text: client(), ..Default::default() }, |request, options| client_.say_with_options(request, options)).await }.map(drop).map_err(Into::into),
        _ => { let client = { let (transport, config) = dial(addr).await?; EchoClient::new(transport, config) }; connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await }.map(drop).map_err(Into::into),
    }
}

fn client() -> String {
    "c".into()
}

/// A client made in place by `connect`, its answer read by a tonic accessor.
async fn connected(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let reply = { let client = EchoClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(url.clone().parse()?).with_protocol(connectrpc::Protocol::Grpc)); connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await }?;
    println!("{}", reply.into_inner().text);
    let reply = { let client = EchoClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(url.parse()?).with_protocol(connectrpc::Protocol::Grpc)); connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await }?;
    println!("{:?}", reply.metadata());
    Ok(())
}

/// Not awaited where it is made: listed, left.
fn pending(ch: (connectrpc::client::HttpClient, connectrpc::client::ClientConfig)) -> impl std::future::Future {
    EchoClient::new(ch.0, ch.1).say(Ping::default())
}
