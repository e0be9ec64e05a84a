//! The hosting module step 9 writes into a user's crate (`connect_compat`, the template
//! `templates/connect_compat.rs` of the tool), exercised as the shim's own hosting is:
//! unmodified tonic clients get codes, messages, details and error trailers, early stream errors
//! at the call, peer addresses in handlers; Connect clients of every protocol are untouched.
mod common;

#[path = "../../templates/connect_compat.rs"]
#[allow(dead_code)]
mod connect_compat;

use testsvc::connect;
use testsvc::impls::TonicEcho;

#[tokio::test]
async fn tonic_and_connect_clients_against_the_generated_module() {
    let addr = common::serve_axum(connect_compat::connect_app(common::connect_echo_router())).await;
    // Unary and streaming, with error details and trailers (see check_tonic_client!).
    check_tonic_client!(common::tonic_echo(addr).await);
    for protocol in common::PROTOCOLS {
        check_connect_client!(common::connect_echo_client(addr, protocol));
    }
    // An error before the first message arrives when the call returns.
    let mut c = common::tonic_echo(addr).await;
    let status = c.repeat(common::req("reject", 2)).await.unwrap_err();
    testsvc::impls::expect_failure(&status);
}

#[tokio::test]
async fn handlers_see_the_peer_address_through_the_generated_module() {
    let router = connect::EchoExt::register(
        std::sync::Arc::new(testsvc::impls::Bridged(std::sync::Arc::new(TonicEcho))),
        connectrpc::Router::new(),
    );
    let service = connectrpc::ConnectRpcService::new(router);
    let addr = common::serve_axum(connect_compat::connect_app(service)).await;
    let resp = common::tonic_echo(addr)
        .await
        .say(common::req("p", 1))
        .await
        .unwrap();
    assert_eq!(resp.metadata().get("x-peer").unwrap(), "yes");
}
