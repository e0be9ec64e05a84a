use tonic::transport::Channel;
use tonic::Code;

use crate::pb::shop_client::ShopClient;

/// Whether a purchase failed only because the item is gone.
pub async fn sold_out(client: &mut ShopClient<Channel>) -> bool {
    match client.buy(Item::default()).await {
        Err(status) => status.code() == Code::NotFound,
        Ok(_) => false,
    }
}
