// The crate's error lives beside its client, with a hand-written conversion from tonic's
// Status: step 7 moves it to ConnectError itself, so no conversion impl is written (it would
// conflict with the renamed one).
pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(Debug)]
pub enum ClientError {
    RequestFailed(connectrpc::ConnectError),
    Input(String),
}

impl From<connectrpc::ConnectError> for ClientError {
    fn from(status: connectrpc::ConnectError) -> Self {
        ClientError::RequestFailed(status)
    }
}

pub struct Client {
    gateway: pb::GameClient<connect_shim::client::ChannelTransport<tonic::transport::Channel>>,
}

impl Client {
    pub async fn ready(&mut self) -> Result<()> {
        self.gateway
            .ready(pb::Empty::default())
            .await
            ?;
        Ok(())
    }
}

mod pb {
    pub use crate::connect::game::*;
}
