//! Path tables that a step's code applies (where a plain rename rule cannot: the code decides
//! which sites take them), kept as data in `rules/tables/*.toml` beside the rule files and
//! checked when loaded: unknown keys, paths that do not parse, a `from` given twice, a name
//! given twice.
//!
//! A service table (step 6's helper-crate clients: tonic-health, tonic-reflection) describes one
//! tonic helper crate's client side and its connectrpc twin:
//! ```toml
//! [service]
//! crate = "tonic_health"                                  # the tonic crate (as code names it)
//! label = "health"                                        # in messages: "the file's health client"
//! client = "tonic_health::pb::health_client::HealthClient" # the tonic client, canonical path
//! connect_client = "connectrpc_health::HealthClient"      # what it becomes
//! messages = ["..."]                                      # optional: message names of a module
//!
//! [[rename]]                                              # optional: an item and its new path
//! from = "tonic_health::pb::HealthCheckRequest"
//! to = "connectrpc_health::wire::HealthCheckRequest"
//!
//! [[oneof]]                                               # optional: a oneof of the messages
//! module = "server_reflection_request"
//! enum = "MessageRequest"
//! boxed = ["FileContainingExtension"]                     # variants holding a message
//! ```

use serde::Deserialize;

/// A path and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRename {
    /// Canonical path segments (`["tonic_health", "pb", "HealthCheckRequest"]`).
    pub from: Vec<String>,
    /// The new path, as written (`connectrpc_health::wire::HealthCheckRequest`).
    pub to: String,
}

/// A oneof of a service's messages.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oneof {
    /// The module holding the enum (`server_reflection_request`).
    pub module: String,
    /// The enum (`MessageRequest`).
    #[serde(rename = "enum")]
    pub name: String,
    /// Its variants holding a message (boxed in buffa).
    #[serde(default)]
    pub boxed: Vec<String>,
}

/// A tonic helper crate's client side and its connectrpc twin (`rules/tables/step06_*.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceTable {
    /// The tonic crate as code names it (`tonic_health`).
    pub tonic_crate: String,
    /// The service's word in messages (`health`).
    pub label: String,
    /// Canonical path segments of the tonic client.
    pub client: Vec<String>,
    /// The connect client's path, as written.
    pub connect_client: String,
    /// Message names of a generated module.
    pub messages: Vec<String>,
    /// Items and their new paths.
    pub renames: Vec<PathRename>,
    /// Oneofs of the messages.
    pub oneofs: Vec<Oneof>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFile {
    service: ServiceDef,
    #[serde(default)]
    rename: Vec<RenameDef>,
    #[serde(default)]
    oneof: Vec<Oneof>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceDef {
    #[serde(rename = "crate")]
    tonic_crate: String,
    label: String,
    client: String,
    connect_client: String,
    #[serde(default)]
    messages: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameDef {
    from: String,
    to: String,
}

/// Step 6's tonic-health client table (`rules/tables/step06_health.toml`).
pub const STEP06_HEALTH: (&str, &str) = (
    "rules/tables/step06_health.toml",
    include_str!("../../rules/tables/step06_health.toml"),
);

/// Step 6's tonic-reflection client table (`rules/tables/step06_reflection.toml`).
pub const STEP06_REFLECTION: (&str, &str) = (
    "rules/tables/step06_reflection.toml",
    include_str!("../../rules/tables/step06_reflection.toml"),
);

/// Every embedded table.
pub const EMBEDDED: &[(&str, &str)] = &[STEP06_HEALTH, STEP06_REFLECTION];

fn is_ident(s: &str) -> bool {
    syn::parse_str::<syn::Ident>(s).is_ok()
}

/// Parse and check a service table; `file` names it in the errors.
pub fn load_service(file: &str, text: &str) -> Result<ServiceTable, String> {
    let raw: ServiceFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    let s = raw.service;
    let client = super::parse_path(file, "service", &s.client).map_err(|e| e.to_string())?;
    super::parse_path(file, "service", &s.connect_client).map_err(|e| e.to_string())?;
    if client.first() != Some(&s.tonic_crate) {
        return Err(format!(
            "{file}: the client `{}` is not in the crate `{}`",
            s.client, s.tonic_crate
        ));
    }
    let mut names: Vec<&str> = Vec::new();
    let oneof_names = raw
        .oneof
        .iter()
        .flat_map(|o| [o.module.as_str(), o.name.as_str()]);
    for n in s.messages.iter().map(String::as_str).chain(oneof_names) {
        if !is_ident(n) {
            return Err(format!("{file}: `{n}` is not a Rust name"));
        }
        if names.contains(&n) {
            return Err(format!("{file}: `{n}` is named twice: keep one"));
        }
        names.push(n);
    }
    Ok(ServiceTable {
        tonic_crate: s.tonic_crate,
        label: s.label,
        client,
        connect_client: s.connect_client,
        messages: s.messages,
        renames: renames(file, raw.rename)?,
        oneofs: raw.oneof,
    })
}

/// [`load_service`] of an embedded table, which this module's tests check.
pub fn embedded_service(table: (&str, &str)) -> ServiceTable {
    load_service(table.0, table.1).unwrap_or_else(|e| panic!("an embedded table: {e}"))
}

fn renames(file: &str, raw: Vec<RenameDef>) -> Result<Vec<PathRename>, String> {
    let mut out: Vec<PathRename> = Vec::new();
    for r in raw {
        let from = super::parse_path(file, "rename", &r.from).map_err(|e| e.to_string())?;
        super::parse_path(file, "rename", &r.to).map_err(|e| e.to_string())?;
        if out.iter().any(|o| o.from == from) {
            return Err(format!("{file}: `{}` is renamed twice: keep one", r.from));
        }
        out.push(PathRename { from, to: r.to });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_loads_and_is_embedded() {
        let health = load_service(STEP06_HEALTH.0, STEP06_HEALTH.1).unwrap();
        assert_eq!(health.renames.len(), 4);
        assert_eq!(health.renames[0].to, "connectrpc_health::HealthClient");
        assert_eq!(health.client, health.renames[0].from);
        let reflection = load_service(STEP06_REFLECTION.0, STEP06_REFLECTION.1).unwrap();
        assert_eq!(reflection.messages.len(), 8);
        assert_eq!(reflection.oneofs[1].boxed.len(), 4);
        assert_eq!(reflection.client.last().unwrap(), "ServerReflectionClient");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/tables");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                EMBEDDED
                    .iter()
                    .any(|(f, _)| *f == format!("rules/tables/{name}")),
                "{name}: a table that no code embeds"
            );
        }
    }

    const HEAD: &str =
        "[service]\ncrate = \"a\"\nlabel = \"a\"\nclient = \"a::C\"\nconnect_client = \"b::C\"\n";

    #[test]
    fn tables_are_checked() {
        let e = load_service(
            "t.toml",
            &format!("{HEAD}[[rename]]\nfrom = \"a::B\"\nto = \"c::D\"\nx = 1\n"),
        );
        assert!(e.unwrap_err().contains("unknown field `x`"));
        let e = load_service(
            "t.toml",
            &format!("{HEAD}[[rename]]\nfrom = \"a::\"\nto = \"c::D\"\n"),
        );
        assert!(e.unwrap_err().contains("is not a Rust path"));
        let twice = "[[rename]]\nfrom = \"a::B\"\nto = \"c::D\"\n[[rename]]\nfrom = \"a::B\"\nto = \"c::E\"\n";
        let e = load_service("t.toml", &format!("{HEAD}{twice}"));
        assert!(e.unwrap_err().contains("twice"));
        let e = load_service("t.toml", "[[rename]]\nfrom = \"a::B\"\nto = \"c::D\"\n");
        assert!(e.unwrap_err().contains("missing field `service`"));
        let e = load_service("t.toml", &HEAD.replace("a::C", "z::C"));
        assert!(e.unwrap_err().contains("is not in the crate `a`"));
        let e = load_service(
            "t.toml",
            &format!("{HEAD}messages = [\"M\", \"N\", \"M\"]\n"),
        );
        assert!(e.unwrap_err().contains("`M` is named twice"));
        let e = load_service(
            "t.toml",
            &format!("{HEAD}[[oneof]]\nmodule = \"m-x\"\nenum = \"E\"\n"),
        );
        assert!(e.unwrap_err().contains("not a Rust name"));
    }
}
