//! Generated types of two packages, each in its own module, with hand-written helpers beside.

pub mod common;
pub mod gateway;
