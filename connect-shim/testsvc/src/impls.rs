//! The test service, three ways: native connect ([`ConnectEcho`]), native tonic on buffa messages
//! ([`TonicEcho`]), and the tonic impl run inside the connect trait through
//! `connect_shim::server` ([`Bridged`]). All three behave the same, so every test can compare.
//!
//! Behaviour: `Say` answers `hello {text}` with `index = count`, echoes header `x-req` as
//! `x-resp`; text `fail` gives [`expect_failure`]'s error. `Repeat` streams `count` replies
//! `{text} {i}`; text `fail` breaks with `Aborted` after the first. `Collect` joins texts with
//! `,` and sums counts into `index`. `Chat` answers each message with `echo {text}` and index
//! `i`; text `fail` ends with the failure. `Mirror` returns its input.
#![allow(refining_impl_trait)]

use std::pin::Pin;
use std::sync::Arc;

use connect_shim::status::{RpcAny, RpcStatus};
use connectrpc::{
    ConnectError, ErrorDetail, InboundStream, RequestContext, Response, ServiceRequest,
    ServiceResult, ServiceStream,
};
use futures::{Stream, StreamExt};
use tonic::{Request, Status, Streaming};

use crate::connect::{EchoReply, EchoRequest, Rich};
use crate::pb;

/// Full name of the message carried as error detail.
pub const DETAIL_TYPE: &str = "shimtest.v1.EchoReply";
/// Binary trailer sent with failures.
pub const ERR_BIN: &[u8] = &[0, 1, 0xfe, 0xff];

/// The detail attached to failures.
pub fn detail_message() -> EchoReply {
    EchoReply {
        text: "because".into(),
        index: 42,
        ..Default::default()
    }
}

/// The failure, built natively for connect.
pub fn connect_failure() -> ConnectError {
    use base64::Engine as _;
    let mut trailers = http::HeaderMap::new();
    trailers.insert("x-err", "custom".parse().unwrap());
    trailers.insert(
        "x-err-bin",
        base64::engine::general_purpose::STANDARD_NO_PAD
            .encode(ERR_BIN)
            .parse()
            .unwrap(),
    );
    ConnectError::not_found("no such greeting")
        .with_detail(ErrorDetail::from_message(DETAIL_TYPE, &detail_message()))
        .with_trailers(trailers)
}

/// The same failure, built natively for tonic (details encoded by hand, not by the shim's
/// conversions).
pub fn tonic_failure() -> Status {
    let details = RpcStatus {
        code: tonic::Code::NotFound as i32,
        message: "no such greeting".into(),
        details: vec![RpcAny {
            type_url: format!("type.googleapis.com/{DETAIL_TYPE}"),
            value: buffa::Message::encode_to_vec(&detail_message()),
        }],
    };
    let mut md = tonic::metadata::MetadataMap::new();
    md.insert("x-err", "custom".parse().unwrap());
    md.insert_bin(
        "x-err-bin",
        tonic::metadata::MetadataValue::from_bytes(ERR_BIN),
    );
    Status::with_details_and_metadata(
        tonic::Code::NotFound,
        "no such greeting",
        details.encode_to_vec().into(),
        md,
    )
}

/// Checks a failure received by a tonic client: code, message, detail, text and binary trailer.
pub fn expect_failure(status: &Status) {
    assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}");
    assert_eq!(status.message(), "no such greeting");
    let details = RpcStatus::decode(status.details()).expect("details are a google.rpc.Status");
    assert_eq!(details.details.len(), 1, "{details:?}");
    assert_eq!(
        details.details[0].type_url,
        format!("type.googleapis.com/{DETAIL_TYPE}")
    );
    let detail: EchoReply = buffa::Message::decode_from_slice(&details.details[0].value).unwrap();
    assert_eq!(detail, detail_message());
    assert_eq!(
        status.metadata().get("x-err").expect("x-err trailer"),
        "custom"
    );
    let bin = status
        .metadata()
        .get_bin("x-err-bin")
        .expect("x-err-bin trailer");
    assert_eq!(&bin.to_bytes().unwrap()[..], ERR_BIN);
}

/// Checks a failure received by a connect client.
pub fn expect_connect_failure(err: &ConnectError) {
    use base64::Engine as _;
    assert_eq!(err.code, connectrpc::ErrorCode::NotFound, "{err:?}");
    assert_eq!(err.message.as_deref(), Some("no such greeting"));
    assert_eq!(err.details.len(), 1, "{err:?}");
    // gRPC keeps the Any prefix, Connect uses the bare name.
    assert!(err.details[0].type_url.ends_with(DETAIL_TYPE));
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(err.details[0].value.as_deref().unwrap())
        .unwrap();
    let detail: EchoReply = buffa::Message::decode_from_slice(&bytes).unwrap();
    assert_eq!(detail, detail_message());
    let find = |k: &str| {
        err.trailers()
            .get(k)
            .or_else(|| err.response_headers().get(k))
            .cloned()
    };
    assert_eq!(find("x-err").expect("x-err"), "custom");
    let bin = find("x-err-bin").expect("x-err-bin");
    let bin = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(bin.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(bin.as_bytes()))
        .unwrap();
    assert_eq!(bin, ERR_BIN);
}

fn say_reply(text: &str, count: i32) -> EchoReply {
    EchoReply {
        text: format!("hello {text}"),
        index: count,
        ..Default::default()
    }
}

fn repeat_items(text: String, count: i32) -> Vec<EchoReply> {
    (0..count)
        .map(|i| EchoReply {
            text: format!("{text} {i}"),
            index: i,
            ..Default::default()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Native connect

/// Native connectrpc implementation.
#[derive(Debug, Clone, Default)]
pub struct ConnectEcho;

impl ConnectEcho {
    fn say_impl(&self, ctx: &RequestContext, text: &str, count: i32) -> ServiceResult<EchoReply> {
        if text == "fail" {
            return Err(connect_failure());
        }
        let mut resp = Response::new(say_reply(text, count));
        if let Some(v) = ctx.header("x-req") {
            resp.headers.insert("x-resp", v.clone());
        }
        Ok(resp)
    }

    fn repeat_impl(&self, text: String, count: i32) -> ServiceResult<ServiceStream<EchoReply>> {
        if text == "reject" {
            // Fails before the first message (a trailers-only response under gRPC).
            return Err(connect_failure());
        }
        let fail = text == "fail";
        let items = repeat_items(text, count);
        let stream = futures::stream::iter(items.into_iter().enumerate().map(move |(i, r)| {
            if fail && i == 1 {
                Err(ConnectError::aborted("stream broke"))
            } else {
                Ok(r)
            }
        }));
        let stream: ServiceStream<EchoReply> = if fail {
            Box::pin(stream.scan(false, |done, item| {
                // Stop after the error.
                let out = if *done { None } else { Some(item) };
                if matches!(out, Some(Err(_))) {
                    *done = true;
                }
                futures::future::ready(out)
            }))
        } else {
            Box::pin(stream)
        };
        Response::stream_ok(stream)
    }

    async fn collect_impl(
        &self,
        mut requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        let mut texts = Vec::new();
        let mut sum = 0;
        while let Some(m) = requests.next().await {
            let m = m?.to_owned_message();
            texts.push(m.text);
            sum += m.count;
        }
        Response::ok(EchoReply {
            text: texts.join(","),
            index: sum,
            ..Default::default()
        })
    }

    fn chat_impl(
        &self,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        let out = requests
            .enumerate()
            .map(|(i, m)| {
                let m = m?.to_owned_message();
                if m.text == "fail" {
                    return Err(connect_failure());
                }
                Ok(EchoReply {
                    text: format!("echo {}", m.text),
                    index: i as i32,
                    ..Default::default()
                })
            })
            .scan(false, |done, item| {
                let out = if *done { None } else { Some(item) };
                if matches!(out, Some(Err(_))) {
                    *done = true;
                }
                futures::future::ready(out)
            });
        Response::stream_ok(out)
    }
}

impl crate::connect::Echo for ConnectEcho {
    async fn say(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        self.say_impl(&ctx, request.text, request.count)
    }
    async fn repeat(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        self.repeat_impl(request.text.to_owned(), request.count)
    }
    async fn collect(
        &self,
        _ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        self.collect_impl(requests).await
    }
    async fn chat(
        &self,
        _ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        self.chat_impl(requests)
    }
    async fn mirror(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, Rich>,
    ) -> ServiceResult<Rich> {
        Response::ok(request.to_owned_message())
    }
}

impl crate::connect::EchoAlt for ConnectEcho {
    async fn say(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        self.say_impl(&ctx, request.text, request.count)
    }
    async fn repeat(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        self.repeat_impl(request.text.to_owned(), request.count)
    }
    async fn collect(
        &self,
        _ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        self.collect_impl(requests).await
    }
    async fn chat(
        &self,
        _ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        self.chat_impl(requests)
    }
}

// ---------------------------------------------------------------------------------------------
// Native tonic, on buffa messages through BuffaCodec

/// Boxed tonic response stream.
pub type TonicStream = Pin<Box<dyn Stream<Item = Result<EchoReply, Status>> + Send>>;

/// Native tonic implementation (step-1 shape: tonic stubs, buffa messages). Besides the common
/// behaviour, `Say` reports in response metadata whether the peer address (`x-peer`) and a
/// deadline (`x-deadline`) reached it.
#[derive(Debug, Clone, Default)]
pub struct TonicEcho;

impl TonicEcho {
    async fn say_impl(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        let x_req = request.metadata().get("x-req").cloned();
        let peer = request.remote_addr().is_some();
        let deadline = request.metadata().get("grpc-timeout").is_some();
        let m = request.into_inner();
        if m.text == "fail" {
            return Err(tonic_failure());
        }
        let mut resp = tonic::Response::new(say_reply(&m.text, m.count));
        if let Some(v) = x_req {
            resp.metadata_mut().insert("x-resp", v);
        }
        resp.metadata_mut()
            .insert("x-peer", if peer { "yes" } else { "no" }.parse().unwrap());
        resp.metadata_mut().insert(
            "x-deadline",
            if deadline { "yes" } else { "no" }.parse().unwrap(),
        );
        Ok(resp)
    }

    async fn repeat_impl(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<tonic::Response<TonicStream>, Status> {
        let m = request.into_inner();
        let fail = m.text == "fail";
        let items = repeat_items(m.text, m.count);
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            for (i, r) in items.into_iter().enumerate() {
                if fail && i == 1 {
                    let _ = tx.send(Err(Status::aborted("stream broke"))).await;
                    return;
                }
                if tx.send(Ok(r)).await.is_err() {
                    return;
                }
            }
        });
        Ok(tonic::Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn collect_impl(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        let mut stream = request.into_inner();
        let mut texts = Vec::new();
        let mut sum = 0;
        while let Some(m) = stream.message().await? {
            texts.push(m.text);
            sum += m.count;
        }
        Ok(tonic::Response::new(EchoReply {
            text: texts.join(","),
            index: sum,
            ..Default::default()
        }))
    }

    async fn chat_impl(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<TonicStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            let mut i = 0;
            loop {
                match inbound.message().await {
                    Ok(Some(m)) if m.text == "fail" => {
                        let _ = tx.send(Err(tonic_failure())).await;
                        return;
                    }
                    Ok(Some(m)) => {
                        let reply = EchoReply {
                            text: format!("echo {}", m.text),
                            index: i,
                            ..Default::default()
                        };
                        i += 1;
                        if tx.send(Ok(reply)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                }
            }
        });
        Ok(tonic::Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

#[tonic::async_trait]
impl pb::echo_server::Echo for TonicEcho {
    async fn say(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        self.say_impl(request).await
    }
    type RepeatStream = TonicStream;
    async fn repeat(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<tonic::Response<TonicStream>, Status> {
        self.repeat_impl(request).await
    }
    async fn collect(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        self.collect_impl(request).await
    }
    type ChatStream = TonicStream;
    async fn chat(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<TonicStream>, Status> {
        self.chat_impl(request).await
    }
    async fn mirror(&self, request: Request<Rich>) -> Result<tonic::Response<Rich>, Status> {
        Ok(tonic::Response::new(request.into_inner()))
    }
}

#[tonic::async_trait]
impl pb::echo_alt_server::EchoAlt for TonicEcho {
    async fn say(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        self.say_impl(request).await
    }
    type RepeatStream = TonicStream;
    async fn repeat(
        &self,
        request: Request<EchoRequest>,
    ) -> Result<tonic::Response<TonicStream>, Status> {
        self.repeat_impl(request).await
    }
    async fn collect(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<EchoReply>, Status> {
        self.collect_impl(request).await
    }
    type ChatStream = TonicStream;
    async fn chat(
        &self,
        request: Request<Streaming<EchoRequest>>,
    ) -> Result<tonic::Response<TonicStream>, Status> {
        self.chat_impl(request).await
    }
}

// ---------------------------------------------------------------------------------------------
// The tonic impl inside the connect trait, through connect_shim::server

/// Any tonic `Echo` impl served as a connect `Echo`, one adapter call per method (what step 2
/// emits for bodies it cannot rewrite).
#[derive(Debug, Default)]
pub struct Bridged<T>(pub Arc<T>);

impl<T: pb::echo_server::Echo> crate::connect::Echo for Bridged<T> {
    async fn say(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        connect_shim::server::unary(ctx, request, |r| self.0.say(r)).await
    }
    async fn repeat(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        connect_shim::server::server_stream(ctx, request, |r| self.0.repeat(r)).await
    }
    async fn collect(
        &self,
        ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<EchoReply> {
        connect_shim::server::client_stream(ctx, requests, |r| self.0.collect(r)).await
    }
    async fn chat(
        &self,
        ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoReply>> {
        connect_shim::server::bidi_stream(ctx, requests, |r| self.0.chat(r)).await
    }
    async fn mirror(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, Rich>,
    ) -> ServiceResult<Rich> {
        // An inline tonic-style body, kept verbatim inside the closure.
        connect_shim::server::unary(ctx, request, |request: Request<Rich>| async move {
            Ok(tonic::Response::new(request.into_inner()))
        })
        .await
    }
}

// The same bridge for the whole `EchoAlt` service, generated: `TonicBridge<T>` serves any tonic
// `EchoAlt` impl as a connect `EchoAlt`.
connect_shim::tonic_bridge! {
    impl crate::connect::EchoAlt => pb::echo_alt_server::EchoAlt {
        unary say(EchoRequest) -> EchoReply;
        server_stream repeat(EchoRequest) -> EchoReply;
        client_stream collect(EchoRequest) -> EchoReply;
        bidi chat(EchoRequest) -> EchoReply;
    }
}

connect_shim::tonic_client! {
    /// tonic-shaped client for `Echo` over a connectrpc transport.
    pub struct EchoCompatClient {
        unary say(EchoRequest) -> EchoReply = crate::connect::ECHO_SAY_SPEC;
        server_stream repeat(EchoRequest) -> EchoReply = crate::connect::ECHO_REPEAT_SPEC;
        client_stream collect(EchoRequest) -> EchoReply = crate::connect::ECHO_COLLECT_SPEC;
        bidi chat(EchoRequest) -> EchoReply = crate::connect::ECHO_CHAT_SPEC;
        unary mirror(Rich) -> Rich = crate::connect::ECHO_MIRROR_SPEC;
    }
}

/// `Rich` values covering every field shape: nested message, enum, each oneof arm (string, int,
/// message, Timestamp), maps, repeated fields, Timestamps, bytes, proto3 `optional`, double; plus
/// the empty message and an unknown open-enum value.
pub fn rich_samples() -> Vec<Rich> {
    use crate::connect::__buffa::oneof::rich::Choice;
    use crate::connect::{rich::Inner, Mood};
    use buffa_types::google::protobuf::Timestamp;
    let inner = |name: &str, value: i64| Inner {
        name: name.into(),
        value,
        ..Default::default()
    };
    let ts = |seconds: i64, nanos: i32| Timestamp {
        seconds,
        nanos,
        ..Default::default()
    };
    let full = Rich {
        inner: buffa::MessageField::some(inner("in", -7)),
        mood: Mood::MOOD_GRUMPY.into(),
        counts: [("a".to_string(), 1i64), ("b".to_string(), -2)]
            .into_iter()
            .collect(),
        inners: [("k".to_string(), inner("v", 9))].into_iter().collect(),
        tags: vec!["t1".into(), "".into(), "t3".into()],
        items: vec![inner("i1", 1), inner("i2", 2)],
        created: buffa::MessageField::some(ts(1_700_000_000, 123_456_789)),
        history: vec![
            ts(1, 0),
            ts(-62_135_596_800, 0),
            ts(253_402_300_799, 999_999_999),
        ],
        blob: vec![0, 1, 2, 255],
        maybe: Some(0),
        ratio: -0.125,
        choice: Some(Choice::Text("chosen".into())),
        ..Default::default()
    };
    let mut out = vec![Rich::default(), full.clone()];
    for choice in [
        Choice::Number(i64::MIN),
        Choice::Nested(Box::new(inner("nested", 3))),
        Choice::At(Box::new(ts(5, 6))),
    ] {
        out.push(Rich {
            choice: Some(choice),
            ..full.clone()
        });
    }
    out.push(Rich {
        mood: buffa::EnumValue::from(7),
        maybe: None,
        ..full
    });
    out
}
