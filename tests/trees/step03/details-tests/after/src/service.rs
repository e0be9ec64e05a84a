//! Handlers on the shim's tonic-style adapters, tested through `tonic_call!`.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::{ConnectError, ErrorCode};
use crate::google_rpc::{ErrorDetails, StatusExt};
#[cfg(test)]
use tonic_types::StatusExt as _;

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
            let details = ErrorDetails::with_bad_request(vec![
                crate::google_rpc::FieldViolation::new("id", "must not be 0"),
            ]);
            return Err(ConnectError::with_error_details(ErrorCode::InvalidArgument, "bad id", details));
        }
        let mut details = ErrorDetails::new();
        details.set_resource_info("ledger.Entry", id.to_string(), "", "no such entry");
        if id != 1 {
            return Err(ConnectError::with_error_details(ErrorCode::NotFound, "missing", details));
        }
        Ok(connectrpc::Response::new(Entry::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_shim::tonic_call as call;

    #[tokio::test]
    async fn zero_is_a_bad_request() {
        let svc = LedgerService;
        let status = connect_shim::tonic_call_connect!(svc, get_entry, tonic::Request::new(EntryId { id: 0 }))
            .await
            .unwrap_err();
        assert_eq!(status.code, connectrpc::ErrorCode::InvalidArgument);
        let bad = status.get_details_bad_request().expect("bad request");
        assert_eq!(bad.field_violations[0].field, "id");
    }

    #[tokio::test]
    async fn missing_has_resource_info() {
        let svc = LedgerService;
        let err = connect_shim::tonic_call_connect!(svc, get_entry, tonic::Request::new(EntryId { id: 7 }))
            .await
            .expect_err("missing");
        assert_eq!(err.code, ErrorCode::NotFound);
        assert_eq!(err.message.as_deref().unwrap_or(""), "missing");
        let details = err.get_error_details();
        assert_eq!(details.resource_info().unwrap().resource_name, "7");
    }

    #[tokio::test]
    async fn metadata_stays_on_tonic() {
        let svc = LedgerService;
        let status = call!(svc, get_entry, tonic::Request::new(EntryId { id: 7 }))
            .await
            .unwrap_err();
        assert!(status.get_details_resource_info().is_some());
        assert!(status.metadata().is_empty());
    }
}
