//! A server stream read with `message().await`: native without `futures`.

use connect_shim::client::connect_errors::tonic_server_stream;
use connectrpc::ConnectError;

use crate::pb::{EchoClient, Ping};

pub async fn watch(client: &mut EchoClient<connectrpc::client::HttpClient>) -> Result<usize, ConnectError> {
    let mut stream = client.watch(Ping::default()).await?;
    let mut n = 0;
    while let Some(_pong) = stream.message().await? {
        n += 1;
    }
    Ok(n)
}
