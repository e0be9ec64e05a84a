//! Scripted client: calls every RPC of the greeter once (plus the error
//! cases), prints one line per check and exits non-zero if any check failed.

use greeter::hello_world::greeter_client::GreeterClient;
use greeter::hello_world::{GoodbyeRequest, HelloRequest};
use tonic::Code;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "http://127.0.0.1:50051".to_string());

    let mut client = GreeterClient::connect(url).await?;
    let mut failures = 0;

    // SayHello, the happy path.
    let request = tonic::Request::new(HelloRequest {
        name: "Tonic".into(),
    });
    match client.say_hello(request).await {
        Ok(response) if response.get_ref().message == "Hello Tonic!" => {
            println!("ok   say_hello: {}", response.into_inner().message)
        }
        other => {
            failures += 1;
            println!("FAIL say_hello: {other:?}");
        }
    }

    // SayHello with an empty name must be rejected.
    match client.say_hello(HelloRequest { name: "".into() }).await {
        Err(status)
            if status.code() == Code::InvalidArgument
                && status.message() == "name must not be empty" =>
        {
            println!(
                "ok   say_hello(empty): {:?} {}",
                status.code(),
                status.message()
            )
        }
        other => {
            failures += 1;
            println!("FAIL say_hello(empty): {other:?}");
        }
    }

    // SayGoodbye, the happy path.
    let goodbye = GoodbyeRequest {
        name: "Tonic".into(),
        times: 2,
    };
    match client.say_goodbye(goodbye).await {
        Ok(response) if response.get_ref().lines == ["Goodbye Tonic (1)", "Goodbye Tonic (2)"] => {
            println!("ok   say_goodbye: {} lines", response.get_ref().lines.len())
        }
        other => {
            failures += 1;
            println!("FAIL say_goodbye: {other:?}");
        }
    }

    // SayGoodbye asking for too many lines.
    let too_many = GoodbyeRequest {
        name: "Tonic".into(),
        times: 100,
    };
    match client.say_goodbye(too_many).await {
        Err(status)
            if status.code() == Code::OutOfRange
                && status.message() == "times must be at most 5, got 100" =>
        {
            println!(
                "ok   say_goodbye(too many): {:?} {}",
                status.code(),
                status.message()
            )
        }
        other => {
            failures += 1;
            println!("FAIL say_goodbye(too many): {other:?}");
        }
    }

    if failures > 0 {
        println!("{failures} check(s) failed");
        std::process::exit(1);
    }
    println!("all checks passed");
    Ok(())
}
