//! An inventory service after step 2: bodies on the shim's tonic-style adapters.

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod service;
