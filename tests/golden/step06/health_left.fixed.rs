use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

// `watch` is a server stream the step does not rewrite: the whole file stays on tonic-health
// (the `connect` it could rewrite too), the site listed.
async fn watch() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = HealthClient::connect("http://[::1]:50051").await?;
    let mut updates = client
        .watch(HealthCheckRequest { service: String::new() })
        .await?
        .into_inner();
    while let Some(update) = updates.message().await? {
        println!("{:?}", update.status());
    }
    Ok(())
}
