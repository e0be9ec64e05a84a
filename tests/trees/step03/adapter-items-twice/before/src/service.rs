//! Handlers step 3 cannot make native: each is listed by every run of the step.

use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult};
use tonic::{Response, Status};

use crate::pb::{Item, ItemId, Total};

pub struct InventoryService;

fn log_peer(ctx: &RequestContext) {
    let _ = ctx;
}

impl crate::pb::Inventory for InventoryService {
    async fn get_item(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ItemId>,
    ) -> ServiceResult<Item> {
        connect_shim::server::unary(ctx, request, |req| async move {
            // The body names the context, which a native body would shadow.
            log_peer(&ctx);
            if req.get_ref().id == 0 {
                return Err(Status::not_found("no item 0"));
            }
            Ok(Response::new(Item::default()))
        })
        .await
    }

    async fn count(
        &self,
        ctx: RequestContext,
        requests: InboundStream<Item>,
    ) -> ServiceResult<Total> {
        connect_shim::server::client_stream(ctx, requests, |request| async move {
            let mut items = request.into_inner();
            let mut total = Total::default();
            while let Some(_item) = items.message().await? {
                total.count += 1;
            }
            if total.count == 0 {
                return Err(Status::invalid_argument("no items"));
            }
            Ok(Response::new(total))
        })
        .await
    }
}
