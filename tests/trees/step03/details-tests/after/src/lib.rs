//! A ledger service after step 2 whose handler tests read tonic-types details.

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod service;
pub mod google_rpc;
