use tonic::transport::Channel;
use tonic_reflection::pb::{v1alpha, v1alpha::server_reflection_response::MessageResponse};

async fn files(channel: Channel) -> Result<usize, tonic::Status> {
    use v1alpha::server_reflection_client::ServerReflectionClient;

    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
            "a.B".to_string(),
        )),
    };
    let mut responses = ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await?
        .into_inner();
    match responses.message().await? {
        Some(v1alpha::ServerReflectionResponse {
            message_response: Some(MessageResponse::FileDescriptorResponse(files)),
            ..
        }) => Ok(files.file_descriptor_proto.len()),
        _ => Ok(0),
    }
}

async fn connect(dst: String) -> Result<(), Box<dyn std::error::Error>> {
    let client = tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient::connect(dst).await?;
    let reflection_client = 1;
    let _ = reflection_client;
    let _ = client;
    Ok(())
}
