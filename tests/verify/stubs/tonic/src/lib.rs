pub struct Status;

impl Status {
    pub fn internal(_message: &str) -> Status {
        Status
    }
}
