fn server() -> &'static [u8] {
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET
}
