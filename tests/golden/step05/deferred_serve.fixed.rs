//! Server futures bound to a local and awaited later (tonic's load-balance and blocking
//! examples): the future becomes an `async move` block serving the connect app.

use tokio::runtime::Runtime;

async fn spawned() -> Result<(), Box<dyn std::error::Error>> {
    for addr in &["[::1]:50051", "[::1]:50052"] {
        let addr: std::net::SocketAddr = addr.parse()?;
        let server = EchoServer { addr };
        let serve = async move {
            axum::serve(
                // One echo per port.
                tokio::net::TcpListener::bind(addr).await?,
                connect_shim::hosting::connect_app(
                    connectrpc::Router::new()
                        .add_service(std::sync::Arc::new(server)),
                )
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        };

        tokio::spawn(async move {
            if let Err(e) = serve.await {
                eprintln!("Error = {e:?}");
            }
        });
    }
    Ok(())
}

fn blocking() {
    let addr: std::net::SocketAddr = "[::1]:50051".parse().unwrap();
    let greeter = MyGreeter::default();

    let rt = Runtime::new().expect("failed to obtain a new RunTime object");
    let server_future = async move {
        axum::serve(
            tokio::net::TcpListener::bind(addr).await?,
            connect_shim::hosting::connect_app(
                connectrpc::Router::new()
                    .add_service(std::sync::Arc::new(greeter)),
            )
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    };
    rt.block_on(server_future)
        .expect("failed to successfully run the future on RunTime");
}
