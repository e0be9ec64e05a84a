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
    let mut stream = client.watch(request)
        .await
        .map_err(|e| e.to_string())?;
    let mut texts = Vec::new();
    while let Some(pong) = stream.message().await.map_err(|e| e.to_string())? {
        let pong = pong.to_owned_message();
        texts.push(pong.text);
    }
    let first = stream.message().await.map_err(|e| e.to_string())?.map(|m| m.to_owned_message());
    if first.map(|p| p.tags.len()) == Some(1) {
        return Err("more".into());
    }
    match stream.message().await.map(|m| m.map(|m| m.to_owned_message())) {
        Ok(next) => Err(format!("expected an error, got {next:?}")),
        Err(err) if err.code == ErrorCode::Unavailable => Ok(texts),
        Err(err) => Err(err.to_string()),
    }
}

async fn watch_rejected(client: &mut Client) -> Result<(), ConnectError> {
    match client.watch(Ping::default()).await {
        Ok(_) => Ok(()),
        Err(err) => Err(err),
    }
}

async fn watch_collect(client: &mut Client) -> Vec<Ping> {
    let response = client.watch(Ping::default())
        .await
        .unwrap();
    let response = Box::pin(futures::stream::unfold(Some(response), |state| async move {
        let mut stream = state?;
        match stream.message().await {
            Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    }));
    response.collect::<Result<Vec<_>, _>>().await.unwrap()
}

async fn watch_traced(client: &mut Client) -> Result<(), ConnectError> {
    let request = Ping::default();
    let mut request_options = connectrpc::client::CallOptions::default();
    request_options = request_options.with_header("x-trace", "1");
    let mut stream = client.watch_with_options(request, request_options).await?;
    while let Some(_pong) = stream.message().await? {}
    Ok(())
}

async fn upload(client: &mut Client, pings: Vec<Ping>) -> Result<usize, ConnectError> {
    let reply = client.upload(tokio_stream::iter(pings))
        .await?
        .into_owned();
    let empty: Vec<Ping> = Vec::new();
    match client.upload(tokio_stream::iter(empty)).await {
        Ok(resp) => println!("{:?}", resp.into_owned()),
        Err(err) if err.code == ErrorCode::FailedPrecondition => {}
        Err(err) => return Err(err),
    }
    Ok(reply.tags.len())
}

async fn chat(client: &mut Client) -> Result<(), String> {
    let (tx, rx) = mpsc::channel(4);
    let (mut replies_send, mut replies) = client.chat()
        .await
        .map_err(|e| e.to_string())?
        .into_split();
    tokio::spawn(async move {
        let mut outbound = rx;
        while let Some(message) = outbound.recv().await {
            if replies_send.send(message).await.is_err() {
                break;
            }
        }
        replies_send.close_send();
    });
    tx.send(Ping::default()).await.map_err(|e| e.to_string())?;
    let got = replies.message().await.map_err(|e| e.to_string())?.map(|m| m.to_owned_message()).ok_or("ended early")?;
    if got.text != "a" {
        return Err(got.text);
    }
    drop(tx);
    match replies.message().await.map(|m| m.map(|m| m.to_owned_message())) {
        Ok(None) => Ok(()),
        other => Err(format!("{other:?}")),
    }
}

async fn chat_all(client: &mut Client, pings: Vec<Ping>) -> Result<Vec<String>, ConnectError> {
    let (mut replies_send, mut replies) = client.chat().await?.into_split();
    tokio::spawn(async move {
        for message in pings {
            if replies_send.send(message).await.is_err() {
                break;
            }
        }
        replies_send.close_send();
    });
    let mut out = Vec::new();
    while let Some(reply) = replies.message().await? {
        let reply = reply.to_owned_message();
        out.push(reply.text);
    }
    Ok(out)
}

async fn chat_stream(client: &mut Client, pings: Vec<Ping>) -> Vec<String> {
    let outbound = tokio_stream::iter(pings).map(|mut p| {
        p.text.push('!');
        p
    });
    let (mut replies_send, replies) = client.chat()
        .await
        .unwrap()
        .into_split();
    tokio::spawn(async move {
        let mut outbound = std::pin::pin!(outbound);
        while let Some(message) = futures::StreamExt::next(&mut outbound).await {
            if replies_send.send(message).await.is_err() {
                break;
            }
        }
        replies_send.close_send();
    });
    let mut replies = Box::pin(futures::stream::unfold(Some(replies), |state| async move {
        let mut stream = state?;
        match stream.message().await {
            Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    }));
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
    let request = tokio_stream::iter(pings);
    let mut request_options = connectrpc::client::CallOptions::default();
    request_options = request_options.with_timeout(std::time::Duration::from_secs(3));
    if !token.is_empty() {
        request_options = request_options.with_header("authorization", format!("Bearer {token}"));
    }
    let kept = connect_errors::tonic_client_stream(authed(tokio_stream::iter(Vec::new())), |requests, options| client.upload_with_options(requests, options)).await?;
    drop(kept);
    Ok(client.upload_with_options(request, request_options).await?.into_owned())
}

async fn in_macro(client: &mut Client) {
    assert!(connect_errors::tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await.is_ok());
}
