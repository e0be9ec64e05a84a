//! A bidi call whose outbound messages come from a `Stream`: the pump task needs `futures`.

use connect_shim::client::connect_errors::tonic_bidi;
use connectrpc::ConnectError;
use tokio_stream::StreamExt;

use crate::pb::{EchoClient, Ping};

pub async fn chat(client: &mut EchoClient<connectrpc::client::HttpClient>, pings: Vec<Ping>) -> Result<usize, ConnectError> {
    let outbound = tokio_stream::iter(pings).filter(|p| !p.text.is_empty());
    let (mut replies_send, mut replies) = client.chat().await?.into_split();
    tokio::spawn(async move {
        let mut outbound = std::pin::pin!(outbound);
        while let Some(message) = futures::StreamExt::next(&mut outbound).await {
            if replies_send.send(message).await.is_err() {
                break;
            }
        }
        replies_send.close_send();
    });
    let mut n = 0;
    while let Some(_reply) = replies.message().await? {
        n += 1;
    }
    Ok(n)
}
