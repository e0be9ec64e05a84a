#!/usr/bin/env bash
# Requests/s benchmark for connect-shim (not a test): builds in release and runs examples/bench.rs.
# Usage: connect-shim/bench.sh   (BENCH_SECONDS, BENCH_ROUNDS, BENCH_CONCURRENCY tune it)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target/shim}"
exec cargo run --release -p connect-shim --example bench
