use std::time::Duration;

use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::pb::ledger_client::LedgerClient;

/// Retry transient failures a few times.
pub async fn balance(client: &mut LedgerClient<Channel>, account: &str) -> Result<i64, Status> {
    let mut delay = Duration::from_millis(50);
    loop {
        match client.balance(account.to_string()).await {
            Ok(resp) => return Ok(resp.into_inner().amount),
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
