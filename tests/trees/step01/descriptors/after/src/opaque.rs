//! A getter on a value whose type this step cannot know: the file stays on prost.
use buffa::Message;
use prost_types::FileDescriptorSet;

pub fn count(bytes: &[u8]) -> usize {
    let fds = <FileDescriptorSet as prost::Message>::decode(bytes).unwrap();
    let first = fds.file.first().unwrap();
    first.package().len() + fds.file.len()
}
