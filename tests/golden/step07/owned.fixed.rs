//! Step 6 made a response owned right after the call (`.map(|r| r.into_owned())`); its
//! `map_err(to_status)` goes and the `Err` arm reads the ConnectError.

use connectrpc::ErrorCode;

use crate::pb::{EchoClient, Ping};

pub async fn tags(client: &mut EchoClient<connectrpc::client::HttpClient>) -> usize {
    match client.say(Ping::default()).await.map(|r| r.into_owned()) {
        Ok(reply) if reply.tags == ["a"] => reply.tags.len(),
        Err(status) if status.code == ErrorCode::NotFound => {
            println!("{}", status.message.as_deref().unwrap_or(""));
            0
        }
        other => panic!("{other:?}"),
    }
}
