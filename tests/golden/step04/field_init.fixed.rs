//! An echo service after step 3: a server stream whose request is read in a field initialiser.

use std::pin::Pin;

use connectrpc::{RequestContext, ServiceRequest, ServiceResult, ServiceStream};
use connectrpc::ConnectError;
use tokio_stream::Stream;

use crate::pb::{EchoRequest, EchoResponse};

type ResponseStream = Pin<Box<dyn Stream<Item = Result<EchoResponse, ConnectError>> + Send>>;

pub struct EchoServer;

#[allow(refining_impl_trait)]
impl crate::pb::Echo for EchoServer {
    async fn server_streaming_echo(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<ServiceStream<EchoResponse>> {
        let repeat = std::iter::repeat(EchoResponse {
            message: request.to_owned_message().message,
            ..Default::default()
        });
        let stream = tokio_stream::iter(repeat.take(3).map(Ok));
        Ok(connectrpc::Response::stream(Box::pin(stream) as ResponseStream))
    }
}
