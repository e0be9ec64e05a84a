use std::sync::Arc;

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use echo_proto::pb::{EchoRequest, EchoResponse, EchoService};

struct Echo;

impl EchoService for Echo {
    async fn echo(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EchoRequest>,
    ) -> ServiceResult<EchoResponse> {
        let text = request.to_owned_message().text;
        Ok(connectrpc::Response::new(EchoResponse { text, ..Default::default() }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let router = connectrpc::Router::new().add_service(Arc::new(Echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    connectrpc::Server::from_listener(listener).serve(router).await
}
