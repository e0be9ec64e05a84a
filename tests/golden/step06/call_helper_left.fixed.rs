use crate::pb::ShopClient;
use crate::pb::GetRequest;
use tonic::Request;

// Its request is changed after the helper returns it, before a streaming call (kept on a shim
// wrapper until step 8, which takes a tonic request): the helper and all its calls stay as they
// are (listed).
fn authed<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", "Bearer t".parse().unwrap());
    request
}

async fn calls(client: &mut ShopClient<connectrpc::client::HttpClient>) {
    let _ = connect_shim::client::tonic_unary(authed(GetRequest::default()), |request, options| client.get_with_options(request, options)).await.unwrap().into_inner();
    let mut request = authed(GetRequest::default());
    request.extensions_mut().insert(7u8);
    let _ = connect_shim::client::tonic_server_stream(request, |request, options| client.list_with_options(request, options)).await;
}

// Not a request helper: a different tonic request (extensions); left alone.
fn with_ext<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.extensions_mut().insert(1u8);
    request
}

// Public: it may be called from other files, so it is left as it is.
pub fn public_traced<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("x-id", "p".parse().unwrap());
    request
}

async fn public_call(client: &mut ShopClient<connectrpc::client::HttpClient>) {
    let _ = connect_shim::client::tonic_unary(public_traced(GetRequest::default()), |request, options| client.get_with_options(request, options)).await.unwrap().into_inner();
}
