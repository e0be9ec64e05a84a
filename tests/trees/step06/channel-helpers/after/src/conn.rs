//! Channel helpers and an auth interceptor, spelled through a module alias, a renamed trait
//! and full paths.

use std::time::Duration;

use crate::hello_world::GreeterClient;
use tonic::transport;

pub const APP: &str = "greeter-conn";

#[derive(Clone)]
pub struct Auth {
    token: http::HeaderValue,
}

impl Auth {
    pub fn new(token: &str) -> Result<Auth, http::header::InvalidHeaderValue> {
        Ok(Auth {
            token: http::HeaderValue::try_from(format!("Bearer {token}"))?,
        })
    }
}

impl Auth {
    pub fn headers(&self) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", self.token.clone());
        headers.insert("x-app", http::HeaderValue::from_static(APP));
        headers
    }
}

pub type Authed = GreeterClient<connectrpc::client::HttpClient>;

/// Eager: fails here when the server is down.
pub async fn connect(addr: String) -> Result<(connectrpc::client::HttpClient, connectrpc::client::ClientConfig), http::uri::InvalidUri> {
    Ok((connectrpc::client::HttpClient::builder().connect_timeout(Duration::from_secs(1)).plaintext_http2_only(), connectrpc::client::ClientConfig::new(addr.parse()?).with_protocol(connectrpc::Protocol::Grpc).with_default_timeout(Duration::from_secs(3))))
}

pub fn lazy(addr: &'static str) -> (connectrpc::client::HttpClient, connectrpc::client::ClientConfig) {
    (connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(addr.parse().expect("a valid URI")).with_protocol(connectrpc::Protocol::Grpc))
}

pub fn authed(ch: (connectrpc::client::HttpClient, connectrpc::client::ClientConfig), token: &str) -> Authed {
    let auth = Auth::new(token).unwrap();
    GreeterClient::new(ch.0, ch.1.with_default_headers(auth.headers()))
}

pub fn plain(ch: (connectrpc::client::HttpClient, connectrpc::client::ClientConfig)) -> GreeterClient<connectrpc::client::HttpClient> {
    GreeterClient::new(ch.0, ch.1)
}

pub async fn both(
    addr: String,
) -> Result<(Authed, GreeterClient<connectrpc::client::HttpClient>), Box<dyn std::error::Error>> {
    let ch = connect(addr).await?;
    Ok((authed(ch.clone(), "t"), plain(ch)))
}

pub fn local() -> GreeterClient<connectrpc::client::HttpClient> {
    { let (transport, config) = lazy("http://[::1]:50051"); GreeterClient::new(transport, config) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_headers() {
        let auth = Auth::new("abc").unwrap();
        let req = auth.headers();
        assert_eq!(req.get("authorization").unwrap(), "Bearer abc");
        assert_eq!(req.get("x-app").unwrap(), APP);
    }
}
