//! Before/after cases through step 6's pass, one per concern of the walker (paths,
//! construction, calls, responses, request helpers), plus what the step leaves alone.

use std::sync::Arc;

use crate::context::CrateCtx;
use crate::engine::{process, FileMeta, ItemKind, Outcome};
use crate::evidence::SideEvidence;
use crate::options::ClientProtocol;
use crate::schema::Schema;
use crate::steps;

const PROTO: &str = r#"
syntax = "proto3";
package echo.v1;
message Ping { string text = 1; int32 n = 2; }
message Pong { string text = 1; int32 n = 2; }
service Echo {
  rpc Say(Ping) returns (Pong);
  rpc Watch(Ping) returns (stream Pong);
}
"#;

fn meta() -> FileMeta {
    let schema = Schema::from_sources(&[("echo/v1/echo.proto", PROTO)], 1).unwrap();
    meta_of(schema, &[("pb", "echo.v1")])
}

/// The meta of a root file of a crate with `schema`, its generated modules at the root
/// (`pb` holding `echo.v1`), in a workspace where step 2 converted a handler.
fn meta_of(schema: Schema, modules: &[(&str, &str)]) -> FileMeta {
    FileMeta {
        module_path: Some(vec!["crate".into()]),
        crate_ctx: Some(Arc::new(CrateCtx {
            schema: Some(Arc::new(schema)),
            modules: modules
                .iter()
                .map(|(m, p)| (vec!["crate".to_string(), m.to_string()], p.to_string()))
                .collect(),
            ..Default::default()
        })),
        // Step 2 converted a handler somewhere in the workspace.
        crate_evidence: SideEvidence {
            connect_server: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// [`meta`] of a run whose `--protocol` is `p` (what step 6's prepare keeps in the context).
fn speaking(p: ClientProtocol) -> FileMeta {
    let mut m = meta();
    let ctx = Arc::get_mut(m.crate_ctx.as_mut().unwrap()).unwrap();
    ctx.set_plan(Arc::new(p));
    m
}

/// The text after step 6, and its items as `(line, rule, kind)`.
fn run(before: &str) -> (String, Vec<(usize, String, ItemKind)>) {
    run_in(before, &meta())
}

/// [`run`] with the file's meta.
fn run_in(before: &str, meta: &FileMeta) -> (String, Vec<(usize, String, ItemKind)>) {
    let all = steps::all().unwrap();
    let step = steps::get(&all, 6);
    match process(step, before, meta) {
        Outcome::Rewritten {
            new_text, items, ..
        } => (
            new_text.unwrap_or_else(|| before.to_string()),
            items
                .into_iter()
                .map(|i| (crate::edit::line_col(before, i.offset).0, i.rule, i.kind))
                .collect(),
        ),
        Outcome::NotApplicable => (before.to_string(), vec![]),
        o => panic!("{o:?}"),
    }
}

/// Runs the step on `before`, checks the text is `after` and that a second run changes
/// nothing; returns the items.
#[track_caller]
fn check_step(before: &str, after: &str) -> Vec<(usize, String, ItemKind)> {
    let (got, items) = run(before);
    assert_eq!(got, after, "\n--- got ---\n{got}");
    let (again, _) = run(&got);
    assert_eq!(again, got, "a second run changed the text");
    items
}

#[test]
fn client_paths_lose_the_client_module_and_channel_type_arguments_become_http_clients() {
    let items = check_step(
        r#"use crate::pb::echo_client::EchoClient;
use tonic::transport::Channel;

pub struct App {
    // The client of the echo service.
    client: EchoClient<Channel>,
}
"#,
        r#"use crate::pb::EchoClient;

pub struct App {
    // The client of the echo service.
    client: EchoClient<connectrpc::client::HttpClient>,
}
"#,
    );
    assert_eq!(items, vec![]);
}

#[test]
fn connect_becomes_a_connect_client_over_http2_speaking_grpc() {
    let items = check_step(
        r#"use crate::pb::echo_client::EchoClient;

async fn connect(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let _client = EchoClient::connect(url).await?;
    Ok(())
}
"#,
        r#"use crate::pb::EchoClient;

async fn connect(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let _client = EchoClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(url.parse()?).with_protocol(connectrpc::Protocol::Grpc));
    Ok(())
}
"#,
    );
    assert_eq!(items, vec![]);
}

/// The run's protocol comes through the crate context: the transport and the protocol of the
/// client built follow it, and a second run changes nothing.
#[test]
fn connect_builds_a_client_speaking_the_runs_protocol() {
    let before = r#"use crate::pb::echo_client::EchoClient;

async fn connect(url: String) -> Result<(), Box<dyn std::error::Error>> {
    let _client = EchoClient::connect(url).await?;
    Ok(())
}
"#;
    for (p, transport, variant) in [
        (ClientProtocol::Connect, "plaintext", "Connect"),
        (ClientProtocol::GrpcWeb, "plaintext", "GrpcWeb"),
        (ClientProtocol::Grpc, "plaintext_http2_only", "Grpc"),
    ] {
        let meta = speaking(p);
        let (got, items) = run_in(before, &meta);
        let want = format!(
            r#"use crate::pb::EchoClient;

async fn connect(url: String) -> Result<(), Box<dyn std::error::Error>> {{
    let _client = EchoClient::new(connectrpc::client::HttpClient::{transport}(), connectrpc::client::ClientConfig::new(url.parse()?).with_protocol(connectrpc::Protocol::{variant}));
    Ok(())
}}
"#
        );
        assert_eq!(got, want, "{p:?}");
        assert_eq!(items, vec![], "{p:?}");
        assert_eq!(
            run_in(&got, &meta).0,
            got,
            "{p:?}: a second run changed the text"
        );
    }
}

#[test]
fn unary_call_whose_response_is_understood_is_native_with_its_request_unwrapped() {
    let items = check_step(
        r#"use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;
use tonic::Request;

async fn call(client: &mut EchoClient<Channel>) -> Result<String, tonic::Status> {
    let text = client.say(Request::new(Ping { text: "a".into(), ..Default::default() })).await?.into_inner().text;
    Ok(text)
}
"#,
        r#"use crate::pb::EchoClient;
use crate::pb::Ping;

async fn call(client: &mut EchoClient<connectrpc::client::HttpClient>) -> Result<String, tonic::Status> {
    let text = client.say(Ping { text: "a".into(), ..Default::default() }).await.map_err(connect_shim::status::to_status)?.into_owned().text;
    Ok(text)
}
"#,
    );
    assert_eq!(items, vec![]);
}

#[test]
fn scalar_field_read_in_a_match_arm_goes_through_the_view() {
    let items = check_step(
        r#"use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;

async fn call(client: &mut EchoClient<Channel>) -> bool {
    match client.say(Ping::default()).await {
        Ok(reply) if reply.get_ref().n == 1 => true,
        _ => false,
    }
}
"#,
        r#"use crate::pb::EchoClient;
use crate::pb::Ping;

async fn call(client: &mut EchoClient<connectrpc::client::HttpClient>) -> bool {
    match client.say(Ping::default()).await.map_err(connect_shim::status::to_status) {
        Ok(reply) if reply.view().n == 1 => true,
        _ => false,
    }
}
"#,
    );
    assert_eq!(items, vec![]);
}

#[test]
fn unary_call_whose_response_is_not_understood_stays_tonic_shaped_and_is_listed() {
    let items = check_step(
        r#"use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;

async fn kept(client: &mut EchoClient<Channel>) {
    let reply = client.say(Ping::default()).await;
    println!("{reply:?}");
}
"#,
        r#"use crate::pb::EchoClient;
use crate::pb::Ping;

async fn kept(client: &mut EchoClient<connectrpc::client::HttpClient>) {
    let reply = connect_shim::client::tonic_unary(Ping::default(), |request, options| client.say_with_options(request, options)).await;
    println!("{reply:?}");
}
"#,
    );
    assert_eq!(
        items,
        vec![(6, "step06/unary-call".to_string(), ItemKind::Manual)]
    );
}

#[test]
fn streaming_call_stays_on_the_shim_wrapper_and_is_listed_for_step_8() {
    let items = check_step(
        r#"use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;
use tonic::transport::Channel;

async fn stream(client: &mut EchoClient<Channel>) -> Result<(), tonic::Status> {
    let mut s = client.watch(Ping::default()).await?.into_inner();
    while let Some(_pong) = s.message().await? {}
    Ok(())
}
"#,
        r#"use crate::pb::EchoClient;
use crate::pb::Ping;

async fn stream(client: &mut EchoClient<connectrpc::client::HttpClient>) -> Result<(), tonic::Status> {
    let mut s = connect_shim::client::tonic_server_stream(Ping::default(), |request, options| client.watch_with_options(request, options)).await?.into_inner();
    while let Some(_pong) = s.message().await? {}
    Ok(())
}
"#,
    );
    assert_eq!(
        items,
        vec![(6, "step06/streaming-call".to_string(), ItemKind::Manual)]
    );
}

#[test]
fn a_method_of_the_same_name_on_another_type_is_left_alone() {
    let before = r#"use crate::pb::Ping;

struct Other;
impl Other {
    fn say(&self, _: Ping) {}
}
fn other(o: Other) {
    o.say(Ping::default());
}
"#;
    let items = check_step(before, before);
    assert_eq!(items, vec![]);
}

/// A service named alike in two packages, each generated into the user's own module: the path
/// (`crate::api::echo_client::EchoClient`) cannot tell the two apart, the module's package
/// can. Before, the client was neither migrated nor listed (agones: 0 edits, 0 items).
#[test]
fn a_client_under_a_module_holding_one_of_two_packages_with_that_service_is_migrated() {
    let alpha = "syntax = \"proto3\";\npackage echo.v1.alpha;\nmessage Ping {}\nservice Echo { rpc Say(Ping) returns (Ping); }\n";
    let schema =
        Schema::from_sources(&[("echo/v1/echo.proto", PROTO), ("alpha.proto", alpha)], 2).unwrap();
    let meta = meta_of(
        schema,
        &[("api", "echo.v1"), ("alpha_api", "echo.v1.alpha")],
    );
    let before = "use crate::api::echo_client::EchoClient;\nuse tonic::transport::Channel;\n\npub struct App {\n    client: EchoClient<Channel>,\n}\n";
    let (got, items) = run_in(before, &meta);
    assert_eq!(
        got,
        "use crate::api::EchoClient;\n\npub struct App {\n    client: EchoClient<connectrpc::client::HttpClient>,\n}\n"
    );
    assert_eq!(items, vec![]);
    assert_eq!(run_in(&got, &meta).0, got, "a second run changes nothing");
}

/// [`run`] with the file indexed as the whole crate (struct fields' and functions' declared
/// types come from the crate symbol index).
fn run_indexed(before: &str) -> (String, Vec<(usize, String, ItemKind)>) {
    let mut m = meta();
    let file = syn::parse_file(before).unwrap();
    let root = ["crate".to_string()];
    m.symbols = Some(crate::index::FileSymbols {
        index: Arc::new(crate::index::CrateIndex::build([(Some(&root[..]), &file)])),
        slot: None,
    });
    run_in(before, &m)
}

#[test]
fn calls_through_a_struct_field_are_native_and_their_errors_still_convert_from_status() {
    let before = r#"use crate::pb::echo_client::EchoClient;
use crate::pb::Ping;

pub enum Error {
    Rpc(tonic::Status),
}

impl From<tonic::Status> for Error {
    fn from(s: tonic::Status) -> Self {
        Error::Rpc(s)
    }
}

fn ping() -> Ping {
    Ping::default()
}

#[derive(Clone)]
pub struct App {
    client: EchoClient<connectrpc::client::HttpClient>,
}

impl App {
    async fn text(&mut self) -> Result<String, Error> {
        Ok(self.client.say(ping()).await.map(|r| r.into_inner().text)?)
    }

    async fn from_a_clone(&self) -> Result<(), Error> {
        let app = self.clone();
        let mut c = app.client.clone();
        c.say(tonic::Request::new(Ping::default())).await.map(|_| ())?;
        Ok(())
    }
}
"#;
    let (got, items) = run_indexed(before);
    assert!(
        got.contains("Ok(self.client.say(ping()).await.map_err(connect_shim::status::to_status).map(|r| r.into_owned().text)?)"),
        "{got}"
    );
    assert!(
        got.contains(
            "c.say(Ping::default()).await.map_err(connect_shim::status::to_status).map(|_| ())?;"
        ),
        "{got}"
    );
    assert_eq!(items, vec![]);
    let (again, _) = run_indexed(&got);
    assert_eq!(again, got, "a second run changed the text");
}

#[test]
fn a_client_type_follows_a_construction_kept_on_the_tonic_channel() {
    let (got, items) = run_indexed(
        r#"use crate::pb::echo_client::EchoClient;
use tonic::transport::Channel;

pub struct App {
    client: EchoClient<Channel>,
}

impl App {
    pub fn new(ch: Channel) -> Self {
        Self { client: EchoClient::new(ch) }
    }
}
"#,
    );
    assert!(
        got.contains("client: EchoClient<connect_shim::client::ChannelTransport<Channel>>,"),
        "{got}"
    );
    assert!(
        got.contains("EchoClient::new(connect_shim::client::ChannelTransport::new(ch), connect_shim::client::channel_config())"),
        "{got}"
    );
    let kept: Vec<_> = items.iter().map(|(l, r, _)| (*l, r.as_str())).collect();
    assert_eq!(
        kept,
        vec![
            (5, "step06/channel-transport"),
            (10, "step06/channel-transport")
        ]
    );
}

/// A client built on the crate's own tower service over a channel (etcd-client's
/// `AuthService<Channel>`): the construction is wrapped in `ChannelTransport`, and so is the
/// service in the client's types; a generic parameter is left alone.
#[test]
fn a_client_type_on_the_crates_own_channel_service_is_wrapped_like_its_construction() {
    let before = r#"use crate::pb::echo_client::EchoClient;
use crate::auth::AuthService;
use tonic::transport::Channel;

pub struct App {
    client: EchoClient<AuthService<Channel>>,
}

pub struct Any<T> {
    client: EchoClient<T>,
}

impl App {
    pub fn new(ch: Channel) -> Self {
        Self { client: EchoClient::new(AuthService::new(ch)) }
    }
}
"#;
    let (got, items) = run_indexed(before);
    assert!(
        got.contains(
            "client: EchoClient<connect_shim::client::ChannelTransport<AuthService<Channel>>>,"
        ),
        "{got}"
    );
    assert!(got.contains("client: EchoClient<T>,"), "{got}");
    assert!(
        got.contains("EchoClient::new(connect_shim::client::ChannelTransport::new(AuthService::new(ch)), connect_shim::client::channel_config())"),
        "{got}"
    );
    let kept: Vec<_> = items.iter().map(|(l, r, _)| (*l, r.as_str())).collect();
    assert_eq!(
        kept,
        vec![
            (6, "step06/channel-transport"),
            (15, "step06/channel-transport")
        ]
    );
    let (again, _) = run_indexed(&got);
    assert_eq!(again, got, "a second run changed the text");
}

const BEFORE_DEBUG: &str = r#"use crate::pb::echo_client::EchoClient;
use tonic::transport::Channel;

#[derive(Clone, Debug)]
pub struct App {
    client: EchoClient<Channel>,
    name: String,
}

mod inner {
    #[derive(Debug)]
    pub struct Pair(pub Option<crate::pb::echo_client::EchoClient<tonic::transport::Channel>>, pub u32);
}

#[derive(Debug)]
pub struct Plain {
    name: String,
}
"#;

#[test]
fn a_struct_deriving_debug_with_a_client_field_gets_a_debug_impl_without_it() {
    let items = check_step(
        BEFORE_DEBUG,
        r#"use crate::pb::EchoClient;

#[derive(Clone)]
pub struct App {
    client: EchoClient<connectrpc::client::HttpClient>,
    name: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("name", &self.name).finish_non_exhaustive()
    }
}

mod inner {
    pub struct Pair(pub Option<crate::pb::EchoClient<connectrpc::client::HttpClient>>, pub u32);

    impl std::fmt::Debug for Pair {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_tuple("Pair").field(&self.1).finish_non_exhaustive()
        }
    }
}

#[derive(Debug)]
pub struct Plain {
    name: String,
}
"#,
    );
    let debug: Vec<_> = items
        .iter()
        .filter(|(_, r, _)| r == "step06/client-debug")
        .map(|(l, _, k)| (*l, *k))
        .collect();
    assert_eq!(debug, vec![(5, ItemKind::Manual), (12, ItemKind::Manual)]);
    // A second run finds the impls it wrote and lists the structs again.
    let (after, _) = run(BEFORE_DEBUG);
    let (_, again) = run(&after);
    let relisted: Vec<_> = again
        .iter()
        .filter(|(_, r, _)| r == "step06/client-debug")
        .map(|(l, _, _)| *l)
        .collect();
    assert_eq!(relisted, vec![4, 16]);
}

#[test]
fn a_generic_struct_deriving_debug_with_a_client_field_is_listed() {
    let before = r#"use crate::pb::echo_client::EchoClient;

#[derive(Debug)]
pub struct App<T> {
    client: EchoClient<T>,
}
"#;
    let (after, items) = run(before);
    assert!(after.contains("#[derive(Debug)]"), "{after}");
    assert!(
        items
            .iter()
            .any(|(l, r, k)| *l == 4 && r == "step06/client-debug" && *k == ItemKind::Manual),
        "{items:?}"
    );
}
