//! A handler on the shim's tonic-style adapter.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::{Response, Status};

use crate::pb::{Entry, EntryId};

pub struct LedgerService;

impl crate::pb::Ledger for LedgerService {
    async fn get_entry(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        connect_shim::server::unary(ctx, request, |request| async move {
            if request.get_ref().id == 0 {
                return Err(Status::invalid_argument("id must not be 0"));
            }
            Ok(Response::new(Entry::default()))
        })
        .await
    }
}
