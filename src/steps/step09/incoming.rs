//! Step 9: tonic's `TcpIncoming` once the server is served by axum (step 5).
//!
//! Step 5 serves a `serve_with_incoming(incoming)` whose stream it cannot see through (a
//! parameter typed `tonic::transport::server::TcpIncoming`) with
//! `connect_shim::hosting::incoming_listener(incoming)`. Step 9 moves every site of the crate
//! to `tokio::net::TcpListener`, or none:
//!
//! - the parameter's type becomes `tokio::net::TcpListener`, `incoming_listener(p)` becomes `p`
//!   (`axum::serve::ListenerExt::tap_io(p, ..)` setting TCP_NODELAY when a construction in the
//!   crate asked for it: axum 0.8 has no `tcp_nodelay` on `serve`);
//! - constructions: `TcpIncoming::bind(addr)` (tonic 0.14) and `TcpIncoming::new(addr, nodelay,
//!   keepalive)` (0.12/0.13) become `tokio::net::TcpListener::bind(addr).await` (in async code
//!   only), `TcpIncoming::from(listener)` becomes `listener`, `TcpIncoming::from_listener(listener,
//!   nodelay, keepalive)` becomes `Ok::<_, std::io::Error>(listener)`; `.with_nodelay(..)`,
//!   `.with_keepalive(..)`, `.with_keepalive_interval(..)` and `.with_keepalive_retries(..)`
//!   chained on them go when they say `None` (a keepalive setting has no equivalent on tokio's
//!   listener or axum::serve: it keeps the crate on tonic and is listed, set it on each accepted
//!   socket with `ListenerExt::tap_io` and socket2 yourself);
//! - `use` items naming `TcpIncoming` go once nothing uses them.
//!
//! Anything else naming `TcpIncoming` (a field, a return type, a call step 9 does not know, a
//! builder option on a variable, a nodelay that is not a literal) keeps every site of the crate
//! on tonic and is listed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::edit::Edit;
use crate::engine::ManualItem;
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};
use crate::steps::common::items::manual_at;
use crate::workspace::Crate;

const RULE: &str = "step09/incoming";
const TYPE: [&str; 4] = ["tonic", "transport", "server", "TcpIncoming"];
const OPTIONS: [&str; 4] = [
    "with_nodelay",
    "with_keepalive",
    "with_keepalive_interval",
    "with_keepalive_retries",
];

/// What the rewrite does to one file.
#[derive(Debug, Default)]
pub struct FileRewrite {
    pub edits: Vec<Edit>,
    pub gone: Vec<Range<usize>>,
    pub items: Vec<ManualItem>,
}

fn item(offset: usize, message: String, note: &str) -> ManualItem {
    manual_at(offset, RULE.into(), message, note)
}

#[derive(Default)]
struct Found {
    edits: Vec<Edit>,
    /// Edits of `incoming_listener(p)` calls: the call's range and `p`'s text.
    listeners: Vec<(Range<usize>, String)>,
    replaced: Vec<Range<usize>>,
    /// Sites not understood: where, why.
    blockers: Vec<(usize, String)>,
    nodelay: bool,
    /// Paths naming the type (or its functions) that were understood.
    understood: HashSet<usize>,
    /// Every path naming the type or its functions.
    named: Vec<usize>,
}

struct Finder<'a> {
    idx: &'a FileIndex,
    tr: ScopeTracker,
    text: &'a str,
    shim: &'a HashSet<String>,
    is_async: Vec<bool>,
    /// Parameters typed `TcpIncoming` of the enclosing functions.
    params: Vec<HashSet<String>>,
    found: Found,
}

use crate::steps::common::syntax::strip_parens as strip;

impl Finder<'_> {
    fn resolve(&self, p: &syn::Path) -> Option<Vec<String>> {
        match self.idx.resolve(self.tr.current(), p) {
            Some(Resolution::One(r)) => Some(r.full),
            _ => None,
        }
    }

    fn is_type(&self, p: &syn::Path) -> bool {
        self.resolve(p).is_some_and(|f| f == TYPE)
    }

    /// `TcpIncoming::<fn>` as a call's function: the function's name.
    fn ctor(&self, func: &syn::Expr) -> Option<String> {
        let syn::Expr::Path(p) = strip(func) else {
            return None;
        };
        if p.qself.is_some() {
            return None;
        }
        let f = self.resolve(&p.path)?;
        (f.len() == 5 && f[..4] == TYPE).then(|| f[4].clone())
    }

    fn src(&self, e: &impl Spanned) -> &str {
        &self.text[range(e.span())]
    }

    /// A nodelay argument: `Some(true)` / `true` (on), `None` / `Some(false)` / `false` (off).
    fn nodelay_arg(&mut self, a: &syn::Expr) -> bool {
        match self.src(a).split_whitespace().collect::<String>().as_str() {
            "Some(true)" | "true" => {
                self.found.nodelay = true;
                true
            }
            "None" | "Some(false)" | "false" => true,
            _ => false,
        }
    }

    /// A constructor call with options chained on it: the replacement, or why not.
    fn constructor_chain(&mut self, e: &syn::Expr) -> Option<Result<String, String>> {
        let mut links: Vec<&syn::ExprMethodCall> = Vec::new();
        let mut cur = strip(e);
        let mut try_after_ctor = false;
        loop {
            match cur {
                syn::Expr::MethodCall(m) if OPTIONS.contains(&m.method.to_string().as_str()) => {
                    links.push(m);
                    cur = strip(&m.receiver);
                }
                syn::Expr::Try(t) if !try_after_ctor => {
                    try_after_ctor = true;
                    cur = strip(&t.expr);
                }
                _ => break,
            }
        }
        let syn::Expr::Call(c) = cur else {
            return None;
        };
        let name = self.ctor(&c.func)?;
        self.found.understood.insert(range(c.func.span()).start);
        let args: Vec<&syn::Expr> = c.args.iter().collect();
        let asynchronous = self.is_async.last().copied().unwrap_or(false);
        let text = match (name.as_str(), args.as_slice()) {
            ("bind", [a]) | ("new", [a, _, _]) => {
                if !asynchronous {
                    return Some(Err(format!(
                        "`TcpIncoming::{name}` outside async code (tokio's bind is async)"
                    )));
                }
                // tonic's takes a SocketAddr, tokio's any ToSocketAddrs: `x.parse()?` needs the type.
                let plain = matches!(strip(a), syn::Expr::Path(_) | syn::Expr::Reference(_));
                let turbofish = if plain {
                    ""
                } else {
                    "::<std::net::SocketAddr>"
                };
                format!(
                    "tokio::net::TcpListener::bind{turbofish}({}).await",
                    self.src(*a)
                )
            }
            ("from", [l]) => self.src(*l).to_string(),
            ("from_listener", [l, _, _]) => {
                format!("Ok::<_, std::io::Error>({})", self.src(*l))
            }
            _ => return Some(Err(format!("`TcpIncoming::{name}(..)` is not understood"))),
        };
        if let ("new" | "from_listener", [_, nd, ka]) = (name.as_str(), args.as_slice()) {
            if !self.nodelay_arg(nd) {
                return Some(Err("a nodelay argument that is not a literal".into()));
            }
            if self.src(*ka).trim() != "None" {
                return Some(Err(format!(
                    "keepalive `{}`: tokio's TcpListener and axum::serve have no keepalive setting",
                    self.src(*ka)
                )));
            }
        }
        let mut removals = Vec::new();
        for m in &links {
            let arg = m.args.first();
            let name = m.method.to_string();
            match (name.as_str(), arg) {
                ("with_nodelay", Some(a)) => {
                    if !self.nodelay_arg(a) {
                        return Some(Err("a nodelay argument that is not a literal".into()));
                    }
                }
                (_, Some(a)) if self.src(a).trim() == "None" => {}
                (m, _) => {
                    return Some(Err(format!(
                        "`.{m}(..)`: tokio's TcpListener and axum::serve have no keepalive setting"
                    )))
                }
            }
            let dot = range(m.dot_token.span).start;
            removals.push(dot..range(m.span()).end);
        }
        let cr = range(c.span());
        let mut edits = vec![Edit::replace(cr.clone(), text, RULE)];
        for r in removals {
            // A `?` between the constructor and the option stays.
            edits.push(Edit::replace(r, "", RULE));
        }
        self.found.replaced.push(cr);
        self.found.edits.extend(edits);
        Some(Ok(String::new()))
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    crate::scoped_visit!();

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.fn_like(&f.sig, |s| syn::visit::visit_item_fn(s, f));
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.fn_like(&f.sig, |s| syn::visit::visit_impl_item_fn(s, f));
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.is_async.push(c.asyncness.is_some());
        syn::visit::visit_expr_closure(self, c);
        self.is_async.pop();
    }

    fn visit_expr_async(&mut self, a: &'ast syn::ExprAsync) {
        self.is_async.push(true);
        syn::visit::visit_expr_async(self, a);
        self.is_async.pop();
    }

    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if matches!(
            strip(e),
            syn::Expr::MethodCall(_) | syn::Expr::Call(_) | syn::Expr::Try(_)
        ) {
            match self.constructor_chain(e) {
                Some(Ok(_)) => {
                    // Arguments may hold more sites.
                    if let syn::Expr::Call(c) = strip(e) {
                        for a in &c.args {
                            self.visit_expr(a);
                        }
                    }
                    return;
                }
                Some(Err(why)) => {
                    self.found.blockers.push((range(e.span()).start, why));
                }
                None => {}
            }
        }
        if let syn::Expr::Call(c) = strip(e) {
            if let syn::Expr::Path(p) = strip(&c.func) {
                let f = self.resolve(&p.path);
                if f.as_ref().is_some_and(|f| {
                    f.len() == 3
                        && self.shim.contains(&f[0])
                        && f[1] == "hosting"
                        && f[2] == "incoming_listener"
                }) {
                    let arg = c.args.first().map(|a| self.src(a).trim().to_string());
                    match arg {
                        Some(a) if c.args.len() == 1 && self.params.iter().any(|p| p.contains(&a)) => {
                            self.found.listeners.push((range(c.span()), a));
                            return;
                        }
                        _ => self.found.blockers.push((
                            range(c.span()).start,
                            "`incoming_listener(..)` of something other than a `TcpIncoming` parameter".into(),
                        )),
                    }
                }
            }
        }
        syn::visit::visit_expr(self, e);
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        if OPTIONS.contains(&m.method.to_string().as_str()) {
            self.found.blockers.push((
                range(m.method.span()).start,
                format!("`.{}(..)` on a value step 9 cannot follow", m.method),
            ));
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if let Some(f) = self.resolve(p) {
            if f.len() >= 4 && f[..4] == TYPE {
                self.found.named.push(range(p.span()).start);
            }
        }
        syn::visit::visit_path(self, p);
    }
}

impl Finder<'_> {
    fn fn_like(&mut self, sig: &syn::Signature, walk: impl FnOnce(&mut Self)) {
        let mut params = HashSet::new();
        for i in &sig.inputs {
            let syn::FnArg::Typed(t) = i else { continue };
            let (syn::Pat::Ident(id), syn::Type::Path(tp)) = (&*t.pat, &*t.ty) else {
                continue;
            };
            if tp.qself.is_none() && self.is_type(&tp.path) {
                params.insert(id.ident.to_string());
                let r = range(tp.path.span());
                self.found.understood.insert(r.start);
                self.found
                    .edits
                    .push(Edit::replace(r.clone(), "tokio::net::TcpListener", RULE));
                self.found.replaced.push(r);
            }
        }
        self.params.push(params);
        self.is_async.push(sig.asyncness.is_some());
        walk(self);
        self.is_async.pop();
        self.params.pop();
    }
}

/// One file of the crate that names tonic's `TcpIncoming` or the shim's listener: what the
/// finder saw there, with the parse and the file's name index the rewrite needs.
struct Scanned {
    path: PathBuf,
    found: Found,
    file: syn::File,
    idx: FileIndex,
}

/// Plan the rewrite of one crate: per file, or nothing (with the reasons listed) when one site
/// is not understood.
pub fn plan_crate(
    c: &Crate,
    texts: &BTreeMap<PathBuf, &str>,
    shim: &HashSet<String>,
) -> HashMap<PathBuf, FileRewrite> {
    let mut per_file: Vec<Scanned> = Vec::new();
    for f in &c.files {
        let Some(text) = texts.get(&f.path) else {
            continue;
        };
        if !text.contains("TcpIncoming") && !text.contains("incoming_listener") {
            continue;
        }
        let Ok(file) = syn::parse_file(text) else {
            continue;
        };
        let idx = FileIndex::build(&file, f.module_path.clone());
        let mut fd = Finder {
            idx: &idx,
            tr: ScopeTracker::new(&idx),
            text,
            shim,
            is_async: Vec::new(),
            params: Vec::new(),
            found: Found::default(),
        };
        fd.visit_file(&file);
        let found = fd.found;
        per_file.push(Scanned {
            path: f.path.clone(),
            found,
            file,
            idx,
        });
    }
    let out = plan_files(per_file, texts);
    proc_macro2::extra::invalidate_current_thread_spans();
    out
}

fn plan_files(
    per_file: Vec<Scanned>,
    texts: &BTreeMap<PathBuf, &str>,
) -> HashMap<PathBuf, FileRewrite> {
    let mut out: HashMap<PathBuf, FileRewrite> = HashMap::new();
    if per_file
        .iter()
        .all(|s| s.found.edits.is_empty() && s.found.listeners.is_empty())
    {
        return out;
    }
    let nodelay = per_file.iter().any(|s| s.found.nodelay);
    // Paths naming the type outside `use` items that no rewrite covers.
    let mut blocked = false;
    for Scanned { found: f, idx, .. } in &per_file {
        let in_use = |at: usize| idx.use_items.iter().any(|u| u.range.contains(&at));
        let stray = f
            .named
            .iter()
            .filter(|a| !f.understood.contains(a) && !in_use(**a))
            .count();
        if stray > 0 || !f.blockers.is_empty() {
            blocked = true;
        }
    }
    if blocked {
        for Scanned {
            path,
            found: f,
            idx,
            ..
        } in per_file
        {
            let in_use = |at: usize| idx.use_items.iter().any(|u| u.range.contains(&at));
            let fr = out.entry(path).or_default();
            for (at, why) in f.blockers {
                fr.items.push(item(at, format!("tonic's TcpIncoming stays in this crate: {why}"), "bind a tokio::net::TcpListener and pass it to axum::serve; then tonic's TcpIncoming and connect_shim::hosting::incoming_listener can go"));
            }
            for at in f
                .named
                .iter()
                .filter(|a| !f.understood.contains(a) && !in_use(**a))
            {
                fr.items.push(item(*at, "tonic's TcpIncoming stays in this crate: named where step 9 does not rewrite it".into(), "use tokio::net::TcpListener here, then step 9 moves the other sites"));
            }
        }
        return out;
    }
    for Scanned {
        path,
        found: f,
        file,
        idx,
    } in per_file
    {
        let text = texts[&path];
        let fr = out.entry(path).or_default();
        fr.edits = f.edits;
        fr.gone = f.replaced.clone();
        let mut replaced = f.replaced;
        for (r, p) in f.listeners {
            let t = if nodelay {
                format!("axum::serve::ListenerExt::tap_io({p}, |tcp| {{ let _ = tcp.set_nodelay(true); }})")
            } else {
                p
            };
            fr.edits.push(Edit::replace(r.clone(), t, RULE));
            fr.gone.push(r.clone());
            replaced.push(r);
        }
        let removals = crate::rules::rename::unused_import_removals(
            &file,
            &idx,
            text,
            &replaced,
            |segs| segs.len() >= 4 && segs[..4] == TYPE,
            RULE,
        );
        for e in removals {
            for u in &idx.use_items {
                if e.range.start <= u.range.start && u.range.end <= e.range.end {
                    fr.gone.push(u.range.clone());
                }
            }
            fr.edits.push(e);
        }
        fr.edits.sort_by_key(|e| (e.range.start, e.range.end));
    }
    out
}
