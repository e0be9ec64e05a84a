/// What a tally call can fail with.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    #[error("rpc failure")]
    Rpc(#[from] tonic::Status),
    #[error("counter {0} is missing")]
    Missing(String),
}

pub type Result<T> = std::result::Result<T, Error>;
