use std::time::Duration;

use crate::pb::ShopClient;
use crate::pb::GetRequest;
use tonic::metadata::MetadataValue as Value;
use tonic::Request;

const TRACE: &[u8] = &[0xde, 0xad, 0x00, 0xbe, 0xef];

// Metadata and a deadline set on a local request: `CallOptions`, built where they were set.
async fn traced(client: &mut ShopClient<connectrpc::client::HttpClient>, token: &str) -> Result<String, Box<dyn std::error::Error>> {
    let request = GetRequest { id: "a".into(), ..Default::default() };
    let request_options = connectrpc::client::CallOptions::default().with_header("x-request-id", "req-1");
    // Binary metadata travels base64-encoded.
    let request_options = request_options.with_header("x-trace-bin", grpc_bin_encode(TRACE));
    let request_options = request_options.try_with_header("authorization", format!("Bearer {token}")).map_err(|_| "bad token")?;
    let request_options = request_options.with_timeout(Duration::from_secs(3));
    let response = client.get_with_options(request, request_options).await.map_err(connect_shim::status::to_status)?;
    let metadata = response.headers();
    let id = metadata.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let trace = grpc_bin_decode(metadata
        .get("x-trace-bin")
        .ok_or("no trace")?)
        .map_err(|e| e.to_string())?;
    assert_eq!(trace.as_ref(), TRACE);
    assert!(response.headers().get("x-served-by").is_some());
    let name = response.into_owned().item.map(|i| i.name).unwrap_or_default();
    Ok(format!("{id} {name}"))
}

// A full path and a fallible value unwrapped.
async fn full_path(client: &mut ShopClient<connectrpc::client::HttpClient>) -> String {
    let req = GetRequest::default();
    let req_options = connectrpc::client::CallOptions::default().try_with_header("x-id", "b").unwrap();
    let req_options = req_options.try_with_header("x-other", "c").unwrap();
    client.get_with_options(req, req_options).await.unwrap().into_owned().note
}

// A value built elsewhere: left on the shim wrapper (listed).
async fn elsewhere(client: &mut ShopClient<connectrpc::client::HttpClient>, value: Value<tonic::metadata::Ascii>) {
    let mut request = Request::new(GetRequest::default());
    request.metadata_mut().insert("x-id", value);
    let _ = connect_shim::client::tonic_unary(request, |request, options| client.get_with_options(request, options)).await;
}

// Extensions have no `CallOptions` equivalent: left on the shim wrapper (listed).
async fn extensions(client: &mut ShopClient<connectrpc::client::HttpClient>) {
    let mut request = Request::new(GetRequest::default());
    request.extensions_mut().insert(7u8);
    let _ = connect_shim::client::tonic_unary(request, |request, options| client.get_with_options(request, options)).await;
}

// Metadata set inside a branch: left on the shim wrapper (listed).
async fn branch(client: &mut ShopClient<connectrpc::client::HttpClient>, traced: bool) {
    let mut request = Request::new(GetRequest::default());
    if traced {
        request.metadata_mut().insert("x-id", Value::from_static("d"));
    }
    let _ = connect_shim::client::tonic_unary(request, |request, options| client.get_with_options(request, options)).await;
}

// Response metadata used whole: left on the shim wrapper (listed).
async fn whole(client: &mut ShopClient<connectrpc::client::HttpClient>) -> Result<(), tonic::Status> {
    let response = connect_shim::client::tonic_unary(GetRequest::default(), |request, options| client.get_with_options(request, options)).await?;
    let map = response.metadata().clone();
    drop(map);
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

/// The bytes of a gRPC binary metadata value (base64, padded or not).
/// (Added by cargo connect-migrate.)
fn grpc_bin_decode(value: impl AsRef<[u8]>) -> Result<Box<[u8]>, String> {
    let digits = value.as_ref().strip_suffix(b"==").or_else(|| value.as_ref().strip_suffix(b"="));
    let digits = digits.unwrap_or(value.as_ref());
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in digits {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return Err(format!("invalid base64 byte {c:#04x} in binary metadata")),
        };
        acc = acc << 6 | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out.into_boxed_slice())
}
