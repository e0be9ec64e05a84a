//! Step 3: user helpers that take tonic `MetadataMap`s (`fn echo(from: &MetadataMap, to: &mut
//! MetadataMap)`) and only use what `http::HeaderMap` has in the same shape.
//!
//! Such a helper moves to `&http::HeaderMap` / `&mut http::HeaderMap` when every mention of it in
//! the file is a call the handler rewrite converts in the same run (all or nothing; see
//! `HandlersPass::run`): `request.metadata()` -> `ctx.headers()`, `response.metadata_mut()` ->
//! `&mut response.headers`, `status.metadata_mut()` -> `status.trailers_mut()`. Its body's
//! binary calls (`get_bin`, `insert_bin`, ..) become the plain ones: a `-bin` value is base64 text
//! on the wire, so copying the header value as it is keeps the behaviour.
//!
//! Helpers are recognised at the top level of the file and in its inherent impls; a helper
//! visible outside the file, or one whose body builds or reads metadata values, iterates the
//! map or passes it on, is reported and left on tonic.

use std::ops::Range;

use proc_macro2::Delimiter;
use quote::ToTokens;

use super::{flatten, Tok};
use crate::edit::Edit;
use crate::resolve::{range, FileIndex};

/// Map methods with the same shape on `MetadataMap` and `http::HeaderMap` (the `_bin` ones
/// become the plain ones).
const MAP_METHODS: &[&str] = &[
    "get",
    "get_bin",
    "insert",
    "insert_bin",
    "contains_key",
    "remove",
    "remove_bin",
    "append",
    "append_bin",
];

/// A function of the file with `&MetadataMap` / `&mut MetadataMap` parameters.
#[derive(Clone, Debug)]
pub(crate) struct Helper {
    pub name: String,
    /// The function has a `self` receiver (a method).
    pub receiver: bool,
    /// Index in the signature's inputs (receiver included) and `&mut`.
    pub params: Vec<(usize, bool)>,
    /// Where its name is defined.
    pub def: Range<usize>,
    /// Why it cannot move to `http::HeaderMap`, if so.
    pub problem: Option<String>,
    /// Its rewrite (parameter types, `_bin` calls).
    pub edits: Vec<Edit>,
    /// Ranges of the tonic names the rewrite replaces (their imports may go).
    pub replaced: Vec<Range<usize>>,
}

impl Helper {
    /// The `&mut`-ness of the parameter an argument at `arg` (0-based) of a call feeds, when it
    /// is a metadata parameter. `method_syntax`: called as `x.name(..)`.
    pub fn param_at(&self, arg: usize, method_syntax: bool) -> Option<bool> {
        let input = if method_syntax && self.receiver {
            arg + 1
        } else {
            arg
        };
        self.params
            .iter()
            .find(|(i, _)| *i == input)
            .map(|(_, m)| *m)
    }
}

fn is_metadata_map(idx: &FileIndex, ty: &syn::Type) -> Option<(bool, Range<usize>)> {
    let syn::Type::Reference(r) = ty else {
        return None;
    };
    let syn::Type::Path(p) = &*r.elem else {
        return None;
    };
    if p.qself.is_some() {
        return None;
    }
    let full = idx.resolve(idx.root(), &p.path)?.resolved()?.full.clone();
    if full != ["tonic", "metadata", "MetadataMap"] {
        return None;
    }
    Some((
        r.mutability.is_some(),
        range(syn::spanned::Spanned::span(&p.path)),
    ))
}

/// Does the token stream name anything that resolves into tonic?
fn names_tonic(idx: &FileIndex, toks: &[Tok], skip: &[Range<usize>]) -> Option<String> {
    for (i, t) in toks.iter().enumerate() {
        let Tok::Ident(n, r) = t else { continue };
        if i > 0 && toks[i - 1].is_punct('.')
            || i > 1 && toks[i - 1].is_punct(':') && toks[i - 2].is_punct(':')
        {
            continue;
        }
        if skip.iter().any(|s| s.start <= r.start && r.end <= s.end) {
            continue;
        }
        let mut j = i;
        while toks.get(j + 1).is_some_and(|t| t.is_punct(':'))
            && toks.get(j + 2).is_some_and(|t| t.is_punct(':'))
            && toks.get(j + 3).and_then(Tok::ident).is_some()
        {
            j += 3;
        }
        let written: Vec<&str> = (i..=j).step_by(3).filter_map(|k| toks[k].ident()).collect();
        let Ok(path) = syn::parse_str::<syn::Path>(&written.join("::")) else {
            continue;
        };
        let tonic = n == "tonic"
            || idx
                .resolve(idx.root(), &path)
                .and_then(|r| r.resolved().cloned())
                .is_some_and(|r| r.full.first().map(String::as_str) == Some("tonic"));
        if tonic {
            return Some(written.join("::"));
        }
    }
    None
}

/// The string literal `t` (a key), its text.
fn lit_text<'t>(text: &'t str, t: Option<&Tok>) -> Option<&'t str> {
    match t {
        Some(Tok::Lit(r)) => {
            let s = &text[r.clone()];
            (s.starts_with('"') && s.ends_with('"')).then_some(s)
        }
        _ => None,
    }
}

/// The metadata parameters of a signature and their rewrite.
#[derive(Default)]
struct MetadataParams {
    /// Index in the inputs and `&mut`, as [`Helper::params`].
    params: Vec<(usize, bool)>,
    /// Their names.
    names: Vec<String>,
    edits: Vec<Edit>,
    replaced: Vec<Range<usize>>,
    /// A parameter that is not a plain name.
    problem: Option<String>,
}

fn metadata_params(idx: &FileIndex, sig: &syn::Signature) -> MetadataParams {
    let mut out = MetadataParams::default();
    for (i, a) in sig.inputs.iter().enumerate() {
        let syn::FnArg::Typed(t) = a else { continue };
        let Some((m, r)) = is_metadata_map(idx, &t.ty) else {
            continue;
        };
        out.params.push((i, m));
        out.replaced.push(r.clone());
        out.edits.push(Edit::replace(
            r,
            "http::HeaderMap",
            "step03/metadata-helper",
        ));
        match &*t.pat {
            syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                out.names.push(pi.ident.to_string())
            }
            _ => out.problem = Some("a metadata parameter is not a plain name".into()),
        }
    }
    out
}

fn analyse(
    idx: &FileIndex,
    text: &str,
    vis: &syn::Visibility,
    sig: &syn::Signature,
    block: &syn::Block,
) -> Option<Helper> {
    let MetadataParams {
        params,
        names,
        mut edits,
        replaced,
        mut problem,
    } = metadata_params(idx, sig);
    if params.is_empty() {
        return None;
    }
    let receiver = matches!(sig.inputs.first(), Some(syn::FnArg::Receiver(_)));
    let mut set = |p: String| {
        if problem.is_none() {
            problem = Some(p);
        }
    };
    if !matches!(vis, syn::Visibility::Inherited) {
        set("it is visible outside this file (its callers there are not converted with it)".into());
    }
    if sig
        .generics
        .params
        .iter()
        .any(|g| !matches!(g, syn::GenericParam::Lifetime(_)))
    {
        set("it is generic".into());
    }
    if MAP_METHODS.contains(&sig.ident.to_string().as_str()) || sig.ident == "clone" {
        set("its name is one of the map methods".into());
    }
    // The signature apart from the metadata parameters.
    let mut sig_toks = Vec::new();
    flatten(sig.to_token_stream(), &mut sig_toks);
    if let Some(t) = names_tonic(idx, &sig_toks, &replaced) {
        set(format!("its signature also names `{t}`"));
    }
    let mut toks = Vec::new();
    flatten(block.to_token_stream(), &mut toks);
    if let Some(t) = names_tonic(idx, &toks, &[]) {
        set(format!("its body names `{t}`"));
    }
    for p in body_problems(text, &names, &toks, &mut edits) {
        set(p);
    }
    Some(Helper {
        name: sig.ident.to_string(),
        receiver,
        params,
        def: range(sig.ident.span()),
        problem,
        edits,
        replaced,
    })
}

/// What in a helper's body `toks` keeps it from moving to `http::HeaderMap`, in the order met;
/// the `_bin` calls on its metadata parameters `names` are rewritten into `edits`.
fn body_problems(text: &str, names: &[String], toks: &[Tok], edits: &mut Vec<Edit>) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Tok::Ident(n, _) = t else {
            if t.is_punct('!') && i > 0 && toks[i - 1].ident().is_some() {
                problems.push("its body uses a macro (the values' types change)".into());
            }
            continue;
        };
        let after_dot = i > 0 && toks[i - 1].is_punct('.');
        let after_path = i > 0 && toks[i - 1].is_punct(':');
        let called = toks
            .get(i + 1)
            .is_some_and(|t| t.is_open(Delimiter::Parenthesis) || t.is_punct(':'));
        if n == "for" || n == "while" || n == "loop" {
            problems.push("its body loops (map iteration items differ)".into());
            continue;
        }
        if after_dot {
            if called && !MAP_METHODS.contains(&n.as_str()) && n != "clone" {
                problems.push(format!(
                    "its body calls `.{n}()` (not the same on http::HeaderMap or HeaderValue)"
                ));
            }
            continue;
        }
        if after_path {
            continue;
        }
        if names.contains(n) {
            if let Err(p) = map_call(text, toks, i, n, edits) {
                problems.push(p);
            }
            continue;
        }
        if called
            && toks
                .get(i + 1)
                .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
            && !matches!(n.as_str(), "Some" | "Ok" | "Err")
        {
            problems.push(format!(
                "its body calls `{n}(..)` (the values' types change)"
            ));
        }
    }
    problems
}

/// A use at token `i` of the metadata parameter `n`: one of the map methods with a string
/// literal key whose `-bin` suffix matches the method (`get_bin` becomes `get`).
fn map_call(
    text: &str,
    toks: &[Tok],
    i: usize,
    n: &str,
    edits: &mut Vec<Edit>,
) -> Result<(), String> {
    let m = toks.get(i + 2).and_then(Tok::ident);
    let ok = toks.get(i + 1).is_some_and(|t| t.is_punct('.'))
        && toks
            .get(i + 3)
            .is_some_and(|t| t.is_open(Delimiter::Parenthesis))
        && m.is_some_and(|m| MAP_METHODS.contains(&m));
    if !ok {
        return Err(format!(
            "its body uses `{n}` other than with get/insert/contains_key/remove/append"
        ));
    }
    let m = m.unwrap_or_default();
    // The key: a string literal whose `-bin` suffix matches the method.
    let Some(key) = lit_text(text, toks.get(i + 4)) else {
        return Err(format!(
            "`{n}.{m}(..)` has a key that is not a string literal"
        ));
    };
    let bin_key = key.trim_end_matches('"').ends_with("-bin");
    let bin = m.ends_with("_bin");
    // `contains_key` takes either kind of key.
    if bin != bin_key && m != "contains_key" {
        return Err(format!(
            "`{n}.{m}({key})`: a -bin key read as text or the other way round"
        ));
    }
    if bin {
        let mr = toks[i + 2].range();
        edits.push(Edit::replace(
            mr,
            m.trim_end_matches("_bin"),
            "step03/metadata-helper",
        ));
    }
    Ok(())
}

/// The file's metadata helpers (top level and inherent impls at the top level).
pub(crate) fn helpers(file: &syn::File, idx: &FileIndex, text: &str) -> Vec<Helper> {
    if !text.contains("MetadataMap") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for it in &file.items {
        match it {
            syn::Item::Fn(f) => {
                out.extend(analyse(idx, text, &f.vis, &f.sig, &f.block));
            }
            syn::Item::Impl(imp) if imp.trait_.is_none() => {
                for ii in &imp.items {
                    if let syn::ImplItem::Fn(f) = ii {
                        out.extend(analyse(idx, text, &f.vis, &f.sig, &f.block));
                    }
                }
            }
            _ => {}
        }
    }
    // `http::` must name the http crate.
    if http_taken(file, idx) {
        for h in &mut out {
            if h.problem.is_none() {
                h.problem = Some("the file names something else `http`".into());
            }
        }
    }
    // Two helpers of one name (methods of different types): neither is converted.
    let dup: Vec<String> = out
        .iter()
        .filter(|h| out.iter().filter(|o| o.name == h.name).count() > 1)
        .map(|h| h.name.clone())
        .collect();
    for h in &mut out {
        if dup.contains(&h.name) && h.problem.is_none() {
            h.problem = Some("another function of the file has the same name".into());
        }
    }
    out
}

/// Does the file bind `http` to something other than the http crate (so `http::HeaderMap`
/// cannot be written)?
pub(crate) fn http_taken(file: &syn::File, idx: &FileIndex) -> bool {
    idx.binding_of(idx.root(), "http")
        .is_some_and(|b| b != ["http"])
        || file
            .items
            .iter()
            .any(|it| matches!(it, syn::Item::Mod(m) if m.ident == "http"))
}

/// Where the helper named `name` is mentioned in the file, other than at its definition.
pub(crate) fn mentions(toks: &[Tok], name: &str) -> Vec<usize> {
    toks.iter()
        .enumerate()
        .filter(|(i, t)| t.is_ident(name) && !(*i > 0 && toks[i - 1].is_ident("fn")))
        .map(|(_, t)| t.range().start)
        .collect()
}

/// The argument token ranges (indices into `toks`, end exclusive) of the call whose `(` is at
/// `open`, and the index of its `)`.
pub(crate) fn call_args(toks: &[Tok], open: usize) -> Option<(Vec<Range<usize>>, usize)> {
    if !toks.get(open)?.is_open(Delimiter::Parenthesis) {
        return None;
    }
    let mut depth = 0usize;
    let mut args = Vec::new();
    let mut start = open + 1;
    for (j, t) in toks.iter().enumerate().skip(open) {
        match t {
            Tok::Open(..) => depth += 1,
            Tok::Close(..) => {
                depth -= 1;
                if depth == 0 {
                    if start < j {
                        args.push(start..j);
                    }
                    return Some((args, j));
                }
            }
            Tok::Punct(',', _) if depth == 1 => {
                args.push(start..j);
                start = j + 1;
            }
            _ => {}
        }
    }
    None
}

/// `X . m ( )` filling the argument: `(X, m)`.
pub(crate) fn whole_accessor<'t>(
    toks: &'t [Tok],
    arg: &Range<usize>,
) -> Option<(&'t str, &'t str)> {
    if arg.len() != 5 {
        return None;
    }
    let x = toks[arg.start].ident()?;
    let m = super::empty_call_at(toks, arg.start)?;
    Some((x, m))
}

/// [`mentions`] over the whole file.
pub(crate) fn mentions_in(_text: &str, file: &syn::File, name: &str) -> Vec<usize> {
    let mut toks = Vec::new();
    flatten(file.to_token_stream(), &mut toks);
    mentions(&toks, name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysed(src: &str) -> Vec<Helper> {
        let file = syn::parse_file(src).unwrap();
        let idx = FileIndex::build(&file, Some(vec!["crate".into()]));
        helpers(&file, &idx, src)
    }

    #[test]
    fn same_shaped_helpers_convert() {
        let src = r#"
use tonic::metadata::MetadataMap as Md;
struct S;
fn copy(to: &mut Md, from: &Md) {
    if let Some(v) = from.get_bin("a-bin") { to.insert_bin("a-bin", v.clone()); }
    if from.contains_key("b-bin") { to.remove("c"); }
}
impl S {
    fn stamp(&self, n: u32, md: &mut tonic::metadata::MetadataMap) { md.remove_bin("d-bin"); }
}
"#;
        let hs = analysed(src);
        assert_eq!(hs.len(), 2);
        let copy = &hs[0];
        assert_eq!(copy.problem, None);
        assert_eq!(copy.params, vec![(0, true), (1, false)]);
        assert!(!copy.receiver);
        let stamp = &hs[1];
        assert_eq!(stamp.problem, None);
        assert!(stamp.receiver);
        assert_eq!(stamp.params, vec![(2, true)]);
        assert_eq!(stamp.param_at(1, true), Some(true));
        assert_eq!(stamp.param_at(2, false), Some(true));
        assert_eq!(stamp.param_at(0, true), None);
        // Types and the three `_bin` calls of `copy`, the type and `remove_bin` of `stamp`.
        assert_eq!(copy.edits.len(), 4);
        assert_eq!(stamp.edits.len(), 2);
    }

    #[test]
    fn other_bodies_are_rejected_with_why() {
        let cases = [
            ("fn f(m: &MetadataMap) { for _ in m.iter() {} }", "loops"),
            ("fn f(m: &MetadataMap) { let _ = m.keys(); }", "other than"),
            (
                "fn f(m: &MetadataMap) { if let Some(v) = m.get(\"a\") { let _ = v.to_bytes(); } }",
                "`.to_bytes()`",
            ),
            (
                "fn f(m: &MetadataMap) { m.get(\"a\").map(|v| v.to_str()); }",
                "`.map()`",
            ),
            (
                "fn f(m: &mut MetadataMap) { m.insert(\"a\", MetadataValue::from_static(\"b\")); }",
                "MetadataValue",
            ),
            ("pub fn f(m: &MetadataMap) { m.get(\"a\"); }", "visible"),
            ("fn f(m: &MetadataMap) { m.get(\"a-bin\"); }", "-bin key"),
            (
                "fn f(m: &MetadataMap, k: &str) { m.get(k); }",
                "not a string literal",
            ),
            ("fn f(m: &MetadataMap) { g(m); }", "calls `g(..)`"),
            (
                "fn f(m: &MetadataMap) { let n = m; n.get(\"a\"); }",
                "other than",
            ),
            (
                "fn f(m: &MetadataMap) -> MetadataValue<Ascii> { todo() }",
                "signature",
            ),
        ];
        for (body, why) in cases {
            let src = format!("use tonic::metadata::{{MetadataMap, MetadataValue}};\n{body}\n");
            let hs = analysed(&src);
            assert_eq!(hs.len(), 1, "{body}");
            let p = hs[0].problem.clone().unwrap_or_default();
            assert!(p.contains(why), "{body}: {p}");
        }
    }

    #[test]
    fn a_local_http_blocks() {
        let src = "use tonic::metadata::MetadataMap;\nmod http {}\nfn f(m: &MetadataMap) { m.get(\"a\"); }\n";
        let hs = analysed(src);
        assert!(hs[0]
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("`http`"));
        let src = "use tonic::metadata::MetadataMap;\nuse hyper::http;\nfn f(m: &MetadataMap) { m.get(\"a\"); }\n";
        let hs = analysed(src);
        assert!(hs[0]
            .problem
            .as_deref()
            .unwrap_or_default()
            .contains("`http`"));
        let src = "use tonic::metadata::MetadataMap;\nfn f(m: &MetadataMap) { m.get(\"a\"); }\n";
        assert_eq!(analysed(src)[0].problem, None);
    }

    #[test]
    fn other_map_types_are_not_helpers() {
        let src =
            "use http::HeaderMap as MetadataMap;\nfn f(m: &MetadataMap) { for _ in m.iter() {} }\n";
        assert!(analysed(src).is_empty());
    }
}
