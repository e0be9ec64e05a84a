use tonic::transport::Channel;
use connectrpc_health::wire::ServingStatus as Serving;
use connectrpc_health::{HealthClient as Hc, wire::HealthCheckRequest};

async fn check(channel: Channel) -> Result<bool, tonic::Status> {
    let mut client = Hc::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config());
    let response = client
        .check(HealthCheckRequest {
            service: "a.B".into(),
            ..Default::default()
        })
        .await.map_err(connect_shim::status::to_status)?;
    Ok(response.into_owned().status.as_known().unwrap_or_default() == Serving::Serving)
}

async fn full_paths(client: &mut connectrpc_health::HealthClient<connect_shim::client::ChannelTransport<Channel>>) -> bool {
    let message = client
        .check(connectrpc_health::wire::HealthCheckRequest { service: String::new(), ..Default::default() })
        .await.map_err(connect_shim::status::to_status)
        .unwrap()
        .into_owned();
    assert_eq!(message.status.as_known().unwrap_or_default(), connectrpc_health::wire::ServingStatus::Serving);
    message.status.as_known().unwrap_or_default() == Serving::NotServing
}
