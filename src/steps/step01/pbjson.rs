//! pbjson's serde impls beside prost's messages.
//!
//! `pbjson-build` writes `<pkg>.serde.rs` next to prost's `<pkg>.rs`, and the module that
//! includes the messages includes the impls after them (chirpstack_api):
//!
//! ```text
//! include!(concat!(env!("OUT_DIR"), "/common/common.rs"));
//! #[cfg(feature = "json")]
//! include!(concat!(env!("OUT_DIR"), "/common/common.serde.rs"));
//! ```
//!
//! Once step 1 re-exports buffa's messages there (`pub use crate::connect::common::*;`), the
//! impls name buffa's types, which derive proto3-JSON serde themselves (`generate_json`, on by
//! default in connectrpc-build): every impl conflicts (E0119) and reads prost's field shapes. The
//! companion include goes with the messages it served, attributes and all; the build script's
//! `pbjson_build` calls are listed (the JSON is buffa's now: pbjson options such as
//! `ignore_unknown_fields` are not carried over):
//!
//! ```text
//! pub use crate::connect::common::*;
//! ```

use std::ops::Range;

use syn::spanned::Spanned;

use crate::buildrs::ProtoInclude;
use crate::edit::whole_lines;
use crate::resolve::range;

/// The file pbjson writes beside `messages` (`common/common.rs` -> `common/common.serde.rs`).
fn companion_of(messages: &str) -> Option<String> {
    let stem = messages.strip_suffix(".rs")?;
    (!stem.ends_with(".serde")).then(|| format!("{stem}.serde.rs"))
}

/// The includes among `found` that read pbjson's impls for one of `replaced` (same module, the
/// companion file), each with the range of its whole item (attributes, `;`, the line).
pub(super) fn companions<'a>(
    file: &syn::File,
    text: &str,
    found: &'a [ProtoInclude],
    replaced: &[&ProtoInclude],
) -> Vec<(&'a ProtoInclude, Range<usize>)> {
    let mut out = Vec::new();
    for inc in found {
        let served = replaced.iter().any(|r| {
            r.module_path == inc.module_path
                && companion_of(&r.out_dir_file).as_deref() == Some(inc.out_dir_file.as_str())
        });
        if !served {
            continue;
        }
        if let Some(item) = item_at(&file.items, inc.range.start) {
            out.push((inc, whole_lines(text, item)));
        }
    }
    out
}

/// Where the build script calls pbjson-build: the start of each outermost expression path
/// whose first segment is `pbjson_build` (`pbjson_build::Builder::new()`), once per statement.
pub(super) fn builder_calls(file: &syn::File) -> Vec<usize> {
    struct Calls(Vec<usize>);
    impl<'ast> syn::visit::Visit<'ast> for Calls {
        fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
            if p.qself.is_none()
                && p.path.segments.len() > 1
                && p.path.segments[0].ident == "pbjson_build"
            {
                self.0.push(range(p.span()).start);
            }
            syn::visit::visit_expr_path(self, p);
        }
    }
    let mut v = Calls(Vec::new());
    syn::visit::Visit::visit_file(&mut v, file);
    v.0
}

/// The range of the macro item (`include!(..);` with its attributes) that holds `at`, in these
/// items or the inline modules among them.
fn item_at(items: &[syn::Item], at: usize) -> Option<Range<usize>> {
    for item in items {
        match item {
            syn::Item::Macro(m) => {
                let r = range(m.mac.span());
                if r.start <= at && at < r.end {
                    return Some(range(m.span()));
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    if let Some(r) = item_at(inner, at) {
                        return Some(r);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buildrs::find_proto_includes;

    fn deleted(text: &str, replaced_files: &[&str]) -> String {
        let file = syn::parse_file(text).unwrap();
        let found = find_proto_includes(text).unwrap();
        let replaced: Vec<&ProtoInclude> = found
            .iter()
            .filter(|f| replaced_files.contains(&f.out_dir_file.as_str()))
            .collect();
        let mut out = text.to_string();
        let mut cuts = companions(&file, text, &found, &replaced);
        cuts.sort_by_key(|(_, r)| std::cmp::Reverse(r.start));
        for (_, r) in cuts {
            out.replace_range(r, "");
        }
        out
    }

    #[test]
    fn the_serde_companion_of_a_replaced_include_goes_with_its_attributes() {
        let text = "use std::fmt;\n\ninclude!(concat!(env!(\"OUT_DIR\"), \"/common/common.rs\"));\n#[cfg(feature = \"json\")]\ninclude!(concat!(env!(\"OUT_DIR\"), \"/common/common.serde.rs\"));\n\nimpl X {}\n";
        assert_eq!(
            deleted(text, &["common/common.rs"]),
            "use std::fmt;\n\ninclude!(concat!(env!(\"OUT_DIR\"), \"/common/common.rs\"));\n\nimpl X {}\n"
        );
        // In an inline module, spread over lines.
        let text = "pub mod gw {\n    include!(concat!(env!(\"OUT_DIR\"), \"/gw/gw.rs\"));\n    #[cfg(feature = \"json\")]\n    include!(concat!(\n        env!(\"OUT_DIR\"),\n        \"/gw/gw.serde.rs\"\n    ));\n}\n";
        assert_eq!(
            deleted(text, &["gw/gw.rs"]),
            "pub mod gw {\n    include!(concat!(env!(\"OUT_DIR\"), \"/gw/gw.rs\"));\n}\n"
        );
    }

    #[test]
    fn pbjson_builders_are_found_in_the_build_script() {
        let text = "fn main() {\n    tonic_prost_build::compile_protos(\"a.proto\").unwrap();\n    pbjson_build::Builder::new().build(&[\".a\"]).unwrap();\n    let b = pbjson_build::Builder::new();\n}\n";
        let file = syn::parse_file(text).unwrap();
        let at: Vec<&str> = builder_calls(&file)
            .into_iter()
            .map(|a| &text[a..a + 25])
            .collect();
        assert_eq!(
            at,
            ["pbjson_build::Builder::ne", "pbjson_build::Builder::ne"]
        );
    }

    #[test]
    fn other_includes_stay() {
        // The messages were not replaced (another package, or not migrated): their impls stay.
        let text = "include!(concat!(env!(\"OUT_DIR\"), \"/a.rs\"));\ninclude!(concat!(env!(\"OUT_DIR\"), \"/a.serde.rs\"));\ninclude!(concat!(env!(\"OUT_DIR\"), \"/b.serde.rs\"));\n";
        assert_eq!(
            deleted(text, &["b.rs"]),
            text,
            "b.rs is not among the includes"
        );
        assert_eq!(
            deleted(text, &["a.rs"]),
            "include!(concat!(env!(\"OUT_DIR\"), \"/a.rs\"));\ninclude!(concat!(env!(\"OUT_DIR\"), \"/b.serde.rs\"));\n"
        );
        // A module elsewhere does not take another module's companion.
        let text = "mod a { include!(concat!(env!(\"OUT_DIR\"), \"/a.rs\")); }\nmod b { include!(concat!(env!(\"OUT_DIR\"), \"/a.serde.rs\")); }\n";
        assert_eq!(deleted(text, &["a.rs"]), text);
    }
}
