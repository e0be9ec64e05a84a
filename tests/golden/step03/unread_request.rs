//! An echo service after step 2: handlers that never read their request (`|_|`), and the tonic
//! interceptor that guards the service.

use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult};
use tonic::{Request, Response, Status};

use crate::pb::{EchoRequest, EchoResponse};

pub struct EchoServer;

#[allow(refining_impl_trait)]
impl crate::pb::Echo for EchoServer {
    async fn unary_echo(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        connect_shim::server::unary(ctx, request, |_| async move {
            Err(Status::unimplemented("not implemented"))
        })
        .await
    }

    async fn ping(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        connect_shim::server::unary(ctx, request, |_| async move {
            Ok(Response::new(EchoResponse::default()))
        })
        .await
    }

    async fn client_streaming_echo(
        &self,
        ctx: RequestContext,
        requests: InboundStream<EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        connect_shim::server::client_stream(ctx, requests, |_| async move {
            Err(Status::unimplemented("not implemented"))
        })
        .await
    }
}

/// tonic calls it before the service: its error is tonic's.
pub fn check_auth(req: Request<()>) -> Result<Request<()>, Status> {
    match req.metadata().get("authorization") {
        Some(t) if t == "Bearer secret" => Ok(req),
        _ => Err(Status::unauthenticated("No valid auth token")),
    }
}
