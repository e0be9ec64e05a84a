use crate::pb::shop_client::ShopClient;
use tonic::codec::CompressionEncoding;
use tonic::transport::Channel;

fn construction(channel: Channel) -> ShopClient<Channel> {
    // Options chained on the construction move into its config.
    ShopClient::new(channel).max_decoding_message_size(1 << 20)
}

/// Options set on a client that already exists.
fn limited(client: ShopClient<Channel>, limit: usize, config: usize) -> ShopClient<Channel> {
    client.max_decoding_message_size(limit.min(config))
}

fn encoding_limit(client: ShopClient<Channel>, config: usize) -> ShopClient<Channel> {
    client.max_encoding_message_size(config)
}

fn compressed(client: &ShopClient<Channel>) -> ShopClient<Channel> {
    client.clone().send_compressed(CompressionEncoding::Gzip).accept_compressed(CompressionEncoding::Gzip)
}

fn rebound(channel: Channel) -> ShopClient<Channel> {
    let client = ShopClient::new(channel);
    let client = client.max_decoding_message_size(usize::MAX);
    client
}
