//! Helpers shared by the steps: no step imports another step, they all use these.
//!
//! - [`tokens`]: a file as a flat token list with byte ranges (`Tok`, `flatten`).
//! - [`syntax`]: small syntax helpers (`strip_parens`, `cfg_test_ranges`).
//! - [`prepare`]: what a step's `prepare` returns ([`prepare::Prepared`]) and the `connect-shim`
//!   dependency several steps add ([`prepare::shim_dep`]).
//! - [`items`]: the items a step lists for what it could not do ([`items::item_at`]).
//! - [`stubs`]: which proto package a module of tonic stubs holds ([`stubs::stub_module`]).

pub mod items;
pub mod prepare;
pub mod stubs;
pub mod syntax;
pub mod tokens;
