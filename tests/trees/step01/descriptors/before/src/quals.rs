//! A qualified decode call and an annotated local.
pub fn first_package(bytes: &[u8]) -> String {
    let fds = <prost_types::FileDescriptorSet as prost::Message>::decode(bytes).unwrap();
    let first: &prost_types::FileDescriptorProto = &fds.file[0];
    first.package().to_owned()
}
