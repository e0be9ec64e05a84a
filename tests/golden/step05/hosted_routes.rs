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
    let greeter = connect_shim::tonic_hosted!(greeter::hello_world::GREETER_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(MyGreeter::default())));
    Server::builder()
        .add_service(greeter)
        .serve("127.0.0.1:50051".parse()?)
        .await?;
    Ok(())
}
