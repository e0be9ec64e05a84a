// The crate's error lives beside its client: step 7 moves the `#[from]` field to ConnectError
// itself, so no conversion impl is written (it would conflict with thiserror's).
pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(thiserror::Error, Debug)]
pub enum ClientError {
    #[error("request failed")]
    RequestFailed(#[from] tonic::Status),
    #[error("bad input: {0}")]
    Input(String),
}

pub struct Client {
    gateway: pb::GameClient<connect_shim::client::ChannelTransport<tonic::transport::Channel>>,
}

impl Client {
    pub async fn ready(&mut self) -> Result<()> {
        self.gateway
            .ready(pb::Empty::default())
            .await
            .map_err(connect_shim::status::to_status)?;
        Ok(())
    }
}

mod pb {
    pub use crate::connect::game::*;
}
