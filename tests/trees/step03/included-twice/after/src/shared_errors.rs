/// Included by two modules: `Status` is whatever the including module says it is.
pub fn missing(what: &str) -> Status {
    Status::not_found(what)
}
