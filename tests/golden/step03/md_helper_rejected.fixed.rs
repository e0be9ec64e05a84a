//! Metadata helpers called from handlers that the step cannot move to http::HeaderMap: each
//! is listed and its handler stays on the adapter.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::Response;

use crate::pb::{Profile, ProfileId};
use crate::util::echo_headers;

pub struct ProfileService;

/// Reads the tenant as text.
fn tenant(md: &MetadataMap) -> String {
    md.get("x-tenant")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("default")
        .to_string()
}

/// Builds a value.
fn mark(md: &mut MetadataMap) {
    md.insert("x-mark", MetadataValue::from_static("1"));
}

/// Visible to the crate: its other callers are not in this file.
pub(crate) fn copy_id(from: &MetadataMap, to: &mut MetadataMap) {
    if let Some(id) = from.get("x-request-id") {
        to.insert("x-request-id", id.clone());
    }
}

/// Reads a binary key as text.
fn copy_trace(from: &MetadataMap, to: &mut MetadataMap) {
    if let Some(t) = from.get("x-trace-bin") {
        to.insert("x-trace-bin", t.clone());
    }
}

/// Copies the locale.
fn copy_locale(from: &MetadataMap, to: &mut MetadataMap) {
    if let Some(l) = from.get("x-locale") {
        to.insert("x-locale", l.clone());
    }
}

#[allow(refining_impl_trait)]
impl crate::pb::ProfileApi for ProfileService {
    async fn get_profile(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        connect_shim::server::connect_errors::unary(ctx, request, |request| async move {
            let name = tenant(request.metadata());
            let mut response = Response::new(Profile { name, ..Default::default() });
            mark(response.metadata_mut());
            copy_id(request.metadata(), response.metadata_mut());
            copy_trace(request.metadata(), response.metadata_mut());
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
            let mut copy = MetadataMap::new();
            copy_locale(request.metadata(), &mut copy);
            let mut response = Response::new(Profile::default());
            copy_locale(&copy, response.metadata_mut());
            Ok(response)
        })
        .await
    }

    async fn touch(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        // A helper of another module: its other callers are not seen here.
        connect_shim::server::connect_errors::unary(ctx, request, |request| async move {
            let mut response = Response::new(Profile::default());
            echo_headers(request.metadata(), response.metadata_mut());
            Ok(response)
        })
        .await
    }
}
