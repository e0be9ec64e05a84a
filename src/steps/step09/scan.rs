//! What a file still needs from tonic, prost and the shim: every place that names one of those
//! crates (through name resolution: `use` items, `extern crate` aliases, absolute paths, paths in
//! macro and attribute inputs, `cfg(feature = "..")`, doctests), and every place that names one
//! of tonic's generated stub modules (`greeter_server`, `greeter_client`).

use std::collections::HashSet;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};
use crate::steps::common::syntax::cfg_test_ranges;

/// Is `name` (an extern crate name, `_` spelling) one that step 9 removes?
pub fn is_family(name: &str) -> bool {
    name == "tonic"
        || name.starts_with("tonic_")
        || name == "prost"
        || name.starts_with("prost_")
        || name == "connect_shim"
}

/// One place that names a watched crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    /// The crate, as code names it (`tonic`, `prost_types`, or a renamed dependency's key).
    pub krate: String,
    pub range: std::ops::Range<usize>,
    /// What names it, one line (`use tonic::{Request, Status}`, `tonic::Status::internal`).
    pub what: String,
    /// Only compiled for tests (inside a `#[cfg(test)]` item).
    pub dev: bool,
}

/// One place that names a tonic stub module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StubRef {
    pub module: String,
    pub range: std::ops::Range<usize>,
    pub what: String,
}

#[derive(Debug, Default, Clone)]
pub struct FileScan {
    pub refs: Vec<Ref>,
    pub stub_refs: Vec<StubRef>,
}

/// The names to look for.
pub struct Watch<'a> {
    /// Renamed dependencies of the family (`grpc = { package = "tonic" }` -> `grpc`).
    pub extra: &'a HashSet<String>,
    /// Stub module names (`greeter_server`, `greeter_client`).
    pub stubs: &'a HashSet<String>,
}

impl Watch<'_> {
    fn watched(&self, name: &str) -> bool {
        is_family(name) || self.extra.contains(name)
    }
}

/// Scan one parsed file.
pub fn scan_file(text: &str, file: &syn::File, idx: &FileIndex, watch: &Watch<'_>) -> FileScan {
    let mut s = Scanner {
        text,
        idx,
        tr: ScopeTracker::new(idx),
        watch,
        out: FileScan::default(),
        in_fence: false,
        in_fence_ignored: false,
    };
    // `use` items: one reference per item and crate.
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    for (l, leaf) in idx.leaves.iter().enumerate() {
        let item = &idx.use_items[leaf.item];
        let full = idx.leaf_path(l);
        if let Some(first) = full.first() {
            if watch.watched(first) && seen.insert((leaf.item, first.clone())) {
                s.out.refs.push(Ref {
                    krate: first.clone(),
                    range: item.range.clone(),
                    what: one_line(&text[item.range.clone()]),
                    dev: false,
                });
            }
        }
        if let Some(m) = leaf.written.iter().find(|w| watch.stubs.contains(*w)) {
            if seen.insert((leaf.item, format!("stub:{m}"))) {
                s.out.stub_refs.push(StubRef {
                    module: m.clone(),
                    range: item.range.clone(),
                    what: one_line(&text[item.range.clone()]),
                });
            }
        }
    }
    s.visit_file(file);
    let tests = cfg_test_ranges(file);
    for r in &mut s.out.refs {
        r.dev |= tests
            .iter()
            .any(|t| t.start <= r.range.start && r.range.end <= t.end);
    }
    s.out.refs.sort_by_key(|r| r.range.start);
    s.out.stub_refs.sort_by_key(|r| r.range.start);
    s.out
}

/// The first line of a snippet, shortened.
pub fn one_line(s: &str) -> String {
    let first = s.lines().next().unwrap_or("").trim();
    let mut out: String = first.chars().take(80).collect();
    if first.chars().count() > 80 || s.trim().lines().count() > 1 {
        out.push_str(" ..");
    }
    out
}

struct Scanner<'a, 'w> {
    text: &'a str,
    idx: &'a FileIndex,
    tr: ScopeTracker,
    watch: &'a Watch<'w>,
    out: FileScan,
    /// Inside a code block of doc comments.
    in_fence: bool,
    /// That code block is not Rust.
    in_fence_ignored: bool,
}

impl Scanner<'_, '_> {
    /// A path written at the current scope: segments, leading `::`, its byte range.
    fn path(&mut self, segs: &[String], leading: bool, r: std::ops::Range<usize>) {
        let written = format!("{}{}", if leading { "::" } else { "" }, segs.join("::"));
        self.path_as(segs, leading, r, written);
    }

    /// [`Scanner::path`], reported as `what`.
    fn path_as(&mut self, segs: &[String], leading: bool, r: std::ops::Range<usize>, what: String) {
        if let Some(m) = segs.iter().find(|s| self.watch.stubs.contains(*s)) {
            if segs.len() > 1 {
                self.out.stub_refs.push(StubRef {
                    module: m.clone(),
                    range: r.clone(),
                    what: what.clone(),
                });
            }
        }
        let Some(res) = self.idx.resolve_segments(self.tr.current(), segs, leading) else {
            return;
        };
        let firsts: Vec<String> = match res {
            Resolution::One(r) if r.via == crate::resolve::Via::Absolute => {
                r.full.first().cloned().into_iter().collect()
            }
            Resolution::One(_) => Vec::new(),
            Resolution::Ambiguous(c) => c.iter().filter_map(|r| r.full.first().cloned()).collect(),
        };
        if let Some(first) = firsts.into_iter().find(|f| self.watch.watched(f)) {
            self.out.refs.push(Ref {
                krate: first,
                what,
                range: r,
                dev: false,
            });
        }
    }

    /// Paths inside tokens that are not parsed (macro inputs, attribute arguments).
    fn tokens(&mut self, ts: TokenStream) {
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        let is_colon =
            |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
        let mut i = 0;
        while i < toks.len() {
            match &toks[i] {
                TokenTree::Group(g) => {
                    if g.delimiter() != Delimiter::None || !g.stream().is_empty() {
                        self.tokens(g.stream());
                    }
                    i += 1;
                }
                TokenTree::Ident(id) => {
                    let prev = i.checked_sub(1).and_then(|j| toks.get(j));
                    let dot = matches!(prev, Some(TokenTree::Punct(p)) if p.as_char() == '.');
                    let after_colons = is_colon(prev) && i >= 2 && is_colon(toks.get(i - 2));
                    // `a::b`: `b` continues a path; `::b` at the start is a leading colon.
                    let continues = after_colons
                        && i >= 3
                        && match &toks[i - 3] {
                            TokenTree::Ident(_) => true,
                            TokenTree::Punct(p) => p.as_char() == '>',
                            _ => false,
                        };
                    if dot || continues {
                        i += 1;
                        continue;
                    }
                    let leading = after_colons;
                    let start = if leading {
                        range(toks[i - 2].span()).start
                    } else {
                        range(id.span()).start
                    };
                    let mut segs = vec![id.to_string()];
                    let mut end = range(id.span()).end;
                    let mut j = i + 1;
                    while is_colon(toks.get(j)) && is_colon(toks.get(j + 1)) {
                        match toks.get(j + 2) {
                            Some(TokenTree::Ident(next)) => {
                                segs.push(next.to_string());
                                end = range(next.span()).end;
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if segs.len() > 1 || leading {
                        let r = start..end;
                        if r.end <= self.text.len() && r.start < r.end {
                            self.path(&segs, leading, r);
                        }
                    }
                    i = j.max(i + 1);
                }
                TokenTree::Literal(_) | TokenTree::Punct(_) => i += 1,
            }
        }
    }

    /// `feature = "tonic"` in an attribute: code that depends on the optional dependency's
    /// implicit feature.
    fn features(&mut self, ts: TokenStream) {
        let toks: Vec<TokenTree> = ts.into_iter().collect();
        for (i, t) in toks.iter().enumerate() {
            match t {
                TokenTree::Group(g) => self.features(g.stream()),
                TokenTree::Ident(id) if id == "feature" => {
                    let eq =
                        matches!(toks.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '=');
                    if let (true, Some(TokenTree::Literal(l))) = (eq, toks.get(i + 2)) {
                        let Ok(s) = syn::parse_str::<syn::LitStr>(&l.to_string()) else {
                            continue;
                        };
                        let name = s.value().replace('-', "_");
                        if self.watch.watched(&name) {
                            let r = range(id.span()).start..range(l.span()).end;
                            self.out.refs.push(Ref {
                                krate: name,
                                what: one_line(&self.text[r.clone()]),
                                range: r,
                                dev: false,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A doc comment line: `tonic::` inside a Rust code block is a doctest that needs the crate.
    fn doc_line(&mut self, doc: &str, r: std::ops::Range<usize>) {
        for line in doc.lines() {
            let t = line.trim_start();
            if let Some(info) = t.strip_prefix("```") {
                if self.in_fence {
                    self.in_fence = false;
                } else {
                    let info = info.trim();
                    let rust = info.is_empty()
                        || info.split(',').all(|w| {
                            matches!(
                                w.trim(),
                                "rust"
                                    | "no_run"
                                    | "should_panic"
                                    | "edition2018"
                                    | "edition2021"
                                    | "edition2024"
                                    | ""
                            )
                        });
                    // A non-Rust block is tracked as a fence too, but nothing in it counts.
                    self.in_fence = true;
                    if !rust {
                        self.in_fence_ignored = true;
                    }
                }
                continue;
            }
            if !self.in_fence || self.in_fence_ignored {
                continue;
            }
            for (at, _) in t.match_indices("::") {
                let before = &t[..at];
                let name: String = before
                    .chars()
                    .rev()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let prev = before[..before.len() - name.len()].chars().last();
                if !name.is_empty() && prev != Some(':') && self.watch.watched(&name) {
                    self.out.refs.push(Ref {
                        krate: name,
                        range: r.clone(),
                        what: format!("doctest: {}", one_line(t)),
                        dev: true,
                    });
                    break;
                }
            }
        }
        if !self.in_fence {
            self.in_fence_ignored = false;
        }
    }
}

impl<'ast> Visit<'ast> for Scanner<'_, '_> {
    crate::scoped_visit!();

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.segments.len() > 1 || p.leading_colon.is_some() {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            let r = range(p.span());
            self.path(&segs, p.leading_colon.is_some(), r);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.tokens(m.tokens.clone());
    }

    fn visit_attribute(&mut self, a: &'ast syn::Attribute) {
        let path = a.path();
        if path.is_ident("doc") {
            if let syn::Meta::NameValue(nv) = &a.meta {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
                {
                    let r = range(a.span());
                    self.doc_line(&s.value(), r);
                }
            }
            return;
        }
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        // `#[prost(..)]`, `#[tonic::async_trait]`: attributes of the crate.
        let r = range(a.span());
        let what = one_line(&self.text[r.clone()]);
        self.path_as(
            &segs,
            path.leading_colon.is_some(),
            range(path.span()),
            what,
        );
        if let syn::Meta::List(l) = &a.meta {
            self.tokens(l.tokens.clone());
            self.features(l.tokens.clone());
        }
    }

    fn visit_item_extern_crate(&mut self, e: &'ast syn::ItemExternCrate) {
        let name = e.ident.to_string();
        if self.watch.watched(&name) {
            let r = range(e.span());
            self.out.refs.push(Ref {
                krate: name,
                what: one_line(&self.text[r.clone()]),
                range: r,
                dev: false,
            });
        }
        syn::visit::visit_item_extern_crate(self, e);
    }

    // `use` items are counted from the index (their leaves resolved there).
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        for a in &u.attrs {
            self.visit_attribute(a);
        }
    }
}
