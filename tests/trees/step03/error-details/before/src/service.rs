//! Handlers on the shim's tonic-style adapters, with tonic-types details in other spellings.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::{Code, Response, Status as GrpcStatus};
use tonic_types::ErrorDetails as Details;
use tonic_types::StatusExt as _;

use crate::pb::{Entry, EntryId};

pub struct LedgerService;

impl crate::pb::Ledger for LedgerService {
    async fn get_entry(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        connect_shim::server::unary(ctx, request, |request| async move {
            let id = request.get_ref().id;
            if id == 0 {
                let details = tonic_types::ErrorDetails::with_bad_request(vec![
                    tonic_types::FieldViolation::new("id", "must not be 0"),
                ]);
                return Err(tonic::Status::with_error_details(
                    tonic::Code::InvalidArgument,
                    "bad id",
                    details,
                ));
            }
            let mut details = Details::new();
            details.set_resource_info("ledger.Entry", id.to_string(), "", "no such entry");
            if id > 100 {
                return Err(GrpcStatus::with_error_details(Code::NotFound, "missing", details));
            }
            Ok(Response::new(Entry::default()))
        })
        .await
    }
}
