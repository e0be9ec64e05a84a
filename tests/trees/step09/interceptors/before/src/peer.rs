use tonic::{Request, Status};

pub fn only_local(req: Request<()>) -> Result<Request<()>, Status> {
    match req.remote_addr() {
        Some(a) if a.ip().is_loopback() => Ok(req),
        _ => Err(Status::permission_denied("local callers only")),
    }
}
