//! Private type aliases that nothing uses any more but that still name `tonic::Response`.
//!
//! Steps 2-4 move handler signatures to `connectrpc::ServiceResult<T>`, so a crate's own
//! `type RpcResult<T> = Result<Response<T>, Status>;` (its `Status` already `ConnectError` after
//! step 3) is often left without a user, yet it keeps `use tonic::Response` and with it the tonic
//! dependency. When the alias is private and its name appears nowhere else in the crate, step 9
//! points it at `connectrpc::Response` (the same shape: one type parameter, the handler's
//! response); an alias that is public or still used is left alone (and reported by the general
//! scan with the import it keeps).

use std::ops::Range;

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::edit::Edit;
use crate::resolve::{range, FileIndex, Resolution, ScopeTracker};

const RULE: &str = "step09/unused-alias";

struct Finder<'a> {
    idx: &'a FileIndex,
    tr: ScopeTracker,
    found: Vec<(String, Edit)>,
}

struct Paths<'a> {
    idx: &'a FileIndex,
    scope: crate::resolve::ScopeId,
    found: Vec<Range<usize>>,
}

impl<'ast> Visit<'ast> for Paths<'_> {
    fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
        if t.qself.is_none() {
            if let Some(Resolution::One(r)) = self.idx.resolve(self.scope, &t.path) {
                if r.full == ["tonic", "Response"] {
                    // The path without its generic arguments.
                    let last = t.path.segments.last().unwrap();
                    let start = range(t.path.span()).start;
                    let end = range(last.ident.span()).end;
                    self.found.push(start..end);
                }
            }
        }
        syn::visit::visit_type_path(self, t);
    }
}

impl<'ast> Visit<'ast> for Finder<'_> {
    crate::scoped_visit!();

    fn visit_item_type(&mut self, it: &'ast syn::ItemType) {
        if matches!(it.vis, syn::Visibility::Inherited) {
            let mut p = Paths {
                idx: self.idx,
                scope: self.tr.current(),
                found: Vec::new(),
            };
            p.visit_type(&it.ty);
            for r in p.found {
                self.found.push((
                    it.ident.to_string(),
                    Edit::replace(r, "connectrpc::Response".to_string(), RULE),
                ));
            }
        }
        syn::visit::visit_item_type(self, it);
    }
}

/// The private aliases of one file that name `tonic::Response`, each with its rewrite; the
/// caller keeps those whose name the crate uses nowhere else ([`count_ident`]).
pub fn candidates(file: &syn::File, idx: &FileIndex) -> Vec<(String, Edit)> {
    let mut f = Finder {
        idx,
        tr: ScopeTracker::new(idx),
        found: Vec::new(),
    };
    f.visit_file(file);
    f.found
}

/// How many times `name` occurs as a whole identifier in `text`.
pub fn count_ident(text: &str, name: &str) -> usize {
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    memchr::memmem::find_iter(b, name.as_bytes())
        .filter(|&i| (i == 0 || !word(b[i - 1])) && b.get(i + name.len()).is_none_or(|&c| !word(c)))
        .count()
}
