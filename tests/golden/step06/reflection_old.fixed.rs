// tonic-reflection before 0.11: `pb` is the v1alpha package.
use connectrpc_reflection::wire as pb;
use self::ServerReflectionV1alphaClient as ServerReflectionClient;

async fn probe(channel: tonic::transport::Channel) -> Option<String> {
    let client = ServerReflectionClient::new(connect_shim::client::ChannelTransport::new(channel), connect_shim::client::channel_config());
    let request = connectrpc_reflection::wire::v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(connectrpc_reflection::wire::v1alpha::server_reflection_request::MessageRequest::ListServices(String::new())),
        ..Default::default()
    };
    let mut inbound = connect_shim::client::tonic_bidi(futures::stream::iter([request]), |options| client.server_reflection_info_with_options(options))
        .await
        .ok()?
        .into_inner();
    let response = inbound.message().await.ok()??;
    match response.message_response? {
        connectrpc_reflection::wire::v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list) => {
            list.service.first().map(|s| s.name.clone())
        }
        _ => None,
    }
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
