pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/connect/_connectrpc.rs"));
}
pub mod legacy;
pub mod service;
