//! Step 6 made a response owned right after the call (`.map(|r| r.into_owned())`); its
//! `map_err(to_status)` goes and the `Err` arm reads the ConnectError.

use tonic::Code;

use crate::pb::{EchoClient, Ping};

pub async fn tags(client: &mut EchoClient<connectrpc::client::HttpClient>) -> usize {
    match client.say(Ping::default()).await.map(|r| r.into_owned()).map_err(connect_shim::status::to_status) {
        Ok(reply) if reply.tags == ["a"] => reply.tags.len(),
        Err(status) if status.code() == Code::NotFound => {
            println!("{}", status.message());
            0
        }
        other => panic!("{other:?}"),
    }
}
