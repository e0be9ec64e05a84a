/// Included by two modules: `Status` is whatever the including module says it is.
pub fn missing(what: &str) -> connectrpc::ConnectError {
    connectrpc::ConnectError::not_found(what)
}
