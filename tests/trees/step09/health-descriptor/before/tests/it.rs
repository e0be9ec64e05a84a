use health_app::reflector;

#[test]
fn lists_health() {
    let r = reflector().unwrap();
    let _ = tonic_health::pb::FILE_DESCRIPTOR_SET.len();
    assert!(r.service_names().iter().any(|s| s == "grpc.health.v1.Health"));
}
