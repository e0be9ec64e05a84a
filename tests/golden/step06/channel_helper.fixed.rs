use std::time::Duration;

use crate::pb::EchoClient;
use connectrpc_health::HealthClient;

const KEY: &str = "x-api-key";

/// Full paths, a boxed error kept, `Ok(..)` around an eager chain.
pub async fn dial(url: String) -> Result<(connectrpc::client::HttpClient, connectrpc::client::ClientConfig), Box<dyn std::error::Error>> {
    let url = format!("{url}/");
    Ok((connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(url.parse()?).with_protocol(connectrpc::Protocol::Grpc).with_default_timeout(Duration::from_millis(1500))))
}

/// A `let` holding the chain, returned in `Ok`.
fn lazy_local(addr: &'static str) -> Result<(connectrpc::client::HttpClient, connectrpc::client::ClientConfig), http::uri::InvalidUri> {
    let channel = (connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(addr.parse().expect("a valid URI")).with_protocol(connectrpc::Protocol::Grpc));
    Ok(channel)
}

#[derive(Clone)]
struct ApiKey {
    key: http::HeaderValue,
}

impl ApiKey {
    fn fixed(key: &'static str) -> Self {
        ApiKey {
            key: http::HeaderValue::from_static(key),
        }
    }
}

impl ApiKey {
    pub fn headers(&self) -> http::HeaderMap {
        let mut headers = http::HeaderMap::new();
        headers.insert(KEY, self.key.clone());
        headers.insert("x-lang", "rust".parse().unwrap());
        headers
    }
}

async fn run(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let channel = dial(url).await?;
    let shared = channel.clone();
    let mut echo = EchoClient::new(shared.0, shared.1.with_default_headers(ApiKey::fixed("k-1").headers()));
    let mut health = HealthClient::new(channel.0, channel.1);
    let mut local = { let (transport, config) = lazy_local("http://[::1]:50051")?; EchoClient::new(transport, config) };
    let _ = (&mut echo, &mut health, &mut local);
    Ok(())
}
