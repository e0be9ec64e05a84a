//! A bidi call whose outbound messages come from a `Stream`: the pump task needs `futures`.

use connect_shim::client::connect_errors::tonic_bidi;
use connectrpc::ConnectError;
use tokio_stream::StreamExt;

use crate::pb::{EchoClient, Ping};

pub async fn chat(client: &mut EchoClient<connectrpc::client::HttpClient>, pings: Vec<Ping>) -> Result<usize, ConnectError> {
    let outbound = tokio_stream::iter(pings).filter(|p| !p.text.is_empty());
    let mut replies = tonic_bidi(outbound, |options| client.chat_with_options(options)).await?.into_inner();
    let mut n = 0;
    while let Some(_reply) = replies.message().await? {
        n += 1;
    }
    Ok(n)
}
