//! A small shop service, as step 2 leaves it (only read by the CLI tests; never built).

mod client;
mod legacy;

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::{Code, Response, Status};

pub mod pb {
    // Stand-in for `tonic::include_proto!("shop.v1");` and the connect module.
}

pub struct ShopService;

fn check(count: u32) -> Result<(), Status> {
    if count == 0 {
        // Nothing to sell.
        return Err(Status::new(Code::InvalidArgument, "count must be positive"));
    }
    Ok(())
}

#[allow(refining_impl_trait)]
impl pb::Shop for ShopService {
    async fn buy(&self, ctx: RequestContext, request: ServiceRequest<'_, Item>) -> ServiceResult<Receipt> {
        connect_shim::server::unary(ctx, request, |request| async move {
            let item = request.into_inner();
            check(item.count)?;
            Err(Status::cancelled("the till is closed"))
        })
        .await
    }
}

/// Serves the shop (tonic's server, until step 5).
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(connect_shim::tonic_hosted!(pb::SHOP_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(ShopService))))
        .serve(addr)
        .await
}
