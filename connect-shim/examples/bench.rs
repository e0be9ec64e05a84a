//! Requests per second, measured side by side in one run (run with `connect-shim/bench.sh`).
//!
//! 1. tonic server + tonic client on `ProstCodec` (prost messages) vs on `BuffaCodec` (buffa
//!    messages): the cost of step 1.
//! 2. the same connect service served natively (connectrpc router through axum, as step 5 ends)
//!    vs hosted through the shim in `tonic::transport::Server` (`TonicHosted`, step 2): the cost of
//!    hosting. The load generator is a tonic client on `BuffaCodec` (gRPC over h2c) for both.
//!
//! Each setup gets its own server on 127.0.0.1; `CONCURRENCY` tasks share one HTTP/2 connection
//! and call for `SECONDS` each round; rounds alternate between the two sides of a comparison and
//! the median round of each side and the median of the per-round ratios are reported. Two RPCs: `Say` (small message) and `Mirror` (a `Rich` message
//! of about 150 bytes with maps, oneofs, Timestamps).
//!
//! Environment: `BENCH_SECONDS` (default 2), `BENCH_ROUNDS` (default 9), `BENCH_CONCURRENCY`
//! (default 32).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::Stream;
use testsvc::{connect, impls, pb, prostpb};
use tokio::net::TcpListener;
use tonic::{Request, Response, Status, Streaming};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The prost baseline: the same behaviour for `Say` and `Mirror` as `impls::TonicEcho`.
#[derive(Default)]
struct ProstEcho;

type ProstStream = Pin<Box<dyn Stream<Item = Result<prostpb::EchoReply, Status>> + Send>>;

#[tonic::async_trait]
impl prostpb::echo_server::Echo for ProstEcho {
    async fn say(
        &self,
        request: Request<prostpb::EchoRequest>,
    ) -> Result<Response<prostpb::EchoReply>, Status> {
        let m = request.into_inner();
        Ok(Response::new(prostpb::EchoReply {
            text: format!("hello {}", m.text),
            index: m.count,
        }))
    }
    type RepeatStream = ProstStream;
    async fn repeat(
        &self,
        _: Request<prostpb::EchoRequest>,
    ) -> Result<Response<ProstStream>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
    async fn collect(
        &self,
        _: Request<Streaming<prostpb::EchoRequest>>,
    ) -> Result<Response<prostpb::EchoReply>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
    type ChatStream = ProstStream;
    async fn chat(
        &self,
        _: Request<Streaming<prostpb::EchoRequest>>,
    ) -> Result<Response<ProstStream>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
    async fn mirror(
        &self,
        request: Request<prostpb::Rich>,
    ) -> Result<Response<prostpb::Rich>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

/// Exactly `ProstEcho` on buffa messages (`impls::TonicEcho` does extra metadata work for tests).
#[derive(Default)]
struct BuffaEcho;

type BuffaStream = Pin<Box<dyn Stream<Item = Result<connect::EchoReply, Status>> + Send>>;

#[tonic::async_trait]
impl pb::echo_server::Echo for BuffaEcho {
    async fn say(
        &self,
        request: Request<connect::EchoRequest>,
    ) -> Result<Response<connect::EchoReply>, Status> {
        let m = request.into_inner();
        Ok(Response::new(connect::EchoReply {
            text: format!("hello {}", m.text),
            index: m.count,
            ..Default::default()
        }))
    }
    type RepeatStream = BuffaStream;
    async fn repeat(
        &self,
        _: Request<connect::EchoRequest>,
    ) -> Result<Response<BuffaStream>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
    async fn collect(
        &self,
        _: Request<Streaming<connect::EchoRequest>>,
    ) -> Result<Response<connect::EchoReply>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
    type ChatStream = BuffaStream;
    async fn chat(
        &self,
        _: Request<Streaming<connect::EchoRequest>>,
    ) -> Result<Response<BuffaStream>, Status> {
        Err(Status::unimplemented("not benchmarked"))
    }
    async fn mirror(
        &self,
        request: Request<connect::Rich>,
    ) -> Result<Response<connect::Rich>, Status> {
        Ok(Response::new(request.into_inner()))
    }
}

async fn serve_tonic(routes: tonic::service::Routes) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_routes(routes)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(l))
            .await
            .unwrap();
    });
    addr
}

async fn serve_axum(app: axum::Router) -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// Runs `call` from `concurrency` tasks for `dur`; returns requests per second.
async fn load<F, Fut>(concurrency: u64, dur: Duration, call: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let call = Arc::new(call);
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + dur;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let call = call.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                call().await;
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Comparison {
    title: &'static str,
    base_name: &'static str,
    other_name: &'static str,
    base: Vec<f64>,
    other: Vec<f64>,
}

impl Comparison {
    /// Medians of each side, and the median (min..max) of the per-round ratios: each round runs
    /// both sides back to back, so the paired ratio cancels most of the drift a shared machine
    /// adds.
    fn report(&self) {
        let (b, o) = (median(self.base.clone()), median(self.other.clone()));
        let ratios: Vec<f64> = self
            .base
            .iter()
            .zip(&self.other)
            .map(|(b, o)| 100.0 * o / b)
            .collect();
        let lo = ratios.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = ratios.iter().cloned().fold(0.0, f64::max);
        println!("{}", self.title);
        println!("  {:<40} {:>9.0} req/s", self.base_name, b);
        println!(
            "  {:<40} {:>9.0} req/s  ratio {:.1}% (rounds {:.0}..{:.0}%)",
            self.other_name,
            o,
            median(ratios),
            lo,
            hi
        );
    }
}

/// One gRPC unary request for `path` carrying `message`.
fn grpc_request(path: &str, message: &[u8]) -> http::Request<tonic::body::Body> {
    let mut frame = Vec::with_capacity(5 + message.len());
    frame.push(0);
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    http::Request::builder()
        .method("POST")
        .uri(format!("http://bench{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(tonic::body::Body::new(http_body_util::Full::new(
            bytes::Bytes::from(frame),
        )))
        .unwrap()
}

/// ns per call of `svc` (request built, called, response body drained), `n` calls in a row.
async fn in_process<S, B>(svc: &S, path: &str, message: &[u8], n: u32) -> f64
where
    S: tower::Service<http::Request<tonic::body::Body>, Response = http::Response<B>> + Clone,
    S::Error: std::fmt::Debug,
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let start = Instant::now();
    for _ in 0..n {
        let resp = svc
            .clone()
            .oneshot(grpc_request(path, message))
            .await
            .unwrap();
        let body = resp.into_body().collect().await.unwrap();
        assert!(body.trailers().is_some());
    }
    start.elapsed().as_nanos() as f64 / n as f64
}

/// The shim's own hosting cost, without sockets or tonic's server: `ConnectRpcService` called
/// directly vs through `TonicHosted` (peer-address translation, error fix, response mapping).
async fn in_process_hosting(rounds: u64, say: &[u8], rich: &[u8]) {
    let router =
        || connect::EchoExt::register(Arc::new(impls::ConnectEcho), connectrpc::Router::new());
    let native = connectrpc::ConnectRpcService::new(router());
    let hosted = connect_shim::tonic_hosted!(connect::ECHO_SERVICE_NAME, router());
    let n = 20_000;
    for (name, path, msg) in [
        ("Say", "/shimtest.v1.Echo/Say", say),
        ("Mirror", "/shimtest.v1.Echo/Mirror", rich),
    ] {
        in_process(&native, path, msg, 2_000).await;
        in_process(&hosted, path, msg, 2_000).await;
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            a.push(in_process(&native, path, msg, n).await);
            b.push(in_process(&hosted, path, msg, n).await);
        }
        let (a, b) = (median(a), median(b));
        println!("In-process {name} (no sockets, {n} sequential calls, median of {rounds} rounds)");
        println!("  {:<40} {:>9.0} ns/call", "ConnectRpcService directly", a);
        println!(
            "  {:<40} {:>9.0} ns/call  shim overhead {:+.0} ns ({:.1}% of native throughput)",
            "TonicHosted",
            b,
            b - a,
            100.0 * a / b
        );
    }
}

#[tokio::main]
async fn main() {
    let dur = Duration::from_secs(env("BENCH_SECONDS", 2));
    let rounds = env("BENCH_ROUNDS", 9);
    let conc = env("BENCH_CONCURRENCY", 32);
    println!(
        "connect-shim bench: {rounds} rounds x {}s, concurrency {conc}, 1 h2c connection per setup",
        dur.as_secs()
    );

    let rich = impls::rich_samples().remove(1);
    let rich_bytes = buffa::Message::encode_to_vec(&rich);
    let prost_rich: prostpb::Rich = prost::Message::decode(rich_bytes.as_slice()).unwrap();
    println!("Rich message: {} bytes on the wire", rich_bytes.len());

    // Servers.
    let prost_addr = serve_tonic(tonic::service::Routes::new(
        prostpb::echo_server::EchoServer::new(ProstEcho),
    ))
    .await;
    let buffa_addr = serve_tonic(tonic::service::Routes::new(
        pb::echo_server::EchoServer::new(BuffaEcho),
    ))
    .await;
    let router =
        || connect::EchoExt::register(Arc::new(impls::ConnectEcho), connectrpc::Router::new());
    let native_addr =
        serve_axum(axum::Router::new().fallback_service(router().into_axum_service())).await;
    let hosted_addr = serve_tonic(tonic::service::Routes::new(connect_shim::tonic_hosted!(
        connect::ECHO_SERVICE_NAME,
        router()
    )))
    .await;

    // Reference for the hosting comparison: the same tonic service on axum vs in tonic's Server,
    // i.e. what tonic's server costs by itself, with no shim involved.
    let tonic_on_axum_addr = serve_axum(
        tonic::service::Routes::new(pb::echo_server::EchoServer::new(BuffaEcho)).into_axum_router(),
    )
    .await;
    let tonic_on_axum_client =
        pb::echo_client::EchoClient::connect(format!("http://{tonic_on_axum_addr}"))
            .await
            .unwrap();
    let prost_client = prostpb::echo_client::EchoClient::connect(format!("http://{prost_addr}"))
        .await
        .unwrap();
    let buffa_client = pb::echo_client::EchoClient::connect(format!("http://{buffa_addr}"))
        .await
        .unwrap();
    let native_client = pb::echo_client::EchoClient::connect(format!("http://{native_addr}"))
        .await
        .unwrap();
    let hosted_client = pb::echo_client::EchoClient::connect(format!("http://{hosted_addr}"))
        .await
        .unwrap();

    let say_buffa = testsvc::connect::EchoRequest {
        text: "bench".into(),
        count: 1,
        ..Default::default()
    };
    let say_prost = prostpb::EchoRequest {
        text: "bench".into(),
        count: 1,
    };

    let mut comparisons = vec![
        Comparison {
            title: "Say (small), tonic codec",
            base_name: "tonic + ProstCodec (prost messages)",
            other_name: "tonic + BuffaCodec (buffa messages)",
            base: vec![],
            other: vec![],
        },
        Comparison {
            title: "Mirror (Rich), tonic codec",
            base_name: "tonic + ProstCodec (prost messages)",
            other_name: "tonic + BuffaCodec (buffa messages)",
            base: vec![],
            other: vec![],
        },
        Comparison {
            title: "Say (small), connect service hosting",
            base_name: "native connectrpc (axum)",
            other_name: "shim: TonicHosted in tonic Server",
            base: vec![],
            other: vec![],
        },
        Comparison {
            title: "Mirror (Rich), connect service hosting",
            base_name: "native connectrpc (axum)",
            other_name: "shim: TonicHosted in tonic Server",
            base: vec![],
            other: vec![],
        },
        Comparison {
            title: "Say (small), reference without the shim: one tonic service",
            base_name: "tonic service on axum::serve",
            other_name: "tonic service in tonic Server",
            base: vec![],
            other: vec![],
        },
    ];

    // Warm-up: one short round of everything.
    let warm = Duration::from_millis(300);
    macro_rules! say {
        ($client:expr, $msg:expr) => {{
            let c = $client.clone();
            let m = $msg.clone();
            move || {
                let mut c = c.clone();
                let m = m.clone();
                async move {
                    c.say(m).await.expect("say");
                }
            }
        }};
    }
    macro_rules! mirror {
        ($client:expr, $msg:expr) => {{
            let c = $client.clone();
            let m = $msg.clone();
            move || {
                let mut c = c.clone();
                let m = m.clone();
                async move {
                    c.mirror(m).await.expect("mirror");
                }
            }
        }};
    }
    load(conc, warm, say!(prost_client, say_prost)).await;
    load(conc, warm, say!(buffa_client, say_buffa)).await;
    load(conc, warm, say!(native_client, say_buffa)).await;
    load(conc, warm, say!(hosted_client, say_buffa)).await;

    for round in 0..rounds {
        // Alternate which side goes first to cancel drift on a shared machine.
        let flip = round % 2 == 1;
        macro_rules! pair {
            ($i:expr, $base:expr, $other:expr) => {
                if flip {
                    let o = load(conc, dur, $other).await;
                    let b = load(conc, dur, $base).await;
                    comparisons[$i].base.push(b);
                    comparisons[$i].other.push(o);
                } else {
                    let b = load(conc, dur, $base).await;
                    let o = load(conc, dur, $other).await;
                    comparisons[$i].base.push(b);
                    comparisons[$i].other.push(o);
                }
            };
        }
        pair!(
            0,
            say!(prost_client, say_prost),
            say!(buffa_client, say_buffa)
        );
        pair!(
            1,
            mirror!(prost_client, prost_rich),
            mirror!(buffa_client, rich)
        );
        pair!(
            2,
            say!(native_client, say_buffa),
            say!(hosted_client, say_buffa)
        );
        pair!(
            3,
            mirror!(native_client, rich),
            mirror!(hosted_client, rich)
        );
        pair!(
            4,
            say!(tonic_on_axum_client, say_buffa),
            say!(buffa_client, say_buffa)
        );
        eprintln!("round {} done", round + 1);
    }
    for c in &comparisons {
        c.report();
    }
    let say_bytes = buffa::Message::encode_to_vec(&say_buffa);
    in_process_hosting(rounds, &say_bytes, &rich_bytes).await;
}
