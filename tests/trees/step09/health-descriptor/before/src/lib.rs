//! Reflection over the app's own descriptors and grpc.health.v1 (tonic-health 0.14 spelling).

pub mod reflection;

use tonic_health::pb::FILE_DESCRIPTOR_SET as HEALTH_SET;

/// Descriptors not from tonic-health: a local constant with the same name.
pub mod pb {
    pub const FILE_DESCRIPTOR_SET: &[u8] = &[];
}

/// Both sets, for reflection.
pub fn reflector() -> Result<connectrpc_reflection::Reflector, connectrpc_reflection::ReflectionError> {
    let mut r = connectrpc_reflection::Reflector::from_descriptor_set_bytes(pb::FILE_DESCRIPTOR_SET)?;
    r.add_descriptor_set_bytes(HEALTH_SET)?;
    Ok(r)
}
