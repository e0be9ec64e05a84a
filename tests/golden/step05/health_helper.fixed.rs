//! The health reporter handed to a helper of the file that flips the status (tonic's health
//! example): the helper takes the reporter step 5 makes, so it is converted with it.

use std::time::Duration;

use pb::greeter_server::GreeterServer;

/// Flips the status every second.
async fn twiddle(reporter: std::sync::Arc<connectrpc_health::StaticChecker>) {
    let mut iter = 0u64;
    loop {
        iter += 1;
        tokio::time::sleep(Duration::from_secs(1)).await;

        if iter % 2 == 0 {
            let _ = reporter.register(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME);
            reporter.set_status(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME, connectrpc_health::Status::Serving).ok();
        } else {
            // Down for a second.
            let _ = reporter.register(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME);
            reporter.set_status(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME, connectrpc_health::Status::NotServing).ok();
        };
    }
}

async fn check(reporter: &std::sync::Arc<connectrpc_health::StaticChecker>) {
    let _ = reporter.register(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME);
    reporter.set_status(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME, connectrpc_health::Status::Serving).ok();
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (health_service, health_reporter) = connectrpc_health::install_static(connectrpc::Router::new(), std::iter::empty::<&str>());
    let _ = health_reporter.register(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME);
    health_reporter.set_status(<GreeterServer<MyGreeter> as tonic::server::NamedService>::NAME, connectrpc_health::Status::Serving).ok();
    tokio::spawn(twiddle(health_reporter.clone()));
    check(&health_reporter).await;

    let addr: std::net::SocketAddr = "[::1]:50051".parse().unwrap();
    axum::serve(
        tokio::net::TcpListener::bind(addr).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .merge(health_service)
                .add_service(std::sync::Arc::new(MyGreeter::default())),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
