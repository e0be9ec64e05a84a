//! The servers of the fixture trees from step 5 on (`fixtures/<name>/step-N/`, N >= 5, whatever
//! steps exist) answer clients we did not write:
//!
//! - Python `grpcio` (`tests/interop/grpc_client.py`): unary and all streaming kinds, error codes
//!   and messages, metadata, error details, health and reflection v1 and v1alpha;
//! - `curl` speaking the Connect protocol with JSON on unary methods (answers and error JSON);
//! - `curl` speaking gRPC-Web (a framed binary body; the response's data and trailer frames are
//!   decoded here).
//!
//! Builds are shared with `tests/fixture_builds.rs`: binaries it built from the same inputs are
//! reused without running cargo ([`support::cached_bins`]). The Python packages
//! (`tests/interop/requirements.txt`) go into a virtual environment under `target/interop/`,
//! created once and reused while the requirements are unchanged. `python3` (with `venv`) and
//! `curl` must be installed (`.ci/run` installs them); the interpreter can be chosen with
//! `$INTEROP_PYTHON`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{
    bin_path, cached_bins, fixture_steps, protoc, protoc_include, repo_root, run_with_timeout,
    spawn_server, ServerProcess,
};

/// The first step whose server is expected to speak Connect and gRPC-Web.
const FIRST_STEP: u32 = 5;
/// How long the virtual environment may take to set up (downloads included).
const VENV_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long one run of the Python client may take.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(120);
const TOKEN: &str = "dev-token";

// --- fixture trees, binaries, schemas ---------------------------------------------------------

/// The trees of fixture `name` from [`FIRST_STEP`] on; there must be at least one.
fn interop_trees(name: &str) -> Vec<(u32, PathBuf)> {
    let trees: Vec<_> = fixture_steps(name)
        .into_iter()
        .filter(|(n, _)| *n >= FIRST_STEP)
        .collect();
    assert!(
        !trees.is_empty(),
        "fixtures/{name} has no step-{FIRST_STEP} tree or later"
    );
    trees
}

/// Starts the `<name>-server` binary of `tree` (built, or reused from an earlier build).
fn start_server(tree: &Path, name: &str) -> ServerProcess {
    let started = Instant::now();
    let bins = cached_bins(tree);
    let server = bin_path(&bins, &format!("{name}-server"));
    assert!(server.is_file(), "{} has no {name}-server", tree.display());
    println!(
        "{}: binaries ready in {:?}",
        tree.display(),
        started.elapsed()
    );
    spawn_server(&server, &[])
}

/// A `FileDescriptorSet` (imports included) of the `.proto` files under `tree`/`proto_root`,
/// made with the vendored `protoc`.
fn descriptor_set(tree: &Path, proto_root: &str, label: &str) -> PathBuf {
    fn protos(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
            let path = entry.expect("read_dir entry").path();
            let name = path.file_name().expect("file name").to_owned();
            if path.is_dir() {
                protos(&path, &rel.join(&name), out);
            } else if path.extension().is_some_and(|e| e == "proto") {
                out.push(rel.join(&name));
            }
        }
    }
    let root = tree.join(proto_root);
    let mut files = Vec::new();
    protos(&root, Path::new(""), &mut files);
    files.sort();
    assert!(
        !files.is_empty(),
        "no .proto files under {}",
        root.display()
    );

    let out_dir = repo_root().join("target").join("interop");
    fs::create_dir_all(&out_dir).expect("create target/interop");
    let out = out_dir.join(format!("{label}.pb"));
    let run = run_with_timeout(
        Command::new(protoc())
            .arg("--include_imports")
            .arg(format!("--descriptor_set_out={}", out.display()))
            .arg(format!("-I{}", root.display()))
            .arg(format!("-I{}", protoc_include().display()))
            .args(&files),
        Duration::from_secs(60),
    );
    assert!(
        run.success(),
        "protoc failed for {}\n{}",
        root.display(),
        run.describe()
    );
    out
}

// --- Python grpcio --------------------------------------------------------------------------

/// The interpreter of the virtual environment with the packages of `requirements.txt`,
/// created on first use (and again whenever the requirements change).
fn venv_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let requirements = repo_root().join("tests/interop/requirements.txt");
        let wanted = fs::read_to_string(&requirements)
            .unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));
        let venv = repo_root().join("target").join("interop").join("venv");
        let python = venv.join("bin").join("python");
        let stamp = venv.join("installed-requirements.txt");
        if python.is_file() && fs::read_to_string(&stamp).ok().as_deref() == Some(&wanted) {
            return python;
        }

        let started = Instant::now();
        if venv.exists() {
            fs::remove_dir_all(&venv).expect("remove the old virtual environment");
        }
        let base = std::env::var_os("INTEROP_PYTHON").unwrap_or_else(|| "python3".into());
        let created = run_with_timeout(
            Command::new(&base).args(["-m", "venv"]).arg(&venv),
            VENV_TIMEOUT,
        );
        assert!(
            created.success(),
            "cannot create a virtual environment with {base:?} (python3 and its venv module are \
             needed; .ci/run installs them)\n{}",
            created.describe()
        );
        let installed = run_with_timeout(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(["--only-binary", ":all:", "-r"])
                .arg(&requirements),
            VENV_TIMEOUT,
        );
        assert!(
            installed.success(),
            "pip install -r {} failed\n{}",
            requirements.display(),
            installed.describe()
        );
        fs::write(&stamp, &wanted).expect("record the installed requirements");
        println!("virtual environment ready in {:?}", started.elapsed());
        python
    })
}

/// Runs the checks of `scenario` in `tests/interop/grpc_client.py` against `server`.
fn grpcio(scenario: &str, server: &ServerProcess, descriptors: &Path, label: &str) {
    let script = repo_root().join("tests/interop/grpc_client.py");
    let started = Instant::now();
    let out = run_with_timeout(
        Command::new(venv_python())
            .arg(&script)
            .arg(scenario)
            .arg(server.addr.to_string())
            .arg(descriptors),
        PYTHON_TIMEOUT,
    );
    assert!(
        out.success(),
        "{label}: grpcio checks failed\n{}\n--- server stderr ---\n{}",
        out.describe(),
        server.stderr()
    );
    let checks = out.stdout.lines().filter(|l| l.starts_with("ok ")).count();
    assert!(
        checks > 0,
        "{label}: the grpcio client ran no check\n{}",
        out.describe()
    );
    println!(
        "{label}: grpcio, {checks} checks in {:?}\n{}",
        started.elapsed(),
        out.stdout
    );
}

// --- curl -----------------------------------------------------------------------------------

/// An HTTP response as curl received it.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// `curl -X POST <url>` with `headers` and `body`.
fn curl_post(url: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let dir = tempfile::tempdir().expect("temporary directory");
    let request = dir.path().join("request");
    let response_headers = dir.path().join("headers");
    let response_body = dir.path().join("body");
    fs::write(&request, body).expect("write the request body");

    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--max-time", "10", "-X", "POST"])
        .arg("--data-binary")
        .arg(format!("@{}", request.display()))
        .arg("--dump-header")
        .arg(&response_headers)
        .arg("--output")
        .arg(&response_body)
        .args(["--write-out", "%{http_code}"]);
    for (name, value) in headers {
        cmd.arg("-H").arg(format!("{name}: {value}"));
    }
    cmd.arg(url);
    let out = run_with_timeout(&mut cmd, Duration::from_secs(30));
    assert!(
        out.success(),
        "curl {url} failed (is curl installed?)\n{}",
        out.describe()
    );

    let head = fs::read_to_string(&response_headers).expect("read the response headers");
    // The last header block (after any interim 1xx response).
    let block = head
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or_default();
    let headers = block
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            Some((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        })
        .collect();
    Reply {
        status: out.stdout.trim().parse().expect("curl's %{http_code}"),
        headers,
        body: fs::read(&response_body).unwrap_or_default(),
    }
}

/// A Connect unary call with a JSON body.
fn connect_json(
    server: &ServerProcess,
    path: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> Reply {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    curl_post(
        &format!("{}{path}", server.url()),
        &all,
        body.to_string().as_bytes(),
    )
}

/// Checks a Connect success: HTTP 200, JSON content type, returns the JSON message.
fn connect_ok(label: &str, reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{label}: HTTP status of {reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{label}: {reply:?}"
    );
    reply.json()
}

/// Checks a Connect error: the HTTP status and the JSON `code` and `message`.
fn connect_error(
    label: &str,
    reply: &Reply,
    http: u16,
    code: &str,
    message: Option<&str>,
) -> Value {
    assert_eq!(reply.status, http, "{label}: HTTP status of {reply:?}");
    assert_eq!(
        reply.header("content-type"),
        Some("application/json"),
        "{label}: {reply:?}"
    );
    let error = reply.json();
    assert_eq!(error["code"], code, "{label}: {error}");
    if let Some(message) = message {
        assert_eq!(error["message"], message, "{label}: {error}");
    }
    error
}

// --- gRPC-Web ---------------------------------------------------------------------------------

/// What a gRPC-Web response carried.
#[derive(Debug)]
struct GrpcWeb {
    /// The messages of the data frames.
    messages: Vec<Vec<u8>>,
    /// The status: from the trailer frame, else from the headers (trailers-only response).
    status: Option<u32>,
    message: Option<String>,
    reply: Reply,
}

/// A gRPC-Web call (`application/grpc-web+proto`) with one request message.
fn grpc_web(
    server: &ServerProcess,
    path: &str,
    headers: &[(&str, &str)],
    message: &[u8],
) -> GrpcWeb {
    let mut all = vec![
        ("content-type", "application/grpc-web+proto"),
        ("x-grpc-web", "1"),
    ];
    all.extend_from_slice(headers);
    let reply = curl_post(&format!("{}{path}", server.url()), &all, &frame(0, message));
    assert_eq!(
        reply.status, 200,
        "gRPC-Web {path}: HTTP status of {reply:?}"
    );

    let mut messages = Vec::new();
    let mut trailers: Option<Vec<(String, String)>> = None;
    let mut rest = &reply.body[..];
    while !rest.is_empty() {
        assert!(
            rest.len() >= 5,
            "gRPC-Web {path}: truncated frame header in {:?}",
            reply.body
        );
        let flags = rest[0];
        let len = u32::from_be_bytes(rest[1..5].try_into().unwrap()) as usize;
        assert!(
            rest.len() >= 5 + len,
            "gRPC-Web {path}: truncated frame in {:?}",
            reply.body
        );
        let payload = &rest[5..5 + len];
        rest = &rest[5 + len..];
        assert_eq!(
            flags & 0x01,
            0,
            "gRPC-Web {path}: compressed frame, none was asked for"
        );
        if flags & 0x80 != 0 {
            assert!(trailers.is_none(), "gRPC-Web {path}: two trailer frames");
            assert!(
                rest.is_empty(),
                "gRPC-Web {path}: frames after the trailers"
            );
            let text = std::str::from_utf8(payload).expect("trailers are text");
            trailers = Some(
                text.split("\r\n")
                    .filter(|l| !l.is_empty())
                    .map(|l| {
                        let (k, v) = l
                            .split_once(':')
                            .unwrap_or_else(|| panic!("bad trailer line {l:?}"));
                        (k.trim().to_ascii_lowercase(), v.trim().to_owned())
                    })
                    .collect(),
            );
        } else {
            assert!(
                trailers.is_none(),
                "gRPC-Web {path}: data after the trailers"
            );
            messages.push(payload.to_vec());
        }
    }
    let find = |key: &str| -> Option<String> {
        match &trailers {
            Some(t) => t.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()),
            None => reply.header(key).map(str::to_owned),
        }
    };
    GrpcWeb {
        status: find("grpc-status").map(|s| s.parse().expect("numeric grpc-status")),
        message: find("grpc-message").map(|m| percent_decode(&m)),
        messages,
        reply,
    }
}

/// A gRPC(-Web) length-prefixed frame.
fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![flags];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Protobuf wire format, by hand: enough for the fields these tests send and read.
mod pb {
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    /// A string (or bytes, or message) field.
    pub fn string(field: u32, value: &str) -> Vec<u8> {
        bytes(field, value.as_bytes())
    }

    pub fn bytes(field: u32, value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(u64::from(field) << 3 | 2, &mut out);
        varint(value.len() as u64, &mut out);
        out.extend_from_slice(value);
        out
    }

    /// A varint field (int32, uint32, enum, bool ...).
    pub fn uint(field: u32, value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        varint(u64::from(field) << 3, &mut out);
        varint(value, &mut out);
        out
    }

    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        Varint(u64),
        Fixed64([u8; 8]),
        Bytes(Vec<u8>),
        Fixed32([u8; 4]),
    }

    fn read_varint(buf: &[u8], pos: &mut usize) -> u64 {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *buf.get(*pos).expect("truncated varint");
            *pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return v;
            }
        }
        panic!("varint too long")
    }

    /// The fields of a message, in wire order.
    pub fn decode(buf: &[u8]) -> Vec<(u32, Value)> {
        let mut fields = Vec::new();
        let mut pos = 0;
        while pos < buf.len() {
            let key = read_varint(buf, &mut pos);
            let field = (key >> 3) as u32;
            let value = match key & 7 {
                0 => Value::Varint(read_varint(buf, &mut pos)),
                1 => {
                    let v = buf[pos..pos + 8].try_into().expect("truncated fixed64");
                    pos += 8;
                    Value::Fixed64(v)
                }
                2 => {
                    let len = read_varint(buf, &mut pos) as usize;
                    let v = buf.get(pos..pos + len).expect("truncated field").to_vec();
                    pos += len;
                    Value::Bytes(v)
                }
                5 => {
                    let v = buf[pos..pos + 4].try_into().expect("truncated fixed32");
                    pos += 4;
                    Value::Fixed32(v)
                }
                wire => panic!("unexpected wire type {wire} (field {field})"),
            };
            fields.push((field, value));
        }
        fields
    }

    /// The last value of `field` as bytes (a proto3 default when absent).
    pub fn get_bytes(fields: &[(u32, Value)], field: u32) -> Vec<u8> {
        match fields.iter().rev().find(|(f, _)| *f == field) {
            Some((_, Value::Bytes(b))) => b.clone(),
            Some((_, other)) => panic!("field {field} is not length-delimited: {other:?}"),
            None => Vec::new(),
        }
    }

    pub fn get_string(fields: &[(u32, Value)], field: u32) -> String {
        String::from_utf8(get_bytes(fields, field)).expect("UTF-8 string field")
    }

    pub fn get_uint(fields: &[(u32, Value)], field: u32) -> u64 {
        match fields.iter().rev().find(|(f, _)| *f == field) {
            Some((_, Value::Varint(v))) => *v,
            Some((_, other)) => panic!("field {field} is not a varint: {other:?}"),
            None => 0,
        }
    }

    /// Every value of a repeated string field.
    pub fn get_strings(fields: &[(u32, Value)], field: u32) -> Vec<String> {
        fields
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, v)| match v {
                Value::Bytes(b) => String::from_utf8(b.clone()).expect("UTF-8 string field"),
                other => panic!("field {field} is not length-delimited: {other:?}"),
            })
            .collect()
    }
}

// --- the scenarios ----------------------------------------------------------------------------

#[test]
fn greeter() {
    for (n, tree) in interop_trees("greeter") {
        let label = format!("greeter/step-{n}");
        let server = start_server(&tree, "greeter");
        let descriptors = descriptor_set(&tree, "proto", &format!("greeter__step-{n}"));
        grpcio("greeter", &server, &descriptors, &label);

        // Connect, JSON.
        let hello = "/helloworld.Greeter/SayHello";
        let goodbye = "/helloworld.Greeter/SayGoodbye";
        let reply = connect_json(&server, hello, &[], json!({"name": "Ferris"}));
        assert_eq!(
            connect_ok(&label, &reply),
            json!({"message": "Hello Ferris!"}),
            "{label}"
        );
        let reply = connect_json(&server, goodbye, &[], json!({"name": "Ferris", "times": 2}));
        assert_eq!(
            connect_ok(&label, &reply),
            json!({"lines": ["Goodbye Ferris (1)", "Goodbye Ferris (2)"]}),
            "{label}"
        );
        let reply = connect_json(&server, hello, &[], json!({"name": ""}));
        connect_error(
            &label,
            &reply,
            400,
            "invalid_argument",
            Some("name must not be empty"),
        );
        let reply = connect_json(&server, goodbye, &[], json!({"name": "Ferris", "times": 9}));
        connect_error(
            &label,
            &reply,
            400,
            "out_of_range",
            Some("times must be at most 5, got 9"),
        );
        let reply = connect_json(&server, "/helloworld.Greeter/SayNothing", &[], json!({}));
        assert_eq!(reply.status, 404, "{label}: unknown method: {reply:?}");
        println!("{label}: Connect JSON ok");

        // gRPC-Web: HelloRequest { name = 1 } -> HelloReply { message = 1 }.
        let web = grpc_web(&server, hello, &[], &pb::string(1, "Ferris"));
        assert!(
            web.reply
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/grpc-web")),
            "{label}: {web:?}"
        );
        assert_eq!(web.status, Some(0), "{label}: {web:?}");
        assert_eq!(web.messages.len(), 1, "{label}: {web:?}");
        assert_eq!(
            pb::get_string(&pb::decode(&web.messages[0]), 1),
            "Hello Ferris!",
            "{label}"
        );
        let web = grpc_web(&server, hello, &[], &[]);
        assert_eq!(
            web.status,
            Some(3),
            "{label}: empty name over gRPC-Web: {web:?}"
        );
        assert_eq!(
            web.message.as_deref(),
            Some("name must not be empty"),
            "{label}"
        );
        assert!(web.messages.is_empty(), "{label}: {web:?}");
        println!("{label}: gRPC-Web ok");
    }
}

/// The transit guide of `routes` (and of `legacy`, the same service from a tonic 0.12 start).
fn transit(fixture: &str) {
    for (n, tree) in interop_trees(fixture) {
        let label = format!("{fixture}/step-{n}");
        let server = start_server(&tree, fixture);
        let descriptors = descriptor_set(&tree, "proto", &format!("{fixture}__step-{n}"));
        grpcio("routes", &server, &descriptors, &label);

        // Connect, JSON.
        let get_stop = "/transit.v1.TransitGuide/GetStop";
        let reply = connect_json(&server, get_stop, &[], json!({"id": "harbour"}));
        assert_eq!(
            connect_ok(&label, &reply),
            json!({
                "id": "harbour",
                "name": "Harbour",
                "position": {"latitudeE7": 523_767_000, "longitudeE7": 49_214_000},
                "lines": ["12"],
            }),
            "{label}"
        );
        let reply = connect_json(&server, get_stop, &[], json!({"id": "moon"}));
        connect_error(
            &label,
            &reply,
            404,
            "not_found",
            Some("no stop with id \"moon\""),
        );
        println!("{label}: Connect JSON ok");

        // gRPC-Web, server streaming: ListDeparturesRequest { stop_id = 1, limit = 2 } ->
        // Departure { line = 1, destination = 2, minutes = 3 } frames.
        let request = [pb::string(1, "central"), pb::uint(2, 2)].concat();
        let web = grpc_web(
            &server,
            "/transit.v1.TransitGuide/ListDepartures",
            &[],
            &request,
        );
        assert_eq!(web.status, Some(0), "{label}: {web:?}");
        let departures: Vec<(String, String, u64)> = web
            .messages
            .iter()
            .map(|m| {
                let f = pb::decode(m);
                (
                    pb::get_string(&f, 1),
                    pb::get_string(&f, 2),
                    pb::get_uint(&f, 3),
                )
            })
            .collect();
        assert_eq!(
            departures,
            [
                ("12".into(), "Harbour".into(), 3),
                ("2".into(), "Old Town".into(), 5)
            ],
            "{label}"
        );
        // A mid-stream error: one departure, then UNAVAILABLE in the trailer frame.
        let web = grpc_web(
            &server,
            "/transit.v1.TransitGuide/ListDepartures",
            &[],
            &pb::string(1, "depot"),
        );
        assert_eq!(web.messages.len(), 1, "{label}: {web:?}");
        assert_eq!(web.status, Some(14), "{label}: {web:?}");
        assert_eq!(
            web.message.as_deref(),
            Some("departure board at Depot is offline"),
            "{label}"
        );
        println!("{label}: gRPC-Web ok");
    }
}

#[test]
fn routes() {
    transit("routes");
}

#[test]
fn legacy() {
    transit("legacy");
}

#[test]
fn platform() {
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("authorization", bearer.as_str())];
    for (n, tree) in interop_trees("platform") {
        let label = format!("platform/step-{n}");
        let server = start_server(&tree, "platform");
        let descriptors = descriptor_set(&tree, "proto/proto", &format!("platform__step-{n}"));
        grpcio("platform", &server, &descriptors, &label);

        // Connect, JSON: health, then the catalog with the token.
        let check = "/grpc.health.v1.Health/Check";
        let service = "platform.catalog.v1.CatalogService";
        let reply = connect_json(&server, check, &[], json!({"service": service}));
        assert_eq!(
            connect_ok(&label, &reply),
            json!({"status": "SERVING"}),
            "{label}"
        );
        let reply = connect_json(&server, check, &[], json!({"service": "no.such.Service"}));
        connect_error(&label, &reply, 404, "not_found", None);

        let get_item = "/platform.catalog.v1.CatalogService/GetItem";
        let reply = connect_json(&server, get_item, &auth, json!({"id": "sku-200"}));
        let item = &connect_ok(&label, &reply)["item"];
        assert_eq!(item["name"], "Latte art e-book", "{label}: {item}");
        assert_eq!(item["kind"], "ITEM_KIND_DIGITAL", "{label}: {item}");
        assert_eq!(
            item["price"],
            json!({"currencyCode": "EUR", "units": "9", "nanos": 990000000}),
            "{label}"
        );
        assert_eq!(
            item["downloadUrl"], "https://downloads.example.invalid/latte.epub",
            "{label}"
        );
        assert_eq!(item["createdAt"], "2023-11-14T22:13:20Z", "{label}");
        assert!(
            item.get("stock").is_none(),
            "{label}: unset optional stock: {item}"
        );
        let reply = connect_json(&server, get_item, &auth, json!({"id": "nope"}));
        let error = connect_error(
            &label,
            &reply,
            404,
            "not_found",
            Some("item nope not found"),
        );
        assert_eq!(
            error["details"][0]["type"], "google.rpc.ResourceInfo",
            "{label}: {error}"
        );
        // Not checked: a call without the token. The catalog is still behind its tonic
        // interceptor at step 5, which answers a Connect client in gRPC (HTTP 200,
        // `content-type: application/grpc`, `grpc-status: 16` in the headers).
        println!("{label}: Connect JSON ok");

        // gRPC-Web on the catalog: GetItemRequest { id = 1 } -> GetItemResponse { item = 1 }
        // with Item { id = 1, name = 2, tags = 10 }.
        let web = grpc_web(&server, get_item, &auth, &pb::string(1, "sku-100"));
        assert_eq!(web.status, Some(0), "{label}: {web:?}");
        assert_eq!(
            web.reply.header("x-served-by"),
            Some("catalog"),
            "{label}: {web:?}"
        );
        assert_eq!(web.messages.len(), 1, "{label}: {web:?}");
        let item = pb::decode(&pb::get_bytes(&pb::decode(&web.messages[0]), 1));
        assert_eq!(pb::get_string(&item, 1), "sku-100", "{label}");
        assert_eq!(pb::get_string(&item, 2), "Espresso machine", "{label}");
        assert_eq!(
            pb::get_strings(&item, 10),
            ["coffee", "appliance"],
            "{label}"
        );
        let web = grpc_web(&server, get_item, &[], &pb::string(1, "sku-100"));
        assert_eq!(
            web.status,
            Some(16),
            "{label}: no token over gRPC-Web: {web:?}"
        );
        assert_eq!(
            web.message.as_deref(),
            Some("missing bearer token"),
            "{label}"
        );
        let web = grpc_web(&server, get_item, &auth, &pb::string(1, "nope"));
        assert_eq!(web.status, Some(5), "{label}: {web:?}");
        assert_eq!(
            web.message.as_deref(),
            Some("item nope not found"),
            "{label}"
        );
        println!("{label}: gRPC-Web ok");
    }
}
