use crate::pb::ShopClient;
use googleapis_tonic::google::bigtable::v2::bigtable_client::BigtableClient;
use tonic::transport::Channel;

/// The shop client is the crate's own (migrated); the Bigtable client comes from another
/// crate's tonic stubs: it stays on tonic and is listed.
async fn clients(channel: Channel) {
    let _shop = ShopClient::new(connect_shim::client::ChannelTransport::new(channel.clone()), connect_shim::client::channel_config());
    let _table = BigtableClient::new(channel.clone());
    let _admin = other_stubs::admin::v2::table_admin_client::TableAdminClient::connect("http://[::1]:1").await;
}
