//! `connect_shim::hosting` over real sockets on 127.0.0.1.
mod common;

use connect_shim::hosting::{self, TonicHosted};
use connectrpc::Protocol;
use testsvc::connect;
use testsvc::impls::TonicEcho;
use testsvc::pb;

/// tonic `Server` hosting the connect `Echo` (through the shim, one `add_service` line) next to a
/// native tonic `EchoAlt`.
async fn mixed_tonic_server() -> std::net::SocketAddr {
    let (listener, addr) = common::listener().await;
    let server = tonic::transport::Server::builder()
        .add_service(connect_shim::tonic_hosted!(
            connect::ECHO_SERVICE_NAME,
            common::connect_echo_router()
        ))
        .add_service(pb::echo_alt_server::EchoAltServer::new(TonicEcho));
    tokio::spawn(
        server.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    addr
}

#[tokio::test]
async fn tonic_client_against_connect_service_hosted_in_tonic_server() {
    let addr = mixed_tonic_server().await;
    check_tonic_client!(common::tonic_echo(addr).await);
    // The native tonic service on the same server still answers.
    check_tonic_client!(common::tonic_echo_alt(addr).await);
}

/// A server-streaming error before the first message reaches a tonic client when the call
/// returns (trailers-only, as a tonic server answers), with details and trailers.
#[tokio::test]
async fn tonic_client_sees_early_stream_errors_at_the_call() {
    let addr = mixed_tonic_server().await;
    let mut c = common::tonic_echo(addr).await;
    let status = c.repeat(common::req("reject", 2)).await.unwrap_err();
    testsvc::impls::expect_failure(&status);
    // Messages before an error still arrive, the error after them.
    let mut s = c.repeat(common::req("fail", 3)).await.unwrap().into_inner();
    assert_eq!(s.message().await.unwrap().unwrap().text, "fail 0");
    assert!(s.message().await.is_err());
}

#[tokio::test]
async fn connect_clients_against_connect_service_hosted_in_tonic_server() {
    let addr = mixed_tonic_server().await;
    for protocol in common::PROTOCOLS {
        check_connect_client!(common::connect_echo_client(addr, protocol));
    }
}

#[tokio::test]
async fn hosted_service_sees_peer_address() {
    // A connect service that reports ctx.peer_addr(), hosted in tonic: the bridged TonicEcho
    // reports `x-peer` from `remote_addr()`, which the adapter fills from connectrpc's PeerAddr,
    // which TonicHosted fills from tonic's TcpConnectInfo.
    let router = connect::EchoExt::register(
        std::sync::Arc::new(testsvc::impls::Bridged(std::sync::Arc::new(TonicEcho))),
        connectrpc::Router::new(),
    );
    #[derive(Debug, Clone, Copy, Default)]
    struct EchoName;
    impl hosting::ServiceName for EchoName {
        const NAME: &'static str = connect::ECHO_SERVICE_NAME;
    }
    let addr = common::serve_tonic(tonic::service::Routes::new(TonicHosted::<EchoName>::new(
        router,
    )))
    .await;
    let resp = common::tonic_echo(addr)
        .await
        .say(common::req("p", 1))
        .await
        .unwrap();
    assert_eq!(resp.metadata().get("x-peer").unwrap(), "yes");
}

#[tokio::test]
async fn without_the_fix_tonic_clients_lose_details_and_trailers() {
    // Pins the upstream behaviour the fix exists for: if this starts failing, connectrpc changed
    // its gRPC error shape and the fix may be removable (see README).
    let routes = tonic::service::Routes::new(
        connect_shim::tonic_hosted!(connect::ECHO_SERVICE_NAME, common::connect_echo_router())
            .without_grpc_error_fix(),
    );
    let addr = common::serve_tonic(routes).await;
    let status = common::tonic_echo(addr)
        .await
        .say(common::req("fail", 0))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert!(
        status.details().is_empty(),
        "details arrived without the fix"
    );
    assert!(status.metadata().get("x-err").is_none());
}

/// One axum app: native tonic `EchoAlt` and native connect `Echo`.
async fn mixed_axum_app() -> std::net::SocketAddr {
    let app = hosting::axum_app(
        tonic::service::Routes::new(pb::echo_alt_server::EchoAltServer::new(TonicEcho)),
        common::connect_echo_router(),
    );
    common::serve_axum(app).await
}

#[tokio::test]
async fn tonic_client_against_axum_app_hosting_both() {
    let addr = mixed_axum_app().await;
    check_tonic_client!(common::tonic_echo(addr).await); // connect service
    check_tonic_client!(common::tonic_echo_alt(addr).await); // tonic service
}

#[tokio::test]
async fn connect_clients_against_axum_app_hosting_both() {
    let addr = mixed_axum_app().await;
    for protocol in common::PROTOCOLS {
        check_connect_client!(common::connect_echo_client(addr, protocol));
    }
    // The tonic service speaks gRPC only.
    check_connect_client!(common::connect_echo_alt_client(addr, Protocol::Grpc));
}

fn curl(args: &[&str]) -> (String, String) {
    let out = std::process::Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is installed (see README: required for this test)");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn curl_posts_connect_json_to_unary_method() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED curl_posts_connect_json_to_unary_method: `curl` is not installed");
        return;
    }
    let addr = mixed_axum_app().await;
    let url = format!("http://{addr}/shimtest.v1.Echo/Say");
    let (ok, err) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || {
            curl(&[
                "-X",
                "POST",
                "-H",
                "content-type: application/json",
                "-H",
                "x-req: from-curl",
                "-D",
                "-",
                "-d",
                r#"{"text":"curl","count":2}"#,
                &url,
            ])
        }
    })
    .await
    .unwrap();
    assert!(ok.contains("x-resp: from-curl"), "{ok}\n{err}");
    let body = ok.rsplit("\r\n\r\n").next().unwrap();
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {ok}"));
    assert_eq!(v, serde_json::json!({"text": "hello curl", "index": 2}));

    let (fail, _) = tokio::task::spawn_blocking(move || {
        curl(&[
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            r#"{"text":"fail"}"#,
            &url,
        ])
    })
    .await
    .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&fail).unwrap_or_else(|e| panic!("{e}: {fail}"));
    assert_eq!(v["code"], "not_found");
    assert_eq!(v["message"], "no such greeting");
    assert_eq!(v["details"][0]["type"], testsvc::impls::DETAIL_TYPE);
}

/// Step 5's shape: `axum::serve` over a stream of accepted connections (as handed to tonic's
/// `serve_with_incoming`), the connect service configured as a `ConnectRpcService`, a tonic
/// service on the same app, peer addresses from axum's connect info.
async fn step5_app(router: connectrpc::Router) -> std::net::SocketAddr {
    let (listener, addr) = common::listener().await;
    let app = hosting::mixed_app(
        tonic::service::Routes::default()
            .add_service(pb::echo_alt_server::EchoAltServer::new(TonicEcho)),
        connectrpc::ConnectRpcService::new(router).with_deadline_policy(
            connectrpc::DeadlinePolicy::new().with_max(std::time::Duration::from_secs(30)),
        ),
    );
    tokio::spawn(async move {
        axum::serve(
            hosting::incoming_listener(tokio_stream::wrappers::TcpListenerStream::new(listener)),
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(std::future::pending())
        .await
        .unwrap();
    });
    addr
}

#[tokio::test]
async fn step5_app_serves_tonic_and_connect_clients() {
    let addr = step5_app(common::connect_echo_router()).await;
    check_tonic_client!(common::tonic_echo(addr).await);
    check_tonic_client!(common::tonic_echo_alt(addr).await);
    for protocol in common::PROTOCOLS {
        check_connect_client!(common::connect_echo_client(addr, protocol));
    }
    let mut c = common::tonic_echo(addr).await;
    // Early stream errors arrive when the call returns, as from a tonic server.
    let status = c.repeat(common::req("reject", 2)).await.unwrap_err();
    testsvc::impls::expect_failure(&status);
    // The peer address reaches handlers (the bridged TonicEcho reports it as `x-peer`).
    let addr = step5_app(connect::EchoExt::register(
        std::sync::Arc::new(testsvc::impls::Bridged(std::sync::Arc::new(TonicEcho))),
        connectrpc::Router::new(),
    ))
    .await;
    let mut c = common::tonic_echo(addr).await;
    let resp = c.say(common::req("p", 1)).await.unwrap();
    assert_eq!(resp.metadata().get("x-peer").unwrap(), "yes");
}

/// Step 5's shape over a Unix socket (tonic's `serve_with_incoming(UnixListenerStream)`):
/// `incoming_listener` takes whatever IO tonic took there. A tonic client over the socket is
/// served, with the same `into_make_service_with_connect_info::<SocketAddr>()` step 5 writes for
/// TCP; the connection has no TCP peer, so handlers see none (as tonic's `remote_addr()`).
#[cfg(unix)]
#[tokio::test]
async fn step5_app_serves_over_a_unix_socket() {
    let dir = std::env::temp_dir().join(format!("connect-shim-uds-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("echo.sock");
    let _ = std::fs::remove_file(&path);
    let uds = tokio::net::UnixListener::bind(&path).unwrap();
    let app = hosting::connect_app(connect::EchoExt::register(
        std::sync::Arc::new(testsvc::impls::Bridged(std::sync::Arc::new(TonicEcho))),
        connectrpc::Router::new(),
    ));
    tokio::spawn(async move {
        axum::serve(
            hosting::incoming_listener(tokio_stream::wrappers::UnixListenerStream::new(uds)),
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let channel = tonic::transport::Endpoint::from_static("http://[::]:50051")
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let path = path.clone();
            async move {
                let io = tokio::net::UnixStream::connect(path).await?;
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(io))
            }
        }))
        .await
        .unwrap();
    let mut c = pb::echo_client::EchoClient::new(channel);
    let resp = c.say(common::req("p", 1)).await.unwrap();
    assert_eq!(resp.metadata().get("x-peer").unwrap(), "no");
    assert_eq!(resp.into_inner().text, "hello p");
}
