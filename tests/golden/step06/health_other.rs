// Not tonic-health: a local `HealthClient` and a `HealthCheckRequest` of the user's own.
mod tonic_health_like {
    pub struct HealthCheckRequest {
        pub service: String,
    }
    pub struct HealthClient;
    impl HealthClient {
        pub fn new(_: ()) -> Self {
            HealthClient
        }
    }
}
use tonic_health_like::{HealthCheckRequest, HealthClient};

fn build() -> (HealthClient, HealthCheckRequest) {
    // tonic_health is named in this comment only.
    (HealthClient::new(()), HealthCheckRequest { service: String::new() })
}
