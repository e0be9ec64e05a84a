use crate::pb::health_server::Health;
use tonic::{Request, Response, Status};

pub struct HealthService;

#[tonic::async_trait]
impl Health for HealthService {
    async fn check(&self, _req: Request<()>) -> Result<Response<()>, Status> {
        Err(Status::not_found("service not registered"))
    }
}

#[cfg(test)]
mod tests {
    use super::HealthService;
    use tonic::{Code, Request};

    // The cases are shared with other services' tests.
    include!("../tests_shared/check_cases.rs");
}
