//! A handler test reading tonic-types details in a file whose details stay on tonic-types (no
//! crate `google_rpc` module planned for it): the test keeps `tonic_call!` and tonic errors.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::{ConnectError, ErrorCode};
use tonic_types::{ErrorDetails, StatusExt};

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
            return Err(ConnectError::invalid_argument("bad id"));
        }
        Ok(connectrpc::Response::new(Entry::default()))
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
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.get_details_bad_request().is_none());
        let _ = ErrorDetails::new();
    }

    #[tokio::test]
    async fn code_only() {
        let status = connect_shim::tonic_call_connect!(LedgerService, get_entry, tonic::Request::new(EntryId { id: 0 }))
            .await
            .unwrap_err();
        assert_eq!(status.code, ErrorCode::InvalidArgument);
    }
}
