//! Reads the details of a tonic error it also builds: the reader is not a server-side
//! construction, so the file keeps tonic-types.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

pub fn retry_after(status: &Status) -> Option<u64> {
    let info = status.get_details_retry_info()?;
    info.retry_delay.map(|d| d.as_secs())
}

pub fn busy() -> Status {
    Status::with_error_details(Code::Unavailable, "busy", ErrorDetails::new())
}
