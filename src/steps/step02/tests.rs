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

#[test]
fn debug_registration() {
    let before = "use crate::pb::echo_server::EchoServer;\nfn main() {\n    let s = EchoServer::new(Svc::default());\n}\n";
    let all = steps::all().unwrap();
    let step = steps::get(&all, 2);
    let meta = FileMeta {
        module_path: Some(vec!["crate".into()]),
        crate_ctx: Some(ctx()),
        ..Default::default()
    };
    println!("{:?}", process(step, before, &meta));
}
