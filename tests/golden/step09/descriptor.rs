//! The reflection descriptor set, read the tonic way.

/// Encoded `FileDescriptorSet` of the service, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("greeter_descriptor");

pub mod pb {
    pub const OTHER: &[u8] = ::tonic::include_file_descriptor_set!("other");
}
