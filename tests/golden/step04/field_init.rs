//! An echo service after step 3: a server stream whose request is read in a field initialiser.

use std::pin::Pin;

use connectrpc::{RequestContext, ServiceRequest, ServiceResult, ServiceStream};
use connectrpc::ConnectError;
use tokio_stream::Stream;
use tonic::Response;

use crate::pb::{EchoRequest, EchoResponse};

type ResponseStream = Pin<Box<dyn Stream<Item = Result<EchoResponse, ConnectError>> + Send>>;

pub struct EchoServer;

#[allow(refining_impl_trait)]
impl crate::pb::Echo for EchoServer {
    async fn server_streaming_echo(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoResponse>> {
        connect_shim::server::connect_errors::server_stream(ctx, request, |req| async move {
            let repeat = std::iter::repeat(EchoResponse {
                message: req.into_inner().message,
                ..Default::default()
            });
            let stream = tokio_stream::iter(repeat.take(3).map(Ok));
            Ok(Response::new(Box::pin(stream) as ResponseStream))
        })
        .await
    }
}
