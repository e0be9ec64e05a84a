pub use crate::pb::*;
