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
    let mut stream = tonic_server_stream(ping, |request, options| client.watch_with_options(request, options)).await?.into_inner();
    let mut texts = Vec::new();
    while let Some(pong) = stream.message().await? {
        texts.push(pong.text);
    }
    if let Some(mut last) = stream.message().await.unwrap() {
        last.text.push('!');
        texts.push(last.text);
    }
    Ok(texts)
}

async fn watch_all(client: &mut Client) -> Vec<Pong> {
    let stream = tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options))
        .await
        .unwrap()
        .into_inner();
    stream.map(|p| p.unwrap()).collect().await
}

async fn upload(client: &mut Client, pings: Vec<Ping>) -> Result<usize, Status> {
    let request = Request::new(futures::stream::iter(pings));
    let reply = tonic_client_stream(request, |requests, options| client.upload_with_options(requests, options))
        .await?
        .into_inner();
    let status = tonic_client_stream(futures::stream::iter(Vec::new()), |requests, options| client.upload_with_options(requests, options))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    Ok(reply.tags.len())
}

async fn chat(client: &mut Client, pings: Vec<Ping>) -> Result<(), Status> {
    let mut replies = shim_client::tonic_bidi(futures::stream::iter(pings), |options| client.chat_with_options(options)).await?.into_inner();
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
    let replies = shim_client::tonic_bidi(tokio_stream::iter(vec![Ping::default()]), |options| client.chat_with_options(options)).await?.into_inner();
    drop((chat_send, replies));
    Ok(())
}
