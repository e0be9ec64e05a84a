pub struct ConnectError;

impl ConnectError {
    /// Takes `&str` (the real one takes `impl Into<String>`), so that a rewrite passing a
    /// `String` needs the compiler's suggestion.
    pub fn internal(_message: &str) -> ConnectError {
        ConnectError
    }
}

pub struct RequestContext;
