use tonic::transport::Channel;
use connectrpc_reflection::wire::v1 as refl;
use connectrpc_reflection::wire::v1::server_reflection_response::MessageResponse as Answer;

async fn list(channel: Channel) -> Result<Vec<String>, tonic::Status> {
    use connectrpc_reflection::ServerReflectionClient as Rc;
    use connectrpc_reflection::wire::v1::server_reflection_request::MessageRequest;

    let request = refl::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
        ..Default::default()
    };
    let mut client = Rc::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config());
    let mut responses = connect_shim::client::tonic_bidi(tokio_stream::iter(vec![request]), |options| client.server_reflection_info_with_options(options))
        .await?
        .into_inner();
    let mut names = Vec::new();
    while let Some(response) = responses.message().await? {
        if let Some(Answer::ListServicesResponse(list)) = response.message_response {
            names.extend(list.service.into_iter().map(|refl::ServiceResponse { name, .. }| name));
        }
    }
    Ok(names)
}

async fn extension(
    client: &mut connectrpc_reflection::ServerReflectionClient<connect_shim::client::ChannelTransport<Channel>>,
) -> bool {
    let request = connectrpc_reflection::wire::v1::ServerReflectionRequest {
        host: "h".into(),
        message_request: Some(
            connectrpc_reflection::wire::v1::server_reflection_request::MessageRequest::FileContainingExtension(
                Box::new(connectrpc_reflection::wire::v1::ExtensionRequest { containing_type: "a.B".into(), extension_number: 7, ..Default::default() }),
            ),
        ),
        ..Default::default()
    };
    let mut stream = connect_shim::client::tonic_bidi(tokio_stream::once(request), |options| client.server_reflection_info_with_options(options))
        .await
        .unwrap()
        .into_inner();
    matches!(
        stream.message().await,
        Ok(Some(connectrpc_reflection::wire::v1::ServerReflectionResponse { message_response: Some(Answer::ErrorResponse(_)), .. }))
    )
}

async fn inline(channel: Channel, request: refl::ServerReflectionRequest) -> usize {
    let reflection_client = connectrpc_reflection::ServerReflectionClient::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config());
    let mut responses = connect_shim::client::tonic_bidi(tokio_stream::once(request), |options| reflection_client.server_reflection_info_with_options(options))
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
