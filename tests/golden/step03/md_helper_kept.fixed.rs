//! Metadata helpers that stay on tonic: one iterates the map, one is also called outside a
//! handler, one is called from a handler that stays on the adapter.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::metadata::MetadataMap;
use tonic::Response;
use connectrpc::ConnectError;

use crate::pb::{Profile, ProfileId};

pub struct ProfileService;

/// Copies every `x-` header.
fn copy_all(from: &MetadataMap, to: &mut MetadataMap) {
    for kv in from.iter() {
        if let tonic::metadata::KeyAndValueRef::Ascii(k, v) = kv {
            if k.as_str().starts_with("x-") {
                to.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Copies the request id.
fn copy_id(from: &MetadataMap, to: &mut MetadataMap) {
    if let Some(id) = from.get("x-request-id") {
        to.insert("x-request-id", id.clone());
    }
}

/// Copies the tenant.
fn copy_tenant(from: &MetadataMap, to: &mut MetadataMap) {
    if let Some(t) = from.get("x-tenant") {
        to.insert("x-tenant", t.clone());
    }
}

/// Used by the interceptor too.
pub fn log_ids(md: &MetadataMap) -> MetadataMap {
    let mut out = MetadataMap::new();
    copy_id(md, &mut out);
    out
}

#[allow(refining_impl_trait)]
impl crate::pb::ProfileApi for ProfileService {
    async fn get_profile(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        connect_shim::server::connect_errors::unary(ctx, request, |request| async move {
            let mut response = Response::new(Profile::default());
            copy_all(request.metadata(), response.metadata_mut());
            copy_id(request.metadata(), response.metadata_mut());
            Ok(response)
        })
        .await
    }

    async fn rename(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        connect_shim::server::connect_errors::unary(ctx, request, |request| async move {
            let mut response = Response::new(Profile::default());
            copy_tenant(request.metadata(), response.metadata_mut());
            response.set_compression(true);
            if request.get_ref().id == 0 {
                return Err(ConnectError::invalid_argument("id 0"));
            }
            Ok(response)
        })
        .await
    }
}
