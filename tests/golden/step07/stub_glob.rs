//! A ledger client after step 6 that globbed the generated module: connect client, errors still
//! converted to tonic's, and tonic's `ledger_client::*` glob left in place.

use std::time::Duration;

use tonic::{Code, Status};

// Step 1 named the client beside its globs (the package module's and tonic's stub module);
// step 6 moved the name to the connect client and left the stub glob.
use crate::pb::{ledger_client::*, *};
use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

/// Retry transient failures a few times.
pub async fn balance(client: &mut Client, account: &str) -> Result<i64, Status> {
    let mut delay = Duration::from_millis(50);
    loop {
        match client.balance(account.to_string()).await.map_err(connect_shim::status::to_status) {
            Ok(resp) => return Ok(resp.into_owned().amount),
            Err(status) if is_transient(&status) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(status) => return Err(status),
        }
    }
}

fn is_transient(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::Cancelled)
}

/// The error of a missing account, for the log.
pub async fn missing(client: &mut Client) -> String {
    let err = client
        .balance(String::new())
        .await
        .map_err(connect_shim::status::to_status)
        .unwrap_err();
    format!("{:?}: {}", err.code(), err.message())
}

/// A streaming read step 6 kept tonic-shaped.
pub async fn history(client: &mut Client) -> Result<usize, String> {
    let mut entries = connect_shim::client::tonic_server_stream(String::new(), |request, options| client.history_with_options(request, options))
        .await
        .map_err(|s| s.to_string())?
        .into_inner();
    let mut n = 0;
    loop {
        match entries.message().await {
            Ok(Some(_)) => n += 1,
            Ok(None) => return Ok(n),
            Err(status) if status.code() == Code::DataLoss => return Err(status.message().to_string()),
            Err(status) => return Err(status.to_string()),
        }
    }
}
