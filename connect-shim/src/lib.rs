//! Runtime bridge between tonic 0.14 and connectrpc 0.9 for staged migrations.
//!
//! A crate migrated by `cargo connect-migrate` depends on this crate only while it is half
//! migrated: every module says which step removes the need for it. See `README.md`.
//!
//! - [`codec`]: tonic `Codec` for buffa messages (step 1).
//! - [`status`]: `tonic::Status` <-> `ConnectError` (steps 3 and 7).
//! - [`server`]: tonic-style handler bodies inside connect trait impls, and
//!   [`tonic_bridge!`] for whole tonic impls (steps 2 and 4).
//! - [`hosting`]: connect services in a tonic server, tonic services on an axum app, and the
//!   gRPC error-header fix (steps 2 and 5).
//! - [`prost_compat`]: prost's `Name` and `Any::from_msg` / `to_msg` over buffa messages (step 1).
//! - [`client`]: tonic-shaped calls over a connect client (steps 6 and 8), and
//!   [`tonic_client!`] for per-service compat clients at call sites rewritten by hand.
#![warn(missing_docs)]

pub mod client;
pub mod codec;
pub mod hosting;
pub mod prost_compat;
pub mod server;
pub mod status;

#[doc(hidden)]
pub mod __private {
    //! Paths used by this crate's macros; not public API.
    pub use connectrpc;
    pub use connectrpc::client::{ClientConfig, ClientTransport};
    pub use connectrpc::ServiceRequest;
    pub use http_body::Body;
    pub use tonic::{IntoRequest, IntoStreamingRequest, Response, Status, Streaming};
}
