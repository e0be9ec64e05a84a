//! A tonic interceptor that is not `Clone` under a connect client on a tonic channel: connect
//! transports must be `Clone`, so the interceptor is shared by the transport's clones
//! (`SharedInterceptor`), and every call of every clone goes through it.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use connect_shim::client::{channel_config, ChannelTransport, SharedInterceptor};
use connectrpc::client::CallOptions;
use tonic::service::interceptor::InterceptedService;

/// Counts the calls and sends the count as `x-req` (the echo server answers it as `x-resp`).
/// Deliberately not `Clone`.
struct Counter(Arc<AtomicUsize>);

impl tonic::service::Interceptor for Counter {
    fn call(&mut self, mut r: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        r.metadata_mut()
            .insert("x-req", n.to_string().parse().unwrap());
        Ok(r)
    }
}

#[tokio::test]
async fn a_non_clone_interceptor_serves_every_clone_of_the_client() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let transport = ChannelTransport::new(InterceptedService::new(
        channel,
        SharedInterceptor::new(Counter(calls.clone())),
    ));
    let client = testsvc::connect::EchoClient::new(transport, channel_config());
    let other = client.clone();
    let first = client
        .say_with_options(common::req("a", 1), CallOptions::default())
        .await
        .unwrap();
    let second = other
        .say_with_options(common::req("b", 1), CallOptions::default())
        .await
        .unwrap();
    assert_eq!(first.headers().get("x-resp").unwrap(), "1");
    assert_eq!(second.headers().get("x-resp").unwrap(), "2");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
