use tonic::transport::Channel;
use connectrpc_reflection::wire::{v1alpha, v1alpha::server_reflection_response::MessageResponse};

async fn files(channel: Channel) -> Result<usize, tonic::Status> {
    use self::ServerReflectionV1alphaClient as ServerReflectionClient;

    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
            "a.B".to_string(),
        )),
        ..Default::default()
    };
    let reflection_client = ServerReflectionClient::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config());
    let mut responses = connect_shim::client::tonic_bidi(tokio_stream::once(request), |options| reflection_client.server_reflection_info_with_options(options))
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
    let client = ServerReflectionV1alphaClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(dst.parse()?).with_protocol(connectrpc::Protocol::Grpc));
    let reflection_client = 1;
    let _ = reflection_client;
    let _ = client;
    Ok(())
}

/// A `grpc.reflection.v1alpha.ServerReflection` client (connectrpc-reflection exports a v1 client
/// only); added by cargo connect-migrate (step 6).
#[derive(Clone, Debug)]
struct ServerReflectionV1alphaClient<T> {
    transport: T,
    config: connectrpc::client::ClientConfig,
}

#[allow(dead_code)]
impl<T> ServerReflectionV1alphaClient<T>
where
    T: connectrpc::client::ClientTransport,
    <T::ResponseBody as connectrpc::http_body::Body>::Error: std::fmt::Display,
{
    fn new(transport: T, config: connectrpc::client::ClientConfig) -> Self {
        Self { transport, config }
    }

    async fn server_reflection_info(&self) -> Result<
        connectrpc::client::BidiStream<
            T::ResponseBody,
            connectrpc_reflection::wire::v1alpha::ServerReflectionRequest,
            <connectrpc_reflection::wire::v1alpha::ServerReflectionResponse as connectrpc::HasMessageView>::View<'static>,
        >,
        connectrpc::ConnectError,
    > {
        self.server_reflection_info_with_options(connectrpc::client::CallOptions::default())
            .await
    }

    async fn server_reflection_info_with_options(
        &self,
        options: connectrpc::client::CallOptions,
    ) -> Result<
        connectrpc::client::BidiStream<
            T::ResponseBody,
            connectrpc_reflection::wire::v1alpha::ServerReflectionRequest,
            <connectrpc_reflection::wire::v1alpha::ServerReflectionResponse as connectrpc::HasMessageView>::View<'static>,
        >,
        connectrpc::ConnectError,
    > {
        connectrpc::client::call_bidi_stream(
            &self.transport,
            &self.config,
            connectrpc_reflection::wire::v1alpha::SERVER_REFLECTION_SERVER_REFLECTION_INFO_SPEC
                .with_origin(connectrpc::SpecOrigin::Client),
            options,
        )
        .await
    }
}
