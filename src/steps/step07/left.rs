//! No silent pass: every `tonic::Code` that step 7 leaves in place is listed.
//!
//! The renames move `Code` to `ErrorCode` in client code only; a path the rename pass took for
//! server code (step 3's business) is left as it is. Where step 3 could not move that code (a
//! service still on tonic's generated stubs, a test calling such a service and reading its
//! statuses), the `Code::X` stays, and nothing said so. This pass lists each one left.
//!
//! Before (a file step 3 kept on tonic, its tests reading the service's statuses):
//! ```text
//! mod tests {
//!     use tonic::Code;
//!     fn t() { assert_eq!(svc.check(req).await.unwrap_err().code(), Code::NotFound); }
//! }
//! ```
//! After: unchanged, with the item `step07/code-left` at `Code::NotFound`. A `Code` that builds
//! a status (`Status::new(Code::X, ..)`: server code step 3 kept on tonic) is listed too, saying
//! so.

use syn::visit::Visit;

use crate::engine::{FileCtx, ItemKind, PassOutput};
use crate::resolve::{macro_exprs, range, FileIndex, ScopeTracker};

/// Lists the paths of the file that still name `tonic::Code` (or one of its variants) and that
/// no edit or item of the step covers.
pub fn list_left_codes(file: &FileCtx<'_>, out: &mut PassOutput) {
    let mut v = Left {
        idx: file.index,
        tr: ScopeTracker::new(file.index),
        found: Vec::new(),
        building: Vec::new(),
    };
    v.visit_file(file.file);
    for (r, variant) in v.found {
        let covered = out
            .buffer
            .edits()
            .iter()
            .any(|e| e.range.start < r.end && r.start < e.range.end.max(e.range.start + 1))
            || out
                .items
                .iter()
                .any(|i| r.start <= i.offset && i.offset <= r.end);
        if covered {
            continue;
        }
        let written = &file.text[r.clone()];
        let code = format!(
            "tonic::Code{}",
            variant.map(|v| format!("::{v}")).unwrap_or_default()
        );
        // `Status::new(Code::X, ..)` builds a status: server code step 3 kept on tonic.
        let building = v
            .building
            .iter()
            .any(|b| b.start <= r.start && r.end <= b.end);
        let (message, note) = if building {
            (
                format!("`{written}` stays {code}: it builds a tonic status, in server code still on tonic (step 3 moves it)"),
                "it moves with the code that returns the status (step 3; see its items for this file), then run step 7 again",
            )
        } else {
            (
                format!("`{written}` stays {code}: the step took this code for server-side code (step 3 moves that), and it still reads tonic statuses"),
                "if it reads the statuses of a service still on tonic (its stubs not migrated, or steps 2/3 kept it: see their items), it keeps tonic::Code until that service moves, then run steps 3 and 7 again; if it reads a connect client's error, change it to connectrpc::ErrorCode (`err.code`) by hand",
            )
        };
        out.items.push(super::item(
            r.start,
            "code-left",
            ItemKind::Manual,
            message,
            note,
        ));
    }
}

struct Left<'a> {
    idx: &'a FileIndex,
    tr: ScopeTracker,
    /// Each path naming tonic's `Code`, with the variant it names.
    found: Vec<(std::ops::Range<usize>, Option<String>)>,
    /// The arguments of calls to tonic's `Status` constructors.
    building: Vec<std::ops::Range<usize>>,
}

impl<'ast> Visit<'ast> for Left<'_> {
    crate::scoped_visit!();

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let full = self
            .idx
            .resolve(self.tr.current(), p)
            .and_then(|r| r.resolved().map(|r| r.full.clone()));
        if let Some(full) = full {
            if full.len() >= 2 && full[0] == "tonic" && full[1] == "Code" && full.len() <= 3 {
                let r = range(syn::spanned::Spanned::span(p));
                self.found.push((r, full.get(2).cloned()));
                return;
            }
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func {
            let full = self
                .idx
                .resolve(self.tr.current(), &p.path)
                .and_then(|r| r.resolved().map(|r| r.full.clone()));
            if full.is_some_and(|f| f.len() == 3 && f[0] == "tonic" && f[1] == "Status") {
                for a in &c.args {
                    self.building.push(range(syn::spanned::Spanned::span(a)));
                }
            }
        }
        syn::visit::visit_expr_call(self, c);
    }

    fn visit_use_tree(&mut self, _: &'ast syn::UseTree) {
        // Imports follow their uses (the rename pass removes them with the last use).
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // `assert_eq!(status.code(), Code::NotFound)`: arguments that are expressions.
        if let Some(exprs) = macro_exprs(m) {
            for e in &exprs {
                self.visit_expr(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{process, FileMeta, ManualItem, Outcome};

    fn run_step_on(n: usize, text: &str) -> (Option<String>, Vec<ManualItem>) {
        let s = crate::steps::all().unwrap().into_iter().nth(n - 1).unwrap();
        match process(&s, text, &FileMeta::default()) {
            Outcome::Rewritten {
                new_text, items, ..
            } => (new_text, items),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn a_code_left_in_server_code_is_listed() {
        // A server file whose tests read the statuses of the (tonic) service directly.
        let src = "use pb::health_server::Health;\nuse tonic::{Request, Response, Status};\nstruct S;\n#[tonic::async_trait]\nimpl Health for S {\n    async fn check(&self, _r: Request<()>) -> Result<Response<()>, Status> { Err(Status::not_found(\"x\")) }\n}\n#[cfg(test)]\nmod tests {\n    use tonic::{Code, Request};\n    use super::*;\n    async fn t() {\n        let resp = S.check(Request::new(())).await;\n        assert_eq!(resp.unwrap_err().code(), Code::NotFound);\n        let _ = tonic::Code::Internal;\n        let _built = Status::new(Code::Aborted, \"built here: step 3's\");\n    }\n}\n";
        let (new, items) = run_step_on(7, src);
        assert_eq!(new, None, "nothing changes");
        let left: Vec<_> = items
            .iter()
            .filter(|i| i.rule == "step07/code-left")
            .collect();
        assert_eq!(left.len(), 3, "{items:?}");
        assert!(left[0]
            .message
            .contains("`Code::NotFound` stays tonic::Code::NotFound"));
        assert!(left[1].message.contains("`tonic::Code::Internal`"));
        assert!(left[2].message.contains(
            "`Code::Aborted` stays tonic::Code::Aborted: it builds a tonic status, in server code"
        ));
    }
}
