//! Step 1: globs of tonic's stub modules beside a glob of their package module.
//!
//! After step 1 the package module re-exports connectrpc's items with a glob
//! (`pub use crate::connect::<pkg>::*;`), and those include a `GreeterClient`, a `Greeter` trait
//! and a `GreeterServer`: the names of tonic's stubs in `greeter_client` / `greeter_server`. A
//! file that globs both the package module and a stub module would then see each of those names
//! twice (E0659, ambiguous), so the step names the stub items it uses explicitly: an explicit
//! import shadows every glob, and the file keeps meaning tonic's stubs until steps 2 and 6.
//!
//! Before:
//! ```text
//! use crate::{pb::greeter_client::*, pb::*};
//! let c = GreeterClient::connect(url).await?;
//! ```
//! After:
//! ```text
//! use crate::{pb::greeter_client::*, pb::*};
//! use crate::pb::greeter_client::GreeterClient;
//! let c = GreeterClient::connect(url).await?;
//! ```

use std::collections::BTreeSet;

use crate::edit::{indent_at, Edit};
use crate::engine::{FileCtx, Pass, PassOutput};
use crate::resolve::{Binding, FileIndex, LeafId};

use super::CrateCtx;

pub const RULE: &str = "step01/stub-glob";

pub struct StubGlobsPass<'c> {
    pub ctx: &'c CrateCtx,
}

/// The identifiers the file uses outside its `use` items.
fn used_idents(file: &syn::File) -> BTreeSet<String> {
    use syn::visit::Visit;
    struct Idents(BTreeSet<String>);
    impl<'ast> Visit<'ast> for Idents {
        fn visit_item_use(&mut self, _: &'ast syn::ItemUse) {}
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.insert(i.to_string());
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            syn::visit::visit_macro(self, m);
            collect_tokens(m.tokens.clone(), &mut self.0);
        }
    }
    fn collect_tokens(ts: proc_macro2::TokenStream, out: &mut BTreeSet<String>) {
        for t in ts {
            match t {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => collect_tokens(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut v = Idents(BTreeSet::new());
    v.visit_file(file);
    v.0
}

/// The stub names a glob of `path` brings that the package module's connect glob also brings,
/// when `path` is a stub module (`<pkg module>::<svc>_client` / `_server`), with the package
/// module's path.
fn stub_names(ctx: &CrateCtx, path: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    let schema = ctx.schema.as_ref()?;
    let (last, parent) = path.split_last()?;
    let (_, package) = ctx.modules.iter().find(|(m, _)| m == parent)?;
    let mut names = Vec::new();
    for s in schema.services.iter().filter(|s| &s.package == package) {
        if *last == s.tonic_client_mod && s.tonic_client == s.connect_client {
            names.push(s.tonic_client.clone());
        }
        if *last == s.tonic_server_mod {
            if s.tonic_trait == s.connect_trait {
                names.push(s.tonic_trait.clone());
            }
            if s.tonic_server == s.connect_server {
                names.push(s.tonic_server.clone());
            }
        }
    }
    (!names.is_empty()).then(|| (parent.to_vec(), names))
}

impl Pass for StubGlobsPass<'_> {
    fn run(&self, file: &FileCtx<'_>, out: &mut PassOutput) {
        let idx: &FileIndex = file.index;
        let mut used: Option<BTreeSet<String>> = None;
        let mut edits = Vec::new();
        for sc in &idx.scopes {
            let globs: Vec<(LeafId, Vec<String>)> = sc
                .globs
                .iter()
                .map(|&g| (g, idx.canonical(idx.leaf_path(g))))
                .collect();
            for (g, path) in &globs {
                let Some((package_mod, names)) = stub_names(self.ctx, path) else {
                    continue;
                };
                if !globs.iter().any(|(_, p)| *p == package_mod) {
                    continue;
                }
                let used = used.get_or_insert_with(|| used_idents(file.file));
                let leaf = &idx.leaves[*g];
                let item = &idx.use_items[leaf.item];
                let mut written = leaf.written.join("::");
                if leaf.leading_colon {
                    written.insert_str(0, "::");
                }
                let vis = if item.is_pub { "pub " } else { "" };
                let indent = indent_at(file.text, item.range.start).to_string();
                for name in names.iter().filter(|n| used.contains(n.as_str())) {
                    // Already named explicitly in this scope: nothing to disambiguate.
                    if matches!(
                        sc.names.get(name),
                        Some(Binding::Import(_) | Binding::Local(_))
                    ) {
                        continue;
                    }
                    edits.push(Edit::insert(
                        item.range.end,
                        format!("\n{indent}{vis}use {written}::{name};"),
                        RULE,
                    ));
                }
            }
        }
        if !edits.is_empty() {
            // Inserts at one point keep their order; a conflict with another pass's edit
            // leaves the file as it was (the compiler loop then reports the ambiguity).
            let _ = out.commit(edits);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::context::CrateCtx;
    use crate::engine::{process, FileMeta, Outcome};
    use crate::schema::Schema;

    const PROTO: &str = "syntax = \"proto3\";\npackage helloworld;\nservice Greeter { rpc SayHello(HelloRequest) returns (HelloReply); }\nmessage HelloRequest { string name = 1; }\nmessage HelloReply { string message = 1; }\n";

    fn step1(text: &str) -> String {
        let schema = Schema::from_sources(&[("helloworld.proto", PROTO)], 1).unwrap();
        let ctx = CrateCtx {
            schema: Some(Arc::new(schema)),
            modules: vec![(vec!["crate".into(), "pb".into()], "helloworld".into())],
            connect_module: vec!["crate".into(), "connect".into()],
            ..Default::default()
        };
        let steps = crate::steps::all().unwrap();
        let meta = FileMeta {
            module_path: Some(vec!["crate".into(), "client".into()]),
            crate_ctx: Some(Arc::new(ctx)),
            ..Default::default()
        };
        match process(crate::steps::get(&steps, 1), text, &meta) {
            Outcome::Rewritten { new_text, .. } => new_text.unwrap_or_else(|| text.to_string()),
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn stub_glob_beside_package_glob_gets_explicit_imports() {
        let before = "use crate::{pb::greeter_client::*, pb::*};\nuse crate::pb::greeter_server::*;\n\nasync fn f() -> Result<(), Box<dyn std::error::Error>> {\n    let _c = GreeterClient::connect(\"http://[::1]:50051\").await?;\n    Ok(())\n}\n";
        let after = step1(before);
        assert_eq!(
            after,
            "use crate::{pb::greeter_client::*, pb::*};\nuse crate::pb::greeter_client::GreeterClient;\nuse crate::pb::greeter_server::*;\n\nasync fn f() -> Result<(), Box<dyn std::error::Error>> {\n    let _c = GreeterClient::connect(\"http://[::1]:50051\").await?;\n    Ok(())\n}\n"
        );
        // Idempotent: the name is now bound explicitly.
        assert_eq!(step1(&after), after);
    }

    #[test]
    fn server_names_used_and_only_those() {
        let before = "use crate::pb::*;\npub use crate::pb::greeter_server::*;\n\nstruct S;\n#[tonic::async_trait]\nimpl Greeter for S {}\n";
        let after = step1(before);
        assert!(after.contains("pub use crate::pb::greeter_server::*;\npub use crate::pb::greeter_server::Greeter;\n"), "{after}");
        assert!(!after.contains("greeter_server::GreeterServer;"), "{after}");
    }

    #[test]
    fn a_stub_glob_alone_is_left_alone() {
        let before =
            "use crate::pb::greeter_client::*;\n\nfn f() { let _ = GreeterClient::<()>::new; }\n";
        assert_eq!(step1(before), before);
    }
}
