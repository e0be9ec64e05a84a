use connectrpc::{RequestContext, ServiceRequest, ServiceResult};

use crate::pb::{HelloReply, HelloRequest};

pub struct GreeterService;

impl crate::pb::Greeter for GreeterService {
    async fn say_hello(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, HelloRequest>,
    ) -> ServiceResult<HelloReply> {
        connect_shim::server::unary(ctx, request, |request| async move {
            if request.get_ref().name.is_empty() {
                return Err(errors::missing("name"));
            }
            Ok(tonic::Response::new(HelloReply::default()))
        })
        .await
    }
}

pub mod errors {
    use connectrpc::RequestContext;
    use tonic::Status;

    // The constructors shared with the legacy module.
    include!("shared_errors.rs");
}
