//! A metadata key that is not a literal: the read stays on tonic (listed).

use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

pub async fn echoed(client: &mut Client, key: &str) -> bool {
    let err = client
        .balance(String::new())
        .await
        .map_err(connect_shim::status::to_status)
        .unwrap_err();
    err.metadata().get(key).is_some()
}
