/// Refuses calls without `x-key`; a cancelled marker for `x-stop`.
pub fn check(req: connectrpc::RequestContext) -> Result<connectrpc::RequestContext, connectrpc::ConnectError> {
    if req.headers().get("x-stop").is_some() {
        return Err(connectrpc::ConnectError::canceled("stopped"));
    }
    match req.headers().get("x-key") {
        Some(_) => Ok(req),
        None => Err(connectrpc::ConnectError::permission_denied("no key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_without_key() {
        let err = check(connectrpc::RequestContext::new(Default::default())).unwrap_err();
        assert!(matches!(err.code, connectrpc::ErrorCode::PermissionDenied));
        assert_eq!(err.message.as_deref().unwrap_or_default(), "no key");
        let mut req = connectrpc::RequestContext::new(Default::default());
        req.headers_mut().insert("x-stop", "1".parse().unwrap());
        assert_eq!(check(req).unwrap_err().code, connectrpc::ErrorCode::Canceled);
    }
}
