use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus as Serving;
use tonic_health::pb::{health_client::HealthClient as Hc, HealthCheckRequest};

async fn check(channel: Channel) -> Result<bool, tonic::Status> {
    let mut client = Hc::new(channel);
    let response = client
        .check(tonic::Request::new(HealthCheckRequest {
            service: "a.B".into(),
        }))
        .await?;
    Ok(response.into_inner().status() == Serving::Serving)
}

async fn full_paths(client: &mut tonic_health::pb::health_client::HealthClient<Channel>) -> bool {
    let message = client
        .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(message.status(), tonic_health::pb::health_check_response::ServingStatus::Serving);
    message.status() == Serving::NotServing
}
