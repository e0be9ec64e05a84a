//! `connect_shim::server`: a tonic impl run inside the connect trait (`Bridged`), over 127.0.0.1.
mod common;

use std::sync::Arc;
use std::time::Duration;

use connect_shim::hosting;
use testsvc::connect;
use testsvc::impls::{rich_samples, Bridged, TonicEcho};

fn bridged_router() -> connectrpc::Router {
    connect::EchoExt::register(
        Arc::new(Bridged(Arc::new(TonicEcho))),
        connectrpc::Router::new(),
    )
}

async fn bridged_axum() -> std::net::SocketAddr {
    common::serve_axum(
        axum::Router::new().fallback_service(hosting::connect_service(bridged_router())),
    )
    .await
}

#[tokio::test]
async fn tonic_client_against_bridged_tonic_impl() {
    let addr = bridged_axum().await;
    check_tonic_client!(common::tonic_echo(addr).await);
}

#[tokio::test]
async fn connect_clients_against_bridged_tonic_impl() {
    let addr = bridged_axum().await;
    for protocol in common::PROTOCOLS {
        check_connect_client!(common::connect_echo_client(addr, protocol));
    }
    // Connect + JSON: the request arrives as JSON, the tonic body still sees the owned message.
    let client = connect::EchoClient::new(
        connectrpc::client::HttpClient::plaintext(),
        common::config(addr, connectrpc::Protocol::Connect).json(),
    );
    for sample in rich_samples() {
        assert_eq!(
            client.mirror(sample.clone()).await.unwrap().into_owned(),
            sample
        );
    }
}

#[tokio::test]
async fn metadata_peer_address_and_deadline_reach_the_tonic_body() {
    let addr = bridged_axum().await;
    let mut client = common::tonic_echo(addr).await;
    let mut r = tonic::Request::new(common::req("m", 1));
    r.metadata_mut().insert("x-req", "meta".parse().unwrap());
    r.set_timeout(Duration::from_secs(20));
    let resp = client.say(r).await.unwrap();
    assert_eq!(resp.metadata().get("x-resp").unwrap(), "meta");
    assert_eq!(resp.metadata().get("x-peer").unwrap(), "yes");
    assert_eq!(resp.metadata().get("x-deadline").unwrap(), "yes");
    // No timeout sent: no deadline invented.
    let resp = client.say(common::req("m", 1)).await.unwrap();
    assert_eq!(resp.metadata().get("x-deadline").unwrap(), "no");
    // Same through a connect client on the Connect protocol.
    let c = common::connect_echo_client(addr, connectrpc::Protocol::Connect);
    let resp = c
        .say_with_options(
            common::req("m", 1),
            connectrpc::client::CallOptions::default().with_timeout(Duration::from_secs(20)),
        )
        .await
        .unwrap();
    assert_eq!(resp.headers().get("x-deadline").unwrap(), "yes");
    assert_eq!(resp.headers().get("x-peer").unwrap(), "yes");
}

#[tokio::test]
async fn bridged_impl_hosted_in_tonic_server() {
    let routes = tonic::service::Routes::new(connect_shim::tonic_hosted!(
        connect::ECHO_SERVICE_NAME,
        bridged_router()
    ));
    let addr = common::serve_tonic(routes).await;
    check_tonic_client!(common::tonic_echo(addr).await);
}

#[tokio::test]
async fn generated_bridge_serves_a_whole_tonic_impl() {
    // `tonic_bridge!` in testsvc: connect `EchoAlt` for `TonicBridge<T: tonic EchoAlt>`.
    let router = connect::EchoAltExt::register(
        Arc::new(connect_shim::server::TonicBridge::new(TonicEcho)),
        connectrpc::Router::new(),
    );
    let addr =
        common::serve_axum(axum::Router::new().fallback_service(hosting::connect_service(router)))
            .await;
    check_tonic_client!(common::tonic_echo_alt(addr).await);
    for protocol in common::PROTOCOLS {
        check_connect_client!(common::connect_echo_alt_client(addr, protocol));
    }
}
