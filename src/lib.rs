//! cargo connect-migrate: staged, span-preserving migration of Rust code from tonic to connectrpc.
//!
//! Layout: [`cli`] (arguments) -> [`app`] (commands, exit codes; the run's [`options`]) ->
//! [`workspace`] (discovery) -> [`run`] (parallel IO around the pure [`engine`]) -> [`steps`]
//! (the nine steps) built from [`rules`] (data files) with [`resolve`] (per-file name
//! resolution, across files through the crate's symbol [`index`]) and [`edit`] (the edit buffer). The core ([`edit`], [`engine`],
//! [`context`], [`evidence`], [`index`], [`resolve`], [`schema`], [`manifest`]) names nothing
//! above it (`tests/layering.rs`).

pub mod app;
pub mod buildrs;
pub mod cli;
pub mod context;
pub mod demo;
pub mod edit;
pub mod engine;
pub mod evidence;
pub mod index;
pub mod lock;
pub mod manifest;
pub mod options;
pub mod repairs;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod run;
pub mod schema;
pub mod shim;
pub mod steps;
pub mod verify;
pub mod workspace;
