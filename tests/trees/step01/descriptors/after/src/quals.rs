//! A qualified decode call and an annotated local.
pub fn first_package(bytes: &[u8]) -> String {
    let fds = <buffa_descriptor::generated::descriptor::FileDescriptorSet as buffa::Message>::decode_from_slice(&bytes).unwrap();
    let first: &buffa_descriptor::generated::descriptor::FileDescriptorProto = &fds.file[0];
    first.package.as_deref().unwrap_or_default().to_owned()
}
