//! An echo service after step 2: handlers that never read their request (`|_|`), and the tonic
//! interceptor that guards the service.

use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult};
use tonic::{Request, Response};
use connectrpc::ConnectError;

use crate::pb::{EchoRequest, EchoResponse};

pub struct EchoServer;

#[allow(refining_impl_trait)]
impl crate::pb::Echo for EchoServer {
    async fn unary_echo(
        &self,
        _ctx: RequestContext,
        _request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        Err(ConnectError::unimplemented("not implemented"))
    }

    async fn ping(
        &self,
        _ctx: RequestContext,
        _request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        Ok(connectrpc::Response::new(EchoResponse::default()))
    }

    async fn client_streaming_echo(
        &self,
        ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        connect_shim::server::connect_errors::client_stream(ctx, requests, |_| async move {
            Err(ConnectError::unimplemented("not implemented"))
        })
        .await
    }
}

/// tonic calls it before the service: its error is tonic's.
pub fn check_auth(req: Request<()>) -> Result<Request<()>, tonic::Status> {
    match req.metadata().get("authorization") {
        Some(t) if t == "Bearer secret" => Ok(req),
        _ => Err(tonic::Status::unauthenticated("No valid auth token")),
    }
}
