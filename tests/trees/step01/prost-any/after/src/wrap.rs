//! An `Any` that arrives from elsewhere, unpacked with a method call only.
use connect_shim::prost_compat::AnyExt as _;
use buffa_types::google::protobuf::Any;

use crate::fx::store::v1::PutRequest;

pub fn unwrap_put(any: &Any) -> Option<PutRequest> {
    any.to_msg().ok()
}
