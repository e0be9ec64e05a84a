//! An `Any` that arrives from elsewhere, unpacked with a method call only.
use prost_types::Any;

use crate::fx::store::v1::PutRequest;

pub fn unwrap_put(any: &Any) -> Option<PutRequest> {
    any.to_msg().ok()
}
