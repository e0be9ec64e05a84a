use crate::pb::ShopClient;
use crate::pb::GetRequest;
use tonic::Request;

/// `with_tag!` is the crate's macro: it writes `Request::new(..)`, resolved here, where it is
/// invoked. The import stays although the call below no longer names `Request`.
async fn get(dst: String) -> Result<(), Box<dyn std::error::Error>> {
    let mut client = ShopClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(dst.parse()?).with_protocol(connectrpc::Protocol::Grpc));
    let reply = client.get(GetRequest::default()).await.map_err(connect_shim::status::to_status)?;
    println!("{:?}", reply.into_owned().name);
    let _tagged = crate::with_tag!(GetRequest::default());
    Ok(())
}
