use crate::pb::EchoClient;
use tonic::transport::{Channel, Endpoint};

/// Stored in a struct: the helper and its clients stay on tonic, listed.
struct Conn {
    channel: Channel,
}

async fn open() -> Channel {
    Endpoint::from_static("http://[::1]:50051").connect_lazy()
}

async fn conn() -> Conn {
    let channel = open().await;
    Conn { channel }
}

/// A closure interceptor on a helper's channel.
fn stamped(channel: Channel) {
    let _ = EchoClient::new(connect_shim::client::ChannelTransport::new(tonic::service::interceptor::InterceptedService::new(channel, |r: tonic::Request<()>| Ok(r))), connect_shim::client::channel_config());
}
