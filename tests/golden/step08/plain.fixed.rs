use connect_shim::client as shim_client;
use connect_shim::client::{tonic_client_stream, tonic_server_stream};
use futures::StreamExt;
use tonic::{Code, Request, Status};

use crate::pb::{EchoClient, Ping, Pong};

type Client = EchoClient<connectrpc::client::HttpClient>;

/// Not the shim's: left alone.
async fn tonic_bidi<F>(_outbound: Vec<Ping>, _f: F) -> Result<tonic::Response<Vec<Pong>>, Status> {
    Ok(tonic::Response::new(Vec::new()))
}

async fn watch(client: &mut Client, ping: Ping) -> Result<Vec<String>, Status> {
    let mut stream = client.watch(ping).await.map_err(connect_shim::status::to_status)?;
    let mut texts = Vec::new();
    while let Some(pong) = stream.message().await.map_err(connect_shim::status::to_status)? {
        let pong = pong.to_owned_message();
        texts.push(pong.text);
    }
    if let Some(mut last) = stream.message().await.unwrap() {
        let mut last = last.to_owned_message();
        last.text.push('!');
        texts.push(last.text);
    }
    Ok(texts)
}

async fn watch_all(client: &mut Client) -> Vec<Pong> {
    let stream = client.watch(Ping::default())
        .await
        .unwrap();
    let stream = connect_shim::client::streaming_from_server_stream(stream);
    stream.map(|p| p.unwrap()).collect().await
}

async fn upload(client: &mut Client, pings: Vec<Ping>) -> Result<usize, Status> {
    let request = futures::stream::iter(pings);
    let reply = client.upload(request)
        .await.map_err(connect_shim::status::to_status)?
        .into_owned();
    let status = client.upload(futures::stream::iter(Vec::new()))
        .await.map_err(connect_shim::status::to_status)
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    Ok(reply.tags.len())
}

async fn chat(client: &mut Client, pings: Vec<Ping>) -> Result<(), Status> {
    let (mut replies_send, replies) = client.chat().await.map_err(connect_shim::status::to_status)?.into_split();
    tokio::spawn(async move {
        for message in pings {
            if replies_send.send(message).await.is_err() {
                break;
            }
        }
        replies_send.close_send();
    });
    let mut replies = connect_shim::client::streaming_from_bidi(replies);
    while let Some(reply) = replies.next().await {
        let reply = reply?;
        println!("{}", reply.text);
    }
    let _local = tonic_bidi(Vec::new(), ()).await?;
    // connect-migrate: ignore
    let _kept = shim_client::tonic_bidi(futures::stream::iter(Vec::new()), |options| client.chat_with_options(options)).await?;
    Ok(())
}

async fn chat_and_forget(client: &mut Client) -> Result<(), Status> {
    let _chat = shim_client::tonic_bidi(tokio_stream::iter(vec![Ping::default()]), |options| client.chat_with_options(options)).await?;
    let chat_send = 1;
    let (mut replies_send, replies) = client.chat().await.map_err(connect_shim::status::to_status)?.into_split();
    tokio::spawn(async move {
        for message in vec![Ping::default()] {
            if replies_send.send(message).await.is_err() {
                break;
            }
        }
        replies_send.close_send();
    });
    let replies = connect_shim::client::streaming_from_bidi(replies);
    drop((chat_send, replies));
    Ok(())
}
