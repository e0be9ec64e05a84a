use std::sync::Arc;

use crate::context::CrateCtx;
use crate::engine::{process, FileMeta, ItemKind, Outcome};
use crate::schema::Schema;
use crate::steps;

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

#[test]
fn unary_impl_moves_to_the_connect_trait_with_the_body_in_the_shim_adapter() {
    let items = check_step(
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
"#,
        r#"use crate::pb::Echo;
use crate::pb::{Ping, Pong};
use tonic::{Response, Status};
use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult, ServiceStream};

pub struct Svc;

type SvcWatchStream = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<Pong, Status>> + Send>>;

type SvcChatStream = tokio_stream::wrappers::ReceiverStream<Result<Pong, Status>>;

#[allow(refining_impl_trait)]
impl Echo for Svc {
    async fn say(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, Ping>,
    ) -> ServiceResult<Pong> {
        let text = request.to_owned_message().text;
        Ok(connectrpc::Response::new(Pong { text, ..Default::default() }))
    }
    async fn watch(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, Ping>,
    ) -> ServiceResult<ServiceStream<Pong>> { connect_shim::server::server_stream(ctx, request, |_r| async move { Err(Status::unimplemented("no")) }).await }
    async fn upload(
        &self,
        ctx: RequestContext,
        requests: InboundStream<Ping>,
    ) -> ServiceResult<Pong> {
        connect_shim::server::client_stream(ctx, requests, |mut request| async move {
            let s = request.get_mut();
            let _ = s;
            Ok(Response::new(Pong::default()))
        })
        .await
    }
    async fn chat(
        &self,
        ctx: RequestContext,
        requests: InboundStream<Ping>,
    ) -> ServiceResult<ServiceStream<Pong>> {
        connect_shim::server::bidi_stream(ctx, requests, |request| async move {
            let (_tx, rx) = tokio::sync::mpsc::channel(1);
            let text = "multi
line";
            let _ = (request, text);
            Ok(Response::new(SvcChatStream::new(rx)))
        })
        .await
    }
}
"#,
    );
    let rules: Vec<&str> = items.iter().map(|i| i.1.as_str()).collect();
    // `say` was rewritten natively; the three others run in the adapters.
    assert_eq!(rules, ["step02/shim-handler"; 3]);
}

#[test]
fn handler_tests_call_through_tonic_call_and_streaming_ones_are_reported() {
    let items = check_step(
        r#"use crate::pb::echo_server::Echo;
use crate::pb::{Ping, Pong};
use tonic::{Request, Response, Status, Streaming};

pub struct Svc;

#[tonic::async_trait]
impl Echo for Svc {
    async fn say(&self, r: Request<Ping>) -> Result<Response<Pong>, Status> { Ok(Response::new(Pong::default())) }
    type WatchStream = tokio_stream::Empty<Result<Pong, Status>>;
    async fn watch(&self, r: Request<Ping>) -> Result<Response<Self::WatchStream>, Status> { Ok(Response::new(tokio_stream::empty())) }
    async fn upload(&self, r: Request<Streaming<Ping>>) -> Result<Response<Pong>, Status> { Ok(Response::new(Pong::default())) }
    type ChatStream = tokio_stream::Empty<Result<Pong, Status>>;
    async fn chat(&self, r: Request<Streaming<Ping>>) -> Result<Response<Self::ChatStream>, Status> { Ok(Response::new(tokio_stream::empty())) }
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
        let unknown = make().say(Request::new(Ping::default())).await;
    }
}
"#,
        r#"use crate::pb::Echo;
use crate::pb::{Ping, Pong};
use tonic::{Request, Response, Status};
use connectrpc::{InboundStream, RequestContext, ServiceRequest, ServiceResult, ServiceStream};

pub struct Svc;

type SvcWatchStream = tokio_stream::Empty<Result<Pong, Status>>;

type SvcChatStream = tokio_stream::Empty<Result<Pong, Status>>;

#[allow(refining_impl_trait)]
impl Echo for Svc {
    async fn say(
        &self,
        _ctx: RequestContext,
        r: ServiceRequest<'_, Ping>,
    ) -> ServiceResult<Pong> { Ok(connectrpc::Response::new(Pong::default())) }
    async fn watch(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, Ping>,
    ) -> ServiceResult<ServiceStream<Pong>> { connect_shim::server::server_stream(ctx, request, |r| async move { Ok(Response::new(tokio_stream::empty())) }).await }
    async fn upload(
        &self,
        ctx: RequestContext,
        requests: InboundStream<Ping>,
    ) -> ServiceResult<Pong> { connect_shim::server::client_stream(ctx, requests, |r| async move { Ok(Response::new(Pong::default())) }).await }
    async fn chat(
        &self,
        ctx: RequestContext,
        requests: InboundStream<Ping>,
    ) -> ServiceResult<ServiceStream<Pong>> { connect_shim::server::bidi_stream(ctx, requests, |r| async move { Ok(Response::new(tokio_stream::empty())) }).await }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn says() {
        let svc = Svc;
        let reply = connect_shim::tonic_call!(svc, say, Request::new(Ping::default()))
            .await
            .unwrap();
        let other = connect_shim::tonic_call!(Svc, say, Request::new(Ping::default())).await;
        let stream = svc.watch(Request::new(Ping::default())).await;
        let unknown = make().say(Request::new(Ping::default())).await;
    }
}
"#,
    );
    let calls: Vec<(usize, &str, ItemKind)> = items
        .iter()
        .filter(|i| i.1 == "step02/handler-call")
        .map(|i| (i.0, i.1.as_str(), i.2))
        .collect();
    assert_eq!(
        calls,
        [
            (29, "step02/handler-call", ItemKind::Manual),
            (30, "step02/handler-call", ItemKind::Unsure)
        ]
    );
}

#[test]
fn registrations_are_hosted_through_the_shim_and_options_reported() {
    let items = check_step(
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
        r#"use tonic::transport::Server;
use connectrpc::{RequestContext, ServiceRequest, ServiceResult};

struct Svc;

#[allow(refining_impl_trait)]
impl crate::pb::Status for Svc {
    async fn check(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, ::buffa_types::google::protobuf::Empty>,
    ) -> ServiceResult<::buffa_types::google::protobuf::Empty> { connect_shim::server::unary(ctx, request, |request| async move { Ok(tonic::Response::new(())) }).await }
}

async fn serve(svc: Svc, shared: std::sync::Arc<Svc>) {
    Server::builder()
        .add_service(connect_shim::tonic_hosted!(crate::pb::STATUS_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(svc))))
        .add_service(connect_shim::tonic_hosted!(crate::pb::STATUS_SERVICE_NAME, connectrpc::Router::new().add_service(shared)))
        .add_service(tonic::service::interceptor::InterceptedService::new(connect_shim::tonic_hosted!(crate::pb::STATUS_SERVICE_NAME, connectrpc::Router::new().add_service(std::sync::Arc::new(Svc))), check))
        .serve("[::1]:1".parse().unwrap())
        .await
        .unwrap();
}
"#,
    );
    let rules: Vec<(usize, &str)> = items.iter().map(|i| (i.0, i.1.as_str())).collect();
    assert_eq!(
        rules,
        [
            (8, "step02/shim-handler"),
            (13, "step02/server-option"),
            (15, "step02/hosted-interceptor")
        ]
    );
}

#[test]
fn names_taken_in_the_module_are_written_qualified() {
    check_step(
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
        r#"mod health {
    struct RequestContext;

    pub struct S;

    #[allow(refining_impl_trait)]
    impl crate::pb::Status for S {
        async fn check(
            &self,
            ctx: connectrpc::RequestContext,
            request: connectrpc::ServiceRequest<'_, ::buffa_types::google::protobuf::Empty>,
        ) -> connectrpc::ServiceResult<::buffa_types::google::protobuf::Empty> {
            connect_shim::server::unary(ctx, request, |_| async move {
                Ok(tonic::Response::new(()))
            })
            .await
        }
    }
}
"#,
    );
}

#[test]
fn other_traits_clients_and_partial_impls_are_left_alone() {
    let before = r#"trait Echo { fn say(&self, r: u32); }
struct Svc;
impl Echo for Svc { fn say(&self, r: u32) {} }
async fn call(mut client: crate::pb::echo_client::EchoClient<tonic::transport::Channel>) {
    let _ = client.say(tonic::Request::new(crate::pb::Ping::default())).await;
}
#[tonic::async_trait]
impl crate::pb::echo_server::Echo for Svc {
    async fn say(&self, request: tonic::Request<crate::pb::Ping>) -> Result<tonic::Response<crate::pb::Pong>, tonic::Status> { todo_later() }
}
// connect-migrate: ignore
#[tonic::async_trait]
impl crate::pb::status_server::Status for Svc {
    async fn check(&self, _: tonic::Request<()>) -> Result<tonic::Response<()>, tonic::Status> { todo_later() }
}
"#;
    let items = check_step(before, before);
    let got: Vec<(usize, &str, ItemKind)> =
        items.iter().map(|i| (i.0, i.1.as_str(), i.2)).collect();
    assert_eq!(
        got,
        [
            (8, "step02/service-impl", ItemKind::Manual),
            (13, "step02/service-impl", ItemKind::Skipped)
        ]
    );
}

#[test]
fn stream_type_paths_inside_macros_name_the_moved_alias() {
    let (got, _) = run(r#"use crate::pb::echo_server::Echo;
use crate::pb::{Ping, Pong};
use tonic::{Request, Response, Status, Streaming};
pub struct Svc;
#[tonic::async_trait]
impl Echo for Svc {
    async fn say(&self, r: Request<Ping>) -> Result<Response<Pong>, Status> { Ok(Response::new(Pong::default())) }
    type WatchStream = tokio_stream::Empty<Result<Pong, Status>>;
    async fn watch(&self, r: Request<Ping>) -> Result<Response<Self::WatchStream>, Status> { Ok(Response::new(tokio_stream::empty())) }
    async fn upload(&self, r: Request<Streaming<Ping>>) -> Result<Response<Pong>, Status> { Ok(Response::new(Pong::default())) }
    type ChatStream = std::pin::Pin<Box<dyn tokio_stream::Stream<Item = Result<Pong, Status>> + Send>>;
    async fn chat(&self, r: Request<Streaming<Ping>>) -> Result<Response<Self::ChatStream>, Status> {
        let s = async_stream::try_stream! { yield Pong::default(); };
        let v: Vec<Self::ChatStream> = vec![Box::pin(s) as Self::ChatStream];
        Ok(Response::new(v.into_iter().next().unwrap()))
    }
}
"#);
    assert!(
        got.contains("let v: Vec<SvcChatStream> = vec![Box::pin(s) as SvcChatStream];"),
        "{got}"
    );
    assert!(!got.contains("Self::"), "{got}");
}

#[test]
fn simple_unary_bodies_are_rewritten_natively() {
    let items = check_step(
        r#"use crate::pb::status_server::Status;
use tonic::{Request, Response};

struct Svc;

#[tonic::async_trait]
impl Status for Svc {
    async fn check(&self, req: Request<()>) -> Result<Response<()>, tonic::Status> {
        let empty = req.into_inner();
        Ok(Response::new(empty))
    }
}
"#,
        r#"use crate::pb::Status;
use connectrpc::{RequestContext, ServiceRequest, ServiceResult};

struct Svc;

#[allow(refining_impl_trait)]
impl Status for Svc {
    async fn check(
        &self,
        _ctx: RequestContext,
        req: ServiceRequest<'_, ::buffa_types::google::protobuf::Empty>,
    ) -> ServiceResult<::buffa_types::google::protobuf::Empty> {
        let empty = req.to_owned_message();
        Ok(connectrpc::Response::new(empty))
    }
}
"#,
    );
    assert!(items.is_empty(), "{items:?}");
}

#[test]
fn bodies_with_an_error_path_stay_in_the_adapter() {
    let (got, items) = run(r#"use crate::pb::status_server::Status;
use tonic::{Request, Response};
struct Svc;
#[tonic::async_trait]
impl Status for Svc {
    async fn check(&self, req: Request<()>) -> Result<Response<()>, tonic::Status> {
        let m = req.metadata().clone();
        Ok(Response::new(req.into_inner()))
    }
}
"#);
    assert!(
        got.contains("connect_shim::server::unary(ctx, request, |req| async move {"),
        "{got}"
    );
    assert_eq!(items.len(), 1);
}

/// Before: a module of stubs generated from something other than the schema (tonic's
/// json-codec example: a service built with `tonic_prost_build::manual`, its own types and a
/// JSON codec) was taken for the schema's service of the same name: the impl moved to a connect
/// trait the module does not have, the registration to `tonic_hosted!`, and the build broke.
#[test]
fn stubs_of_a_module_that_includes_no_schema_package_stay_on_tonic_and_are_listed() {
    let before = r#"use tonic::{Request, Response, Status, transport::Server};

pub mod common;
use common::{Ping, Pong};

pub mod hello {
    include!(concat!(env!("OUT_DIR"), "/json.echo.Echo.rs"));
}
use hello::echo_server::{Echo, EchoServer};

pub struct Svc;

#[tonic::async_trait]
impl Echo for Svc {
    async fn say(&self, request: Request<Ping>) -> Result<Response<Pong>, Status> {
        Ok(Response::new(Pong { text: request.into_inner().text }))
    }
}

async fn serve() {
    Server::builder()
        .add_service(EchoServer::new(Svc).max_decoding_message_size(1))
        .serve("[::1]:50051".parse().unwrap())
        .await
        .unwrap();
}
"#;
    let (after, items) = run(before);
    assert_eq!(after, before);
    let listed: Vec<(usize, &str, &ItemKind)> =
        items.iter().map(|(l, r, k)| (*l, r.as_str(), k)).collect();
    assert_eq!(
        listed,
        [
            (14, "step02/not-from-proto", &ItemKind::Manual),
            (22, "step02/not-from-proto", &ItemKind::Manual),
        ]
    );
}

const PROTO_V2: &str = r#"
syntax = "proto3";
package echo.v2;
message Shout { string text = 1; }
service Echo {
  rpc Shout(Shout) returns (Shout);
}
"#;

/// Before: two packages with a service `Echo` (tonic's examples: `grpc.examples.echo` and
/// `grpc.examples.unaryecho`, each included as `pb` by its own binaries) made
/// `impl pb::echo_server::Echo` ambiguous by names, and step 2 skipped it without a word. The
/// package the module `pb` of the file includes decides.
#[test]
fn the_package_a_module_includes_decides_between_services_of_one_name() {
    let schema = Schema::from_sources(
        &[
            ("echo/v1/echo.proto", PROTO),
            ("echo/v2/echo.proto", PROTO_V2),
        ],
        2,
    )
    .unwrap();
    let ctx = Arc::new(CrateCtx {
        schema: Some(Arc::new(schema)),
        // Two binaries of one package, each with a `crate::pb` of its own.
        modules: vec![
            (vec!["crate".into(), "pb".into()], "echo.v1".into()),
            (vec!["crate".into(), "pb".into()], "echo.v2".into()),
        ],
        ..Default::default()
    });
    let meta = FileMeta {
        module_path: Some(vec!["crate".into()]),
        crate_ctx: Some(ctx),
        ..Default::default()
    };
    let before = r#"pub mod pb {
    pub use crate::connect::echo::v2::*;
    include!(concat!(env!("OUT_DIR"), "/tonic/echo.v2.rs"));
}
use pb::Shout;
use tonic::{Request, Response, Status};

pub struct Svc;

#[tonic::async_trait]
impl pb::echo_server::Echo for Svc {
    async fn shout(&self, request: Request<Shout>) -> Result<Response<Shout>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}
"#;
    let all = steps::all().unwrap();
    let Outcome::Rewritten {
        new_text, items, ..
    } = process(steps::get(&all, 2), before, &meta)
    else {
        panic!("not rewritten");
    };
    let after = new_text.unwrap_or_else(|| panic!("the impl is not converted: {items:?}"));
    assert!(after.contains("impl pb::Echo for Svc {"), "{after}");
    assert!(
        after.contains("request: ServiceRequest<'_, Shout>,\n    ) -> ServiceResult<Shout> {"),
        "{after}"
    );
}
