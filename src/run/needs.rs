//! What a step's files need beyond themselves, applied once after the files.
//!
//! The passes declare what their new code needs ([`Need`]: a dependency of the file's crate, a
//! new module of its target) and the engine keeps what the new text shows ([`engine::When`]);
//! a step's `prepare` declares what depends on the whole crate after the step (a dependency
//! that goes once no file names it: [`Prepared::drop_unless_named`]). The run layer collects
//! both per crate while the files are processed ([`Collected`]) and then, once, for every mode
//! (`--dry-run`, `--check`, the reports and writing alike):
//! - edits each crate's manifest: the needed dependencies added (in name order), the
//!   dependencies no final text names removed ([`manifests`]);
//! - creates each needed module that is not there ([`Collected::new_files`]);
//! - keeps a target root's held declaration of a module only when some file of that target
//!   needs it ([`Collected::declares`]), else takes the root's text without it.
//!
//! Before (step 8, two files of one crate write `futures::`):
//! ```text
//! a.rs: Need::Dependency(futures)      b.rs: Need::Dependency(futures)
//! ```
//! After: one `futures = "0.3"` in the crate's `[dependencies]`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::engine::{self, ItemKind, Need};
use crate::manifest::{self, ManifestEdits, NewDep};
use crate::report::ItemReport;
use crate::steps::common::prepare::Prepared;
use crate::workspace::{rel, Workspace};

/// What the files of a run need, collected per crate.
#[derive(Debug, Default)]
pub struct Collected {
    /// Per crate (by name): the dependencies its files need, each once.
    deps: HashMap<String, Vec<NewDep>>,
    /// The modules needed: path -> its text when it is to be created, and the target roots
    /// that declare it.
    modules: BTreeMap<PathBuf, (Option<Arc<str>>, BTreeSet<PathBuf>)>,
    /// Per crate: the identifiers of [`Prepared::drop_unless_named`] that some file of the crate
    /// names once the step is applied.
    named: HashMap<String, HashSet<&'static str>>,
}

impl Collected {
    /// Take in the needs of one file of crate `krate`.
    pub fn add(&mut self, krate: &str, needs: &[Need]) {
        for n in needs {
            match n {
                Need::Dependency(d) => {
                    let deps = self.deps.entry(krate.to_string()).or_default();
                    if !deps.iter().any(|x| x.name == d.name && x.kind == d.kind) {
                        deps.push(d.clone());
                    }
                }
                Need::Module { path, root, text } => {
                    let m = self
                        .modules
                        .entry(path.clone())
                        .or_insert_with(|| (text.clone(), BTreeSet::new()));
                    m.1.insert(root.clone());
                }
            }
        }
    }

    /// Take in what the final text of one file of crate `krate` names, of `idents`.
    pub fn names(&mut self, krate: &str, named: &[&'static str]) {
        if !named.is_empty() {
            self.named
                .entry(krate.to_string())
                .or_default()
                .extend(named.iter().copied());
        }
    }

    /// Is the declaration of `module` in the target root `root` needed (some file of that
    /// target needs the module)?
    pub fn declares(&self, root: &Path, module: &Path) -> bool {
        self.modules
            .get(module)
            .is_some_and(|(_, roots)| roots.contains(root))
    }

    /// The modules to create: path, text.
    pub fn new_files(&self) -> Vec<(PathBuf, String)> {
        self.modules
            .iter()
            .filter_map(|(p, (text, _))| Some((p.clone(), text.as_deref()?.to_string())))
            .collect()
    }

    /// Crate `krate`'s needed dependencies, in name order.
    fn deps_of(&self, krate: &str) -> Vec<NewDep> {
        let mut v = self.deps.get(krate).cloned().unwrap_or_default();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }
}

/// The identifiers of `idents` that `text` names.
pub fn named_in(text: &str, idents: &[&'static str]) -> Vec<&'static str> {
    idents
        .iter()
        .copied()
        .filter(|i| text.contains(i))
        .collect()
}

/// Every identifier a removal condition of `prepared` looks for.
pub fn watched(prepared: &Prepared) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = prepared
        .drop_unless_named
        .values()
        .flatten()
        .map(|(_, ident)| *ident)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The needs of an outcome (the engine's, for the text the run keeps).
pub fn of(outcome: &engine::Outcome) -> &[Need] {
    match outcome {
        engine::Outcome::Rewritten { needs, .. } => needs,
        _ => &[],
    }
}

/// The manifest changes of the run: `prepared`'s own, then, per crate in the workspace's order,
/// the dependencies its files need added and those of `prepared.drop_unless_named` that no file
/// names removed; and the items of manifests that could not take them.
pub fn manifests(
    ws: &Workspace,
    prepared: &Prepared,
    collected: &Collected,
) -> (Vec<(PathBuf, String, String)>, Vec<ItemReport>) {
    let root_manifest = ws.root.join("Cargo.toml");
    let mut edits = ManifestEdits::new(root_manifest.clone());
    // A manifest `prepare` edited already is edited further from its new text.
    let earlier = |p: &Path| prepared.manifests.iter().find(|(m, _, _)| m == p);
    let root_is_member = ws.crates.iter().any(|c| c.manifest_path == root_manifest);
    if let Some((_, _, new)) = earlier(&root_manifest).filter(|_| !root_is_member) {
        edits.record(
            &root_manifest,
            String::new(),
            String::new(),
            Some(new.clone()),
        );
    }
    let mut items = Vec::new();
    let mut touched = HashSet::new();
    for c in &ws.crates {
        let deps = collected.deps_of(&c.name);
        let named = collected.named.get(&c.name);
        let gone: Vec<&str> = prepared
            .drop_unless_named
            .get(&c.name)
            .into_iter()
            .flatten()
            .filter(|(_, ident)| !named.is_some_and(|n| n.contains(ident)))
            .map(|(dep, _)| *dep)
            .collect();
        if deps.is_empty() && gone.is_empty() {
            continue;
        }
        let (old, member) = match earlier(&c.manifest_path) {
            Some((_, old, new)) => (old.clone(), Some(new.clone())),
            None => match std::fs::read_to_string(&c.manifest_path) {
                Ok(t) => (t, None),
                Err(_) => continue,
            },
        };
        let member = member.unwrap_or_else(|| old.clone());
        let root_cur = edits.root_for(&c.manifest_path);
        let dirs = (c.dir.as_path(), ws.root.as_path());
        let result = manifest::add_deps_in(&member, root_cur.as_deref(), &deps, Some(dirs))
            .and_then(|(m, r)| Ok((manifest::remove_deps(&m, &gone)?, r)));
        match result {
            Ok((m, r)) => {
                touched.insert(c.manifest_path.clone());
                edits.record(&c.manifest_path, old, m, r);
            }
            Err(e) => {
                if let Some(rule) = prepared.manifest_rule {
                    items.push(ItemReport {
                        path: rel(&ws.root, &c.manifest_path),
                        krate: c.name.clone(),
                        line: 1,
                        column: 1,
                        rule: rule.into(),
                        kind: ItemKind::Manual,
                        message: format!("Cargo.toml does not parse: {e}"),
                        note: "fix the manifest and run the step again".into(),
                    });
                }
            }
        }
    }
    let mut out: Vec<(PathBuf, String, String)> = prepared
        .manifests
        .iter()
        .filter(|(p, _, _)| !touched.contains(p) && (root_is_member || *p != root_manifest))
        .cloned()
        .collect();
    out.extend(edits.finish());
    (out, items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DepKind;

    fn dep(name: &str) -> Need {
        Need::Dependency(NewDep::new(name, "0.3", &[], DepKind::Normal))
    }

    /// A workspace of one package `app` in a temporary directory, with these dependencies.
    fn workspace(dir: &Path, deps: &str) -> Workspace {
        std::fs::write(
            dir.join("Cargo.toml"),
            format!("[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\n{deps}"),
        )
        .unwrap();
        Workspace {
            root: dir.to_path_buf(),
            crates: vec![crate::workspace::Crate {
                name: "app".into(),
                features: Default::default(),
                manifest_path: dir.join("Cargo.toml"),
                dir: dir.to_path_buf(),
                files: Vec::new(),
                generated: Vec::new(),
                evidence: Default::default(),
                tonic_req: Some("0.12".into()),
                has_connectrpc: false,
                local_deps: Vec::new(),
                build_rs: None,
                target_dir: None,
                targets: Vec::new(),
                only: None,
                unlexed: Vec::new(),
                real: Default::default(),
                included: Default::default(),
            }],
            options: Default::default(),
            member_manifests: vec![dir.join("Cargo.toml")],
            notes: Vec::new(),
        }
    }

    /// Two files of one crate need `futures` (one of them twice): the manifest gains it once.
    #[test]
    fn a_dependency_two_files_need_is_added_once() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), "tonic = \"0.12\"\n");
        let mut c = Collected::default();
        c.add("app", &[dep("futures")]);
        c.add("app", &[dep("futures"), dep("futures")]);
        // (A sorted table stays sorted.)
        let (m, items) = manifests(&ws, &Prepared::default(), &c);
        assert!(items.is_empty());
        assert_eq!(m.len(), 1);
        assert_eq!(
            m[0].2,
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\nfutures = \"0.3\"\ntonic = \"0.12\"\n"
        );
        // Nothing needed: no change.
        let (m, _) = manifests(&ws, &Prepared::default(), &Collected::default());
        assert!(m.is_empty());
    }

    /// Dependencies are added in name order, whatever order the files declared them in (to a
    /// table that is not sorted, where they go at the end).
    #[test]
    fn dependencies_are_added_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), "tonic = \"0.12\"\nanyhow = \"1\"\n");
        let mut c = Collected::default();
        c.add("app", &[dep("http")]);
        c.add("app", &[dep("buffa"), dep("connectrpc")]);
        let (m, _) = manifests(&ws, &Prepared::default(), &c);
        assert!(m[0]
            .2
            .ends_with("anyhow = \"1\"\nbuffa = \"0.3\"\nconnectrpc = \"0.3\"\nhttp = \"0.3\"\n"));
    }

    /// A dependency goes only when no file of the crate names it once the step is applied: one
    /// file still naming it (another file's final text) keeps it.
    #[test]
    fn a_removal_sees_every_files_final_text() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), "tonic = \"0.12\"\ntonic-web = \"0.12\"\n");
        let mut prepared = Prepared::default();
        prepared
            .drop_unless_named
            .insert("app".into(), vec![("tonic-web", "tonic_web")]);
        let idents = watched(&prepared);
        assert_eq!(idents, ["tonic_web"]);
        // main.rs no longer names tonic-web; layer.rs still does.
        let mut c = Collected::default();
        c.names(
            "app",
            &named_in("fn main() { axum::serve(l, app); }", &idents),
        );
        c.names(
            "app",
            &named_in("pub use tonic_web::GrpcWebLayer;", &idents),
        );
        let (m, _) = manifests(&ws, &prepared, &c);
        assert!(m.is_empty(), "{m:?}");
        // No file names it: it goes.
        let mut c = Collected::default();
        c.names("app", &named_in("fn main() {}", &idents));
        let (m, _) = manifests(&ws, &prepared, &c);
        assert_eq!(m.len(), 1);
        assert!(!m[0].2.contains("tonic-web"), "{}", m[0].2);
    }

    /// A manifest the needs cannot be applied to is reported under the step's rule.
    #[test]
    fn a_manifest_that_does_not_parse_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let ws = workspace(dir.path(), "tonic = \n");
        let mut c = Collected::default();
        c.add("app", &[dep("futures")]);
        let prepared = Prepared {
            manifest_rule: Some("step08/manifest"),
            ..Default::default()
        };
        let (m, items) = manifests(&ws, &prepared, &c);
        assert!(m.is_empty());
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].rule, "step08/manifest");
    }

    /// A module is created once, and declared only in the roots of the targets that need it.
    #[test]
    fn a_module_is_created_once_and_declared_where_needed() {
        let module = PathBuf::from("/ws/src/google_rpc.rs");
        let need = |root: &str| Need::Module {
            path: module.clone(),
            root: PathBuf::from(root),
            text: Some(Arc::from("// module\n")),
        };
        let mut c = Collected::default();
        c.add("app", &[need("/ws/src/main.rs")]);
        c.add("app", &[need("/ws/src/main.rs")]);
        assert_eq!(
            c.new_files(),
            vec![(module.clone(), "// module\n".to_string())]
        );
        assert!(c.declares(Path::new("/ws/src/main.rs"), &module));
        // The library target beside it (same folder, same module file) needs none of it.
        assert!(!c.declares(Path::new("/ws/src/lib.rs"), &module));
        assert!(Collected::default().new_files().is_empty());
    }
}
