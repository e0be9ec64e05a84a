use tonic::codegen::InterceptedService;
use tonic::transport::Channel;

use crate::pb::LedgerClient;

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
#[derive(Clone)]
pub struct Sdk {
    pub(crate) client: LedgerClient<connect_shim::client::ChannelTransport<InterceptedService<Channel, Token>>>,
    pub region: String,
}

impl std::fmt::Debug for Sdk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sdk").field("region", &self.region).finish_non_exhaustive()
    }
}

impl Sdk {
    pub fn new(ch: Channel, token: &str) -> Self {
        Self {
            client: LedgerClient::new(connect_shim::client::ChannelTransport::new(tonic::service::interceptor::InterceptedService::new(ch, Token(token.to_string()))), connect_shim::client::channel_config()),
            region: "eu".to_string(),
        }
    }
}
