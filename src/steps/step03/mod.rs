//! Step 3: connect errors on the server side.
//!
//! The rename rules of `rules/step03.toml` turn tonic's `Status`/`Code` into `ConnectError`/
//! `ErrorCode` in server code (`Status::not_found(m)` -> `ConnectError::not_found(m)`), and the
//! handler pass of [`crate::steps::handlers`] in its step-3 mode unwraps the unary handlers step 2
//! kept on `connect_shim::server` adapters into native bodies, or moves them to the
//! `connect_shim::server::connect_errors` adapters; tonic-types details move to the crate's
//! `google_rpc` module ([`crate::steps::details`]).
//!
//! Before:
//! ```text
//! fn check(id: u32) -> Result<(), Status> { Err(Status::not_found("no such id")) }
//! ```
//! After:
//! ```text
//! fn check(id: u32) -> Result<(), ConnectError> { Err(ConnectError::not_found("no such id")) }
//! ```

mod definition;
pub use definition::DEFINITION;

use crate::steps::handlers::HandlersPass;

/// The step's pass over a file (after the rename rules).
pub fn handlers_pass() -> HandlersPass {
    HandlersPass { step: 3 }
}
