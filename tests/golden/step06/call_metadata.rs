use std::time::Duration;

use crate::pb::shop_client::ShopClient;
use crate::pb::GetRequest;
use tonic::metadata::{BinaryMetadataValue, MetadataValue as Value};
use tonic::transport::Channel;
use tonic::Request;

const TRACE: &[u8] = &[0xde, 0xad, 0x00, 0xbe, 0xef];

// Metadata and a deadline set on a local request: `CallOptions`, built where they were set.
async fn traced(client: &mut ShopClient<Channel>, token: &str) -> Result<String, Box<dyn std::error::Error>> {
    let mut request = Request::new(GetRequest { id: "a".into(), ..Default::default() });
    request.metadata_mut().insert("x-request-id", Value::from_static("req-1"));
    // Binary metadata travels base64-encoded.
    request
        .metadata_mut()
        .insert_bin("x-trace-bin", BinaryMetadataValue::from_bytes(TRACE));
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().map_err(|_| "bad token")?,
    );
    request.set_timeout(Duration::from_secs(3));
    let response = client.get(request).await?;
    let metadata = response.metadata();
    let id = metadata.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let trace = metadata
        .get_bin("x-trace-bin")
        .ok_or("no trace")?
        .to_bytes()
        .map_err(|e| e.to_string())?;
    assert_eq!(trace.as_ref(), TRACE);
    assert!(response.metadata().get("x-served-by").is_some());
    let name = response.into_inner().item.map(|i| i.name).unwrap_or_default();
    Ok(format!("{id} {name}"))
}

// A full path and a fallible value unwrapped.
async fn full_path(client: &mut ShopClient<Channel>) -> String {
    let mut req = tonic::Request::new(GetRequest::default());
    req.metadata_mut()
        .insert("x-id", tonic::metadata::MetadataValue::try_from("b").unwrap());
    req.metadata_mut().insert("x-other", "c".parse().unwrap());
    client.get(req).await.unwrap().into_inner().note
}

// A value built elsewhere: left on the shim wrapper (listed).
async fn elsewhere(client: &mut ShopClient<Channel>, value: Value<tonic::metadata::Ascii>) {
    let mut request = Request::new(GetRequest::default());
    request.metadata_mut().insert("x-id", value);
    let _ = client.get(request).await;
}

// Extensions have no `CallOptions` equivalent: left on the shim wrapper (listed).
async fn extensions(client: &mut ShopClient<Channel>) {
    let mut request = Request::new(GetRequest::default());
    request.extensions_mut().insert(7u8);
    let _ = client.get(request).await;
}

// Metadata set inside a branch: left on the shim wrapper (listed).
async fn branch(client: &mut ShopClient<Channel>, traced: bool) {
    let mut request = Request::new(GetRequest::default());
    if traced {
        request.metadata_mut().insert("x-id", Value::from_static("d"));
    }
    let _ = client.get(request).await;
}

// Response metadata used whole: left on the shim wrapper (listed).
async fn whole(client: &mut ShopClient<Channel>) -> Result<(), tonic::Status> {
    let response = client.get(GetRequest::default()).await?;
    let map = response.metadata().clone();
    drop(map);
    Ok(())
}
