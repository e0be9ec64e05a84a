// tonic-reflection before 0.11: `pb` is the v1alpha package.
use tonic_reflection::pb;
use tonic_reflection::pb::server_reflection_client::ServerReflectionClient;

async fn probe(channel: tonic::transport::Channel) -> Option<String> {
    let client = ServerReflectionClient::new(channel);
    let request = tonic_reflection::pb::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(pb::server_reflection_request::MessageRequest::ListServices(String::new())),
    };
    let mut inbound = client
        .server_reflection_info(futures::stream::iter([request]))
        .await
        .ok()?
        .into_inner();
    let response = inbound.message().await.ok()??;
    match response.message_response? {
        pb::server_reflection_response::MessageResponse::ListServicesResponse(list) => {
            list.service.first().map(|s| s.name.clone())
        }
        _ => None,
    }
}
