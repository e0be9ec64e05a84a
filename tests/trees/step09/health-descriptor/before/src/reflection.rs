//! Full paths, and a glob import of tonic-health's `pb` (tonic 0.12/0.13 code spells it the same).

use tonic_health::pb::*;

pub fn v1alpha() -> Vec<&'static [u8]> {
    vec![crate::pb::FILE_DESCRIPTOR_SET, ::tonic_health::pb::FILE_DESCRIPTOR_SET]
}

pub fn sets() -> [&'static [u8]; 1] {
    [FILE_DESCRIPTOR_SET]
}

/// tonic-health's client types are not descriptor sets: they stay (and keep the dependency).
pub fn request() -> HealthCheckRequest {
    HealthCheckRequest::default()
}
