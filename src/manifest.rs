//! `Cargo.toml` edits with `toml_edit`: comments, spacing and order outside an edit are kept.
//!
//! Dependencies are added where the crate already keeps its tonic dependencies: the same table
//! (target-specific ones included), workspace inheritance when tonic comes from
//! `[workspace.dependencies]` (the version then goes to the workspace root), the same style
//! (`{ workspace = true }` or `x.workspace = true`), and sorted position when the table is sorted.
//! A dependency that is already there, under its name or renamed (`package = "..."`), is left as
//! it is.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

/// `to` relative to the directory `from` (both made absolute first), with `/` separators.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let abs = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (abs(from), abs(to));
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    let s = out.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DepKind {
    Normal,
    Build,
}

impl DepKind {
    fn table(self) -> &'static str {
        match self {
            DepKind::Normal => "dependencies",
            DepKind::Build => "build-dependencies",
        }
    }

    /// The dependencies next to which a new one of this kind goes.
    fn anchors(self) -> &'static [&'static str] {
        match self {
            DepKind::Normal => &["tonic", "prost"],
            DepKind::Build => &["tonic-prost-build", "tonic-build", "prost-build"],
        }
    }
}

/// A dependency to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDep {
    pub name: String,
    /// A version requirement, or `path:<dir>` for a path dependency.
    pub version: String,
    pub features: Vec<String>,
    pub kind: DepKind,
}

impl NewDep {
    pub fn new(name: &str, version: &str, features: &[&str], kind: DepKind) -> NewDep {
        NewDep {
            name: name.into(),
            version: version.into(),
            features: features.iter().map(|f| f.to_string()).collect(),
            kind,
        }
    }

    /// The TOML value; an absolute `path:` is written relative to `base` (the directory of the
    /// manifest it goes into) when given.
    fn value(&self, base: Option<&Path>) -> Value {
        let rel;
        let path = match (self.version.strip_prefix("path:"), base) {
            (Some(p), Some(b)) if Path::new(p).is_absolute() => {
                rel = relative_path(b, Path::new(p));
                Some(rel.as_str())
            }
            (p, _) => p,
        };
        if self.features.is_empty() && path.is_none() {
            return Value::from(self.version.as_str());
        }
        let mut t = InlineTable::new();
        match path {
            Some(p) => t.insert("path", Value::from(p)),
            None => t.insert("version", Value::from(self.version.as_str())),
        };
        if !self.features.is_empty() {
            let mut a = Array::new();
            for f in &self.features {
                a.push(f.as_str());
            }
            t.insert("features", Value::Array(a));
        }
        Value::InlineTable(t)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{0}")]
    Parse(#[from] toml_edit::TomlError),
}

/// Every dependency table of a manifest: `[dependencies]`, `[build-dependencies]`,
/// `[dev-dependencies]` and their `[target.'cfg(..)'.*]` forms.
pub fn dep_tables(doc: &DocumentMut) -> Vec<(Vec<String>, &Table)> {
    let mut out = Vec::new();
    for kind in ["dependencies", "build-dependencies", "dev-dependencies"] {
        if let Some(t) = doc.get(kind).and_then(Item::as_table) {
            out.push((vec![kind.to_string()], t));
        }
    }
    if let Some(targets) = doc.get("target").and_then(Item::as_table) {
        for (cfg, t) in targets.iter() {
            if let Some(t) = t.as_table() {
                for kind in ["dependencies", "build-dependencies", "dev-dependencies"] {
                    if let Some(d) = t.get(kind).and_then(Item::as_table) {
                        out.push((
                            vec!["target".to_string(), cfg.to_string(), kind.to_string()],
                            d,
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The crate name an entry stands for (its `package` key, else its key).
pub fn package_of<'a>(key: &'a str, item: &'a Item) -> &'a str {
    item.get("package").and_then(|p| p.as_str()).unwrap_or(key)
}

/// Does the manifest depend on `name` in any table (dev-dependencies excluded when `kind` is
/// given)?
pub fn has_dep(doc: &DocumentMut, name: &str, kind: Option<DepKind>) -> bool {
    dep_tables(doc).iter().any(|(path, t)| {
        let k = path.last().unwrap();
        kind.is_none_or(|kind| k == kind.table())
            && t.iter().any(|(key, item)| package_of(key, item) == name)
    })
}

fn table_mut<'a>(doc: &'a mut DocumentMut, path: &[String]) -> &'a mut Table {
    let mut t: &mut Table = doc.as_table_mut();
    for (i, seg) in path.iter().enumerate() {
        let implicit = i + 1 < path.len();
        let item = t.entry(seg).or_insert_with(|| {
            let mut nt = Table::new();
            nt.set_implicit(implicit);
            Item::Table(nt)
        });
        t = item.as_table_mut().expect("dependency tables are tables");
    }
    t
}

fn is_sorted(t: &Table) -> bool {
    let keys: Vec<&str> = t.iter().map(|(k, _)| k).collect();
    keys.windows(2).all(|w| w[0] <= w[1])
}

fn insert_sorted(t: &mut Table, key: &str, item: Item) {
    let sorted = is_sorted(t);
    t.insert(key, item);
    if sorted {
        t.sort_values();
    }
}

/// Add `deps` to a member manifest, and to the workspace root's `[workspace.dependencies]` when
/// the member inherits its tonic dependency from there. Returns the new member text and, when it
/// changed, the new root text. `root` is `None` when the member is the root.
pub fn add_deps(
    member: &str,
    root: Option<&str>,
    deps: &[NewDep],
) -> Result<(String, Option<String>), ManifestError> {
    add_deps_in(member, root, deps, None)
}

/// [`add_deps`] with the directories of the member and root manifests, so that absolute
/// `path:` dependencies are written relative to the manifest they land in.
pub fn add_deps_in(
    member: &str,
    root: Option<&str>,
    deps: &[NewDep],
    dirs: Option<(&Path, &Path)>,
) -> Result<(String, Option<String>), ManifestError> {
    let member_dir = dirs.map(|d| d.0);
    let root_dir = dirs.map(|d| if root.is_some() { d.1 } else { d.0 });
    let mut doc: DocumentMut = member.parse()?;
    let mut root_doc: Option<DocumentMut> = root.map(str::parse).transpose()?;
    let mut root_changed = false;
    for dep in deps {
        if has_dep(&doc, &dep.name, Some(dep.kind)) {
            continue;
        }
        // Where do the anchors of this kind live, and in which style?
        let anchor = dep_tables(&doc).into_iter().find_map(|(path, t)| {
            if path.last().map(String::as_str) != Some(dep.kind.table()) {
                return None;
            }
            dep.kind.anchors().iter().find_map(|a| {
                t.iter()
                    .find(|(k, item)| package_of(k, item) == *a)
                    .map(|(_, item)| (path.clone(), item.clone()))
            })
        });
        let (path, anchor_item) = match anchor {
            Some((p, i)) => (p, Some(i)),
            None => (vec![dep.kind.table().to_string()], None),
        };
        let inherits = anchor_item
            .as_ref()
            .and_then(|i| i.get("workspace"))
            .and_then(|w| w.as_bool())
            == Some(true);
        // The workspace root may be this very manifest.
        let ws_deps_here = doc
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .is_some();
        if inherits && (root_doc.is_some() || ws_deps_here) {
            let target = root_doc.as_mut().unwrap_or(&mut doc);
            let ws = table_mut(target, &["workspace".into(), "dependencies".into()]);
            if !ws.iter().any(|(k, i)| package_of(k, i) == dep.name) {
                insert_sorted(ws, &dep.name, Item::Value(dep.value(root_dir)));
                root_changed |= root_doc.is_some();
            }
            let dotted = anchor_item.as_ref().is_some_and(|i| i.is_table());
            let item = if dotted {
                let mut t = Table::new();
                t.set_dotted(true);
                t.insert("workspace", Item::Value(Value::from(true)));
                Item::Table(t)
            } else {
                let mut t = InlineTable::new();
                t.insert("workspace", Value::from(true));
                Item::Value(Value::InlineTable(t))
            };
            insert_sorted(table_mut(&mut doc, &path), &dep.name, item);
        } else {
            // `[dependencies.tonic]` sub-tables: new entries in the same form.
            let as_table = anchor_item
                .as_ref()
                .and_then(Item::as_table)
                .is_some_and(|t| !t.is_dotted());
            let item = match dep.value(member_dir) {
                Value::InlineTable(t) if as_table => Item::Table(t.into_table()),
                Value::String(v) if as_table => {
                    let mut t = Table::new();
                    t.insert("version", Item::Value(Value::String(v)));
                    Item::Table(t)
                }
                v => Item::Value(v),
            };
            insert_sorted(table_mut(&mut doc, &path), &dep.name, item);
        }
    }
    let root_out = match (root_doc, root_changed) {
        (Some(r), true) => Some(r.to_string()),
        _ => None,
    };
    Ok((doc.to_string(), root_out))
}

/// The version requirement of `name` as the manifest states it (following workspace
/// inheritance into `root` when given).
pub fn dep_version(member: &str, root: Option<&str>, name: &str) -> Option<String> {
    let doc: DocumentMut = member.parse().ok()?;
    let item = dep_tables(&doc).into_iter().find_map(|(_, t)| {
        t.iter()
            .find(|(k, i)| package_of(k, i) == name)
            .map(|(_, i)| i.clone())
    })?;
    if item.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
        let r: DocumentMut = root.unwrap_or(member).parse().ok()?;
        let ws = r.get("workspace")?.get("dependencies")?;
        let (_, e) = ws
            .as_table()?
            .iter()
            .find(|(k, i)| package_of(k, i) == name)?;
        return version_of(e);
    }
    version_of(&item)
}

fn version_of(item: &Item) -> Option<String> {
    item.as_str()
        .map(str::to_string)
        .or_else(|| item.get("version")?.as_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps() -> Vec<NewDep> {
        vec![
            NewDep::new("connectrpc", "0.9", &["client", "server"], DepKind::Normal),
            NewDep::new("buffa", "0.9", &[], DepKind::Normal),
            NewDep::new("connectrpc-build", "0.9", &[], DepKind::Build),
        ]
    }

    #[test]
    fn adds_to_plain_tables_keeping_comments_and_order() {
        let before = "[package]\nname = \"a\" # the name\n\n[dependencies]\n# runtime\nprost = \"0.14\"\ntokio = { version = \"1\" }\ntonic = \"0.14\"\n\n[build-dependencies]\ntonic-prost-build = \"0.14\"\n";
        let (after, root) = add_deps(before, None, &deps()).unwrap();
        assert_eq!(root, None);
        assert_eq!(
            after,
            "[package]\nname = \"a\" # the name\n\n[dependencies]\nbuffa = \"0.9\"\nconnectrpc = { version = \"0.9\", features = [\"client\", \"server\"] }\n# runtime\nprost = \"0.14\"\ntokio = { version = \"1\" }\ntonic = \"0.14\"\n\n[build-dependencies]\nconnectrpc-build = \"0.9\"\ntonic-prost-build = \"0.14\"\n"
        );
        // Idempotent.
        let (again, _) = add_deps(&after, None, &deps()).unwrap();
        assert_eq!(again, after);
    }

    #[test]
    fn unsorted_tables_get_appended() {
        let before = "[dependencies]\ntonic = \"0.14\"\nanyhow = \"1\"\n";
        let (after, _) = add_deps(before, None, &deps()[1..2]).unwrap();
        assert_eq!(
            after,
            "[dependencies]\ntonic = \"0.14\"\nanyhow = \"1\"\nbuffa = \"0.9\"\n"
        );
    }

    #[test]
    fn workspace_inheritance_goes_to_the_root() {
        let member = "[package]\nname = \"svc\"\n\n[dependencies]\ntonic = { workspace = true }\n\n[build-dependencies]\ntonic-prost-build.workspace = true\n";
        let root = "[workspace]\nmembers = [\"svc\"]\n\n[workspace.dependencies]\n# gRPC\ntonic = \"0.14\"\ntonic-prost-build = \"0.14\"\n";
        let (m, r) = add_deps(member, Some(root), &deps()).unwrap();
        assert_eq!(
            m,
            "[package]\nname = \"svc\"\n\n[dependencies]\nbuffa = { workspace = true }\nconnectrpc = { workspace = true }\ntonic = { workspace = true }\n\n[build-dependencies]\nconnectrpc-build.workspace = true\ntonic-prost-build.workspace = true\n"
        );
        assert_eq!(
            r.unwrap(),
            "[workspace]\nmembers = [\"svc\"]\n\n[workspace.dependencies]\nbuffa = \"0.9\"\nconnectrpc = { version = \"0.9\", features = [\"client\", \"server\"] }\nconnectrpc-build = \"0.9\"\n# gRPC\ntonic = \"0.14\"\ntonic-prost-build = \"0.14\"\n"
        );
    }

    #[test]
    fn target_specific_and_renamed_dependencies() {
        let member = "[target.'cfg(unix)'.dependencies]\ngrpc = { package = \"tonic\", version = \"0.14\" }\nrpc = { package = \"connectrpc\", version = \"0.9\" }\n";
        let (m, _) = add_deps(member, None, &deps()[..2]).unwrap();
        // connectrpc is already there (renamed); buffa joins tonic's table.
        assert_eq!(
            m,
            "[target.'cfg(unix)'.dependencies]\nbuffa = \"0.9\"\ngrpc = { package = \"tonic\", version = \"0.14\" }\nrpc = { package = \"connectrpc\", version = \"0.9\" }\n"
        );
        assert_eq!(dep_version(member, None, "tonic").as_deref(), Some("0.14"));
    }

    #[test]
    fn sub_table_style_is_kept() {
        let member = "[package]\nname = \"a\"\n\n[dependencies.tonic]\nversion = \"0.14\"\nfeatures = [\"gzip\"]\n";
        let (m, _) = add_deps(member, None, &deps()[..2]).unwrap();
        assert_eq!(
            m,
            // A sorted table stays sorted: the new sections go before `tonic`.
            "[package]\nname = \"a\"\n\n[dependencies.buffa]\nversion = \"0.9\"\n\n[dependencies.connectrpc]\nversion = \"0.9\"\nfeatures = [\"client\", \"server\"]\n\n[dependencies.tonic]\nversion = \"0.14\"\nfeatures = [\"gzip\"]\n"
        );
        let (again, _) = add_deps(&m, None, &deps()[..2]).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn absolute_paths_are_written_relative_to_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let member = dir.path().join("ws/app");
        let shim = dir.path().join("tools/connect-shim");
        std::fs::create_dir_all(&member).unwrap();
        std::fs::create_dir_all(&shim).unwrap();
        let dep = NewDep::new(
            "connect-shim",
            &format!("path:{}", shim.display()),
            &[],
            DepKind::Normal,
        );
        let (m, _) = add_deps_in(
            "[dependencies]\ntonic = \"0.14\"\n",
            None,
            &[dep],
            Some((&member, &member)),
        )
        .unwrap();
        assert_eq!(
            m,
            "[dependencies]\nconnect-shim = { path = \"../../tools/connect-shim\" }\ntonic = \"0.14\"\n"
        );
    }

    #[test]
    fn path_dependencies() {
        let (m, _) = add_deps(
            "[dependencies]\ntonic = \"0.14\"\n",
            None,
            &[NewDep::new(
                "connect-shim",
                "path:../shim",
                &[],
                DepKind::Normal,
            )],
        )
        .unwrap();
        assert_eq!(
            m,
            "[dependencies]\nconnect-shim = { path = \"../shim\" }\ntonic = \"0.14\"\n"
        );
    }
}

/// Version changes and removals applied to existing dependencies (tonic 0.12/0.13 -> 0.14).
#[derive(Clone, Debug, Default)]
pub struct Upgrade {
    /// (crate, new version requirement), for every table and `[workspace.dependencies]`.
    pub versions: Vec<(String, String)>,
    /// Crates to remove from `[build-dependencies]` (and from `[workspace.dependencies]` when
    /// nothing else inherits them there is not checked: only the member's entry goes).
    pub remove_build: Vec<String>,
    /// Features renamed or gone in the new version: (crate, old feature, new feature or `None`
    /// to drop it), applied to the dependency's `features` and to `[features]` entries naming
    /// `dep/feature` or `dep?/feature`.
    pub features: Vec<(String, String, Option<String>)>,
}

/// tonic's features from 0.12 / 0.13 to 0.14: `tls` is `tls-ring` (rustls on ring, as before),
/// `tls-roots` is `tls-native-roots`, and `prost` is gone (the codec lives in tonic-prost).
pub fn tonic_014_features() -> Vec<(String, String, Option<String>)> {
    [
        ("tls", Some("tls-ring")),
        ("tls-roots", Some("tls-native-roots")),
        ("prost", None),
    ]
    .into_iter()
    .map(|(from, to)| {
        (
            "tonic".to_string(),
            from.to_string(),
            to.map(str::to_string),
        )
    })
    .collect()
}

/// Rename or drop the array's string values that `map` knows (decor kept; `None`: unchanged,
/// `Some(None)`: dropped).
fn map_feature_values(a: &mut Array, map: impl Fn(&str) -> Option<Option<String>>) {
    let first = a.get(0).map(|v| v.decor().clone());
    let before = a.len();
    let mut i = 0;
    while i < a.len() {
        let Some(new) = a.get(i).and_then(|v| v.as_str()).and_then(&map) else {
            i += 1;
            continue;
        };
        match new {
            Some(n) => {
                let decor = a.get(i).unwrap().decor().clone();
                let mut v = Value::from(n);
                *v.decor_mut() = decor;
                a.replace(i, v);
                i += 1;
            }
            None => {
                a.remove(i);
            }
        }
    }
    if let (Some(d), true, Some(v)) = (first, a.len() < before, a.get_mut(0)) {
        *v.decor_mut() = d;
    }
}

fn set_version_item(item: &mut Item, version: &str) -> bool {
    if let Some(s) = item.as_str() {
        if s != version {
            *item = Item::Value(
                Value::from(version).decorated(
                    item.as_value()
                        .and_then(|v| v.decor().prefix().cloned())
                        .unwrap_or_default(),
                    item.as_value()
                        .and_then(|v| v.decor().suffix().cloned())
                        .unwrap_or_default(),
                ),
            );
            return true;
        }
        return false;
    }
    if let Some(v) = item.get_mut("version") {
        if v.as_str().is_some_and(|s| s != version) {
            let decor = v.as_value().map(|x| x.decor().clone());
            let mut nv = Value::from(version);
            if let Some(d) = decor {
                *nv.decor_mut() = d;
            }
            *v = Item::Value(nv);
            return true;
        }
    }
    false
}

/// Apply `up` to a member manifest (and the workspace root for inherited entries).
pub fn upgrade(
    member: &str,
    root: Option<&str>,
    up: &Upgrade,
) -> Result<(String, Option<String>), ManifestError> {
    let mut doc: DocumentMut = member.parse()?;
    let mut root_doc: Option<DocumentMut> = root.map(str::parse).transpose()?;
    let mut root_changed = false;
    let paths: Vec<Vec<String>> = dep_tables(&doc).into_iter().map(|(p, _)| p).collect();
    let mut inherited: Vec<String> = Vec::new();
    // Dependency key -> package, for `[features]` entries (`key/feature`).
    let mut key_pkg: HashMap<String, String> = HashMap::new();
    let renamed = |pkg: &str, f: &str| {
        up.features
            .iter()
            .find(|(p, from, _)| p == pkg && from == f)
            .map(|(_, _, to)| to.clone())
    };
    for path in &paths {
        let t = table_mut(&mut doc, path);
        let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
        for key in keys {
            let pkg = package_of(&key, t.get(&key).unwrap()).to_string();
            key_pkg.insert(key.clone(), pkg.clone());
            if let Some(a) = t
                .get_mut(&key)
                .and_then(|i| i.get_mut("features"))
                .and_then(Item::as_array_mut)
            {
                map_feature_values(a, |f| renamed(&pkg, f));
            }
            if path.last().map(String::as_str) == Some("build-dependencies")
                && up.remove_build.contains(&pkg)
            {
                t.remove(&key);
                continue;
            }
            let Some((_, version)) = up.versions.iter().find(|(n, _)| *n == pkg) else {
                continue;
            };
            let item = t.get_mut(&key).unwrap();
            if item.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                inherited.push(pkg);
                continue;
            }
            set_version_item(item, version);
        }
    }
    if let Some(r) = root_doc.as_mut() {
        if let Some(ws) = r
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
            .and_then(Item::as_table_mut)
        {
            let wkeys: Vec<String> = ws.iter().map(|(k, _)| k.to_string()).collect();
            for wk in wkeys {
                let pkg = package_of(&wk, ws.get(&wk).unwrap()).to_string();
                if !inherited.contains(&pkg) {
                    continue;
                }
                if let Some((_, v)) = up.versions.iter().find(|(n, _)| *n == pkg) {
                    root_changed |= set_version_item(ws.get_mut(&wk).unwrap(), v);
                }
            }
        }
    }
    if let Some(features) = doc.get_mut("features").and_then(Item::as_table_like_mut) {
        for (_, item) in features.iter_mut() {
            if let Some(a) = item.as_array_mut() {
                map_feature_values(a, |v| {
                    let (dep, f) = v.split_once('/')?;
                    let key = dep.strip_suffix('?').unwrap_or(dep);
                    let new = renamed(key_pkg.get(key)?, f)?;
                    Some(new.map(|n| format!("{dep}/{n}")))
                });
            }
        }
    }
    if root.is_none() {
        // The root is this manifest: its own [workspace.dependencies] too.
        if let Some(ws) = doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("dependencies"))
            .and_then(Item::as_table_mut)
        {
            let wkeys: Vec<String> = ws.iter().map(|(k, _)| k.to_string()).collect();
            for wk in wkeys {
                let pkg = package_of(&wk, ws.get(&wk).unwrap()).to_string();
                if let Some((_, v)) = up.versions.iter().find(|(n, _)| *n == pkg) {
                    set_version_item(ws.get_mut(&wk).unwrap(), v);
                }
            }
        }
    }
    let root_out = match (root_doc, root_changed) {
        (Some(r), true) => Some(r.to_string()),
        _ => None,
    };
    Ok((doc.to_string(), root_out))
}

#[cfg(test)]
mod upgrade_tests {
    use super::*;

    #[test]
    fn tonic_013_moves_to_014() {
        let up = Upgrade {
            versions: vec![
                ("tonic".into(), "0.14".into()),
                ("prost".into(), "0.14".into()),
            ],
            remove_build: vec!["tonic-build".into()],
            features: tonic_014_features(),
        };
        let member = "[dependencies]\ntonic = { version = \"0.13\", features = [\"gzip\"] } # rpc\nprost = \"0.13\"\n\n[build-dependencies]\ntonic-build = \"0.13\"\n";
        let (m, r) = upgrade(member, None, &up).unwrap();
        assert_eq!(r, None);
        assert_eq!(m, "[dependencies]\ntonic = { version = \"0.14\", features = [\"gzip\"] } # rpc\nprost = \"0.14\"\n\n[build-dependencies]\n");
        let member = "[dependencies]\ntonic.workspace = true\n";
        let root = "[workspace.dependencies]\ntonic = \"0.12\"\n";
        let (m, r) = upgrade(member, Some(root), &up).unwrap();
        assert_eq!(m, member);
        assert_eq!(r.unwrap(), "[workspace.dependencies]\ntonic = \"0.14\"\n");
    }

    /// Before: tonic 0.12's feature names stayed after the move to 0.14 (`tonic/tls`: cargo
    /// refuses the manifest, "package `tonic` does not have that feature"). After: 0.14's names.
    #[test]
    fn tonic_012_features_get_014_names() {
        let up = Upgrade {
            versions: vec![("tonic".into(), "0.14".into())],
            remove_build: vec![],
            features: tonic_014_features(),
        };
        let member = "[features]\ntls = [\"tonic/tls\"] # rustls\ntls-roots = [\"tls\", \"tonic/tls-roots\"]\nrpc = [\"dep:grpc\", \"grpc?/prost\", \"grpc?/gzip\"]\n\n[dependencies]\ntonic = { version = \"0.12\", features = [\"prost\", \"tls\", \"gzip\"] }\ngrpc = { package = \"tonic\", version = \"0.12\", optional = true }\n";
        let (m, _) = upgrade(member, None, &up).unwrap();
        assert_eq!(m, "[features]\ntls = [\"tonic/tls-ring\"] # rustls\ntls-roots = [\"tls\", \"tonic/tls-native-roots\"]\nrpc = [\"dep:grpc\", \"grpc?/gzip\"]\n\n[dependencies]\ntonic = { version = \"0.14\", features = [\"tls-ring\", \"gzip\"] }\ngrpc = { package = \"tonic\", version = \"0.14\", optional = true }\n");
    }
}

/// `new` (a manifest as toml_edit prints it: no BOM, `\n` line ends) in the form of `old`: its
/// byte-order mark and CRLF line ends are kept, as they are in `.rs` files, so an edit shows
/// as the lines it changed.
pub fn keep_form(old: &str, new: &str) -> String {
    let (bom, old_body) = match old.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", old),
    };
    let body = new.strip_prefix('\u{feff}').unwrap_or(new);
    let body = match crate::edit::LineEnding::detect(old_body) {
        crate::edit::LineEnding::CrLf => crate::edit::LineEnding::CrLf.convert(body),
        crate::edit::LineEnding::Lf => body.to_string(),
    };
    format!("{bom}{body}")
}

#[cfg(test)]
mod form_tests {
    use super::*;

    #[test]
    fn bom_and_crlf_survive_a_toml_edit_round_trip() {
        let old = "\u{feff}[package]\r\nname = \"x\" # kept\r\n\r\n[dependencies]\r\ntonic = \"0.14\"\r\n";
        let (new, _) = add_deps(
            old,
            None,
            &[NewDep::new("buffa", "0.9", &[], DepKind::Normal)],
        )
        .unwrap();
        assert!(!new.contains('\r'), "toml_edit drops them: {new:?}");
        assert_eq!(
            keep_form(old, &new),
            "\u{feff}[package]\r\nname = \"x\" # kept\r\n\r\n[dependencies]\r\nbuffa = \"0.9\"\r\ntonic = \"0.14\"\r\n"
        );
        // Unchanged content comes back byte for byte; LF files stay LF.
        assert_eq!(keep_form(old, &old.replace("\r\n", "\n")), old);
        assert_eq!(keep_form("a = 1\n", "a = 2\n"), "a = 2\n");
    }
}

/// The manifest rewrites of one run: members' new texts, and the workspace root's, carried from
/// crate to crate so each edit starts from the previous one.
#[derive(Debug)]
pub struct ManifestEdits {
    root_manifest: std::path::PathBuf,
    /// The root's text before the run and now.
    root: Option<(String, String)>,
    members: Vec<(std::path::PathBuf, String, String)>,
}

impl ManifestEdits {
    pub fn new(root_manifest: std::path::PathBuf) -> ManifestEdits {
        ManifestEdits {
            root_manifest,
            root: None,
            members: Vec::new(),
        }
    }

    /// The root's current text, to edit `member` against (`None` when it is the root).
    pub fn root_for(&self, member: &std::path::Path) -> Option<String> {
        if member == self.root_manifest {
            return None;
        }
        match &self.root {
            Some((_, now)) => Some(now.clone()),
            None => std::fs::read_to_string(&self.root_manifest).ok(),
        }
    }

    /// Record `member`'s new text and, when the edit changed it, the root's.
    pub fn record(
        &mut self,
        member: &std::path::Path,
        old: String,
        new: String,
        root_new: Option<String>,
    ) {
        if new != old {
            self.members.push((member.to_path_buf(), old, new));
        }
        if let Some(r) = root_new {
            let before = match self.root.take() {
                Some((before, _)) => before,
                None => std::fs::read_to_string(&self.root_manifest).unwrap_or_default(),
            };
            self.root = Some((before, r));
        }
    }

    /// Every manifest to rewrite: path, old text, new text.
    pub fn finish(mut self) -> Vec<(std::path::PathBuf, String, String)> {
        if let Some((old, new)) = self.root {
            self.members.push((self.root_manifest, old, new));
        }
        self.members
    }
}

/// Remove `names` from the member's `[dependencies]` (target-specific ones included; build- and
/// dev-dependencies are left alone). The workspace root's `[workspace.dependencies]` is not
/// touched: an unused entry there is harmless and may serve other members.
///
/// `[features]` entries that name a removed dependency (`"dep:x"`, `"x/feat"`, `"x?/feat"`, or
/// the implicit feature `"x"` of an optional dependency) go with it, unless a build-dependency of
/// the same name remains: cargo refuses a feature naming a dependency that does not exist. The
/// features themselves stay (`reflection = ["dep:tonic-reflection"]` becomes `reflection = []`),
/// so `#[cfg(feature = "reflection")]` and `--features reflection` keep working.
pub fn remove_deps(member: &str, names: &[&str]) -> Result<String, ManifestError> {
    let mut doc: DocumentMut = member.parse()?;
    let paths: Vec<Vec<String>> = dep_tables(&doc)
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.last().map(String::as_str) == Some("dependencies"))
        .collect();
    let mut removed: Vec<String> = Vec::new();
    for path in paths {
        let t = table_mut(&mut doc, &path);
        let keys: Vec<String> = t
            .iter()
            .filter(|(k, i)| names.contains(&package_of(k, i)))
            .map(|(k, _)| k.to_string())
            .collect();
        for k in keys {
            t.remove(&k);
            removed.push(k);
        }
    }
    let remaining: HashSet<String> = dep_tables(&doc)
        .into_iter()
        .filter(|(p, _)| p.last().map(String::as_str) != Some("dev-dependencies"))
        .flat_map(|(_, t)| t.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>())
        .collect();
    removed.retain(|k| !remaining.contains(k));
    if let Some(features) = doc.get_mut("features").and_then(Item::as_table_like_mut) {
        let defined: HashSet<String> = features.iter().map(|(k, _)| k.to_string()).collect();
        let names_removed = |v: &str| {
            removed.iter().any(|k| {
                v == format!("dep:{k}")
                    || (v == k.as_str() && !defined.contains(k))
                    || v.starts_with(&format!("{k}/"))
                    || v.starts_with(&format!("{k}?/"))
            })
        };
        for (_, item) in features.iter_mut() {
            if let Some(a) = item.as_array_mut() {
                let first = a.get(0).map(|v| v.decor().clone());
                let before = a.len();
                a.retain(|v| !v.as_str().is_some_and(&names_removed));
                // The new first value takes the old first's spacing (`[a, b]` less `a` is `[b]`).
                if let (Some(d), true, Some(v)) = (first, a.len() < before, a.get_mut(0)) {
                    *v.decor_mut() = d;
                }
            }
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod remove_tests {
    #[test]
    fn removes_only_normal_dependencies() {
        let m = "[dependencies]\ntonic = \"0.14\"\ntonic-web.workspace = true\nweb = { package = \"tonic-web\", version = \"0.14\" }\n\n[dev-dependencies]\ntonic-web = \"0.14\"\n";
        let out = super::remove_deps(m, &["tonic-web"]).unwrap();
        assert_eq!(
            out,
            "[dependencies]\ntonic = \"0.14\"\n\n[dev-dependencies]\ntonic-web = \"0.14\"\n"
        );
    }

    /// Before: an optional dependency named by features; after: the features stay, without it
    /// (the manifest still parses for cargo). A feature of the removed dependency's name that the
    /// table defines itself is kept where other features list it.
    #[test]
    fn features_naming_a_removed_dependency_lose_it() {
        let m = "[features]\ndefault = [\"full\"]\nfull = [\"reflection\", \"health\", \"tonic/gzip\"] # all\nreflection = [\"dep:tonic-reflection\", \"tonic-reflection?/server\"]\nhealth = [\"tonic-health\", \"tonic-health/transport\"]\n\n[dependencies]\ntonic = \"0.14\"\ntonic-reflection = { version = \"0.14\", optional = true }\ntonic-health = { version = \"0.14\", optional = true }\n";
        let out = super::remove_deps(m, &["tonic-reflection", "tonic-health"]).unwrap();
        assert_eq!(
            out,
            "[features]\ndefault = [\"full\"]\nfull = [\"reflection\", \"health\", \"tonic/gzip\"] # all\nreflection = []\nhealth = []\n\n[dependencies]\ntonic = \"0.14\"\n"
        );
    }

    #[test]
    fn features_keep_a_dependency_that_stays_as_build_dependency() {
        let m = "[features]\ngen = [\"dep:prost-build\"]\n\n[dependencies]\nprost-build = { version = \"0.14\", optional = true }\n\n[build-dependencies]\nprost-build = { version = \"0.14\", optional = true }\n";
        let out = super::remove_deps(m, &["prost-build"]).unwrap();
        assert!(out.contains("gen = [\"dep:prost-build\"]"), "{out}");
    }
}
