//! Still a tonic interceptor: its trait import stays, and so does tonic.
use tonic::service::Interceptor;
use tonic::{Request, Status};

pub struct Tag;

impl Interceptor for Tag {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        Ok(request)
    }
}
