// A file given alone: tonic-health's descriptor set is listed (step 9 writes its replacement
// into the crate only when it runs on the whole crate); a local `FILE_DESCRIPTOR_SET` is not.
use tonic_health::pb as health_pb;

mod pb {
    pub const FILE_DESCRIPTOR_SET: &[u8] = &[];
}

fn sets() -> Vec<&'static [u8]> {
    vec![pb::FILE_DESCRIPTOR_SET, health_pb::FILE_DESCRIPTOR_SET]
}
