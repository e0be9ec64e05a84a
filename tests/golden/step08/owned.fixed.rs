use connect_shim::client::connect_errors::{tonic_bidi, tonic_server_stream};
use connectrpc::ConnectError;
use futures::StreamExt;

use crate::pb::{EchoClient, Ping, Pong};

type Client = EchoClient<connectrpc::client::HttpClient>;

// The outbound stream is an expression: built where the call was, pinned in a box.
async fn chat_mapped(client: &mut Client, pings: Vec<Ping>) -> Result<Vec<Pong>, ConnectError> {
    let (mut replies_send, replies) = client.chat().await?.into_split();
    tokio::spawn({
        let mut outbound = Box::pin(futures::stream::iter(pings.clone()).map(|mut p| {
        p.text.push('!');
        p
    }));
        async move {
            while let Some(message) = futures::StreamExt::next(&mut outbound).await {
                if replies_send.send(message).await.is_err() {
                    break;
                }
            }
            replies_send.close_send();
        }
    });
    let replies = Box::pin(futures::stream::unfold(Some(replies), |state| async move {
        let mut stream = state?;
        match stream.message().await {
            Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    }));
    drop(pings);
    replies.collect::<Vec<_>>().await.into_iter().collect()
}

// Read with `next()` through the response's single `into_inner()`: the rebinding is `mut`.
async fn watch_next(client: &mut Client) -> Option<Pong> {
    let response = client.watch(Ping::default())
        .await
        .expect("the call");
    let mut response = Box::pin(futures::stream::unfold(Some(response), |state| async move {
        let mut stream = state?;
        match stream.message().await {
            Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    }));
    response.next().await?.ok()
}

// Passed along as a `Stream`: no `mut`.
async fn watch_count(client: &mut Client) -> usize {
    let response = client.watch(Ping::default()).await.unwrap();
    let response = Box::pin(futures::stream::unfold(Some(response), |state| async move {
        let mut stream = state?;
        match stream.message().await {
            Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    }));
    count(response).await
}

// Not bound by a `let`: wrapped where it is.
async fn watch_inline(client: &mut Client) -> Result<Vec<Pong>, ConnectError> {
    Box::pin(futures::stream::unfold(Some(client.watch(Ping::default())
        .await?), |state| async move { let mut stream = state?; match stream.message().await { Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))), Ok(None) => None, Err(e) => Some((Err(e), None)) } }))
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

// The `Result` turned into an `Option`: kept on the wrapper (listed).
async fn watch_ok(client: &mut Client) -> Option<Pong> {
    let response = tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await.ok()?;
    response.into_inner().next().await?.ok()
}

// Response metadata: kept on the wrapper (listed).
async fn watch_headers(client: &mut Client) -> Result<(), ConnectError> {
    let response = tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await?;
    println!("{:?}", response.metadata());
    Ok(())
}

async fn count<S: futures::Stream>(s: S) -> usize {
    s.count().await
}
