use std::time::Duration;

use connect_shim::client::request_from_options as tonic_request;
use connect_shim::client::connect_errors;
use connectrpc::ConnectError;

use crate::pb::GetRequest;
use crate::pb::ShopClient as Shop;

fn with_deadline<M>(message: M, tenant: &str, secs: u64) -> (M, connectrpc::client::CallOptions) {
    let req = message;
    let req_options = connectrpc::client::CallOptions::default().try_with_header("x-tenant", tenant).expect("ascii");
    let req_options = req_options.with_timeout(Duration::from_secs(secs));
    (req, req_options)
}

async fn all_kinds(mut shop: Shop<connectrpc::client::HttpClient>) -> Result<(), ConnectError> {
    let mut names = connect_errors::tonic_server_stream(connect_shim::client::request_from_options(with_deadline(GetRequest::default(), "acme", 30)), |request, options| shop.list_with_options(request, options))
        .await?
        .into_inner();
    while let Some(n) = names.message().await? {
        println!("{}", n.name);
    }
    let upload = with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 10);
    let _sum = connect_errors::tonic_client_stream(tonic_request(upload), |requests, options| shop.upload_with_options(requests, options)).await?.into_inner();
    connect_shim::client::connect_errors::tonic_client_stream(connect_shim::client::request_from_options(with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "b", 1)), |requests, options| shop.upload_with_options(requests, options)).await?;
    // Bidi: the pair is split before the call, the stream pumped.
    let _chat = connect_errors::tonic_bidi(tonic_request(with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 60)), |options| shop.chat_with_options(options))
        .await?
        .into_inner();
    // Pairs written out (step 6 bound them: statements changed the options).
    let (longer, longer_options) = with_deadline(GetRequest::default(), "acme", 5);
    let longer_options = longer_options.with_timeout(Duration::from_secs(50));
    let mut more = connect_errors::tonic_server_stream(tonic_request((longer, longer_options)), |request, options| shop.list_with_options(request, options)).await?.into_inner();
    while let Some(n) = more.message().await? {
        println!("{}", n.name);
    }
    let (talk, talk_options) = with_deadline(tokio_stream::iter(vec![GetRequest::default()]), "acme", 60);
    let talk_options = talk_options.with_header("x-more", "1");
    let _replies = connect_errors::tonic_bidi(tonic_request((talk, talk_options)), |options| shop.chat_with_options(options))
        .await?
        .into_inner();
    Ok(())
}

async fn still_status(shop: &mut Shop<connectrpc::client::HttpClient>, options: &mut Shop<connectrpc::client::HttpClient>) -> Result<(), tonic::Status> {
    // Errors still `tonic::Status` (step 7 not applied).
    let mut stream = connect_shim::client::tonic_server_stream(tonic_request(with_deadline(GetRequest::default(), "s", 2)), |request, o| shop.list_with_options(request, o))
        .await?
        .into_inner();
    while let Some(n) = stream.message().await? {
        println!("{}", n.name);
    }
    // The client is named `options`: the block binding `options` would shadow it (listed).
    let _ = connect_shim::client::tonic_server_stream(tonic_request(with_deadline(GetRequest::default(), "s", 2)), |request, o| options.list_with_options(request, o))
        .await?
        .into_inner()
        .message()
        .await?;
    Ok(())
}

async fn other_request_fn(shop: &mut Shop<connectrpc::client::HttpClient>) -> Result<(), ConnectError> {
    // Not the shim's function (a local one of the same name): a tonic request it cannot see into (listed).
    let mut s = connect_errors::tonic_server_stream(request_from_options(GetRequest::default()), |request, options| shop.list_with_options(request, options))
        .await?
        .into_inner();
    while let Some(n) = s.message().await? {
        println!("{}", n.name);
    }
    Ok(())
}

fn request_from_options<T>(m: T) -> tonic::Request<T> {
    tonic::Request::new(m)
}
