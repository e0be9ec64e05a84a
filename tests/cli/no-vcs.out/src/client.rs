use tonic::Code;

use crate::pb::ShopClient;

/// Whether a purchase failed only because the item is gone (as step 6 leaves it).
pub async fn sold_out(client: &mut ShopClient<connectrpc::client::HttpClient>) -> bool {
    match client.buy(Item::default()).await.map_err(connect_shim::status::to_status) {
        Err(status) => status.code() == Code::NotFound,
        Ok(_) => false,
    }
}

/// The shop's gRPC channel, for the clients not migrated yet.
pub fn channel() -> tonic::transport::Channel {
    tonic::transport::Channel::from_static("http://127.0.0.1:50051").connect_lazy()
}
