//! Hosting across the two runtimes (migration steps 2 and 5).
//!
//! - [`TonicHosted`]: a connectrpc service inside `tonic::transport::Server`, one line per
//!   service, through tonic's `NamedService`:
//!   ```text
//!   Server::builder()
//!       .add_service(pb::echo_alt_server::EchoAltServer::new(StillTonic))   // not migrated yet
//!       .add_service(connect_shim::tonic_hosted!(connect::ECHO_SERVICE_NAME, connect_router))
//!       .serve(addr).await?;
//!   ```
//! - [`axum_app`]: tonic services and connect services on one axum app (HTTP/1.1 and h2c; Connect,
//!   gRPC and gRPC-Web reach the connect services, gRPC reaches the tonic ones).
//! - [`GrpcErrorFixLayer`]: the gRPC error-header fix as a tower layer. connectrpc 0.9 answers a
//!   gRPC error with a HEADERS frame that carries `grpc-status` and `grpc-message` *and* a later
//!   trailers frame that carries the full status (`grpc-status-details-bin`, the error's
//!   trailers). tonic's client stops at the headers, so it loses the details and trailers. The
//!   layer moves the status keys out of the headers and into the trailers (merging with the
//!   trailers connectrpc sends, or sending them itself if the body ends without trailers), so
//!   tonic reads the full status. Responses without a status in their headers are untouched;
//!   gRPC-Web and Connect responses are untouched. Inside [`TonicHosted`], an error answered
//!   before any message becomes a genuine trailers-only response instead ([`trailers_only`]), so
//!   tonic clients of streaming methods see it when the call returns, as from a tonic server.
//!
//! **Costs.** `TonicHosted` adds no allocation of its own (tonic's router boxes the body, as for
//! any service) and inserts connectrpc's `PeerAddr` from tonic's `TcpConnectInfo`. The fix layer wraps the body;
//! on success responses it only forwards frames.
//!
//! **Written by** step 2 ([`tonic_hosted!`](crate::tonic_hosted): a converted service keeps
//! serving inside tonic's `Server`) and step 5 ([`connect_app`]: `main` serves a connectrpc
//! router through axum, [`incoming_listener`] for a tonic `TcpIncoming`); **removed by** step 9,
//! which writes [`connect_app`]'s code into the crate (`connect_compat.rs`). Keep
//! [`GrpcErrorFixLayer`] for as long as tonic clients call connect servers.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use connectrpc::{ConnectRpcService, Router};
use http::{HeaderMap, HeaderName};
use http_body::{Body, Frame, SizeHint};
use tower::{Layer, Service};

/// Names a connect service for tonic's router (a `&'static str` const generic is not stable).
/// Declare one with [`service_name!`](crate::service_name) or let
/// [`tonic_hosted!`](crate::tonic_hosted) do it.
pub trait ServiceName: Send + Sync + 'static {
    /// Fully qualified proto service name, e.g. `"greet.v1.Greeter"`.
    const NAME: &'static str;
}

/// Declares a [`ServiceName`] marker: `service_name!(pub EchoName = "shimtest.v1.Echo");`.
#[doc(hidden)]
#[macro_export]
macro_rules! service_name {
    ($vis:vis $ty:ident = $name:expr) => {
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $ty;
        impl $crate::hosting::ServiceName for $ty {
            const NAME: &'static str = $name;
        }
    };
}

/// `tonic_hosted!(SERVICE_NAME_CONST, connect_router)`: a [`TonicHosted`] for one connect service,
/// ready for `Server::builder().add_service(..)`. The router may hold several services; tonic
/// routes only `/{SERVICE_NAME}/*` to this one. The second argument may be anything
/// [`TonicHosted::new`] takes (a `connectrpc::Router` or a `ConnectRpcService`).
#[macro_export]
macro_rules! tonic_hosted {
    ($name:expr, $service:expr) => {{
        #[derive(Debug, Clone, Copy, Default)]
        struct __ConnectShimServiceName;
        impl $crate::hosting::ServiceName for __ConnectShimServiceName {
            const NAME: &'static str = $name;
        }
        $crate::hosting::TonicHosted::<__ConnectShimServiceName>::new($service)
    }};
}

/// A connectrpc service that `tonic::transport::Server::add_service` accepts.
pub struct TonicHosted<N> {
    inner: ConnectRpcService,
    fix_errors: bool,
    _name: PhantomData<fn() -> N>,
}

impl<N> Clone for TonicHosted<N> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            fix_errors: self.fix_errors,
            _name: PhantomData,
        }
    }
}

impl<N> std::fmt::Debug for TonicHosted<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TonicHosted")
            .field("fix_errors", &self.fix_errors)
            .finish()
    }
}

impl<N: ServiceName> TonicHosted<N> {
    /// Host `service` (a `connectrpc::Router`, or a configured `ConnectRpcService`) under
    /// `N::NAME`, with the gRPC error-header fix on.
    pub fn new(service: impl Into<HostedService>) -> Self {
        Self {
            inner: service.into().0,
            fix_errors: true,
            _name: PhantomData,
        }
    }

    /// Turn the gRPC error-header fix off (tonic clients then see only code and message of
    /// connect errors; only useful to observe the upstream behaviour).
    pub fn without_grpc_error_fix(mut self) -> Self {
        self.fix_errors = false;
        self
    }
}

/// What [`TonicHosted::new`] accepts.
#[doc(hidden)]
pub struct HostedService(ConnectRpcService);

impl From<Router> for HostedService {
    fn from(r: Router) -> Self {
        Self(ConnectRpcService::new(r))
    }
}
impl From<ConnectRpcService> for HostedService {
    fn from(s: ConnectRpcService) -> Self {
        Self(s)
    }
}

impl<N: ServiceName> tonic::server::NamedService for TonicHosted<N> {
    const NAME: &'static str = N::NAME;
}

/// Body of a hosted response: the connect body (with the error-header fix when it moved status
/// keys into the trailers), or a replay of an error response gathered into a trailers-only one.
#[doc(hidden)]
pub type HostedBody =
    http_body_util::Either<GrpcStatusBody<connectrpc::ConnectRpcBody>, ReplayBody>;
/// Frames of a response read to its end, sent again.
#[doc(hidden)]
pub type ReplayBody = http_body_util::StreamBody<
    futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>,
>;
type HostedResponse = http::Response<HostedBody>;

fn is_grpc(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/grpc") && !ct.starts_with("application/grpc-web")
        })
}

/// A gRPC error answered before any message (headers carrying `grpc-status`, then a trailers
/// frame with the full status) becomes a genuine trailers-only response: the trailers are merged
/// into the headers and the body is empty. tonic clients then see the error when the call
/// returns, as from a tonic server (for streaming methods too), with details and metadata. A
/// response with messages before its error keeps its messages and gets the status moved into its
/// trailers ([`fix_grpc_error_headers`]).
#[doc(hidden)]
pub async fn trailers_only(resp: http::Response<connectrpc::ConnectRpcBody>) -> HostedResponse {
    use http_body_util::BodyExt as _;
    if !(is_grpc(resp.headers()) && resp.headers().contains_key(&STATUS_KEYS[0])) {
        return resp.map(|b| http_body_util::Either::Left(GrpcStatusBody::passthrough(b)));
    }
    let (mut parts, mut body) = resp.into_parts();
    let mut data = Vec::new();
    let mut trailers = HeaderMap::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame;
        match frame.into_trailers() {
            Ok(t) => trailers.extend(t),
            Err(f) => data.push(f),
        }
    }
    if data.is_empty() {
        for (k, v) in trailers.iter() {
            parts.headers.insert(k.clone(), v.clone());
        }
        // A body that says it has ended, so hyper sends the headers with END_STREAM: without
        // that, hyper follows them with an empty DATA frame, and grpc-core clients (grpcio, ...)
        // read the headers as initial metadata and fail the call ("Stream removed") for want of
        // trailers.
        return http::Response::from_parts(
            parts,
            http_body_util::Either::Left(GrpcStatusBody::finished(
                connectrpc::ConnectRpcBody::Full(http_body_util::Full::default()),
            )),
        );
    }
    for key in &STATUS_KEYS {
        if let Some(v) = parts.headers.remove(key) {
            if !trailers.contains_key(key) {
                trailers.insert(key.clone(), v);
            }
        }
    }
    let frames: Vec<Result<Frame<Bytes>, Infallible>> = data
        .into_iter()
        .map(Ok)
        .chain(std::iter::once(Ok(Frame::trailers(trailers))))
        .collect();
    http::Response::from_parts(
        parts,
        http_body_util::Either::Right(http_body_util::StreamBody::new(futures_util::stream::iter(
            frames,
        ))),
    )
}

// The response body is not re-boxed into `tonic::body::Body`: tonic's router only needs
// `IntoResponse`, and boxes once itself.
impl<N: ServiceName> Service<http::Request<tonic::body::Body>> for TonicHosted<N> {
    type Response = HostedResponse;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<HostedResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Service::<http::Request<tonic::body::Body>>::poll_ready(&mut self.inner, cx)
    }

    fn call(&mut self, mut req: http::Request<tonic::body::Body>) -> Self::Future {
        insert_peer_addr(req.extensions_mut());
        let fix_errors = self.fix_errors;
        let fut = self.inner.call(req);
        Box::pin(async move {
            let Ok(resp) = fut.await;
            if fix_errors {
                Ok(trailers_only(resp).await)
            } else {
                Ok(resp.map(|b| http_body_util::Either::Left(GrpcStatusBody::passthrough(b))))
            }
        })
    }
}

/// The peer address a transport recorded in the request extensions: connectrpc's `PeerAddr`,
/// tonic's `TcpConnectInfo` or axum's `ConnectInfo<SocketAddr>`, in that order.
///
/// User-facing: user middleware reads the client's address with it whatever server accepted the
/// connection; step 9 removes the tonic server.
pub fn peer_addr(extensions: &http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<connectrpc::server::PeerAddr>()
        .map(|p| p.0)
        .or_else(|| {
            extensions
                .get::<tonic::transport::server::TcpConnectInfo>()
                .and_then(|i| i.remote_addr())
        })
        .or_else(|| {
            extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0)
                .filter(|a| *a != NO_PEER)
        })
}

/// Make `ctx.peer_addr()` work in connect handlers whatever transport accepted the connection.
#[doc(hidden)]
pub fn insert_peer_addr(extensions: &mut http::Extensions) {
    if extensions.get::<connectrpc::server::PeerAddr>().is_none() {
        if let Some(addr) = peer_addr(extensions) {
            extensions.insert(connectrpc::server::PeerAddr(addr));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// axum co-hosting

/// One axum app: the tonic services in `tonic_routes` first, every other path to the connect
/// `router` behind [`GrpcErrorFixLayer`]. Serve it with `axum::serve(listener, app)` (or
/// `app.into_make_service_with_connect_info::<SocketAddr>()` to give handlers the peer address).
#[doc(hidden)]
pub fn axum_app(tonic_routes: tonic::service::Routes, router: Router) -> axum::Router {
    tonic_routes
        .into_axum_router()
        .fallback_service(connect_service(router))
}

/// The connect router as a tower service for axum, with the gRPC error fix and peer-address
/// translation applied.
pub fn connect_service(router: Router) -> GrpcErrorFix<PeerAddrService<ConnectRpcService>> {
    GrpcErrorFixLayer.layer(PeerAddrService(ConnectRpcService::new(router)))
}

/// Inserts connectrpc's `PeerAddr` from axum's or tonic's connection info (see [`peer_addr`]).
#[derive(Debug, Clone)]
#[doc(hidden)]
pub struct PeerAddrService<S>(pub S);

impl<S, B> Service<http::Request<B>> for PeerAddrService<S>
where
    S: Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        insert_peer_addr(req.extensions_mut());
        self.0.call(req)
    }
}

// ---------------------------------------------------------------------------------------------
// step 5: the connect server on axum

/// The connect service (a `connectrpc::Router`, or a configured `ConnectRpcService` with its
/// deadline policy, limits and interceptors) as an axum app, answering Connect, gRPC and gRPC-Web
/// over HTTP/1.1 and h2c. Errors reach tonic clients as they would from a tonic server (see
/// [`AxumHosted`]). Serve it with
/// `axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())` so that
/// handlers see the peer address.
pub fn connect_app(service: impl Into<HostedService>) -> axum::Router {
    axum::Router::new().fallback_service(AxumHosted::new(service))
}

/// [`connect_app`] with services still on tonic (`tonic::service::Routes`) on the same app: their
/// paths go to tonic, every other path to the connect service.
pub fn mixed_app(
    tonic_routes: tonic::service::Routes,
    service: impl Into<HostedService>,
) -> axum::Router {
    tonic_routes
        .into_axum_router()
        .fallback_service(AxumHosted::new(service))
}

/// A connect service for axum with what tonic clients need: the peer address for
/// `ctx.peer_addr()` (from axum's `ConnectInfo<SocketAddr>`), and gRPC errors as a tonic server
/// sends them: an error before any message is a trailers-only response (so a tonic client of a
/// server-streaming method sees it when the call returns), a later one carries its details and
/// metadata in the trailers ([`trailers_only`]).
#[derive(Clone)]
#[doc(hidden)]
pub struct AxumHosted {
    inner: ConnectRpcService,
}

impl std::fmt::Debug for AxumHosted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AxumHosted").finish_non_exhaustive()
    }
}

impl AxumHosted {
    /// Host `service` (a `connectrpc::Router` or a `ConnectRpcService`).
    pub fn new(service: impl Into<HostedService>) -> Self {
        Self {
            inner: service.into().0,
        }
    }
}

impl<B> Service<http::Request<B>> for AxumHosted
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    type Response = HostedResponse;
    type Error = Infallible;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<HostedResponse, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: http::Request<B>) -> Self::Future {
        insert_peer_addr(req.extensions_mut());
        let fut = self.inner.call(req);
        Box::pin(async move {
            let Ok(resp) = fut.await;
            Ok(trailers_only(resp).await)
        })
    }
}

/// An `axum::serve` listener over a stream of accepted connections, for code that handed such a
/// stream to tonic's `serve_with_incoming`: what tonic accepted there (any
/// `tonic::transport::server::Connected` IO: TCP from `TcpIncoming` or `TcpListenerStream`, Unix
/// sockets from `UnixListenerStream`, in-memory `DuplexStream`s, TLS streams, ...). Accept
/// errors are skipped (after a pause for resource exhaustion); when the stream ends, no further
/// connection is accepted. The address is the TCP peer's, so
/// `into_make_service_with_connect_info::<SocketAddr>()` works for every IO; a connection
/// without one (a Unix socket, a pipe) is given [`NO_PEER`], which [`peer_addr`] reads as none
/// (as tonic's `remote_addr()` is none there).
#[doc(hidden)]
pub struct IncomingListener<S> {
    incoming: Pin<Box<S>>,
}

/// The address [`IncomingListener`] gives a connection without a TCP peer (`0.0.0.0:0`, which
/// no TCP peer has): [`peer_addr`] reads it as none.
#[doc(hidden)]
pub const NO_PEER: SocketAddr = SocketAddr::V4(std::net::SocketAddrV4::new(
    std::net::Ipv4Addr::UNSPECIFIED,
    0,
));

impl<S> std::fmt::Debug for IncomingListener<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingListener").finish_non_exhaustive()
    }
}

/// `incoming` as an `axum::serve` listener (see [`IncomingListener`]), tapped so that axum's
/// `ConnectInfo<SocketAddr>` is available.
pub fn incoming_listener<S, IO, E>(
    incoming: S,
) -> axum::serve::TapIo<IncomingListener<S>, fn(&mut IO)>
where
    S: futures_util::Stream<Item = Result<IO, E>> + Send + 'static,
    IO: IncomingIo,
    E: std::fmt::Display + Send + 'static,
{
    use axum::serve::ListenerExt as _;
    fn nothing<IO>(_: &mut IO) {}
    IncomingListener {
        incoming: Box::pin(incoming),
    }
    .tap_io(nothing::<IO> as fn(&mut IO))
}

/// A connection tonic's `serve_with_incoming` accepted, and so [`IncomingListener`] does.
#[doc(hidden)]
pub trait IncomingIo:
    tonic::transport::server::Connected
    + tokio::io::AsyncRead
    + tokio::io::AsyncWrite
    + Unpin
    + Send
    + 'static
{
}

impl<T> IncomingIo for T where
    T: tonic::transport::server::Connected
        + tokio::io::AsyncRead
        + tokio::io::AsyncWrite
        + Unpin
        + Send
        + 'static
{
}

/// The TCP peer of a connection tonic would have served, when it has one.
fn tcp_peer<IO: tonic::transport::server::Connected>(io: &IO) -> Option<SocketAddr> {
    let info = io.connect_info();
    let any: &dyn std::any::Any = &info;
    any.downcast_ref::<tonic::transport::server::TcpConnectInfo>()
        .and_then(|i| i.remote_addr())
}

impl<S, IO, E> axum::serve::Listener for IncomingListener<S>
where
    S: futures_util::Stream<Item = Result<IO, E>> + Send + 'static,
    IO: IncomingIo,
    E: std::fmt::Display + Send + 'static,
{
    type Io = IO;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        use futures_util::StreamExt as _;
        loop {
            match self.incoming.next().await {
                Some(Ok(io)) => {
                    let addr = tcp_peer(&io).unwrap_or(NO_PEER);
                    return (io, addr);
                }
                Some(Err(_)) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Err(std::io::Error::other(
            "the local address of a connection stream is not known",
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// gRPC error-header fix

/// Tower layer applying [`fix_grpc_error_headers`] to every response.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcErrorFixLayer;

/// `GrpcErrorFixLayer` as a function, for `.layer(grpc_error_fix_layer())`.
#[doc(hidden)]
pub fn grpc_error_fix_layer() -> GrpcErrorFixLayer {
    GrpcErrorFixLayer
}

impl<S> Layer<S> for GrpcErrorFixLayer {
    type Service = GrpcErrorFix<S>;
    fn layer(&self, inner: S) -> GrpcErrorFix<S> {
        GrpcErrorFix(inner)
    }
}

/// Service produced by [`GrpcErrorFixLayer`].
#[derive(Debug, Clone)]
#[doc(hidden)]
pub struct GrpcErrorFix<S>(pub S);

type FixFn<B> = fn(http::Response<B>) -> http::Response<GrpcStatusBody<B>>;

impl<S, Req, B> Service<Req> for GrpcErrorFix<S>
where
    S: Service<Req, Response = http::Response<B>>,
{
    type Response = http::Response<GrpcStatusBody<B>>;
    type Error = S::Error;
    type Future = futures_util::future::MapOk<S::Future, FixFn<B>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        use futures_util::TryFutureExt as _;
        self.0.call(req).map_ok(fix_grpc_error_headers as FixFn<B>)
    }
}

const STATUS_KEYS: [HeaderName; 3] = [
    HeaderName::from_static("grpc-status"),
    HeaderName::from_static("grpc-message"),
    HeaderName::from_static("grpc-status-details-bin"),
];

/// On an `application/grpc` response (not gRPC-Web) whose headers carry `grpc-status`, move the
/// status keys out of the headers; the returned body delivers them in its trailers (keeping any
/// value the trailers already have). Any other response passes through unchanged.
#[doc(hidden)]
pub fn fix_grpc_error_headers<B>(resp: http::Response<B>) -> http::Response<GrpcStatusBody<B>> {
    let (mut parts, body) = resp.into_parts();
    let is_grpc = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.starts_with("application/grpc") && !ct.starts_with("application/grpc-web")
        });
    let mut moved = None;
    if is_grpc && parts.headers.contains_key(&STATUS_KEYS[0]) {
        let mut saved = HeaderMap::new();
        for key in &STATUS_KEYS {
            if let Some(v) = parts.headers.remove(key) {
                saved.insert(key.clone(), v);
            }
        }
        moved = Some(saved);
    }
    http::Response::from_parts(
        parts,
        GrpcStatusBody {
            inner: body,
            moved,
            finished: false,
        },
    )
}

pin_project_lite::pin_project! {
    /// Body returned by [`fix_grpc_error_headers`]: forwards `B`, adding the status keys moved out
    /// of the headers to the trailers.
    pub struct GrpcStatusBody<B> {
        #[pin]
        inner: B,
        moved: Option<HeaderMap>,
        // Ended before any frame, and says so (`is_end_stream`).
        finished: bool,
    }
}

impl<B> GrpcStatusBody<B> {
    /// Forwards `inner` unchanged.
    pub fn passthrough(inner: B) -> Self {
        Self {
            inner,
            moved: None,
            finished: false,
        }
    }

    /// An empty body that reports its end up front (`is_end_stream`), whatever `inner` does, so
    /// that the response headers go out as the only frame (a gRPC trailers-only response).
    /// `inner` is never polled.
    pub fn finished(inner: B) -> Self {
        Self {
            inner,
            moved: None,
            finished: true,
        }
    }
}

impl<B> Body for GrpcStatusBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        if *this.finished {
            return Poll::Ready(None);
        }
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let Some(moved) = this.moved.take() else {
                    return Poll::Ready(Some(Ok(frame)));
                };
                match frame.into_trailers() {
                    Ok(mut trailers) => {
                        for (k, v) in moved.iter() {
                            if !trailers.contains_key(k) {
                                trailers.insert(k.clone(), v.clone());
                            }
                        }
                        Poll::Ready(Some(Ok(Frame::trailers(trailers))))
                    }
                    Err(data_frame) => {
                        *this.moved = Some(moved);
                        Poll::Ready(Some(Ok(data_frame)))
                    }
                }
            }
            // The body ended without trailers: send the status ourselves.
            Poll::Ready(None) => Poll::Ready(this.moved.take().map(|m| Ok(Frame::trailers(m)))),
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished || (self.moved.is_none() && self.inner.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        if self.finished {
            return SizeHint::with_exact(0);
        }
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;

    type TestBody = http_body_util::StreamBody<
        futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>,
    >;

    fn grpc_error_response(with_trailers: bool) -> http::Response<TestBody> {
        let mut frames = Vec::new();
        if with_trailers {
            let mut t = HeaderMap::new();
            t.insert("grpc-status", "5".parse().unwrap());
            t.insert("grpc-status-details-bin", "AAAA".parse().unwrap());
            t.insert("x-err", "1".parse().unwrap());
            frames.push(Ok(Frame::trailers(t)));
        }
        http::Response::builder()
            .header("content-type", "application/grpc+proto")
            .header("grpc-status", "5")
            .header("grpc-message", "gone")
            .body(http_body_util::StreamBody::new(futures_util::stream::iter(
                frames,
            )))
            .unwrap()
    }

    #[tokio::test]
    async fn status_moves_from_headers_into_existing_trailers() {
        let resp = fix_grpc_error_headers(grpc_error_response(true));
        assert!(resp.headers().get("grpc-status").is_none());
        assert!(resp.headers().get("grpc-message").is_none());
        let trailers = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .trailers()
            .cloned()
            .unwrap();
        assert_eq!(trailers["grpc-status"], "5");
        assert_eq!(trailers["grpc-message"], "gone");
        assert_eq!(trailers["grpc-status-details-bin"], "AAAA");
        assert_eq!(trailers["x-err"], "1");
    }

    #[tokio::test]
    async fn status_is_sent_as_trailers_when_body_has_none() {
        let resp = fix_grpc_error_headers(grpc_error_response(false));
        assert!(resp.headers().get("grpc-status").is_none());
        let trailers = resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .trailers()
            .cloned()
            .unwrap();
        assert_eq!(trailers["grpc-status"], "5");
        assert_eq!(trailers["grpc-message"], "gone");
    }

    /// An error before any message leaves as headers only: the body reports its end up front, so
    /// hyper sets END_STREAM on the headers instead of sending an empty DATA frame after them
    /// (which grpc-core clients reject).
    #[tokio::test]
    async fn trailers_only_error_body_reports_its_end() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status-details-bin", "AAAA".parse().unwrap());
        let body = connectrpc::ConnectRpcBody::Full(http_body_util::Full::default());
        let resp = http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-status", "5")
            .header("grpc-message", "gone")
            .body(body)
            .unwrap();
        let resp = trailers_only(resp).await;
        assert_eq!(resp.headers()["grpc-status"], "5");
        assert_eq!(resp.headers()["grpc-message"], "gone");
        assert!(resp.body().is_end_stream());
        let collected = resp.into_body().collect().await.unwrap();
        assert!(collected.trailers().is_none());
        assert!(collected.to_bytes().is_empty());
    }

    #[test]
    fn grpc_web_and_success_responses_are_untouched() {
        let resp = http::Response::builder()
            .header("content-type", "application/grpc-web+proto")
            .header("grpc-status", "5")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let fixed = fix_grpc_error_headers(resp);
        assert_eq!(fixed.headers()["grpc-status"], "5");
        let ok = http::Response::builder()
            .header("content-type", "application/grpc")
            .body(http_body_util::Empty::<Bytes>::new())
            .unwrap();
        let fixed = fix_grpc_error_headers(ok);
        assert!(fixed.body().is_end_stream());
    }
}
