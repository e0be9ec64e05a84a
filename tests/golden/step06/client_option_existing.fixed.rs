use crate::pb::ShopClient;
use tonic::transport::Channel;

fn construction(channel: Channel) -> ShopClient<connect_shim::client::ChannelTransport<Channel>> {
    // Options chained on the construction move into its config.
    ShopClient::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config().with_default_max_message_size(1 << 20))
}

/// Options set on a client that already exists.
fn limited(client: ShopClient<connect_shim::client::ChannelTransport<Channel>>, limit: usize, config: usize) -> ShopClient<connect_shim::client::ChannelTransport<Channel>> {
    { let mut client = client; let connect_config = client.config().clone().with_default_max_message_size(limit.min(config)); *client.config_mut() = connect_config; client }
}

fn encoding_limit(client: ShopClient<connect_shim::client::ChannelTransport<Channel>>, config: usize) -> ShopClient<connect_shim::client::ChannelTransport<Channel>> {
    client
}

fn compressed(client: &ShopClient<connect_shim::client::ChannelTransport<Channel>>) -> ShopClient<connect_shim::client::ChannelTransport<Channel>> {
    { let mut client = client.clone(); let config = client.config().clone().compress_requests("gzip"); *client.config_mut() = config; client }
}

fn rebound(channel: Channel) -> ShopClient<connect_shim::client::ChannelTransport<Channel>> {
    let client = ShopClient::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config());
    let client = { let mut client = client; let config = client.config().clone().with_default_max_message_size(usize::MAX); *client.config_mut() = config; client };
    client
}
