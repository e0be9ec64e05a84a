//! Channel helpers and an auth interceptor, spelled through a module alias, a renamed trait
//! and full paths.

use std::time::Duration;

use crate::hello_world::greeter_client::GreeterClient;
use tonic::metadata::MetadataValue;
use tonic::service::{interceptor::InterceptedService, Interceptor as TonicInterceptor};
use tonic::transport;

pub const APP: &str = "greeter-conn";

#[derive(Clone)]
pub struct Auth {
    token: tonic::metadata::AsciiMetadataValue,
}

impl Auth {
    pub fn new(token: &str) -> Result<Auth, tonic::metadata::errors::InvalidMetadataValue> {
        Ok(Auth {
            token: MetadataValue::try_from(format!("Bearer {token}"))?,
        })
    }
}

impl TonicInterceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.token.clone());
        req.metadata_mut()
            .insert("x-app", tonic::metadata::MetadataValue::from_static(APP));
        Ok(req)
    }
}

pub type Authed = GreeterClient<InterceptedService<transport::Channel, Auth>>;

/// Eager: fails here when the server is down.
pub async fn connect(addr: String) -> Result<transport::Channel, transport::Error> {
    transport::Endpoint::new(addr)?
        .timeout(Duration::from_secs(3))
        .connect_timeout(Duration::from_secs(1))
        .connect()
        .await
}

pub fn lazy(addr: &'static str) -> transport::Channel {
    transport::Channel::from_static(addr).connect_lazy()
}

pub fn authed(ch: transport::Channel, token: &str) -> Authed {
    let auth = Auth::new(token).unwrap();
    GreeterClient::with_interceptor(ch, auth)
}

pub fn plain(ch: transport::Channel) -> GreeterClient<transport::Channel> {
    GreeterClient::new(ch)
}

pub async fn both(
    addr: String,
) -> Result<(Authed, GreeterClient<transport::Channel>), Box<dyn std::error::Error>> {
    let ch = connect(addr).await?;
    Ok((authed(ch.clone(), "t"), plain(ch)))
}

pub fn local() -> GreeterClient<transport::Channel> {
    GreeterClient::new(lazy("http://[::1]:50051"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_headers() {
        let mut auth = Auth::new("abc").unwrap();
        let req = auth.call(tonic::Request::new(())).expect("intercepted");
        assert_eq!(req.metadata().get("authorization").unwrap(), "Bearer abc");
        assert_eq!(req.metadata().get("x-app").unwrap(), APP);
    }
}
