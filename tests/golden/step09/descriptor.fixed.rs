//! The reflection descriptor set, read the tonic way.

/// Encoded `FileDescriptorSet` of the service, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/greeter_descriptor.bin"));

pub mod pb {
    pub const OTHER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/other.bin"));
}
