use tonic::transport::Channel;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

struct Probe {
    client: ServerReflectionClient<Channel>,
}

impl Probe {
    async fn first(&mut self, request: ServerReflectionRequest) -> bool {
        let mut s = self
            .client
            .server_reflection_info(tokio_stream::once(request))
            .await
            .unwrap()
            .into_inner();
        matches!(
            s.message().await,
            Ok(Some(r)) if matches!(r.message_response, Some(MessageResponse::ListServicesResponse(ref l)) if !l.service.is_empty())
        )
    }
}

fn server() -> &'static [u8] {
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET
}
