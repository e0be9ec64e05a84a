//! A profile service after step 2: handlers pass tonic metadata maps to helpers.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::{Request, Response};
use connectrpc::{ConnectError, ErrorCode};

use crate::pb::{Profile, ProfileId};

pub struct ProfileService {
    names: Vec<String>,
}

/// Copies the correlation headers (text and binary) into `to`.
fn copy_ids(to: &mut http::HeaderMap, from: &http::HeaderMap) {
    if let Some(id) = from.get("x-correlation-id") {
        to.insert("x-correlation-id", id.clone());
    }
    if from.contains_key("x-span-bin") {
        if let Some(span) = from.get("x-span-bin") {
            to.append("x-span-bin", span.clone());
        }
    }
}

/// Whether the correlation id is set.
fn has_id(md: &http::HeaderMap) -> bool {
    md.contains_key("x-correlation-id")
}

impl ProfileService {
    /// Marks the answer as served by this replica.
    fn stamp(&self, headers: &mut http::HeaderMap) {
        if let Some(old) = headers.remove("x-stale") {
            headers.insert("x-was-stale", old);
        }
    }
}

#[allow(refining_impl_trait)]
impl crate::pb::ProfileApi for ProfileService {
    async fn get_profile(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        let id = request.to_owned_message().id as usize;
        let Some(name) = self.names.get(id) else {
            let mut err = ConnectError::new(ErrorCode::NotFound, format!("no profile {id}"));
            copy_ids(err.trailers_mut(), ctx.headers());
            assert!(has_id(err.trailers()) || !has_id(ctx.headers()));
            return Err(err);
        };
        let mut response = connectrpc::Response::new(Profile { name: name.clone(), ..Default::default() });
        copy_ids(&mut response.headers, ctx.headers());
        self.stamp(&mut response.headers);
        debug_assert_eq!(has_id(&response.headers), has_id(ctx.headers()));
        response
            .headers
            .insert("x-source", http::HeaderValue::from_static("memory"));
        Ok(response)
    }

    async fn touch(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        let _ = request.to_owned_message();
        let mut response = connectrpc::Response::new(Profile::default());
        Self::stamp(self, &mut response.headers);
        Ok(response)
    }
}
