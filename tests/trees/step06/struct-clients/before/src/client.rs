use tonic::transport::Channel;

use crate::pb::tally_client::TallyClient;

/// The tally SDK: one client on the channel it is given.
#[derive(Clone)]
pub struct Tally {
    // The generated client, shared by clones of the SDK.
    pub(crate) client: TallyClient<Channel>,
}

impl Tally {
    pub fn new(ch: Channel) -> Self {
        Self {
            client: TallyClient::new(ch),
        }
    }
}
