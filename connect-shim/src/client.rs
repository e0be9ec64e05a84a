//! tonic-shaped calls over a connectrpc client (migration steps 6 and 8).
//!
//! Step 6 moves clients to connectrpc. Where a call site cannot be made native yet, the tool
//! keeps it tonic-shaped over the connect client through the call helpers of this module
//! ([`tonic_unary`], [`tonic_server_stream`], [`tonic_client_stream`], [`tonic_bidi`], and their
//! [`connect_errors`] twins once step 7 moved the errors; [`request_from_options`] for a helper
//! that returned a `tonic::Request`), and keeps a client that must stay on a tonic channel on
//! [`ChannelTransport`] ([`channel_config`]); step 8 makes the streaming calls native.
//!
//! For call sites rewritten by hand, [`tonic_client!`](crate::tonic_client) declares a
//! per-service compat client (the tool never writes it): the same method names and tonic's
//! shapes (`impl IntoRequest<Req>`, `tonic::Response<Resp>`, `tonic::Streaming<Resp>`,
//! `tonic::Status`), carried by connectrpc's `call_*` functions:
//!
//! ```text
//! connect_shim::tonic_client! {
//!     pub struct EchoCompatClient {
//!         unary say(EchoRequest) -> EchoReply = connect::ECHO_SAY_SPEC;
//!         server_stream repeat(EchoRequest) -> EchoReply = connect::ECHO_REPEAT_SPEC;
//!         client_stream collect(EchoRequest) -> EchoReply = connect::ECHO_COLLECT_SPEC;
//!         bidi chat(EchoRequest) -> EchoReply = connect::ECHO_CHAT_SPEC;
//!     }
//! }
//! let mut client = EchoCompatClient::new(HttpClient::plaintext_http2_only(),
//!     ClientConfig::new(uri).with_protocol(Protocol::Grpc));
//! let reply = client.say(EchoRequest { text: "a".into(), ..Default::default() }).await?.into_inner();
//! ```
//!
//! **What is mapped.** Request metadata becomes call headers (reserved keys stripped);
//! `grpc-timeout` (from `Request::set_timeout`) becomes `CallOptions::with_timeout`; response
//! headers and trailers become the response metadata (merged, trailers win); errors go through
//! [`status::to_status`](crate::status::to_status). Streams are real `tonic::Streaming`s.
//!
//! **Costs and limits.** Unary responses are decoded once into the owned message. Stream messages
//! are re-framed (one copy) and decoded by [`BuffaCodec`](crate::codec::BuffaCodec)'s decoder.
//! `Streaming::trailers()` is `None`. A bidi call returns before the server answers (as tonic
//! does): a spawned task pumps the request stream, and the response metadata is empty. tonic
//! client options (interceptors, `send_compressed`, `max_decoding_message_size`) are not mapped;
//! set them on `ClientConfig` / `CallOptions`. Construction differs from tonic:
//! `XClient::connect(dst)` becomes `new(transport, config)`.
//!
//! **Removed by** step 6 (unary calls native) and step 8 (streaming calls native).

use std::time::Duration;

use bytes::Bytes;
use connectrpc::client::{CallOptions, ClientConfig, ClientTransport};
use connectrpc::codec::{JsonDeserialize, JsonSerialize};
use connectrpc::{Spec, SpecOrigin};
use futures_util::{Stream, StreamExt};
use http_body::Body;
use tonic::codec::BufferSettings;
use tonic::metadata::MetadataMap;
use tonic::{IntoRequest, IntoStreamingRequest, Status};

use crate::codec::BuffaCodec;
use crate::status::{headers_to_metadata, merge_headers_and_trailers, strip_reserved, to_status};

/// `CallOptions` from tonic request metadata: headers (reserved keys and `grpc-timeout`
/// removed) and the timeout.
#[doc(hidden)]
pub fn call_options(metadata: MetadataMap) -> CallOptions {
    let mut headers = metadata.into_headers();
    let timeout = headers
        .remove("grpc-timeout")
        .and_then(|v| v.to_str().ok().and_then(parse_grpc_timeout));
    strip_reserved(&mut headers);
    headers.remove("user-agent");
    let mut options =
        CallOptions::default().with_headers(headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(t) = timeout {
        options = options.with_timeout(t);
    }
    options
}

/// A tonic request from a message and its `CallOptions` (headers and timeout; other options
/// are not carried): what step 6 writes where a request helper already returns
/// `(message, CallOptions)` but the call it feeds is still tonic-shaped (a streaming call
/// through [`tonic_server_stream`], [`tonic_client_stream`] or [`tonic_bidi`]), so the
/// wrapper turns it back into the same `CallOptions`.
///
/// ```text
/// connect_shim::client::tonic_server_stream(
///     connect_shim::client::request_from_options(authed(request)),
///     |request, options| client.list_items_with_options(request, options),
/// )
/// ```
///
/// **Removed by** step 8 (`{ let (message, options) = authed(request); client.list_items_with_options(message, options) }`).
pub fn request_from_options<T>((message, options): (T, CallOptions)) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    *request.metadata_mut() = MetadataMap::from_headers(options.headers().clone());
    if let Some(t) = options.timeout() {
        request.set_timeout(t);
    }
    request
}

/// Parses a `grpc-timeout` value (`"100m"`, `"30S"`, `"5000000u"`, ...).
#[doc(hidden)]
pub fn parse_grpc_timeout(value: &str) -> Option<Duration> {
    let (digits, unit) = value.split_at(value.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n * 3600),
        "M" => Duration::from_secs(n * 60),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

fn response_metadata(headers: &http::HeaderMap, trailers: &http::HeaderMap) -> MetadataMap {
    headers_to_metadata(&merge_headers_and_trailers(headers, trailers))
}

/// Unary call, tonic-shaped. `spec` is the generated `*_SPEC` constant.
pub async fn unary<T, Req, Resp>(
    transport: &T,
    config: &ClientConfig,
    spec: Spec,
    request: impl IntoRequest<Req>,
) -> Result<tonic::Response<Resp>, Status>
where
    T: ClientTransport,
    <T::ResponseBody as Body>::Error: std::fmt::Display,
    Req: buffa::Message + JsonSerialize,
    Resp: buffa::view::HasMessageView + JsonDeserialize,
    Resp::View<'static>: Send,
{
    let (metadata, _extensions, message) = request.into_request().into_parts();
    let response = connectrpc::client::call_unary::<T, Req, Resp::View<'static>>(
        transport,
        config,
        spec.with_origin(SpecOrigin::Client),
        message,
        call_options(metadata),
    )
    .await
    .map_err(to_status)?;
    let (headers, body, trailers) = response.into_owned_parts();
    Ok(tonic::Response::from_parts(
        response_metadata(&headers, &trailers),
        body,
        tonic::Extensions::new(),
    ))
}

/// Client-streaming call, tonic-shaped: any `IntoStreamingRequest` (a `Stream` of messages or a
/// `tonic::Request` holding one).
pub async fn client_stream<T, Req, Resp>(
    transport: &T,
    config: &ClientConfig,
    spec: Spec,
    request: impl IntoStreamingRequest<Message = Req>,
) -> Result<tonic::Response<Resp>, Status>
where
    T: ClientTransport,
    <T::ResponseBody as Body>::Error: std::fmt::Display,
    Req: buffa::Message + JsonSerialize + 'static,
    Resp: buffa::view::HasMessageView + JsonDeserialize,
    Resp::View<'static>: Send,
{
    let (metadata, _extensions, stream) = request.into_streaming_request().into_parts();
    let response = connectrpc::client::call_client_stream::<T, Req, Resp::View<'static>>(
        transport,
        config,
        spec.with_origin(SpecOrigin::Client),
        stream,
        call_options(metadata),
    )
    .await
    .map_err(to_status)?;
    let (headers, body, trailers) = response.into_owned_parts();
    Ok(tonic::Response::from_parts(
        response_metadata(&headers, &trailers),
        body,
        tonic::Extensions::new(),
    ))
}

/// Server-streaming call, tonic-shaped: the response holds a real `tonic::Streaming`.
pub async fn server_stream<T, Req, Resp>(
    transport: &T,
    config: &ClientConfig,
    spec: Spec,
    request: impl IntoRequest<Req>,
) -> Result<tonic::Response<tonic::Streaming<Resp>>, Status>
where
    T: ClientTransport,
    T::ResponseBody: Unpin,
    <T::ResponseBody as Body>::Error: std::fmt::Display,
    Req: buffa::Message + JsonSerialize,
    Resp: buffa::view::HasMessageView + JsonDeserialize + Send + 'static,
    Resp::View<'static>: Send,
{
    let (metadata, _extensions, message) = request.into_request().into_parts();
    let stream = connectrpc::client::call_server_stream::<T, Req, Resp::View<'static>>(
        transport,
        config,
        spec.with_origin(SpecOrigin::Client),
        message,
        call_options(metadata),
    )
    .await
    .map_err(to_status)?;
    let metadata = headers_to_metadata(stream.headers());
    let frames = futures_util::stream::unfold(Some(stream), |state| async move {
        let mut stream = state?;
        match stream.message::<Resp>().await {
            Ok(Some(m)) => Some((Ok(m.bytes().clone()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(to_status(e)), None)),
        }
    });
    Ok(tonic::Response::from_parts(
        metadata,
        streaming_from_wire(frames),
        tonic::Extensions::new(),
    ))
}

/// Bidi call, tonic-shaped. Returns at once; a spawned task pumps the request stream into the
/// call (needs a tokio runtime), as tonic does. Response metadata is empty.
pub async fn bidi_stream<T, Req, Resp>(
    transport: &T,
    config: &ClientConfig,
    spec: Spec,
    request: impl IntoStreamingRequest<Message = Req>,
) -> Result<tonic::Response<tonic::Streaming<Resp>>, Status>
where
    T: ClientTransport,
    T::ResponseBody: Unpin + Send,
    <T::ResponseBody as Body>::Error: std::fmt::Display,
    Req: buffa::Message + JsonSerialize + 'static,
    Resp: buffa::view::HasMessageView + JsonDeserialize + Send + 'static,
    Resp::View<'static>: Send,
{
    let (metadata, _extensions, requests) = request.into_streaming_request().into_parts();
    let call = connectrpc::client::call_bidi_stream::<T, Req, Resp::View<'static>>(
        transport,
        config,
        spec.with_origin(SpecOrigin::Client),
        call_options(metadata),
    )
    .await
    .map_err(to_status)?;
    let (mut send, recv) = call.into_split();
    tokio::spawn(async move {
        let mut requests = std::pin::pin!(requests);
        while let Some(m) = requests.next().await {
            if send.send(m).await.is_err() {
                // The server closed the call; its error arrives on the receive side.
                break;
            }
        }
        send.close_send();
    });
    let frames = futures_util::stream::unfold(Some(recv), |state| async move {
        let mut recv = state?;
        match recv.message::<Resp>().await {
            Ok(Some(m)) => Some((Ok(m.bytes().clone()), Some(recv))),
            Ok(None) => None,
            Err(e) => Some((Err(to_status(e)), None)),
        }
    });
    Ok(tonic::Response::new(streaming_from_wire(frames)))
}

/// A `tonic::Streaming` over a stream of protobuf-encoded messages (or errors).
#[doc(hidden)]
pub fn streaming_from_wire<M, S>(messages: S) -> tonic::Streaming<M>
where
    M: buffa::Message + Send + 'static,
    S: Stream<Item = Result<Bytes, Status>> + Send + 'static,
{
    let frames = messages.map(|item| {
        item.map(|bytes| {
            let mut buf = bytes::BytesMut::with_capacity(5 + bytes.len());
            bytes::BufMut::put_u8(&mut buf, 0);
            bytes::BufMut::put_u32(&mut buf, bytes.len() as u32);
            bytes::BufMut::put_slice(&mut buf, &bytes);
            http_body::Frame::data(buf.freeze())
        })
    });
    tonic::Streaming::new_request(
        BuffaCodec::<M, M>::raw_decoder(BufferSettings::default()),
        http_body_util::StreamBody::new(frames),
        None,
        Some(usize::MAX),
    )
}

// ---------------------------------------------------------------------------------------------
// Step 6: a tonic channel as a connect transport, and tonic-shaped call sites over the native
// generated client.

/// A tonic channel (or any tower service over `http::Request<tonic::body::Body>`, such as
/// `InterceptedService<Channel, F>`) as a connectrpc [`ClientTransport`].
///
/// Step 6 uses it where a `Channel` is built or shared somewhere the tool cannot rewrite (other
/// tonic clients still use it, it is passed in from elsewhere): every `Endpoint` option of the
/// channel, and a tonic interceptor wrapped around it (`InterceptedService`, whose interceptor
/// need not be `Clone` here), keep applying to the connect client.
/// Pair it with [`channel_config`]: the channel sets the scheme and authority of every
/// request itself, so the base URI of that config is a placeholder.
///
/// The service need not be `Clone` (connect transports are, tower services need not be: a
/// service of the user's own around the channel): the transport's clones share it, and each
/// call takes it for its `poll_ready` and `call` only (the response is awaited without it).
///
/// **Removed by** step 6 once the channel is built natively (`HttpClient`, `Http2Connection`).
pub struct ChannelTransport<S> {
    inner: std::sync::Arc<tokio::sync::Mutex<S>>,
}

impl<S> Clone for ChannelTransport<S> {
    fn clone(&self) -> Self {
        ChannelTransport {
            inner: self.inner.clone(),
        }
    }
}

impl<S> std::fmt::Debug for ChannelTransport<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelTransport")
    }
}

impl<S> ChannelTransport<S> {
    /// The connect transport over `channel`.
    pub fn new(channel: S) -> Self {
        ChannelTransport {
            inner: std::sync::Arc::new(tokio::sync::Mutex::new(channel)),
        }
    }

    /// The wrapped channel, when no other clone of this transport is left (else the transport
    /// back).
    pub fn into_inner(self) -> Result<S, Self> {
        std::sync::Arc::try_unwrap(self.inner)
            .map(tokio::sync::Mutex::into_inner)
            .map_err(|inner| ChannelTransport { inner })
    }
}

/// A gRPC `ClientConfig` for a client on a [`ChannelTransport`] (the channel picks the server:
/// the base URI is a placeholder).
pub fn channel_config() -> ClientConfig {
    ClientConfig::new(http::Uri::from_static("http://tonic.channel"))
        .with_protocol(connectrpc::Protocol::Grpc)
}

/// An error of the channel under a [`ChannelTransport`].
#[derive(Debug)]
#[doc(hidden)]
pub struct ChannelError(pub Box<dyn std::error::Error + Send + Sync>);

impl std::fmt::Display for ChannelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ChannelError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

impl<S, B> ClientTransport for ChannelTransport<S>
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<B>>
        + Send
        + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
{
    type ResponseBody = B;
    type Error = ChannelError;

    fn send(
        &self,
        request: http::Request<connectrpc::client::ClientBody>,
    ) -> futures_util::future::BoxFuture<'static, Result<http::Response<B>, ChannelError>> {
        let service = self.inner.clone();
        let request = request.map(tonic::body::Body::new);
        Box::pin(async move {
            let call = {
                let mut s = service.lock().await;
                std::future::poll_fn(|cx| s.poll_ready(cx))
                    .await
                    .map_err(|e| ChannelError(e.into()))?;
                s.call(request)
            };
            call.await.map_err(|e| ChannelError(e.into()))
        })
    }
}

/// A unary call site kept tonic-shaped over a native connect client: `request` is anything
/// tonic accepted (`Req` or `tonic::Request<Req>`, its metadata and timeout become
/// `CallOptions`), `call` is the client's `_with_options` method; the answer is a
/// `tonic::Response` and errors are `tonic::Status`.
///
/// ```text
/// connect_shim::client::tonic_unary(request, |m, o| client.get_item_with_options(m, o)).await
/// ```
///
/// **Removed by** steps 6 and 7 (native call, `ConnectError` inspection).
pub fn tonic_unary<'f, Req, V, F, Fut>(
    request: impl IntoRequest<Req>,
    call: F,
) -> CallFuture<'f, tonic::Response<V::Owned>, Status>
where
    V: buffa::view::MessageView<'static>,
    F: FnOnce(Req, CallOptions) -> Fut,
    Fut: std::future::Future<
            Output = Result<
                connectrpc::client::UnaryResponse<buffa::view::OwnedView<V>>,
                connectrpc::ConnectError,
            >,
        > + Send
        + 'f,
{
    let (metadata, _extensions, message) = request.into_request().into_parts();
    let call = call(message, call_options(metadata));
    Box::pin(async move { owned_response(call.await.map_err(to_status)?) })
}

/// The future of a tonic-shaped call helper: boxed and `Send`, so that a call site awaited
/// inside `tokio::spawn` compiles. (An `async fn` generic over the response view would not:
/// rustc erases the view's `'static` lifetime when it checks a spawned future for `Send`, and
/// then cannot prove the view's `MessageView<'static>` bound: "implementation of
/// `MessageView` is not general enough".)
#[doc(hidden)]
pub type CallFuture<'f, T, E> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, E>> + Send + 'f>>;

/// A native unary answer as a `tonic::Response` of the owned message, with its metadata.
fn owned_response<V, E>(
    response: connectrpc::client::UnaryResponse<buffa::view::OwnedView<V>>,
) -> Result<tonic::Response<V::Owned>, E>
where
    V: buffa::view::MessageView<'static>,
{
    let (headers, body, trailers) = response.into_owned_parts();
    Ok(tonic::Response::from_parts(
        response_metadata(&headers, &trailers),
        body,
        tonic::Extensions::new(),
    ))
}

/// A client-streaming call site kept tonic-shaped over a native connect client (see
/// [`tonic_unary`]): `request` is a `Stream` of messages or a `tonic::Request` holding one.
///
/// **Removed by** step 8.
pub fn tonic_client_stream<'f, R, V, F, Fut>(
    request: R,
    call: F,
) -> CallFuture<'f, tonic::Response<V::Owned>, Status>
where
    R: IntoStreamingRequest,
    V: buffa::view::MessageView<'static>,
    F: FnOnce(R::Stream, CallOptions) -> Fut,
    Fut: std::future::Future<
            Output = Result<
                connectrpc::client::UnaryResponse<buffa::view::OwnedView<V>>,
                connectrpc::ConnectError,
            >,
        > + Send
        + 'f,
{
    let (metadata, _extensions, stream) = request.into_streaming_request().into_parts();
    let call = call(stream, call_options(metadata));
    Box::pin(async move { owned_response(call.await.map_err(to_status)?) })
}

/// A server-streaming call site kept tonic-shaped over a native connect client (see
/// [`tonic_unary`]): the answer holds a real `tonic::Streaming`.
///
/// **Removed by** step 8.
pub async fn tonic_server_stream<Req, B, V, M, F, Fut>(
    request: impl IntoRequest<Req>,
    call: F,
) -> Result<tonic::Response<tonic::Streaming<M>>, Status>
where
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: std::fmt::Display,
    V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
    M: buffa::Message
        + JsonDeserialize
        + buffa::view::HasMessageView<View<'static> = V>
        + Send
        + 'static,
    F: FnOnce(Req, CallOptions) -> Fut,
    Fut: std::future::Future<
        Output = Result<connectrpc::client::ServerStream<B, V>, connectrpc::ConnectError>,
    >,
{
    let (metadata, _extensions, message) = request.into_request().into_parts();
    let stream = call(message, call_options(metadata))
        .await
        .map_err(to_status)?;
    let metadata = headers_to_metadata(stream.headers());
    let frames = futures_util::stream::unfold(Some(stream), |state| async move {
        let mut stream = state?;
        match stream.message::<M>().await {
            Ok(Some(m)) => Some((Ok(m.bytes().clone()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(to_status(e)), None)),
        }
    });
    Ok(tonic::Response::from_parts(
        metadata,
        streaming_from_wire(frames),
        tonic::Extensions::new(),
    ))
}

/// A bidi call site kept tonic-shaped over a native connect client: tonic passed the whole
/// request stream up front, connectrpc's method takes none; a spawned task pumps `request`
/// into the call (needs a tokio runtime). Response metadata is empty.
///
/// ```text
/// connect_shim::client::tonic_bidi(outbound, |o| client.route_chat_with_options(o)).await
/// ```
///
/// **Removed by** step 8.
pub async fn tonic_bidi<R, B, V, M, F, Fut>(
    request: R,
    call: F,
) -> Result<tonic::Response<tonic::Streaming<M>>, Status>
where
    R: IntoStreamingRequest,
    R::Message: buffa::Message + JsonSerialize + Send + 'static,
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: std::fmt::Display,
    V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
    M: buffa::Message
        + JsonDeserialize
        + buffa::view::HasMessageView<View<'static> = V>
        + Send
        + 'static,
    F: FnOnce(CallOptions) -> Fut,
    Fut: std::future::Future<
        Output = Result<connectrpc::client::BidiStream<B, R::Message, V>, connectrpc::ConnectError>,
    >,
{
    let (metadata, _extensions, requests) = request.into_streaming_request().into_parts();
    let call = call(call_options(metadata)).await.map_err(to_status)?;
    let (mut send, recv) = call.into_split();
    tokio::spawn(async move {
        let mut requests = std::pin::pin!(requests);
        while let Some(m) = requests.next().await {
            if send.send(m).await.is_err() {
                break;
            }
        }
        send.close_send();
    });
    let frames = futures_util::stream::unfold(Some(recv), |state| async move {
        let mut recv = state?;
        match recv.message::<M>().await {
            Ok(Some(m)) => Some((Ok(m.bytes().clone()), Some(recv))),
            Ok(None) => None,
            Err(e) => Some((Err(to_status(e)), None)),
        }
    });
    Ok(tonic::Response::new(streaming_from_wire(frames)))
}

/// A native server stream as a real `tonic::Streaming` (errors `tonic::Status`): what step 8
/// writes where a response stream is used as a `Stream` or passed along while the client code
/// still handles `tonic::Status` (step 7 not applied yet).
///
/// **Removed by** step 7 then step 8 (the stream read natively).
pub fn streaming_from_server_stream<B, V, M>(
    stream: connectrpc::client::ServerStream<B, V>,
) -> tonic::Streaming<M>
where
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: std::fmt::Display,
    V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
    M: buffa::Message
        + JsonDeserialize
        + buffa::view::HasMessageView<View<'static> = V>
        + Send
        + 'static,
{
    let frames = futures_util::stream::unfold(Some(stream), |state| async move {
        let mut stream = state?;
        match stream.message::<M>().await {
            Ok(Some(m)) => Some((Ok(m.bytes().clone()), Some(stream))),
            Ok(None) => None,
            Err(e) => Some((Err(to_status(e)), None)),
        }
    });
    streaming_from_wire(frames)
}

/// The receive half of a native bidi call as a real `tonic::Streaming` (see
/// [`streaming_from_server_stream`]).
pub fn streaming_from_bidi<B, V, M>(
    recv: connectrpc::client::BidiRecvHalf<B, V>,
) -> tonic::Streaming<M>
where
    B: Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: std::fmt::Display,
    V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
    M: buffa::Message
        + JsonDeserialize
        + buffa::view::HasMessageView<View<'static> = V>
        + Send
        + 'static,
{
    let frames = futures_util::stream::unfold(Some(recv), |state| async move {
        let mut recv = state?;
        match recv.message::<M>().await {
            Ok(Some(m)) => Some((Ok(m.bytes().clone()), Some(recv))),
            Ok(None) => None,
            Err(e) => Some((Err(to_status(e)), None)),
        }
    });
    streaming_from_wire(frames)
}

/// Sends every message of `outbound` on the send half of a bidi call, then closes it: the
/// pump task step 8 writes where tonic code passed a whole request stream up front and the
/// stream is none the step can loop over natively. Spawned on the tokio runtime; stops early
/// when the server ends the call (its error then arrives on the receive half).
///
/// ```text
/// let (dispatch_send, mut replies) = client.dispatch().await?.into_split();
/// connect_shim::client::pump(dispatch_send, outbound);
/// ```
///
/// **Removed by** hand: send from where the stream's messages are produced.
#[doc(hidden)]
pub fn pump<Req, S>(
    mut send: connectrpc::client::BidiSendHalf<Req>,
    outbound: S,
) -> tokio::task::JoinHandle<()>
where
    Req: buffa::Message + JsonSerialize + Send + 'static,
    S: Stream<Item = Req> + Send + 'static,
{
    tokio::spawn(async move {
        let mut outbound = std::pin::pin!(outbound);
        while let Some(m) = outbound.next().await {
            if send.send(m).await.is_err() {
                break;
            }
        }
        send.close_send();
    })
}

/// Declares a compat client with tonic's method shapes over a connectrpc transport.
///
/// ```text
/// connect_shim::tonic_client! {
///     /// Docs are kept.
///     pub struct EchoCompatClient {
///         unary say(EchoRequest) -> EchoReply = connect::ECHO_SAY_SPEC;
///         server_stream repeat(EchoRequest) -> EchoReply = connect::ECHO_REPEAT_SPEC;
///         client_stream collect(EchoRequest) -> EchoReply = connect::ECHO_COLLECT_SPEC;
///         bidi chat(EchoRequest) -> EchoReply = connect::ECHO_CHAT_SPEC;
///     }
/// }
/// ```
///
/// The struct is `EchoCompatClient<T: ClientTransport>` with `new(transport, config)`,
/// `config()`, `config_mut()`, and one `&mut self` method per line.
///
/// User-facing (the tool never writes it): call sites rewritten by hand declare a compat client
/// with it; steps 6 and 8 make the calls native, after which it can go.
#[macro_export]
macro_rules! tonic_client {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $kind:ident $method:ident ( $req:ty ) -> $resp:ty = $spec:expr ; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone)]
        $vis struct $name<T> {
            transport: T,
            config: $crate::__private::ClientConfig,
        }

        impl<T> $name<T>
        where
            T: $crate::__private::ClientTransport,
            T::ResponseBody: ::core::marker::Unpin + ::core::marker::Send,
            <T::ResponseBody as $crate::__private::Body>::Error: ::core::fmt::Display,
        {
            /// A client over `transport`, calling the server `config` points at.
            pub fn new(transport: T, config: $crate::__private::ClientConfig) -> Self {
                Self { transport, config }
            }
            /// The client configuration.
            pub fn config(&self) -> &$crate::__private::ClientConfig {
                &self.config
            }
            /// The client configuration, mutable.
            pub fn config_mut(&mut self) -> &mut $crate::__private::ClientConfig {
                &mut self.config
            }
            $( $crate::__tonic_client_method!($kind $method($req) -> $resp = $spec); )*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tonic_client_method {
    (unary $method:ident($req:ty) -> $resp:ty = $spec:expr) => {
        /// tonic-shaped unary call.
        pub async fn $method(
            &mut self,
            request: impl $crate::__private::IntoRequest<$req>,
        ) -> ::core::result::Result<$crate::__private::Response<$resp>, $crate::__private::Status> {
            $crate::client::unary(&self.transport, &self.config, $spec, request).await
        }
    };
    (server_stream $method:ident($req:ty) -> $resp:ty = $spec:expr) => {
        /// tonic-shaped server-streaming call.
        pub async fn $method(
            &mut self,
            request: impl $crate::__private::IntoRequest<$req>,
        ) -> ::core::result::Result<
            $crate::__private::Response<$crate::__private::Streaming<$resp>>,
            $crate::__private::Status,
        > {
            $crate::client::server_stream(&self.transport, &self.config, $spec, request).await
        }
    };
    (client_stream $method:ident($req:ty) -> $resp:ty = $spec:expr) => {
        /// tonic-shaped client-streaming call.
        pub async fn $method(
            &mut self,
            request: impl $crate::__private::IntoStreamingRequest<Message = $req>,
        ) -> ::core::result::Result<$crate::__private::Response<$resp>, $crate::__private::Status> {
            $crate::client::client_stream(&self.transport, &self.config, $spec, request).await
        }
    };
    (bidi $method:ident($req:ty) -> $resp:ty = $spec:expr) => {
        /// tonic-shaped bidi-streaming call.
        pub async fn $method(
            &mut self,
            request: impl $crate::__private::IntoStreamingRequest<Message = $req>,
        ) -> ::core::result::Result<
            $crate::__private::Response<$crate::__private::Streaming<$resp>>,
            $crate::__private::Status,
        > {
            $crate::client::bidi_stream(&self.transport, &self.config, $spec, request).await
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        assert_eq!(parse_grpc_timeout("30S"), Some(Duration::from_secs(30)));
        assert_eq!(parse_grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(parse_grpc_timeout("5000000u"), Some(Duration::from_secs(5)));
        assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_grpc_timeout("7n"), Some(Duration::from_nanos(7)));
        assert_eq!(parse_grpc_timeout("1M"), Some(Duration::from_secs(60)));
        assert_eq!(parse_grpc_timeout("S"), None);
        assert_eq!(parse_grpc_timeout("123456789S"), None);
        assert_eq!(parse_grpc_timeout("10x"), None);
    }

    #[test]
    fn request_from_options_round_trips() {
        let options = CallOptions::default()
            .with_header("authorization", "Bearer t")
            .with_header("x-bin", "AQI")
            .with_timeout(Duration::from_millis(250));
        let request = request_from_options((7u8, options));
        assert_eq!(*request.get_ref(), 7);
        let back = call_options(request.metadata().clone());
        assert_eq!(back.headers()["authorization"], "Bearer t");
        assert_eq!(back.headers()["x-bin"], "AQI");
        assert_eq!(back.timeout(), Some(Duration::from_millis(250)));
        let plain = call_options(
            request_from_options(((), CallOptions::default()))
                .into_parts()
                .0,
        );
        assert!(plain.headers().is_empty());
        assert_eq!(plain.timeout(), None);
    }

    #[test]
    fn set_timeout_round_trips_into_call_options() {
        let mut req = tonic::Request::new(());
        req.set_timeout(Duration::from_millis(1500));
        req.metadata_mut().insert("x-req", "v".parse().unwrap());
        req.metadata_mut()
            .insert("content-type", "application/grpc".parse().unwrap());
        let opts = call_options(req.metadata().clone());
        assert_eq!(opts.timeout(), Some(Duration::from_millis(1500)));
        assert_eq!(opts.headers()["x-req"], "v");
        assert!(opts.headers().get("grpc-timeout").is_none());
        assert!(opts.headers().get("content-type").is_none());
    }
}

/// The `tonic_*` call wrappers for client code whose errors step 7 already turned into
/// `ConnectError`: the same shapes (a `tonic::Response` around the answer), but every error,
/// the call's and each streamed message's, is the `ConnectError` itself, and response streams
/// are a [`server::connect_errors::Inbound`](crate::server::connect_errors::Inbound)
/// (`message().await`, `Stream<Item = Result<M, ConnectError>>`).
///
/// **Removed by** step 8 (streaming calls native) and native unary calls.
pub mod connect_errors {
    use super::*;
    use crate::server::connect_errors::Inbound;
    use connectrpc::ConnectError;

    /// [`super::tonic_unary`] with the connect error.
    pub fn tonic_unary<'f, Req, V, F, Fut>(
        request: impl IntoRequest<Req>,
        call: F,
    ) -> CallFuture<'f, tonic::Response<V::Owned>, ConnectError>
    where
        V: buffa::view::MessageView<'static>,
        F: FnOnce(Req, CallOptions) -> Fut,
        Fut: std::future::Future<
                Output = Result<
                    connectrpc::client::UnaryResponse<buffa::view::OwnedView<V>>,
                    ConnectError,
                >,
            > + Send
            + 'f,
    {
        let (metadata, _extensions, message) = request.into_request().into_parts();
        let call = call(message, call_options(metadata));
        Box::pin(async move { owned_response(call.await?) })
    }

    /// [`super::tonic_client_stream`] with the connect error.
    pub fn tonic_client_stream<'f, R, V, F, Fut>(
        request: R,
        call: F,
    ) -> CallFuture<'f, tonic::Response<V::Owned>, ConnectError>
    where
        R: IntoStreamingRequest,
        V: buffa::view::MessageView<'static>,
        F: FnOnce(R::Stream, CallOptions) -> Fut,
        Fut: std::future::Future<
                Output = Result<
                    connectrpc::client::UnaryResponse<buffa::view::OwnedView<V>>,
                    ConnectError,
                >,
            > + Send
            + 'f,
    {
        let (metadata, _extensions, stream) = request.into_streaming_request().into_parts();
        let call = call(stream, call_options(metadata));
        Box::pin(async move { owned_response(call.await?) })
    }

    /// [`super::tonic_server_stream`] with the connect error; the stream yields owned messages.
    pub async fn tonic_server_stream<Req, B, V, M, F, Fut>(
        request: impl IntoRequest<Req>,
        call: F,
    ) -> Result<tonic::Response<Inbound<M>>, ConnectError>
    where
        B: Body<Data = Bytes> + Unpin + Send + 'static,
        B::Error: std::fmt::Display,
        V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
        M: buffa::Message
            + JsonDeserialize
            + buffa::view::HasMessageView<View<'static> = V>
            + Send
            + 'static,
        F: FnOnce(Req, CallOptions) -> Fut,
        Fut: std::future::Future<
            Output = Result<connectrpc::client::ServerStream<B, V>, ConnectError>,
        >,
    {
        let (metadata, _extensions, message) = request.into_request().into_parts();
        let stream = call(message, call_options(metadata)).await?;
        let metadata = headers_to_metadata(stream.headers());
        let messages = futures_util::stream::unfold(Some(stream), |state| async move {
            let mut stream = state?;
            match stream.message::<M>().await {
                Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok(tonic::Response::from_parts(
            metadata,
            Inbound::from_stream(messages),
            tonic::Extensions::new(),
        ))
    }

    /// A native server stream as a `Stream` of owned messages (`message().await`,
    /// `StreamExt`): what step 8 writes where a response stream is used as a `Stream` (`next()`,
    /// `collect()`, passed along) rather than read with `message().await`.
    #[doc(hidden)]
    pub fn server_stream_messages<B, V, M>(
        stream: connectrpc::client::ServerStream<B, V>,
    ) -> Inbound<M>
    where
        B: Body<Data = Bytes> + Unpin + Send + 'static,
        B::Error: std::fmt::Display,
        V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
        M: buffa::Message
            + JsonDeserialize
            + buffa::view::HasMessageView<View<'static> = V>
            + Send
            + 'static,
    {
        Inbound::from_stream(futures_util::stream::unfold(
            Some(stream),
            |state| async move {
                let mut stream = state?;
                match stream.message::<M>().await {
                    Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(stream))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }

    /// The receive half of a native bidi call as a `Stream` of owned messages (see
    /// [`server_stream_messages`]).
    #[doc(hidden)]
    pub fn bidi_messages<B, V, M>(recv: connectrpc::client::BidiRecvHalf<B, V>) -> Inbound<M>
    where
        B: Body<Data = Bytes> + Unpin + Send + 'static,
        B::Error: std::fmt::Display,
        V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
        M: buffa::Message
            + JsonDeserialize
            + buffa::view::HasMessageView<View<'static> = V>
            + Send
            + 'static,
    {
        Inbound::from_stream(futures_util::stream::unfold(
            Some(recv),
            |state| async move {
                let mut recv = state?;
                match recv.message::<M>().await {
                    Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(recv))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), None)),
                }
            },
        ))
    }

    /// [`super::tonic_bidi`] with the connect error; the stream yields owned messages.
    pub async fn tonic_bidi<R, B, V, M, F, Fut>(
        request: R,
        call: F,
    ) -> Result<tonic::Response<Inbound<M>>, ConnectError>
    where
        R: IntoStreamingRequest,
        R::Message: buffa::Message + JsonSerialize + Send + 'static,
        B: Body<Data = Bytes> + Unpin + Send + 'static,
        B::Error: std::fmt::Display,
        V: buffa::view::MessageView<'static, Owned = M> + Send + 'static,
        M: buffa::Message
            + JsonDeserialize
            + buffa::view::HasMessageView<View<'static> = V>
            + Send
            + 'static,
        F: FnOnce(CallOptions) -> Fut,
        Fut: std::future::Future<
            Output = Result<connectrpc::client::BidiStream<B, R::Message, V>, ConnectError>,
        >,
    {
        let (metadata, _extensions, requests) = request.into_streaming_request().into_parts();
        let call = call(call_options(metadata)).await?;
        let (mut send, recv) = call.into_split();
        tokio::spawn(async move {
            let mut requests = std::pin::pin!(requests);
            while let Some(m) = requests.next().await {
                if send.send(m).await.is_err() {
                    break;
                }
            }
            send.close_send();
        });
        let messages = futures_util::stream::unfold(Some(recv), |state| async move {
            let mut recv = state?;
            match recv.message::<M>().await {
                Ok(Some(m)) => Some((Ok(m.to_owned_message()), Some(recv))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        });
        Ok(tonic::Response::new(Inbound::from_stream(messages)))
    }
}
