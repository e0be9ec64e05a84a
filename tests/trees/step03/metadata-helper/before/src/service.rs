//! The handler passes whole metadata maps to a helper of this file.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::metadata;
use tonic::{Response, Status};

use crate::pb::{Profile, ProfileId};

pub struct ProfileService;

fn echo(from: &metadata::MetadataMap, to: &mut metadata::MetadataMap) {
    if let Some(v) = from.get("x-request-id") {
        to.insert("x-request-id", v.clone());
    }
}

impl crate::pb::ProfileApi for ProfileService {
    async fn get_profile(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ProfileId>,
    ) -> ServiceResult<Profile> {
        connect_shim::server::unary(ctx, request, |request| async move {
            if request.get_ref().id == 0 {
                let mut status = Status::not_found("no profile 0");
                echo(request.metadata(), status.metadata_mut());
                return Err(status);
            }
            let mut response = Response::new(Profile::default());
            echo(request.metadata(), response.metadata_mut());
            response
                .metadata_mut()
                .insert("x-served-by", metadata::MetadataValue::from_static("profiles"));
            Ok(response)
        })
        .await
    }
}
