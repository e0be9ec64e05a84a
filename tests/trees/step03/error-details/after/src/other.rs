//! Not convertible: tonic-types' raw protobuf messages have no counterpart in the module.

use tonic::{Code, Status};
use tonic_types::pb::BadRequest;
use tonic_types::{ErrorDetails, StatusExt};

pub fn invalid(raw: BadRequest) -> Status {
    let _ = raw;
    Status::with_error_details(Code::InvalidArgument, "bad", ErrorDetails::new())
}
