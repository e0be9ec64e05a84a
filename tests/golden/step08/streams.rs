use connect_shim::client::connect_errors;
use connect_shim::client::connect_errors::tonic_bidi as bidi;
use connectrpc::{ConnectError, ErrorCode};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use tonic::Request;

use crate::pb::{EchoClient, Ping};

type Client = EchoClient<connectrpc::client::HttpClient>;

async fn watch(client: &mut Client) -> Result<Vec<String>, String> {
    let request = Ping { text: "a".into(), ..Default::default() };
    let mut stream = connect_errors::tonic_server_stream(request, |request, options| client.watch_with_options(request, options))
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    let mut texts = Vec::new();
    while let Some(pong) = stream.message().await.map_err(|e| e.to_string())? {
        texts.push(pong.text);
    }
    let first = stream.message().await.map_err(|e| e.to_string())?;
    if first.map(|p| p.tags.len()) == Some(1) {
        return Err("more".into());
    }
    match stream.message().await {
        Ok(next) => Err(format!("expected an error, got {next:?}")),
        Err(err) if err.code == ErrorCode::Unavailable => Ok(texts),
        Err(err) => Err(err.to_string()),
    }
}

async fn watch_rejected(client: &mut Client) -> Result<(), ConnectError> {
    match connect_shim::client::connect_errors::tonic_server_stream(Request::new(Ping::default()), |request, options| client.watch_with_options(request, options)).await {
        Ok(_) => Ok(()),
        Err(err) => Err(err),
    }
}

async fn watch_collect(client: &mut Client) -> Vec<Ping> {
    let response = connect_errors::tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options))
        .await
        .unwrap();
    response.into_inner().collect::<Result<Vec<_>, _>>().await.unwrap()
}

async fn watch_traced(client: &mut Client) -> Result<(), ConnectError> {
    let mut request = Request::new(Ping::default());
    request.metadata_mut().insert("x-trace", "1".parse().unwrap());
    let mut stream = connect_errors::tonic_server_stream(request, |request, options| client.watch_with_options(request, options)).await?.into_inner();
    while let Some(_pong) = stream.message().await? {}
    Ok(())
}

async fn upload(client: &mut Client, pings: Vec<Ping>) -> Result<usize, ConnectError> {
    let reply = connect_errors::tonic_client_stream(tokio_stream::iter(pings), |requests, options| client.upload_with_options(requests, options))
        .await?
        .into_inner();
    let empty: Vec<Ping> = Vec::new();
    match connect_errors::tonic_client_stream(Request::new(tokio_stream::iter(empty)), |requests, options| client.upload_with_options(requests, options)).await {
        Ok(resp) => println!("{:?}", resp.into_inner()),
        Err(err) if err.code == ErrorCode::FailedPrecondition => {}
        Err(err) => return Err(err),
    }
    Ok(reply.tags.len())
}

async fn chat(client: &mut Client) -> Result<(), String> {
    let (tx, rx) = mpsc::channel(4);
    let mut replies = bidi(Request::new(ReceiverStream::new(rx)), |options| client.chat_with_options(options))
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    tx.send(Ping::default()).await.map_err(|e| e.to_string())?;
    let got = replies.message().await.map_err(|e| e.to_string())?.ok_or("ended early")?;
    if got.text != "a" {
        return Err(got.text);
    }
    drop(tx);
    match replies.message().await {
        Ok(None) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

async fn chat_all(client: &mut Client, pings: Vec<Ping>) -> Result<Vec<String>, ConnectError> {
    let mut replies = bidi(tokio_stream::iter(pings), |options| client.chat_with_options(options)).await?.into_inner();
    let mut out = Vec::new();
    while let Some(reply) = replies.message().await? {
        out.push(reply.text);
    }
    Ok(out)
}

async fn chat_stream(client: &mut Client, pings: Vec<Ping>) -> Vec<String> {
    let outbound = tokio_stream::iter(pings).map(|mut p| {
        p.text.push('!');
        p
    });
    let mut replies = bidi(outbound, |options| client.chat_with_options(options))
        .await
        .unwrap()
        .into_inner();
    let mut out = Vec::new();
    while let Some(reply) = replies.next().await {
        out.push(reply.unwrap().text);
    }
    out
}

async fn chat_response(client: &mut Client) -> Result<(), ConnectError> {
    let response = bidi(tokio_stream::iter(vec![Ping::default()]), |options| client.chat_with_options(options)).await?;
    println!("{:?}", response.metadata());
    Ok(())
}

fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", "Bearer t".parse().unwrap());
    request
}

async fn upload_timed(client: &mut Client, pings: Vec<Ping>, token: &str) -> Result<Pong, ConnectError> {
    let mut request = Request::new(tokio_stream::iter(pings));
    request.set_timeout(std::time::Duration::from_secs(3));
    if !token.is_empty() {
        request.metadata_mut().insert("authorization", format!("Bearer {token}").parse()?);
    }
    let kept = connect_errors::tonic_client_stream(authed(tokio_stream::iter(Vec::new())), |requests, options| client.upload_with_options(requests, options)).await?;
    drop(kept);
    Ok(connect_errors::tonic_client_stream(request, |requests, options| client.upload_with_options(requests, options)).await?.into_inner())
}

async fn in_macro(client: &mut Client) {
    assert!(connect_errors::tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await.is_ok());
}
