pub mod pb {
    tonic::include_proto!("health.v1");
}
pub mod server;
