//! `connect_shim::client`: tonic call sites over a connectrpc transport (`tonic_client!`).
mod common;

use std::time::Duration;

use connect_shim::hosting;
use connectrpc::client::HttpClient;
use connectrpc::Protocol;
use testsvc::impls::{rich_samples, EchoCompatClient};

fn compat(addr: std::net::SocketAddr, protocol: Protocol) -> EchoCompatClient<HttpClient> {
    EchoCompatClient::new(
        HttpClient::plaintext_http2_only(),
        common::config(addr, protocol),
    )
}

#[tokio::test]
async fn compat_client_against_connect_server_all_protocols() {
    let app = axum::Router::new()
        .fallback_service(hosting::connect_service(common::connect_echo_router()));
    let addr = common::serve_axum(app).await;
    for protocol in [Protocol::Grpc, Protocol::Connect] {
        check_tonic_client!(compat(addr, protocol));
    }
    // gRPC-Web: all kinds (bidi checked with the whole upload sent first, see below).
    let mut c = compat(addr, Protocol::GrpcWeb);
    let reply = c.say(common::req("w", 2)).await.unwrap().into_inner();
    assert_eq!(reply.text, "hello w");
    testsvc::impls::expect_failure(&c.say(common::req("fail", 0)).await.unwrap_err());
    let mut s = c.repeat(common::req("w", 2)).await.unwrap().into_inner();
    assert_eq!(s.message().await.unwrap().unwrap().text, "w 0");
    assert_eq!(s.message().await.unwrap().unwrap().text, "w 1");
    assert!(s.message().await.unwrap().is_none());
    let up = futures::stream::iter(vec![common::req("a", 1), common::req("b", 1)]);
    assert_eq!(c.collect(up).await.unwrap().into_inner().text, "a,b");
    let up = futures::stream::iter(vec![common::req("a", 0), common::req("b", 0)]);
    let mut down = c.chat(up).await.unwrap().into_inner();
    assert_eq!(down.message().await.unwrap().unwrap().text, "echo a");
    assert_eq!(down.message().await.unwrap().unwrap().text, "echo b");
    assert!(down.message().await.unwrap().is_none());
}

#[tokio::test]
async fn compat_client_against_tonic_server() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let mut c = compat(addr, Protocol::Grpc);
    check_tonic_client!(c);
    for sample in rich_samples() {
        assert_eq!(c.mirror(sample.clone()).await.unwrap().into_inner(), sample);
    }
}

#[tokio::test]
async fn same_call_site_source_compiles_against_both_clients() {
    // What step 6 relies on: the call-site text does not change.
    macro_rules! call_site {
        ($client:expr) => {{
            let mut r = tonic::Request::new(common::req("same", 4));
            r.set_timeout(Duration::from_secs(5));
            r.metadata_mut().insert("x-req", "v".parse().unwrap());
            let resp = $client.say(r).await?;
            let v = resp.metadata().get("x-resp").cloned();
            let reply = resp.into_inner();
            Ok::<_, tonic::Status>((reply.text, reply.index, v))
        }};
    }
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let mut native = common::tonic_echo(addr).await;
    let mut shimmed = compat(addr, Protocol::Grpc);
    let a = async { call_site!(native) }.await.unwrap();
    let b = async { call_site!(shimmed) }.await.unwrap();
    assert_eq!(a, b);
}

#[tokio::test]
async fn timeout_and_metadata_reach_the_server() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let mut c = compat(addr, Protocol::Grpc);
    let mut r = tonic::Request::new(common::req("t", 1));
    r.set_timeout(Duration::from_secs(9));
    let resp = c.say(r).await.unwrap();
    assert_eq!(resp.metadata().get("x-deadline").unwrap(), "yes");
    let resp = c.say(common::req("t", 1)).await.unwrap();
    assert_eq!(resp.metadata().get("x-deadline").unwrap(), "no");
}
