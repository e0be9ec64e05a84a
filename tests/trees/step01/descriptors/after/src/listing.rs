//! Fields of every message, fully qualified paths and a `?` decode.
pub fn fields(bytes: Vec<u8>) -> Result<Vec<(String, i32)>, prost::DecodeError> {
    let fds = <prost_types::FileDescriptorSet as prost::Message>::decode(bytes.as_slice())?;
    let first: &prost_types::FileDescriptorProto = &fds.file[0];
    let mut out = Vec::new();
    for msg in &first.message_type {
        for f in &msg.field {
            out.push((f.name().to_string(), f.number()));
        }
    }
    Ok(out)
}
