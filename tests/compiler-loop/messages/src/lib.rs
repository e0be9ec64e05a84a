//! Message idioms whose types the syntax does not show: helpers written for prost's shapes.

pub mod atlas {
    tonic::include_proto!("atlas");
}

use atlas::{LocateRequest, Point};

/// Taxicab length of an optional point (prost's shape of a message field, borrowed).
fn norm(p: Option<&Point>) -> i32 {
    p.map_or(0, |p| p.x.abs() + p.y.abs())
}

/// The same, owned.
fn owned(p: Option<Point>) -> i32 {
    norm(p.as_ref())
}

/// How far the request is from the origin, cities counting double.
pub fn score(req: &LocateRequest) -> i32 {
    let here = norm(req.at.as_ref());
    let there = owned(req.at.clone());
    let city = if req.kind == 1 { 2 } else { 1 };
    (here + there) * city
}
