use crate::pb::shop_client::ShopClient;
use crate::pb::GetRequest;

/// tonic reaches a unix socket through its `unix:` URIs; connectrpc's HttpClient has no such
/// transport, so this file's shop clients stay on tonic.
async fn over_a_socket() -> Result<(), Box<dyn std::error::Error>> {
    let path = "unix:///tmp/shop.sock";
    let mut client = ShopClient::connect(path).await?;
    let reply = client.get(GetRequest::default()).await?;
    println!("{:?}", reply.into_inner().name);
    Ok(())
}
