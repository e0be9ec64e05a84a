//! The SDK's calls, in another file than the struct: the field's type comes
//! from the crate's symbol index.

use crate::client::Tally;
use crate::errors::{Error, Result};
use crate::pb;

fn nothing() -> pb::Nothing {
    pb::Nothing::default()
}

impl Tally {
    /// The value of a counter.
    pub async fn get(&mut self, name: &str) -> Result<i64> {
        Ok(self
            .client
            .get(pb::Key { name: name.to_string(), ..Default::default() })
            .await.map_err(connect_shim::status::to_status)
            .map(|c| c.into_owned().value)?)
    }

    /// Adds to a counter; the request is wrapped in a tonic request.
    pub async fn add(&mut self, name: &str, by: i64) -> Result<()> {
        let request = pb::Delta { name: name.to_string(), by, ..Default::default() };
        self.client.add(request).await.map_err(connect_shim::status::to_status)?;
        Ok(())
    }

    /// A counter that must exist: a clone of the client, bound to a local.
    pub async fn must_get(&self, name: &str) -> Result<i64> {
        let mut client = self.client.clone();
        let count = client
            .get(pb::Key { name: name.to_string(), ..Default::default() })
            .await.map_err(connect_shim::status::to_status)?
            .into_owned();
        if count.name.is_empty() {
            return Err(Error::Missing(name.to_string()));
        }
        Ok(count.value)
    }

    /// Heartbeats from a clone of the whole SDK, in a task.
    pub fn beat(&self) -> tokio::sync::mpsc::Sender<()> {
        let mut sdk = self.clone();
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let beats = async_stream::stream! {
                while rx.recv().await.is_some() {
                    yield nothing();
                }
            };
            let _ = sdk.client.beat(beats).await.map_err(connect_shim::status::to_status);
        });
        tx
    }

    /// Updates of a counter, as tonic's stream.
    pub async fn watch(&mut self, name: &str) -> Result<tonic::Streaming<pb::Count>> {
        Ok(connect_shim::client::tonic_server_stream(pb::Key { name: name.to_string(), ..Default::default() }, |request, options| self
            .client.watch_with_options(request, options))
            .await
            .map(|s| s.into_inner())?)
    }
}
