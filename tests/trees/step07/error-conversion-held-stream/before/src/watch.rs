use tonic::Streaming;

use crate::error::Result;
use crate::pb::Event;

/// Events of a watch, read one by one.
pub struct Watch {
    stream: Streaming<Event>,
}

impl Watch {
    pub(crate) fn new(stream: Streaming<Event>) -> Self {
        Self { stream }
    }

    pub async fn next(&mut self) -> Result<Option<Event>> {
        Ok(self.stream.message().await?)
    }
}
