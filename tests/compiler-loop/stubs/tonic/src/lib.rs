pub struct Status;

impl Status {
    pub fn internal(_message: impl Into<String>) -> Status {
        Status
    }

    /// Like tonic's `Status::into_http`: no connect equivalent the step knows.
    pub fn into_http(self) -> u16 {
        500
    }
}
