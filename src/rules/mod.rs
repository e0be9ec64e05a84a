//! Rules as data: `rules/stepNN.toml`, embedded in the binary and checked at load.
//!
//! The data files hold the mechanical part of each step: path renames (`tonic::Status::not_found`
//! -> `connectrpc::ConnectError::not_found`) and paths that have no equivalent and must be
//! reported. The format is documented field by field in `rules/README.md`. Loading rejects
//! unknown keys, a step number that does not match its file, duplicate ids, duplicate `from`
//! paths and paths that do not parse, with a message that says what to fix.

pub mod catalogue;
pub mod rename;
pub mod tables;

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

pub use crate::evidence::Side;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    step: u8,
    #[serde(default)]
    rename: Vec<RenameDef>,
    #[serde(default)]
    report: Vec<ReportDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RenameDef {
    id: String,
    from: String,
    to: String,
    #[serde(default = "any")]
    side: Side,
    message: String,
    #[serde(default)]
    note: String,
    /// The rule does not rename in a file holding any of these texts; it reports instead.
    #[serde(default)]
    unless_file_contains: Vec<String>,
    /// The rule renames only in a file whose tonic-types paths the step moves to the crate's
    /// `google_rpc` module (see `steps::details`); it reports elsewhere.
    #[serde(default)]
    with_google_rpc: bool,
    /// A check in code that must accept the file for the rule to rename (otherwise it
    /// reports, with the check's reason): `descriptors` (step 1's descriptor analysis).
    #[serde(default)]
    guard: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportDef {
    id: String,
    path: String,
    #[serde(default = "any")]
    side: Side,
    message: String,
    #[serde(default)]
    note: String,
}

fn any() -> Side {
    Side::Any
}

/// What a rule does when a path resolves to its `from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Rewrite the path to this crate-absolute path.
    Rename(Vec<String>),
    /// Leave the code and list the site as a manual item.
    Report,
}

/// A checked rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// `step03/status-not-found`: unique across the rule set.
    pub id: String,
    pub step: u8,
    pub from: Vec<String>,
    pub action: Action,
    pub side: Side,
    pub message: String,
    pub note: String,
    /// In a file containing any of these, the rule reports instead of renaming.
    pub unless_file_contains: Vec<String>,
    /// Renames only where the file's tonic-types details move to the `google_rpc` module.
    pub with_google_rpc: bool,
    /// A check in code that must accept the file for the rule to rename.
    pub guard: Option<Guard>,
}

/// Checks in code that a rename rule can depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Every use of protobuf descriptor types in the file is understood
    /// ([`Checks::descriptors_migrate`]).
    Descriptors,
    /// The crate moves from tonic 0.12 and the file's `tower::discover::Change` is the one it
    /// sends to `Channel::balance_channel` ([`Checks::tonic_upgrade`]).
    TonicUpgrade,
}

/// The checks in code that rules depend on, given by the steps that own them (the rules name no
/// step): `steps/mod.rs` passes step 1's descriptor analysis and the error-details plan.
#[derive(Clone, Copy)]
pub struct Checks {
    /// Do this file's tonic-types details move to the crate's `google_rpc` module
    /// (`with_google_rpc` rules)?
    pub details_converts: fn(&crate::engine::FileCtx<'_>) -> bool,
    /// Does this file move its descriptor types to buffa-descriptor ([`Guard::Descriptors`])?
    /// `Err(reason)` when it keeps them.
    pub descriptors_migrate: fn(&crate::engine::FileCtx<'_>) -> Result<(), String>,
    /// Does this file take tonic 0.14's place of an item tonic 0.12 took from elsewhere
    /// ([`Guard::TonicUpgrade`])? `Err(reason)` when it keeps it.
    pub tonic_upgrade: fn(&crate::engine::FileCtx<'_>) -> Result<(), String>,
}

impl Rule {
    /// Why the rule reports instead of renaming in this file, if it does.
    pub fn disabled_for(
        &self,
        ctx: &crate::engine::FileCtx<'_>,
        checks: &Checks,
    ) -> Option<String> {
        if let Some(n) = self.disabled_in(ctx.text) {
            return Some(format!("it contains `{n}`"));
        }
        if self.with_google_rpc && !(checks.details_converts)(ctx) {
            return Some(
                "its tonic-types details do not move to a `google_rpc` module of the crate (see the other items)"
                    .into(),
            );
        }
        None
    }

    /// Does this file turn the rule into a report?
    pub fn disabled_in(&self, text: &str) -> Option<&str> {
        self.unless_file_contains
            .iter()
            .find(|n| text.contains(n.as_str()))
            .map(String::as_str)
    }
}

/// The checked rules of one step.
#[derive(Debug, Clone, Default)]
pub struct StepRules {
    pub step: u8,
    pub rules: Vec<Rule>,
    /// For the prefilter: crate names the `from` paths start with (a file naming none of them
    /// cannot resolve a path to a rule).
    pub crates: Vec<String>,
    /// For the prefilter: every identifier of every `from` path after the crate name.
    pub idents: Vec<String>,
}

impl StepRules {
    /// The rule whose `from` is the longest prefix of `path` that covers at least `min_len`
    /// segments.
    pub fn longest_match(&self, path: &[String], min_len: usize) -> Option<&Rule> {
        self.rules
            .iter()
            .filter(|r| {
                r.from.len() >= min_len.max(1)
                    && r.from.len() <= path.len()
                    && path[..r.from.len()] == r.from[..]
            })
            .max_by_key(|r| r.from.len())
    }
}

/// The embedded rule files, in step order.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("rules/step01.toml", include_str!("../../rules/step01.toml")),
    ("rules/step03.toml", include_str!("../../rules/step03.toml")),
    ("rules/step06.toml", include_str!("../../rules/step06.toml")),
    ("rules/step07.toml", include_str!("../../rules/step07.toml")),
];

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{file}: step {step} is not a migration step (1..=9)")]
    UnknownStep { file: String, step: u8 },
    #[error("{file}: declares step {step} but its name says step {expected}: rename the file or fix `step`")]
    StepMismatch {
        file: String,
        step: u8,
        expected: u8,
    },
    #[error("{file}: rule id `{id}` is used twice in step {step}: ids must be unique")]
    DuplicateId { file: String, id: String, step: u8 },
    #[error("{file}: rule `{id}`: `{path}` is not a Rust path ({why})")]
    BadPath {
        file: String,
        id: String,
        path: String,
        why: String,
    },
    #[error("{file}: rule `{id}`: `{path}` needs at least a crate and an item (`tonic::Status`)")]
    ShortPath {
        file: String,
        id: String,
        path: String,
    },
    #[error("{file}: rules `{a}` and `{b}` both match `{path}`: keep one")]
    DuplicateFrom {
        file: String,
        a: String,
        b: String,
        path: String,
    },
    #[error("{file}: rule id `{id}` must be lowercase words joined by `-`")]
    BadId { file: String, id: String },
}

pub(crate) fn parse_path(file: &str, id: &str, s: &str) -> Result<Vec<String>, RuleError> {
    let p: syn::Path = syn::parse_str(s).map_err(|e| RuleError::BadPath {
        file: file.into(),
        id: id.into(),
        path: s.into(),
        why: e.to_string(),
    })?;
    if p.leading_colon.is_some() || p.segments.iter().any(|s| !s.arguments.is_none()) {
        return Err(RuleError::BadPath {
            file: file.into(),
            id: id.into(),
            path: s.into(),
            why: "write it without a leading `::` and without generic arguments".into(),
        });
    }
    let v: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
    if v.len() < 2 {
        return Err(RuleError::ShortPath {
            file: file.into(),
            id: id.into(),
            path: s.into(),
        });
    }
    Ok(v)
}

/// Parse and check one rule file. `file` is its name (`rules/step03.toml`), which must carry the
/// step number it declares.
pub fn load_file(file: &str, text: &str) -> Result<StepRules, RuleError> {
    let raw: RuleFile = toml::from_str(text).map_err(|source| RuleError::Toml {
        file: file.into(),
        source,
    })?;
    if !(1..=9).contains(&raw.step) {
        return Err(RuleError::UnknownStep {
            file: file.into(),
            step: raw.step,
        });
    }
    if let Some(expected) = step_from_name(file) {
        if expected != raw.step {
            return Err(RuleError::StepMismatch {
                file: file.into(),
                step: raw.step,
                expected,
            });
        }
    }
    let mut ids = HashSet::new();
    let mut froms: BTreeMap<Vec<String>, String> = BTreeMap::new();
    let mut rules = Vec::new();
    let defs = raw
        .rename
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.from,
                Some(r.to),
                r.side,
                r.message,
                r.note,
                (r.unless_file_contains, r.with_google_rpc),
                r.guard,
            )
        })
        .chain(raw.report.into_iter().map(|r| {
            (
                r.id,
                r.path,
                None,
                r.side,
                r.message,
                r.note,
                (Vec::new(), false),
                None,
            )
        }));
    for (id, from, to, side, message, note, (unless_file_contains, with_google_rpc), guard) in defs
    {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(RuleError::BadId {
                file: file.into(),
                id,
            });
        }
        if !ids.insert(id.clone()) {
            return Err(RuleError::DuplicateId {
                file: file.into(),
                id,
                step: raw.step,
            });
        }
        let from_path = parse_path(file, &id, &from)?;
        if let Some(other) = froms.insert(from_path.clone(), id.clone()) {
            return Err(RuleError::DuplicateFrom {
                file: file.into(),
                a: other,
                b: id,
                path: from,
            });
        }
        let guard = match guard.as_deref() {
            None => None,
            Some("descriptors") => Some(Guard::Descriptors),
            Some("tonic-upgrade") => Some(Guard::TonicUpgrade),
            Some(other) => {
                return Err(RuleError::BadPath {
                    file: file.into(),
                    id,
                    path: other.to_string(),
                    why: "unknown guard (known: descriptors, tonic-upgrade)".into(),
                })
            }
        };
        let action = match to {
            Some(to) => Action::Rename(parse_path(file, &id, &to)?),
            None => Action::Report,
        };
        rules.push(Rule {
            id: format!("step{:02}/{}", raw.step, id),
            step: raw.step,
            from: from_path,
            action,
            side,
            message,
            note,
            unless_file_contains,
            with_google_rpc,
            guard,
        });
    }
    let mut crates: Vec<String> = rules.iter().map(|r| r.from[0].clone()).collect();
    crates.sort();
    crates.dedup();
    let mut idents: Vec<String> = rules
        .iter()
        .flat_map(|r| r.from[1..].iter().cloned())
        .collect();
    idents.sort();
    idents.dedup();
    Ok(StepRules {
        step: raw.step,
        rules,
        crates,
        idents,
    })
}

fn step_from_name(file: &str) -> Option<u8> {
    let name = std::path::Path::new(file).file_stem()?.to_str()?;
    name.strip_prefix("step")?.parse().ok()
}

/// All embedded rule files, checked; index = step number (0 unused).
pub fn load_embedded() -> Result<Vec<StepRules>, RuleError> {
    let mut out: Vec<StepRules> = (0..=9)
        .map(|step| StepRules {
            step,
            ..Default::default()
        })
        .collect();
    for (file, text) in EMBEDDED {
        let r = load_file(file, text)?;
        let step = r.step as usize;
        out[step] = r;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_file_loads() {
        let all = load_embedded().unwrap();
        assert!(all[3].rules.len() > 15);
        assert!(all[7].rules.len() >= 3);
        // Every file in rules/ is embedded: a new file that is not in EMBEDDED would be dead data.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".toml") {
                let key = format!("rules/{name}");
                assert!(
                    EMBEDDED.iter().any(|(f, _)| *f == key),
                    "{key} is not in rules::EMBEDDED"
                );
            }
        }
    }

    #[test]
    fn cancelled_maps_to_canceled() {
        let all = load_embedded().unwrap();
        let p: Vec<String> = ["tonic", "Code", "Cancelled"].map(String::from).to_vec();
        let r = all[3].longest_match(&p, 2).unwrap();
        assert_eq!(
            r.action,
            Action::Rename(
                ["connectrpc", "ErrorCode", "Canceled"]
                    .map(String::from)
                    .to_vec()
            )
        );
        // A member without its own rule falls back to the type rename.
        let p: Vec<String> = ["tonic", "Code", "NotFound"].map(String::from).to_vec();
        assert_eq!(all[3].longest_match(&p, 2).unwrap().id, "step03/code-type");
    }

    fn err(text: &str) -> String {
        load_file("rules/step03.toml", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = err("step = 3\n[[rename]]\nid = \"a\"\nfrom = \"a::B\"\nto = \"c::D\"\nmessage = \"m\"\nbogus = 1\n");
        assert!(e.contains("unknown field `bogus`"), "{e}");
    }

    #[test]
    fn step_is_checked() {
        assert!(err("step = 12\n").contains("not a migration step"));
        assert!(err("step = 4\n").contains("its name says step 3"));
    }

    #[test]
    fn duplicate_ids_and_froms_are_rejected() {
        let two = "step = 3\n[[rename]]\nid = \"a\"\nfrom = \"a::B\"\nto = \"c::D\"\nmessage = \"m\"\n[[report]]\nid = \"a\"\npath = \"a::C\"\nmessage = \"m\"\n";
        assert!(err(two).contains("used twice"));
        let same = "step = 3\n[[rename]]\nid = \"a\"\nfrom = \"a::B\"\nto = \"c::D\"\nmessage = \"m\"\n[[report]]\nid = \"b\"\npath = \"a::B\"\nmessage = \"m\"\n";
        assert!(err(same).contains("both match"));
    }

    #[test]
    fn bad_paths_are_rejected() {
        let bad =
            "step = 3\n[[rename]]\nid = \"a\"\nfrom = \"a::\"\nto = \"c::D\"\nmessage = \"m\"\n";
        assert!(err(bad).contains("is not a Rust path"), "{}", err(bad));
        let short =
            "step = 3\n[[rename]]\nid = \"a\"\nfrom = \"tonic\"\nto = \"c::D\"\nmessage = \"m\"\n";
        assert!(err(short).contains("needs at least"));
        let generic = "step = 3\n[[rename]]\nid = \"a\"\nfrom = \"a::B<T>\"\nto = \"c::D\"\nmessage = \"m\"\n";
        assert!(err(generic).contains("generic"));
    }
}
