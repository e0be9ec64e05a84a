//! Path tables that a step's code applies (where a plain rename rule cannot: the code decides
//! which sites take them), kept as data in `rules/tables/*.toml` beside the rule files and
//! checked when loaded: unknown keys, paths that do not parse, a `from` given twice.

use serde::Deserialize;

/// A path and what it becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRename {
    /// Canonical path segments (`["tonic_health", "pb", "HealthCheckRequest"]`).
    pub from: Vec<String>,
    /// The new path, as written (`connectrpc_health::wire::HealthCheckRequest`).
    pub to: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    rename: Vec<RenameDef>,
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

/// Parse and check a rename table; `file` names it in the errors.
pub fn load_renames(file: &str, text: &str) -> Result<Vec<PathRename>, String> {
    let raw: TableFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    let mut out: Vec<PathRename> = Vec::new();
    for r in raw.rename {
        let from = super::parse_path(file, "rename", &r.from).map_err(|e| e.to_string())?;
        super::parse_path(file, "rename", &r.to).map_err(|e| e.to_string())?;
        if out.iter().any(|o| o.from == from) {
            return Err(format!("{file}: `{}` is renamed twice: keep one", r.from));
        }
        out.push(PathRename { from, to: r.to });
    }
    Ok(out)
}

/// [`load_renames`] of an embedded table, which this module's tests check.
pub fn embedded_renames(table: (&str, &str)) -> Vec<PathRename> {
    load_renames(table.0, table.1).unwrap_or_else(|e| panic!("an embedded table: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_loads_and_is_embedded() {
        let health = load_renames(STEP06_HEALTH.0, STEP06_HEALTH.1).unwrap();
        assert_eq!(health.len(), 4);
        assert_eq!(health[0].to, "connectrpc_health::HealthClient");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/tables");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert_eq!(
                format!("rules/tables/{name}"),
                STEP06_HEALTH.0,
                "a table that no code embeds"
            );
        }
    }

    #[test]
    fn tables_are_checked() {
        let e = load_renames(
            "t.toml",
            "[[rename]]\nfrom = \"a::B\"\nto = \"c::D\"\nx = 1\n",
        );
        assert!(e.unwrap_err().contains("unknown field `x`"));
        let e = load_renames("t.toml", "[[rename]]\nfrom = \"a::\"\nto = \"c::D\"\n");
        assert!(e.unwrap_err().contains("is not a Rust path"));
        let twice = "[[rename]]\nfrom = \"a::B\"\nto = \"c::D\"\n[[rename]]\nfrom = \"a::B\"\nto = \"c::E\"\n";
        assert!(load_renames("t.toml", twice).unwrap_err().contains("twice"));
    }
}
