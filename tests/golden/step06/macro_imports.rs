use crate::pb::shop_client::ShopClient;
use crate::pb::GetRequest;
use tonic::Request;

/// `with_tag!` is the crate's macro: it writes `Request::new(..)`, resolved here, where it is
/// invoked. The import stays although the call below no longer names `Request`.
async fn get(dst: String) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = ShopClient::connect(dst).await?;
    let reply = client.get(Request::new(GetRequest::default())).await?;
    println!("{:?}", reply.into_inner().name);
    let _tagged = crate::with_tag!(GetRequest::default());
    Ok(())
}
