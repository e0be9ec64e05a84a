use std::time::Duration;

use crate::pb::ShopClient as Shop;
use crate::pb::GetRequest;

/// Several parameters, `tonic::Request` spelled in full, a timeout: its streaming calls keep
/// their shim wrapper over the `(message, CallOptions)` pair until step 8.
fn with_deadline<M>(message: M, tenant: &str, secs: u64) -> (M, connectrpc::client::CallOptions) {
    let req = message;
    let req_options = connectrpc::client::CallOptions::default().try_with_header("x-tenant", tenant).expect("ascii");
    let req_options = req_options.with_timeout(Duration::from_secs(secs));
    (req, req_options)
}

async fn all_kinds(mut shop: Shop<connectrpc::client::HttpClient>) -> Result<(), tonic::Status> {
    let first = {
        let (message, options) = with_deadline(GetRequest::default(), "acme", 5);
        shop.get_with_options(message, options)
    }
        .await.map_err(connect_shim::status::to_status)?
        .into_owned();
    // A statement: `{ .. }.await?;` reads on as one expression.
    {
        let (message, options) = with_deadline(GetRequest::default(), "ping", 1);
        shop.get_with_options(message, options)
    }.await.map_err(connect_shim::status::to_status)?;
    let mut names = connect_shim::client::tonic_server_stream(connect_shim::client::request_from_options(with_deadline(GetRequest { id: first.name }, "acme", 30)), |request, options| shop.list_with_options(request, options))
        .await?
        .into_inner();
    while let Some(n) = names.message().await? {
        println!("{}", n.name);
    }
    let _n = match std::env::args().count() {
        0 => ({
            let (message, options) = with_deadline(GetRequest::default(), "arm", 1);
            shop.get_with_options(message, options)
        }).await.map_err(connect_shim::status::to_status)?.into_owned().name,
        _ => String::new(),
    };
    let (longer, longer_options) = with_deadline(GetRequest::default(), "acme", 5);
    let longer_options = longer_options.with_timeout(Duration::from_secs(50));
    let longer_options = longer_options.with_header("x-more", "1");
    let mut more = connect_shim::client::tonic_server_stream(connect_shim::client::request_from_options((longer, longer_options)), |request, options| shop.list_with_options(request, options)).await?.into_inner();
    while let Some(n) = more.message().await? {
        println!("{}", n.name);
    }
    let upload = with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 10);
    let _sum = connect_shim::client::tonic_client_stream(connect_shim::client::request_from_options(upload), |requests, options| shop.upload_with_options(requests, options)).await?.into_inner();
    let second = with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "b", 1);
    connect_shim::client::tonic_client_stream(connect_shim::client::request_from_options(second), |requests, options| shop.upload_with_options(requests, options)).await?;
    let _chat = connect_shim::client::tonic_bidi(connect_shim::client::request_from_options(with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 60)), |options| shop.chat_with_options(options))
        .await?
        .into_inner();
    Ok(())
}
