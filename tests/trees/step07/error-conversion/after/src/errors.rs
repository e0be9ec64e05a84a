// The crate's own error: `?` fills it from tonic's Status.
pub type Result<T> = std::result::Result<T, Error>;

#[derive(thiserror::Error, Debug)]
pub enum Error {
    #[error("rpc failure")]
    Rpc(#[from] tonic::Status),
    #[error("bad input: {0}")]
    Input(String),
}

impl From<connectrpc::ConnectError> for Error {
    fn from(err: connectrpc::ConnectError) -> Self {
        Self::from(connect_shim::status::to_status(err))
    }
}
