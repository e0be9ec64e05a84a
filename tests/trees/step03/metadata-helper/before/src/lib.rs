//! A profile service after step 2, echoing request metadata through a helper.

pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod service;
