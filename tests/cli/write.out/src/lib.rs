//! A small shop service, as step 2 leaves it (only read by the CLI tests; never built).

mod client;
mod legacy;

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::{ConnectError, ErrorCode};

pub mod pb {
    // Stand-in for `tonic::include_proto!("shop.v1");` and the connect module.
}

pub struct ShopService;

fn check(count: u32) -> Result<(), ConnectError> {
    if count == 0 {
        // Nothing to sell.
        return Err(ConnectError::new(ErrorCode::InvalidArgument, "count must be positive"));
    }
    Ok(())
}

#[allow(refining_impl_trait)]
impl pb::Shop for ShopService {
    async fn buy(&self, _ctx: RequestContext, request: ServiceRequest<'_, Item>) -> ServiceResult<Receipt> {
        let item = request.to_owned_message();
        check(item.count)?;
        Err(ConnectError::canceled("the till is closed"))
    }
}

/// Serves the shop (tonic's server, until step 5).
pub async fn serve(addr: std::net::SocketAddr) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(connect_shim::tonic_hosted!(pb::SHOP_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(ShopService))))
        .serve(addr)
        .await
}
