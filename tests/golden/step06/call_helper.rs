use crate::pb::shop_client::ShopClient;
use crate::pb::GetRequest;
use tonic::metadata::{BinaryMetadataValue, MetadataValue};
use tonic::transport::Channel;

/// A request carrying per-call metadata: returns the message and its `CallOptions` once every
/// call of it is native.
fn traced<T>(message: T, request_id: &'static str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-request-id", MetadataValue::from_static(request_id));
    request
        .metadata_mut()
        .insert_bin("x-trace-bin", BinaryMetadataValue::from_bytes(b"\x01\x02"));
    request
}

async fn get(client: &mut ShopClient<Channel>) -> Result<String, tonic::Status> {
    let name = client
        .get(traced(GetRequest::default(), "get"))
        .await?
        .into_inner()
        .name;
    match client.get(traced(GetRequest { id: "b".into() }, "missing")).await {
        Ok(response) => Ok(format!("{name} {:?}", response.into_inner())),
        Err(status) => Err(status),
    }
}

async fn with_more(client: &mut ShopClient<Channel>, token: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut request = traced(GetRequest::default(), "more");
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    let response = client.get(request).await?;
    assert!(response.metadata().get("x-request-id").is_some());
    Ok(())
}
