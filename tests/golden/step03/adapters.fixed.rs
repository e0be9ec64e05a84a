//! A ledger service after step 2: bodies on the shim's tonic-style adapters.

use std::collections::BTreeMap;

use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult, ServiceStream};
use tonic::{Request, Response};
use connectrpc::{ConnectError, ErrorCode};

use crate::pb::ledger_server::Ledger as _;
use crate::pb::{Balance, Entry, EntryId, Total};

pub struct LedgerService {
    entries: BTreeMap<u64, Entry>,
}

fn checked(id: u64) -> Result<u64, ConnectError> {
    if id == 0 {
        return Err(ConnectError::invalid_argument("id 0 is reserved"));
    }
    Ok(id)
}

#[allow(refining_impl_trait)]
impl crate::pb::Ledger for LedgerService {
    async fn get_entry(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        let tenant = ctx
            .headers()
            .get("x-tenant")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("default")
            .to_string();
        let id = checked(request.to_owned_message().id)?;
        let entry = self.entries.get(&id).cloned().ok_or_else(|| {
            ConnectError::new(ErrorCode::NotFound, format!("{tenant}: no entry {id}"))
        })?;
        Ok(connectrpc::Response::new(entry))
    }

    async fn balance(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Balance> {
        connect_shim::server::connect_errors::unary(ctx, request, |request| async move {
            // Every header, as the audit log wants it.
            for kv in request.metadata().iter() {
                eprintln!("{kv:?}");
            }
            let note = "multi-line
    text stays as it is";
            Ok(Response::new(Balance { cents: request.into_inner().id as i64, note: note.into(), ..Default::default() }))
        })
        .await
    }

    async fn add_entries(
        &self,
        ctx: RequestContext,
        requests: InboundStream<Entry>,
    ) -> ServiceResult<Total> {
        connect_shim::server::connect_errors::client_stream(ctx, requests, |request| async move {
            let mut entries = request.into_inner();
            let mut total = Total::default();
            while let Some(entry) = entries.message().await? {
                if entry.cents == 0 {
                    return Err(ConnectError::failed_precondition("empty entry"));
                }
                total.cents += entry.cents;
            }
            Ok(Response::new(total))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn zero_is_rejected() {
        let svc = LedgerService { entries: BTreeMap::new() };
        let err = connect_shim::tonic_call_connect!(svc, get_entry, Request::new(EntryId { id: 0, ..Default::default() }))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        assert_eq!(err.message.as_deref().unwrap_or(""), "id 0 is reserved");
    }

    #[test]
    fn helper_errors() {
        let err = checked(0).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument);
        let built = ConnectError::not_found("x");
        assert_eq!(built.message.as_deref().unwrap_or(""), "x");
    }
}
