#!/usr/bin/env bash
# The speed benchmark of cargo-connect-migrate (issue 7). One command, on a fresh machine:
#
#     benches/run.sh [--rounds R] [--jobs J] [--quick]
#
# Builds the tool and the syn-parse baseline in release, builds the mixed corpus (the unpacked
# sources of benches/mixed-deps, fetched with cargo; cached) and the tonic-dense corpus
# (benches/gen-dense.py; cached), installs ast-grep from npm (pinned; cached), then measures,
# interleaved round by round:
#
#   ours       `cargo-connect-migrate --step N --check --format json -j J CORPUS` for every step this
#              version implements (probed: a step that is not implemented exits 2 and is skipped),
#              each step timed on its own; "all steps" is their sum
#   ast-grep   `ast-grep run --lang rust -p 'Status::not_found($A)' -r 'ConnectError::not_found($A)'
#              -j J CORPUS` (a one-pattern rewrite dry run: no -U)
#   syn        `syn-parse-bench -j J CORPUS` (plain syn::parse_file of every file) and, for
#              reference, the same with proc-macro2's span-locations feature (which the tool needs)
#
# and prints medians (wall and CPU time), ratios against the targets, lines per second and peak RSS,
# plus a memory-scaling check (the dense corpus at 1x and 4x). Everything it fetches or generates
# lives in benches/.corpus and benches/.tools (git-ignored); builds go to target/bench.
#
# Environment: ROUNDS (default 7), JOBS (default 2), CARGO_TARGET_DIR (default target/bench).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
rounds=${ROUNDS:-7}
jobs=${JOBS:-2}
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --jobs|-j) jobs=$2; shift 2 ;;
    --quick) quick=1; rounds=3; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

ASTGREP_VERSION=0.51.1
DENSE_SERVICES=72
DENSE_METHODS=24
CORPUS_TRIPLE=x86_64-unknown-linux-gnu   # fixed, so the mixed corpus is the same on every host
corpus=$here/.corpus
tools=$here/.tools
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target/bench}
log() { printf '== %s\n' "$*" >&2; }

# --- prerequisites ------------------------------------------------------------------------------
for t in cargo python3 npm; do
  command -v "$t" >/dev/null || { echo "error: $t is required" >&2; exit 2; }
done
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
  log "installing GNU time (Debian package 'time') for peak-RSS figures"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo apt-get install -y -qq time >/dev/null
fi

# --- builds -------------------------------------------------------------------------------------
log "building cargo-connect-migrate and the syn-parse baseline (release, $CARGO_TARGET_DIR)"
cargo build --release --quiet --manifest-path "$root/Cargo.toml" -p cargo-connect-migrate --bin cargo-connect-migrate
cargo build --release --quiet --manifest-path "$here/syn-parse/Cargo.toml"
cargo build --release --quiet --manifest-path "$here/syn-parse/Cargo.toml" --features span-locations \
  --target-dir "$CARGO_TARGET_DIR/syn-spans"
ours=$CARGO_TARGET_DIR/release/cargo-connect-migrate
synp=$CARGO_TARGET_DIR/release/syn-parse-bench
syns=$CARGO_TARGET_DIR/syn-spans/release/syn-parse-bench

sg=$tools/node_modules/.bin/ast-grep
if ! "$sg" --version 2>/dev/null | grep -qx "ast-grep $ASTGREP_VERSION"; then
  log "installing @ast-grep/cli@$ASTGREP_VERSION into $tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" "@ast-grep/cli@$ASTGREP_VERSION" >/dev/null
fi

# --- corpora ------------------------------------------------------------------------------------
mkdir -p "$corpus"
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

mixed=$corpus/mixed
want=$(stamp_of "$here/mixed-deps/Cargo.toml" "$here/mixed-deps/Cargo.lock")
if [ "$(cat "$corpus/mixed.stamp" 2>/dev/null)" != "$want" ]; then
  log "building the mixed corpus (pinned by benches/mixed-deps/Cargo.lock) in $mixed"
  cargo fetch --quiet --locked --manifest-path "$here/mixed-deps/Cargo.toml"
  rm -rf "$mixed" "$corpus/mixed.stamp"
  mkdir -p "$mixed"
  cargo metadata --locked --offline --format-version 1 --filter-platform "$CORPUS_TRIPLE" \
      --manifest-path "$here/mixed-deps/Cargo.toml" |
    python3 -c '
import json, os, sys
m = json.load(sys.stdin)
ids = {n["id"] for n in m["resolve"]["nodes"]}
for p in sorted(m["packages"], key=lambda p: (p["name"], p["version"])):
    if p["id"] in ids and p["source"]:
        print(os.path.dirname(p["manifest_path"]))
' | while read -r dir; do cp -R "$dir" "$mixed/"; done
  echo "$want" > "$corpus/mixed.stamp"
fi

gen_dense() { # OUT SERVICES
  local out=$1 n=$2 want
  want=$(printf '%s %s %s' "$(stamp_of "$here/gen-dense.py")" "$n" "$DENSE_METHODS" | sha256sum | cut -c1-16)
  if [ "$(cat "$out.stamp" 2>/dev/null)" != "$want" ]; then
    log "generating $(basename "$out") ($n services x $DENSE_METHODS methods)"
    python3 "$here/gen-dense.py" "$out" --services "$n" --methods "$DENSE_METHODS" >&2
    echo "$want" > "$out.stamp"
  fi
}
dense=$corpus/dense
gen_dense "$dense" "$DENSE_SERVICES"
dense4=$corpus/dense-x4
gen_dense "$dense4" $((DENSE_SERVICES * 4))

count() { # DIR -> "files lines", walked like the tool (no hidden directories, no target/)
  python3 - "$1" <<'EOF'
import os, sys
f = l = 0
for r, ds, fs in os.walk(sys.argv[1]):
    ds[:] = [d for d in ds if not d.startswith(".") and d != "target"]
    for x in fs:
        if x.endswith(".rs"):
            f += 1
            with open(os.path.join(r, x), "rb") as h:
                l += h.read().count(b"\n")
print(f, l)
EOF
}

# --- which steps ---------------------------------------------------------------------------------
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
steps=()
skipped=()
for n in 1 2 3 4 5 6 7 8 9; do
  set +e
  "$ours" --step "$n" --check --no-progress "$probe" >/dev/null 2>"$probe.err"
  rc=$?
  set -e
  if [ $rc = 0 ]; then
    steps+=("$n")
  elif [ $rc = 2 ] && grep -q "not implemented" "$probe.err"; then
    skipped+=("$n")
  else
    echo "error: probing step $n exited $rc:" >&2; cat "$probe.err" >&2; exit 2
  fi
done
rm -f "$probe.err"
[ ${#steps[@]} -gt 0 ] || { echo "error: no step is implemented" >&2; exit 2; }

# --- measurements --------------------------------------------------------------------------------
results=$corpus/last-run.tsv
out=$corpus/last-run-out
mkdir -p "$out"
printf 'round\tcorpus\ttool\twall_s\tcpu_s\tmaxrss_kb\n' > "$results"

measure() { # ROUND CORPUS TOOL OKCODES CMD... ; appends a row to $results
  local round=$1 cname=$2 tool=$3 ok=$4; shift 4
  local tf; tf=$(mktemp)
  set +e
  /usr/bin/time -o "$tf" -f '%e %U %S %M' "$@" >"$out/$cname.$tool.out" 2>"$out/$cname.$tool.err"
  local rc=$?
  set -e
  if ! [[ " $ok " == *" $rc "* ]]; then
    echo "error: $tool on $cname exited $rc (expected one of: $ok); see $out/$cname.$tool.err" >&2
    tail -5 "$out/$cname.$tool.err" >&2
    exit 1
  fi
  # GNU time prints "Command exited with non-zero status N" first when N != 0.
  read -r wall user sys rss < <(tail -1 "$tf")
  rm -f "$tf"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$cname" "$tool" "$wall" \
    "$(python3 -c "print(round($user + $sys, 2))")" "$rss" >> "$results"
}

one_round() { # ROUND
  local r=$1 c dir n
  for c in mixed dense; do
    dir=$corpus/$c
    for n in "${steps[@]}"; do
      # exit 1: --check found changes; 3: some files do not parse (reported, not an error here)
      measure "$r" "$c" "step$n" "0 1 3" "$ours" --step "$n" --check --format json --no-progress -j "$jobs" "$dir"
    done
    measure "$r" "$c" ast-grep "0 1" "$sg" run --lang rust -p 'Status::not_found($A)' \
      -r 'ConnectError::not_found($A)' -j "$jobs" "$dir"
    measure "$r" "$c" syn "0" "$synp" -j "$jobs" "$dir"
    measure "$r" "$c" syn-spans "0" "$syns" -j "$jobs" "$dir"
  done
}

read -r mixed_files mixed_lines < <(count "$mixed")
read -r dense_files dense_lines < <(count "$dense")
log "corpora: mixed $mixed_files files / $mixed_lines lines; dense $dense_files files / $dense_lines lines"
log "steps measured: ${steps[*]} (not implemented in this version, skipped: ${skipped[*]:-none})"
log "warm-up round (not counted), then $rounds interleaved rounds, -j $jobs"
one_round 0
for r in $(seq 1 "$rounds"); do
  log "round $r/$rounds"
  one_round "$r"
done

# Memory scaling: every step over the dense corpus and over four times as much of the same code.
for n in "${steps[@]}"; do
  for c in dense dense-x4; do
    measure mem "$c" "step$n" "0 1 3" "$ours" --step "$n" --check --format json --no-progress -j "$jobs" "$corpus/$c"
  done
done
read -r dense4_files dense4_lines < <(count "$dense4")

# --- report --------------------------------------------------------------------------------------
python3 - "$results" "$out" "$(nproc)" \
  "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
  "$mixed_files" "$mixed_lines" "$dense_files" "$dense_lines" "$dense4_files" "$dense4_lines" \
  "$jobs" "$rounds" "${steps[*]}" "${skipped[*]:-none}" "$("$sg" --version)" \
  "$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)" <<'EOF'
import csv, json, os, statistics, sys
(results, outdir, nproc, cpu, mf, ml, df, dl, d4f, d4l, jobs, rounds, steps, skipped,
 sgv, rev) = sys.argv[1:]
steps = steps.split()
rows = list(csv.DictReader(open(results), delimiter="\t"))
timed = [r for r in rows if r["round"] not in ("0", "mem")]

def med(corpus, tool, key="wall_s"):
    return statistics.median(float(r[key]) for r in timed if r["corpus"] == corpus and r["tool"] == tool)

def peak(corpus, tool):
    return max(int(r["maxrss_kb"]) for r in rows if r["corpus"] == corpus and r["tool"] == tool) / 1024

def all_steps(corpus, key="wall_s"):
    # the sum of the step runs, per round, then the median over rounds
    per_round = {}
    for r in timed:
        if r["corpus"] == corpus and r["tool"].startswith("step"):
            per_round[r["round"]] = per_round.get(r["round"], 0) + float(r[key])
    return statistics.median(per_round.values())

def counts(corpus, step, keys=("files_scanned", "files_parsed")):
    try:
        j = json.load(open(os.path.join(outdir, f"{corpus}.step{step}.out")))
        c = j.get("counts", j)
        return tuple(c.get(k) for k in keys)
    except Exception:
        return tuple(None for _ in keys)

lines = {"mixed": int(ml), "dense": int(dl)}
files = {"mixed": int(mf), "dense": int(df)}
print()
print(f"machine: {nproc} cores, {cpu}; -j {jobs}; {rounds} interleaved rounds (medians); {sgv}")
print(f"tool built from {rev}" + (" (the working tree had uncommitted changes)" if rev.endswith("-dirty") else ""))
print(f"steps measured: {' '.join(steps)}; not implemented in this version (skipped): {skipped}")
for c in ("mixed", "dense"):
    print()
    print(f"{c} corpus: {files[c]} files, {lines[c]} lines")
    print(f"  {'run':<16}{'wall s':>8}{'cpu s':>8}{'Mlines/s':>10}{'peak MiB':>10}  files scanned/parsed")
    tools = [f"step{n}" for n in steps] + ["ast-grep", "syn", "syn-spans"]
    for t in tools:
        w = med(c, t)
        extra = ""
        if t.startswith("step"):
            s, p = counts(c, t[4:])
            extra = f"  {s}/{p}"
        name = {"syn": "syn parse", "syn-spans": "syn parse+spans"}.get(t, t.replace("step", "ours step "))
        print(f"  {name:<16}{w:8.2f}{med(c, t, 'cpu_s'):8.2f}{lines[c] / w / 1e6:10.2f}{peak(c, t):10.1f}{extra}")
    w = all_steps(c)
    print(f"  {'ours all steps':<16}{w:8.2f}{all_steps(c, 'cpu_s'):8.2f}{lines[c] / w / 1e6:10.2f}")

print()
print("targets (wall-clock medians; CPU-time ratio in brackets):")
r = all_steps("mixed") / med("mixed", "ast-grep")
rc = all_steps("mixed", "cpu_s") / med("mixed", "ast-grep", "cpu_s")
print(f"  mixed: all steps / ast-grep = {r:.2f}x [{rc:.2f}x]  (target <= 0.5x): {'met' if r <= 0.5 else 'MISSED'}")
for n in steps:
    t = f"step{n}"
    r = med("dense", t) / med("dense", "syn")
    rc = med("dense", t, "cpu_s") / med("dense", "syn", "cpu_s")
    rs = med("dense", t) / med("dense", "syn-spans")
    print(f"  dense: step {n} / syn parse = {r:.2f}x [{rc:.2f}x]  (target <= 1.3x): {'met' if r <= 1.3 else 'MISSED'}"
          f"   (vs syn parse+spans: {rs:.2f}x)")
def mem(corpus, tool):
    return [int(x["maxrss_kb"]) / 1024 for x in rows
            if x["round"] == "mem" and x["corpus"] == corpus and x["tool"] == tool][0]
for n in steps:
    m1, m4 = mem("dense", f"step{n}"), mem("dense-x4", f"step{n}")
    (i1,), (i4,) = counts("dense", n, ("manual_items",)), counts("dense-x4", n, ("manual_items",))
    print(f"  memory: step {n} peak RSS {m1:.1f} MiB on {dl} lines ({i1} items reported), "
          f"{m4:.1f} MiB on {d4l} lines ({i4} items): {m4 / m1:.2f}x for {int(d4l) / int(dl):.1f}x "
          f"the input (target: well under the input's growth): {'met' if m4 / m1 < 2 else 'MISSED'}")
print(f"\nraw measurements: {results}")
EOF
