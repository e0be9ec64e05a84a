//! Before/after cases of the helper-crate clients through step 6's pass: one per service (the
//! shared walk driven by each table), the listing both share, and the tables that drive them.

use std::sync::Arc;

use crate::context::CrateCtx;
use crate::engine::{process, FileMeta, ItemKind, Outcome};
use crate::steps;

/// The text after step 6, and its items as `(line, rule, kind, message)`.
fn run(before: &str) -> (String, Vec<(usize, String, ItemKind, String)>) {
    let meta = FileMeta {
        module_path: Some(vec!["crate".into()]),
        crate_ctx: Some(Arc::new(CrateCtx::default())),
        ..Default::default()
    };
    let all = steps::all().unwrap();
    match process(steps::get(&all, 6), before, &meta) {
        Outcome::Rewritten {
            new_text, items, ..
        } => (
            new_text.unwrap_or_else(|| before.to_string()),
            items
                .into_iter()
                .map(|i| {
                    let line = crate::edit::line_col(before, i.offset).0;
                    (line, i.rule, i.kind, i.message)
                })
                .collect(),
        ),
        Outcome::NotApplicable => (before.to_string(), vec![]),
        o => panic!("{o:?}"),
    }
}

/// Runs the step on `before`, checks the text is `after` and that a second run changes
/// nothing; returns the items.
#[track_caller]
fn check(before: &str, after: &str) -> Vec<(usize, String, ItemKind, String)> {
    let (got, items) = run(before);
    assert_eq!(got, after, "\n--- got ---\n{got}");
    let (again, _) = run(&got);
    assert_eq!(again, got, "a second run changed the text");
    items
}

#[test]
fn health_client_moves_to_connectrpc_health_by_its_table() {
    let items = check(
        r#"use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

// Is the server up?
async fn up(dst: String) -> Result<bool, Box<dyn std::error::Error>> {
    let mut health = HealthClient::connect(dst).await?;
    let reply = health
        .check(HealthCheckRequest { service: "echo.v1.Echo".into() })
        .await?;
    Ok(reply.into_inner().status() == tonic_health::pb::health_check_response::ServingStatus::Serving)
}
"#,
        r#"use connectrpc_health::HealthClient;
use connectrpc_health::wire::HealthCheckRequest;

// Is the server up?
async fn up(dst: String) -> Result<bool, Box<dyn std::error::Error>> {
    let mut health = HealthClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(dst.parse()?).with_protocol(connectrpc::Protocol::Grpc));
    let reply = health
        .check(HealthCheckRequest { service: "echo.v1.Echo".into(), ..Default::default() })
        .await.map_err(connect_shim::status::to_status)?;
    Ok(reply.into_owned().status.as_known().unwrap_or_default() == connectrpc_health::wire::ServingStatus::Serving)
}
"#,
    );
    assert_eq!(items, vec![]);
}

#[test]
fn reflection_client_moves_to_connectrpc_reflection_by_its_table() {
    // The message names, the oneof and its boxed variant come from the reflection table.
    let items = check(
        r#"use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::{ExtensionRequest, ServerReflectionRequest};

// Ask the server what it serves.
async fn ask(dst: String) -> Result<(), Box<dyn std::error::Error>> {
    let client = ServerReflectionClient::connect(dst).await?;
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingExtension(ExtensionRequest {
            containing_type: "echo.v1.Ping".into(),
            extension_number: 7,
        })),
    };
    let _ = (client, ask);
    Ok(())
}
"#,
        r#"use connectrpc_reflection::ServerReflectionClient;
use connectrpc_reflection::wire::v1::server_reflection_request::MessageRequest;
use connectrpc_reflection::wire::v1::{ExtensionRequest, ServerReflectionRequest};

// Ask the server what it serves.
async fn ask(dst: String) -> Result<(), Box<dyn std::error::Error>> {
    let client = ServerReflectionClient::new(connectrpc::client::HttpClient::plaintext_http2_only(), connectrpc::client::ClientConfig::new(dst.parse()?).with_protocol(connectrpc::Protocol::Grpc));
    let ask = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingExtension(Box::new(ExtensionRequest {
            containing_type: "echo.v1.Ping".into(),
            extension_number: 7,
            ..Default::default()
        }))),
        ..Default::default()
    };
    let _ = (client, ask);
    Ok(())
}
"#,
    );
    assert_eq!(items, vec![]);
}

#[test]
fn a_client_type_over_a_tonic_channel_keeps_it_as_the_transport() {
    let items = check(
        r#"use tonic::transport::Channel;

// The reflection client of the app.
pub struct Helpers {
    pub reflection: tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient<Channel>,
}
"#,
        r#"use tonic::transport::Channel;

// The reflection client of the app.
pub struct Helpers {
    pub reflection: connectrpc_reflection::ServerReflectionClient<connect_shim::client::ChannelTransport<Channel>>,
}
"#,
    );
    assert_eq!(items, vec![]);
}

/// A site either service does not understand leaves its file whole, listed with the service's
/// words (the shared listing of [`super::Common::finish`]).
#[test]
fn sites_not_understood_are_listed_in_each_services_words() {
    let watch = r#"use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn watch(dst: String) -> Result<(), Box<dyn std::error::Error>> {
    let mut health = HealthClient::connect(dst).await?;
    let _stream = health.watch(HealthCheckRequest { service: String::new() }).await?;
    Ok(())
}
"#;
    let items = check(watch, watch);
    assert_eq!(
        items,
        vec![(
            6,
            "step06/health-client".to_string(),
            ItemKind::Manual,
            "tonic-health client site not rewritten: call `watch` on the health client; the file's health client stays on tonic-health (1 site(s))".to_string(),
        )]
    );
    let glob = r#"use tonic_reflection::pb::v1::*;

fn ask() -> ServerReflectionRequest {
    ServerReflectionRequest::default()
}
"#;
    let items = check(glob, glob);
    assert_eq!(
        items,
        vec![(
            1,
            "step06/reflection-client".to_string(),
            ItemKind::Manual,
            "tonic-reflection client site not rewritten: glob import of tonic-reflection's generated module; the file's reflection client stays on tonic-reflection (1 site(s))".to_string(),
        )]
    );
}

#[test]
fn an_ignore_marker_leaves_the_file_alone() {
    let before = r#"// connect-migrate: ignore
use tonic_health::pb::HealthCheckRequest;
"#;
    let items = check(before, before);
    assert_eq!(
        items,
        vec![(
            2,
            "step06/health-client".to_string(),
            ItemKind::Skipped,
            "left alone (ignore marker)".to_string(),
        )]
    );
}
