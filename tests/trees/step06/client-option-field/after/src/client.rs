use tonic::transport::Channel;

use crate::pb::TallyClient;

/// The tally SDK: one client on the channel it is given.
#[derive(Clone)]
pub struct Tally {
    inner: TallyClient<connect_shim::client::ChannelTransport<Channel>>,
}

impl Tally {
    pub fn new(ch: Channel) -> Self {
        Self {
            inner: TallyClient::new(connect_shim::client::ChannelTransport::new(ch), connect_shim::client::channel_config()),
        }
    }

    /// Limits the size of a decoded message (default: 4 MiB).
    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.inner = { let mut client = self.inner; let config = client.config().clone().with_default_max_message_size(limit); *client.config_mut() = config; client };
        self
    }
}
