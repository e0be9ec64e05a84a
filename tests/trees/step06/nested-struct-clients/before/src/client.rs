use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

use crate::pb::ledger_client::LedgerClient;

/// What a ledger call can fail with.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    #[error("rpc failure")]
    Rpc(#[from] tonic::Status),
}

/// Adds the caller's token to every request.
#[derive(Clone, Debug)]
pub struct Token(pub String);

impl tonic::service::Interceptor for Token {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let v = self.0.parse().map_err(|_| tonic::Status::invalid_argument("token"))?;
        r.metadata_mut().insert("authorization", v);
        Ok(r)
    }
}

/// The SDK: the generated client behind the caller's token, and where it calls.
#[derive(Clone, Debug)]
pub struct Sdk {
    pub(crate) client: LedgerClient<InterceptedService<Channel, Token>>,
    pub region: String,
}

impl Sdk {
    pub fn new(ch: Channel, token: &str) -> Self {
        Self {
            client: LedgerClient::with_interceptor(ch, Token(token.to_string())),
            region: "eu".to_string(),
        }
    }
}
