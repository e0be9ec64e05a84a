use greeter::{MyEcho, MyGreeter};
use tonic::service::RoutesBuilder;
use tonic::transport::Server;

// Handed to tonic's routes builder, which the step does not convert: stays tonic-hosted.
fn add_echo(builder: &mut RoutesBuilder) {
    let svc = connect_shim::tonic_hosted!(greeter::echo::ECHO_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(MyEcho::default())));
    builder.add_service(svc);
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut routes = RoutesBuilder::default();
    add_echo(&mut routes);
    Server::builder()
        .add_routes(routes.routes())
        .serve("127.0.0.1:50052".parse()?)
        .await?;

    // Hosted by a chain the step converts: the router itself.
    let greeter = connectrpc::Router::new().add_service(std::sync::Arc::new(MyGreeter::default()));
    axum::serve(
        tokio::net::TcpListener::bind("127.0.0.1:50051".parse::<std::net::SocketAddr>()?).await?,
        connect_shim::hosting::connect_app(
            connectrpc::Router::new()
                .merge(greeter),
        )
        .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .await?;
    Ok(())
}
