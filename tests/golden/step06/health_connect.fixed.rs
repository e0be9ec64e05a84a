use connectrpc_health::HealthClient;
use connectrpc_health::wire::HealthCheckRequest;

async fn probe(dst: String) -> Result<i32, Box<dyn std::error::Error>> {
    let mut client = HealthClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(dst.parse()?).with_protocol(connectrpc::Protocol::Grpc));
    let answer = client
        .check(HealthCheckRequest { service: "x.Y".to_string(), ..Default::default() })
        .await.map_err(connect_shim::status::to_status)?
        .into_owned();
    Ok(answer.status.as_known().unwrap_or_default() as i32)
}
