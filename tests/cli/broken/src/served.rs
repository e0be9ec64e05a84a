//! A handler step 2 already moved to connect: the workspace serves connect.

use connectrpc::{RequestContext, ServiceRequest, ServiceResult};

pub async fn ping(_ctx: RequestContext, request: ServiceRequest<'_, String>) -> ServiceResult<String> {
    Ok(connectrpc::Response::new(request.into_owned()))
}
