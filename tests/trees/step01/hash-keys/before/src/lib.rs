use std::collections::{HashMap, HashSet};

pub mod pb {
    tonic::include_proto!("grid.v1");
}

use pb::{Area, Cell, Reading, Visit};

/// Visits counted per cell: the key's type is written nowhere, the schema says `cell` is a `Cell`.
pub fn count(visits: Vec<Visit>) -> usize {
    let mut seen = HashMap::new();
    for visit in visits {
        let cell = visit.cell.clone().unwrap();
        *seen.entry(cell).or_insert(0u32) += 1;
    }
    seen.len()
}

/// A zone compares by its area (the area's corner too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub area: Area,
}

/// prost derived `Hash` for a message with a message field; buffa cannot (listed).
pub fn distinct(visits: Vec<Visit>) -> usize {
    let set: HashSet<Visit> = visits.into_iter().collect();
    set.len()
}

/// Readings have a `double`: no derive is needed for them.
pub fn total(readings: &[Reading]) -> f64 {
    readings.iter().map(|r| r.value).sum()
}

pub fn corner(z: &Zone) -> Option<&Cell> {
    z.area.corner.as_ref()
}
