use crate::pb::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;
use tonic::Code;

type Client = EchoClient<connectrpc::client::HttpClient>;

async fn connect(url: String) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(EchoClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(url.parse()?).with_protocol(connectrpc::Protocol::Grpc).with_default_max_message_size(1024)))
}

async fn lazy(url: &'static str) -> EchoClient<connectrpc::client::HttpClient> {
    EchoClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(url.parse().expect("a valid URI")).with_protocol(connectrpc::Protocol::Grpc).with_default_timeout(std::time::Duration::from_secs(3)))
}

async fn shared(channel: Channel) -> EchoClient<connectrpc::client::HttpClient> {
    EchoClient::new(connect_shim::client::ChannelTransport::new(channel.clone()), connect_shim::client::channel_config())
}

async fn calls(client: &mut Client) -> Result<(), Box<dyn std::error::Error>> {
    let request = Ping { text: "a".into(), ..Default::default() };
    let text = client.say(request).await.map_err(connect_shim::status::to_status)?.into_owned().text;
    match client.say(Ping::default()).await.map_err(connect_shim::status::to_status) {
        Ok(reply) if reply.view().text == text => {}
        Err(status) if status.code() == Code::InvalidArgument => {}
        other => println!("{other:?}"),
    }
    let kept = connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await;
    let mut stream = connect_shim::client::tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await?.into_inner();
    while let Some(_pong) = stream.message().await? {}
    let _sum = connect_shim::client::tonic_client_stream(tokio_stream::iter(vec![Ping::default()]), |requests, options| client.upload_with_options(requests, options)).await?;
    let _chat = connect_shim::client::tonic_bidi(tokio_stream::iter(vec![Ping::default()]), |options| client.chat_with_options(options)).await?;
    drop(kept);
    Ok(())
}

// Not a client: left alone.
struct Other;
impl Other {
    fn say(&self, _: Ping) {}
}
fn other(o: Other) {
    o.say(Ping::default());
}
