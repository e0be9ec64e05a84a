//! Generated code for connect-shim's tests and benchmark (dev only, not published).
#![allow(clippy::all, missing_docs)]

/// buffa messages and connect stubs.
pub mod connect {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
    pub use shimtest::v1::*;
}

/// tonic stubs on the buffa messages (what step 1 produces), re-exporting the messages.
pub mod pb {
    pub use crate::connect::shimtest::v1::*;
    include!(concat!(env!("OUT_DIR"), "/tonic_buffa/shimtest.v1.rs"));
}

/// Plain tonic + prost (the pre-migration baseline).
pub mod prostpb {
    include!(concat!(env!("OUT_DIR"), "/tonic_prost/shimtest.v1.rs"));
}

pub mod impls;
