//! An `Any` reached through the crate's own alias: this file never names prost's.
use connect_shim::prost_compat::AnyExt as _;
use crate::fx::types::Blob;
use crate::Packed;

pub fn blob(any: &Packed) -> Blob {
    any.to_msg().unwrap()
}
