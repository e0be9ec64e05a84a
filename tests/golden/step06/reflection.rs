use tonic::transport::Channel;
use tonic_reflection::pb::v1 as refl;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse as Answer;

async fn list(channel: Channel) -> Result<Vec<String>, tonic::Status> {
    use refl::server_reflection_client::ServerReflectionClient as Rc;
    use refl::server_reflection_request::MessageRequest;

    let request = refl::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut client = Rc::new(channel);
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await?
        .into_inner();
    let mut names = Vec::new();
    while let Some(response) = responses.message().await? {
        if let Some(Answer::ListServicesResponse(list)) = response.message_response {
            names.extend(list.service.into_iter().map(|refl::ServiceResponse { name }| name));
        }
    }
    Ok(names)
}

async fn extension(
    client: &mut tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient<Channel>,
) -> bool {
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: "h".into(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::FileContainingExtension(
                tonic_reflection::pb::v1::ExtensionRequest { containing_type: "a.B".into(), extension_number: 7 },
            ),
        ),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    matches!(
        stream.message().await,
        Ok(Some(tonic_reflection::pb::v1::ServerReflectionResponse { message_response: Some(Answer::ErrorResponse(_)), .. }))
    )
}

async fn inline(channel: Channel, request: refl::ServerReflectionRequest) -> usize {
    let mut responses = tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(channel)
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    match responses.message().await.unwrap() {
        Some(refl::ServerReflectionResponse { valid_host, message_response: Some(Answer::FileDescriptorResponse(files)), .. }) => {
            files.file_descriptor_proto.len() + valid_host.len()
        }
        _ => 0,
    }
}
