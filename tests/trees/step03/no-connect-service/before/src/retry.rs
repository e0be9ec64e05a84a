use tonic::{Code, Status};

/// Whether a failed call may be retried.
pub fn retryable(status: &Status) -> bool {
    matches!(status.code(), Code::Unavailable | Code::Aborted)
}
