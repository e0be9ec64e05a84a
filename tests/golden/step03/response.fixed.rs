//! Response metadata set in a tonic-style body (after step 2).

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::ConnectError;

use crate::pb::{Entry, EntryId};

pub struct Stamps;

#[allow(refining_impl_trait)]
impl crate::pb::Ledger for Stamps {
    async fn stamp(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, EntryId>,
    ) -> ServiceResult<Entry> {
        let id = request.to_owned_message().id;
        if id == 0 {
            return Err(ConnectError::invalid_argument("id 0 is reserved"));
        }
        let mut response = connectrpc::Response::new(Entry { id, ..Default::default() });
        response.headers.insert("x-ledger", "main".parse().unwrap());
        if response.headers.contains_key("x-trace") {
            response.compress = Some(false);
        }
        Ok(response)
    }
}
