//! A ledger service after step 2, building google.rpc details with tonic-types.

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod service;
pub mod other;
pub mod google_rpc;
