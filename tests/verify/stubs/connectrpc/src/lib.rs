pub struct ConnectError;

impl ConnectError {
    pub fn internal(_message: &str) -> ConnectError {
        ConnectError
    }
}

pub struct RequestContext;
