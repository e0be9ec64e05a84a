//! What is not `Clone` under a connect client on a tonic channel (connect transports must be
//! `Clone`): a tonic interceptor in tonic's `InterceptedService` and a tower service of the
//! user's own around the channel (both shared by the transport itself). Every call of every clone of
//! the client goes through them.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use connect_shim::client::{channel_config, ChannelTransport};
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
    let transport = ChannelTransport::new(InterceptedService::new(channel, Counter(calls.clone())));
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

/// A tower service of the user's own around the channel: stamps `x-req`. Not `Clone`.
struct Stamp<S> {
    inner: S,
    calls: usize,
}

impl<S, B> tower::Service<http::Request<B>> for Stamp<S>
where
    S: tower::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        self.calls += 1;
        req.headers_mut()
            .insert("x-req", self.calls.to_string().parse().unwrap());
        self.inner.call(req)
    }
}

#[tokio::test]
async fn a_non_clone_service_around_the_channel_serves_every_clone() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let transport = ChannelTransport::new(Stamp {
        inner: channel,
        calls: 0,
    });
    let client = testsvc::connect::EchoClient::new(transport.clone(), channel_config());
    let other = client.clone();
    let (a, b) = tokio::join!(
        client.say_with_options(common::req("a", 1), CallOptions::default()),
        other.say_with_options(common::req("b", 1), CallOptions::default()),
    );
    let mut seen: Vec<String> = [a.unwrap(), b.unwrap()]
        .iter()
        .map(|r| {
            r.headers()
                .get("x-resp")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    seen.sort();
    assert_eq!(seen, ["1", "2"]);
    // The channel back once the clients are gone.
    drop((client, other));
    let stamp = transport.into_inner().expect("the last clone");
    assert_eq!(stamp.calls, 2);
}
