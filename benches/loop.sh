#!/usr/bin/env bash
# The cost of the compiler in the loop (issue 16). One command:
#
#     benches/loop.sh [CRATE|DIR...]
#
# For each published crate of the ../shared/tools/fetch-real-crates.sh set (default: all of them
# in benches/.corpus/real, fetched there when missing; give names like tonic-health-0.14.9 to
# measure a few), in a scratch git copy, steps 1..9 are applied in order as a user runs them and,
# for each step that changes something, the script measures side by side in the same run:
#
#   check    one `cargo check --all-targets` after a one-line edit of the crate's lib.rs (a
#            comment appended; reverted and re-checked, untimed, afterwards): the cost of a
#            developer's edit-check cycle
#   step     `cargo-connect-migrate --step N` with the build checks on (baseline check, write,
#            check, repair rounds, restoration when it does not build)
#
#   after    the same one-line check on the crate as the step leaves it (after step 1 it carries
#            buffa's generated code beside tonic's stubs: a different crate to check)
#
# and prints one row per step: the times, the ratios, the verdict (checked / restored, with
# the number of repairs). Each step's stderr goes to benches/.corpus/loop-logs/, with the time
# of each phase of the loop (CONNECT_MIGRATE_LOOP_TIMES). Before the steps, the crate's
# dependencies and those step 1 adds are built once, untimed. Targets: ratio <= 2.5 for a step that needs no repair, <= 4 with one
# repair round. Rows also go to benches/.corpus/loop-last-run.tsv.
#
# Environment: BIN (the tool; default: a release build from this tree), CARGO_TARGET_DIR for the
# crates' builds (default benches/.corpus/loop-target, shared by all crates so their common
# dependencies build once), SHIM_PATH (passed as --shim-path until the shim is vendored),
# PROTOC (default: the protoc-bin-vendored one from cargo's registry).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
corpus=$here/.corpus/real
out=$here/.corpus/loop-last-run.tsv
# Each step's stderr, with the time of each phase of the loop (`loop-time:` lines).
logs=$here/.corpus/loop-logs
mkdir -p "$here/.corpus" "$logs"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$here/.corpus/loop-target}
export CARGO_TERM_COLOR=never

if [ -z "${BIN:-}" ]; then
  (cd "$root" && CARGO_TARGET_DIR=$root/target/bench cargo build --release --quiet --bin cargo-connect-migrate)
  BIN=$root/target/bench/release/cargo-connect-migrate
fi
if [ -z "${PROTOC:-}" ]; then
  PROTOC=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/protoc-bin-vendored-linux-x86_64-*/bin/protoc 2>/dev/null | head -1 || true)
  [ -n "$PROTOC" ] && export PROTOC && export PROTOC_INCLUDE=$(dirname "$(dirname "$PROTOC")")/include
fi
if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus" 2>/dev/null)" ]; then
  "$root/../shared/tools/fetch-real-crates.sh" "$corpus" >&2 \
    || /work/shared/tools/fetch-real-crates.sh "$corpus" >&2
fi

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# One cargo check after a one-line edit of the crate's lib.rs (reverted).
edit_check() {
  local dir=$1 lib
  lib=$(cd "$dir" && cargo metadata --no-deps --format-version 1 2>/dev/null \
    | python3 -c "import json,sys; m=json.load(sys.stdin); print(next((t['src_path'] for p in m['packages'] for t in p['targets'] if 'lib' in t['kind']), ''))")
  [ -n "$lib" ] || lib=$(ls "$dir"/src/*.rs | head -1)
  cp "$lib" "$lib.bench-orig"
  echo "// bench: one-line edit" >> "$lib"
  local t0 t1
  t0=$(now)
  (cd "$dir" && cargo check --all-targets --quiet >/dev/null 2>&1) || true
  t1=$(now)
  mv "$lib.bench-orig" "$lib"
  # The edit reverted, the crate is built again (untimed), as a user's tree is before a step.
  (cd "$dir" && cargo check --all-targets --quiet >/dev/null 2>&1) || true
  secs "$t0" "$t1"
}

crates=("$@")
if [ ${#crates[@]} -eq 0 ]; then
  mapfile -t crates < <(ls "$corpus")
fi
printf 'crate\tstep\tcheck_s\tstep_s\tratio\tcheck_after_s\tratio_after\tverdict\n' | tee "$out"
for c in "${crates[@]}"; do
  src=$corpus/$c
  # A directory works too (a fixture of this repository, for a step that needs repairs).
  [ -f "$c/Cargo.toml" ] && src=$(cd "$c" && pwd) && c=$(basename "$(dirname "$src")")/$(basename "$src")
  [ -f "$src/Cargo.toml" ] || { echo "skip $c: not in $corpus" >&2; continue; }
  work=$(mktemp -d -t loop-bench.XXXXXX)
  cp -r "$src/." "$work/"
  # A published crate is its own workspace here.
  grep -q '^\[workspace\]' "$work/Cargo.toml" || printf '\n[workspace]\n' >> "$work/Cargo.toml"
  (cd "$work" && git init -q . && git add -A && git -c user.name=b -c user.email=b@b commit -qm base)
  # Warm: the dependency graph is built once, outside the measurements.
  if ! (cd "$work" && cargo check --all-targets --quiet >/dev/null 2>&1); then
    echo "skip $c: does not build before any step" >&2
    rm -rf "$work"
    continue
  fi
  # The dependencies step 1 adds (buffa, connectrpc, connectrpc-build, the shim) are built once
  # too, in a throw-away copy: a user pays that first build with or without the loop, and it is
  # not an edit-sized check.
  warm=$(mktemp -d -t loop-bench-warm.XXXXXX)
  cp -r "$work/." "$warm/"
  (cd "$warm" && "$BIN" --step 1 --no-verify --no-progress --allow-dirty ${SHIM_PATH:+--shim-path "$SHIM_PATH"} >/dev/null 2>&1 \
    && cargo check --all-targets --quiet >/dev/null 2>&1) || true
  rm -rf "$warm"
  for n in 1 2 3 4 5 6 7 8 9; do
    code=0
    (cd "$work" && "$BIN" --step "$n" --check --no-progress >/dev/null 2>&1) || code=$?
    [ "$code" = 1 ] || continue # nothing to change (0), or not applicable (2/3)
    ref=$(edit_check "$work")
    t0=$(now)
    log=$logs/$(echo "$c" | tr / _)-step$n.log
    (cd "$work" && CONNECT_MIGRATE_LOOP_TIMES=1 "$BIN" --step "$n" --no-progress --allow-dirty ${SHIM_PATH:+--shim-path "$SHIM_PATH"} >/dev/null 2>"$log") || true
    t1=$(now)
    verdict=$(grep -E '^(Checked|Restored|Broken):' "$log" | tail -1 || true)
    step=$(secs "$t0" "$t1")
    ratio=$(python3 -c "import sys; r=float(sys.argv[1]); print(f'{float(sys.argv[2])/r:.2f}' if r > 0 else 'n/a')" "$ref" "$step")
    (cd "$work" && git add -A && git -c user.name=b -c user.email=b@b commit -qm "step $n" >/dev/null 2>&1 || true)
    # The same one-line check on the crate as the step leaves it: after step 1 the crate carries
    # buffa's generated code beside tonic's stubs, which may cost more to check than before.
    after=$(edit_check "$work")
    ratio_after=$(python3 -c "import sys; r=float(sys.argv[1]); print(f'{float(sys.argv[2])/r:.2f}' if r > 0 else 'n/a')" "$after" "$step")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$c" "$n" "$ref" "$step" "$ratio" "$after" "$ratio_after" "${verdict:-none}" | tee -a "$out"
  done
  rm -rf "$work"
done
