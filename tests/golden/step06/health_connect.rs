use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn probe(dst: String) -> Result<i32, Box<dyn std::error::Error>> {
    let mut client = HealthClient::connect(dst).await?;
    let answer = client
        .check(HealthCheckRequest { service: "x.Y".to_string() })
        .await?
        .into_inner();
    Ok(answer.status() as i32)
}
