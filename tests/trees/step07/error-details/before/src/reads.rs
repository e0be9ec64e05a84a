//! Detail reads in several spellings: the trait by alias, full paths.

use tonic::{Code, Status};
use tonic_types::StatusExt as Ext;

use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

/// The fields a rejected entry named.
pub async fn bad_fields(client: &mut Client) -> Vec<String> {
    let status = client
        .balance(String::new())
        .await
        .map_err(connect_shim::status::to_status)
        .unwrap_err();
    if status.code() != Code::InvalidArgument {
        return Vec::new();
    }
    match status.get_details_bad_request() {
        Some(b) => b.field_violations.iter().map(|v| v.field.clone()).collect(),
        None => Vec::new(),
    }
}

/// The missing resource's name.
pub fn missing(status: &Status) -> Option<String> {
    let details: tonic_types::ErrorDetails = Ext::get_error_details(status);
    details.resource_info().map(|r| r.resource_name.clone())
}

/// The request id the server echoed into the error's metadata.
pub async fn echoed_id(client: &mut Client) -> Option<String> {
    let err = client
        .balance(String::new())
        .await
        .map_err(connect_shim::status::to_status)
        .unwrap_err();
    err.metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Everything the server sent with the error, for a log line.
pub async fn logged(client: &mut Client) -> String {
    let err = client
        .balance(String::new())
        .await
        .map_err(connect_shim::status::to_status)
        .unwrap_err();
    format!("{}: {:?}", err.message(), err.metadata())
}
