use connect_shim::client::connect_errors::{tonic_bidi, tonic_server_stream};
use connectrpc::ConnectError;
use futures::StreamExt;

use crate::pb::{EchoClient, Ping, Pong};

type Client = EchoClient<connectrpc::client::HttpClient>;

// The outbound stream is an expression: built where the call was, pinned in a box.
async fn chat_mapped(client: &mut Client, pings: Vec<Ping>) -> Result<Vec<Pong>, ConnectError> {
    let replies = tonic_bidi(futures::stream::iter(pings.clone()).map(|mut p| {
        p.text.push('!');
        p
    }), |options| client.chat_with_options(options)).await?.into_inner();
    drop(pings);
    replies.collect::<Vec<_>>().await.into_iter().collect()
}

// Read with `next()` through the response's single `into_inner()`: the rebinding is `mut`.
async fn watch_next(client: &mut Client) -> Option<Pong> {
    let response = tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options))
        .await
        .expect("the call");
    response.into_inner().next().await?.ok()
}

// Passed along as a `Stream`: no `mut`.
async fn watch_count(client: &mut Client) -> usize {
    let response = tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await.unwrap();
    count(response.into_inner()).await
}

// Not bound by a `let`: wrapped where it is.
async fn watch_inline(client: &mut Client) -> Result<Vec<Pong>, ConnectError> {
    tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options))
        .await?
        .into_inner()
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
