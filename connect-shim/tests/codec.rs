//! tonic server and tonic client on `BuffaCodec` (step 1), over 127.0.0.1.
mod common;

use connect_shim::codec::{BuffaCodec, LimitedBuffaCodec, Limits};
use testsvc::connect::{EchoRequest, Rich};
use testsvc::impls::{rich_samples, TonicEcho};
use testsvc::{connect, pb};
use tonic::codec::Codec as _;

#[tokio::test]
async fn rich_message_round_trips_through_tonic_on_buffa_codec() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let mut client = common::tonic_echo(addr).await;
    let samples = rich_samples();
    assert!(samples.len() >= 6);
    for sample in samples {
        let back = client
            .mirror(sample.clone())
            .await
            .expect("mirror")
            .into_inner();
        assert_eq!(back, sample);
    }
}

#[tokio::test]
async fn all_rpc_kinds_and_errors_on_buffa_codec() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    check_tonic_client!(common::tonic_echo(addr).await);
}

#[tokio::test]
async fn connect_grpc_client_reaches_tonic_server_on_buffa_codec() {
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let client = common::connect_echo_client(addr, connectrpc::Protocol::Grpc);
    for sample in rich_samples() {
        assert_eq!(
            client.mirror(sample.clone()).await.unwrap().into_owned(),
            sample
        );
    }
    check_connect_client!(client);
}

#[tokio::test]
async fn max_decoding_message_size_still_applies() {
    let server = pb::echo_server::EchoServer::new(TonicEcho).max_decoding_message_size(16);
    let addr = common::serve_tonic(tonic::service::Routes::new(server)).await;
    let mut client = common::tonic_echo(addr).await;
    let big = common::req(&"x".repeat(64), 1);
    let status = client.say(big).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    // And on the client side.
    let addr = common::serve_tonic(tonic::service::Routes::new(common::tonic_echo_server())).await;
    let mut client = common::tonic_echo(addr).await.max_decoding_message_size(8);
    let status = client
        .say(common::req("long enough to exceed", 1))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
}

#[tokio::test]
async fn gzip_compression_works_around_the_codec() {
    use tonic::codec::CompressionEncoding::Gzip;
    let server = pb::echo_server::EchoServer::new(TonicEcho)
        .send_compressed(Gzip)
        .accept_compressed(Gzip);
    let addr = common::serve_tonic(tonic::service::Routes::new(server)).await;
    let mut client = common::tonic_echo(addr)
        .await
        .send_compressed(Gzip)
        .accept_compressed(Gzip);
    for sample in rich_samples() {
        let resp = client.mirror(sample.clone()).await.expect("mirror");
        assert_eq!(
            resp.metadata()
                .get("grpc-encoding")
                .expect("compressed response"),
            "gzip"
        );
        assert_eq!(resp.into_inner(), sample);
    }
    // A connect gRPC client with gzip against the same tonic server.
    let c = connect::EchoClient::new(
        connectrpc::client::HttpClient::plaintext_http2_only(),
        common::config(addr, connectrpc::Protocol::Grpc).compress_requests("gzip"),
    );
    let sample = rich_samples().remove(1);
    assert_eq!(c.mirror(sample.clone()).await.unwrap().into_owned(), sample);
}

/// Frames `bytes` as one gRPC message and decodes it through `decoder` (tonic's own framing).
async fn decode_with<D>(decoder: D, bytes: Vec<u8>) -> Result<EchoRequest, tonic::Status>
where
    D: tonic::codec::Decoder<Item = EchoRequest, Error = tonic::Status> + Send + 'static,
{
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    frame.extend_from_slice(&bytes);
    let body = http_body_util::Full::new(bytes::Bytes::from(frame));
    let mut s = tonic::Streaming::new_request(decoder, body, None, None);
    s.message().await.map(|m| m.expect("one message"))
}

#[tokio::test]
async fn decode_limits_are_configurable_by_type() {
    // A Rich decoded as EchoRequest: its fields 3.. are unknown to EchoRequest.
    let rich = Rich {
        tags: vec!["a".into(), "b".into()],
        ratio: 1.5,
        ..Default::default()
    };
    let bytes = buffa::Message::encode_to_vec(&rich);
    let ok = decode_with(
        BuffaCodec::<EchoRequest, EchoRequest>::default().decoder(),
        bytes.clone(),
    )
    .await;
    assert!(ok.is_ok(), "{ok:?}");
    type NoUnknown<E, D> = LimitedBuffaCodec<E, D, Limits<100, 0, { 1 << 20 }>>;
    let err = decode_with(
        NoUnknown::<EchoRequest, EchoRequest>::default().decoder(),
        bytes.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal, "{err:?}");
    // Generous limits behave like the default codec.
    type Generous<E, D> = LimitedBuffaCodec<E, D, Limits<100, 1000, { 1 << 20 }>>;
    let ok = decode_with(
        Generous::<EchoRequest, EchoRequest>::default().decoder(),
        bytes,
    )
    .await;
    assert!(ok.is_ok());
    // Truncated input is an Internal error, as with tonic-prost.
    let mut bad = buffa::Message::encode_to_vec(&common::req("truncate me", 1));
    bad.pop();
    let err = decode_with(
        BuffaCodec::<EchoRequest, EchoRequest>::default().decoder(),
        bad,
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Internal);
}

#[test]
fn buffa_codec_bytes_equal_prost_bytes() {
    // Same proto, prost-generated type: the wire bytes BuffaCodec produces decode as prost.
    let rich: Rich = rich_samples().remove(1);
    let bytes = buffa::Message::encode_to_vec(&rich);
    let p: testsvc::prostpb::Rich = prost::Message::decode(bytes.as_slice()).unwrap();
    let back: Rich = buffa::Message::decode_from_slice(&prost::Message::encode_to_vec(&p)).unwrap();
    assert_eq!(back, rich);
}
