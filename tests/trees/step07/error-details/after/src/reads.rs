//! Detail reads in several spellings: the trait by alias, full paths.

use connectrpc::{ConnectError, ErrorCode};
use crate::google_rpc::StatusExt as Ext;

use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

/// The fields a rejected entry named.
pub async fn bad_fields(client: &mut Client) -> Vec<String> {
    let status = client
        .balance(String::new())
        .await
        .unwrap_err();
    if status.code != ErrorCode::InvalidArgument {
        return Vec::new();
    }
    match status.get_details_bad_request() {
        Some(b) => b.field_violations.iter().map(|v| v.field.clone()).collect(),
        None => Vec::new(),
    }
}

/// The missing resource's name.
pub fn missing(status: &ConnectError) -> Option<String> {
    let details: crate::google_rpc::ErrorDetails = Ext::get_error_details(status);
    details.resource_info().map(|r| r.resource_name.clone())
}

/// The request id the server echoed into the error's metadata.
pub async fn echoed_id(client: &mut Client) -> Option<String> {
    let err = client
        .balance(String::new())
        .await
        .unwrap_err();
    err.trailers().get("x-request-id").or_else(|| err.response_headers().get("x-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Everything the server sent with the error, for a log line.
pub async fn logged(client: &mut Client) -> String {
    let err = client
        .balance(String::new())
        .await
        .unwrap_err();
    format!("{}: {:?}", err.message.as_deref().unwrap_or(""), (err.response_headers(), err.trailers()))
}
