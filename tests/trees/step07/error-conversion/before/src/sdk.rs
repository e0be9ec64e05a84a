use crate::errors::Result;

pub type GameStream = tonic::Streaming<pb::GameState>;

pub struct Sdk {
    client: pb::GameClient<connect_shim::client::ChannelTransport<tonic::transport::Channel>>,
}

impl Sdk {
    /// A unary call: its error reaches the crate's `Error` through `?`.
    pub async fn ready(&mut self) -> Result<()> {
        Ok(self
            .client
            .ready(pb::Empty::default())
            .await.map_err(connect_shim::status::to_status)
            .map(|_| ())?)
    }

    /// A server stream returned as tonic's `Streaming` (the crate's public type).
    pub async fn watch(&mut self) -> Result<GameStream> {
        Ok(connect_shim::client::tonic_server_stream(pb::Empty::default(), |request, options| self
            .client.watch_with_options(request, options))
            .await
            .map(|stream| stream.into_inner())?)
    }

    /// A server stream read here: its errors move to ConnectError.
    pub async fn first(&mut self) -> Option<pb::GameState> {
        let mut s = connect_shim::client::tonic_server_stream(pb::Empty::default(), |request, options| self
            .client.watch_with_options(request, options))
            .await
            .ok()?
            .into_inner();
        s.message().await.ok().flatten()
    }
}

mod pb {
    pub use crate::connect::game::*;
}

mod tests {
    // Another alias of the crate, private, over another error.
    type Result<T> = std::result::Result<T, String>;

    fn _local() -> Result<()> {
        Ok(())
    }
}
