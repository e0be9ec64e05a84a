//! Handlers on the shim's tonic-style adapters, with tonic-types details in other spellings.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::{ConnectError, ErrorCode};
use crate::google_rpc::ErrorDetails as Details;
use crate::google_rpc::StatusExt as _;

use crate::pb::{Entry, EntryId};

pub struct LedgerService;

impl crate::pb::Ledger for LedgerService {
    async fn get_entry(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        let id = request.to_owned_message().id;
        if id == 0 {
            let details = crate::google_rpc::ErrorDetails::with_bad_request(vec![
                crate::google_rpc::FieldViolation::new("id", "must not be 0"),
            ]);
            return Err(connectrpc::ConnectError::with_error_details(
                connectrpc::ErrorCode::InvalidArgument,
                "bad id",
                details,
            ));
        }
        let mut details = Details::new();
        details.set_resource_info("ledger.Entry", id.to_string(), "", "no such entry");
        if id > 100 {
            return Err(ConnectError::with_error_details(ErrorCode::NotFound, "missing", details));
        }
        Ok(connectrpc::Response::new(Entry::default()))
    }
}
