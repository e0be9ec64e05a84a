use tonic::transport::Channel;

use crate::pb::TallyClient;

/// The tally SDK: one client on the channel it is given.
#[derive(Clone)]
pub struct Tally {
    // The generated client, shared by clones of the SDK.
    pub(crate) client: TallyClient<connect_shim::client::ChannelTransport<Channel>>,
}

impl Tally {
    pub fn new(ch: Channel) -> Self {
        Self {
            client: TallyClient::new(connect_shim::client::ChannelTransport::new(ch), connect_shim::client::channel_config()),
        }
    }
}
