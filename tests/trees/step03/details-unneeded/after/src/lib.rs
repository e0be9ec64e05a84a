//! A ledger service after step 2 whose tonic-types details stay on tonic: nothing needs the
//! crate's `google_rpc` module.

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod service;
pub mod retry;
