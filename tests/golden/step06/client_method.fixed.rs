use crate::pb::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;

/// The crate's own handle, handing out clients.
pub struct Handle {
    channel: Channel,
}

impl Handle {
    pub fn echo(&self) -> EchoClient<connect_shim::client::ChannelTransport<Channel>> {
        EchoClient::new(connect_shim::client::ChannelTransport::new(self.channel.clone()), connect_shim::client::channel_config())
    }

    // Not a client: a method of the same kind whose name no RPC has.
    pub fn name(&self) -> &'static str {
        "handle"
    }
}

async fn calls(handle: &Handle) -> Result<(), Box<dyn std::error::Error>> {
    // The receiver's type is not written: `echo()` is known by the crate's impl.
    let text = handle.echo().say(Ping::default()).await.map_err(connect_shim::status::to_status)?.into_owned().text;
    let mut client = handle.echo();
    let again = client.say(Ping { text, ..Default::default() }).await.map_err(connect_shim::status::to_status)?;
    println!("{} {}", handle.name(), again.into_owned().text);
    Ok(())
}
