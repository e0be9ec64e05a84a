//! Server futures bound to a local and awaited later (tonic's load-balance and blocking
//! examples): the future becomes an `async move` block serving the connect app.

use tokio::runtime::Runtime;
use tonic::transport::Server;

async fn spawned() -> Result<(), Box<dyn std::error::Error>> {
    for addr in &["[::1]:50051", "[::1]:50052"] {
        let addr = addr.parse()?;
        let server = EchoServer { addr };
        let serve = Server::builder()
            // One echo per port.
            .add_service(connect_shim::tonic_hosted!(pb::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(server))))
            .serve(addr);

        tokio::spawn(async move {
            if let Err(e) = serve.await {
                eprintln!("Error = {e:?}");
            }
        });
    }
    Ok(())
}

fn blocking() {
    let addr = "[::1]:50051".parse().unwrap();
    let greeter = MyGreeter::default();

    let rt = Runtime::new().expect("failed to obtain a new RunTime object");
    let server_future = Server::builder()
        .add_service(connect_shim::tonic_hosted!(pb::GREETER_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(greeter))))
        .serve(addr);
    rt.block_on(server_future)
        .expect("failed to successfully run the future on RunTime");
}
