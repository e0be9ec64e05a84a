use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;
use tonic::Request;

// Fields a view cannot give as the owned message does (a repeated field compared with an array):
// the response is made owned right after the call.
async fn tags(client: &mut EchoClient<Channel>) -> Result<(), Box<dyn std::error::Error>> {
    match client.say(Request::new(Ping::default())).await {
        Ok(reply) if reply.get_ref().tags == ["a", "b"] => {
            println!("{} tags, {}", reply.get_ref().tags.len(), reply.get_ref().text);
            keep(reply.get_ref());
        }
        Ok(reply) => println!("{:?}", reply.into_inner()),
        other => println!("{other:?}"),
    }
    let echo = client.say(Ping::default()).await?.get_ref().echo.clone();
    let tags = client.say(Ping::default()).await.unwrap().get_ref().tags.len();
    let text = client.say(Ping::default()).await?.get_ref().text.clone();
    drop((echo, tags, text));
    Ok(())
}

// Response metadata: kept on the wrapper (listed).
async fn headers(client: &mut EchoClient<Channel>) {
    match client.say(Ping::default()).await {
        Ok(reply) if reply.get_ref().tags.is_empty() => println!("{:?}", reply.metadata()),
        _ => {}
    }
}

// Mutated in place: kept on the wrapper (listed).
async fn mutated(client: &mut EchoClient<Channel>) {
    match client.say(Ping::default()).await {
        Ok(mut reply) => reply.get_mut().tags.push("x".into()),
        Err(_) => {}
    }
}

fn keep(_: &crate::pb::Pong) {}
