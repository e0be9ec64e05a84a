//! prost's `Any::from_msg` / `any.to_msg::<M>()` on buffa's `Any`: the calls stay as they are
//! and `connect_shim::prost_compat::AnyExt` is brought into scope in each module that makes
//! them (the calls are listed by the `any-from-msg` / `any-to-msg` rules, `prost::Name` is
//! renamed to the shim's blanket trait by `prost-name`). Without it the renamed `Any` has no
//! such functions and the crate stops compiling at step 1.

use syn::spanned::Spanned;

use crate::edit::{indent_at, Edit};
use crate::engine::{FileCtx, ItemKind, Pass, PassOutput};
use crate::resolve::range;
use crate::steps::common::items::item_at;

const IMPORT: &str = "use connect_shim::prost_compat::AnyExt as _;";

/// See the module documentation.
pub struct AnyCompatPass;

impl Pass for AnyCompatPass {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        // The calls: the rules' items (`Any::from_msg`, `Any::to_msg` paths) and, in a file that
        // names prost's `Any` (the renames move it to buffa's), `.to_msg(..)` method calls.
        let mut sites: Vec<usize> = out
            .items
            .iter()
            .filter(|i| matches!(i.rule.as_str(), "step01/any-from-msg" | "step01/any-to-msg"))
            .map(|i| i.offset)
            .collect();
        // The file names prost's `Any`, by resolution: a path the rename rule moved, or an
        // import binding it (the import rewrite moves those).
        let renamed_any = out
            .buffer
            .edits()
            .iter()
            .any(|e| e.rule == "step01/wkt-any")
            || (0..file.index.leaves.len())
                .any(|l| file.index.leaf_path(l) == ["prost_types", "Any"]);
        // A file of a crate whose messages step 1 moves: an `Any` read from a message field
        // (`event.event`) is buffa's now even when the file never names prost's.
        let migrating = file.crate_ctx.is_some_and(|c| c.schema.is_some());
        let mut calls = Vec::new();
        if renamed_any || migrating || file.text.contains("prost_compat::AnyExt") {
            struct Calls<'v>(&'v mut Vec<usize>, Vec<usize>);
            impl<'ast> syn::visit::Visit<'ast> for Calls<'_> {
                fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                    // prost's `Any::to_msg::<M>(&self)` takes no argument.
                    if m.method == "to_msg" && m.args.is_empty() {
                        self.0.push(range(m.method.span()).start);
                    }
                    syn::visit::visit_expr_method_call(self, m);
                }
                fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                    let s = &p.path.segments;
                    if s.len() >= 2
                        && s[s.len() - 2].ident == "Any"
                        && s[s.len() - 1].ident == "from_msg"
                    {
                        self.1.push(range(p.span()).start);
                    }
                }
            }
            let mut v = Calls(&mut calls, Vec::new());
            syn::visit::Visit::visit_file(&mut v, file.file);
            // A later run: the renamed `Any` no longer matches the rule; the calls are listed
            // as the first run listed them.
            if !renamed_any {
                for at in v.1 {
                    out.items.push(item_at(
                        at,
                        "step01/any-from-msg".into(),
                        ItemKind::Manual,
                        "Any::from_msg (prost::Name) has no buffa equivalent with the same shape: it keeps working through connect_shim::prost_compat::AnyExt".into(),
                        "use `Any::try_pack(&msg, M::TYPE_URL)` (buffa messages carry their TYPE_URL) and drop the AnyExt import",
                    ));
                }
            }
        }
        for &at in &calls {
            out.items.push(item_at(
                at,
                "step01/any-compat".into(),
                ItemKind::Manual,
                "`.to_msg()` on prost's `Any` (buffa's now) works through `connect_shim::prost_compat::AnyExt`".into(),
                "unpack with `any.unpack_if::<M>(M::TYPE_URL)` (`Ok(None)` when the type differs), then drop the AnyExt import",
            ));
        }
        sites.extend(calls);
        let mut anchors: Vec<usize> = Vec::new();
        for at in sites {
            if let Some(a) = anchor(file.text, &file.file.items, at) {
                if !anchors.contains(&a) {
                    anchors.push(a);
                }
            }
        }
        let edits: Vec<Edit> = anchors
            .into_iter()
            .map(|a| {
                let indent = indent_at(file.text, a).to_string();
                Edit::insert(
                    a,
                    file.line_ending.convert(&format!("{IMPORT}\n{indent}")),
                    "step01/any-compat",
                )
            })
            .collect();
        let _ = out.commit(edits);
    }
}

/// Where the import goes for a call at `at`: before the first `use` (else the first item) of
/// the innermost module around it; `None` when that module has the import already.
fn anchor(text: &str, items: &[syn::Item], at: usize) -> Option<usize> {
    for i in items {
        if let syn::Item::Mod(m) = i {
            if let Some((brace, inner)) = &m.content {
                let r = range(brace.span.join());
                if r.start < at && at < r.end {
                    return anchor(text, inner, at);
                }
            }
        }
    }
    let has = items.iter().any(|i| {
        matches!(i, syn::Item::Use(_)) && text[range(i.span())].contains("prost_compat::AnyExt")
    });
    if has {
        return None;
    }
    let first = items
        .iter()
        .find(|i| matches!(i, syn::Item::Use(_)))
        .or_else(|| items.first())?;
    Some(range(first.span()).start)
}

#[cfg(test)]
mod tests {
    use crate::engine::{process, FileMeta, Outcome};
    use crate::steps;

    /// A crate of no schema of its own (no step-1 codegen): a file naming prost's `Any` through
    /// a renaming import gets the shim's `AnyExt` for its `.to_msg()` (the rename moves the type
    /// to buffa's); a file whose `Any` is not prost's is left alone.
    #[test]
    fn prost_any_by_resolution_not_by_text() {
        let all = steps::all().unwrap();
        let step = steps::get(&all, 1);
        let meta = FileMeta {
            module_path: Some(vec!["crate".into()]),
            crate_ctx: Some(std::sync::Arc::new(crate::steps::CrateCtx::default())),
            ..Default::default()
        };
        let run = |before: &str| match process(step, before, &meta) {
            Outcome::Rewritten { new_text, .. } => new_text.unwrap_or_else(|| before.to_string()),
            o => panic!("{o:?}"),
        };
        let prost = "use prost_types::Any as Packed;\nfn f(a: Packed) -> Option<M> {\n    a.to_msg().ok()\n}\n";
        let after = run(prost);
        assert!(after.contains("use connect_shim::prost_compat::AnyExt as _;\nuse buffa_types::google::protobuf::Any as Packed;"), "{after}");
        // Not prost's `Any` (the same import rewritten names prost_types): untouched.
        let other = "use {mylib::Any, prost_types::Timestamp};\nfn f(a: Any, _t: Timestamp) -> Option<M> {\n    a.to_msg().ok()\n}\n";
        let after = run(other);
        assert!(!after.contains("AnyExt"), "{after}");
    }
}
