//! Per-call metadata of tonic requests and responses, as connectrpc `CallOptions` and headers.
//!
//! Shared by the client steps. A tonic request's metadata and deadline are set by statements on
//! the request (`request.metadata_mut().insert(k, v);`, `insert_bin`, `set_timeout(d);`); each
//! becomes one builder step on a `connectrpc::client::CallOptions`:
//!
//! | tonic | connectrpc |
//! |---|---|
//! | `insert(k, MetadataValue::from_static(s))` | `with_header(k, s)` |
//! | `insert(k, x.parse()<h>)` (`<h>`: `.unwrap()`, `.expect(..)`, `?`, `.map_err(f)?`) | `try_with_header(k, x)<h>` |
//! | `insert(k, MetadataValue::try_from(x)<h>)` | `try_with_header(k, x)<h>` |
//! | `insert_bin(k, BinaryMetadataValue::from_bytes(b))` | `with_header(k, grpc_bin_encode(b))` |
//! | `set_timeout(d)` | `with_timeout(d)` |
//!
//! gRPC sends binary (`-bin`) metadata as standard base64 without padding and accepts any
//! padding on receipt; connectrpc exposes no helper for it, so the rewrite adds two small
//! functions to the file ([`bin_helpers`]) the first time it needs them. On the response side,
//! `metadata()` is `headers()` (an `http::HeaderMap`; tonic's unary response metadata also held
//! the trailers, which connectrpc keeps apart in `trailers()`), `get(k)` reads the same, and
//! `get_bin(k)..to_bytes()` becomes `grpc_bin_decode(..get(k)..)`.

use std::ops::Range;

use syn::spanned::Spanned;

use crate::resolve::range;

/// The name of the encoding helper the rewrite adds.
pub const BIN_ENCODE: &str = "grpc_bin_encode";
/// The name of the decoding helper the rewrite adds.
pub const BIN_DECODE: &str = "grpc_bin_decode";

/// The helper functions for binary metadata, appended to a file that needs them.
const BIN_HELPERS: &str = include_str!("../../templates/metadata_helpers.rs");

/// The text of the helpers a file needs (each once), to append to it.
pub fn bin_helpers(encode: bool, decode: bool) -> String {
    let at = BIN_HELPERS.find("\n/// The bytes of").expect("two helpers");
    let mut out = String::new();
    if encode {
        out.push('\n');
        out.push_str(&BIN_HELPERS[..at]);
    }
    if decode {
        out.push('\n');
        out.push_str(&BIN_HELPERS[at + 1..]);
    }
    out
}

/// The block passing a request helper's `(message, CallOptions)` pair to a native call, laid
/// out over lines in the indentation of the line `at` (where the replaced call starts):
/// `{ let (first, options) = parts; call }`, where `call` passes `first` and `options`.
/// As a `match` arm's body it is parenthesised, for the reader: rustc and syn read a block
/// receiver on (`{ .. }.await`) in statement and arm position alike.
pub fn parts_block(text: &str, at: usize, first: &str, parts: &str, call: &str) -> String {
    let i = crate::edit::indent_at(text, at);
    let block = format!("{{\n{i}    let ({first}, options) = {parts};\n{i}    {call}\n{i}}}");
    let before = text[..at].trim_end();
    if before.ends_with("=>") {
        format!("({block})")
    } else {
        block
    }
}

/// One request-building statement as a `CallOptions` builder step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionStep {
    /// The builder call, e.g. `.with_header("k", v)`.
    pub call: String,
    /// Error handling that followed the value and now follows the builder call (`.unwrap()`,
    /// `?`, `.map_err(f)?`), or empty.
    pub suffix: String,
    /// The step uses [`BIN_ENCODE`].
    pub bin_encode: bool,
}

fn peel(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => peel(&p.expr),
        e => e,
    }
}

/// `var.metadata_mut()` (or `(&mut var).metadata_mut()`).
fn is_metadata_mut(e: &syn::Expr, var: &str) -> bool {
    let syn::Expr::MethodCall(m) = peel(e) else {
        return false;
    };
    m.method == "metadata_mut" && m.args.is_empty() && is_var(&m.receiver, var)
}

/// `var`, possibly parenthesised or borrowed (`(&mut var)`).
pub(crate) fn is_var(e: &syn::Expr, var: &str) -> bool {
    match peel(e) {
        syn::Expr::Path(p) => p.path.is_ident(var),
        syn::Expr::Reference(r) => is_var(&r.expr, var),
        _ => false,
    }
}

/// Is `e` a statement on the request `var` (one this module converts or not)?
pub fn mentions_request(e: &syn::Expr, var: &str) -> bool {
    let syn::Expr::MethodCall(m) = peel(e) else {
        return false;
    };
    is_var(&m.receiver, var) || is_metadata_mut(&m.receiver, var)
}

/// Converts one statement expression on the tonic request `var` (the `Expr` of an expression
/// statement). `resolve` gives the canonical path of a path (name resolution of the file).
pub fn request_stmt(
    text: &str,
    e: &syn::Expr,
    var: &str,
    resolve: &dyn Fn(&syn::Path) -> Option<Vec<String>>,
) -> Result<OptionStep, String> {
    let syn::Expr::MethodCall(m) = peel(e) else {
        return Err("not a method call on the request".into());
    };
    let src = |r: Range<usize>| text[r].to_string();
    let method = m.method.to_string();
    if is_var(&m.receiver, var) {
        return match (method.as_str(), m.args.len()) {
            ("set_timeout", 1) => Ok(OptionStep {
                call: format!(".with_timeout({})", src(range(m.args[0].span()))),
                suffix: String::new(),
                bin_encode: false,
            }),
            _ => Err(format!(
                "`{var}.{method}(..)` has no `CallOptions` equivalent"
            )),
        };
    }
    if !is_metadata_mut(&m.receiver, var) {
        return Err("not a statement on the request's metadata".into());
    }
    let key = src(insertion_key(m)?);
    let value = &m.args[1];
    if method.ends_with("_bin") {
        let arg = ctor_arg(value, &["from_bytes"], resolve)
            .ok_or("the binary metadata value is not `BinaryMetadataValue::from_bytes(..)`")?;
        return Ok(OptionStep {
            call: format!(
                ".with_header({key}, {BIN_ENCODE}({}))",
                src(range(arg.span()))
            ),
            suffix: String::new(),
            bin_encode: true,
        });
    }
    if let Some(arg) = ctor_arg(value, &["from_static"], resolve) {
        return Ok(OptionStep {
            call: format!(".with_header({key}, {})", src(range(arg.span()))),
            suffix: String::new(),
            bin_encode: false,
        });
    }
    // A fallible value: `x.parse()<h>` or `MetadataValue::try_from(x)<h>`.
    let (inner, suffix_start) = fallible(value).ok_or(
        "the metadata value is not `from_static`, `parse()` or `try_from` (a value built elsewhere)",
    )?;
    let x = match peel(inner) {
        syn::Expr::MethodCall(p)
            if p.method == "parse" && p.args.is_empty() && p.turbofish.is_none() =>
        {
            &*p.receiver
        }
        e => ctor_arg(e, &["try_from"], resolve)
            .ok_or("the fallible metadata value is not `parse()` or `try_from`")?,
    };
    let end = range(value.span()).end;
    Ok(OptionStep {
        call: format!(".try_with_header({key}, {})", src(range(x.span()))),
        suffix: text[suffix_start..end].to_string(),
        bin_encode: false,
    })
}

/// A byte range of the source and its new text.
pub type Replacement = (Range<usize>, String);

/// One `metadata_mut()` insertion (`insert`, `append`, `insert_bin`, `append_bin`; `m` is the
/// insertion call, its receiver `x.metadata_mut()`) as the same insertion into an
/// `http::HeaderMap` (`x.headers_mut()` of a `connectrpc::RequestContext`): the edits of the
/// method name and the value (the receiver is the caller's), and whether [`BIN_ENCODE`] is used.
/// `from_static(s)` -> `s.parse().unwrap()`, `x.parse().unwrap()` (or `.expect(..)`) as it is,
/// `BinaryMetadataValue::from_bytes(b)` -> `grpc_bin_encode(b).parse().unwrap()`.
pub fn header_insert(
    text: &str,
    m: &syn::ExprMethodCall,
    resolve: &dyn Fn(&syn::Path) -> Option<Vec<String>>,
) -> Result<(Vec<Replacement>, bool), String> {
    let src = |r: Range<usize>| text[r].to_string();
    let method = m.method.to_string();
    insertion_key(m)?;
    let value = &m.args[1];
    let vr = range(value.span());
    if let Some(plain) = method.strip_suffix("_bin") {
        let arg = ctor_arg(value, &["from_bytes"], resolve)
            .ok_or("the binary metadata value is not `BinaryMetadataValue::from_bytes(..)`")?;
        return Ok((
            vec![
                (range(m.method.span()), plain.to_string()),
                (
                    vr,
                    format!("{BIN_ENCODE}({}).parse().unwrap()", src(range(arg.span()))),
                ),
            ],
            true,
        ));
    }
    if let Some(arg) = ctor_arg(value, &["from_static"], resolve) {
        return Ok((
            vec![(vr, format!("{}.parse().unwrap()", src(range(arg.span()))))],
            false,
        ));
    }
    let (inner, suffix_start) = fallible(value)
        .ok_or("the metadata value is not `from_static(..)` or `x.parse().unwrap()`")?;
    let suffix = &text[suffix_start..vr.end];
    let parse = matches!(peel(inner), syn::Expr::MethodCall(p)
        if p.method == "parse" && p.args.is_empty() && p.turbofish.is_none());
    if !parse || !(suffix == ".unwrap()" || suffix.starts_with(".expect(")) {
        return Err(
            "the metadata value is not `x.parse().unwrap()` (its error type changes with the header map)"
                .into(),
        );
    }
    Ok((Vec::new(), false))
}

/// The key's range of a `metadata_mut()` insertion `m` (`insert`, `append`, `insert_bin`,
/// `append_bin` with a literal or constant key).
fn insertion_key(m: &syn::ExprMethodCall) -> Result<Range<usize>, String> {
    let method = m.method.to_string();
    if m.args.len() != 2
        || !matches!(
            method.as_str(),
            "insert" | "append" | "insert_bin" | "append_bin"
        )
    {
        return Err(format!(
            "`metadata_mut().{method}(..)` is not a header insertion"
        ));
    }
    let key = &m.args[0];
    if !matches!(peel(key), syn::Expr::Lit(_) | syn::Expr::Path(_)) {
        return Err("the metadata key is not a string literal or a constant".into());
    }
    Ok(range(key.span()))
}

/// `V(x)` where `V::f` resolves to tonic's metadata value type and `f` is one of `fns`.
fn ctor_arg<'e>(
    e: &'e syn::Expr,
    fns: &[&str],
    resolve: &dyn Fn(&syn::Path) -> Option<Vec<String>>,
) -> Option<&'e syn::Expr> {
    let syn::Expr::Call(c) = peel(e) else {
        return None;
    };
    let syn::Expr::Path(fp) = &*c.func else {
        return None;
    };
    if c.args.len() != 1 {
        return None;
    }
    let full = resolve(&fp.path)?;
    let s: Vec<&str> = full.iter().map(String::as_str).collect();
    match s.as_slice() {
        ["tonic", "metadata", ty, f]
            if fns.contains(f)
                && matches!(
                    *ty,
                    "MetadataValue" | "AsciiMetadataValue" | "BinaryMetadataValue"
                ) =>
        {
            Some(&c.args[0])
        }
        _ => None,
    }
}

/// `inner<h>` with `<h>` one of `.unwrap()`, `.expect(..)`, `?`, `.map_err(f)?`,
/// `.map_err(f).unwrap()`: `inner` and where `<h>` starts.
fn fallible(e: &syn::Expr) -> Option<(&syn::Expr, usize)> {
    let e = peel(e);
    let (base, _) = match e {
        syn::Expr::Try(t) => (&*t.expr, ()),
        syn::Expr::MethodCall(m)
            if (m.method == "unwrap" && m.args.is_empty())
                || (m.method == "expect" && m.args.len() == 1) =>
        {
            (&*m.receiver, ())
        }
        _ => return None,
    };
    let base = peel(base);
    let inner = match base {
        syn::Expr::MethodCall(m) if m.method == "map_err" && m.args.len() == 1 => &*m.receiver,
        b => b,
    };
    Some((inner, range(inner.span()).end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(p: &syn::Path) -> Option<Vec<String>> {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        let mut full = vec!["tonic".to_string(), "metadata".to_string()];
        match segs.first().map(String::as_str) {
            Some("MetadataValue" | "BinaryMetadataValue" | "AsciiMetadataValue") => {
                full.extend(segs);
                Some(full)
            }
            _ => Some(segs),
        }
    }

    fn conv(src: &str) -> Result<OptionStep, String> {
        let e: syn::Expr = syn::parse_str(src).unwrap();
        request_stmt(src, &e, "request", &resolve)
    }

    #[test]
    fn statements_become_builder_steps() {
        assert_eq!(
            conv(r#"request.metadata_mut().insert("x-id", MetadataValue::from_static(ID))"#)
                .unwrap()
                .call,
            r#".with_header("x-id", ID)"#
        );
        let s = conv(
            r#"request.metadata_mut().insert("a", format!("B {t}").parse().map_err(|_| "bad")?)"#,
        )
        .unwrap();
        assert_eq!(s.call, r#".try_with_header("a", format!("B {t}"))"#);
        assert_eq!(s.suffix, r#".map_err(|_| "bad")?"#);
        let s = conv(r#"request.metadata_mut().insert_bin("t-bin", BinaryMetadataValue::from_bytes(&[1, 2]))"#).unwrap();
        assert_eq!(s.call, r#".with_header("t-bin", grpc_bin_encode(&[1, 2]))"#);
        assert!(s.bin_encode);
        assert_eq!(
            conv("request.set_timeout(Duration::from_secs(3))")
                .unwrap()
                .call,
            ".with_timeout(Duration::from_secs(3))"
        );
        assert!(conv(r#"request.metadata_mut().insert("a", self.value.clone())"#).is_err());
        assert!(conv(r#"request.extensions_mut().insert(Caller)"#).is_err());
        assert!(
            conv(r#"other.metadata_mut().insert("a", MetadataValue::from_static("b"))"#).is_err()
        );
    }

    /// The helpers, compiled here: what they encode is what gRPC sends.
    mod helpers {
        #![allow(dead_code)]
        include!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/templates/metadata_helpers.rs"
        ));

        #[test]
        fn base64_round_trip() {
            assert_eq!(grpc_bin_encode([0xde, 0xad, 0x00, 0xbe, 0xef]), "3q0Avu8");
            assert_eq!(grpc_bin_encode(b"f"), "Zg");
            assert_eq!(grpc_bin_encode(b"fo"), "Zm8");
            assert_eq!(grpc_bin_encode(b"foo"), "Zm9v");
            assert_eq!(grpc_bin_encode([]), "");
            for padded in ["Zg==", "Zg"] {
                assert_eq!(*grpc_bin_decode(padded).unwrap(), *b"f");
            }
            assert_eq!(
                *grpc_bin_decode("3q0Avu8").unwrap(),
                [0xde, 0xad, 0x00, 0xbe, 0xef]
            );
            assert_eq!(*grpc_bin_decode("AAEC/w").unwrap(), [0, 1, 2, 255]);
            assert!(grpc_bin_decode("a b").is_err());
        }
    }
}
