use tonic::Request;
use connectrpc::ConnectError;

use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

/// A call after step 6: its error still converted to tonic's.
pub async fn balance(client: &mut Client, account: &str) -> Result<i64, ConnectError> {
    let reply = client.balance(account.to_string()).await?;
    Ok(reply.into_owned().amount)
}

/// Handed to a client built on the tonic channel (`InterceptedService::new(channel, intercept)`): tonic
/// calls it, so its `Status` stays tonic's.
fn intercept(req: Request<()>) -> Result<Request<()>, tonic::Status> {
    if req.metadata().get("token").is_none() {
        return Err(tonic::Status::unauthenticated("no token"));
    }
    Ok(req)
}

struct Auth;

impl Auth {
    /// A method of the same shape, used the same way.
    fn check(req: Request<()>) -> Result<Request<()>, tonic::Status> {
        intercept(req)
    }
}
