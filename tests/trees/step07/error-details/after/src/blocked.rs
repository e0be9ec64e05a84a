//! Raw detail bytes: no typed counterpart, listed.

use tonic::Status;

use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

pub async fn has_details(client: &mut Client) -> bool {
    let status: Status = client
        .balance(String::new())
        .await
        .map_err(connect_shim::status::to_status)
        .unwrap_err();
    !status.details().is_empty() || tonic_types::pb::Status::default().code != 0
}
