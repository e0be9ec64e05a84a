//! tonic-style handler bodies inside connect trait impls (migration steps 2 and 4).
//!
//! Step 2 changes every `impl <svc>_server::Trait` into `impl connect::Trait`. Where a body cannot
//! be rewritten natively yet, the tool keeps it verbatim inside a closure that receives a
//! `tonic::Request` and returns tonic's result shape; one adapter call per method does the rest:
//!
//! ```text
//! impl connect::Echo for MyService {
//!     async fn say(&self, ctx: RequestContext, request: ServiceRequest<'_, EchoRequest>)
//!         -> ServiceResult<EchoReply> {
//!         connect_shim::server::unary(ctx, request, |request| async move {
//!             // the old tonic body, unchanged
//!             Ok(tonic::Response::new(EchoReply { text: request.into_inner().text, ..Default::default() }))
//!         }).await
//!     }
//!     async fn collect(&self, ctx: RequestContext, requests: InboundStream<EchoRequest>)
//!         -> ServiceResult<EchoReply> {
//!         connect_shim::server::client_stream(ctx, requests, |r| self.old_collect(r)).await
//!     }
//! }
//! ```
//!
//! A whole existing tonic impl can also be bridged method by method:
//! `server::unary(ctx, request, |r| tonic_impl.say(r)).await`.
//!
//! **What the adapters convert.**
//! - *Request*: the owned buffa message (`to_owned_message`, one allocation pass; messages are
//!   already the same types since step 1); request headers become the `MetadataMap` (protocol
//!   headers such as `content-type` included, as under tonic); the deadline becomes
//!   `grpc-timeout`, so code reading it keeps working; the `http::Extensions` move over
//!   (`tonic::Extensions` is `http::Extensions`); the peer address becomes tonic's
//!   `TcpConnectInfo`, so `request.remote_addr()` works.
//! - *Inbound streams*: a real `tonic::Streaming<M>`, fed by re-framing each message's wire bytes
//!   (one copy per message) and decoded with [`BuffaCodec`]'s decoder. A `ConnectError` in the
//!   upload surfaces from `message().await` as the equivalent `Status`. `trailers()` is `None`.
//! - *Response*: metadata becomes the connect response headers (reserved keys stripped);
//!   `disable_compression()` becomes `compress(false)`; other response extensions are dropped.
//! - *Errors*: through [`status::to_connect`](crate::status::to_connect), so code, message,
//!   details and metadata survive, also for errors in the middle of a response stream.
//!
//! **Removed by** step 2 (bodies rewritten natively) and step 4 (streaming handlers native).

use std::future::Future;
use std::time::Instant;

use bytes::{BufMut, Bytes, BytesMut};
use connectrpc::{
    ConnectError, InboundStream, RequestContext, ServiceRequest, ServiceResult, ServiceStream,
};
use futures_util::{Stream, StreamExt};
use tonic::codec::BufferSettings;
use tonic::metadata::MetadataMap;
use tonic::Status;

use crate::codec::BuffaCodec;
use crate::status::{metadata_to_headers, to_connect, to_status};

/// Unary method: `f` gets a `tonic::Request<Req>`, returns `Result<tonic::Response<Resp>, Status>`.
pub async fn unary<Req, Resp, F, Fut>(
    ctx: RequestContext,
    request: ServiceRequest<'_, Req>,
    f: F,
) -> ServiceResult<Resp>
where
    Req: buffa::view::HasMessageView,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, Status>>,
{
    let request = tonic_request(ctx, request.to_owned_message());
    f(request).await.map(connect_response).map_err(to_connect)
}

/// Server-streaming method: `f` returns `tonic::Response<S>` for any tonic-style stream `S`.
pub async fn server_stream<Req, Resp, S, F, Fut>(
    ctx: RequestContext,
    request: ServiceRequest<'_, Req>,
    f: F,
) -> ServiceResult<ServiceStream<Resp>>
where
    Req: buffa::view::HasMessageView,
    Resp: Send + 'static,
    S: Stream<Item = Result<Resp, Status>> + Send + 'static,
    F: FnOnce(tonic::Request<Req>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<S>, Status>>,
{
    let request = tonic_request(ctx, request.to_owned_message());
    let response = f(request).await.map_err(to_connect)?;
    Ok(connect_response(response).map_body(status_stream))
}

/// Client-streaming method: `f` gets a `tonic::Request<tonic::Streaming<Req>>`.
pub async fn client_stream<Req, Resp, F, Fut>(
    ctx: RequestContext,
    requests: InboundStream<Req>,
    f: F,
) -> ServiceResult<Resp>
where
    Req: buffa::view::HasMessageView + Send + 'static,
    F: FnOnce(tonic::Request<tonic::Streaming<Req>>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<Resp>, Status>>,
{
    let request = tonic_request(ctx, streaming_from_inbound(requests));
    f(request).await.map(connect_response).map_err(to_connect)
}

/// Bidi-streaming method: `f` gets a `tonic::Request<tonic::Streaming<Req>>` and returns
/// `tonic::Response<S>`.
pub async fn bidi_stream<Req, Resp, S, F, Fut>(
    ctx: RequestContext,
    requests: InboundStream<Req>,
    f: F,
) -> ServiceResult<ServiceStream<Resp>>
where
    Req: buffa::view::HasMessageView + Send + 'static,
    Resp: Send + 'static,
    S: Stream<Item = Result<Resp, Status>> + Send + 'static,
    F: FnOnce(tonic::Request<tonic::Streaming<Req>>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<S>, Status>>,
{
    let request = tonic_request(ctx, streaming_from_inbound(requests));
    let response = f(request).await.map_err(to_connect)?;
    Ok(connect_response(response).map_body(status_stream))
}

/// The `tonic::Request` a tonic handler would have received for this call.
#[doc(hidden)]
pub fn tonic_request<T>(mut ctx: RequestContext, message: T) -> tonic::Request<T> {
    let deadline = ctx.deadline();
    let mut extensions = std::mem::take(ctx.extensions_mut());
    if extensions
        .get::<tonic::transport::server::TcpConnectInfo>()
        .is_none()
    {
        if let Some(addr) = crate::hosting::peer_addr(&extensions) {
            extensions.insert(tonic::transport::server::TcpConnectInfo {
                local_addr: None,
                remote_addr: Some(addr),
            });
        }
    }
    let metadata = MetadataMap::from_headers(std::mem::take(ctx.headers_mut()));
    let mut request = tonic::Request::from_parts(metadata, extensions, message);
    if let Some(deadline) = deadline {
        // Re-expressed the way tonic's own server sees it: as `grpc-timeout`.
        request.set_timeout(deadline.saturating_duration_since(Instant::now()));
    }
    request
}

/// A tonic response as a connect response: metadata to headers, compression override kept.
#[doc(hidden)]
pub fn connect_response<T>(response: tonic::Response<T>) -> connectrpc::Response<T> {
    let (metadata, body, extensions) = response.into_parts();
    let mut out = connectrpc::Response::new(body);
    out.headers = metadata_to_headers(&metadata);
    if let Some(tonic::codec::SingleMessageCompressionOverride::Disable) =
        extensions.get::<tonic::codec::SingleMessageCompressionOverride>()
    {
        out = out.compress(false);
    }
    out
}

/// A tonic-style stream (`Result<T, Status>` items) as a connect `ServiceStream`.
#[doc(hidden)]
pub fn status_stream<T, S>(stream: S) -> ServiceStream<T>
where
    S: Stream<Item = Result<T, Status>> + Send + 'static,
{
    Box::pin(stream.map(|item| item.map_err(to_connect)))
}

/// A connect inbound stream as a real `tonic::Streaming`, decoded with [`BuffaCodec`].
#[doc(hidden)]
pub fn streaming_from_inbound<M>(requests: InboundStream<M>) -> tonic::Streaming<M>
where
    M: buffa::view::HasMessageView + Send + 'static,
{
    let frames = requests.map(|item| match item {
        Ok(message) => Ok(http_body::Frame::data(grpc_frame(message.bytes()))),
        Err(err) => Err(to_status(err)),
    });
    tonic::Streaming::new_request(
        BuffaCodec::<M, M>::raw_decoder(BufferSettings::default()),
        http_body_util::StreamBody::new(frames),
        None,
        // connectrpc already enforced its own message limits on this stream.
        Some(usize::MAX),
    )
}

/// `[0, len as u32 BE, bytes..]`: one uncompressed gRPC message frame.
fn grpc_frame(message: &Bytes) -> Bytes {
    let mut buf = BytesMut::with_capacity(5 + message.len());
    buf.put_u8(0);
    buf.put_u32(message.len() as u32);
    buf.put_slice(message);
    buf.freeze()
}

// ---------------------------------------------------------------------------------------------
// Calling a connect handler the tonic way (handler unit tests)

/// Calls a connect handler method with a `tonic::Request` and gives back tonic's result shape,
/// so handler unit tests written against tonic keep working after step 2:
///
/// ```text
/// // before: svc.say_hello(Request::new(HelloRequest { .. })).await
/// connect_shim::tonic_call!(svc, say_hello, Request::new(HelloRequest { .. })).await
/// ```
///
/// The request's metadata become the context's headers and its extensions move over; the
/// message is encoded and decoded into a view, as the connect dispatcher does. The result is
/// `Result<tonic::Response<B>, tonic::Status>` (response headers as metadata; the error through
/// [`status::to_status`](crate::status::to_status), details included). For unary and
/// server-streaming methods (a server stream comes back as `ServiceStream<T>`, see
/// [`tonic_stream`]). The connect trait must be in scope at the call site.
#[macro_export]
macro_rules! tonic_call {
    ($service:expr, $method:ident, $request:expr $(,)?) => {
        async {
            let (__ctx, __message) = $crate::server::split_tonic_request($request);
            let __body = $crate::server::encode_message(&__message);
            let __view = $crate::server::decode_view_of(&__message, &__body);
            let __request = $crate::__private::ServiceRequest::from_parts(&__view, &__body);
            $crate::server::tonic_result($service.$method(__ctx, __request).await)
        }
    };
}

/// The connect context and the message of a `tonic::Request` (metadata to headers, extensions
/// moved).
pub fn split_tonic_request<T>(request: tonic::Request<T>) -> (RequestContext, T) {
    let (metadata, extensions, message) = request.into_parts();
    let ctx = RequestContext::new(metadata.into_headers()).with_extensions(extensions);
    (ctx, message)
}

/// The protobuf encoding of `message`.
pub fn encode_message<M: buffa::Message>(message: &M) -> Bytes {
    Bytes::from(message.encode_to_vec())
}

/// The view of `M` decoded from `body` (which [`encode_message`] produced from a value of `M`).
pub fn decode_view_of<'a, M: buffa::view::HasMessageView>(
    _like: &M,
    body: &'a Bytes,
) -> M::View<'a> {
    <M::View<'a> as buffa::view::MessageView<'a>>::decode_view(body)
        .expect("a message encoded just now decodes")
}

/// A connect handler result in tonic's shape.
pub fn tonic_result<B>(result: ServiceResult<B>) -> Result<tonic::Response<B>, Status> {
    match result {
        Ok(response) => {
            let mut out = tonic::Response::new(response.body);
            *out.metadata_mut() = MetadataMap::from_headers(response.headers);
            Ok(out)
        }
        Err(err) => Err(to_status(err)),
    }
}

/// A connect response stream as a tonic-style stream (`Result<T, Status>` items).
#[doc(hidden)]
pub fn tonic_stream<T: Send + 'static>(
    stream: ServiceStream<T>,
) -> impl Stream<Item = Result<T, Status>> + Send + Unpin + 'static {
    stream.map(|item| item.map_err(to_status))
}

/// Inbound connect stream with owned messages, for loops written against tonic's `Streaming`
/// (`while let Some(m) = s.next().await { let m = m?; .. }`).
#[doc(hidden)]
pub fn owned_messages<M>(
    requests: InboundStream<M>,
) -> impl Stream<Item = Result<M, ConnectError>> + Send + Unpin + 'static
where
    M: buffa::view::HasMessageView + Send + 'static,
{
    requests.map(|item| item.map(|m| m.to_owned_message()))
}

/// `message().await` on any stream of results, as `tonic::Streaming` has it.
///
/// User-facing: handler code that keeps `stream.message().await` on a connect inbound stream
/// imports it; step 4 makes streaming handlers native (`next().await`).
pub trait MessageStreamExt<T, E>: Stream<Item = Result<T, E>> + Unpin {
    /// The next message, `Ok(None)` at the end of the stream.
    fn message(&mut self) -> impl Future<Output = Result<Option<T>, E>> + Send + '_
    where
        Self: Send,
    {
        async move { self.next().await.transpose() }
    }
}

impl<T, E, S: Stream<Item = Result<T, E>> + Unpin> MessageStreamExt<T, E> for S {}

/// A whole tonic service impl, to be served as a connect service impl through
/// [`tonic_bridge!`](crate::tonic_bridge). `Arc`, so the tonic impl can be shared with a tonic
/// server that still serves it.
#[derive(Debug)]
pub struct TonicBridge<T>(pub std::sync::Arc<T>);

impl<T> Clone for TonicBridge<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> TonicBridge<T> {
    /// Bridge `inner`.
    pub fn new(inner: T) -> Self {
        Self(std::sync::Arc::new(inner))
    }
}

/// Implements a generated connect service trait for [`TonicBridge<T>`] over every `T` that
/// implements the corresponding tonic server trait, one line per RPC:
///
/// ```text
/// connect_shim::tonic_bridge! {
///     impl connect::Echo => pb::echo_server::Echo {
///         unary say(EchoRequest) -> EchoReply;
///         server_stream repeat(EchoRequest) -> EchoReply;
///         client_stream collect(EchoRequest) -> EchoReply;
///         bidi chat(EchoRequest) -> EchoReply;
///     }
/// }
/// let router = connect::EchoExt::register(Arc::new(TonicBridge::new(MyTonicImpl)), Router::new());
/// ```
///
/// Must be invoked in the crate that owns the connect trait (the orphan rule allows
/// `impl LocalTrait for TonicBridge<T>`).
///
/// User-facing (the tool never writes it): a whole tonic service impl served as a connect service
/// by hand; steps 2 and 4 convert handlers one by one instead, after which it can go.
#[macro_export]
macro_rules! tonic_bridge {
    (
        impl $connect_trait:path => $tonic_trait:path {
            $( $kind:ident $method:ident ( $req:ty ) -> $resp:ty ; )*
        }
    ) => {
        #[allow(refining_impl_trait)]
        impl<T: $tonic_trait> $connect_trait for $crate::server::TonicBridge<T> {
            $( $crate::__tonic_bridge_method!($tonic_trait, $kind $method($req) -> $resp); )*
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tonic_bridge_method {
    ($tonic_trait:path, unary $method:ident($req:ty) -> $resp:ty) => {
        async fn $method(
            &self,
            ctx: $crate::__private::connectrpc::RequestContext,
            request: $crate::__private::connectrpc::ServiceRequest<'_, $req>,
        ) -> $crate::__private::connectrpc::ServiceResult<$resp> {
            $crate::server::unary(ctx, request, |r| <T as $tonic_trait>::$method(&self.0, r)).await
        }
    };
    ($tonic_trait:path, server_stream $method:ident($req:ty) -> $resp:ty) => {
        async fn $method(
            &self,
            ctx: $crate::__private::connectrpc::RequestContext,
            request: $crate::__private::connectrpc::ServiceRequest<'_, $req>,
        ) -> $crate::__private::connectrpc::ServiceResult<
            $crate::__private::connectrpc::ServiceStream<$resp>,
        > {
            $crate::server::server_stream(ctx, request, |r| {
                <T as $tonic_trait>::$method(&self.0, r)
            })
            .await
        }
    };
    ($tonic_trait:path, client_stream $method:ident($req:ty) -> $resp:ty) => {
        async fn $method(
            &self,
            ctx: $crate::__private::connectrpc::RequestContext,
            requests: $crate::__private::connectrpc::InboundStream<$req>,
        ) -> $crate::__private::connectrpc::ServiceResult<$resp> {
            $crate::server::client_stream(ctx, requests, |r| {
                <T as $tonic_trait>::$method(&self.0, r)
            })
            .await
        }
    };
    ($tonic_trait:path, bidi $method:ident($req:ty) -> $resp:ty) => {
        async fn $method(
            &self,
            ctx: $crate::__private::connectrpc::RequestContext,
            requests: $crate::__private::connectrpc::InboundStream<$req>,
        ) -> $crate::__private::connectrpc::ServiceResult<
            $crate::__private::connectrpc::ServiceStream<$resp>,
        > {
            $crate::server::bidi_stream(ctx, requests, |r| <T as $tonic_trait>::$method(&self.0, r))
                .await
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use buffa_types::google::protobuf::Timestamp;
    use connectrpc::StreamMessage;

    fn ts(seconds: i64) -> Timestamp {
        Timestamp {
            seconds,
            ..Default::default()
        }
    }

    struct Clock;

    impl Clock {
        async fn next_second(
            &self,
            ctx: RequestContext,
            request: ServiceRequest<'_, Timestamp>,
        ) -> ServiceResult<Timestamp> {
            if request.seconds < 0 {
                return Err(ConnectError::invalid_argument("negative"));
            }
            let tag = ctx.headers().get("x-tag").cloned();
            let mut response = connectrpc::Response::new(ts(request.seconds + 1));
            if let Some(tag) = tag {
                response.headers.insert("x-tag", tag);
            }
            if let Some(n) = ctx.extensions().get::<u32>() {
                response
                    .headers
                    .insert("x-ext", n.to_string().parse().unwrap());
            }
            Ok(response)
        }
    }

    #[tokio::test]
    async fn tonic_call_runs_a_connect_handler_with_a_tonic_request() {
        let clock = Clock;
        let mut request = tonic::Request::new(ts(41));
        request.metadata_mut().insert("x-tag", "t".parse().unwrap());
        request.extensions_mut().insert(9u32);
        let response = crate::tonic_call!(clock, next_second, request)
            .await
            .unwrap();
        assert_eq!(response.metadata().get("x-tag").unwrap(), "t");
        assert_eq!(response.metadata().get("x-ext").unwrap(), "9");
        assert_eq!(response.into_inner(), ts(42));

        let status = crate::tonic_call!(Clock, next_second, tonic::Request::new(ts(-1)))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "negative");
    }

    #[tokio::test]
    async fn inbound_stream_becomes_real_tonic_streaming_with_errors() {
        let items: Vec<Result<StreamMessage<Timestamp>, ConnectError>> = vec![
            Ok(StreamMessage::from_message(&ts(1))),
            Ok(StreamMessage::from_message(&ts(2))),
            Err(ConnectError::data_loss("cut")),
        ];
        let inbound: InboundStream<Timestamp> = Box::pin(futures_util::stream::iter(items));
        let mut streaming = streaming_from_inbound(inbound);
        assert_eq!(streaming.message().await.unwrap(), Some(ts(1)));
        assert_eq!(streaming.message().await.unwrap(), Some(ts(2)));
        let err = streaming.message().await.unwrap_err();
        assert_eq!(err.code(), tonic::Code::DataLoss);
        assert_eq!(err.message(), "cut");
    }

    #[tokio::test]
    async fn request_context_maps_to_tonic_request() {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-req", "v".parse().unwrap());
        let mut ext = http::Extensions::new();
        ext.insert(connectrpc::server::PeerAddr(
            "127.0.0.1:4242".parse().unwrap(),
        ));
        ext.insert(7u32);
        let ctx = RequestContext::new(headers)
            .with_extensions(ext)
            .with_deadline(Some(Instant::now() + std::time::Duration::from_secs(30)));
        let req = tonic_request(ctx, ());
        assert_eq!(req.metadata().get("x-req").unwrap(), "v");
        assert_eq!(req.remote_addr(), Some("127.0.0.1:4242".parse().unwrap()));
        assert_eq!(req.extensions().get::<u32>(), Some(&7));
        let timeout = req
            .metadata()
            .get("grpc-timeout")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            timeout.ends_with('u') || timeout.ends_with('m'),
            "{timeout}"
        );
    }

    #[tokio::test]
    async fn response_metadata_and_errors_convert() {
        let mut resp = tonic::Response::new(5u8);
        resp.metadata_mut().insert("x-resp", "1".parse().unwrap());
        // What `disable_compression()` does (that method needs a tonic compression feature).
        resp.extensions_mut()
            .insert(tonic::codec::SingleMessageCompressionOverride::Disable);
        let out = connect_response(resp);
        assert_eq!(out.headers["x-resp"], "1");
        assert_eq!(out.compress, Some(false));

        let s = status_stream(futures_util::stream::iter(vec![
            Ok(1u8),
            Err(Status::aborted("mid")),
        ]));
        let items: Vec<_> = s.collect().await;
        assert_eq!(items[0].as_ref().unwrap(), &1);
        assert_eq!(
            items[1].as_ref().unwrap_err().code,
            connectrpc::ErrorCode::Aborted
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Adapters for handler bodies whose errors are already connect errors (after step 3)

/// The same adapters as [`unary`](super::server::unary) and friends, for tonic-style bodies whose
/// errors step 3 already turned into `ConnectError`: the closure still gets a `tonic::Request`
/// and returns a `tonic::Response`, but its error type is `ConnectError`, and inbound streams are
/// an [`Inbound`] whose `message().await` fails with a `ConnectError` too (so `?` keeps
/// working). Outbound stream items may fail with any [`IntoConnectError`].
///
/// **Removed by** step 4 (streaming handlers native) and native rewrites of the bodies.
pub mod connect_errors {
    use super::*;
    use crate::status::RpcError;

    /// An error type a response stream item may carry: converted with [`to_connect`] for
    /// `tonic::Status`, as is for `ConnectError`.
    #[doc(hidden)]
    pub trait IntoConnectError {
        /// The connect error.
        fn into_connect_error(self) -> ConnectError;
    }
    impl IntoConnectError for ConnectError {
        fn into_connect_error(self) -> ConnectError {
            self
        }
    }
    impl IntoConnectError for Status {
        fn into_connect_error(self) -> ConnectError {
            to_connect(self)
        }
    }
    impl IntoConnectError for RpcError {
        fn into_connect_error(self) -> ConnectError {
            self.into_connect()
        }
    }

    /// Unary method: `f` gets a `tonic::Request<Req>`, returns
    /// `Result<tonic::Response<Resp>, ConnectError>`.
    pub async fn unary<Req, Resp, F, Fut>(
        ctx: RequestContext,
        request: ServiceRequest<'_, Req>,
        f: F,
    ) -> ServiceResult<Resp>
    where
        Req: buffa::view::HasMessageView,
        F: FnOnce(tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, ConnectError>>,
    {
        let request = tonic_request(ctx, request.to_owned_message());
        f(request).await.map(connect_response)
    }

    /// Server-streaming method: `f` returns `tonic::Response<S>` for a stream of
    /// `Result<Resp, E>`.
    pub async fn server_stream<Req, Resp, S, E, F, Fut>(
        ctx: RequestContext,
        request: ServiceRequest<'_, Req>,
        f: F,
    ) -> ServiceResult<ServiceStream<Resp>>
    where
        Req: buffa::view::HasMessageView,
        Resp: Send + 'static,
        E: IntoConnectError + 'static,
        S: Stream<Item = Result<Resp, E>> + Send + 'static,
        F: FnOnce(tonic::Request<Req>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<S>, ConnectError>>,
    {
        let request = tonic_request(ctx, request.to_owned_message());
        let response = f(request).await?;
        Ok(connect_response(response).map_body(connect_stream))
    }

    /// Client-streaming method: `f` gets a `tonic::Request<Inbound<Req>>`.
    pub async fn client_stream<Req, Resp, F, Fut>(
        ctx: RequestContext,
        requests: InboundStream<Req>,
        f: F,
    ) -> ServiceResult<Resp>
    where
        Req: buffa::view::HasMessageView + Send + 'static,
        F: FnOnce(tonic::Request<Inbound<Req>>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<Resp>, ConnectError>>,
    {
        let request = tonic_request(ctx, Inbound::new(requests));
        f(request).await.map(connect_response)
    }

    /// Bidi-streaming method: `f` gets a `tonic::Request<Inbound<Req>>` and returns
    /// `tonic::Response<S>`.
    pub async fn bidi_stream<Req, Resp, S, E, F, Fut>(
        ctx: RequestContext,
        requests: InboundStream<Req>,
        f: F,
    ) -> ServiceResult<ServiceStream<Resp>>
    where
        Req: buffa::view::HasMessageView + Send + 'static,
        Resp: Send + 'static,
        E: IntoConnectError + 'static,
        S: Stream<Item = Result<Resp, E>> + Send + 'static,
        F: FnOnce(tonic::Request<Inbound<Req>>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<S>, ConnectError>>,
    {
        let request = tonic_request(ctx, Inbound::new(requests));
        let response = f(request).await?;
        Ok(connect_response(response).map_body(connect_stream))
    }

    fn connect_stream<T, E, S>(stream: S) -> ServiceStream<T>
    where
        E: IntoConnectError,
        S: Stream<Item = Result<T, E>> + Send + 'static,
    {
        Box::pin(stream.map(|item| item.map_err(IntoConnectError::into_connect_error)))
    }

    /// An inbound stream of owned messages, shaped like `tonic::Streaming` (`message().await`,
    /// `Stream<Item = Result<M, ConnectError>>`).
    #[doc(hidden)]
    pub struct Inbound<M> {
        inner: std::pin::Pin<Box<dyn Stream<Item = Result<M, ConnectError>> + Send>>,
    }

    impl<M> std::fmt::Debug for Inbound<M> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("Inbound")
        }
    }

    impl<M: buffa::view::HasMessageView + Send + 'static> Inbound<M> {
        /// Owned messages of a connect inbound stream.
        pub fn new(requests: InboundStream<M>) -> Self {
            Inbound {
                inner: Box::pin(owned_messages(requests)),
            }
        }
    }

    impl<M> Inbound<M> {
        /// Any stream of owned messages (a client's response stream, for instance).
        pub fn from_stream(
            s: impl Stream<Item = Result<M, ConnectError>> + Send + 'static,
        ) -> Self {
            Inbound { inner: Box::pin(s) }
        }

        /// The next message, `Ok(None)` once the client finished.
        pub async fn message(&mut self) -> Result<Option<M>, ConnectError> {
            self.inner.next().await.transpose()
        }
    }

    impl<M> Stream for Inbound<M> {
        type Item = Result<M, ConnectError>;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Self::Item>> {
            self.inner.as_mut().poll_next(cx)
        }
    }
}

/// [`tonic_call!`] for handlers whose errors are connect errors (after step 3): the result is
/// `Result<tonic::Response<B>, ConnectError>`, so tests read `err.code` and `err.message`.
#[macro_export]
macro_rules! tonic_call_connect {
    ($service:expr, $method:ident, $request:expr $(,)?) => {
        async {
            let (__ctx, __message) = $crate::server::split_tonic_request($request);
            let __body = $crate::server::encode_message(&__message);
            let __view = $crate::server::decode_view_of(&__message, &__body);
            let __request = $crate::__private::ServiceRequest::from_parts(&__view, &__body);
            $crate::server::tonic_result_connect($service.$method(__ctx, __request).await)
        }
    };
}

/// A connect handler result as a tonic response with the connect error.
pub fn tonic_result_connect<B>(
    result: ServiceResult<B>,
) -> Result<tonic::Response<B>, ConnectError> {
    result.map(|response| {
        let mut out = tonic::Response::new(response.body);
        *out.metadata_mut() = MetadataMap::from_headers(response.headers);
        out
    })
}

// ---------------------------------------------------------------------------------------------
// step 5: tonic interceptors in front of a hosted connect service

/// A tonic interceptor function (`FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, Status>`,
/// or any [`tonic::service::Interceptor`]) run as a connectrpc
/// [`Interceptor`](connectrpc::Interceptor) for the calls of one service, as
/// `XServer::with_interceptor(svc, f)` / `InterceptedService::new(svc, f)` ran it (step 5).
///
/// Before each call whose path is `/<service>/...` (unary and streaming alike), the request
/// headers become the interceptor's `MetadataMap` and the extensions move over (with tonic's
/// `TcpConnectInfo` for the peer address); what the interceptor leaves in them goes back to the
/// call, so a handler reads an extension the interceptor inserted from `ctx.extensions()`. An
/// error answers the call through [`status::to_connect`](crate::status::to_connect) and the
/// handler does not run. Calls of other services pass through.
///
/// Install it on the `ConnectRpcService` that hosts the service:
/// `ConnectRpcService::new(router).with_interceptor(TonicInterceptor::new(NAME, f))`.
/// Step 9 moves a plain interceptor function to its connect shape
/// (`Fn(RequestContext) -> Result<RequestContext, ConnectError>`) and this adapter to the crate's
/// own module.
pub struct TonicInterceptor<F> {
    prefix: String,
    f: std::sync::Mutex<F>,
}

impl<F> TonicInterceptor<F>
where
    F: tonic::service::Interceptor,
{
    /// `f` in front of the calls of `service` (its full name, `pkg.Service`).
    pub fn new(service: impl AsRef<str>, f: F) -> Self {
        Self {
            prefix: format!("/{}/", service.as_ref().trim_matches('/')),
            f: std::sync::Mutex::new(f),
        }
    }

    fn applies(&self, ctx: &RequestContext) -> bool {
        ctx.path().is_some_and(|p| p.starts_with(&self.prefix))
    }

    /// Run the interceptor on `ctx`.
    pub fn intercept(&self, mut ctx: RequestContext) -> Result<RequestContext, ConnectError> {
        let mut extensions = std::mem::take(ctx.extensions_mut());
        let inserted = extensions
            .get::<tonic::transport::server::TcpConnectInfo>()
            .is_none()
            && crate::hosting::peer_addr(&extensions).is_some_and(|addr| {
                extensions.insert(tonic::transport::server::TcpConnectInfo {
                    local_addr: None,
                    remote_addr: Some(addr),
                });
                true
            });
        let metadata = MetadataMap::from_headers(std::mem::take(ctx.headers_mut()));
        let request = tonic::Request::from_parts(metadata, extensions, ());
        let result = {
            let mut f = self.f.lock().unwrap_or_else(|e| e.into_inner());
            f.call(request)
        };
        let request = result.map_err(to_connect)?;
        let (metadata, mut extensions, ()) = request.into_parts();
        if inserted {
            extensions.remove::<tonic::transport::server::TcpConnectInfo>();
        }
        *ctx.headers_mut() = metadata.into_headers();
        *ctx.extensions_mut() = extensions;
        Ok(ctx)
    }
}

#[connectrpc::async_trait]
impl<F> connectrpc::Interceptor for TonicInterceptor<F>
where
    F: tonic::service::Interceptor + Send + 'static,
{
    async fn intercept_unary(
        &self,
        mut req: connectrpc::interceptor::UnaryRequest,
        next: connectrpc::Next<'_>,
    ) -> Result<connectrpc::interceptor::UnaryResponse, ConnectError> {
        if self.applies(&req.ctx) {
            req.ctx = self.intercept(req.ctx)?;
        }
        next.run(req).await
    }

    async fn intercept_streaming(
        &self,
        mut req: connectrpc::interceptor::StreamRequest,
        inbound: connectrpc::PayloadStream,
        next: connectrpc::NextStream<'_>,
    ) -> Result<connectrpc::interceptor::StreamResponse, ConnectError> {
        if self.applies(&req.ctx) {
            req.ctx = self.intercept(req.ctx)?;
        }
        next.run(req, inbound).await
    }
}

#[cfg(test)]
mod interceptor_tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq)]
    struct Who(String);

    fn auth(mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        let who = req
            .metadata()
            .get("x-who")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Status::unauthenticated("who?"))?
            .to_owned();
        req.extensions_mut().insert(Who(who));
        Ok(req)
    }

    #[test]
    fn runs_the_tonic_function_and_keeps_what_it_inserted() {
        let i = TonicInterceptor::new("pkg.Svc", auth);
        let mut headers = http::HeaderMap::new();
        headers.insert("x-who", "ann".parse().unwrap());
        let ctx = RequestContext::new(headers).with_path("/pkg.Svc/Get");
        assert!(i.applies(&ctx));
        let ctx = i.intercept(ctx).unwrap();
        assert_eq!(ctx.extensions().get::<Who>(), Some(&Who("ann".into())));
        assert_eq!(ctx.headers().get("x-who").unwrap(), "ann");

        let err = i
            .intercept(RequestContext::new(http::HeaderMap::new()))
            .unwrap_err();
        assert_eq!(err.code, connectrpc::ErrorCode::Unauthenticated);
        assert_eq!(err.message.as_deref(), Some("who?"));
        assert!(
            !i.applies(&RequestContext::new(http::HeaderMap::new()).with_path("/pkg.Other/Get"))
        );
    }
}
