//! A tiny greeting service, shared by the server binary, the client binary
//! and the unit tests.

use tonic::{Request, Response, Status};

pub mod hello_world {
    tonic::include_proto!("helloworld");
}

use hello_world::greeter_server::Greeter;
use hello_world::{GoodbyeReply, GoodbyeRequest, HelloReply, HelloRequest};

/// Upper bound for `GoodbyeRequest.times`, so nobody asks us for a million lines.
pub const MAX_GOODBYES: u32 = 5;

#[derive(Debug, Default)]
pub struct MyGreeter {}

#[tonic::async_trait]
impl Greeter for MyGreeter {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        // Logged to stderr: stdout of the server binary is reserved for the
        // "listening on" line.
        eprintln!("Got a request from {:?}", request.remote_addr());

        let name = request.into_inner().name;
        if name.trim().is_empty() {
            return Err(Status::invalid_argument("name must not be empty"));
        }

        let reply = HelloReply {
            message: format!("Hello {}!", name),
        };
        Ok(Response::new(reply))
    }

    async fn say_goodbye(
        &self,
        request: Request<GoodbyeRequest>,
    ) -> Result<Response<GoodbyeReply>, Status> {
        let GoodbyeRequest { name, times } = request.into_inner();
        if name.is_empty() {
            return Err(Status::invalid_argument("name must not be empty"));
        }
        if times > MAX_GOODBYES {
            return Err(tonic::Status::out_of_range(format!(
                "times must be at most {MAX_GOODBYES}, got {times}"
            )));
        }

        let lines = (0..times.max(1))
            .map(|i| format!("Goodbye {name} ({})", i + 1))
            .collect();
        Ok(Response::new(GoodbyeReply { lines }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[tokio::test]
    async fn says_hello() {
        let greeter = MyGreeter::default();
        let response = greeter
            .say_hello(Request::new(HelloRequest {
                name: "Ferris".into(),
            }))
            .await
            .expect("say_hello failed");
        assert_eq!(response.into_inner().message, "Hello Ferris!");
    }

    #[tokio::test]
    async fn rejects_an_empty_name() {
        let greeter = MyGreeter::default();
        let status = greeter
            .say_hello(Request::new(HelloRequest::default()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(status.message(), "name must not be empty");
    }

    #[tokio::test]
    async fn says_goodbye_several_times() {
        let reply = MyGreeter::default()
            .say_goodbye(Request::new(GoodbyeRequest {
                name: "Ferris".to_string(),
                times: 2,
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            reply.lines,
            vec!["Goodbye Ferris (1)", "Goodbye Ferris (2)"]
        );
    }
}
