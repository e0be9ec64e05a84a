//! Everything here still names tonic, prost or the shim (or only seems to): step 9 lists the
//! real references and edits nothing. Prose about tonic::Status in a doc comment is not code.

use std::sync::Arc;

use tonic::{Request, Status as TonicStatus};
extern crate prost as wire;

/// A doctest still compiles against the crate:
///
/// ```
/// let s = tonic::Status::internal("x");
/// ```
///
/// ```text
/// tonic::Status::ok("not compiled")
/// ```
pub fn doctested() {}

#[derive(Clone, PartialEq, ::prost::Message)]
pub struct Legacy {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[tonic::async_trait]
pub trait Old {
    async fn call(&self, r: Request<()>) -> Result<(), TonicStatus>;
}

pub fn uses_alias(bytes: &[u8]) -> Option<u64> {
    <u64 as wire::Message>::decode(bytes).ok()
}

pub fn in_macros() {
    let codes = vec![tonic::Code::Ok, ::tonic::Code::Internal];
    assert_eq!(codes.len(), 2, "{:?}", prost_types::Timestamp::default());
}

pub async fn shim(svc: Arc<Svc>) {
    let _ = connect_shim::tonic_call!(svc, say_hello, Request::new(()));
}

#[cfg(feature = "tonic-web")]
pub fn grpc_web() {}

// Not references: a local module named like the crate, fields and methods, strings, comments.
mod tonic_free {
    mod prost {
        pub fn encode() {}
    }
    pub fn f(x: &super::Svc) -> &str {
        prost::encode();
        self::prost::encode();
        let _ = x.prost;
        x.tonic();
        // tonic::Status::internal("a comment")
        "tonic::Status::internal"
    }
}

pub struct Svc {
    prost: u8,
}

impl Svc {
    fn tonic(&self) {}
}
