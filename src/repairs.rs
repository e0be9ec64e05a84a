//! Repairs keyed on the compiler's diagnostics, for the compiler loop (`run::check`): after a step
//! is written, `cargo check` may still fail where a syntax rewrite could not see types (a field
//! that became a buffa `MessageField`, an `i32` that became an `EnumValue`, a message literal that
//! lacks buffa's hidden members, a tonic feature renamed in 0.14). This module is pure: from a
//! diagnostic and a file's text it computes byte-range edits; the run layer writes them and checks
//! again.
//!
//! The sources, in this order:
//! 1. the compiler's machine-applicable suggestions (read by the `rustfix` crate), only where
//!    they fall in text the step wrote ([`written_ranges`]);
//! 2. type mismatches between prost and buffa shapes, as data ([`TYPE_REPAIRS`]), keyed on the
//!    error code and the expected and found types of the primary span's label;
//! 3. code where a table does not fit: a struct literal missing only buffa's `__buffa_*`
//!    members gets `..Default::default()` ([`literal_default`]); a tonic dependency's features
//!    renamed in 0.14 ([`TONIC_FEATURES`], [`rename_tonic_features`]);
//! 4. a message field moved by a consuming call the step wrote (`into_option()`), which prost's
//!    `Copy` field allowed: `.clone()` first ([`MOVE_REPAIRS`]);
//! 5. a name two globs of a module now both bring (E0659, step 1's `pub use
//!    crate::connect::<pkg>::*`): an explicit import from the glob that meant it
//!    (`glob_ambiguity`, [`modules_given_a_glob`]).
//!
//! Before (after step 1, the field is `MessageField<Point>`, the helper takes `Option<Point>`):
//! ```text
//! show(req.location)
//! ```
//! After:
//! ```text
//! show(req.location.into_option())
//! ```

use std::collections::{BTreeSet, HashSet};
use std::ops::Range;

/// One compiler error, as the loop read it from `cargo check --message-format=json`.
#[derive(Clone, Debug, Default)]
pub struct Diag {
    pub code: Option<String>,
    pub message: String,
    /// The primary span's label (`expected `X`, found `Y``).
    pub label: Option<String>,
    /// The primary span, in bytes of the file.
    pub range: Range<usize>,
    /// The diagnostic's JSON (rustc's shape), for rustfix.
    pub raw: String,
}

/// A repair: replace `range` of the file with `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    pub range: Range<usize>,
    pub text: String,
    /// What the repair does (reported in the verdict's count, and in tests).
    pub rule: &'static str,
}

/// A type mismatch the loop repairs by rewriting the expression the compiler points at.
pub struct TypeRepair {
    /// The error code it answers.
    pub code: &'static str,
    /// How the expected type starts, module path dropped (`Option<&`).
    pub expected: &'static str,
    /// How the found type starts, module path dropped (`&MessageField<`); `integer` for an
    /// untyped integer literal.
    pub found: &'static str,
    /// The replacement; `{}` is the expression's text (a leading `&` dropped when `found` starts
    /// with one), parenthesised when the template puts it before a method call.
    pub template: &'static str,
    pub rule: &'static str,
}

/// Mismatches between prost's and buffa's shapes of the same field, first match wins (the more
/// specific borrowed shapes first).
pub const TYPE_REPAIRS: &[TypeRepair] = &[
    TypeRepair {
        code: "E0308",
        expected: "Option<&",
        found: "&MessageField<",
        template: "{}.as_option()",
        rule: "message-field-as-option",
    },
    TypeRepair {
        code: "E0308",
        expected: "Option<",
        found: "MessageField<",
        template: "{}.into_option()",
        rule: "message-field-into-option",
    },
    TypeRepair {
        code: "E0308",
        expected: "MessageField<",
        found: "Option<",
        template: "::buffa::MessageField::from({})",
        rule: "option-into-message-field",
    },
    TypeRepair {
        code: "E0308",
        expected: "EnumValue<",
        found: "integer",
        template: "::buffa::EnumValue::from({})",
        rule: "integer-into-enum-value",
    },
    TypeRepair {
        code: "E0308",
        expected: "EnumValue<",
        found: "i32",
        template: "::buffa::EnumValue::from({})",
        rule: "integer-into-enum-value",
    },
    TypeRepair {
        code: "E0308",
        expected: "i32",
        found: "EnumValue<",
        template: "{}.to_i32()",
        rule: "enum-value-to-i32",
    },
    // A map field is `buffa::Map` (`HashMap<K, V, foldhash::fast::RandomState>`) where prost's
    // was std's `HashMap<K, V>`: between the two hashers, or into the user's own map type, the
    // entries are collected again (cln-grpc's `params: Some(c.params)` into another crate's
    // `Option<HashMap<String, String>>`). Keys or values of other types still fail after it, and
    // the loop restores.
    TypeRepair {
        code: "E0308",
        expected: "HashMap<",
        found: "HashMap<",
        template: "{}.into_iter().collect()",
        rule: "map-between-hashers",
    },
];

/// A comparison the compiler refuses (E0277 `can't compare `L` with `R``): the right operand is
/// rewritten (the left one is usually the message field the step changed).
pub struct CompareRepair {
    /// How the left type starts, module path dropped.
    pub left: &'static str,
    /// How the right type starts.
    pub right: &'static str,
    /// The right operand's replacement (`{}` its text).
    pub template: &'static str,
    pub rule: &'static str,
}

/// `EnumValue<E>` (buffa) where prost had an `i32`.
pub const COMPARE_REPAIRS: &[CompareRepair] = &[
    CompareRepair {
        left: "EnumValue<",
        right: "{integer}",
        template: "::buffa::EnumValue::from({})",
        rule: "integer-into-enum-value",
    },
    CompareRepair {
        left: "EnumValue<",
        right: "i32",
        template: "::buffa::EnumValue::from({})",
        rule: "integer-into-enum-value",
    },
    CompareRepair {
        left: "{integer}",
        right: "EnumValue<",
        template: "{}.to_i32()",
        rule: "enum-value-to-i32",
    },
    CompareRepair {
        left: "i32",
        right: "EnumValue<",
        template: "{}.to_i32()",
        rule: "enum-value-to-i32",
    },
];

/// tonic features of 0.12/0.13 that 0.14 renamed (`None`: gone, the feature is dropped).
pub const TONIC_FEATURES: &[(&str, Option<&str>)] = &[
    // 0.12's rustls with the ring provider.
    ("tls", Some("tls-ring")),
    // 0.12's native root certificates.
    ("tls-roots", Some("tls-native-roots")),
    // prost support moved to the tonic-prost crate (step 1 adds it where codegen needs it).
    ("prost", None),
];

/// The byte ranges of `new` that are not in `old`, by whole lines: the text a step wrote.
pub fn written_ranges(old: &str, new: &str) -> Vec<Range<usize>> {
    let diff = similar::TextDiff::from_lines(old, new);
    let mut starts = vec![0usize];
    for l in new.split_inclusive('\n') {
        starts.push(starts.last().unwrap() + l.len());
    }
    let mut out: Vec<Range<usize>> = Vec::new();
    for op in diff.ops() {
        if let similar::DiffOp::Insert {
            new_index, new_len, ..
        }
        | similar::DiffOp::Replace {
            new_index, new_len, ..
        } = *op
        {
            let r = starts[new_index]..starts[(new_index + new_len).min(starts.len() - 1)];
            match out.last_mut() {
                Some(last) if last.end >= r.start => last.end = last.end.max(r.end),
                _ => out.push(r),
            }
        }
    }
    out
}

/// Map a line of `new` (1-based) to the line of `old` it came from (or the line where the edit
/// that wrote it began).
pub fn old_line(old: &str, new: &str, line: usize) -> usize {
    let diff = similar::TextDiff::from_lines(old, new);
    let target = line.saturating_sub(1);
    for op in diff.ops() {
        let (o, n, nlen) = match *op {
            similar::DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => (old_index, new_index, len),
            similar::DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (old_index, new_index, new_len),
            similar::DiffOp::Replace {
                old_index,
                new_index,
                new_len,
                ..
            } => (old_index, new_index, new_len),
            similar::DiffOp::Delete { .. } => continue,
        };
        if target >= n && target < n + nlen {
            let equal = matches!(op, similar::DiffOp::Equal { .. });
            return if equal { o + (target - n) + 1 } else { o + 1 };
        }
    }
    line
}

/// The lines of `old` (1-based) where each edit of `new` begins.
pub fn edited_old_lines(old: &str, new: &str) -> Vec<usize> {
    similar::TextDiff::from_lines(old, new)
        .ops()
        .iter()
        .filter(|op| !matches!(op, similar::DiffOp::Equal { .. }))
        .map(|op| op.old_range().start + 1)
        .collect()
}

fn inside(r: &Range<usize>, written: &[Range<usize>]) -> bool {
    written.iter().any(|w| w.start <= r.start && r.end <= w.end)
}

/// Where an error sits: its file's text and what the step wrote (in that file and elsewhere).
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    pub text: &'a str,
    /// The text the step wrote in this file ([`written_ranges`]).
    pub written: &'a [Range<usize>],
    /// Modules (by name) into which the step wrote a glob re-export, in any file
    /// ([`modules_given_a_glob`]): step 1's `pub use crate::connect::<pkg>::*`.
    pub glob_modules: &'a BTreeSet<String>,
}

/// The repairs of one error in a file of `site.text`.
pub fn repairs_for(d: &Diag, site: &Site) -> Vec<Repair> {
    let from_compiler = compiler_suggestions(d, site.written);
    if !from_compiler.is_empty() {
        return from_compiler;
    }
    let text = site.text;
    if let Some(r) = type_repair(d, text) {
        return vec![r];
    }
    if let Some(r) = compare_repair(d, text) {
        return vec![r];
    }
    if let Some(r) = enum_value_through_i32(d, text) {
        return vec![r];
    }
    if let Some(r) = move_repair(d, site) {
        return vec![r];
    }
    if let Some(r) = copy_out_of_borrow(d, text) {
        return vec![r];
    }
    if let Some(r) = glob_ambiguity(d, site) {
        return vec![r];
    }
    literal_default(d, text).into_iter().collect()
}

/// The compiler's machine-applicable suggestions inside `written`.
fn compiler_suggestions(d: &Diag, written: &[Range<usize>]) -> Vec<Repair> {
    if d.raw.is_empty() {
        return Vec::new();
    }
    let Ok(sugg) = rustfix::get_suggestions_from_json(
        &d.raw,
        &HashSet::new(),
        rustfix::Filter::MachineApplicableOnly,
    ) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in sugg {
        // The first solution of a suggestion, whole or not at all.
        let Some(sol) = s.solutions.first() else {
            continue;
        };
        if sol
            .replacements
            .iter()
            .all(|r| inside(&r.snippet.range, written))
        {
            out.extend(sol.replacements.iter().map(|r| Repair {
                range: r.snippet.range.clone(),
                text: r.replacement.clone(),
                rule: "compiler-suggestion",
            }));
        }
    }
    out
}

/// `expected `X`, found `Y`` (or `found integer`) from a label.
fn expected_found(label: &str) -> Option<(String, String)> {
    let rest = label.strip_prefix("expected ")?;
    let (exp, found) = rest.split_once(", found ")?;
    let clean = |s: &str| {
        let s = s.trim();
        // `enum `Option<..>`` forms: keep what is inside the backticks.
        match (s.find('`'), s.rfind('`')) {
            (Some(a), Some(b)) if b > a => s[a + 1..b].to_string(),
            _ => s.to_string(),
        }
    };
    Some((short_type(&clean(exp)), short_type(&clean(found))))
}

/// A type with the module path of its head dropped: `&buffa::MessageField<pb::P>` ->
/// `&MessageField<pb::P>`, `std::option::Option<&pb::P>` -> `Option<&pb::P>`.
fn short_type(t: &str) -> String {
    let (refs, rest) = match t.find(|c: char| c != '&' && c != ' ') {
        Some(i) => t.split_at(i),
        None => return t.to_string(),
    };
    let head_end = rest.find('<').unwrap_or(rest.len());
    let head = rest[..head_end].rsplit("::").next().unwrap_or("");
    let mut tail = rest[head_end..].to_string();
    // The inner type of `Option<&a::B>` keeps its path, but `Option<&` must still match.
    if let Some(stripped) = tail.strip_prefix('<') {
        tail = format!("<{}", short_type(stripped));
    }
    format!("{}{head}{tail}", refs.replace(' ', ""))
}

/// Whether `expr` can take a method call as it is (`a.b(c)?`, `x[0]`), not `a + b` or `&x`.
fn postfix_safe(expr: &str) -> bool {
    let mut depth = 0i32;
    for c in expr.chars() {
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            _ if depth > 0 => {}
            c if c.is_alphanumeric() || "_.:?!".contains(c) => {}
            _ => return false,
        }
    }
    !expr.starts_with('&') && !expr.starts_with('*') && !expr.starts_with('-')
}

fn type_repair(d: &Diag, text: &str) -> Option<Repair> {
    let code = d.code.as_deref()?;
    let (exp, found) = expected_found(d.label.as_deref()?)?;
    let expr = text.get(d.range.clone())?;
    if expr.is_empty() || expr.contains('\n') {
        return None;
    }
    let rule = TYPE_REPAIRS
        .iter()
        .find(|r| r.code == code && exp.starts_with(r.expected) && found.starts_with(r.found))?;
    if !expression_site(text, d.range.start) {
        return None;
    }
    let (range, inner) = if rule.found.starts_with('&') {
        let inner = expr.strip_prefix('&')?;
        (d.range.clone(), inner.trim_start())
    } else {
        (d.range.clone(), expr)
    };
    Some(Repair {
        range,
        text: fill(rule.template, inner),
        rule: rule.rule,
    })
}

/// Fill `template` with `expr`, parenthesised when the template calls a method on it.
fn fill(template: &str, expr: &str) -> String {
    let inner = if template.starts_with("{}.") && !postfix_safe(expr) {
        format!("({expr})")
    } else {
        expr.to_string()
    };
    template.replace("{}", &inner)
}

fn compare_repair(d: &Diag, text: &str) -> Option<Repair> {
    if d.code.as_deref() != Some("E0277") {
        return None;
    }
    let rest = d.message.strip_prefix("can't compare `")?;
    let (left, right) = rest.split_once("` with `")?;
    let right = right.strip_suffix('`')?;
    let (left, right) = (short_type(left), short_type(right));
    let rule = COMPARE_REPAIRS
        .iter()
        .find(|r| left.starts_with(r.left) && right.starts_with(r.right))?;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let file = syn::parse_file(body).ok()?;
    let mut finder = ComparisonAt {
        at: d.range.start.checked_sub(bom)?,
        right: None,
    };
    syn::visit::Visit::visit_file(&mut finder, &file);
    let r = finder.right?;
    let expr = body.get(r.clone())?;
    Some(Repair {
        range: r.start + bom..r.end + bom,
        text: fill(rule.template, expr),
        rule: rule.rule,
    })
}

/// `x.into()` where an `EnumValue<E>` is wanted and `x` is not `E` (E0277 "the trait bound
/// `EnumValue<E>: From<F>` is not satisfied"): prost's field was an `i32`, which `x` converted
/// into (another crate's enum with `From<F> for i32`; cln-grpc's `c.names.into_iter().map(|i|
/// i.into())` on a repeated enum field). The number, then buffa's value:
/// `::buffa::EnumValue::from(i32::from(x))`.
fn enum_value_through_i32(d: &Diag, text: &str) -> Option<Repair> {
    if d.code.as_deref() != Some("E0277") {
        return None;
    }
    let rest = d.message.strip_prefix("the trait bound `")?;
    let (wanted, _) = rest.split_once("` is not satisfied")?;
    let (target, _) = wanted.split_once(": From<")?;
    if !short_type(target).starts_with("EnumValue<") {
        return None;
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let file = syn::parse_file(body).ok()?;
    let mut finder = IntoCallAt {
        at: d.range.start.checked_sub(bom)?,
        found: None,
    };
    syn::visit::Visit::visit_file(&mut finder, &file);
    let (call, receiver) = finder.found?;
    let recv = body.get(receiver)?;
    Some(Repair {
        range: call.start + bom..call.end + bom,
        text: format!("::buffa::EnumValue::from(i32::from({recv}))"),
        rule: "enum-value-through-i32",
    })
}

/// The innermost `x.into()` (no arguments) whose span holds `at`: the call's and the receiver's
/// ranges.
struct IntoCallAt {
    at: usize,
    found: Option<(Range<usize>, Range<usize>)>,
}

impl<'ast> syn::visit::Visit<'ast> for IntoCallAt {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        use syn::spanned::Spanned;
        let r = m.span().byte_range();
        if m.method == "into" && m.args.is_empty() && r.start <= self.at && self.at < r.end {
            self.found = Some((r, m.receiver.span().byte_range()));
        }
        syn::visit::visit_expr_method_call(self, m);
    }
}

/// Whether the bytes at `at` may take an expression with a call: not inside a pattern (`0 =>`
/// of a match on a field that is now an `EnumValue`: a call there is no pattern, E0164) nor in a
/// const context (`const fn`, `const`, `static`: the conversions are not const, E0015). A file
/// that does not parse gets no repair.
fn expression_site(text: &str, at: usize) -> bool {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(at) = at.checked_sub(text.len() - body.len()) else {
        return false;
    };
    let Ok(file) = syn::parse_file(body) else {
        return false;
    };
    let mut finder = SiteAt {
        at,
        refused: false,
        in_const: false,
    };
    syn::visit::Visit::visit_file(&mut finder, &file);
    !finder.refused
}

/// Finds whether `at` lies in a pattern or a const context.
struct SiteAt {
    at: usize,
    refused: bool,
    in_const: bool,
}

impl SiteAt {
    fn covers(&self, node: &impl syn::spanned::Spanned) -> bool {
        node.span().byte_range().contains(&self.at)
    }
}

impl<'ast> syn::visit::Visit<'ast> for SiteAt {
    fn visit_pat(&mut self, p: &'ast syn::Pat) {
        if self.covers(p) {
            self.refused = true;
        }
    }
    fn visit_expr(&mut self, e: &'ast syn::Expr) {
        if self.in_const && self.covers(e) {
            self.refused = true;
        }
        syn::visit::visit_expr(self, e);
    }
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let was = self.in_const;
        self.in_const |= f.sig.constness.is_some();
        syn::visit::visit_item_fn(self, f);
        self.in_const = was;
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let was = self.in_const;
        self.in_const |= f.sig.constness.is_some();
        syn::visit::visit_impl_item_fn(self, f);
        self.in_const = was;
    }
    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        let was = std::mem::replace(&mut self.in_const, true);
        syn::visit::visit_item_const(self, c);
        self.in_const = was;
    }
    fn visit_item_static(&mut self, c: &'ast syn::ItemStatic) {
        let was = std::mem::replace(&mut self.in_const, true);
        syn::visit::visit_item_static(self, c);
        self.in_const = was;
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        // A closure's parameters are patterns, its body is not const.
        let was = std::mem::replace(&mut self.in_const, false);
        syn::visit::visit_expr_closure(self, c);
        self.in_const = was;
    }
}

/// Finds the comparison whose operator starts at `at`: its right operand's bytes.
struct ComparisonAt {
    at: usize,
    right: Option<Range<usize>>,
}

impl<'ast> syn::visit::Visit<'ast> for ComparisonAt {
    fn visit_expr_binary(&mut self, e: &'ast syn::ExprBinary) {
        use syn::spanned::Spanned;
        let is_cmp = matches!(
            e.op,
            syn::BinOp::Eq(_)
                | syn::BinOp::Ne(_)
                | syn::BinOp::Lt(_)
                | syn::BinOp::Le(_)
                | syn::BinOp::Gt(_)
                | syn::BinOp::Ge(_)
        );
        if self.right.is_none() && is_cmp && e.op.span().byte_range().start == self.at {
            self.right = Some(e.right.span().byte_range());
        }
        syn::visit::visit_expr_binary(self, e);
    }
}

/// A move the compiler refuses (E0382 used after a move, E0505 moved while borrowed, E0507
/// moved out of a borrow) of a value whose type the step changed to one that is not `Copy`,
/// at a consuming call the step wrote: prost's message field was `Copy` (every field
/// copyable), so the original code copied it; buffa's `MessageField` never is.
pub struct MoveRepair {
    /// The error codes it answers.
    pub codes: &'static [&'static str],
    /// How the moved value's type starts, module path dropped (from `... has type `X``).
    pub moved_type: &'static str,
    /// The consuming call the step wrote at the move site (`into_option()`).
    pub call: &'static str,
    /// Inserted before the call's `.`: what the copy did.
    pub insert: &'static str,
    pub rule: &'static str,
}

/// `if let Some(p) = req.at` became `req.at.into_option()` (step 1), which moves the field out
/// of a borrowed message or before a later read of it.
pub const MOVE_REPAIRS: &[MoveRepair] = &[MoveRepair {
    codes: &["E0382", "E0505", "E0507"],
    moved_type: "MessageField<",
    call: "into_option()",
    insert: ".clone()",
    rule: "message-field-clone-before-move",
}];

/// A message field read by value through a reference (E0507 "cannot move out of `r.time` which
/// is behind a shared reference"): prost's `Option<M>` of a message whose fields are all scalars
/// is `Copy`, so `gw_time: rx_info.time` copied it; buffa's `MessageField<M>` is not `Copy`, and
/// the read is cloned (chirpstack_api's `v4_migrate`). Only a field whose type is buffa's, at an
/// expression the compiler points at; anywhere in the file, as prost's copy was written by the
/// user, not the step.
fn copy_out_of_borrow(d: &Diag, text: &str) -> Option<Repair> {
    if d.code.as_deref() != Some("E0507") || !d.message.starts_with("cannot move out of `") {
        return None;
    }
    if !d.message.contains("behind a shared reference")
        && !d.message.contains("behind a mutable reference")
    {
        return None;
    }
    let ty = d.label.as_deref().and_then(moved_type)?;
    if !ty.starts_with("MessageField<") {
        return None;
    }
    let expr = text.get(d.range.clone())?;
    // A field read (`a.b`, `self.a.b`): what prost copied.
    let is_field = matches!(syn::parse_str::<syn::Expr>(expr), Ok(syn::Expr::Field(_)));
    if !is_field || !expression_site(text, d.range.start) {
        return None;
    }
    Some(Repair {
        range: d.range.end..d.range.end,
        text: ".clone()".into(),
        rule: "message-field-clone-out-of-borrow",
    })
}

/// The spans of a diagnostic's JSON, children's included: (file, bytes, primary, label, the
/// message of the diagnostic holding the span).
fn raw_spans(raw: &serde_json::Value) -> Vec<(String, Range<usize>, bool, String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![raw];
    while let Some(d) = stack.pop() {
        let message = d["message"].as_str().unwrap_or("").to_string();
        for s in d["spans"].as_array().into_iter().flatten() {
            let (Some(file), Some(a), Some(b)) = (
                s["file_name"].as_str(),
                s["byte_start"].as_u64(),
                s["byte_end"].as_u64(),
            ) else {
                continue;
            };
            out.push((
                file.to_string(),
                a as usize..b as usize,
                s["is_primary"].as_bool().unwrap_or(false),
                s["label"].as_str().unwrap_or("").to_string(),
                message.clone(),
            ));
        }
        stack.extend(d["children"].as_array().into_iter().flatten());
    }
    out
}

/// The file of the diagnostic's primary span.
fn primary_file(spans: &[(String, Range<usize>, bool, String, String)]) -> Option<&str> {
    spans.iter().find(|s| s.2).map(|s| s.0.as_str())
}

/// The type in `... has type `X`...` of a label or note, module path dropped.
fn moved_type(text: &str) -> Option<String> {
    let rest = &text[text.find("has type `")? + "has type `".len()..];
    Some(short_type(&rest[..rest.find('`')?]))
}

fn move_repair(d: &Diag, site: &Site) -> Option<Repair> {
    let code = d.code.as_deref()?;
    let raw: serde_json::Value = serde_json::from_str(&d.raw).ok()?;
    let spans = raw_spans(&raw);
    let file = primary_file(&spans)?;
    // The type is in the primary label (E0507) or in a note without a span (E0382).
    let mut notes = Vec::new();
    let mut stack = vec![&raw];
    while let Some(c) = stack.pop() {
        notes.extend(c["message"].as_str());
        stack.extend(c["children"].as_array().into_iter().flatten());
    }
    let ty = notes
        .into_iter()
        .chain(spans.iter().map(|s| s.3.as_str()))
        .find_map(moved_type)?;
    let rule = MOVE_REPAIRS
        .iter()
        .find(|r| r.codes.contains(&code) && ty.starts_with(r.moved_type))?;
    // The move site: a span labelled as the move, on the call the step wrote.
    spans.iter().find_map(|(f, r, _, label, _)| {
        let is_move = label.contains("moved due to this method call")
            || label.contains("value moved here")
            || label.starts_with("move out of");
        if f != file || !is_move || !inside(r, site.written) {
            return None;
        }
        let at = site.text.get(r.clone())?;
        let dot = if at.starts_with(rule.call) {
            r.start.checked_sub(1)?
        } else if at.ends_with(&format!(".{}", rule.call)) {
            r.end - rule.call.len() - 1
        } else {
            return None;
        };
        (site.text.get(dot..dot + 1) == Some(".")).then(|| Repair {
            range: dot..dot,
            text: rule.insert.to_string(),
            rule: rule.rule,
        })
    })
}

/// E0659: a name two glob imports of one module both bring. When the step wrote one of the globs
/// (step 1's `pub use crate::connect::<pkg>::*` beside a glob the module had), the step's glob
/// is what the name meant (it replaced the module's own items); when the step wrote neither but
/// one of them imports a module the step gave a glob re-export (the user's `use pb::*` now
/// also brings connectrpc's `Greeter`, `GreeterServer`, ...), the other is what it meant. The
/// name is then imported explicitly from there, just after that glob, with the glob's
/// visibility (an explicit import wins over globs): `use pb::greeter_server::Greeter;`.
fn glob_ambiguity(d: &Diag, site: &Site) -> Option<Repair> {
    if d.code.as_deref() != Some("E0659") {
        return None;
    }
    let name = d
        .message
        .strip_prefix('`')?
        .strip_suffix("` is ambiguous")?;
    let raw: serde_json::Value = serde_json::from_str(&d.raw).ok()?;
    let spans = raw_spans(&raw);
    let file = primary_file(&spans)?;
    let candidates: Vec<&Range<usize>> = spans
        .iter()
        .filter(|s| s.4.contains("could refer to") || s.4.contains("could also refer to"))
        .map(|s| (s.0 == file).then_some(&s.1))
        .collect::<Option<_>>()?;
    let [a, b] = candidates[..] else {
        return None;
    };
    let text = site.text;
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let syntax = syn::parse_file(body).ok()?;
    let glob = |r: &Range<usize>| {
        let mut g = GlobAt {
            end: r.end.checked_sub(bom)?,
            found: None,
        };
        syn::visit::Visit::visit_file(&mut g, &syntax);
        g.found
    };
    let (ga, gb) = (glob(a)?, glob(b)?);
    let by_step = |r: &Range<usize>| inside(r, site.written);
    let gained = |g: &FoundGlob| g.path.last().is_some_and(|m| site.glob_modules.contains(m));
    let meant = match (by_step(a), by_step(b)) {
        (true, false) => ga,
        (false, true) => gb,
        (false, false) => match (gained(&ga), gained(&gb)) {
            (true, false) => gb,
            (false, true) => ga,
            _ => return None,
        },
        (true, true) => return None,
    };
    let line_start = body[..meant.item.start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = body[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let vis = body.get(meant.vis.clone()).unwrap_or("");
    let vis = if vis.is_empty() {
        String::new()
    } else {
        format!("{vis} ")
    };
    let path = format!(
        "{}{}",
        if meant.leading_colon { "::" } else { "" },
        meant.path.join("::")
    );
    let at = meant.item.end + bom;
    Some(Repair {
        range: at..at,
        text: format!("\n{indent}{vis}use {path}::{name};"),
        rule: "glob-ambiguity-explicit-import",
    })
}

/// A glob import: the path it imports from, the `use` item's bytes and its visibility's.
struct FoundGlob {
    leading_colon: bool,
    path: Vec<String>,
    item: Range<usize>,
    vis: Range<usize>,
}

/// Finds the glob import whose `*` ends at `end` (trees included: `use a::{b::*, c}`).
struct GlobAt {
    end: usize,
    found: Option<FoundGlob>,
}

impl GlobAt {
    fn walk(&self, tree: &syn::UseTree, path: &mut Vec<String>) -> Option<Vec<String>> {
        use syn::spanned::Spanned;
        match tree {
            syn::UseTree::Path(p) => {
                path.push(p.ident.to_string());
                let r = self.walk(&p.tree, path);
                path.pop();
                r
            }
            syn::UseTree::Group(g) => g.items.iter().find_map(|t| self.walk(t, path)),
            syn::UseTree::Glob(g) => {
                (g.star_token.span().byte_range().end == self.end).then(|| path.clone())
            }
            _ => None,
        }
    }
}

impl<'ast> syn::visit::Visit<'ast> for GlobAt {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        use syn::spanned::Spanned;
        if self.found.is_none() {
            if let Some(path) = self.walk(&u.tree, &mut Vec::new()) {
                // The item without its attributes: from the visibility (or `use`) to the `;`.
                let start = match &u.vis {
                    syn::Visibility::Inherited => u.use_token.span.byte_range().start,
                    v => v.span().byte_range().start,
                };
                let vis = match &u.vis {
                    syn::Visibility::Inherited => start..start,
                    v => v.span().byte_range(),
                };
                self.found = Some(FoundGlob {
                    leading_colon: u.leading_colon.is_some(),
                    path,
                    item: start..u.semi_token.span.byte_range().end,
                    vis,
                });
            }
        }
    }
}

/// The modules (by name) into which the step wrote a glob `use` (the text of `new` not in
/// `old`): step 1's `pub mod pb { pub use crate::connect::greet::v1::*; .. }`.
pub fn modules_given_a_glob(old: &str, new: &str) -> Vec<String> {
    let written = written_ranges(old, new);
    let body = new.strip_prefix('\u{feff}').unwrap_or(new);
    let bom = new.len() - body.len();
    let Ok(file) = syn::parse_file(body) else {
        return Vec::new();
    };
    struct Mods<'a> {
        written: &'a [Range<usize>],
        bom: usize,
        out: Vec<String>,
    }
    impl<'ast> syn::visit::Visit<'ast> for Mods<'_> {
        fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
            use syn::spanned::Spanned;
            for item in m.content.iter().flat_map(|(_, items)| items) {
                let syn::Item::Use(u) = item else {
                    continue;
                };
                let r = u.span().byte_range();
                let r = r.start + self.bom..r.end + self.bom;
                if has_glob(&u.tree) && inside(&r, self.written) {
                    self.out.push(m.ident.to_string());
                    break;
                }
            }
            syn::visit::visit_item_mod(self, m);
        }
    }
    fn has_glob(t: &syn::UseTree) -> bool {
        match t {
            syn::UseTree::Path(p) => has_glob(&p.tree),
            syn::UseTree::Group(g) => g.items.iter().any(has_glob),
            syn::UseTree::Glob(_) => true,
            _ => false,
        }
    }
    let mut v = Mods {
        written: &written,
        bom,
        out: Vec::new(),
    };
    syn::visit::Visit::visit_file(&mut v, &file);
    v.out
}

/// The field names of `missing field(s) `a`, `b` and `c` in initializer of `T``.
fn missing_fields(message: &str) -> Option<Vec<&str>> {
    let rest = message
        .strip_prefix("missing fields ")
        .or_else(|| message.strip_prefix("missing field "))?;
    let list = rest.split(" in initializer of ").next()?;
    let names: Vec<&str> = list
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s)
        .collect();
    (!names.is_empty()).then_some(names)
}

/// E0063 on a struct literal whose missing fields are all buffa's hidden members
/// (`__buffa_unknown_fields`, ...): `..Default::default()` before its closing brace. A literal
/// missing a field the user can see is left to the user (a default would hide it).
pub fn literal_default(d: &Diag, text: &str) -> Option<Repair> {
    if d.code.as_deref() != Some("E0063") {
        return None;
    }
    let names = missing_fields(&d.message)?;
    if !names.iter().all(|n| n.starts_with("__buffa")) {
        return None;
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let file = syn::parse_file(body).ok()?;
    let mut finder = LiteralAt {
        at: d.range.start.checked_sub(bom)?,
        found: None,
    };
    syn::visit::Visit::visit_file(&mut finder, &file);
    let (close, last_end, trailing_comma, open_end) = finder.found?;
    let inner = &body[open_end..close];
    let r = if inner.contains('\n') {
        // Multi-line: a line of its own, indented like the last field.
        let line_start = body[..last_end].rfind('\n').map_or(0, |i| i + 1);
        let indent: String = body[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let comma = if trailing_comma || last_end == open_end {
            ""
        } else {
            ","
        };
        Repair {
            range: last_end..last_end,
            text: format!("{comma}\n{indent}..Default::default()"),
            rule: "message-literal-default",
        }
    } else if last_end == open_end {
        Repair {
            range: open_end..close,
            text: " ..Default::default() ".into(),
            rule: "message-literal-default",
        }
    } else {
        Repair {
            range: last_end..last_end,
            text: if trailing_comma {
                " ..Default::default()".into()
            } else {
                ", ..Default::default()".into()
            },
            rule: "message-literal-default",
        }
    };
    Some(Repair {
        range: r.range.start + bom..r.range.end + bom,
        ..r
    })
}

/// Finds the struct literal whose path starts at `at`: (closing brace, end of the last field or
/// its comma, whether that comma is there, end of the opening brace).
struct LiteralAt {
    at: usize,
    found: Option<(usize, usize, bool, usize)>,
}

impl<'ast> syn::visit::Visit<'ast> for LiteralAt {
    fn visit_expr_struct(&mut self, e: &'ast syn::ExprStruct) {
        use syn::spanned::Spanned;
        if self.found.is_none() && e.rest.is_none() && e.path.span().byte_range().start == self.at {
            let open_end = e.brace_token.span.open().byte_range().end;
            let close = e.brace_token.span.close().byte_range().start;
            let (last_end, trailing) = match e.fields.pairs().next_back() {
                None => (open_end, false),
                Some(syn::punctuated::Pair::Punctuated(_, comma)) => {
                    (comma.span.byte_range().end, true)
                }
                Some(syn::punctuated::Pair::End(f)) => (f.span().byte_range().end, false),
            };
            self.found = Some((close, last_end, trailing, open_end));
        }
        syn::visit::visit_expr_struct(self, e);
    }
}

/// Rename the features of every `tonic` dependency (any table, `[workspace.dependencies]`
/// included) after [`TONIC_FEATURES`]; `None` when nothing changes. Formatting is kept
/// (toml_edit).
pub fn rename_tonic_features(manifest: &str) -> Option<(String, usize)> {
    let mut doc: toml_edit::DocumentMut = manifest.parse().ok()?;
    let mut n = 0;
    fn fix_dep(item: &mut toml_edit::Item, n: &mut usize) {
        let Some(t) = item.as_table_like_mut() else {
            return;
        };
        let Some(arr) = t.get_mut("features").and_then(|f| f.as_array_mut()) else {
            return;
        };
        let mut i = 0;
        while i < arr.len() {
            let name = arr.get(i).and_then(|v| v.as_str()).map(str::to_string);
            let hit = name
                .as_deref()
                .and_then(|n| TONIC_FEATURES.iter().find(|(old, _)| *old == n));
            match hit {
                Some((_, Some(new))) => {
                    let already = arr.iter().any(|v| v.as_str() == Some(new));
                    if already {
                        arr.remove(i);
                    } else {
                        let decor = arr.get(i).unwrap().decor().clone();
                        arr.replace(i, *new);
                        *arr.get_mut(i).unwrap().decor_mut() = decor;
                        i += 1;
                    }
                    *n += 1;
                }
                Some((_, None)) => {
                    arr.remove(i);
                    *n += 1;
                }
                None => i += 1,
            }
        }
    }
    fn walk_deps(t: &mut dyn toml_edit::TableLike, n: &mut usize) {
        for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = t.get_mut(key).and_then(|d| d.as_table_like_mut()) {
                if let Some(item) = deps.get_mut("tonic") {
                    fix_dep(item, n);
                }
            }
        }
    }
    walk_deps(doc.as_table_mut(), &mut n);
    if let Some(ws) = doc.get_mut("workspace").and_then(|w| w.as_table_like_mut()) {
        walk_deps(ws, &mut n);
    }
    if let Some(targets) = doc.get_mut("target").and_then(|t| t.as_table_like_mut()) {
        for (_, cfg) in targets.iter_mut() {
            if let Some(cfg) = cfg.as_table_like_mut() {
                walk_deps(cfg, &mut n);
            }
        }
    }
    (n > 0).then(|| (doc.to_string(), n))
}

/// Apply disjoint repairs to `text` (overlapping ones after the first are dropped); the number
/// applied.
pub fn apply(text: &str, mut repairs: Vec<Repair>) -> (String, usize) {
    repairs.sort_by_key(|r| (r.range.start, r.range.end));
    repairs.dedup();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    let mut n = 0;
    for r in repairs {
        if r.range.start < at || r.range.end > text.len() {
            continue;
        }
        out.push_str(&text[at..r.range.start]);
        out.push_str(&r.text);
        at = r.range.end;
        n += 1;
    }
    out.push_str(&text[at..]);
    (out, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(code: &str, message: &str, label: &str, text: &str, at: &str) -> Diag {
        let start = text.find(at).unwrap();
        Diag {
            code: Some(code.into()),
            message: message.into(),
            label: Some(label.into()),
            range: start..start + at.len(),
            raw: String::new(),
        }
    }

    fn site<'a>(text: &'a str, written: &'a [Range<usize>]) -> Site<'a> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        Site {
            text,
            written,
            glob_modules: &NONE,
        }
    }

    fn repaired(d: &Diag, text: &str) -> String {
        apply(text, repairs_for(d, &site(text, &[]))).0
    }

    #[test]
    fn message_fields_read_through_a_reference_are_cloned() {
        let text = "fn f(rx: &Legacy) -> Info { Info { gw_time: rx.time, n: rx.n } }";
        let d = diag(
            "E0507",
            "cannot move out of `rx.time` which is behind a shared reference",
            "move occurs because `rx.time` has type `MessageField<buffa_types::Timestamp, Inline<buffa_types::Timestamp>>`, which does not implement the `Copy` trait",
            text,
            "rx.time",
        );
        assert_eq!(
            repaired(&d, text),
            "fn f(rx: &Legacy) -> Info { Info { gw_time: rx.time.clone(), n: rx.n } }"
        );
        // Another type moved out of a borrow is the user's to decide (`String`, a `Vec`).
        let d = diag(
            "E0507",
            "cannot move out of `rx.time` which is behind a shared reference",
            "move occurs because `rx.time` has type `String`, which does not implement the `Copy` trait",
            text,
            "rx.time",
        );
        assert_eq!(repaired(&d, text), text);
        // Not a field read: `*r` of a reference to a message is not prost's copy of a field.
        let text = "fn f(r: &MessageField<T>) -> MessageField<T> { *r }";
        let d = diag(
            "E0507",
            "cannot move out of `*r` which is behind a shared reference",
            "move occurs because `*r` has type `MessageField<T>`, which does not implement the `Copy` trait",
            text,
            "*r",
        );
        assert_eq!(repaired(&d, text), text);
    }

    #[test]
    fn maps_between_hashers_are_collected_again() {
        // buffa's map field into another crate's std map, and a std map into a buffa map field.
        let text = "fn f(c: M) -> R { R { params: Some(c.params), n: 1 } }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `HashMap<String, String>`, found `HashMap<String, String, RandomState>`",
            text,
            "c.params",
        );
        assert_eq!(
            repaired(&d, text),
            "fn f(c: M) -> R { R { params: Some(c.params.into_iter().collect()), n: 1 } }"
        );
        let text = "fn f(m: std::collections::HashMap<String, i64>) -> M { M { counts: m } }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `HashMap<String, i64, RandomState>`, found `std::collections::HashMap<String, i64>`",
            text,
            "m }",
        );
        let d = Diag {
            range: d.range.start..d.range.start + 1,
            ..d
        };
        assert_eq!(
            repaired(&d, text),
            "fn f(m: std::collections::HashMap<String, i64>) -> M { M { counts: m.into_iter().collect() } }"
        );
        // Another mismatch of a map is not this repair's.
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `Vec<String>`, found `HashMap<String, String, RandomState>`",
            text,
            "m",
        );
        assert!(repairs_for(&d, &site(text, &[])).is_empty());
    }

    #[test]
    fn message_field_where_an_option_is_expected() {
        let text = "fn f(r: R) { show(r.location); peek(&r.location); }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `Option<Point>`, found `MessageField<Point>`",
            text,
            "r.location",
        );
        assert_eq!(
            repaired(&d, text),
            "fn f(r: R) { show(r.location.into_option()); peek(&r.location); }"
        );
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `Option<&pb::Point>`, found `&buffa::MessageField<pb::Point>`",
            text,
            "&r.location",
        );
        assert_eq!(
            repaired(&d, text),
            "fn f(r: R) { show(r.location); peek(r.location.as_option()); }"
        );
    }

    #[test]
    fn no_call_is_written_into_a_pattern_or_a_const_context() {
        // `0 =>` on a field that is now an `EnumValue`: `EnumValue::from(0)` is no pattern.
        let text = "fn f(r: R) -> u8 { match r.kind { 0 => 1, _ => 2 } }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `EnumValue<Kind>`, found integer",
            text,
            "0",
        );
        assert_eq!(repaired(&d, text), text);
        // `.to_i32()` is not const.
        let text = "const fn f(r: &R) -> i32 { r.kind }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `i32`, found `EnumValue<Kind>`",
            text,
            "r.kind",
        );
        assert_eq!(repaired(&d, text), text);
        // The same outside a const fn is repaired.
        let text = "fn f(r: &R) -> i32 { r.kind }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `i32`, found `EnumValue<Kind>`",
            text,
            "r.kind",
        );
        assert_eq!(repaired(&d, text), "fn f(r: &R) -> i32 { r.kind.to_i32() }");
    }

    #[test]
    fn enum_values_and_integers() {
        let text = "fn f(r: R) -> bool { r.kind == 2 && take(r.kind) }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `EnumValue<Kind>`, found integer",
            text,
            "2",
        );
        assert_eq!(
            repaired(&d, text),
            "fn f(r: R) -> bool { r.kind == ::buffa::EnumValue::from(2) && take(r.kind) }"
        );
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `i32`, found `EnumValue<Kind>`",
            text,
            "r.kind)",
        );
        let d = Diag {
            range: d.range.start..d.range.end - 1,
            ..d
        };
        assert_eq!(
            repaired(&d, text),
            "fn f(r: R) -> bool { r.kind == 2 && take(r.kind.to_i32()) }"
        );
    }

    /// cln-grpc: a repeated enum field filled from another crate's enum through `i32`.
    #[test]
    fn an_enum_value_from_another_enum_goes_through_i32() {
        let text =
            "fn f(c: C) -> M { M { names: c.names.into_iter().map(|i| i.into()).collect() } }";
        let at = text.find("i.into()").unwrap();
        let d = Diag {
            code: Some("E0277".into()),
            message: "the trait bound `EnumValue<cln::ChannelTypeName>: From<cln_rpc::primitives::ChannelTypeName>` is not satisfied".into(),
            label: None,
            range: at + 2..at + 6,
            raw: String::new(),
        };
        assert_eq!(
            repaired(&d, text),
            "fn f(c: C) -> M { M { names: c.names.into_iter().map(|i| ::buffa::EnumValue::from(i32::from(i))).collect() } }"
        );
        // Another trait bound is not this repair's.
        let d = Diag {
            message: "the trait bound `Box<cln::Amount>: From<Amount>` is not satisfied".into(),
            ..d
        };
        assert_eq!(repaired(&d, text), text);
    }

    #[test]
    fn an_enum_value_compared_with_an_integer() {
        let text = "fn f(r: R) -> bool { r.kind == 1 || 2 != r.kind }";
        let at = text.find("==").unwrap();
        let d = Diag {
            code: Some("E0277".into()),
            message: "can't compare `EnumValue<Kind>` with `{integer}`".into(),
            label: None,
            range: at..at + 2,
            raw: String::new(),
        };
        assert_eq!(
            repaired(&d, text),
            "fn f(r: R) -> bool { r.kind == ::buffa::EnumValue::from(1) || 2 != r.kind }"
        );
        let at = text.find("!=").unwrap();
        let d = Diag {
            message: "can't compare `{integer}` with `buffa::EnumValue<pb::Kind>`".into(),
            range: at..at + 2,
            ..d
        };
        assert_eq!(
            repaired(&d, text),
            "fn f(r: R) -> bool { r.kind == 1 || 2 != r.kind.to_i32() }"
        );
    }

    #[test]
    fn an_expression_that_is_not_postfix_is_parenthesised() {
        let text = "fn f() { take(a + b) }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `i32`, found `EnumValue<K>`",
            text,
            "a + b",
        );
        assert_eq!(repaired(&d, text), "fn f() { take((a + b).to_i32()) }");
    }

    #[test]
    fn unrelated_mismatches_are_left() {
        let text = "fn f() { take(s) }";
        let d = diag(
            "E0308",
            "mismatched types",
            "expected `u64`, found `String`",
            text,
            "s",
        );
        assert!(repairs_for(&d, &site(text, &[])).is_empty());
    }

    #[test]
    fn literal_missing_only_buffa_members_gets_a_default_base() {
        let text = "fn f() -> P {\n    P {\n        x: 1,\n        y: 2,\n    }\n}\n";
        let d = diag(
            "E0063",
            "missing field `__buffa_unknown_fields` in initializer of `P`",
            "missing `__buffa_unknown_fields`",
            text,
            "    P {",
        );
        // The literal's path, not the return type's.
        let d = Diag {
            range: d.range.start + 4..d.range.start + 5,
            ..d
        };
        assert_eq!(
            repaired(&d, text),
            "fn f() -> P {\n    P {\n        x: 1,\n        y: 2,\n        ..Default::default()\n    }\n}\n"
        );
        let text = "fn f() -> P { P { x: 1 } }";
        let d = Diag { range: 14..15, ..d };
        assert_eq!(
            repaired(&d, text),
            "fn f() -> P { P { x: 1, ..Default::default() } }"
        );
        // A visible field missing: not defaulted.
        let d = Diag {
            message: "missing fields `y` and `__buffa_unknown_fields` in initializer of `P`".into(),
            ..d
        };
        assert!(repairs_for(&d, &site(text, &[])).is_empty());
    }

    #[test]
    fn tonic_features_renamed_in_0_14() {
        let m = "[dependencies]\ntonic = { version = \"0.14\", features = [\"tls\", \"gzip\", \"tls-roots\", \"prost\"] } # rpc\n";
        let (out, n) = rename_tonic_features(m).unwrap();
        assert_eq!(n, 3);
        assert_eq!(
            out,
            "[dependencies]\ntonic = { version = \"0.14\", features = [\"tls-ring\", \"gzip\", \"tls-native-roots\"] } # rpc\n"
        );
        assert!(rename_tonic_features("[dependencies]\ntonic = \"0.14\"\n").is_none());
        let ws = "[workspace.dependencies.tonic]\nversion = \"0.14\"\nfeatures = [\"tls\"]\n";
        assert_eq!(
            rename_tonic_features(ws).unwrap().0,
            "[workspace.dependencies.tonic]\nversion = \"0.14\"\nfeatures = [\"tls-ring\"]\n"
        );
    }

    #[test]
    // A list of written ranges that holds one range, not a mistaken `0..n` array.
    #[allow(clippy::single_range_in_vec_init)]
    fn compiler_suggestions_only_inside_written_text() {
        // A machine-applicable suggestion (rustc's shape) replacing bytes 10..13.
        let raw = r#"{"message":"m","code":{"code":"E0308","explanation":null},"level":"error","spans":[{"file_name":"src/lib.rs","byte_start":10,"byte_end":13,"line_start":1,"line_end":1,"column_start":11,"column_end":14,"is_primary":true,"text":[{"text":"0123456789abcdef","highlight_start":11,"highlight_end":14}],"label":null,"suggested_replacement":null,"suggestion_applicability":null,"expansion":null}],"children":[{"message":"try","code":null,"level":"help","spans":[{"file_name":"src/lib.rs","byte_start":10,"byte_end":13,"line_start":1,"line_end":1,"column_start":11,"column_end":14,"is_primary":true,"text":[{"text":"0123456789abcdef","highlight_start":11,"highlight_end":14}],"label":null,"suggested_replacement":"XYZ","suggestion_applicability":"MachineApplicable","expansion":null}],"children":[],"rendered":null}],"rendered":"error"}"#;
        let d = Diag {
            code: Some("E0308".into()),
            message: "m".into(),
            label: None,
            range: 10..13,
            raw: raw.into(),
        };
        let text = "0123456789abcdef";
        let whole: [Range<usize>; 1] = [0..text.len()];
        let head: [Range<usize>; 1] = [0..5];
        assert!(repairs_for(&d, &site(text, &head)).is_empty());
        assert_eq!(
            apply(text, repairs_for(&d, &site(text, &whole))).0,
            "0123456789XYZdef"
        );
    }

    /// rustc's JSON of a diagnostic in `src/lib.rs`: the primary span, labelled secondary spans
    /// and children notes (message, span).
    fn raw(
        code: &str,
        message: &str,
        primary: Range<usize>,
        secondary: &[(Range<usize>, &str)],
        notes: &[(&str, Option<Range<usize>>)],
    ) -> Diag {
        let span = |r: &Range<usize>, primary: bool, label: &str| {
            serde_json::json!({"file_name": "src/lib.rs", "byte_start": r.start, "byte_end": r.end,
                "is_primary": primary, "label": label})
        };
        let mut spans = vec![span(&primary, true, "")];
        spans.extend(secondary.iter().map(|(r, l)| span(r, false, l)));
        let children: Vec<_> = notes
            .iter()
            .map(|(m, r)| {
                serde_json::json!({"message": m, "level": "note", "children": [],
                    "spans": r.iter().map(|r| span(r, true, "")).collect::<Vec<_>>()})
            })
            .collect();
        let v = serde_json::json!({"message": message, "code": {"code": code}, "level": "error",
            "spans": spans, "children": children});
        Diag {
            code: Some(code.into()),
            message: message.into(),
            label: None,
            range: primary,
            raw: v.to_string(),
        }
    }

    fn at(text: &str, s: &str) -> Range<usize> {
        let i = text.find(s).unwrap();
        i..i + s.len()
    }

    #[test]
    fn a_message_field_moved_by_the_steps_into_option_is_cloned_first() {
        let old = "fn f(r: R) -> i32 {\n    let n = match r.at { Some(p) => p.y, None => 0 };\n    n + g(r.at.as_ref())\n}\n";
        let text = "fn f(r: R) -> i32 {\n    let n = match r.at.into_option() { Some(p) => p.y, None => 0 };\n    n + g(r.at.as_option())\n}\n";
        let written = written_ranges(old, text);
        let later = text.rfind("r.at").unwrap();
        let d = raw(
            "E0382",
            "borrow of moved value: `r.at`",
            later..later + 4,
            &[(at(text, "into_option()"), "`r.at` moved due to this method call")],
            &[("move occurs because `r.at` has type `buffa::MessageField<pb::Point, buffa::Inline<pb::Point>>`, which does not implement the `Copy` trait", None)],
        );
        assert_eq!(
            apply(text, repairs_for(&d, &site(text, &written))).0,
            text.replace("r.at.into_option()", "r.at.clone().into_option()")
        );
        // Not where the step did not write the call.
        assert!(repairs_for(&d, &site(text, &[])).is_empty());
        // Not for a type the step did not change (a `String` moved twice is the user's).
        let d = Diag {
            raw: d.raw.replace(
                "buffa::MessageField<pb::Point, buffa::Inline<pb::Point>>",
                "String",
            ),
            ..d
        };
        assert!(repairs_for(&d, &site(text, &written)).is_empty());
    }

    const GLOBS: &str = "pub mod serve {\n    use crate::atlas::{atlas_server::*, Kind};\n    use crate::atlas::*;\n    impl Atlas for Here {}\n}\n";

    fn ambiguous(text: &str, used: &str, a: &str, b: &str) -> Diag {
        raw(
            "E0659",
            "`Atlas` is ambiguous",
            at(text, used),
            &[],
            &[
                (
                    "ambiguous because of multiple glob imports of a name in the same module",
                    None,
                ),
                (
                    "`Atlas` could refer to the trait imported here",
                    Some(at(text, a)),
                ),
                (
                    "`Atlas` could also refer to the trait imported here",
                    Some(at(text, b)),
                ),
            ],
        )
    }

    #[test]
    fn a_name_made_ambiguous_by_the_steps_glob_comes_from_the_other_glob() {
        let d = ambiguous(GLOBS, "Atlas for", "crate::atlas::*", "atlas_server::*");
        let modules = BTreeSet::from(["atlas".to_string()]);
        let s = Site {
            text: GLOBS,
            written: &[],
            glob_modules: &modules,
        };
        assert_eq!(
            apply(GLOBS, repairs_for(&d, &s)).0,
            GLOBS.replace(
                "Kind};\n",
                "Kind};\n    use crate::atlas::atlas_server::Atlas;\n"
            )
        );
        // Without knowing which module the step gave a glob, nothing is guessed.
        assert!(repairs_for(&d, &site(GLOBS, &[])).is_empty());
    }

    #[test]
    fn a_name_made_ambiguous_beside_a_glob_the_step_wrote_comes_from_the_steps_glob() {
        let old = "pub mod pb {\n    pub use crate::common::*;\n    tonic::include_proto!(\"x\");\n}\nfn f(_: pb::Atlas) {}\n";
        let text = "pub mod pb {\n    pub use crate::common::*;\n    pub use crate::connect::x::*;\n    include!(\"x.rs\");\n}\nfn f(_: pb::Atlas) {}\n";
        let written = written_ranges(old, text);
        assert_eq!(modules_given_a_glob(old, text), vec!["pb".to_string()]);
        let d = ambiguous(text, "Atlas)", "crate::common::*", "crate::connect::x::*");
        assert_eq!(
            apply(text, repairs_for(&d, &site(text, &written))).0,
            text.replace("x::*;\n", "x::*;\n    pub use crate::connect::x::Atlas;\n")
        );
    }

    #[test]
    fn written_ranges_and_old_lines() {
        let old = "a\nb\nc\n";
        let new = "a\nB\nx\nc\n";
        assert_eq!(written_ranges(old, new), vec![2..6]);
        assert_eq!(old_line(old, new, 4), 3);
        assert_eq!(old_line(old, new, 3), 2);
        assert_eq!(old_line(old, new, 1), 1);
    }
}
