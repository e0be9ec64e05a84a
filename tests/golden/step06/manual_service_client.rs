//! Two clients named alike: the schema's `helloworld.Greeter` (its module includes the package's
//! generated code) is migrated; a `Greeter` built by hand with `tonic_prost_build::manual` (a JSON
//! codec, its own types; tonic's json-codec example) has no connect client and stays on tonic,
//! listed.

pub mod common;

pub mod hello_world {
    include!(concat!(env!("OUT_DIR"), "/json.helloworld.Greeter.rs"));
}
pub mod pb {
    pub use crate::connect::helloworld::*;
    include!(concat!(env!("OUT_DIR"), "/tonic/helloworld.rs"));
}

use hello_world::greeter_client::GreeterClient;

async fn json() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = GreeterClient::connect("http://[::1]:50051").await?;
    let request = tonic::Request::new(common::HelloRequest {
        name: "Tonic".into(),
    });
    let response = client.say_hello(request).await?;
    println!("RESPONSE={response:?}");
    Ok(())
}

async fn proto() -> Result<(), Box<dyn std::error::Error>> {
    let mut client = pb::greeter_client::GreeterClient::connect("http://[::1]:50051").await?;
    let response = client.say_hello(tonic::Request::new(pb::HelloRequest::default())).await?;
    println!("RESPONSE={response:?}");
    Ok(())
}
