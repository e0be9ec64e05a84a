//! Step 9: stop generating gRPC code.
//!
//! Assumes step 1 (connectrpc-build generates the buffa messages and Connect stubs into
//! `OUT_DIR/connect`; tonic-prost-build generates tonic's stubs into `OUT_DIR/tonic` on
//! `connect_shim::codec::BuffaCodec`) and whatever of steps 2-8 the crate went through. Once
//! nothing names tonic's generated stub modules (`<svc>_server`, `<svc>_client`) any more, in the
//! crate or in the workspace crates that depend on it:
//!
//! - `build.rs`: the tonic codegen calls go (with their builder variables, the
//!   `create_dir_all(out_dir.join("tonic"))` and the `use tonic_prost_build::..` imports);
//!   connectrpc-build stays. A descriptor set tonic wrote for reflection
//!   (`file_descriptor_set_path`) must be one connectrpc-build emits too
//!   (`emit_descriptor_set`, step 1 adds it): its readers are pointed at connectrpc-build's file;
//! - the package modules lose `include!(concat!(env!("OUT_DIR"), "/tonic/<pkg>.rs"));` and keep
//!   their re-export of the buffa types;
//! - `tonic::include_file_descriptor_set!("x")` becomes `include_bytes!(concat!(env!("OUT_DIR"),
//!   "/connect/x.bin"))` (or the macro's own expansion while tonic still writes the file);
//! - `Cargo.toml`: every `tonic`, `tonic-*`, `prost`, `prost-*` and `connect-shim` dependency
//!   (normal, dev, build, target-specific; renamed ones included) that nothing in the crate names
//!   any more is removed, with the `[features]` entries that name it (`dep:tonic`, `tonic/tls`),
//!   and so is a `[workspace.dependencies]` entry of the family that no member inherits any more.
//!
//! Before (step-1 shape):
//! ```text
//! pub mod hello_world {
//!     pub use crate::connect::helloworld::*;
//!     include!(concat!(env!("OUT_DIR"), "/tonic/helloworld.rs"));
//! }
//! ```
//! After:
//! ```text
//! pub mod hello_world {
//!     pub use crate::connect::helloworld::*;
//! }
//! ```
//!
//! Servers hosted through `connect_shim::hosting::connect_app` get that code as a module of the
//! crate instead ([`hosting`]), so that connect-shim can go.
//!
//! Handler unit tests on `connect_shim::tonic_call_connect!(svc, method, tonic::Request::new(msg))`
//! become native calls through `connectrpc::ServiceRequest::from_parts`, with what they read of the
//! result moved to `connectrpc::Response` ([`handler_tests`], `step09/handler-test` for the ones
//! that stay on the shim).
//!
//! Family imports nothing uses any more go (`step09/unused-import`).
//!
//! Whatever else still names one of those crates (a `use`, a path, `#[tonic::async_trait]`,
//! `#[derive(prost::Message)]`, a shim macro, `cfg(feature = "tonic")`, a doctest) is listed with
//! its location (`step09/still-used`) and the dependency stays; so does the tonic codegen while a
//! stub module is named (`step09/stub-used`, `step09/tonic-codegen-kept`). Found by name
//! resolution ([`scan`]), never by a bare identifier.

mod definition;
pub use definition::DEFINITION;

pub mod aliases;
pub mod handler_tests;
pub mod hosting;
pub mod incoming;
pub mod interceptors;
pub mod scan;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use syn::spanned::Spanned;
use syn::visit::Visit;
use toml_edit::{DocumentMut, Item};

use crate::buildrs::{self, IncludeKind, ProtoInclude};
use crate::context::CrateCtx;
use crate::edit::{line_col, whole_lines, Edit};
use crate::engine::{FileCtx, ItemKind, ManualItem, Pass, PassOutput};
use crate::report::ItemReport;
use crate::resolve::{range, FileIndex};
use crate::schema::Schema;
use crate::steps::common::items::manual_at;
use crate::steps::common::prepare::Prepared;
use crate::workspace::{rel, Crate, Workspace};

use scan::{is_family, FileScan, Ref, Watch};

/// What step 9 does to each file, decided for the whole workspace before the files are
/// processed (a file's edits depend on what the other files still use).
#[derive(Debug, Default)]
pub struct Plan {
    pub files: HashMap<PathBuf, FilePlan>,
}

#[derive(Debug, Default, Clone)]
pub struct FilePlan {
    pub edits: Vec<Edit>,
    pub items: Vec<ManualItem>,
}

/// Can this file name a construct of step 9 (when no crate context says more)?
pub fn prefilter(text: &[u8]) -> bool {
    [&b"tonic"[..], b"prost", b"connect_shim"]
        .iter()
        .any(|n| memchr::memmem::find(text, n).is_some())
}

/// Applies the plan to one file; without a plan (a file given alone), reports what still names
/// the crates and rewrites `tonic::include_file_descriptor_set!` to its expansion.
pub struct CleanupPass<'c> {
    pub ctx: Option<&'c CrateCtx>,
}

impl Pass for CleanupPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        if let Some(plan) = self.ctx.and_then(|c| c.plan::<Plan>()) {
            let Some(fp) = file.path.and_then(|p| plan.files.get(p)) else {
                return;
            };
            if !fp.edits.is_empty() {
                if let Err(o) = out.commit(fp.edits.clone()) {
                    out.items.push(item(
                        fp.edits[0].range.start,
                        "conflict",
                        format!("step 9's edits of this file were not applied: {o}"),
                        "remove the tonic code generation by hand",
                    ));
                }
            }
            out.items.extend(fp.items.iter().cloned());
            return;
        }
        let none = HashSet::new();
        let watch = Watch {
            extra: &none,
            stubs: &none,
        };
        let sc = scan::scan_file(file.text, file.file, file.index, &watch);
        let tests = handler_tests::rewrite(file.text, file.file, file.index);
        let mut edits = tests.edits;
        edits.extend(tests.imports);
        out.items.extend(tests.items);
        if memchr::memmem::find(file.text.as_bytes(), b"include_file_descriptor_set").is_some() {
            if let Ok(incs) = buildrs::find_proto_includes(file.text) {
                for inc in incs
                    .iter()
                    .filter(|i| i.kind == IncludeKind::FileDescriptorSet)
                {
                    edits.push(Edit::replace(
                        inc.range.clone(),
                        include_bytes_text(&inc.out_dir_file),
                        "step09/descriptor-set",
                    ));
                }
            }
        }
        let committed = !edits.is_empty() && out.commit(edits.clone()).is_ok();
        let gone: Vec<Range<usize>> = if committed {
            edits.iter().map(|e| e.range.clone()).collect()
        } else {
            Vec::new()
        };
        for r in sc.refs.iter().filter(|r| !inside(&r.range, &gone)) {
            out.items.push(ref_item(r));
        }
        out.items
            .extend(hosting::standalone_items(file.text, file.file, file.index));
    }
}

fn item(offset: usize, rule: &str, message: String, note: &str) -> ManualItem {
    manual_at(offset, format!("step09/{rule}"), message, note)
}

fn inside(r: &Range<usize>, edits: &[Range<usize>]) -> bool {
    edits.iter().any(|e| e.start <= r.start && r.end <= e.end)
}

/// `include_bytes!` of a file of `OUT_DIR`.
fn include_bytes_text(out_dir_file: &str) -> String {
    format!("include_bytes!(concat!(env!(\"OUT_DIR\"), \"/{out_dir_file}\"))")
}

/// What to do about a reference to a crate of the family.
fn advice(krate: &str) -> &'static str {
    match krate {
        "connect_shim" => "replace the shim call with native connectrpc code (steps 2-8 do it where they can); connect-shim is removed once nothing names it",
        k if k.starts_with("prost") => "move it to buffa / buffa-types (the messages are buffa since step 1); prost is removed once nothing names it",
        "tonic_health" => "serve health with connectrpc-health (step 5); tonic-health is removed once nothing names it",
        "tonic_reflection" => "serve reflection with connectrpc-reflection (step 5); tonic-reflection is removed once nothing names it",
        "tonic_web" => "drop tonic-web: connectrpc serves gRPC-Web natively (step 5)",
        _ => "migrate it to connectrpc (steps 2-8, or by hand); the dependency is removed once nothing names it",
    }
}

fn ref_item(r: &Ref) -> ManualItem {
    item(
        r.range.start,
        "still-used",
        format!(
            "`{}` still names `{}`: the dependency stays",
            r.what, r.krate
        ),
        advice(&r.krate),
    )
}

/// A dependency entry of the family in one table of a manifest.
#[derive(Debug, Clone)]
struct DepEntry {
    table: Vec<String>,
    key: String,
    /// The name code uses (`key` with `_`).
    ident: String,
    /// The package, `_` spelling.
    package: String,
}

fn family_entries(doc: &DocumentMut) -> Vec<DepEntry> {
    let mut out = Vec::new();
    for (path, t) in crate::manifest::dep_tables(doc) {
        for (k, i) in t.iter() {
            let pkg = crate::manifest::package_of(k, i).replace('-', "_");
            if is_family(&pkg) {
                out.push(DepEntry {
                    table: path.clone(),
                    key: k.to_string(),
                    ident: k.replace('-', "_"),
                    package: pkg,
                });
            }
        }
    }
    out
}

/// A connectrpc-build run in `build.rs`.
#[derive(Debug, Clone)]
struct ConnectRun {
    /// `emit_descriptor_set` names.
    emits: Vec<String>,
    /// Its output directory relative to `OUT_DIR` (`connect/`), when known.
    dir: Option<String>,
}

struct BuildFacts {
    connect: Vec<ConnectRun>,
    /// `std::fs::create_dir_all(out_dir.join("tonic"))` statements.
    dir_stmts: Vec<Range<usize>>,
}

fn build_facts(file: &syn::File, text: &str) -> BuildFacts {
    struct V<'a> {
        text: &'a str,
        facts: BuildFacts,
    }
    fn lit(e: &syn::Expr) -> Option<String> {
        match e {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            syn::Expr::Reference(r) => lit(&r.expr),
            _ => None,
        }
    }
    impl<'ast> Visit<'ast> for V<'_> {
        fn visit_block(&mut self, b: &'ast syn::Block) {
            for s in &b.stmts {
                let r = range(s.span());
                let src = &self.text[r.clone()];
                if src.contains("create_dir_all")
                    && src.contains("\"tonic\"")
                    && !src.contains("connectrpc_build")
                    && matches!(s, syn::Stmt::Expr(_, Some(_)))
                {
                    self.facts.dir_stmts.push(r);
                }
            }
            syn::visit::visit_block(self, b);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            let mut calls = vec![m];
            let mut e = &*m.receiver;
            while let syn::Expr::MethodCall(inner) = e {
                calls.push(inner);
                e = &inner.receiver;
            }
            let is_connect = match e {
                syn::Expr::Call(c) => matches!(&*c.func, syn::Expr::Path(p)
                    if p.path.segments.iter().any(|s| s.ident == "connectrpc_build")),
                _ => false,
            };
            if !is_connect {
                syn::visit::visit_expr_method_call(self, m);
                return;
            }
            let mut run = ConnectRun {
                emits: Vec::new(),
                dir: Some(String::new()),
            };
            for c in calls.iter().rev() {
                match c.method.to_string().as_str() {
                    "emit_descriptor_set" => {
                        if let Some(n) = c.args.first().and_then(lit) {
                            run.emits.push(n);
                        }
                    }
                    "out_dir" => {
                        let src = quote::ToTokens::to_token_stream(&c.args)
                            .to_string()
                            .replace(' ', "");
                        run.dir = src.split(".join(\"").nth(1).and_then(|rest| {
                            let sub = rest.split('"').next()?;
                            (src.matches(".join(").count() == 1).then(|| format!("{sub}/"))
                        });
                    }
                    _ => {}
                }
            }
            self.facts.connect.push(run);
        }
    }
    let mut v = V {
        text,
        facts: BuildFacts {
            connect: Vec::new(),
            dir_stmts: Vec::new(),
        },
    };
    v.visit_file(file);
    v.facts
}

/// One source file as prepared.
struct FileData {
    text: String,
    scan: FileScan,
    includes: Vec<ProtoInclude>,
    /// Handler tests moved off `connect_shim::tonic_call_connect!`.
    tests: handler_tests::Rewrite,
    /// Private aliases naming `tonic::Response`, with their rewrite ([`aliases`]).
    aliases: Vec<(String, Edit)>,
    /// Interceptor functions and the file's rewrite to their connect shape ([`interceptors`]).
    interceptors: interceptors::FileInterceptors,
    /// The functions its `connect_shim::server::TonicInterceptor::new` calls run.
    registrations: Vec<Option<Vec<String>>>,
}

/// The codegen side of one crate.
struct Codegen {
    build_rs: Option<PathBuf>,
    calls: Vec<buildrs::CodegenCall>,
    imports: Vec<Range<usize>>,
    unrecognised: Vec<buildrs::Unrecognised>,
    facts: BuildFacts,
    schema: Result<Arc<Schema>, String>,
    /// See [`buildrs::BuildRsScan::post_processing`]: step 1 left tonic's stubs at the root of
    /// `OUT_DIR`, where the build script reads them; the codegen stays.
    post_processing: Option<usize>,
    /// See [`import_used_elsewhere`]: the codegen stays.
    import_used: Option<(String, usize)>,
}

fn load_schema(c: &Crate, calls: &[buildrs::CodegenCall]) -> Result<Arc<Schema>, String> {
    let (files, includes) =
        buildrs::codegen_inputs(calls, c.target_dir.as_deref(), &c.name, &c.dir)?;
    let includes: Vec<PathBuf> = includes
        .into_iter()
        .map(|p| if p.is_absolute() { p } else { c.dir.join(p) })
        .collect();
    let files: Vec<PathBuf> = files
        .into_iter()
        .map(|f| {
            if c.dir.join(&f).exists() {
                c.dir.join(f)
            } else {
                f
            }
        })
        .collect();
    Schema::load(&files, &includes)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

fn analyse_build(c: &Crate) -> Option<(Codegen, String)> {
    let path = c.build_rs.as_ref()?;
    let src = std::fs::read_to_string(path).ok()?;
    let body = src.strip_prefix('\u{feff}').unwrap_or(&src).to_string();
    if !body.contains("tonic") && !body.contains("connectrpc_build") {
        return None;
    }
    let scan = buildrs::scan_build_rs(&body, &c.dir).ok()?;
    let file = syn::parse_file(&body).ok()?;
    let facts = build_facts(&file, &body);
    let imports: Vec<Range<usize>> = scan.imports.iter().map(|i| i.range.clone()).collect();
    // Before the spans go.
    let import_used = import_used_elsewhere(&scan.calls, &imports, &facts.dir_stmts, &body, &file);
    proc_macro2::extra::invalidate_current_thread_spans();
    let schema = if scan.calls.is_empty() {
        Err("no tonic codegen call".into())
    } else {
        load_schema(c, &scan.calls)
    };
    Some((
        Codegen {
            build_rs: Some(path.clone()),
            calls: scan.calls,
            imports,
            unrecognised: scan.unrecognised,
            facts,
            schema,
            post_processing: scan.post_processing,
            import_used,
        },
        body,
    ))
}

/// Every member of the workspace, when cargo says.
fn all_members(ws: &Workspace) -> Option<Vec<Member>> {
    let manifest = ws.root.join("Cargo.toml");
    if !manifest.is_file() {
        return None;
    }
    let meta = cargo_metadata::MetadataCommand::new()
        .no_deps()
        .manifest_path(&manifest)
        .exec()
        .ok()?;
    let names: HashSet<String> = meta
        .workspace_packages()
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    Some(
        meta.workspace_packages()
            .iter()
            .map(|p| Member {
                name: p.name.to_string(),
                manifest_path: p.manifest_path.clone().into(),
                local_deps: p
                    .dependencies
                    .iter()
                    .filter(|d| names.contains(d.name.as_str()))
                    .map(|d| d.name.clone())
                    .collect(),
            })
            .collect(),
    )
}

/// The 1-based line of a dependency key of `table` (`["dependencies"]`, `["target",
/// "cfg(unix)", "dependencies"]`) in a manifest's text.
fn key_line(text: &str, table: &[String], key: &str) -> usize {
    let norm = |s: &str| s.replace([' ', '\'', '"'], "");
    let header = norm(&format!("[{}]", table.join(".")));
    let sub = norm(&format!("[{}.{key}]", table.join(".")));
    let lines: Vec<&str> = text.lines().collect();
    if let Some(i) = lines.iter().position(|l| norm(l.trim()) == sub) {
        return i + 1;
    }
    let found = lines.iter().position(|l| norm(l.trim()) == header);
    let from = found.unwrap_or(0);
    for (i, line) in lines.iter().enumerate().skip(from) {
        if found.is_some() && i > from && line.trim_start().starts_with('[') {
            break;
        }
        let t = line.trim_start();
        let rest = t.strip_prefix(key).or_else(|| {
            t.strip_prefix('"')
                .and_then(|x| x.strip_prefix(key))
                .and_then(|x| x.strip_prefix('"'))
        });
        if let Some(rest) = rest {
            let rest = rest.trim_start();
            if rest.starts_with('=') || rest.starts_with('.') {
                return i + 1;
            }
        }
    }
    1
}

/// Remove `key` from a table; comment lines above it move to the key that follows.
fn remove_keeping_comments(t: &mut dyn toml_edit::TableLike, key: &str) {
    let prefix = t
        .key(key)
        .and_then(|k| k.leaf_decor().prefix())
        .and_then(|p| p.as_str())
        .map(str::to_string);
    let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    let next = keys
        .iter()
        .position(|k| k == key)
        .and_then(|i| keys.get(i + 1))
        .cloned();
    t.remove(key);
    if let (Some(p), Some(n)) = (prefix, next) {
        if p.contains('#') {
            if let Some(mut k) = t.key_mut(&n) {
                let own = k
                    .leaf_decor()
                    .prefix()
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_string();
                k.leaf_decor_mut()
                    .set_prefix(format!("{p}{}", own.trim_start_matches('\n')));
            }
        }
    }
}

/// Remove `entries` from a manifest and the `[features]` values that name them.
fn remove_entries(doc: &mut DocumentMut, entries: &[&DepEntry]) {
    fn table_at<'a>(
        t: &'a mut toml_edit::Table,
        path: &[String],
    ) -> Option<&'a mut toml_edit::Table> {
        match path.split_first() {
            None => Some(t),
            Some((seg, rest)) => table_at(t.get_mut(seg)?.as_table_mut()?, rest),
        }
    }
    for e in entries {
        let Some(t) = table_at(doc.as_table_mut(), &e.table) else {
            continue;
        };
        remove_keeping_comments(t, &e.key);
        // A table this emptied goes too (`[target.'cfg(unix)'.dependencies]` and its parents).
        if t.is_empty() {
            for depth in (1..=e.table.len()).rev() {
                let (parent, last) = e.table[..depth].split_at(depth - 1);
                let Some(p) = table_at(doc.as_table_mut(), parent) else {
                    break;
                };
                if p.get(&last[0])
                    .and_then(Item::as_table)
                    .is_some_and(|t| t.is_empty())
                {
                    p.remove(&last[0]);
                } else {
                    break;
                }
            }
        }
    }
    let gone: HashSet<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    // A key removed from one table may stay in another (a build-dependency kept).
    let still: HashSet<String> = family_entries(doc).into_iter().map(|e| e.key).collect();
    let gone: Vec<&str> = gone.into_iter().filter(|k| !still.contains(*k)).collect();
    let Some(features) = doc.get_mut("features").and_then(Item::as_table_like_mut) else {
        return;
    };
    let explicit: HashSet<String> = features.iter().map(|(k, _)| k.to_string()).collect();
    for (_, v) in features.iter_mut() {
        let Some(arr) = v.as_array_mut() else {
            continue;
        };
        let names_gone = |x: &toml_edit::Value| {
            x.as_str().is_some_and(|s| {
                gone.iter().any(|k| {
                    s == format!("dep:{k}")
                        || s.starts_with(&format!("{k}/"))
                        || s.starts_with(&format!("{k}?/"))
                        || (s == *k && !explicit.contains(*k))
                })
            })
        };
        // The first value's leading space goes to whichever value comes first now.
        let first_prefix = arr.get(0).and_then(|v| v.decor().prefix().cloned());
        let first_gone = arr.get(0).is_some_and(names_gone);
        arr.retain(|x| !names_gone(x));
        if first_gone {
            if let (Some(v), Some(p)) = (arr.get_mut(0), first_prefix) {
                v.decor_mut().set_prefix(p);
            }
        }
    }
}

/// Analyse the workspace: what still needs tonic, prost and the shim, and what can go.
pub fn prepare(ws: &Workspace) -> Prepared {
    let input = Input::read(ws);
    let mut st = Planning::default();
    for c in &input.crates {
        st.plan_codegen(&input, c);
    }
    st.plan_handler_tests(&input);
    let needs_deps: Vec<&Crate> = input
        .crates
        .iter()
        .copied()
        .filter(|c| !st.frozen.contains(&c.name) && st.plan_hosting(&input, c))
        .collect();
    st.plan_aliases(&input);
    st.plan_unused_imports(&input);
    let left = st.references_left(&input);
    let mut new_texts: HashMap<PathBuf, String> = HashMap::new();
    for c in &input.crates {
        if let Some(new) = st.plan_manifest(&input, c, &left) {
            new_texts.insert(c.manifest_path.clone(), new);
        }
    }
    for c in needs_deps {
        st.add_hosting_deps(&input, c, &mut new_texts);
    }
    if let Some(m) = &input.members {
        unused_workspace_deps(ws, m, &mut new_texts);
    }
    st.finish(input, new_texts)
}

/// A workspace member as cargo reports it.
struct Member {
    name: String,
    manifest_path: PathBuf,
    /// The workspace crates it depends on.
    local_deps: Vec<String>,
}

/// One scanned source file: its data when step 9 may touch it, and the identifiers of its
/// `macro_rules!` bodies (a macro may expand against the caller's imports).
struct Scanned {
    path: PathBuf,
    krate: String,
    data: Option<FileData>,
    macro_idents: HashSet<String>,
}

/// What step 9 reads of the selection, once.
struct Input<'w> {
    ws: &'w Workspace,
    /// The selected crates with a manifest and a module tree.
    crates: Vec<&'w Crate>,
    /// Manifest texts, by path.
    manifests: HashMap<PathBuf, String>,
    /// The family's dependency entries of each crate.
    entries: HashMap<String, Vec<DepEntry>>,
    codegen: HashMap<String, Codegen>,
    /// `build.rs` texts, by path.
    build_texts: HashMap<PathBuf, String>,
    /// Generated files (an `@generated` header): never edited, but what they name counts.
    generated: HashSet<&'w PathBuf>,
    /// The scanned files step 9 may touch, with their crate.
    files: BTreeMap<PathBuf, (String, FileData)>,
    /// Identifiers used inside the workspace's `macro_rules!` bodies.
    macro_names: HashSet<String>,
    members: Option<Vec<Member>>,
}

impl<'w> Input<'w> {
    fn read(ws: &'w Workspace) -> Self {
        // Files given as paths (no module tree, no manifest to trust): each file on its own.
        let crates: Vec<&Crate> = ws
            .crates
            .iter()
            .filter(|c| {
                c.manifest_path.is_file() && c.files.iter().all(|f| f.module_path.is_some())
            })
            .collect();
        // Manifests.
        let mut manifests: HashMap<PathBuf, String> = HashMap::new();
        let mut entries: HashMap<String, Vec<DepEntry>> = HashMap::new();
        for c in &crates {
            let Ok(text) = std::fs::read_to_string(&c.manifest_path) else {
                continue;
            };
            if let Ok(doc) = text.parse::<DocumentMut>() {
                entries.insert(c.name.clone(), family_entries(&doc));
            }
            manifests.insert(c.manifest_path.clone(), text);
        }
        // Codegen.
        let mut codegen: HashMap<String, Codegen> = HashMap::new();
        let mut build_texts: HashMap<PathBuf, String> = HashMap::new();
        for c in &crates {
            if let Some((cg, text)) = analyse_build(c) {
                build_texts.insert(cg.build_rs.clone().unwrap(), text);
                codegen.insert(c.name.clone(), cg);
            }
        }
        let all_stubs: HashSet<String> =
            codegen.keys().flat_map(|n| stubs_of(&codegen, n)).collect();
        let generated: HashSet<&PathBuf> = crates.iter().flat_map(|c| c.generated.iter()).collect();
        let mut macro_names: HashSet<String> = HashSet::new();
        let mut files: BTreeMap<PathBuf, (String, FileData)> = BTreeMap::new();
        for s in scan_files(&crates, &entries, &all_stubs) {
            macro_names.extend(s.macro_idents);
            if let Some(d) = s.data {
                files.insert(s.path, (s.krate, d));
            }
        }
        Input {
            ws,
            crates,
            manifests,
            entries,
            codegen,
            build_texts,
            generated,
            files,
            macro_names,
            members: all_members(ws),
        }
    }

    /// `path:line` of an offset of a file, relative to the workspace root.
    fn loc(&self, p: &Path, text: &str, at: usize) -> String {
        let (l, _) = line_col(text, at);
        format!("{}:{l}", rel(&self.ws.root, p))
    }

    /// The identifiers of the family's dependency entries of crate `name` (renames included).
    fn entry_idents(&self, name: &str) -> HashSet<String> {
        self.entries
            .get(name)
            .map(|v| v.iter().map(|e| e.ident.clone()).collect())
            .unwrap_or_default()
    }
}

/// The names connect_shim goes by in crate `name` (`connect_shim` and its renames).
fn shim_names(entries: &HashMap<String, Vec<DepEntry>>, name: &str) -> HashSet<String> {
    let mut shim: HashSet<String> = ["connect_shim".to_string()].into();
    shim.extend(
        entries
            .get(name)
            .into_iter()
            .flatten()
            .filter(|e| e.package == "connect_shim")
            .map(|e| e.ident.clone()),
    );
    shim
}

/// The tonic stub modules (server and client) of crate `name`'s codegen.
fn stubs_of(codegen: &HashMap<String, Codegen>, name: &str) -> HashSet<String> {
    codegen
        .get(name)
        .and_then(|cg| cg.schema.as_ref().ok())
        .map(|s| {
            s.services
                .iter()
                .flat_map(|s| [s.tonic_server_mod.clone(), s.tonic_client_mod.clone()])
                .collect()
        })
        .unwrap_or_default()
}

/// Scans the crates' files (generated ones included), in parallel.
fn scan_files(
    crates: &[&Crate],
    entries: &HashMap<String, Vec<DepEntry>>,
    all_stubs: &HashSet<String>,
) -> Vec<Scanned> {
    use rayon::prelude::*;
    let gen_files: Vec<crate::workspace::SourceFile> = crates
        .iter()
        .flat_map(|c| c.generated.iter())
        .map(|p| crate::workspace::SourceFile {
            path: p.clone(),
            module_path: None,
        })
        .collect();
    let jobs: Vec<(&Crate, &crate::workspace::SourceFile)> = crates
        .iter()
        .flat_map(|c| {
            c.files
                .iter()
                .chain(gen_files.iter().filter(|g| c.generated.contains(&g.path)))
                .map(move |f| (*c, f))
        })
        .collect();
    jobs.par_iter()
        .filter_map(|(c, f)| scan_one(c, f, entries, all_stubs))
        .collect()
}

/// Scans one file: `None` when it cannot be read or parsed.
fn scan_one(
    c: &Crate,
    f: &crate::workspace::SourceFile,
    entries: &HashMap<String, Vec<DepEntry>>,
    all_stubs: &HashSet<String>,
) -> Option<Scanned> {
    let extra: HashSet<String> = entries
        .get(&c.name)
        .map(|v| v.iter().map(|e| e.ident.clone()).collect())
        .unwrap_or_default();
    let raw = std::fs::read_to_string(&f.path).ok()?;
    let text = raw.strip_prefix('\u{feff}').unwrap_or(&raw).to_string();
    let b = text.as_bytes();
    let relevant = prefilter(b)
        || memchr::memmem::find(b, b"OUT_DIR").is_some()
        || extra
            .iter()
            .chain(all_stubs.iter())
            .any(|n| memchr::memmem::find(b, n.as_bytes()).is_some());
    let has_macros = text.contains("macro_rules!");
    if !relevant && !has_macros {
        return None;
    }
    let file = syn::parse_file(&text).ok()?;
    let macro_idents = if has_macros {
        macro_rules_idents(&file)
    } else {
        HashSet::new()
    };
    if !relevant {
        drop(file);
        proc_macro2::extra::invalidate_current_thread_spans();
        return Some(Scanned {
            path: f.path.clone(),
            krate: c.name.clone(),
            data: None,
            macro_idents,
        });
    }
    let idx = FileIndex::build(&file, f.module_path.clone());
    let watch = Watch {
        extra: &extra,
        stubs: all_stubs,
    };
    let scan = scan::scan_file(&text, &file, &idx, &watch);
    let tests = handler_tests::rewrite(&text, &file, &idx);
    let aliases = if text.contains("Response") {
        aliases::candidates(&file, &idx)
    } else {
        Vec::new()
    };
    let intercept = interceptors::convert_file(&text, &file, &idx, f.module_path.as_deref());
    let registrations = if text.contains("TonicInterceptor") {
        hosting::registrations(&file, &idx, &shim_names(entries, &c.name))
    } else {
        Vec::new()
    };
    drop(idx);
    drop(file);
    let includes = if text.contains("OUT_DIR") || text.contains("include_") {
        buildrs::find_proto_includes(&text).unwrap_or_default()
    } else {
        Vec::new()
    };
    proc_macro2::extra::invalidate_current_thread_spans();
    Some(Scanned {
        path: f.path.clone(),
        krate: c.name.clone(),
        data: Some(FileData {
            text,
            scan,
            includes,
            tests,
            aliases,
            interceptors: intercept,
            registrations,
        }),
        macro_idents,
    })
}

/// What step 9 plans, built up phase by phase.
#[derive(Default)]
struct Planning {
    out: Prepared,
    plan: HashMap<PathBuf, FilePlan>,
    /// Per file: ranges step 9 deletes or rewrites (the references inside them are gone).
    gone: HashMap<PathBuf, Vec<Range<usize>>>,
    /// Crates whose tonic stubs stay, with where they are included.
    stubs_kept: HashMap<String, String>,
    /// Crates that are not past step 1: left alone.
    frozen: HashSet<String>,
}

impl Planning {
    /// Crate `c`'s tonic codegen: removed (build.rs calls, module includes) when nothing needs
    /// it any more, kept and reported otherwise; its descriptor-set macros re-targeted.
    fn plan_codegen(&mut self, input: &Input<'_>, c: &Crate) {
        let ws = input.ws;
        let files = &input.files;
        let cg = input.codegen.get(&c.name);
        let own_files: Vec<&PathBuf> = c.files.iter().map(|f| &f.path).collect();
        // Stubs step 1 left at the root of OUT_DIR (the build script read them there): a
        // package's file there once the codegen is step 1's.
        let at_root = |file: &str| {
            cg.is_some_and(|g| {
                !g.calls.is_empty()
                    && g.calls.iter().all(|k| k.already_step1)
                    && g.schema.as_ref().is_ok_and(|s| {
                        file.strip_suffix(".rs")
                            .is_some_and(|p| s.package(p).is_some())
                    })
            })
        };
        let tonic_includes: Vec<(PathBuf, ProtoInclude)> = own_files
            .iter()
            .filter_map(|p| files.get(*p).map(|(_, d)| (*p, d)))
            .flat_map(|(p, d)| {
                d.includes
                    .iter()
                    .filter(|i| {
                        i.kind == IncludeKind::IncludeOutDir
                            && (i.out_dir_file.starts_with("tonic/")
                                || (!i.out_dir_file.contains('/') && at_root(&i.out_dir_file)))
                    })
                    .map(move |i| (p.clone(), i.clone()))
            })
            .collect();
        let include_proto = own_files.iter().find_map(|p| {
            let (_, d) = files.get(*p)?;
            d.includes
                .iter()
                .find(|i| i.kind == IncludeKind::IncludeProto)
                .map(|i| (p.to_path_buf(), i.range.start, d.text.clone()))
        });
        let calls: &[buildrs::CodegenCall] = cg.map(|g| g.calls.as_slice()).unwrap_or(&[]);
        // A crate that never started the migration (neither it nor a workspace crate it depends
        // on has connectrpc) is not cleaned up: its tonic/prost dependencies may serve code no
        // source file shows (OUT_DIR includes, macros).
        let started = c.has_connectrpc
            || c.local_deps
                .iter()
                .any(|d| ws.crates.iter().any(|o| &o.name == d && o.has_connectrpc));
        let pre_step1 =
            calls.iter().any(|k| !k.already_step1) || include_proto.is_some() || !started;
        if pre_step1 {
            self.frozen.insert(c.name.clone());
            self.out.items.push(ItemReport {
                path: rel(&ws.root, &c.manifest_path),
                krate: c.name.clone(),
                line: 1,
                column: 1,
                rule: "step09/step1-first".into(),
                kind: ItemKind::Manual,
                message: format!(
                    "crate `{}` still generates its messages with tonic/prost (step 1 was not applied): its gRPC code generation cannot be removed yet",
                    c.name
                ),
                note: "apply steps 1 to 8 first, then step 9".into(),
            });
            return;
        }
        let build_text = cg
            .and_then(|g| g.build_rs.as_ref())
            .and_then(|p| input.build_texts.get(p));
        if calls.is_empty() && tonic_includes.is_empty() {
            // No tonic codegen: only `include_file_descriptor_set!` may need a new target.
            rewrite_descriptor_macros(c, cg, &[], files, &mut self.plan, &mut self.gone);
            return;
        }
        let cg = cg.expect("calls come from the codegen analysis");
        let build_rs = cg.build_rs.clone().unwrap();
        let build_text = build_text.cloned().unwrap_or_default();
        let mut reasons = codegen_needed(input, c, cg, &build_text);
        let descriptors = descriptor_sets(cg, &mut reasons);
        if !reasons.is_empty() {
            let at = tonic_includes
                .first()
                .map(|(p, i)| (p.clone(), i.range.start))
                .or_else(|| {
                    calls
                        .first()
                        .map(|k| (build_rs.clone(), k.stmt_range.start))
                });
            let where_ = match &at {
                Some((p, o)) => {
                    let t = files
                        .get(p)
                        .map(|(_, d)| d.text.as_str())
                        .unwrap_or(build_text.as_str());
                    input.loc(p, t, *o)
                }
                None => rel(&ws.root, &build_rs),
            };
            self.stubs_kept.insert(c.name.clone(), where_);
            let message = format!("tonic's code generation stays: {}", reasons.join("; "));
            let note = "migrate what still uses tonic's stubs (steps 2, 5, 6 and 8), then run step 9 again";
            for (p, inc) in &tonic_includes {
                self.plan.entry(p.clone()).or_default().items.push(item(
                    inc.range.start,
                    "tonic-codegen-kept",
                    message.clone(),
                    note,
                ));
            }
            if let Some(k) = calls.first() {
                self.plan
                    .entry(build_rs.clone())
                    .or_default()
                    .items
                    .push(item(
                        k.stmt_range.start,
                        "tonic-codegen-kept",
                        message.clone(),
                        note,
                    ));
            }
            rewrite_descriptor_macros(c, Some(cg), &[], files, &mut self.plan, &mut self.gone);
            return;
        }
        self.remove_codegen(input, cg, &build_rs, &build_text, &tonic_includes);
        rewrite_descriptor_macros(
            c,
            Some(cg),
            &descriptors,
            files,
            &mut self.plan,
            &mut self.gone,
        );
    }

    /// Deletes the tonic codegen: the build.rs calls (and their set-up, directory statements
    /// and imports), and the modules' includes of tonic's output.
    fn remove_codegen(
        &mut self,
        input: &Input<'_>,
        cg: &Codegen,
        build_rs: &Path,
        build_text: &str,
        tonic_includes: &[(PathBuf, ProtoInclude)],
    ) {
        // Remove: build.rs.
        let mut b_edits: Vec<Range<usize>> = Vec::new();
        for call in &cg.calls {
            b_edits.push(whole_lines(build_text, call.stmt_range.clone()));
            b_edits.extend(call.setup_removals(build_text));
        }
        for r in cg.facts.dir_stmts.iter().chain(&cg.imports) {
            b_edits.push(whole_lines(build_text, r.clone()));
        }
        b_edits.sort_by_key(|r| (r.start, r.end));
        b_edits.dedup();
        let fp = self.plan.entry(build_rs.to_path_buf()).or_default();
        for r in &b_edits {
            fp.edits.push(Edit::delete(r.clone(), "step09/build-rs"));
        }
        self.gone
            .entry(build_rs.to_path_buf())
            .or_default()
            .extend(b_edits);
        // The modules.
        for (p, inc) in tonic_includes {
            let text = &input.files[p].1.text;
            let mut r = inc.range.clone();
            if text[r.end..].starts_with(';') {
                r.end += 1;
            }
            let r = whole_lines(text, r);
            self.plan
                .entry(p.clone())
                .or_default()
                .edits
                .push(Edit::delete(r.clone(), "step09/module"));
            self.gone.entry(p.clone()).or_default().push(r);
        }
    }

    /// Handler tests off the shim's `tonic_call_connect!`.
    fn plan_handler_tests(&mut self, input: &Input<'_>) {
        for (p, (owner, d)) in &input.files {
            if self.frozen.contains(owner) || input.generated.contains(p) {
                continue;
            }
            let t = &d.tests;
            if t.edits.is_empty() && t.items.is_empty() {
                continue;
            }
            let fp = self.plan.entry(p.clone()).or_default();
            fp.edits.extend(t.edits.iter().cloned());
            fp.items.extend(t.items.iter().cloned());
            self.gone
                .entry(p.clone())
                .or_default()
                .extend(t.edits.iter().map(|e| e.range.clone()));
        }
    }

    /// Servers hosted through connect_shim::hosting::connect_app: the hosting code moves into
    /// the crate. Returns whether the crate needs the hosting dependencies.
    fn plan_hosting(&mut self, input: &Input<'_>, c: &Crate) -> bool {
        let texts: BTreeMap<PathBuf, &str> = c
            .files
            .iter()
            .filter_map(|f| {
                input
                    .files
                    .get(&f.path)
                    .map(|(_, d)| (f.path.clone(), d.text.as_str()))
            })
            .collect();
        let shim = shim_names(&input.entries, &c.name);
        let converted =
            plan_interceptors(input.ws, c, &input.files, &mut self.plan, &mut self.gone);
        let hp = hosting::plan_crate(input.ws, c, &texts, &shim, &self.plan, &converted);
        for (p, r) in hp.files {
            let fp = self.plan.entry(p.clone()).or_default();
            fp.edits.extend(r.edits);
            fp.items.extend(r.items);
            self.gone.entry(p).or_default().extend(r.gone);
        }
        // tonic's TcpIncoming served through the shim's incoming_listener ([`incoming`]).
        for (p, r) in incoming::plan_crate(c, &texts, &shim) {
            let g = self.gone.entry(p.clone()).or_default();
            let fp = self.plan.entry(p).or_default();
            if r.edits.iter().any(|e| {
                fp.edits
                    .iter()
                    .any(|o| o.range.start < e.range.end && e.range.start < o.range.end)
            }) {
                continue;
            }
            fp.edits.extend(r.edits);
            fp.items.extend(r.items);
            g.extend(r.gone);
        }
        self.out.new_files.extend(hp.new_files);
        self.out.items.extend(hp.items);
        hp.needs_deps
    }

    /// Private aliases nothing uses any more that still name tonic's Response ([`aliases`]).
    fn plan_aliases(&mut self, input: &Input<'_>) {
        for c in &input.crates {
            if self.frozen.contains(&c.name) {
                continue;
            }
            let found: Vec<(&PathBuf, &(String, Edit))> = c
                .files
                .iter()
                .filter(|f| !input.generated.contains(&f.path))
                .filter_map(|f| input.files.get(&f.path).map(|(_, d)| (&f.path, d)))
                .flat_map(|(p, d)| d.aliases.iter().map(move |a| (p, a)))
                .collect();
            if found.is_empty() {
                continue;
            }
            // Whether a name appears anywhere in the crate besides its definition.
            let texts: Vec<String> = c
                .files
                .iter()
                .map(|f| match input.files.get(&f.path) {
                    Some((_, d)) => d.text.clone(),
                    None => std::fs::read_to_string(&f.path).unwrap_or_default(),
                })
                .collect();
            for (p, (name, edit)) in found {
                let uses: usize = texts.iter().map(|t| aliases::count_ident(t, name)).sum();
                let g = self.gone.entry(p.clone()).or_default();
                if uses > 1
                    || g.iter()
                        .any(|r| r.start < edit.range.end && edit.range.start < r.end)
                {
                    continue;
                }
                g.push(edit.range.clone());
                self.plan
                    .entry(p.clone())
                    .or_default()
                    .edits
                    .push(edit.clone());
            }
        }
    }

    /// Imports of the family that nothing uses once the edits above are made (or that nothing
    /// used in the first place): they go, so that they do not keep a dependency alive. A name
    /// that a `macro_rules!` body of the workspace uses may be the caller's import the macro
    /// expands against (`let mut req = Request::new($req);`): such imports stay
    /// (`macro_names`, from the scan).
    fn plan_unused_imports(&mut self, input: &Input<'_>) {
        for c in &input.crates {
            if self.frozen.contains(&c.name) {
                continue;
            }
            let extra = input.entry_idents(&c.name);
            for f in &c.files {
                if input.generated.contains(&f.path) {
                    continue;
                }
                let Some((_, d)) = input.files.get(&f.path) else {
                    continue;
                };
                let Some(g) = unused_family_imports(
                    &d.text,
                    f,
                    &extra,
                    &input.macro_names,
                    self.gone.get(&f.path),
                ) else {
                    continue;
                };
                self.gone
                    .entry(f.path.clone())
                    .or_default()
                    .extend(g.iter().map(|e| e.range.clone()));
                self.plan.entry(f.path.clone()).or_default().edits.extend(g);
            }
        }
    }

    /// References left, per file, each reported (and generated code's once per file).
    fn references_left(&mut self, input: &Input<'_>) -> HashMap<PathBuf, Vec<Ref>> {
        let mut left: HashMap<PathBuf, Vec<Ref>> = HashMap::new();
        for (p, (owner, d)) in &input.files {
            if self.frozen.contains(owner) {
                continue;
            }
            let g = self.gone.get(p).map(Vec::as_slice).unwrap_or(&[]);
            let refs: Vec<Ref> = d
                .scan
                .refs
                .iter()
                .filter(|r| !inside(&r.range, g))
                .cloned()
                .collect();
            if input.generated.contains(p) {
                if let Some(r) = refs.first() {
                    let (line, column) = line_col(&d.text, r.range.start);
                    self.out.items.push(ItemReport {
                        path: rel(&input.ws.root, p),
                        krate: owner.clone(),
                        line,
                        column,
                        rule: "step09/generated-code".into(),
                        kind: ItemKind::Manual,
                        message: format!(
                            "generated code names `{}` ({} place(s), first `{}`): the dependency stays",
                            r.krate,
                            refs.len(),
                            r.what
                        ),
                        note: "regenerate it with connectrpc-build (buffa messages, Connect stubs) and delete the checked-in tonic/prost output".into(),
                    });
                }
                left.insert(p.clone(), refs);
                continue;
            }
            let fp = self.plan.entry(p.clone()).or_default();
            for r in &refs {
                fp.items.push(ref_item(r));
            }
            for s in &d.scan.stub_refs {
                fp.items.push(item(
                    s.range.start,
                    "stub-used",
                    format!(
                        "`{}` uses tonic's generated `{}` module: tonic's code generation stays",
                        s.what, s.module
                    ),
                    "move it to the connect stubs (server impls: step 2; hosting: step 5; clients: steps 6 and 8), then run step 9 again",
                ));
            }
            left.insert(p.clone(), refs);
        }
        left
    }

    /// Crate `c`'s manifest without the family's entries nothing uses any more (each kept one
    /// reported); `None` when nothing changes.
    fn plan_manifest(
        &mut self,
        input: &Input<'_>,
        c: &Crate,
        left: &HashMap<PathBuf, Vec<Ref>>,
    ) -> Option<String> {
        if self.frozen.contains(&c.name) {
            return None;
        }
        let (Some(es), Some(text)) = (
            input.entries.get(&c.name),
            input.manifests.get(&c.manifest_path),
        ) else {
            return None;
        };
        if es.is_empty() {
            return None;
        }
        let used = self.used_crates(input, c, left);
        // Tests, examples and benches see the normal dependencies too: one they use stays
        // unless a dev-dependency of the same crate serves them.
        let dev_keys: HashSet<&str> = es
            .iter()
            .filter(|e| e.table.last().map(String::as_str) == Some("dev-dependencies"))
            .map(|e| e.ident.as_str())
            .collect();
        let mut remove: Vec<&DepEntry> = Vec::new();
        for e in es {
            let found = match e.table.last().map(String::as_str) {
                Some("build-dependencies") => used.build.get(&e.ident),
                Some("dev-dependencies") => used.dev.get(&e.ident),
                _ => used.other.get(&e.ident).or_else(|| {
                    (!dev_keys.contains(e.ident.as_str()))
                        .then(|| used.dev.get(&e.ident))
                        .flatten()
                }),
            };
            match found {
                Some(first) => self.out.items.push(ItemReport {
                    path: rel(&input.ws.root, &c.manifest_path),
                    krate: c.name.clone(),
                    line: key_line(text, &e.table, &e.key),
                    column: 1,
                    rule: "step09/dep-kept".into(),
                    kind: ItemKind::Manual,
                    message: format!(
                        "`{}` stays in [{}]: it is still used (first: {first})",
                        e.key,
                        e.table.join(".")
                    ),
                    note:
                        "see the step09/still-used items; run step 9 again once they are migrated"
                            .into(),
                }),
                None => remove.push(e),
            }
        }
        if remove.is_empty() {
            return None;
        }
        let mut doc = text.parse::<DocumentMut>().ok()?;
        remove_entries(&mut doc, &remove);
        let new = doc.to_string();
        (&new != text).then_some(new)
    }

    /// What the build script, the crate's own code and its tests / examples / benches still
    /// use, by crate ident, with the first place.
    fn used_crates(
        &self,
        input: &Input<'_>,
        c: &Crate,
        left: &HashMap<PathBuf, Vec<Ref>>,
    ) -> UsedCrates {
        let build_rs = c.build_rs.as_ref();
        let mut used = UsedCrates::default();
        let dev_dirs = ["tests", "benches", "examples"].map(|d| c.dir.join(d));
        for path in c.files.iter().map(|f| &f.path).chain(&c.generated) {
            let Some((_, d)) = input.files.get(path) else {
                continue;
            };
            let dev_file = dev_dirs.iter().any(|d| path.starts_with(d));
            for r in left.get(path).into_iter().flatten() {
                let target = if Some(path) == build_rs {
                    &mut used.build
                } else if dev_file || r.dev {
                    &mut used.dev
                } else {
                    &mut used.other
                };
                target.entry(r.krate.clone()).or_insert_with(|| {
                    format!("{} `{}`", input.loc(path, &d.text, r.range.start), r.what)
                });
            }
        }
        // A dev-dependency serves what the crate's own code uses too.
        for (k, v) in &used.other {
            used.dev.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if let Some(at) = self.stubs_kept.get(&c.name) {
            for k in ["tonic", "connect_shim"] {
                used.other
                    .entry(k.to_string())
                    .or_insert_with(|| format!("tonic's generated stubs (included at {at})"));
            }
        }
        used
    }

    /// What the hosting module needs (axum, connectrpc's `server` feature).
    fn add_hosting_deps(
        &mut self,
        input: &Input<'_>,
        c: &Crate,
        new_texts: &mut HashMap<PathBuf, String>,
    ) {
        let ws = input.ws;
        let root = ws.root.join("Cargo.toml");
        let Some(member) = new_texts
            .get(&c.manifest_path)
            .or_else(|| input.manifests.get(&c.manifest_path))
            .cloned()
        else {
            return;
        };
        let root_text = (c.manifest_path != root).then(|| {
            new_texts
                .get(&root)
                .cloned()
                .or_else(|| std::fs::read_to_string(&root).ok())
                .unwrap_or_default()
        });
        match hosting::ensure_deps(&member, root_text.as_deref(), (&c.dir, &ws.root)) {
            Ok((m, r)) => {
                if m != member {
                    new_texts.insert(c.manifest_path.clone(), m);
                }
                if let Some(r) = r {
                    new_texts.insert(root, r);
                }
            }
            Err(e) => self.out.items.push(ItemReport {
                path: rel(&ws.root, &c.manifest_path),
                krate: c.name.clone(),
                line: 1,
                column: 1,
                rule: "step09/hosting".into(),
                kind: ItemKind::Manual,
                message: format!("Cargo.toml does not parse: {e}"),
                note: "add axum and connectrpc's `server` feature by hand".into(),
            }),
        }
    }

    /// The manifests to rewrite, and every crate of the selection sharing the plan.
    fn finish(mut self, input: Input<'_>, new_texts: HashMap<PathBuf, String>) -> Prepared {
        let mut out = std::mem::take(&mut self.out);
        for (p, new) in new_texts {
            let old = input
                .manifests
                .get(&p)
                .cloned()
                .or_else(|| std::fs::read_to_string(&p).ok())
                .unwrap_or_default();
            if old != new {
                out.manifests.push((p, old, new));
            }
        }
        out.manifests.sort_by(|a, b| a.0.cmp(&b.0));
        // Every crate of the selection shares the plan.
        let plan = Arc::new(Plan { files: self.plan });
        for c in &input.crates {
            let relevant = input.entries.get(&c.name).is_some_and(|e| !e.is_empty())
                || input.codegen.contains_key(&c.name)
                || c.files.iter().any(|f| input.files.contains_key(&f.path));
            if relevant {
                out.ctx.insert(
                    c.name.clone(),
                    Arc::new(CrateCtx::default().with_shared_plan(plan.clone())),
                );
            }
        }
        out
    }
}

/// Why crate `c`'s tonic codegen must stay: unrecognised calls, a schema that does not load,
/// code (its own or a dependent crate's) that still names the stubs, unselected dependents.
fn codegen_needed(input: &Input<'_>, c: &Crate, cg: &Codegen, build_text: &str) -> Vec<String> {
    let ws = input.ws;
    let build_rs = cg.build_rs.clone().unwrap();
    let mut reasons: Vec<String> = Vec::new();
    if let Some((name, at)) = &cg.import_used {
        reasons.push(format!(
            "build.rs uses `{name}` of tonic's codegen crate outside the calls step 9 removes ({}): a config set up where the step does not follow it",
            input.loc(&build_rs, build_text, *at)
        ));
    }
    if let Some(at) = cg.post_processing {
        reasons.push(format!(
            "build.rs reads OUT_DIR besides running the codegen ({}): it may post-process tonic's generated files (step 1 left them at the root of OUT_DIR for it); remove that code, then run step 9 again",
            input.loc(&build_rs, build_text, at)
        ));
    }
    for u in &cg.unrecognised {
        reasons.push(format!(
            "build.rs runs tonic codegen in a form step 9 does not remove ({}: `{}`)",
            input.loc(&build_rs, build_text, u.range.start),
            scan::one_line(&u.source)
        ));
    }
    if let Err(e) = &cg.schema {
        reasons.push(format!(
            "the .proto schema of the tonic codegen does not load ({e}), so its stub modules are unknown"
        ));
    }
    // Who names the stubs: this crate and the workspace crates that depend on it.
    let stubs = stubs_of(&input.codegen, &c.name);
    let mut users: Vec<String> = Vec::new();
    for (p, (owner, d)) in &input.files {
        let dependent = *owner == c.name
            || ws
                .crates
                .iter()
                .any(|o| &o.name == owner && o.local_deps.contains(&c.name));
        if !dependent {
            continue;
        }
        for s in d
            .scan
            .stub_refs
            .iter()
            .filter(|s| stubs.contains(&s.module))
        {
            users.push(format!(
                "{} `{}`",
                input.loc(p, &d.text, s.range.start),
                s.what
            ));
        }
    }
    if !users.is_empty() {
        reasons.push(format!(
            "{} place(s) still use tonic's stub modules (first: {})",
            users.len(),
            users[0]
        ));
    }
    let selected: HashSet<&str> = input.crates.iter().map(|c| c.name.as_str()).collect();
    if let Some(m) = &input.members {
        for member in m {
            if !selected.contains(member.name.as_str()) && member.local_deps.contains(&c.name) {
                reasons.push(format!(
                    "workspace member `{}` depends on this crate and is not selected (select it too, or run with --workspace)",
                    member.name
                ));
            }
        }
    }
    reasons
}

/// A name a tonic codegen import binds (`use tonic_prost_build::Config;`) that build.rs still
/// reads outside what step 9 removes with the codegen (the calls, their folded set-up, the
/// directory statements, the imports): `let mut config = Config::new();` whose set-up the scan
/// could not fold (a `#[cfg]` block). Removing the import and the dependency would leave it
/// unresolved.
fn import_used_elsewhere(
    calls: &[buildrs::CodegenCall],
    imports: &[Range<usize>],
    dir_stmts: &[Range<usize>],
    build_text: &str,
    file: &syn::File,
) -> Option<(String, usize)> {
    let mut names: Vec<String> = Vec::new();
    for r in imports {
        let Ok(u) = syn::parse_str::<syn::ItemUse>(build_text.get(r.clone())?) else {
            continue;
        };
        fn leaves(t: &syn::UseTree, out: &mut Vec<String>) {
            match t {
                syn::UseTree::Path(p) => leaves(&p.tree, out),
                syn::UseTree::Name(n) if n.ident != "self" => out.push(n.ident.to_string()),
                syn::UseTree::Rename(r) if r.rename != "_" => out.push(r.rename.to_string()),
                syn::UseTree::Group(g) => g.items.iter().for_each(|i| leaves(i, out)),
                _ => {}
            }
        }
        leaves(&u.tree, &mut names);
    }
    if names.is_empty() {
        return None;
    }
    let mut removed: Vec<Range<usize>> = Vec::new();
    for call in calls {
        removed.push(call.stmt_range.clone());
        removed.extend(call.setup_removals(build_text));
    }
    removed.extend(dir_stmts.iter().cloned());
    removed.extend(imports.iter().cloned());
    let mut toks = Vec::new();
    crate::steps::common::tokens::flatten(quote::ToTokens::to_token_stream(file), &mut toks);
    toks.iter().enumerate().find_map(|(i, t)| {
        let n = t.ident()?;
        let r = t.range();
        let qualified = i > 0 && toks[i - 1].is_punct(':');
        (!qualified
            && names.iter().any(|x| x == n)
            && !removed.iter().any(|x| x.start <= r.start && r.end <= x.end))
        .then(|| (n.to_string(), r.start))
    })
}

/// Each tonic call's output and descriptor set: the descriptor sets connectrpc-build emits
/// (file name, directory), with a reason added for each output or set it cannot follow.
fn descriptor_sets(cg: &Codegen, reasons: &mut Vec<String>) -> Vec<(String, String)> {
    let mut descriptors: Vec<(String, String)> = Vec::new();
    for call in &cg.calls {
        if let Some(o) = call.option("out_dir") {
            let src = o.args.first().map(|a| a.source.as_str()).unwrap_or("");
            if !src.contains("\"tonic\"") {
                reasons.push(format!(
                    "tonic's stubs are generated into `{src}`, not OUT_DIR/tonic: code may include them from there"
                ));
            }
        }
        if let Some(o) = call.option("file_descriptor_set_path") {
            let src = o.args.first().map(|a| a.source.as_str()).unwrap_or("");
            let in_out_dir = src.contains(&call.out_dir_ident) || src.contains("OUT_DIR");
            let emitted = call.descriptor_set_file.as_ref().and_then(|n| {
                cg.facts
                    .connect
                    .iter()
                    .find(|r| r.emits.contains(n))
                    .and_then(|r| r.dir.clone())
                    .map(|d| (n.clone(), d))
            });
            match emitted {
                Some(e) if in_out_dir => descriptors.push(e),
                _ => reasons.push(format!(
                    "tonic writes a descriptor set (`.file_descriptor_set_path({src})`) that connectrpc-build does not emit into a known place: add `.emit_descriptor_set(\"<name>.bin\")` to the connectrpc-build call and point its readers at OUT_DIR/connect/<name>.bin"
                )),
            }
        }
    }
    descriptors
}

/// The crates a crate's files still use, by where: its build script, its own code, its tests /
/// examples / benches. Each with the first place, for the report.
#[derive(Default)]
struct UsedCrates {
    build: HashMap<String, String>,
    other: HashMap<String, String>,
    dev: HashMap<String, String>,
}

/// `[workspace.dependencies]` of the family that no member inherits any more.
fn unused_workspace_deps(
    ws: &Workspace,
    members: &[Member],
    new_texts: &mut HashMap<PathBuf, String>,
) {
    let root = ws.root.join("Cargo.toml");
    let current = |p: &Path| -> Option<String> {
        new_texts
            .get(p)
            .cloned()
            .or_else(|| std::fs::read_to_string(p).ok())
    };
    let Some(root_text) = current(&root) else {
        return;
    };
    let Ok(mut doc) = root_text.parse::<DocumentMut>() else {
        return;
    };
    let inherited: HashSet<String> = members
        .iter()
        .filter_map(|m| current(&m.manifest_path))
        .filter_map(|t| t.parse::<DocumentMut>().ok())
        .flat_map(|d| {
            crate::manifest::dep_tables(&d)
                .into_iter()
                .flat_map(|(_, t)| {
                    t.iter()
                        .filter(|(_, i)| i.get("workspace").and_then(|w| w.as_bool()) == Some(true))
                        .map(|(k, _)| k.to_string())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let mut changed = false;
    if let Some(wd) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(Item::as_table_like_mut)
    {
        let drop: Vec<String> = wd
            .iter()
            .filter(|(k, i)| {
                let pkg = i
                    .get("package")
                    .and_then(|p| p.as_str())
                    .unwrap_or(k)
                    .replace('-', "_");
                is_family(&pkg) && !inherited.contains(*k)
            })
            .map(|(k, _)| k.to_string())
            .collect();
        for k in drop {
            remove_keeping_comments(wd, &k);
            changed = true;
        }
    }
    if changed {
        new_texts.insert(root, doc.to_string());
    }
}

/// Interceptor functions of crate `c` moved to their connect shape ([`interceptors`]): a file
/// whose functions are all registered through `TonicInterceptor::new` and named nowhere else in
/// the crate (outside their file) is rewritten; the others are reported. Returns the functions.
fn plan_interceptors(
    ws: &Workspace,
    c: &Crate,
    files: &BTreeMap<PathBuf, (String, FileData)>,
    plan: &mut HashMap<PathBuf, FilePlan>,
    gone: &mut HashMap<PathBuf, Vec<Range<usize>>>,
) -> HashSet<Vec<String>> {
    let mut converted = HashSet::new();
    let own: Vec<(&PathBuf, &FileData)> = c
        .files
        .iter()
        .filter_map(|f| files.get(&f.path).map(|(_, d)| (&f.path, d)))
        .collect();
    let registered: Vec<(&PathBuf, &Vec<String>)> = own
        .iter()
        .flat_map(|(p, d)| d.registrations.iter().flatten().map(move |t| (*p, t)))
        .collect();
    for (p, d) in &own {
        let fi = &d.interceptors;
        let Some(result) = &fi.result else {
            continue;
        };
        if !fi
            .fns
            .iter()
            .any(|(f, _)| registered.iter().any(|(_, t)| *t == f))
        {
            continue;
        }
        let why = match result {
            Err(why) => Some(why.clone()),
            Ok(_) => fi.fns.iter().find_map(|(f, _)| {
                let name = f.last().unwrap();
                let elsewhere = own.iter().filter(|(q, _)| q != p).find(|(q, dq)| {
                    let sites = registered
                        .iter()
                        .filter(|(r, t)| r == q && *t == f)
                        .count();
                    aliases::count_ident(&dq.text, name) > sites
                });
                elsewhere.map(|(q, _)| {
                    format!(
                        "`{name}` is also named in {} other than by a TonicInterceptor registration",
                        rel(&ws.root, q)
                    )
                })
            }),
        };
        let fp = plan.entry((*p).clone()).or_default();
        match (why, result) {
            (Some(why), _) => {
                for (f, at) in &fi.fns {
                    fp.items.push(item(
                        *at,
                        "interceptor",
                        format!(
                            "tonic interceptor `{}` stays on connect_shim::server::TonicInterceptor: {why}",
                            f.last().unwrap()
                        ),
                        "rewrite it as `fn(connectrpc::RequestContext) -> Result<connectrpc::RequestContext, connectrpc::ConnectError>` (headers(), extensions_mut()) and register it through ServiceInterceptor (connect_compat) or your own connectrpc::Interceptor",
                    ));
                }
            }
            (None, Ok(edits)) => {
                fp.edits.extend(edits.iter().cloned());
                gone.entry((*p).clone())
                    .or_default()
                    .extend(edits.iter().map(|e| e.range.clone()));
                converted.extend(fi.fns.iter().map(|(f, _)| f.clone()));
            }
            (None, Err(_)) => {}
        }
    }
    converted
}

/// The identifiers used inside the `macro_rules!` definitions of a file.
fn macro_rules_idents(file: &syn::File) -> HashSet<String> {
    fn walk(ts: proc_macro2::TokenStream, out: &mut HashSet<String>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                _ => {}
            }
        }
    }
    struct Defs<'a>(&'a mut HashSet<String>);
    impl<'ast> Visit<'ast> for Defs<'_> {
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if m.path.is_ident("macro_rules") {
                walk(m.tokens.clone(), self.0);
            }
        }
    }
    let mut out = HashSet::new();
    Defs(&mut out).visit_file(file);
    out
}

/// Traits of tonic (0.12-0.14, with what `tonic::codegen` re-exports), prost and tonic-types: an
/// import of one is used by method calls that do not name it.
const FAMILY_TRAITS: &[&str] = &[
    "AsEncodingAgnosticMetadataKey",
    "AsMetadataKey",
    "BytesAdapter",
    "ClientStreamingService",
    "Codec",
    "Connected",
    "Decoder",
    "Encoder",
    "GrpcService",
    "Interceptor",
    "IntoMetadataKey",
    "IntoRequest",
    "IntoStreamingRequest",
    "Message",
    "Name",
    "NamedService",
    "ServerStreamingService",
    "StreamingService",
    "UnaryService",
    "ValueEncoding",
    "Service",
    "Body",
    "Stream",
    "Future",
    "Layer",
    "Buf",
    "BufMut",
];

/// Family traits whose whole use is calling these methods: an import of one is kept only while
/// the file still names one of them (`use tonic::service::Interceptor;` outlives the impl step 6
/// rewrote to a `headers()` method).
const TRAIT_METHODS: &[(&str, &[&str])] = &[
    ("Interceptor", &["call"]),
    ("IntoRequest", &["into_request"]),
    ("IntoStreamingRequest", &["into_streaming_request"]),
];

/// Every identifier of the file's tokens (comments and string literals excluded; macro
/// arguments included).
fn idents_of(file: &syn::File) -> HashSet<String> {
    fn walk(ts: proc_macro2::TokenStream, out: &mut HashSet<String>) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => walk(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut out = HashSet::new();
    walk(quote::ToTokens::to_token_stream(file), &mut out);
    out
}

/// A family trait import that method calls may still use.
fn trait_kept(idents: &HashSet<String>, last: &str) -> bool {
    if let Some((_, methods)) = TRAIT_METHODS.iter().find(|(t, _)| *t == last) {
        return methods.iter().any(|m| idents.contains(*m));
    }
    FAMILY_TRAITS.contains(&last)
}

/// Removals of the private `use` leaves of `text` that import from tonic, prost or connect-shim
/// (or a renamed dependency of theirs, `extra`) and that nothing outside `use` items and outside
/// the `gone` ranges (what step 9 deletes or rewrites in the file) refers to. `None` when there
/// is nothing to remove or the file does not parse.
fn unused_family_imports(
    text: &str,
    f: &crate::workspace::SourceFile,
    extra: &HashSet<String>,
    macro_names: &HashSet<String>,
    gone: Option<&Vec<Range<usize>>>,
) -> Option<Vec<Edit>> {
    let first_segment_named = |t: &str| {
        [&b"tonic"[..], b"prost", b"connect_shim"]
            .iter()
            .any(|n| memchr::memmem::find(t.as_bytes(), n).is_some())
            || extra
                .iter()
                .any(|n| memchr::memmem::find(t.as_bytes(), n.as_bytes()).is_some())
    };
    if !text.contains("use ") || !first_segment_named(text) {
        return None;
    }
    let file = syn::parse_file(text).ok()?;
    let idx = FileIndex::build(&file, f.module_path.clone());
    let replaced: &[Range<usize>] = gone.map(Vec::as_slice).unwrap_or(&[]);
    let idents = idents_of(&file);
    let edits = crate::rules::rename::unused_import_removals(
        &file,
        &idx,
        text,
        replaced,
        |segs| {
            let first = segs.first().copied().unwrap_or("");
            let first = first.strip_prefix("::").unwrap_or(first);
            let last = segs.last().copied().unwrap_or("");
            // A trait is used through its methods without its name appearing: kept.
            (is_family(first) || extra.contains(first))
                && !trait_kept(&idents, last)
                && !last.ends_with("Ext")
                && !macro_names.contains(last)
        },
        "step09/unused-import",
    );
    drop(idx);
    drop(file);
    proc_macro2::extra::invalidate_current_thread_spans();
    // An import inside a range step 9 already rewrites is that edit's business.
    let edits: Vec<Edit> = edits
        .into_iter()
        .filter(|e| {
            !replaced
                .iter()
                .any(|r| r.start < e.range.end && e.range.start < r.end)
        })
        .collect();
    (!edits.is_empty()).then_some(edits)
}

/// `tonic::include_file_descriptor_set!("x")` (and, for descriptor sets tonic no longer writes,
/// `include_bytes!(concat!(env!("OUT_DIR"), "/x.bin"))`) read connectrpc-build's file when it
/// emits one of that name, else the macro's own expansion.
fn rewrite_descriptor_macros(
    c: &Crate,
    cg: Option<&Codegen>,
    moved: &[(String, String)],
    files: &BTreeMap<PathBuf, (String, FileData)>,
    plan: &mut HashMap<PathBuf, FilePlan>,
    gone: &mut HashMap<PathBuf, Vec<Range<usize>>>,
) {
    let connect: &[ConnectRun] = cg.map(|g| g.facts.connect.as_slice()).unwrap_or(&[]);
    for f in &c.files {
        let Some((_, d)) = files.get(&f.path) else {
            continue;
        };
        for inc in &d.includes {
            let target = match inc.kind {
                IncludeKind::FileDescriptorSet => {
                    let name = &inc.out_dir_file;
                    match connect
                        .iter()
                        .find(|r| r.emits.contains(name))
                        .and_then(|r| r.dir.clone())
                    {
                        Some(dir) => format!("{dir}{name}"),
                        None => name.clone(),
                    }
                }
                IncludeKind::IncludeBytesOutDir => {
                    match moved.iter().find(|(n, _)| *n == inc.out_dir_file) {
                        Some((n, dir)) => format!("{dir}{n}"),
                        None => continue,
                    }
                }
                _ => continue,
            };
            let text = include_bytes_text(&target);
            if d.text[inc.range.clone()] == text {
                continue;
            }
            plan.entry(f.path.clone())
                .or_default()
                .edits
                .push(Edit::replace(
                    inc.range.clone(),
                    text,
                    "step09/descriptor-set",
                ));
            gone.entry(f.path.clone())
                .or_default()
                .push(inc.range.clone());
        }
    }
}
