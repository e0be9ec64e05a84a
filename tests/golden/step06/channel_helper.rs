use std::time::Duration;

use crate::pb::echo_client::EchoClient;
use tonic_health::pb::health_client::HealthClient;

const KEY: &str = "x-api-key";

/// Full paths, a boxed error kept, `Ok(..)` around an eager chain.
pub async fn dial(url: String) -> Result<tonic::transport::Channel, Box<dyn std::error::Error>> {
    let url = format!("{url}/");
    Ok(tonic::transport::Channel::from_shared(url)?
        .timeout(Duration::from_millis(1500))
        .connect()
        .await?)
}

/// A `let` holding the chain, returned in `Ok`.
fn lazy_local(addr: &'static str) -> Result<tonic::transport::Channel, tonic::transport::Error> {
    let channel = tonic::transport::Endpoint::from_static(addr).connect_lazy();
    Ok(channel)
}

#[derive(Clone)]
struct ApiKey {
    key: tonic::metadata::MetadataValue<tonic::metadata::Ascii>,
}

impl ApiKey {
    fn fixed(key: &'static str) -> Self {
        ApiKey {
            key: tonic::metadata::MetadataValue::from_static(key),
        }
    }
}

impl tonic::service::Interceptor for ApiKey {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let md = r.metadata_mut();
        md.insert(KEY, self.key.clone());
        md.insert("x-lang", "rust".parse().unwrap());
        Ok(r)
    }
}

async fn run(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let channel = dial(url).await?;
    let shared = channel.clone();
    let mut echo = EchoClient::with_interceptor(shared, ApiKey::fixed("k-1"));
    let mut health = HealthClient::new(channel);
    let mut local = EchoClient::new(lazy_local("http://[::1]:50051")?);
    let _ = (&mut echo, &mut health, &mut local);
    Ok(())
}
