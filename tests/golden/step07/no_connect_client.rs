//! Error classification in a crate that has no connect client yet (step 6 could not move its
//! clients): nothing here is known to be client or server code, and no call can fail with a
//! ConnectError yet, so step 7 leaves the file alone and says why once (not once per site).

use tonic::{Code, Status};

/// Whether a failed export may be retried.
pub fn retryable(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable | Code::ResourceExhausted | Code::Aborted | Code::DeadlineExceeded
    )
}

pub fn describe(status: Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}
