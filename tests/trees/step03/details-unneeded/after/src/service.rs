//! A handler on the shim's tonic-style adapter.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::ConnectError;

use crate::pb::{Entry, EntryId};

pub struct LedgerService;

impl crate::pb::Ledger for LedgerService {
    async fn get_entry(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        if request.to_owned_message().id == 0 {
            return Err(ConnectError::invalid_argument("id must not be 0"));
        }
        Ok(connectrpc::Response::new(Entry::default()))
    }
}
