//! The same code three times: with named imports, with a glob of the generated module, and
//! through another module's glob re-export.

pub mod pb {
    tonic::include_proto!("greet.v1");
}

/// Re-exports the generated module's items for the rest of the crate.
pub mod api;
pub mod globbed;
pub mod grouped;
pub mod named;
pub mod through_api;
