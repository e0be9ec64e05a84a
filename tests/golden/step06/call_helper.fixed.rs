use crate::pb::ShopClient;
use crate::pb::GetRequest;

/// A request carrying per-call metadata: returns the message and its `CallOptions` once every
/// call of it is native.
fn traced<T>(message: T, request_id: &'static str) -> (T, connectrpc::client::CallOptions) {
    let request = message;
    let request_options = connectrpc::client::CallOptions::default().with_header("x-request-id", request_id);
    let request_options = request_options.with_header("x-trace-bin", grpc_bin_encode(b"\x01\x02"));
    (request, request_options)
}

async fn get(client: &mut ShopClient<connectrpc::client::HttpClient>) -> Result<String, tonic::Status> {
    let name = {
        let (message, options) = traced(GetRequest::default(), "get");
        client.get_with_options(message, options)
    }
        .await.map_err(connect_shim::status::to_status)?
        .into_owned()
        .name;
    match {
        let (message, options) = traced(GetRequest { id: "b".into() }, "missing");
        client.get_with_options(message, options)
    }.await.map_err(connect_shim::status::to_status) {
        Ok(response) => Ok(format!("{name} {:?}", response.into_owned())),
        Err(status) => Err(status),
    }
}

async fn with_more(client: &mut ShopClient<connectrpc::client::HttpClient>, token: &str) -> Result<(), Box<dyn std::error::Error>> {
    let (request, request_options) = traced(GetRequest::default(), "more");
    let request_options = request_options.try_with_header("authorization", format!("Bearer {token}"))?;
    let response = client.get_with_options(request, request_options).await.map_err(connect_shim::status::to_status)?;
    assert!(response.headers().get("x-request-id").is_some());
    Ok(())
}

/// gRPC binary metadata (a `-bin` header): standard base64, sent without padding.
/// (Added by cargo connect-migrate: connectrpc takes headers as they go on the wire.)
fn grpc_bin_encode(bytes: impl AsRef<[u8]>) -> String {
    const ALPHABET: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = bytes.as_ref();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}
