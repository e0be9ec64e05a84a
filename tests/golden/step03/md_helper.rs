//! A profile service after step 2: handlers pass tonic metadata maps to helpers.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::metadata::MetadataMap as Md;
use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Response, Status};

use crate::pb::{Profile, ProfileId};

pub struct ProfileService {
    names: Vec<String>,
}

/// Copies the correlation headers (text and binary) into `to`.
fn copy_ids(to: &mut Md, from: &Md) {
    if let Some(id) = from.get("x-correlation-id") {
        to.insert("x-correlation-id", id.clone());
    }
    if from.contains_key("x-span-bin") {
        if let Some(span) = from.get_bin("x-span-bin") {
            to.append_bin("x-span-bin", span.clone());
        }
    }
}

/// Whether the correlation id is set.
fn has_id(md: &Md) -> bool {
    md.contains_key("x-correlation-id")
}

impl ProfileService {
    /// Marks the answer as served by this replica.
    fn stamp(&self, headers: &mut tonic::metadata::MetadataMap) {
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
        connect_shim::server::unary(ctx, request, |req| async move {
            let id = req.get_ref().id as usize;
            let Some(name) = self.names.get(id) else {
                let mut err = Status::new(Code::NotFound, format!("no profile {id}"));
                copy_ids(err.metadata_mut(), req.metadata());
                assert!(has_id(err.metadata()) || !has_id(req.metadata()));
                return Err(err);
            };
            let mut response = Response::new(Profile { name: name.clone(), ..Default::default() });
            copy_ids(response.metadata_mut(), req.metadata());
            self.stamp(response.metadata_mut());
            debug_assert_eq!(has_id(response.metadata()), has_id(req.metadata()));
            response
                .metadata_mut()
                .insert("x-source", MetadataValue::from_static("memory"));
            Ok(response)
        })
        .await
    }

    async fn touch(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        connect_shim::server::unary(ctx, request, |req| async move {
            let _ = req.into_inner();
            let mut response = tonic::Response::new(Profile::default());
            Self::stamp(self, response.metadata_mut());
            Ok(response)
        })
        .await
    }
}
