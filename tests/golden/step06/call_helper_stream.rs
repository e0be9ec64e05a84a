use std::time::Duration;

use crate::pb::shop_client::ShopClient as Shop;
use crate::pb::GetRequest;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;

/// Several parameters, `tonic::Request` spelled in full, a timeout: its streaming calls keep
/// their shim wrapper over the `(message, CallOptions)` pair until step 8.
fn with_deadline<M>(message: M, tenant: &str, secs: u64) -> tonic::Request<M> {
    let mut req = tonic::Request::new(message);
    req.metadata_mut()
        .insert("x-tenant", MetadataValue::try_from(tenant).expect("ascii"));
    req.set_timeout(Duration::from_secs(secs));
    req
}

async fn all_kinds(mut shop: Shop<Channel>) -> Result<(), tonic::Status> {
    let first = shop
        .get(with_deadline(GetRequest::default(), "acme", 5))
        .await?
        .into_inner();
    // A statement: `{ .. }.await?;` reads on as one expression.
    shop.get(with_deadline(GetRequest::default(), "ping", 1)).await?;
    let mut names = shop
        .list(with_deadline(GetRequest { id: first.name }, "acme", 30))
        .await?
        .into_inner();
    while let Some(n) = names.message().await? {
        println!("{}", n.name);
    }
    let _n = match std::env::args().count() {
        0 => shop.get(with_deadline(GetRequest::default(), "arm", 1)).await?.into_inner().name,
        _ => String::new(),
    };
    let mut longer = with_deadline(GetRequest::default(), "acme", 5);
    longer.set_timeout(Duration::from_secs(50));
    longer.metadata_mut().insert("x-more", MetadataValue::from_static("1"));
    let mut more = shop.list(longer).await?.into_inner();
    while let Some(n) = more.message().await? {
        println!("{}", n.name);
    }
    let upload = with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 10);
    let _sum = shop.upload(upload).await?.into_inner();
    let mut second = with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "b", 1);
    shop.upload(second).await?;
    let _chat = shop
        .chat(with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 60))
        .await?
        .into_inner();
    Ok(())
}
