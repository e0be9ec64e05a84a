// The crate's error converts from tonic's Status by hand. Its watch stream is held as tonic's
// `Streaming` (watch.rs), which still yields `Status` after step 7: the conversion stays and
// one from ConnectError is written beside it.
pub type Result<T> = std::result::Result<T, ClientError>;

#[derive(Debug)]
pub enum ClientError {
    RequestFailed(tonic::Status),
    Input(String),
}

impl From<tonic::Status> for ClientError {
    fn from(status: tonic::Status) -> Self {
        ClientError::RequestFailed(status)
    }
}
