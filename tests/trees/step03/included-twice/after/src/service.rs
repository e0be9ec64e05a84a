use connectrpc::{RequestContext, ServiceRequest, ServiceResult};

use crate::pb::{HelloReply, HelloRequest};

pub struct GreeterService;

impl crate::pb::Greeter for GreeterService {
    async fn say_hello(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, HelloRequest>,
    ) -> ServiceResult<HelloReply> {
        if request.to_owned_message().name.is_empty() {
            return Err(errors::missing("name"));
        }
        Ok(connectrpc::Response::new(HelloReply::default()))
    }
}

pub mod errors {
    use connectrpc::RequestContext;
    use tonic::Status;

    // The constructors shared with the legacy module.
    include!("shared_errors.rs");
}
