#!/usr/bin/env python3
"""The real-code gauntlet of cargo-connect-migrate (issue 18): code nobody here wrote, migrated
step by step with default flags, built after every step, and scored.

    benches/gauntlet/gauntlet.py                       # the quick set (under 30 minutes on 2 cores)
    benches/gauntlet/gauntlet.py --crates a,b          # these entries only (names or name-version)
    benches/gauntlet/gauntlet.py --full                # every pinned crate and tonic-examples
    benches/gauntlet/gauntlet.py --list                # the pinned entries and the quick set
    benches/gauntlet/gauntlet.py --clean               # delete the work directory (target dirs: GBs)

Every entry is a published crate pinned by version and by the sha256 of its .crate (fetched with
cargo only: from cargo's download cache, else `cargo info NAME@VER`, else `cargo fetch` of a
scratch package), or `tonic-examples`: the application workspace at --examples (default
../shared/real/tonic-examples beside the repository; copied, never into the repository).

For each entry, in a scratch directory (--work, default $TMPDIR/connect-migrate-gauntlet):
  1. a fresh copy of the sources as a git repository, committed (step 0);
  2. step 0's build: `cargo check --all-targets` (`--all-features` for tonic-examples); a
     published package whose tests or benches were left out of the .crate falls back to
     `cargo check --lib --bins`; the mode chosen at step 0 is used for every step;
  3. for each step N of --steps (default 1..9): `cargo-connect-migrate --step N --format json
     --no-progress --manifest-path TREE/Cargo.toml` (plus `--shim-path` when given: until the shim
     is vendored by step 1, connect-shim = "0.1" does not resolve), then the same cargo check,
     then `git commit -a` (so the next step's dirty-tree check passes);
  4. tonic-examples only (unless --no-e2e): `e2e.sh MIGRATED STEP0` and `e2e.sh STEP0 MIGRATED`
     after every step (migrated servers with the step-0 clients, step-0 servers with the
     migrated clients).
One target directory per entry (WORK/target/ENTRY) is reused across steps and runs.

Per step the scoreboard records: the tool's exit code (0 done, 2 refusal or failure, 3 files not
processed or, with the compiler loop, restored), whether the crate builds, the edits (sites
migrated: `edits` of the JSON report), the listed items split into "shim" (items whose rule says
the site was left on connect-shim: shim-handler, handler-adapter, hosted, hosting, call-shim, channel-transport,
stream-adapter, keep-tonic, wrapper, compat-accessor) and "listed" (every other manual / unsure /
skipped item), and the silent-pass check:

  SILENT PASS (measurable): the step exited 0 and either
    (a) the crate built before the step, does not build after it, and the step listed no item in
        any file that the compiler's errors name; or
    (b) a file still holds a construct of the step's own kind (the residue patterns of RESIDUE
        below, counted in the crate's .rs files, build.rs and Cargo.toml after the step) and the
        step listed no item in that file.
  The residue patterns are deliberately coarse (regular expressions on the text): they find
  constructs that a step is about; a listed file is taken as "said so".

The results are kept in benches/gauntlet/results.json (one entry per crate, replaced when that
crate is run again) and rendered to benches/gauntlet/SCOREBOARD.md with the date and the tool's
commit; --no-record leaves both alone (the scoreboard is still printed).

Environment: CARGO_HOME, PROTOC (else protoc on PATH, else cargo's unpacked protoc-bin-vendored),
E2E_PYTHON (for e2e.sh's grpcio probes). Needs python3 (3.9+), cargo, git, tar.
"""

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# name, version, sha256 of the .crate, tonic major, what it exercises.
# The first 13 are the set of shared/tools/fetch-real-crates.sh (its core and --extras).
CRATES = [
    ("tonic-health", "0.14.9", "bc97d645691d64d96db1afe386d0d2918ac84ab56e2c91e153f22f6349a378cd", "0.14", "health server (generated code checked in)"),
    ("tonic-reflection", "0.14.9", "7eb4700e220803efd45baf3babaa1958c79adc9e0fe6fbd4422f9188d1e57d26", "0.14", "reflection v1 + v1alpha servers, bidi"),
    ("console-subscriber", "0.5.0", "fb4915b7d8dd960457a1b6c380114c2944f728e7c65294ab247ae6b6f1f37592", "0.14", "server-streaming instrument server"),
    ("containerd-client", "0.9.0", "814eedf2860b6df6e8002f917a0fbabf53bace3d3d9d2c2022661ae55a6ab6e4", "0.14", "clients, build.rs codegen"),
    ("k8s-cri", "0.11.0", "38336fa5b8af894bc512d09dcae6dccf3517c6c79eb64ebd77a4b4ab49d9d47e", "0.14", "CRI stubs, build.rs"),
    ("opentelemetry-otlp", "0.33.1", "0756af24841e367128ef31c831999937b8b5c5197d47914590d8f4e2e88c2e1a", "0.14", "exporter clients, interceptors"),
    ("yellowstone-grpc-client", "17.0.0", "43ced826981137d483a05ad37e9a0aeb98c8dd38d8ba0e1eb6f74c3eabc87fb2", "0.14", "bidi subscribe client, interceptor"),
    ("bigtable_rs", "0.4.2", "e0cedd23b2141b856144c6395ab1d86afc1a26709013efe55904e7cc936a803b", "0.14", "client, server-streaming reads"),
    ("dapr", "0.20.0", "7fea4a699a2417c72c569709fe92b7210002f9f446efb6943e78a7036dc3d116", "0.14", "client and app-callback server"),
    ("fake-opentelemetry-collector", "0.42.1", "d068a07bd2d06609294a5489460f7842e504dc9f0bebc25cfe22fd987337f867", "0.14", "test server"),
    ("kurrentdb", "1.2.0", "c28854f6a36ee0a68af34dd807cfc121956fd49e1911c9af3934ad7a892cc830", "0.13", "client, streaming reads and appends"),
    ("arrow-flight", "60.1.0", "8709a798bd0825cb6207861aad09093133d64314c25569132dbc7f9f083879a5", "0.14", "flight server and client, all four kinds (large)"),
    ("qdrant-client", "1.20.0", "fc635159d58f2516c6fdb225046bc0cd4034c35bb90aed583ac6a5613054bca3", "0.14", "client (large)"),
    # Added for the gauntlet: tonic 0.12 and 0.13, interceptors, health, reflection, gRPC-Web.
    ("tonic-health", "0.13.1", "cb87334d340313fefa513b6e60794d44a86d5f039b523229c99c323e4e19ca4b", "0.13", "health server, server-streaming watch"),
    ("tonic-reflection", "0.13.1", "f9687bd5bfeafebdded2356950f278bba8226f0b32109537c4253406e09aafe1", "0.13", "reflection servers, tests with clients"),
    ("tonic-health", "0.12.3", "1eaf34ddb812120f5c601162d5429933c9b527d901ab0e7f930d3147e33a09b2", "0.12", "health server"),
    ("tonic-reflection", "0.12.3", "878d81f52e7fcfd80026b7fdb6a9b578b3c3653ba987f87f0dce4b64043cba27", "0.12", "reflection servers"),
    ("etcd-client", "0.14.1", "fc0452bcc559431b16f472b7ab86e2f9ccd5f3c2da3795afbd6b773665e047fe", "0.12", "client: unary, bidi watch and lease keep-alive, auth interceptor, build.rs"),
    ("etcd-client", "0.16.1", "88365f1a5671eb2f7fc240adb216786bc6494b38ce15f1d26ad6eaa303d5e822", "0.13", "as 0.14.1 on tonic 0.13"),
    ("ginepro", "0.8.2", "1a71e958d6edde3a87f7341c81c978fccc013950257d49a8e2da2a2361946924", "0.12", "load-balancing client channel"),
    ("tonic-middleware", "0.2.3", "dd11ca7918ee9f94e217285ace20caf6187476f399244ba8438cdc92ce665236", "0.12", "async interceptors and middleware"),
    ("tonic-middleware", "0.3.0", "3fd98c177e4ab6b01e31866e46df0270e9c167171a5cd8d56fe6aabfadcac07e", "0.13", "as 0.2.3 on tonic 0.13"),
    ("tonic-async-interceptor", "0.12.0", "86e7b555f9b026568d4713307878c5bf7540cc2f6acd8118b332fbf75d07bb7b", "0.12", "async interceptor layer"),
    ("console-api", "0.8.1", "8030735ecb0d128428b64cd379809817e620a40e5001c54465b99ec5feec2857", "0.12", "generated stubs checked in"),
    ("tonic-web", "0.12.3", "5299dd20801ad736dccb4a5ea0da7376e59cd98f213bf1c3d478cf53f4834b58", "0.12", "gRPC-Web layer"),
    ("tonic-types", "0.12.3", "0081d8ee0847d01271392a5aebe960a4600f5d4da6c67648a6382a0940f8b367", "0.12", "richer error details"),
    ("opentelemetry-otlp", "0.27.0", "91cf61a1868dacc576bf2b2a1c3e9ab150af7272909e80085c3173384fe11f76", "0.12", "exporter clients on tonic 0.12"),
    # Service crates: servers and clients of their own protos (mostly build.rs codegen), added in
    # session 9 (issue 18 point 3). Each was checked at step 0 on its own (see README.md).
    ("agones", "1.61.0", "c81409d08adcbc20764edaf8d2db2079086940558d65662b8ce261536afdcbde", "0.12", "game-server SDK client: unary, client-streaming health, server-streaming watch; build.rs"),
    ("zeebe-rs", "0.4.1", "456fb5edd9cedb4a7cafe3e87c09d0a435d0670ead8f07335dd882f7c17f6615", "0.12", "workflow client: OAuth interceptor, server-streaming job activation; build.rs, examples"),
    ("skywalking", "0.10.0", "bc5118ba77d80fdf16c3846aae8967c59182c05d7f9f4a1503bd60b6819055ae", "0.12", "tracing reporter clients: client-streaming collect, auth interceptor; build.rs"),
    ("eventstore", "4.0.0", "56ebfd86fe91fd06992baf7ef21efb6acf1f17b23f8ea57030147c6e3e060b92", "0.12", "event-store client: server-streaming reads, bidi subscriptions, interceptors; stubs checked in"),
    ("fedimint-tonic-lnd", "0.4.0", "544e07140e0b295035d28068a66ed752ada57762571ddbb3ac54124c3d9cc892", "0.13", "LND client: macaroon interceptor, server-streaming subscriptions, bidi HTLC interceptor; build.rs, examples"),
    ("tonic-mock", "0.4.0", "d68923c32dd947a72c17f6300ab6ffcd444ae25893af02aa80fbe4ed96bb5d4d", "0.13", "test helpers: mock services and clients, all four kinds, interceptors; examples, tests"),
    ("armada-client", "0.2.2", "61fdda3d2f0f99137a9450d05f0156506fc90436603b1125c5b0191646cee937", "0.14", "batch-scheduler client: unary, server-streaming watch, auth interceptor; build.rs, examples"),
    ("spiffe", "0.19.0", "bb3330f98f1b0c56c42e8d25f4793b242ffd2df57cb21d0cfdd8dfc24cc444b8", "0.14", "workload API client: server-streaming, interceptors; test servers; stubs checked in"),
    ("openfga-client", "0.6.1", "3438259557f04f8e5cd036fa1cfa4a32a9e381a538d146fec475fdb95a719ac4", "0.14", "authorization client: auth interceptors, server-streaming reads; stubs checked in"),
    ("tokio-console", "0.1.14", "6b67cfbdda24190c5ba3af613e7d11fc9d796634ba0987bda1ef205c4cf95915", "0.14", "application (bin): server-streaming watch client of console-api"),
    ("chirpstack_api", "4.20.0", "d4316cf119a41e4925eeeadd3aa4078eab63ab0c136228db17f4fa9d27c636d2", "0.14", "API stubs of 20 protos, servers and clients; build.rs with tonic-prost-build"),
    ("cln-grpc", "0.7.0", "69b7edcedcc92344cac1aa910cfff455ca818168b5bf9175f3a7b8b0d3a20dfc", "0.14", "a server: Node service over cln-rpc, server streaming; build.rs with tonic-prost-build"),
    ("lnd_grpc_rust", "2.16.0", "3ab830aa9c82cdd6b4d32d9d6b95ed70bf02695a1b22d47cd30a2f2c81056f53", "0.14", "LND clients: macaroon interceptors, bidi HTLC interceptor, tonic-openssl; build.rs, examples"),
]
EXAMPLES = "tonic-examples"
# Packages whose served code is behind a feature that is not on by default (cln-grpc's `server`):
# checked with `--all-features`, by the gauntlet and by the tool's compiler loop (else the edits
# there are neither built by the loop nor scored here).
ALL_FEATURES = {"cln-grpc"}
# The default selection: one entry per tonic major, a server and clients of the three streaming
# kinds: tonic-health 0.14.9 (server, server-streaming watch), agones 1.61.0 (tonic 0.12 client
# with build.rs codegen: unary, client and server streaming), fedimint-tonic-lnd 0.4.0 (tonic 0.13
# client: interceptor, bidi). Cold, the dependency builds included, measured per entry on 2 cores
# at load 16 (session 9): about 6.5 + 15.5 + 5 minutes (README.md, "Quick set").
QUICK = ["tonic-health-0.14.9", "agones-1.61.0", "fedimint-tonic-lnd-0.4.0"]

SHIM_RULE = re.compile(r"shim|adapter|hosted|hosting|keep-tonic|kept-tonic|wrapper|compat-accessor|channel-transport")

STATUS_CTORS = (r"new|ok|cancelled|unknown|invalid_argument|deadline_exceeded|not_found|already_exists|"
                r"permission_denied|resource_exhausted|failed_precondition|aborted|out_of_range|"
                r"unimplemented|internal|unavailable|data_loss|unauthenticated|with_details|"
                r"with_error_details|with_metadata|from_error")

NOT_GENERATED_CLIENT = r"^(?![\s\S]*\btonic::client::Grpc\s*<)"

# Residue: the constructs each step is about, as (regex, file filter) over the crate's text after
# the step. A filter names a regex the file must match to be counted (None: every file).
RESIDUE = {
    1: [(r"\b(tonic_build|tonic_prost_build)::(compile_protos|configure)\b", r"^(?![\s\S]*connectrpc_build)", "build.rs"),
        (r"\binclude_proto!\s*\(", r"^(?![\s\S]*\bconnect\b)", ".rs")],
    2: [(r"\bimpl\b[^{;]*?\b\w+_server::\w+\s+for\b", None, ".rs")],
    3: [(r"\bStatus::(%s)\s*\(" % STATUS_CTORS, r"\bServiceRequest\s*<", ".rs")],
    4: [(r"\bRequest\s*<\s*(tonic::)?Streaming\s*<", r"\bServiceRequest\s*<|\bInboundStream\s*<", ".rs")],
    5: [(r"\bServer::builder\s*\(\s*\)", None, ".rs")],
    # Not in generated client code checked into a crate (a file with `inner: tonic::client::Grpc<T>`): its
    # `connect` builds an `Endpoint` and its `with_interceptor` a client; that is step 1's code.
    6: [(r"\b\w+Client::connect\s*\(|\b(Channel|Endpoint)::(from_static|from_shared|new)\s*\(", NOT_GENERATED_CLIENT, ".rs"),
        # Clients built on a channel (`XClient::new(ch)`, `XClient::with_interceptor(ch, f)`) in files
        # that name a generated `x_client` module.
        (r"\b\w+Client::(new|with_interceptor|with_origin)\s*\(", NOT_GENERATED_CLIENT + r"[\s\S]*\b\w+_client::", ".rs")],
    7: [(r"\bCode::[A-Z]\w*", r"\btonic::(Code\b|\{[^}]*\bCode\b)", ".rs")],
    # Step 8 converts the streaming calls step 6 left on the shim's tonic-shaped helpers.
    8: [(r"\b(tonic_server_stream|tonic_client_stream|tonic_bidi\w*)\b", r"connect_shim", ".rs")],
    9: [(r"(?m)^\s*(tonic|tonic-[\w-]+|prost|prost-[\w-]+|connect-shim)\s*=", None, "Cargo.toml"),
        (r"\b(tonic|prost)::", None, ".rs")],
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run(cmd, cwd=None, env=None, timeout=None):
    """Run a command; returns (exit code, stdout, stderr)."""
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        return 124, e.stdout or "", (e.stderr or "") + "\n(timed out)"


def entry_id(name, ver):
    return "%s-%s" % (name, ver)


def cargo_home():
    return os.environ.get("CARGO_HOME") or os.path.join(os.path.expanduser("~"), ".cargo")


def cached_crate(name, ver):
    hits = glob.glob(os.path.join(cargo_home(), "registry", "cache", "*", "%s-%s.crate" % (name, ver)))
    return hits[0] if hits else None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(name, ver, want, dest):
    """Unpack NAME-VER into DEST/NAME-VER (sha256-checked); returns the directory."""
    out = os.path.join(dest, entry_id(name, ver))
    if os.path.isfile(os.path.join(out, "Cargo.toml")):
        return out
    with tempfile.TemporaryDirectory(prefix="gauntlet-fetch.") as scratch:
        path = cached_crate(name, ver)
        if not path:
            run(["cargo", "info", "--quiet", "%s@%s" % (name, ver)], cwd=scratch)
            path = cached_crate(name, ver)
        if not path:
            pkg = os.path.join(scratch, "fetch")
            os.makedirs(os.path.join(pkg, "src"))
            open(os.path.join(pkg, "src", "lib.rs"), "w").close()
            with open(os.path.join(pkg, "Cargo.toml"), "w") as f:
                f.write('[package]\nname = "gauntlet-fetch"\nversion = "0.0.0"\nedition = "2021"\n\n'
                        '[dependencies]\n%s = "=%s"\n\n[workspace]\n' % (name, ver))
            run(["cargo", "fetch", "--quiet"], cwd=pkg)
            path = cached_crate(name, ver)
        if not path:
            raise RuntimeError("could not fetch %s %s with cargo" % (name, ver))
        got = sha256(path)
        if got != want:
            raise RuntimeError("checksum mismatch for %s: got %s want %s" % (path, got, want))
        unpack = os.path.join(scratch, "unpack")
        with tarfile.open(path) as t:
            t.extractall(unpack)
        os.makedirs(dest, exist_ok=True)
        shutil.rmtree(out, ignore_errors=True)
        shutil.move(os.path.join(unpack, entry_id(name, ver)), out)
    return out


def find_protoc():
    if os.environ.get("PROTOC"):
        return os.environ["PROTOC"]
    if shutil.which("protoc"):
        return shutil.which("protoc")
    hits = sorted(glob.glob(os.path.join(cargo_home(), "registry", "src", "*",
                                         "protoc-bin-vendored-linux-x86_64-*", "bin", "protoc")))
    return hits[-1] if hits else None


def git(tree, *args):
    return run(["git", "-c", "user.name=gauntlet", "-c", "user.email=gauntlet@localhost",
                "-c", "commit.gpgsign=false"] + list(args), cwd=tree)


def fresh_tree(src, tree):
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(src, tree, ignore=shutil.ignore_patterns("target", ".git"), symlinks=True)
    git(tree, "init", "-q")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "step 0")


def source_files(tree):
    for root, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d not in ("target", ".git")]
        for f in files:
            if f.endswith(".rs") or f == "Cargo.toml":
                yield os.path.join(root, f)


def vendored_shim_dirs(tree):
    """Directories of the tree holding the `connect-shim` package that step 1 vendors: the tool's
    own code (it names tonic on purpose), not the user's, so no residue of any step."""
    out = []
    for path in source_files(tree):
        if os.path.basename(path) == "Cargo.toml":
            try:
                text = open(path, encoding="utf-8", errors="replace").read()
            except OSError:
                continue
            if re.search(r'(?m)^\s*name\s*=\s*"connect-shim"', text):
                out.append(os.path.dirname(path))
    return out


def residue(tree, step):
    """{relative path: count} of the step's constructs still in the tree (the vendored shim
    left out)."""
    found = {}
    shim_dirs = vendored_shim_dirs(tree)
    for path in source_files(tree):
        rel = os.path.relpath(path, tree)
        if any(path.startswith(d + os.sep) for d in shim_dirs):
            continue
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        for pattern, file_filter, kind in RESIDUE.get(step, []):
            if kind == "build.rs" and os.path.basename(path) != "build.rs":
                continue
            if kind == ".rs" and not path.endswith(".rs"):
                continue
            if kind == "Cargo.toml" and os.path.basename(path) != "Cargo.toml":
                continue
            if file_filter and not re.search(file_filter, text):
                continue
            n = len(re.findall(pattern, code_of(text) if kind != "Cargo.toml" else text))
            if n:
                found[rel] = found.get(rel, 0) + n
    return found


# After step 9, the lines still naming tonic, prost or connect-shim (issue 18: "after step 9 the
# examples depend on neither tonic, prost nor connect-shim, except what is listed with a reason"),
# checked line by line against the step's items (`unlisted_lines` of a step-9 row).
STEP9_LINE = re.compile(r"\b(tonic|prost|prost_types|connect_shim)::|\binclude_proto!")


def residue_lines(tree):
    """{relative path: [line numbers]} of the .rs lines naming tonic, prost or connect_shim (the
    vendored shim and comment lines left out)."""
    found = {}
    shim_dirs = vendored_shim_dirs(tree)
    for path in source_files(tree):
        if not path.endswith(".rs") or any(path.startswith(d + os.sep) for d in shim_dirs):
            continue
        try:
            text = open(path, encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        lines = [n for n, l in enumerate(text.split("\n"), 1)
                 if not l.lstrip().startswith("//") and STEP9_LINE.search(l)]
        if lines:
            found[os.path.relpath(path, tree)] = lines
    return found


def unlisted_lines(items, lines, reach=3):
    """The residue lines with no item of the step on them or in the `reach` lines above (a use
    list or a call spread over lines); a file-level item (line 1) or a manifest's item (the whole
    package) covers every line of its files. Returns sorted "path:line" strings."""
    by_file, packages = {}, set()
    for i in items:
        p = os.path.normpath(i.get("path", ""))
        if os.path.basename(p) == "Cargo.toml":
            packages.add(os.path.dirname(p))
        by_file.setdefault(p, set()).add(int(i.get("line") or 0))
    out = []
    for rel, ns in lines.items():
        rel = os.path.normpath(rel)
        if any(d == "" or rel.startswith(d + os.sep) for d in packages):
            continue
        at = by_file.get(rel, set())
        if 1 in at:
            continue
        out.extend((rel, n) for n in ns if not any(n - reach <= a <= n for a in at))
    return ["%s:%d" % x for x in sorted(out)]


def code_of(text):
    """A Rust file's text without its comment lines (`//`, `///`, `//!`): a doc example naming
    `Server::builder()` is not compiled by `cargo check` and no step edits it, so it is not
    residue of a step (seen on tonic-web's and tonic-types' crate docs)."""
    return "\n".join(l for l in text.split("\n") if not l.lstrip().startswith("//"))


def cargo_check(tree, target, mode, all_features, env):
    cmd = ["cargo", "check", "--quiet", "--keep-going", "--message-format", "short",
           "--manifest-path", os.path.join(tree, "Cargo.toml")]
    cmd += ["--all-targets"] if mode == "all-targets" else ["--lib", "--bins"]
    if all_features:
        cmd.append("--all-features")
    e = dict(env, CARGO_TARGET_DIR=target)
    code, out, err = run(cmd, env=e, timeout=3600)
    errors = [l for l in err.splitlines() if re.search(r"\berror(\[E\d+\])?:", l)]
    # Targets that failed ("could not compile `x` (bin "y" test)"), for --keep-going's count.
    failed = sorted({m.group(1) for m in (re.search(r"could not compile `[^`]+` \(([^)]*)\)", l) for l in errors) if m})
    return code == 0, [e for e in errors if "could not compile" not in e], failed


def planned_edits(tool, tree, step, shim_path, env):
    """What the step would write before the compiler loop decides (`--dry-run`: no check): the
    edits it plans, so that a restored step's share of kept sites can be scored (issue 18's
    90% target: sites migrated natively or through the shim rather than restored)."""
    code, report, _, _ = tool_step(tool, tree, step, shim_path, env, ["--dry-run"])
    if report is None:
        return None
    return site_edits(report)


def site_edits(report):
    """Edits in the user's files (the copy of connect-shim that step 1 vendors is not a site)."""
    return sum(f.get("edits", 0) for f in (report or {}).get("files", [])
               if "/connect-shim/" not in "/" + f.get("path", "").replace(os.sep, "/"))


def tool_step(tool, tree, step, shim_path, env, extra=()):
    cmd = [tool, "connect-migrate", "--step", str(step), "--format", "json", "--no-progress",
           "--manifest-path", os.path.join(tree, "Cargo.toml")] + list(extra)
    if shim_path:
        cmd += ["--shim-path", shim_path]
    t0 = time.time()
    code, out, err = run(cmd, env=env, timeout=3600)
    report = None
    try:
        report = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        report = None
    return code, report, err, time.time() - t0


def e2e(script, server_tree, client_tree, target, env, label):
    """`e2e.sh SERVER_TREE CLIENT_TREE`: its pass/fail counts and FAIL lines.

    e2e.sh builds each tree into a target dir of its own, keyed by the tree's path
    (TARGET/trees/<path>): the step-0 copy and the migrated tree keep their paths across steps,
    so the step-0 tree is built once and the migrated tree incrementally (only what a step
    changed). Builds are without debug info (CARGO_PROFILE_DEV_DEBUG=0: a third of the time and
    of the disk of 2 x 52 bins; nothing here runs a debugger). Logs of each run go to
    TARGET/logs/LABEL (the two runs of a step no longer overwrite each other's). The script runs
    in a process group of its own, killed whole on timeout, so that no example server outlives
    it holding a port the next run needs.
    """
    logdir = os.path.join(target, "logs", label)
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(logdir, exist_ok=True)
    e = dict(env, CARGO_TARGET_DIR=target, E2E_LOGDIR=logdir, CARGO_PROFILE_DEV_DEBUG="0")
    t0 = time.time()
    p = subprocess.Popen(["bash", script, server_tree, client_tree], cwd=os.path.dirname(script), env=e,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=7200)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        err += "\n(timed out)"
    secs = round(time.time() - t0, 1)
    m = re.search(r"(\d+) passed, (\d+) failed", out + err)
    fails = [l for l in (out + err).splitlines() if l.startswith("FAIL")]
    skips = [l for l in (out + err).splitlines() if l.startswith("SKIP")]
    r = {"fails": fails[:40], "seconds": secs, "logs": logdir}
    if skips:
        r["skipped"] = skips
    if not m:
        return dict(r, passed=0, failed=None, error=(out + err)[-400:])
    return dict(r, passed=int(m.group(1)), failed=int(m.group(2)))


def items_sample(items, per_rule=3):
    out, seen = [], {}
    for i in items:
        r = i.get("rule", "")
        seen[r] = seen.get(r, 0) + 1
        if seen[r] <= per_rule:
            out.append({"rule": r, "at": "%s:%s" % (i.get("path", ""), i.get("line", "")),
                        "message": (i.get("message") or "")[:240]})
    return out


def score_step(step, code, report, built_before, built, resid, errors=()):
    items = (report or {}).get("items", [])
    edits = sum(f.get("edits", 0) for f in (report or {}).get("files", []))
    failed_files = sum(1 for f in (report or {}).get("files", []) if f.get("status") == "failed")
    shim = [i for i in items if SHIM_RULE.search(i.get("rule", ""))]
    listed = [i for i in items if not SHIM_RULE.search(i.get("rule", ""))]
    listed_paths = {os.path.normpath(i.get("path", "")) for i in items}
    # An item on a manifest speaks for the whole package (`step01/stubs-elsewhere`,
    # `step09/step1-first`: nothing of the crate was done, and it says so).
    crate_dirs = {os.path.dirname(p) for p in listed_paths if os.path.basename(p) == "Cargo.toml"}

    def is_listed(rel):
        rel = os.path.normpath(rel)
        if any(d == "" or rel.startswith(d + os.sep) for d in crate_dirs):
            return True
        return any(rel == p or rel.endswith(os.sep + p) or p.endswith(os.sep + rel) for p in listed_paths)

    unlisted = {p: n for p, n in resid.items() if not is_listed(p)}
    silent = []
    error_files = {os.path.normpath(m.group(1)) for m in (re.match(r"([^:\s]+\.rs):\d+:\d+: error", e) for e in errors) if m}
    if code == 0 and built_before and not built and not any(is_listed(f) for f in error_files):
        silent.append("build broke, no item in the files of its errors (%s)" % ", ".join(sorted(error_files)[:3]))
    if code == 0 and unlisted:
        silent.append("unlisted residue: " + ", ".join("%s (%d)" % kv for kv in sorted(unlisted.items())[:5]))
    rules = {}
    for i in items:
        key = "%s %s" % (i.get("kind"), i.get("rule"))
        rules[key] = rules.get(key, 0) + 1
    return {
        "step": step, "exit": code, "edits": edits, "kept": site_edits(report), "files_changed": sum(
            1 for f in (report or {}).get("files", []) if f.get("status") == "changed"),
        "files_failed": failed_files, "shim": len(shim), "listed": len(listed), "rules": rules,
        "builds": built, "residue": sum(resid.values()), "unlisted_residue": sum(unlisted.values()),
        "silent": silent,
        # What the listed items say (the first few per rule), for reading a restored step's
        # classes without re-running it.
        "items_sample": items_sample(items),
    }


def dir_bytes(path):
    """Bytes under PATH (files counted once, symlinks not followed)."""
    total, seen = 0, set()
    for root, _, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


GB = 1 << 30


def prune_entry(work, eid):
    """Remove an entry's target directories and trees (the unpacked sources stay: they are small)."""
    for d in (os.path.join(work, "target", eid), os.path.join(work, "target", eid + "-e2e"),
              os.path.join(work, "runs", eid)):
        shutil.rmtree(d, ignore_errors=True)


def save_work_result(args, eid, r):
    """Keep an entry's figures in WORK/results.json (also after each step: a long run that is
    stopped still leaves the steps it finished, marked `partial`)."""
    path = os.path.join(args.work, "results.json")
    kept = json.load(open(path)) if os.path.exists(path) else {}
    kept[eid] = r
    with open(path, "w") as f:
        json.dump(kept, f, indent=1, sort_keys=True)


def run_entry(entry, args, env, tool):
    eid = entry["id"]
    work = args.work
    tree = os.path.join(work, "runs", eid, "tree")
    target = os.path.join(work, "target", eid)
    is_examples = entry["name"] == EXAMPLES
    all_features = is_examples or entry["name"] in ALL_FEATURES
    log("== %s" % eid)
    t0 = time.time()
    fresh_tree(entry["src"], tree)
    result = {"id": eid, "tonic": entry["tonic"], "what": entry["what"], "steps": [], "mode": None}
    mode = None
    for m in (["all-targets"] if is_examples else ["all-targets", "lib-bins"]):
        ok, errors, _ = cargo_check(tree, target, m, all_features, env)
        if ok:
            mode = m
            break
    result["mode"] = mode or "all-targets"
    result["baseline_builds"] = mode is not None
    if mode is None:
        result["baseline_errors"] = errors[:10]
        mode = "all-targets"
    # The check may have written a Cargo.lock: commit it, or step 1 finds a dirty tree.
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "step 0 (cargo check)")
    log("   step 0: %s (%s)" % ("builds" if result["baseline_builds"] else "DOES NOT BUILD", mode))
    step0 = None
    if is_examples and not args.no_e2e:
        step0 = os.path.join(work, "runs", eid, "step0")
        shutil.rmtree(step0, ignore_errors=True)
        shutil.copytree(entry["src"], step0, ignore=shutil.ignore_patterns("target", ".git"), symlinks=True)
        # The baseline (step-0 servers with step-0 clients; NOTES.md: 31 pass): a pair failing
        # here fails for the machine or the harness (a busy port, no grpcio), not the migration.
        # It builds the step-0 tree that every later run reuses.
        result["e2e_step0"] = e2e(entry["e2e"], step0, step0, os.path.join(work, "target", eid + "-e2e"), env, "step0")
        log("   step 0 e2e: %s" % fmt_e2e(result, "e2e_step0"))
        save_work_result(args, eid, dict(result, partial=True, commit=args.commit))
    built_before = result["baseline_builds"]
    for step in args.steps:
        # The tool's compiler loop checks in the entry's target directory too (else each entry
        # builds its dependency graph twice, once into TREE/target).
        planned = planned_edits(tool, tree, step, args.shim_path, dict(env, CARGO_TARGET_DIR=target))
        # A package whose tests or examples do not build as published is checked on its lib and
        # bins by the tool's compiler loop too (else its baseline check refuses every step).
        code, report, err, secs = tool_step(tool, tree, step, args.shim_path, dict(env, CARGO_TARGET_DIR=target),
                                            (["--lib", "--bins"] if mode == "lib-bins" else [])
                                            + (["--all-features"] if entry["name"] in ALL_FEATURES else []))
        built, errors, failed_targets = cargo_check(tree, target, mode, all_features, env)
        s = score_step(step, code, report, built_before, built, residue(tree, step), errors)
        if step == 9 and report is not None:
            left = unlisted_lines(report.get("items", []), residue_lines(tree))
            s["unlisted_lines"] = len(left)
            s["unlisted_lines_sample"] = left[:10]
        s["planned"] = planned
        s["seconds"] = round(secs, 1)
        if not built:
            s["errors"] = len(errors)
            s["first_errors"] = errors[:5]
            s["failed_targets"] = failed_targets
        if report is None:
            s["tool_error"] = err.strip().splitlines()[-3:] if err.strip() else []
        if step0 and code in (0, 3):
            e2e_target = os.path.join(work, "target", eid + "-e2e")
            s["e2e_migrated_servers"] = e2e(entry["e2e"], tree, step0, e2e_target, env, "step%d-migrated-servers" % step)
            s["e2e_migrated_clients"] = e2e(entry["e2e"], step0, tree, e2e_target, env, "step%d-migrated-clients" % step)
            log("   step %d e2e: migrated servers %s, migrated clients %s" % (
                step, fmt_e2e(s, "e2e_migrated_servers"), fmt_e2e(s, "e2e_migrated_clients")))
        result["steps"].append(s)
        save_work_result(args, eid, dict(result, partial=True, commit=args.commit))
        git(tree, "add", "-A")
        git(tree, "commit", "-q", "--allow-empty", "-m", "step %d" % step)
        log("   step %d: exit %d, %d edits, %d shim, %d listed, %s%s" % (
            step, code, s["edits"], s["shim"], s["listed"], "builds" if built else "BROKEN (%d errors)" % len(errors),
            "; SILENT: " + "; ".join(s["silent"]) if s["silent"] else ""))
        built_before = built
    result["minutes"] = round((time.time() - t0) / 60, 1)
    return result


def fmt_share(s):
    """`kept/planned (NN%)` of a step's site edits; `-` for a row run before planned edits were
    measured."""
    if s.get("planned") is None or s.get("kept") is None:
        return "-"
    if s["planned"] == 0:
        return "0/0"
    # The compiler loop's repairs add edits of their own: a step that kept everything can write
    # more than it planned, and counts as 100%.
    return "%d/%d (%d%%)" % (s["kept"], s["planned"], 100 * min(s["kept"], s["planned"]) // s["planned"])


def share_of(steps):
    """Kept and planned site edits over the steps that measured them (None when none did)."""
    measured = [s for s in steps if s.get("planned") is not None and s.get("kept") is not None]
    if not measured:
        return None
    return {"step": 0, "kept": sum(min(s["kept"], s["planned"]) for s in measured),
            "planned": sum(s["planned"] for s in measured)}


def fmt_e2e(s, key):
    e = s.get(key)
    if not e:
        return ""
    if e.get("failed") is None:
        return "err"
    return "%d/%d" % (e["passed"], e["passed"] + e["failed"])


def e2e_fail_lines(r):
    """One line per step and direction with failing pairs: `- step N, migrated servers: a, b`."""
    out = []
    for s in r["steps"]:
        for key, what in (("e2e_migrated_servers", "migrated servers"), ("e2e_migrated_clients", "migrated clients")):
            names = [l.split(":")[0][len("FAIL "):] for l in (s.get(key) or {}).get("fails", [])]
            if names:
                out.append("- step %d, %s: %s" % (s["step"], what, ", ".join(names)))
    return out


def render(results, commit, date, steps_note):
    out = []
    out.append("# Gauntlet scoreboard\n")
    out.append("Figures of record: %s, tool at commit %s. Produced by `benches/gauntlet/gauntlet.py` "
               "(see benches/gauntlet/README.md for what each column means).\n" % (date, commit))
    out.append("| crate | tool commit | tonic | check | step 0 | steps that build | edits | kept / planned | shim | listed | restored (exit 3) | other exits | silent passes | e2e servers / clients (last step) | minutes |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    tot = dict(crates=0, steps=0, built=0, edits=0, shim=0, listed=0, restored=0, other=0, silent=0, kept=0, planned=0)
    for eid in sorted(results):
        r = results[eid]
        st = r["steps"]
        built = [str(s["step"]) for s in st if s["builds"]]
        restored = sum(1 for s in st if s["exit"] == 3)
        other = [("%d:%d" % (s["step"], s["exit"])) for s in st if s["exit"] not in (0, 3)]
        silent = [str(s["step"]) for s in st if s["silent"]]
        last = st[-1] if st else {}
        e2e = ""
        if last.get("e2e_migrated_servers"):
            e2e = "%s / %s" % (fmt_e2e(last, "e2e_migrated_servers"), fmt_e2e(last, "e2e_migrated_clients"))
        share = share_of(st)
        if share:
            tot["kept"] += share["kept"]
            tot["planned"] += share["planned"]
        out.append("| %s | %s | %s | %s | %s | %d/%d (%s) | %d | %s | %d | %d | %d | %s | %s | %s | %s |" % (
            eid + (" (partial)" if r.get("partial") else ""), r.get("commit", "?"), r["tonic"], r["mode"], "builds" if r["baseline_builds"] else "broken",
            len(built), len(st), ",".join(built) or "-", sum(s["edits"] for s in st), fmt_share(share) if share else "-",
            sum(s["shim"] for s in st), sum(s["listed"] for s in st), restored,
            " ".join(other) or "-", ",".join(silent) or "-", e2e or "n/a", r.get("minutes", "")))
        tot["crates"] += 1
        tot["steps"] += len(st)
        tot["built"] += len(built)
        tot["edits"] += sum(s["edits"] for s in st)
        tot["shim"] += sum(s["shim"] for s in st)
        tot["listed"] += sum(s["listed"] for s in st)
        tot["restored"] += restored
        tot["other"] += len(other)
        tot["silent"] += len(silent)
    out.append("| **total (%d crates)** | | | | | %d/%d | %d | %s | %d | %d | %d | %d | %d | | |" % (
        tot["crates"], tot["built"], tot["steps"], tot["edits"],
        fmt_share({"kept": tot["kept"], "planned": tot["planned"]}) + " (rows that measured it)" if tot["planned"] else "-",
        tot["shim"], tot["listed"],
        tot["restored"], tot["other"], tot["silent"]))
    out.append("")
    out.append("## Per step\n")
    for eid in sorted(results):
        r = results[eid]
        out.append("### %s\n" % eid)
        out.append("Tool at %s; check `%s`.\n" % (r.get("commit", "?"), r["mode"]))
        if r.get("e2e_step0"):
            out.append("e2e at step 0 (step-0 servers with step-0 clients): %s.\n" % fmt_e2e(r, "e2e_step0"))
        out.append("| step | exit | builds | edits | kept / planned | files | shim | listed | residue (unlisted) | e2e servers | e2e clients | first error / silent |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
        for s in r["steps"]:
            note = "; ".join(s["silent"]) if s["silent"] else ""
            if not s["builds"] and s.get("first_errors"):
                note = (note + "; " if note else "") + "%d errors in %d targets, first: `%s`" % (
                    s.get("errors", 0), len(s.get("failed_targets", [])),
                    s["first_errors"][0][:160].replace("|", "\\|").replace("`", "'"))
            if s.get("unlisted_lines"):
                note = (note + "; " if note else "") + "%d lines still naming tonic/prost/connect_shim with no item on them, first: %s" % (
                    s["unlisted_lines"], ", ".join(s.get("unlisted_lines_sample", [])[:3]))
            if s.get("tool_error"):
                note = (note + "; " if note else "") + "tool: " + " ".join(s["tool_error"])[:160].replace("|", "\\|")
            out.append("| %d | %d | %s | %d | %s | %d | %d | %d | %d (%d) | %s | %s | %s |" % (
                s["step"], s["exit"], "yes" if s["builds"] else "**no**", s["edits"], fmt_share(s), s["files_changed"],
                s["shim"], s["listed"], s["residue"], s["unlisted_residue"],
                fmt_e2e(s, "e2e_migrated_servers") or "-", fmt_e2e(s, "e2e_migrated_clients") or "-", note))
        out.append("")
        fails = e2e_fail_lines(r)
        if fails:
            out.append("e2e pairs that failed (pair names; reasons in results.json):\n")
            out.extend(fails)
            out.append("")
    out.append(steps_note)
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--crates", help="comma-separated entries (name or name-version; tonic-examples)")
    ap.add_argument("--full", action="store_true", help="every pinned crate and tonic-examples")
    ap.add_argument("--list", action="store_true", help="print the entries and exit")
    ap.add_argument("--steps", default="1-9", help="steps to apply in order, e.g. 1-9 or 1,2,3 (default 1-9)")
    ap.add_argument("--examples", default=os.environ.get("GAUNTLET_EXAMPLES",
                                                         os.path.join(REPO, "..", "shared", "real", "tonic-examples")))
    ap.add_argument("--work", default=os.environ.get("GAUNTLET_WORK",
                                                     os.path.join(tempfile.gettempdir(), "connect-migrate-gauntlet")))
    ap.add_argument("--shim-path", help="passed to every step (absolute path to connect-shim)")
    ap.add_argument("--tool", help="the cargo-connect-migrate binary (default: cargo build --release of this checkout)")
    ap.add_argument("--tool-commit", default="",
                    help="the commit --tool was built from, recorded in each row (default: this "
                         "checkout's HEAD, +dirty with uncommitted changes)")
    ap.add_argument("--no-e2e", action="store_true", help="skip e2e.sh for tonic-examples")
    ap.add_argument("--no-record", action="store_true", help="do not update results.json / SCOREBOARD.md")
    ap.add_argument("--prune", action=argparse.BooleanOptionalAction, default=None,
                    help="delete each entry's target directories and trees once it is scored (default: on "
                         "with --full, off otherwise, so that a re-run of a few entries is warm)")
    ap.add_argument("--min-free-gb", type=float, default=10.0,
                    help="do not start an entry while the work directory's disk has less free space (default 10)")
    ap.add_argument("--clean", action="store_true", help="delete the work directory (--work) and exit")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="run nothing: merge these WORK/results.json files into results.json and render")
    args = ap.parse_args()
    if args.clean:
        work = os.path.abspath(args.work)
        if os.path.isdir(work):
            log("removing %s (%.1f GB)" % (work, dir_bytes(work) / GB))
            shutil.rmtree(work)
        return 0

    entries = {}
    for name, ver, sha, tonic, what in CRATES:
        entries[entry_id(name, ver)] = dict(id=entry_id(name, ver), name=name, ver=ver, sha=sha, tonic=tonic, what=what)
    entries[EXAMPLES] = dict(id=EXAMPLES, name=EXAMPLES, ver="", sha=None, tonic="0.14",
                             what="tonic's examples (52 bins), e2e both ways")
    if args.list:
        for e in entries.values():
            print("%-40s tonic %-5s %s%s" % (e["id"], e["tonic"], e["what"], "  [quick]" if e["id"] in QUICK else ""))
        return 0
    if args.prune is None:
        args.prune = args.full
    if args.full:
        chosen = list(entries)
    elif args.crates:
        chosen = []
        for c in args.crates.split(","):
            c = c.strip()
            hits = [k for k in entries if k == c or entries[k]["name"] == c]
            if not hits:
                ap.error("unknown entry %s (see --list)" % c)
            chosen += [h for h in hits if h not in chosen]
    else:
        chosen = list(QUICK)
    steps = []
    for part in args.steps.split(","):
        a, _, b = part.partition("-")
        steps += list(range(int(a), int(b or a) + 1))
    args.steps = steps
    args.work = os.path.abspath(args.work)
    if args.shim_path:
        args.shim_path = os.path.abspath(args.shim_path)

    env = dict(os.environ, CARGO_TERM_COLOR="never")
    protoc = find_protoc()
    if protoc:
        env["PROTOC"] = protoc
    tool = args.tool or ""
    if not tool and not args.merge:
        code, _, err = run(["cargo", "build", "--release", "--quiet", "--bin", "cargo-connect-migrate",
                            "--manifest-path", os.path.join(REPO, "Cargo.toml")])
        if code != 0:
            log(err)
            return 2
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")
        tool = os.path.join(target, "release", "cargo-connect-migrate")
    tool = os.path.abspath(tool)
    _, commit, _ = run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO)
    _, dirty, _ = run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO)
    commit = commit.strip() + ("+dirty" if dirty.strip() else "")
    args.commit = args.tool_commit or commit

    results_path = os.path.join(HERE, "results.json")
    results = {}
    if os.path.exists(results_path):
        results = json.load(open(results_path))
    if args.merge:
        for path in args.merge:
            results.update(json.load(open(path)))
        chosen = []
    # Every run also keeps its own entries in WORK/results.json (merged later with --merge).
    work_results = os.path.join(args.work, "results.json")
    os.makedirs(args.work, exist_ok=True)
    if chosen:
        # Each entry's target directory takes 0.5-3 GB (tonic-examples with e2e: about 10 GB) and is
        # kept for warm re-runs unless --prune: say what the work directory holds before adding to it.
        log("work directory %s: %.1f GB; %.1f GB free on its disk%s" % (
            args.work, dir_bytes(args.work) / GB, free_bytes(args.work) / GB,
            "; targets pruned after each entry" if args.prune else
            "; targets kept (--prune to delete them, --clean to delete the work directory)"))
    fresh = {}
    for eid in chosen:
        e = entries[eid]
        free = free_bytes(args.work) / GB
        if free < args.min_free_gb:
            log("stop before %s: %.1f GB free, under --min-free-gb %.1f (--prune, --clean)" % (eid, free, args.min_free_gb))
            break
        try:
            if e["name"] == EXAMPLES:
                src = os.path.abspath(args.examples)
                if not os.path.isfile(os.path.join(src, "Cargo.toml")):
                    log("skip %s: no workspace at %s (--examples)" % (eid, src))
                    continue
                e["src"] = src
                e["e2e"] = os.path.join(src, "e2e.sh")
            else:
                e["src"] = fetch(e["name"], e["ver"], e["sha"], os.path.join(args.work, "src"))
            r = run_entry(e, args, env, tool)
        except Exception as ex:  # one entry's failure does not stop the others
            log("   %s failed: %s" % (eid, ex))
            continue
        r["commit"] = args.commit
        fresh[eid] = r
        results[eid] = r
        save_work_result(args, eid, r)
        if args.prune:
            prune_entry(args.work, eid)
        if not args.no_record:
            with open(results_path, "w") as f:
                json.dump(results, f, indent=1, sort_keys=True)
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    note = ("Entries run at other commits keep their own figures (see `commit` in results.json); "
            "this file was last written at %s with steps %s." % (date, args.steps))
    if args.merge and not args.no_record:
        with open(results_path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
        commit = ", ".join(sorted({r.get("commit", "?") for r in results.values()}))
    if chosen:
        log("work directory %s now holds %.1f GB" % (args.work, dir_bytes(args.work) / GB))
    board = render(results if not args.no_record else fresh, commit, date, note)
    print(board)
    if not args.no_record:
        with open(os.path.join(HERE, "SCOREBOARD.md"), "w") as f:
            f.write(board)
    return 0


if __name__ == "__main__":
    sys.exit(main())
