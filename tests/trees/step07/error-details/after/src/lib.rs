//! A ledger client after step 6, reading google.rpc details with tonic-types.

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod reads;
pub mod blocked;
pub mod empty;
pub mod meta_key;
pub mod google_rpc;
