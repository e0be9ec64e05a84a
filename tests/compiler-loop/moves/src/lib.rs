//! Reads of a message field that prost's `Copy` messages allowed: the `if let` / `match` on the
//! field copied it; after step 1 the field is buffa's `MessageField` (never `Copy`) and the
//! step's `.into_option()` moves it.

pub mod atlas {
    tonic::include_proto!("atlas");
}

use atlas::{LocateRequest, Point};

fn norm(p: Option<&Point>) -> i32 {
    p.map_or(0, |p| p.x.abs() + p.y.abs())
}

/// East of the origin, read through a borrow.
pub fn east(req: &LocateRequest) -> i32 {
    if let Some(p) = req.at {
        p.x
    } else {
        0
    }
}

/// Read twice: the first read copied the point.
pub fn twice(req: LocateRequest) -> i32 {
    let north = match req.at {
        Some(p) => p.y,
        None => 0,
    };
    north + norm(req.at.as_ref())
}
