//! Servers on 127.0.0.1 ephemeral ports and clients for the integration tests.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use connectrpc::client::{ClientConfig, HttpClient};
use connectrpc::{Protocol, Router};
use testsvc::connect;
use testsvc::impls::{ConnectEcho, TonicEcho};
use testsvc::pb;
use tokio::net::TcpListener;

pub async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// Serve a tonic `Server` with the given routes.
pub async fn serve_tonic(routes: tonic::service::Routes) -> SocketAddr {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l))
            .await
            .unwrap();
    });
    addr
}

/// Serve an axum app (HTTP/1.1 and h2c) with connect info.
pub async fn serve_axum(app: axum::Router) -> SocketAddr {
    let (l, addr) = listener().await;
    tokio::spawn(async move {
        axum::serve(l, app.into_make_service_with_connect_info::<SocketAddr>())
            .await
            .unwrap();
    });
    addr
}

/// Connect router with the native connect `Echo`.
pub fn connect_echo_router() -> Router {
    connect::EchoExt::register(Arc::new(ConnectEcho), Router::new())
}

/// Connect router with the native connect `EchoAlt`.
pub fn connect_echo_alt_router() -> Router {
    connect::EchoAltExt::register(Arc::new(ConnectEcho), Router::new())
}

pub async fn tonic_echo(
    addr: SocketAddr,
) -> pb::echo_client::EchoClient<tonic::transport::Channel> {
    pb::echo_client::EchoClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

pub async fn tonic_echo_alt(
    addr: SocketAddr,
) -> pb::echo_alt_client::EchoAltClient<tonic::transport::Channel> {
    pb::echo_alt_client::EchoAltClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

pub fn config(addr: SocketAddr, protocol: Protocol) -> ClientConfig {
    ClientConfig::new(format!("http://{addr}").parse().unwrap()).with_protocol(protocol)
}

pub fn connect_echo_client(
    addr: SocketAddr,
    protocol: Protocol,
) -> connect::EchoClient<HttpClient> {
    connect::EchoClient::new(HttpClient::plaintext_http2_only(), config(addr, protocol))
}

pub fn connect_echo_alt_client(
    addr: SocketAddr,
    protocol: Protocol,
) -> connect::EchoAltClient<HttpClient> {
    connect::EchoAltClient::new(HttpClient::plaintext_http2_only(), config(addr, protocol))
}

pub fn req(text: &str, count: i32) -> connect::EchoRequest {
    connect::EchoRequest {
        text: text.into(),
        count,
        ..Default::default()
    }
}

pub const PROTOCOLS: [Protocol; 3] = [Protocol::Connect, Protocol::Grpc, Protocol::GrpcWeb];

pub fn tonic_echo_server() -> pb::echo_server::EchoServer<TonicEcho> {
    pb::echo_server::EchoServer::new(TonicEcho)
}

/// Every RPC kind, plus errors with details and trailers, through a tonic client of `Echo` or
/// `EchoAlt` (both have the same methods).
#[macro_export]
macro_rules! check_tonic_client {
    ($client:expr) => {{
        use futures::StreamExt as _;
        let c = &mut $client;
        // Unary with request and response metadata.
        let mut r = tonic::Request::new(common::req("a", 3));
        r.metadata_mut().insert("x-req", "abc".parse().unwrap());
        let resp = c.say(r).await.expect("say");
        assert_eq!(resp.metadata().get("x-resp").expect("x-resp"), "abc");
        let reply = resp.into_inner();
        assert_eq!((reply.text.as_str(), reply.index), ("hello a", 3));
        // Unary error: code, message, details and trailers intact.
        let status = c.say(common::req("fail", 0)).await.unwrap_err();
        testsvc::impls::expect_failure(&status);
        // Server stream.
        let mut s = c
            .repeat(common::req("r", 3))
            .await
            .expect("repeat")
            .into_inner();
        for i in 0..3 {
            let m = s.message().await.unwrap().expect("item");
            assert_eq!((m.text, m.index), (format!("r {i}"), i));
        }
        assert!(s.message().await.unwrap().is_none());
        // Server stream broken after one item.
        let mut s = c
            .repeat(common::req("fail", 3))
            .await
            .expect("repeat")
            .into_inner();
        assert_eq!(s.message().await.unwrap().unwrap().text, "fail 0");
        let e = s.message().await.unwrap_err();
        assert_eq!(
            (e.code(), e.message()),
            (tonic::Code::Aborted, "stream broke")
        );
        // Client stream.
        let up = futures::stream::iter(vec![
            common::req("a", 1),
            common::req("b", 2),
            common::req("c", 3),
        ]);
        let reply = c.collect(up).await.expect("collect").into_inner();
        assert_eq!((reply.text.as_str(), reply.index), ("a,b,c", 6));
        // Bidi, interleaved.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut down = c
            .chat(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .expect("chat")
            .into_inner();
        for (i, t) in ["x", "y"].iter().enumerate() {
            tx.send(common::req(t, 0)).await.unwrap();
            let m = down.message().await.unwrap().expect("bidi item");
            assert_eq!((m.text, m.index), (format!("echo {t}"), i as i32));
        }
        tx.send(common::req("fail", 0)).await.unwrap();
        let status = loop {
            match down.next().await {
                Some(Ok(_)) => continue,
                Some(Err(s)) => break s,
                None => panic!("bidi ended without the failure"),
            }
        };
        testsvc::impls::expect_failure(&status);
        drop(tx);
        // Bidi, clean end.
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut down = c
            .chat(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .unwrap()
            .into_inner();
        tx.send(common::req("z", 0)).await.unwrap();
        assert_eq!(down.message().await.unwrap().unwrap().text, "echo z");
        drop(tx);
        assert!(down.message().await.unwrap().is_none());
    }};
}

/// Every RPC kind, plus errors, through a connectrpc client of `Echo` or `EchoAlt`.
#[macro_export]
macro_rules! check_connect_client {
    ($client:expr) => {{
        let c = &$client;
        let label = format!("{:?}", c.config().protocol());
        // Unary with metadata.
        let resp = c
            .say_with_options(
                common::req("a", 3),
                connectrpc::client::CallOptions::default().with_header("x-req", "abc"),
            )
            .await
            .expect(&label);
        assert_eq!(
            resp.headers().get("x-resp").expect("x-resp"),
            "abc",
            "{label}"
        );
        let reply = resp.into_owned();
        assert_eq!(
            (reply.text.as_str(), reply.index),
            ("hello a", 3),
            "{label}"
        );
        // Unary error.
        let err = c.say(common::req("fail", 0)).await.err().expect("error");
        testsvc::impls::expect_connect_failure(&err);
        // Server stream.
        let mut s = c.repeat(common::req("r", 3)).await.expect(&label);
        for i in 0..3 {
            let m = s
                .message()
                .await
                .expect(&label)
                .expect("item")
                .to_owned_message();
            assert_eq!((m.text, m.index), (format!("r {i}"), i), "{label}");
        }
        assert!(s.message().await.expect(&label).is_none());
        let mut s = c.repeat(common::req("fail", 3)).await.expect(&label);
        assert_eq!(
            s.message().await.unwrap().unwrap().to_owned_message().text,
            "fail 0"
        );
        let e = s.message().await.err().expect("mid-stream error");
        assert_eq!(e.code, connectrpc::ErrorCode::Aborted, "{label}");
        // Client stream.
        let up = futures::stream::iter(vec![
            common::req("a", 1),
            common::req("b", 2),
            common::req("c", 3),
        ]);
        let reply = c.collect(up).await.expect(&label).into_owned();
        assert_eq!((reply.text.as_str(), reply.index), ("a,b,c", 6), "{label}");
        // Bidi.
        let mut b = c.chat().await.expect(&label);
        for (i, t) in ["x", "y"].iter().enumerate() {
            b.send(common::req(t, 0)).await.expect(&label);
            if c.config().protocol() != connectrpc::Protocol::GrpcWeb {
                let m = b
                    .message()
                    .await
                    .expect(&label)
                    .expect("bidi item")
                    .to_owned_message();
                assert_eq!(
                    (m.text, m.index),
                    (format!("echo {t}"), i as i32),
                    "{label}"
                );
            }
        }
        b.send(common::req("fail", 0)).await.expect(&label);
        b.close_send();
        let err = loop {
            match b.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{label}: bidi ended without the failure"),
                Err(e) => break e,
            }
        };
        testsvc::impls::expect_connect_failure(&err);
    }};
}
