//! The health reporter handed to a helper of the file that flips the status (tonic's health
//! example): the helper takes the reporter step 5 makes, so it is converted with it.

use std::time::Duration;
use tonic::transport::Server;
use tonic_health::server::HealthReporter;

use pb::greeter_server::GreeterServer;

/// Flips the status every second.
async fn twiddle(reporter: HealthReporter) {
    let mut iter = 0u64;
    loop {
        iter += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;

        if iter % 2 == 0 {
            reporter.set_serving::<GreeterServer<MyGreeter>>().await;
        } else {
            // Down for a second.
            reporter.set_not_serving::<GreeterServer<MyGreeter>>().await;
        };
    }
}

async fn check(reporter: &HealthReporter) {
    reporter.set_serving::<GreeterServer<MyGreeter>>().await;
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter.set_serving::<GreeterServer<MyGreeter>>().await;
    tokio::spawn(twiddle(health_reporter.clone()));
    check(&health_reporter).await;

    let addr = "[::1]:50051".parse().unwrap();
    Server::builder()
        .add_service(health_service)
        .add_service(connect_shim::tonic_hosted!(pb::GREETER_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(MyGreeter::default()))))
        .serve(addr)
        .await?;
    Ok(())
}
