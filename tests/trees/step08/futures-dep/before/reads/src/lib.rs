//! A server stream read with `message().await`: native without `futures`.

use connect_shim::client::connect_errors::tonic_server_stream;
use connectrpc::ConnectError;

use crate::pb::{EchoClient, Ping};

pub async fn watch(client: &mut EchoClient<connectrpc::client::HttpClient>) -> Result<usize, ConnectError> {
    let mut stream = tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await?.into_inner();
    let mut n = 0;
    while let Some(_pong) = stream.message().await? {
        n += 1;
    }
    Ok(n)
}
