//! Response metadata set in a tonic-style body (after step 2).

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::{Response, Status};

use crate::pb::{Entry, EntryId};

pub struct Stamps;

#[allow(refining_impl_trait)]
impl crate::pb::Ledger for Stamps {
    async fn stamp(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        connect_shim::server::unary(ctx, request, |request| async move {
            let id = request.into_inner().id;
            if id == 0 {
                return Err(Status::invalid_argument("id 0 is reserved"));
            }
            let mut response = Response::new(Entry { id, ..Default::default() });
            response.metadata_mut().insert("x-ledger", "main".parse().unwrap());
            if response.metadata().contains_key("x-trace") {
                response.disable_compression();
            }
            Ok(response)
        })
        .await
    }
}
