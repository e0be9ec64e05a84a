use tonic::{Code, Request, Status};

/// Refuses calls without `x-key`; a cancelled marker for `x-stop`.
pub fn check(req: Request<()>) -> Result<Request<()>, Status> {
    if req.metadata().get("x-stop").is_some() {
        return Err(Status::cancelled("stopped"));
    }
    match req.metadata().get("x-key") {
        Some(_) => Ok(req),
        None => Err(tonic::Status::permission_denied("no key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_without_key() {
        let err = check(Request::new(())).unwrap_err();
        assert!(matches!(err.code(), Code::PermissionDenied));
        assert_eq!(err.message(), "no key");
        let mut req = Request::new(());
        req.metadata_mut().insert("x-stop", "1".parse().unwrap());
        assert_eq!(check(req).unwrap_err().code(), tonic::Code::Cancelled);
    }
}
