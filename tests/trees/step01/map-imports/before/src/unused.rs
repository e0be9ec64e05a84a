//! An import that was unused before the step is not the step's to remove.

use std::collections::{HashMap, HashSet};

use crate::pb::PingRequest;

pub fn request() -> PingRequest {
    PingRequest {
        name: "unused".into(),
        labels: [("team".to_string(), "core".to_string())].into_iter().collect(),
    }
}
