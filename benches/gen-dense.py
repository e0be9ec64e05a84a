#!/usr/bin/env python3
"""Generate the benchmark's tonic-dense corpus: a synthetic tree of tonic services.

    gen-dense.py OUT [--services N] [--methods M]

Every service is a crate of its own (a Cargo.toml, so files are grouped by package as a real tree
would be) with M methods cycling through the four RPC kinds (unary, server streaming, client
streaming, bidirectional), and:

  src/lib.rs        module tree; the server trait and the client come from `include_proto!`
  src/messages.rs   prost-style messages (structs with #[prost] attributes, enums, builders)
  src/errors.rs     a store error, `impl From<StoreError> for Status`, Status/Code helpers
  src/server.rs     the service impl: request validation, Status constructors, streams
  src/client.rs     a client calling every method and matching on `status.code()`
  src/tests.rs      unit tests of the server (Code assertions)

The output is deterministic (a fixed seed, no clock, sorted iteration): the same arguments give the
same bytes. The code is meant to be parsed and migrated, not compiled (no build script, no proto).
"""

import argparse
import os
import random
import shutil

KINDS = ["unary", "server_streaming", "client_streaming", "bidi"]
CODES = [
    ("InvalidArgument", "invalid_argument"),
    ("NotFound", "not_found"),
    ("AlreadyExists", "already_exists"),
    ("PermissionDenied", "permission_denied"),
    ("FailedPrecondition", "failed_precondition"),
    ("Unavailable", "unavailable"),
    ("Internal", "internal"),
    ("DeadlineExceeded", "deadline_exceeded"),
    ("ResourceExhausted", "resource_exhausted"),
    ("Unauthenticated", "unauthenticated"),
    ("OutOfRange", "out_of_range"),
    ("Aborted", "aborted"),
    ("Cancelled", "cancelled"),
]
FIELD_TYPES = [
    ("string", "String", "::prost::alloc::string::String", '"x".to_string()'),
    ("int64", "i64", "i64", "42"),
    ("uint32", "u32", "u32", "7"),
    ("bool", "bool", "bool", "true"),
    ("bytes", "bytes", "::prost::alloc::vec::Vec<u8>", "vec![1, 2, 3]"),
    ("double", "double", "f64", "1.5"),
]
WORDS = [
    "account", "order", "invoice", "shipment", "ticket", "session", "profile", "ledger",
    "report", "policy", "quota", "route", "device", "metric", "alert", "catalog", "review",
    "payment", "stock", "token", "member", "channel", "booking", "asset",
]


def camel(s):
    return "".join(p[:1].upper() + p[1:] for p in s.split("_"))


class Method:
    def __init__(self, rng, i):
        self.kind = KINDS[i % 4]
        noun = WORDS[(i * 7 + 3) % len(WORDS)]
        verb = ["get", "list", "upload", "sync", "create", "watch", "import", "exchange"][i % 8]
        self.name = f"{verb}_{noun}_{i}"
        self.camel = camel(self.name)
        self.req = f"{self.camel}Request"
        self.resp = f"{self.camel}Response"
        self.fields = [FIELD_TYPES[rng.randrange(len(FIELD_TYPES))] for _ in range(rng.randint(3, 6))]
        self.codes = rng.sample(CODES, 3)

    def req_ty(self):
        if self.kind in ("client_streaming", "bidi"):
            return f"Request<Streaming<{self.req}>>"
        return f"Request<{self.req}>"

    def resp_ty(self):
        if self.kind in ("server_streaming", "bidi"):
            return f"Response<Self::{self.camel}Stream>"
        return f"Response<{self.resp}>"


def gen_lib(svc, tr):
    return [
        f"//! The {tr} service: server, client, messages and errors.",
        "",
        "pub mod client;",
        "pub mod errors;",
        "pub mod messages;",
        "pub mod server;",
        "#[cfg(test)]",
        "mod tests;",
        "",
        "/// The server trait and the client tonic-build generates (in OUT_DIR, not in this tree).",
        "pub mod pb {",
        f'    tonic::include_proto!("{svc}");',
        "}",
        "",
    ]


def gen_messages(methods):
    out = [
        "//! Messages, in the shape prost-build gives them.",
        "",
        "use prost::Message as _;",
        "",
    ]
    for m in methods:
        for name, fields in ((m.req, m.fields), (m.resp, list(reversed(m.fields)))):
            out += [
                "#[derive(Clone, PartialEq, ::prost::Message)]",
                f"pub struct {name} {{",
            ]
            for j, (pty, _, rty, _) in enumerate(fields):
                out += [
                    f'    #[prost({pty}, tag = "{j + 1}")]',
                    f"    pub field_{j}: {rty},",
                ]
            out += [
                '    #[prost(enumeration = "State", tag = "15")]',
                "    pub state: i32,",
                "}",
                "",
                f"impl {name} {{",
                "    /// A filled-in message, for tests and examples.",
                "    pub fn sample() -> Self {",
                "        Self {",
            ]
            for j, (_, _, _, val) in enumerate(fields):
                out.append(f"            field_{j}: {val},")
            out += [
                "            state: State::Active as i32,",
                "        }",
                "    }",
                "",
                "    pub fn encoded_len_hint(&self) -> usize {",
                "        self.encoded_len() + 8",
                "    }",
                "}",
                "",
            ]
    out += [
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ::prost::Enumeration)]",
        "#[repr(i32)]",
        "pub enum State {",
        "    Unspecified = 0,",
        "    Active = 1,",
        "    Suspended = 2,",
        "    Deleted = 3,",
        "}",
        "",
    ]
    return out


def gen_errors(tr):
    out = [
        "//! The store's errors and how they become statuses.",
        "",
        "use tonic::{Code, Status};",
        "",
        "#[derive(Debug)]",
        "pub enum StoreError {",
        "    Missing(String),",
        "    Conflict(String),",
        "    Denied { who: String },",
        "    Busy,",
        "    Corrupt(std::io::Error),",
        "}",
        "",
        "impl From<StoreError> for Status {",
        "    fn from(e: StoreError) -> Self {",
        "        match e {",
        '            StoreError::Missing(what) => Status::not_found(format!("{what} not found")),',
        "            StoreError::Conflict(what) => Status::already_exists(what),",
        '            StoreError::Denied { who } => Status::permission_denied(format!("{who} may not")),',
        '            StoreError::Busy => Status::unavailable("store busy, retry"),',
        "            StoreError::Corrupt(io) => {",
        '                tracing::error!(error = %io, "store corrupt");',
        '                Status::internal("storage failure")',
        "            }",
        "        }",
        "    }",
        "}",
        "",
        f"/// The code a {tr} error maps to, for metrics.",
        "pub fn code_of(e: &StoreError) -> Code {",
        "    match e {",
        "        StoreError::Missing(_) => Code::NotFound,",
        "        StoreError::Conflict(_) => Code::AlreadyExists,",
        "        StoreError::Denied { .. } => Code::PermissionDenied,",
        "        StoreError::Busy => Code::Unavailable,",
        "        StoreError::Corrupt(_) => Code::Internal,",
        "    }",
        "}",
        "",
        "pub fn require(field: &str, present: bool) -> Result<(), Status> {",
        "    if present {",
        "        Ok(())",
        "    } else {",
        '        Err(Status::invalid_argument(format!("{field} is required")))',
        "    }",
        "}",
        "",
        "pub fn deadline(elapsed_ms: u64, budget_ms: u64) -> Result<(), tonic::Status> {",
        "    if elapsed_ms > budget_ms {",
        '        return Err(tonic::Status::deadline_exceeded("budget spent"));',
        "    }",
        "    Ok(())",
        "}",
        "",
        "pub fn with_code(code: Code, msg: &str) -> Status {",
        "    Status::new(code, msg.to_string())",
        "}",
        "",
    ]
    return out


def gen_server(svc, tr, methods):
    out = [
        f"//! The {tr} service implementation.",
        "",
        "use std::pin::Pin;",
        "",
        "use tokio_stream::{Stream, StreamExt};",
        "use tonic::{Code, Request, Response, Status, Streaming};",
        "",
        f"use crate::pb::{svc}_server::{tr};",
        "use crate::errors::{require, with_code, StoreError};",
        "use crate::messages::*;",
        "",
        "#[derive(Debug, Default)]",
        f"pub struct {tr}Impl {{",
        "    pub limit: usize,",
        "}",
        "",
        "type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;",
        "",
        "#[tonic::async_trait]",
        f"impl {tr} for {tr}Impl {{",
    ]
    for m in methods:
        (c1, f1), (c2, f2), (c3, f3) = m.codes
        if m.kind in ("server_streaming", "bidi"):
            out.append(f"    type {m.camel}Stream = BoxStream<{m.resp}>;")
            out.append("")
        out.append(
            f"    async fn {m.name}(&self, request: {m.req_ty()}) -> Result<{m.resp_ty()}, Status> {{"
        )
        if m.kind == "unary":
            out += [
                "        let req = request.into_inner();",
                "        require(\"field_0\", req.state != 0)?;",
                "        if self.limit == 0 {",
                f'            return Err(Status::{f1}("{m.name}: limit is zero"));',
                "        }",
                "        if req.state > 3 {",
                f'            return Err(Status::new(Code::{c2}, "unknown state"));',
                "        }",
                f"        let mut resp = {m.resp}::sample();",
                "        resp.state = req.state;",
                "        if resp.encoded_len_hint() > self.limit {",
                f'            return Err(StoreError::Missing("{m.name}".into()).into());',
                "        }",
                "        Ok(Response::new(resp))",
            ]
        elif m.kind == "server_streaming":
            out += [
                "        let req = request.into_inner();",
                "        if req.state == 0 {",
                f'            return Err(Status::{f1}("state is required"));',
                "        }",
                "        let limit = self.limit;",
                "        let items = (0..limit).map(move |i| {",
                "            if i > 1000 {",
                f'                Err(Status::{f2}(format!("item {{i}} over the cap")))',
                "            } else {",
                f"                let mut r = {m.resp}::sample();",
                "                r.state = (i % 3) as i32;",
                "                Ok(r)",
                "            }",
                "        });",
                "        let stream = tokio_stream::iter(items);",
                f"        Ok(Response::new(Box::pin(stream) as Self::{m.camel}Stream))",
            ]
        elif m.kind == "client_streaming":
            out += [
                "        let mut inbound = request.into_inner();",
                "        let mut count = 0usize;",
                "        while let Some(msg) = inbound.next().await {",
                "            let msg = msg?;",
                "            if msg.state == 0 {",
                f'                return Err(Status::{f1}(format!("message {{count}} has no state")));',
                "            }",
                "            count += 1;",
                "            if count > self.limit {",
                f'                return Err(with_code(Code::{c2}, "too many messages"));',
                "            }",
                "        }",
                "        if count == 0 {",
                f'            return Err(Status::{f3}("empty stream"));',
                "        }",
                f"        let mut resp = {m.resp}::sample();",
                "        resp.state = count as i32;",
                "        Ok(Response::new(resp))",
            ]
        else:
            out += [
                "        let mut inbound = request.into_inner();",
                "        let limit = self.limit;",
                "        let output = async_stream::try_stream! {",
                "            let mut seen = 0usize;",
                "            while let Some(msg) = inbound.next().await {",
                "                let msg = msg?;",
                "                seen += 1;",
                "                if seen > limit {",
                f'                    Err(Status::{f1}("peer sent too much"))?;',
                "                }",
                "                if msg.state < 0 {",
                f'                    Err(Status::new(Code::{c2}, format!("bad state {{}}", msg.state)))?;',
                "                }",
                f"                let mut r = {m.resp}::sample();",
                "                r.state = msg.state;",
                "                yield r;",
                "            }",
                "        };",
                f"        Ok(Response::new(Box::pin(output) as Self::{m.camel}Stream))",
            ]
        out += ["    }", ""]
    out += ["}", ""]
    return out


def gen_client(svc, tr, methods):
    out = [
        f"//! A client of the {tr} service: calls every method and handles its errors.",
        "",
        "use tonic::transport::Channel;",
        "use tonic::{Code, Status};",
        "",
        f"use crate::pb::{svc}_client::{tr}Client;",
        "use crate::messages::*;",
        "",
        "#[derive(Debug)]",
        "pub enum CallError {",
        "    Retry(Status),",
        "    Fatal(Status),",
        "    Missing,",
        "}",
        "",
        "fn classify(status: Status) -> CallError {",
        "    match status.code() {",
        "        Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => CallError::Retry(status),",
        "        Code::NotFound => CallError::Missing,",
        "        Code::Cancelled => CallError::Retry(status),",
        "        _ => CallError::Fatal(status),",
        "    }",
        "}",
        "",
        f"pub async fn connect(url: String) -> Result<{tr}Client<Channel>, Box<dyn std::error::Error>> {{",
        f"    Ok({tr}Client::connect(url).await?)",
        "}",
        "",
    ]
    for m in methods:
        (c1, _), (c2, _), (c3, _) = m.codes
        out.append(f"pub async fn call_{m.name}(client: &mut {tr}Client<Channel>) -> Result<usize, CallError> {{")
        if m.kind in ("client_streaming", "bidi"):
            out += [
                f"    let outbound = tokio_stream::iter(vec![{m.req}::sample(), {m.req}::sample()]);",
                f"    let result = client.{m.name}(outbound).await;",
            ]
        else:
            out += [
                f"    let request = tonic::Request::new({m.req}::sample());",
                f"    let result = client.{m.name}(request).await;",
            ]
        out += [
            "    match result {",
        ]
        if m.kind in ("server_streaming", "bidi"):
            out += [
                "        Ok(response) => {",
                "            let mut stream = response.into_inner();",
                "            let mut n = 0;",
                "            loop {",
                "                match stream.message().await {",
                "                    Ok(Some(_msg)) => n += 1,",
                "                    Ok(None) => break,",
                f"                    Err(status) if status.code() == Code::{c1} => break,",
                "                    Err(status) => return Err(classify(status)),",
                "                }",
                "            }",
                "            Ok(n)",
                "        }",
            ]
        else:
            out += [
                "        Ok(response) => Ok(response.into_inner().state as usize),",
            ]
        out += [
            f"        Err(status) if status.code() == Code::{c2} => {{",
            f'            tracing::warn!(message = status.message(), "{m.name} refused");',
            "            Err(CallError::Fatal(status))",
            "        }",
            "        Err(status) => match status.code() {",
            f"            Code::{c3} => Ok(0),",
            "            Code::Unavailable => Err(CallError::Retry(status)),",
            "            _ => Err(classify(status)),",
            "        },",
            "    }",
            "}",
            "",
        ]
    out += [
        "pub fn is_retryable(err: &tonic::Status) -> bool {",
        "    matches!(err.code(), tonic::Code::Unavailable | tonic::Code::Cancelled)",
        "}",
        "",
    ]
    return out


def gen_tests(tr, methods):
    out = [
        "use tonic::{Code, Request};",
        "",
        "use super::messages::*;",
        f"use super::server::{tr}Impl;",
        "use super::*;",
        "",
    ]
    for m in methods:
        if m.kind != "unary":
            continue
        (c1, _), _, _ = m.codes
        out += [
            "#[tokio::test]",
            f"async fn {m.name}_rejects_a_zero_limit() {{",
            f"    let svc = {tr}Impl {{ limit: 0 }};",
            f"    let mut req = {m.req}::sample();",
            "    req.state = 1;",
            f"    let status = svc.{m.name}(Request::new(req)).await.unwrap_err();",
            f"    assert_eq!(status.code(), Code::{c1});",
            "}",
            "",
        ]
    return out


def write(path, lines):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="\n") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--services", type=int, default=72)
    ap.add_argument("--methods", type=int, default=24)
    a = ap.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    rng = random.Random(20260101)
    total = 0
    for s in range(a.services):
        svc = f"{WORDS[s % len(WORDS)]}_{s:03}"
        tr = camel(svc)
        methods = [Method(rng, i) for i in range(a.methods)]
        root = os.path.join(a.out, svc)
        write(
            os.path.join(root, "Cargo.toml"),
            [
                "[package]",
                f'name = "{svc.replace("_", "-")}"',
                'version = "0.1.0"',
                'edition = "2021"',
                "",
                "[dependencies]",
                'tonic = "0.14"',
                'prost = "0.14"',
                'tokio = { version = "1", features = ["full"] }',
                'tokio-stream = "0.1"',
                'async-stream = "0.3"',
                'tracing = "0.1"',
                'http = "1"',
                "",
            ],
        )
        files = {
            "lib.rs": gen_lib(svc, tr),
            "messages.rs": gen_messages(methods),
            "errors.rs": gen_errors(tr),
            "server.rs": gen_server(svc, tr, methods),
            "client.rs": gen_client(svc, tr, methods),
            "tests.rs": gen_tests(tr, methods),
        }
        for name in sorted(files):
            write(os.path.join(root, "src", name), files[name])
            total += len(files[name])
    print(f"{a.out}: {a.services} services x {a.methods} methods, {a.services * 6} files, {total} lines")


if __name__ == "__main__":
    main()
