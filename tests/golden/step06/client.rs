use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};

type Client = EchoClient<Channel>;

async fn connect(url: String) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(EchoClient::connect(url).await?.max_decoding_message_size(1024))
}

async fn lazy(url: &'static str) -> EchoClient<Channel> {
    let channel = Endpoint::from_static(url)
        .timeout(std::time::Duration::from_secs(3))
        .connect_lazy();
    EchoClient::new(channel)
}

async fn shared(channel: Channel) -> EchoClient<Channel> {
    EchoClient::new(channel.clone())
}

async fn calls(client: &mut Client) -> Result<(), Box<dyn std::error::Error>> {
    let request = Request::new(Ping { text: "a".into(), ..Default::default() });
    let text = client.say(request).await?.into_inner().text;
    match client.say(Ping::default()).await {
        Ok(reply) if reply.get_ref().text == text => {}
        Err(status) if status.code() == Code::InvalidArgument => {}
        other => println!("{other:?}"),
    }
    let kept = client.say(Ping::default()).await;
    let mut stream = client.watch(Ping::default()).await?.into_inner();
    while let Some(_pong) = stream.message().await? {}
    let _sum = client.upload(tokio_stream::iter(vec![Ping::default()])).await?;
    let _chat = client.chat(tokio_stream::iter(vec![Ping::default()])).await?;
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
