//! A descriptor type in a public signature: values cross into code this step does not see.
pub fn packages(fds: &prost_types::FileDescriptorSet) -> Vec<&str> {
    fds.file.iter().map(|f| f.package()).collect()
}
