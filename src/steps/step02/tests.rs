use std::sync::Arc;

use crate::engine::{process, FileMeta, ItemKind, Outcome};
use crate::schema::Schema;
use crate::steps::{self, step01::CrateCtx};

const PROTO: &str = r#"
syntax = "proto3";
package echo.v1;
import "google/protobuf/empty.proto";
message Ping { string text = 1; }
message Pong { string text = 1; }
service Echo {
  rpc Say(Ping) returns (Pong);
  rpc Watch(Ping) returns (stream Pong);
  rpc Upload(stream Ping) returns (Pong);
  rpc Chat(stream Ping) returns (stream Pong);
}
service Status {
  rpc Check(google.protobuf.Empty) returns (google.protobuf.Empty);
}
"#;

fn ctx() -> Arc<CrateCtx> {
    let schema = Schema::from_sources(&[("echo/v1/echo.proto", PROTO)], 1).unwrap();
    Arc::new(CrateCtx {
        schema: Some(Arc::new(schema)),
        modules: vec![(vec!["crate".into(), "pb".into()], "echo.v1".into())],
        ..Default::default()
    })
}

fn run(before: &str) -> (String, Vec<(usize, String, ItemKind)>) {
    let all = steps::all().unwrap();
    let step = steps::get(&all, 2);
    let meta = FileMeta {
        module_path: Some(vec!["crate".into()]),
        crate_ctx: Some(ctx()),
        ..Default::default()
    };
    match process(step, before, &meta) {
        Outcome::Rewritten {
            new_text, items, ..
        } => (
            new_text.unwrap_or_else(|| before.to_string()),
            items
                .into_iter()
                .map(|i| (crate::edit::line_col(before, i.offset).0, i.rule, i.kind))
                .collect(),
        ),
        o => panic!("{o:?}"),
    }
}

#[track_caller]
fn check_step(before: &str, after: &str) -> Vec<(usize, String, ItemKind)> {
    let (got, items) = run(before);
    assert_eq!(got, after, "\n--- got ---\n{got}");
    let (again, _) = run(&got);
    assert_eq!(again, got, "a second run changed the text");
    items
}

const CASES: &[&str] = &[
// 0: unary impl, import edited, test call
r#"use crate::pb::echo_server::Echo;
use crate::pb::{Ping, Pong};
use tonic::{Request, Response, Status};

pub struct Svc;

#[tonic::async_trait]
impl Echo for Svc {
    async fn say(&self, request: Request<Ping>) -> Result<Response<Pong>, Status> {
        let text = request.into_inner().text;
        Ok(Response::new(Pong { text, ..Default::default() }))
    }
    async fn watch(&self, _r: Request<Ping>) -> Result<Response<Self::WatchStream>, Status> { Err(Status::unimplemented("no")) }
    type WatchStream = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<Pong, Status>> + Send>>;
    async fn upload(&self, mut request: Request<tonic::Streaming<Ping>>) -> Result<Response<Pong>, Status> {
        let s = request.get_mut();
        let _ = s;
        Ok(Response::new(Pong::default()))
    }
    type ChatStream = tokio_stream::wrappers::ReceiverStream<Result<Pong, Status>>;

    async fn chat(
        &self,
        request: Request<tonic::Streaming<Ping>>,
    ) -> Result<Response<Self::ChatStream>, Status> {
        let (_tx, rx) = tokio::sync::mpsc::channel(1);
        let text = "multi
line";
        let _ = (request, text);
        Ok(Response::new(Self::ChatStream::new(rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn says() {
        let svc = Svc;
        let reply = svc
            .say(Request::new(Ping::default()))
            .await
            .unwrap();
        let other = Svc.say(Request::new(Ping::default())).await;
        let stream = svc.watch(Request::new(Ping::default())).await;
    }
}
"#,
// 1: qualified trait path, registrations
r#"use tonic::transport::Server;
use crate::pb::status_server::StatusServer;

struct Svc;

#[async_trait::async_trait]
impl crate::pb::status_server::Status for Svc {
    async fn check(&self, request: tonic::Request<()>) -> Result<tonic::Response<()>, tonic::Status> { Ok(tonic::Response::new(())) }
}

async fn serve(svc: Svc, shared: std::sync::Arc<Svc>) {
    Server::builder()
        .add_service(StatusServer::new(svc).max_decoding_message_size(1024))
        .add_service(crate::pb::status_server::StatusServer::from_arc(shared))
        .add_service(StatusServer::with_interceptor(Svc, check))
        .serve("[::1]:1".parse().unwrap())
        .await
        .unwrap();
}
"#,
// 2: WKT Empty, a module of its own, names taken
r#"mod health {
    use crate::pb::status_server::{Status, StatusServer};
    struct RequestContext;

    pub struct S;

    #[tonic::async_trait]
    impl Status for S {
        async fn check(&self, _: tonic::Request<()>) -> Result<tonic::Response<()>, tonic::Status> {
            Ok(tonic::Response::new(()))
        }
    }
}
"#,
// 3: untouched: a trait of the same name that is not tonic's, a client call
r#"trait Echo { fn say(&self, r: u32); }
struct Svc;
impl Echo for Svc { fn say(&self, r: u32) {} }
async fn call(mut client: crate::pb::echo_client::EchoClient<tonic::transport::Channel>) {
    let _ = client.say(tonic::Request::new(crate::pb::Ping::default())).await;
}
"#,
];

#[test]
fn print_cases() {
    for c in CASES {
        let (got, items) = run(c);
        println!("=====\n{got}\n{items:?}");
    }
}
