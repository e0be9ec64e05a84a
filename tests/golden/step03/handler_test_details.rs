//! A handler test reading tonic-types details in a file whose details stay on tonic-types (no
//! crate `google_rpc` module planned for it): the test keeps `tonic_call!` and tonic errors.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::{Code, Response, Status};
use tonic_types::{ErrorDetails, StatusExt};

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
                return Err(Status::invalid_argument("bad id"));
            }
            Ok(Response::new(Entry::default()))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn zero_is_rejected() {
        let status = connect_shim::tonic_call!(LedgerService, get_entry, tonic::Request::new(EntryId { id: 0 }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(status.get_details_bad_request().is_none());
        let _ = ErrorDetails::new();
    }

    #[tokio::test]
    async fn code_only() {
        let status = connect_shim::tonic_call!(LedgerService, get_entry, tonic::Request::new(EntryId { id: 0 }))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
    }
}
