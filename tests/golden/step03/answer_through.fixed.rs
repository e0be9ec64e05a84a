//! After step 2: a unary body that answers through a helper of the file returning tonic's
//! `Response`, and streaming bodies whose items' error type nothing in the body names.

use std::future::Future;

use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult, ServiceStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Response;
use connectrpc::ConnectError;

use crate::pb::{Entry, EntryId};

pub struct Ledger;

async fn guarded<F>(work: F) -> Result<Response<Entry>, ConnectError>
where
    F: Future<Output = Result<Response<Entry>, ConnectError>>,
{
    work.await
}

#[allow(refining_impl_trait)]
impl crate::pb::Ledger for Ledger {
    async fn get_entry(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        connect_shim::server::connect_errors::unary(ctx, request, |request| async move {
            let id = request.into_inner().id;
            let work = async move { Ok(Response::new(Entry { id, ..Default::default() })) };
            guarded(work).await
        })
        .await
    }

    async fn list(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<ServiceStream<Entry>> {
        connect_shim::server::connect_errors::server_stream::<_, _, _, connectrpc::ConnectError, _, _>(ctx, request, |request| async move {
            let (tx, rx) = mpsc::channel(4);
            let id = request.into_inner().id;
            tokio::spawn(async move {
                tx.send(Ok(Entry { id, ..Default::default() })).await.unwrap();
            });
            Ok(Response::new(ReceiverStream::new(rx)))
        })
        .await
    }

    async fn failing(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<ServiceStream<Entry>> {
        connect_shim::server::connect_errors::server_stream(ctx, request, |_| async move {
            let (tx, rx) = mpsc::channel(1);
            tx.send(Err(ConnectError::internal("down"))).await.unwrap();
            Ok(Response::new(ReceiverStream::new(rx)))
        })
        .await
    }
}
