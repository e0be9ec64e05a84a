//! connect-shim's public API is what the tool writes plus what users need, documented:
//! - every `connect_shim::...` path the tool writes (in the expected trees and golden files, and
//!   in the tool's own sources: the text of its edits) names an item the shim exports;
//! - every exported item has a doc comment (what it is for, which step removes it);
//! - every exported item is written by the tool (directly, through a macro the shim exports, or
//!   as the `connect_errors` twin of a written item), is a method of such a type, or is on the
//!   short list [`USER_FACING`] of items user code calls (each saying which step removes the
//!   need for it); everything else is `#[doc(hidden)]`.
//!
//! The API is read from `connect-shim/src` with syn: public modules, items, inherent methods,
//! `pub use` re-exports and `#[macro_export]` macros; `#[doc(hidden)]` items are not API.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[derive(Default)]
struct Api {
    /// `client`, `client::tonic_unary`, `client::ChannelTransport::new`, `tonic_call!`.
    paths: BTreeSet<String>,
    /// Exported items without a doc comment.
    undocumented: Vec<String>,
    /// The public modules among `paths`.
    modules: BTreeSet<String>,
    /// Doc text of each exported item (its `///` lines joined).
    docs: std::collections::BTreeMap<String, String>,
    /// `$crate::a::b` paths in the shim's `macro_rules!` bodies (as `a::b`).
    macro_paths: BTreeSet<String>,
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

fn hidden(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("doc")
            && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string() == "hidden")
    })
}

fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut out = String::new();
    for a in attrs {
        if let syn::Meta::NameValue(nv) = &a.meta {
            if nv.path.is_ident("doc") {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    out.push_str(&s.value());
                    out.push('\n');
                }
            }
        }
    }
    out
}

fn documented(attrs: &[syn::Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().is_ident("doc") && matches!(a.meta, syn::Meta::NameValue(_)))
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}::{name}")
    }
}

fn use_leaves(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => use_leaves(&p.tree, out),
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) => out.push(r.rename.to_string()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_leaves(t, out)),
        syn::UseTree::Glob(_) => {}
    }
}

fn items(api: &mut Api, at: &str, list: &[syn::Item], dir: &Path) {
    for it in list {
        let public = |v: &syn::Visibility| matches!(v, syn::Visibility::Public(_));
        let (name, attrs) = match it {
            syn::Item::Fn(f) if public(&f.vis) => (f.sig.ident.to_string(), &f.attrs),
            syn::Item::Struct(s) if public(&s.vis) => (s.ident.to_string(), &s.attrs),
            syn::Item::Enum(e) if public(&e.vis) => (e.ident.to_string(), &e.attrs),
            syn::Item::Trait(t) if public(&t.vis) => (t.ident.to_string(), &t.attrs),
            syn::Item::Type(t) if public(&t.vis) => (t.ident.to_string(), &t.attrs),
            syn::Item::Const(c) if public(&c.vis) => (c.ident.to_string(), &c.attrs),
            syn::Item::Static(s) if public(&s.vis) => (s.ident.to_string(), &s.attrs),
            syn::Item::Macro(m) if has_attr(&m.attrs, "macro_export") => {
                let body = m
                    .mac
                    .tokens
                    .to_string()
                    .replace("$ crate :: ", "connect_shim::");
                shim_paths(&body.replace(" :: ", "::"), &mut api.macro_paths);
                if let Some(i) = &m.ident {
                    api.docs.insert(format!("{i}!"), doc_text(&m.attrs));
                    if !hidden(&m.attrs) {
                        api.paths.insert(format!("{i}!"));
                        if !documented(&m.attrs) {
                            api.undocumented.push(format!("{i}!"));
                        }
                    }
                }
                continue;
            }
            syn::Item::Use(u) if public(&u.vis) && !hidden(&u.attrs) => {
                let mut leaves = Vec::new();
                use_leaves(&u.tree, &mut leaves);
                for l in leaves {
                    api.paths.insert(join(at, &l));
                }
                continue;
            }
            syn::Item::Mod(m) if public(&m.vis) && !hidden(&m.attrs) => {
                let path = join(at, &m.ident.to_string());
                api.paths.insert(path.clone());
                api.modules.insert(path.clone());
                // An inline module's `//!` docs are among its attributes.
                let inner_docs = match &m.content {
                    Some((_, inner)) => {
                        items(api, &path, inner, dir);
                        documented(&m.attrs)
                    }
                    None => {
                        let file = dir.join(format!("{}.rs", m.ident));
                        let text = std::fs::read_to_string(&file).unwrap();
                        let f = syn::parse_file(&text).unwrap();
                        items(api, &path, &f.items, dir);
                        documented(&f.attrs) || documented(&m.attrs)
                    }
                };
                if !inner_docs {
                    api.undocumented.push(path);
                }
                continue;
            }
            syn::Item::Impl(im) if im.trait_.is_none() => {
                let syn::Type::Path(tp) = &*im.self_ty else {
                    continue;
                };
                let ty = tp.path.segments.last().unwrap().ident.to_string();
                for ii in &im.items {
                    if let syn::ImplItem::Fn(f) = ii {
                        if public(&f.vis) && !hidden(&f.attrs) {
                            let p = join(at, &format!("{ty}::{}", f.sig.ident));
                            if !documented(&f.attrs) {
                                api.undocumented.push(p.clone());
                            }
                            api.docs.insert(p.clone(), doc_text(&f.attrs));
                            api.paths.insert(p);
                        }
                    }
                }
                continue;
            }
            _ => continue,
        };
        if hidden(attrs) {
            continue;
        }
        let p = join(at, &name);
        if !documented(attrs) {
            api.undocumented.push(p.clone());
        }
        api.docs.insert(p.clone(), doc_text(attrs));
        api.paths.insert(p);
    }
}

fn shim_api() -> Api {
    let dir = root().join("connect-shim/src");
    let f = syn::parse_file(&std::fs::read_to_string(dir.join("lib.rs")).unwrap()).unwrap();
    let mut api = Api::default();
    items(&mut api, "", &f.items, &dir);
    api
}

fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy();
        if p.is_dir() {
            if name != "target" && name != "connect-shim" {
                files(&p, keep, out);
            }
        } else if keep(&p) {
            out.push(p);
        }
    }
}

/// `connect_shim::a::b` paths in `text` (a path stops at a segment that is formatted in, `{..}`,
/// or cut short, `tonic_`).
fn shim_paths(text: &str, out: &mut BTreeSet<String>) {
    let mut rest = text;
    while let Some(i) = rest.find("connect_shim::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "connect_shim::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut segs: Vec<&str> = Vec::new();
        let mut s = rest;
        loop {
            let end = s
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            let seg = &s[..end];
            if seg.is_empty() || seg.ends_with('_') {
                break;
            }
            let after = &s[end..];
            if let Some(next) = after.strip_prefix("::") {
                segs.push(seg);
                s = next;
            } else {
                let bang = after.starts_with('!') && !after.starts_with("!=");
                segs.push(seg);
                if bang {
                    let last = segs.len() - 1;
                    out.insert(format!("{}!", segs[..=last].join("::")));
                    segs.clear();
                }
                break;
            }
        }
        if !segs.is_empty() {
            out.insert(segs.join("::"));
        }
    }
}

/// Does `path` name something the shim exports? A macro may be named without its `!` (`use
/// connect_shim::tonic_call;`).
fn exists(api: &Api, path: &str) -> bool {
    api.paths.contains(path) || api.paths.contains(&format!("{path}!"))
}

/// The `connect_shim::` paths the tool writes, each with a file that writes it.
fn written_paths() -> BTreeSet<(String, String)> {
    let mut written = BTreeSet::new();
    let mut sources = Vec::new();
    // What the tool writes: the expected trees, tree cases and golden files ...
    for dir in ["fixtures", "tests/trees", "tests/golden"] {
        files(
            &root().join(dir),
            &|p: &Path| {
                p.extension().is_some_and(|e| e == "rs")
                    && !p.to_string_lossy().contains("/before/")
                    && !p.to_string_lossy().contains("/step-0/")
                    && (p.to_string_lossy().ends_with(".fixed.rs")
                        || !p.to_string_lossy().contains("tests/golden"))
            },
            &mut sources,
        );
    }
    // ... and the text of the tool's edits, in its sources.
    files(
        &root().join("src"),
        &|p: &Path| p.extension().is_some_and(|e| e == "rs"),
        &mut sources,
    );
    for p in &sources {
        let mut here = BTreeSet::new();
        shim_paths(&std::fs::read_to_string(p).unwrap(), &mut here);
        // A tree case's `after/` file keeps what its `before/` file (the user's code) had.
        let before = PathBuf::from(p.to_string_lossy().replace("/after/", "/before/"));
        if before != *p {
            if let Ok(text) = std::fs::read_to_string(&before) {
                let mut theirs = BTreeSet::new();
                shim_paths(&text, &mut theirs);
                here.retain(|x| !theirs.contains(x));
            }
        }
        for path in here {
            written.insert((path, p.strip_prefix(root()).unwrap().display().to_string()));
        }
    }
    written
}

#[test]
fn every_shim_path_the_tool_writes_exists() {
    let api = shim_api();
    assert!(api.paths.contains("client::tonic_unary") && api.paths.contains("tonic_call!"));
    let written = written_paths();
    assert!(written.len() > 20, "shim paths were found: {written:?}");
    let missing: Vec<String> = written
        .iter()
        .filter(|(path, _)| !exists(&api, path))
        .map(|(path, at)| format!("connect_shim::{path} (in {at})"))
        .collect();
    assert!(
        missing.is_empty(),
        "the tool writes shim paths that connect-shim does not export:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_exported_shim_item_is_documented() {
    let api = shim_api();
    assert!(
        api.undocumented.is_empty(),
        "connect-shim exports items without a doc comment: {:?}",
        api.undocumented
    );
}

/// Exported items that no step writes but user code calls, and why. Each one's doc says which
/// user code calls it and which step removes the need for it (it names a step).
const USER_FACING: &[(&str, &str)] = &[
    (
        "prost_compat::AnyError",
        "the error of `any.to_msg()` that user code matches or displays (step 1 keeps the call)",
    ),
    (
        "tonic_client!",
        "a per-service tonic-shaped client for call sites rewritten by hand",
    ),
    (
        "tonic_bridge!",
        "serves a whole tonic service impl as a connect service, by hand",
    ),
    (
        "codec::LimitedBuffaCodec",
        "a build.rs codec path with decode limits of the user's",
    ),
    ("codec::Limits", "the limits parameter of LimitedBuffaCodec"),
    (
        "codec::DecodeLimits",
        "the trait of LimitedBuffaCodec's limits, for limits of one's own",
    ),
    (
        "status::to_connect",
        "a tonic::Status converted to a ConnectError by hand",
    ),
    (
        "status::IntoConnectResult",
        "`.into_connect()` on a tonic result in half-migrated code",
    ),
    (
        "status::IntoStatusResult",
        "`.into_status()` on a connect result in half-migrated code",
    ),
    (
        "status::RpcError",
        "the error of helpers shared by tonic-style and connect-style code",
    ),
    (
        "server::MessageStreamExt",
        "`.message().await` on a connect inbound stream",
    ),
    (
        "hosting::peer_addr",
        "the peer address of a request whatever transport accepted it",
    ),
];

/// `client::tonic_unary` is written and step 7 inserts `::connect_errors` into it: the twin
/// `client::connect_errors::tonic_unary` is written too.
fn twin(path: &str) -> Option<String> {
    let (module, rest) = path.split_once("::connect_errors::")?;
    Some(format!("{module}::{rest}"))
}

#[test]
fn every_exported_shim_item_is_written_or_user_facing() {
    let api = shim_api();
    let written: BTreeSet<String> = written_paths().into_iter().map(|(p, _)| p).collect();
    let tool_inserts_twins = {
        let mut sources = Vec::new();
        files(
            &root().join("src"),
            &|p: &Path| p.extension().is_some_and(|e| e == "rs"),
            &mut sources,
        );
        sources.iter().any(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"::connect_errors")
        })
    };
    assert!(
        tool_inserts_twins,
        "the `connect_errors` twin rule is out of date"
    );
    let user: BTreeSet<&str> = USER_FACING.iter().map(|(p, _)| *p).collect();
    let reached = |p: &str| {
        let bare = p.trim_end_matches('!');
        written.contains(p)
            || written.contains(bare)
            || api.macro_paths.contains(p)
            || api.macro_paths.contains(bare)
            || twin(p).is_some_and(|t| written.contains(&t))
            || user.contains(p)
            // A module something under it is written.
            || (api.modules.contains(p)
                && written
                    .iter()
                    .chain(&api.macro_paths)
                    .any(|w| w.starts_with(&format!("{p}::"))))
    };
    let mut stray = Vec::new();
    for p in &api.paths {
        // An inherent method is API with its type (and not at all when its type is hidden).
        let ok = match p.rsplit_once("::") {
            Some((parent, _)) if !api.modules.contains(parent) => {
                !api.paths.contains(parent) || reached(parent)
            }
            _ => reached(p),
        };
        if !ok {
            stray.push(p.clone());
        }
    }
    assert!(
        stray.is_empty(),
        "connect-shim exports items the tool never writes and that are not in USER_FACING: \
         hide them (#[doc(hidden)]), make them pub(crate), or list them with a reason:\n{}",
        stray.join("\n")
    );
    for (p, why) in USER_FACING {
        assert!(
            api.paths.contains(*p),
            "USER_FACING names `{p}`, which the shim does not export"
        );
        assert!(!why.is_empty());
        let bare = p.trim_end_matches('!');
        assert!(
            !written.contains(*p) && !written.contains(bare),
            "`{p}` is written by the tool: drop it from USER_FACING"
        );
        let doc = &api.docs[*p];
        assert!(
            ["step ", "steps ", "Step "].iter().any(|s| doc.contains(s)),
            "`{p}` is user-facing: its doc must say which step removes the need for it:\n{doc}"
        );
    }
}

#[test]
fn the_path_reader_follows_segments_and_macros() {
    let mut out = BTreeSet::new();
    shim_paths(
        "x = connect_shim::client::tonic_unary(a); connect_shim::tonic_call!(h); \
         \"connect_shim::server::{adapter}\" my_connect_shim::no connect_shim::client::tonic_{f}",
        &mut out,
    );
    let got: Vec<&str> = out.iter().map(String::as_str).collect();
    assert_eq!(
        got,
        ["client", "client::tonic_unary", "server", "tonic_call!"]
    );
    let api = shim_api();
    assert!(!exists(&api, "client::no_such_helper"));
    assert!(exists(&api, "tonic_call"));
}
