use crate::error::Result;
use crate::pb;
use crate::watch::Watch;

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

    pub async fn watch(&mut self, name: String) -> Result<Watch> {
        let stream = connect_shim::client::tonic_server_stream(
            pb::WatchRequest {
                name,
                ..Default::default()
            },
            |request, options| self.gateway.watch_with_options(request, options),
        )
        .await?
        .into_inner();
        Ok(Watch::new(stream))
    }
}
