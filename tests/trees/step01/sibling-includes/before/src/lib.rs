//! Two client modules, each with its own private generated module.

pub mod billing;
pub mod inventory;

pub use inventory::Item;
