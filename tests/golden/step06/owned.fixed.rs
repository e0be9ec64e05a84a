use crate::pb::EchoClient;
use crate::pb::Ping;

// Fields a view cannot give as the owned message does (a repeated field compared with an array):
// the response is made owned right after the call.
async fn tags(client: &mut EchoClient<connectrpc::client::HttpClient>) -> Result<(), Box<dyn std::error::Error>> {
    match client.say(Ping::default()).await.map(|r| r.into_owned()).map_err(connect_shim::status::to_status) {
        Ok(reply) if reply.tags == ["a", "b"] => {
            println!("{} tags, {}", reply.tags.len(), reply.text);
            keep(&reply);
        }
        Ok(reply) => println!("{:?}", reply),
        other => println!("{other:?}"),
    }
    let echo = client.say(Ping::default()).await.map_err(connect_shim::status::to_status)?.into_owned().echo.clone();
    let tags = client.say(Ping::default()).await.unwrap().into_owned().tags.len();
    let text = client.say(Ping::default()).await.map_err(connect_shim::status::to_status)?.into_owned().text.clone();
    drop((echo, tags, text));
    Ok(())
}

// Response metadata: kept on the wrapper (listed).
async fn headers(client: &mut EchoClient<connectrpc::client::HttpClient>) {
    match connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await {
        Ok(reply) if reply.get_ref().tags.is_empty() => println!("{:?}", reply.metadata()),
        _ => {}
    }
}

// Mutated in place: kept on the wrapper (listed).
async fn mutated(client: &mut EchoClient<connectrpc::client::HttpClient>) {
    match connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await {
        Ok(mut reply) => reply.get_mut().tags.push("x".into()),
        Err(_) => {}
    }
}

fn keep(_: &crate::pb::Pong) {}
