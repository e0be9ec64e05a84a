use std::sync::Arc;

use tonic::service::Interceptor;
use tonic::Request;
use connectrpc::ConnectError;

use crate::pb::LedgerClient;

type Client = LedgerClient<connectrpc::client::HttpClient>;

/// A call after step 6: its error still converted to tonic's.
pub async fn balance(client: &mut Client, account: &str) -> Result<i64, ConnectError> {
    let reply = client.balance(account.to_string()).await?;
    Ok(reply.into_owned().amount)
}

/// A handler the user plugs into the interceptor: tonic's interceptor shape, so its `Status`
/// stays tonic's.
type InterceptHandler = dyn Fn(Request<()>) -> Result<Request<()>, tonic::Status> + Send + Sync;
type InterceptFn = fn(Request<()>) -> Result<Request<()>, tonic::Status>;

#[derive(Clone)]
struct Custom {
    handler: Option<Arc<InterceptHandler>>,
    plain: Option<InterceptFn>,
}

impl Interceptor for Custom {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, tonic::Status> {
        if let Some(h) = &self.handler {
            request = h(request)?;
        }
        if let Some(f) = self.plain {
            request = f(request)?;
        }
        Ok(request)
    }
}

/// Not an interceptor: a handler of the errors client calls return (renamed).
type ErrorHandler = dyn Fn(&str, &ConnectError) + Send + Sync;
