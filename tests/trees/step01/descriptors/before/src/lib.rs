pub mod pb {
    tonic::include_proto!("ping.v1");
}

pub mod listing;
pub mod opaque;
pub mod exposed;
pub mod quals;

/// Encoded descriptors (bytes of a `FileDescriptorSet`).
pub fn methods(bytes: &[u8]) -> Vec<String> {
    use prost::Message as _;
    use prost_types::FileDescriptorSet as Fds;
    let fds = Fds::decode(bytes).expect("descriptor set");
    let mut out = Vec::new();
    for file in &fds.file {
        for svc in file.service.iter() {
            let streaming = svc
                .method
                .iter()
                .filter(|m| m.client_streaming() || m.server_streaming())
                .count();
            out.push(format!("{}.{} ({streaming} streaming)", file.package(), svc.name()));
            svc.method.iter().for_each(|m| out.push(describe(m)));
        }
    }
    out
}

fn describe(m: &prost_types::MethodDescriptorProto) -> String {
    format!("{} -> {}", m.input_type(), m.output_type())
}
