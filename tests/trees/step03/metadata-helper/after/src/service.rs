//! The handler passes whole metadata maps to a helper of this file.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};
use tonic::Response;
use connectrpc::ConnectError;

use crate::pb::{Profile, ProfileId};

pub struct ProfileService;

fn echo(from: &http::HeaderMap, to: &mut http::HeaderMap) {
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
        if request.to_owned_message().id == 0 {
            let mut status = ConnectError::not_found("no profile 0");
            echo(ctx.headers(), status.trailers_mut());
            return Err(status);
        }
        let mut response = connectrpc::Response::new(Profile::default());
        echo(ctx.headers(), &mut response.headers);
        response
            .headers
            .insert("x-served-by", http::HeaderValue::from_static("profiles"));
        Ok(response)
    }
}
