//! Module side: the macros of any source file that name tonic's output.

use super::*;

/// What a module-side macro includes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum IncludeKind {
    /// `tonic::include_proto!("pkg")`.
    IncludeProto,
    /// `include!(concat!(env!("OUT_DIR"), "/…rs"))`.
    IncludeOutDir,
    /// `tonic::include_file_descriptor_set!("name")`.
    FileDescriptorSet,
    /// `include_bytes!(concat!(env!("OUT_DIR"), "/….bin"))`.
    IncludeBytesOutDir,
}

/// A module-side include of tonic's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtoInclude {
    pub kind: IncludeKind,
    /// The macro invocation, from its path to its closing delimiter.
    pub range: ByteRange,
    /// The file read, relative to `OUT_DIR` (`greet.v1.rs`, `tonic/greet.v1.rs`, `x.bin`).
    pub out_dir_file: String,
    /// The proto package, for `include_proto!` and `<pkg>.rs` includes.
    pub package: Option<String>,
    /// The Rust modules enclosing the macro in this file (`["pb"]`).
    pub module_path: Vec<String>,
}

/// Finds `include_proto!`, `include!(concat!(env!("OUT_DIR"), ..))`,
/// `include_file_descriptor_set!` and `include_bytes!(concat!(env!("OUT_DIR"), ..))` in a file.
pub fn find_proto_includes(src: &str) -> syn::Result<Vec<ProtoInclude>> {
    Ok(proto_includes_in(&syn::parse_file(src)?))
}

/// [`find_proto_includes`] on a file already parsed (its spans index the text it came from).
pub fn proto_includes_in(file: &syn::File) -> Vec<ProtoInclude> {
    let mut v = IncludeFinder {
        mods: vec![],
        found: vec![],
        tonic_macros: HashMap::new(),
    };
    v.collect_uses(file);
    v.visit_file(file);
    v.found.sort_by_key(|f| f.range.start);
    v.found
}

pub(super) struct IncludeFinder {
    mods: Vec<String>,
    found: Vec<ProtoInclude>,
    /// Local macro names imported from tonic (`use tonic::include_proto;`).
    tonic_macros: HashMap<String, String>,
}

impl IncludeFinder {
    fn collect_uses(&mut self, file: &syn::File) {
        struct U<'a>(&'a mut HashMap<String, String>);
        impl<'ast> Visit<'ast> for U<'_> {
            fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
                fn walk(t: &syn::UseTree, in_tonic: bool, out: &mut HashMap<String, String>) {
                    match t {
                        syn::UseTree::Path(p) => walk(&p.tree, in_tonic || p.ident == "tonic", out),
                        syn::UseTree::Name(n) if in_tonic => {
                            out.insert(n.ident.to_string(), n.ident.to_string());
                        }
                        syn::UseTree::Rename(r) if in_tonic => {
                            out.insert(r.rename.to_string(), r.ident.to_string());
                        }
                        syn::UseTree::Group(g) => {
                            for t in &g.items {
                                walk(t, in_tonic, out);
                            }
                        }
                        _ => {}
                    }
                }
                walk(&u.tree, false, self.0);
            }
        }
        U(&mut self.tonic_macros).visit_file(file);
    }

    /// The tonic macro a path names, if any.
    fn tonic_macro(&self, path: &syn::Path) -> Option<String> {
        let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        match segs.as_slice() {
            [t, m] if t == "tonic" => Some(m.clone()),
            [m] => self.tonic_macros.get(m).cloned(),
            _ => None,
        }
    }
}

/// `concat!(env!("OUT_DIR"), "/a", "b.rs")` → `a/b.rs`.
pub(super) fn out_dir_concat(tokens: TokenStream) -> Option<String> {
    let m: syn::Macro = syn::parse2(tokens).ok()?;
    if !m.path.is_ident("concat") {
        return None;
    }
    let parts = m
        .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .ok()?;
    let mut it = parts.iter();
    match it.next()? {
        Expr::Macro(e) if e.mac.path.is_ident("env") => {
            let var: syn::LitStr = e.mac.parse_body().ok()?;
            if var.value() != "OUT_DIR" {
                return None;
            }
        }
        _ => return None,
    }
    let mut rest = String::new();
    for p in it {
        match p {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => rest.push_str(&s.value()),
            _ => return None,
        }
    }
    Some(rest.trim_start_matches('/').to_string())
}

impl<'ast> Visit<'ast> for IncludeFinder {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.mods.push(m.ident.to_string());
        syn::visit::visit_item_mod(self, m);
        self.mods.pop();
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let r = range(mac.span());
        let push = |this: &mut Self, kind, file: String, package: Option<String>| {
            this.found.push(ProtoInclude {
                kind,
                range: r.clone(),
                out_dir_file: file,
                package,
                module_path: this.mods.clone(),
            })
        };
        match self.tonic_macro(&mac.path).as_deref() {
            Some("include_proto") => {
                if let Ok(pkg) = mac.parse_body::<syn::LitStr>() {
                    // tonic writes `concat!(env!("OUT_DIR"), "/", $pkg, ".rs")`: leading slashes
                    // of the argument name the same file (`"/a.b"` reads `OUT_DIR//a.b.rs`).
                    // A directory before the package (`"api/api"`: a call with its own
                    // `out_dir`, chirpstack_api) is not part of it.
                    let p = pkg.value().trim_start_matches('/').to_string();
                    let package = p.rsplit('/').next().unwrap_or(&p).to_string();
                    push(
                        self,
                        IncludeKind::IncludeProto,
                        format!("{p}.rs"),
                        Some(package),
                    );
                }
                return;
            }
            Some("include_file_descriptor_set") => {
                if let Ok(name) = mac.parse_body::<syn::LitStr>() {
                    push(
                        self,
                        IncludeKind::FileDescriptorSet,
                        format!("{}.bin", name.value().trim_start_matches('/')),
                        None,
                    );
                }
                return;
            }
            _ => {}
        }
        let kind = if mac.path.is_ident("include") {
            IncludeKind::IncludeOutDir
        } else if mac.path.is_ident("include_bytes") {
            IncludeKind::IncludeBytesOutDir
        } else {
            syn::visit::visit_macro(self, mac);
            return;
        };
        if let Some(file) = out_dir_concat(mac.tokens.clone()) {
            let package = (kind == IncludeKind::IncludeOutDir)
                .then(|| {
                    let name = file.rsplit('/').next().unwrap_or(&file);
                    name.strip_suffix(".rs").map(str::to_string)
                })
                .flatten();
            push(self, kind, file, package);
        }
    }
}
