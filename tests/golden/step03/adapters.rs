//! A ledger service after step 2: bodies on the shim's tonic-style adapters.

use std::collections::BTreeMap;

use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult, ServiceStream};
use tonic::{Code, Request, Response, Status};

use crate::pb::ledger_server::Ledger as _;
use crate::pb::{Balance, Entry, EntryId, Total};

pub struct LedgerService {
    entries: BTreeMap<u64, Entry>,
}

fn checked(id: u64) -> Result<u64, Status> {
    if id == 0 {
        return Err(Status::invalid_argument("id 0 is reserved"));
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
        connect_shim::server::unary(ctx, request, |request| async move {
            let tenant = request
                .metadata()
                .get("x-tenant")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("default")
                .to_string();
            let id = checked(request.get_ref().id)?;
            let entry = self.entries.get(&id).cloned().ok_or_else(|| {
                Status::new(Code::NotFound, format!("{tenant}: no entry {id}"))
            })?;
            Ok(Response::new(entry))
        })
        .await
    }

    async fn balance(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Balance> {
        connect_shim::server::unary(ctx, request, |request| async move {
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
        connect_shim::server::client_stream(ctx, requests, |request| async move {
            let mut entries = request.into_inner();
            let mut total = Total::default();
            while let Some(entry) = entries.message().await? {
                if entry.cents == 0 {
                    return Err(Status::failed_precondition("empty entry"));
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
        let err = connect_shim::tonic_call!(svc, get_entry, Request::new(EntryId { id: 0, ..Default::default() }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert_eq!(err.message(), "id 0 is reserved");
    }

    #[test]
    fn helper_errors() {
        let err = checked(0).unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        let built = Status::not_found("x");
        assert_eq!(built.message(), "x");
    }
}
