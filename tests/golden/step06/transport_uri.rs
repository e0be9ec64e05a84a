//! tonic re-exports http's Uri: the re-export goes, the type stays.
use tonic::transport::{Channel, Uri};

pub struct Target {
    pub origin: Uri,
    pub channel: Option<Channel>,
}

pub fn origin(url: &str) -> Option<Uri> {
    url.parse::<Uri>().ok()
}

pub fn written_in_full(url: &str) -> tonic::transport::Uri {
    url.parse().unwrap()
}
