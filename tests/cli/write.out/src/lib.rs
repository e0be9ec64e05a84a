//! A small shop service (only read by the CLI tests; never built).

mod client;

use tonic::{Request, Response};
use connectrpc::{ConnectError, ErrorCode};

use crate::pb::shop_server::Shop;

pub mod pb {
    // Stand-in for `tonic::include_proto!("shop.v1");`
}

pub struct ShopService;

#[tonic::async_trait]
impl Shop for ShopService {
    async fn buy(&self, request: Request<Item>) -> Result<Response<Receipt>, ConnectError> {
        let item = request.into_inner();
        if item.count == 0 {
            // Nothing to sell.
            return Err(ConnectError::new(ErrorCode::InvalidArgument, "count must be positive"));
        }
        Err(ConnectError::canceled("the till is closed"))
    }
}
