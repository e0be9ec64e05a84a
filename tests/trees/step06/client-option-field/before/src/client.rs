use tonic::transport::Channel;

use crate::pb::tally_client::TallyClient;

/// The tally SDK: one client on the channel it is given.
#[derive(Clone)]
pub struct Tally {
    inner: TallyClient<Channel>,
}

impl Tally {
    pub fn new(ch: Channel) -> Self {
        Self {
            inner: TallyClient::new(ch),
        }
    }

    /// Limits the size of a decoded message (default: 4 MiB).
    pub fn max_decoding_message_size(mut self, limit: usize) -> Self {
        self.inner = self.inner.max_decoding_message_size(limit);
        self
    }
}
