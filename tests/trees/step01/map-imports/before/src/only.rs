//! Every `HashMap` of the file builds a map field: its import goes with the last one.

use std::collections::{BTreeMap, HashMap};

use crate::pb::PingRequest;

pub fn request(name: &str) -> PingRequest {
    PingRequest {
        name: name.into(),
        labels: HashMap::from([("team".to_string(), "core".to_string())]),
    }
}

pub fn sorted(r: &PingRequest) -> BTreeMap<&str, &str> {
    r.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}
