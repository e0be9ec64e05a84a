//! `HashMap` is also a type of the file's own: the import stays.

use std::collections::HashMap;

use crate::pb::PingRequest;

pub fn request(extra: HashMap<String, String>) -> PingRequest {
    PingRequest {
        name: "kept".into(),
        labels: [("team".to_string(), "core".to_string())].into_iter().collect(),
        ..Default::default()
    }
    .with(extra)
}

trait With {
    fn with(self, extra: HashMap<String, String>) -> Self;
}

impl With for PingRequest {
    fn with(mut self, extra: HashMap<String, String>) -> Self {
        self.labels.extend(extra);
        self
    }
}
