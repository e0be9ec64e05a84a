// A v1alpha client inside an inline module: the added client lives at the top of the file.
// And a call on a clone the step does not follow.
use tonic_reflection::pb::v1alpha;

async fn probe(client: &v1alpha::server_reflection_client::ServerReflectionClient<tonic::transport::Channel>) -> bool {
    let request = v1alpha::ServerReflectionRequest::default();
    client.clone().server_reflection_info(tokio_stream::once(request)).await.is_ok()
}

mod nested {
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;

    pub fn make(channel: tonic::transport::Channel) -> ServerReflectionClient<tonic::transport::Channel> {
        ServerReflectionClient::new(channel)
    }
}
