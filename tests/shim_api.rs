//! connect-shim's public API is what the tool writes plus what users need, documented:
//! - every `connect_shim::...` path the tool writes (in the expected trees and golden files, and
//!   in the tool's own sources: the text of its edits) names an item the shim exports;
//! - every exported item has a doc comment (what it is for, which step removes it).
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
                if let Some(i) = &m.ident {
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

#[test]
fn every_shim_path_the_tool_writes_exists() {
    let api = shim_api();
    assert!(api.paths.contains("client::tonic_unary") && api.paths.contains("tonic_call!"));
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
