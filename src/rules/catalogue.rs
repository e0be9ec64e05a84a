//! The catalogue of every rule id the tool can emit, with its message and note.
//!
//! Two sources make it: the rules of `rules/stepNN.toml` (renames and reports, each with its own
//! message and note) and the code rules of `rules/code/*.toml`, the ids that a step's code
//! emits (`step02/native-handler`, `step09/dep-kept`, ...). `plan`, `--format json` and SARIF
//! describe the rules of a report from here (SARIF `tool.driver.rules[]` carry the message as
//! `shortDescription` and the note as `help`).
//!
//! A code rule is one entry of `rules/code/stepNN.toml`:
//! ```toml
//! step = 2
//!
//! [[rule]]
//! id = "native-handler"   # emitted as step02/native-handler
//! message = "..."         # one line: what the rule is about
//! note = "..."            # optional: what a human does when it is reported
//! ```
//! `rules/code/common.toml` holds the ids of the tool itself (`[[rule]]`, the full id) and those
//! every step can emit (`[[every_step]]`, `stepNN/<id>` for NN in 1..=9). The test
//! `every_emitted_id_is_in_the_catalogue` (in `emitted.rs` beside this file) reads the sources and
//! fails when code emits an id that has no entry, and when an entry is emitted by nothing.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

#[cfg(test)]
mod emitted;

/// The embedded code-rule files.
pub const EMBEDDED_CODE: &[(&str, &str)] = &[
    (
        "rules/code/common.toml",
        include_str!("../../rules/code/common.toml"),
    ),
    (
        "rules/code/step01.toml",
        include_str!("../../rules/code/step01.toml"),
    ),
    (
        "rules/code/step02.toml",
        include_str!("../../rules/code/step02.toml"),
    ),
    (
        "rules/code/step03.toml",
        include_str!("../../rules/code/step03.toml"),
    ),
    (
        "rules/code/step04.toml",
        include_str!("../../rules/code/step04.toml"),
    ),
    (
        "rules/code/step05.toml",
        include_str!("../../rules/code/step05.toml"),
    ),
    (
        "rules/code/step06.toml",
        include_str!("../../rules/code/step06.toml"),
    ),
    (
        "rules/code/step07.toml",
        include_str!("../../rules/code/step07.toml"),
    ),
    (
        "rules/code/step08.toml",
        include_str!("../../rules/code/step08.toml"),
    ),
    (
        "rules/code/step09.toml",
        include_str!("../../rules/code/step09.toml"),
    ),
];

/// What the catalogue says of one rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    pub id: String,
    /// One line: what the rule is about.
    pub message: String,
    /// What a human should know or do (may be empty).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
    /// Where it is defined: a rename or report of `rules/stepNN.toml`, or `code`.
    pub kind: &'static str,
}

/// Every rule id, by id.
#[derive(Debug, Default)]
pub struct Catalogue {
    rules: BTreeMap<String, RuleInfo>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeFile {
    /// Absent in `common.toml`.
    step: Option<u8>,
    #[serde(default)]
    rule: Vec<CodeDef>,
    #[serde(default)]
    every_step: Vec<CodeDef>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeDef {
    id: String,
    message: String,
    #[serde(default)]
    note: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("{file}: {source}")]
    Toml {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error(transparent)]
    Rules(#[from] super::RuleError),
    #[error("{file}: step {step:?} does not match the file name (stepNN.toml holds `step = NN`, common.toml none)")]
    Step { file: String, step: Option<u8> },
    #[error("{file}: `{id}` is in the catalogue twice: keep one")]
    Duplicate { file: String, id: String },
    #[error("{file}: `{id}` is not an id (lowercase words joined by `-`; in common.toml's [[rule]], `tool/word`)")]
    BadId { file: String, id: String },
    #[error("{file}: `{id}` has an empty message: say in one line what the rule is about")]
    NoMessage { file: String, id: String },
    #[error("{file}: `[[every_step]]` belongs in common.toml")]
    EveryStepOutsideCommon { file: String },
}

/// `native-handler`, or a family `compile-*` (ids formatted with a code: `compile-E0599`).
fn is_word_id(id: &str) -> bool {
    let id = id.strip_suffix("-*").unwrap_or(id);
    !id.is_empty()
        && !id.starts_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl Catalogue {
    /// The catalogue of the rule files embedded in the binary.
    pub fn load_embedded() -> Result<Catalogue, CatalogueError> {
        let steps = super::load_embedded()?;
        Self::load(&steps, EMBEDDED_CODE)
    }

    /// The catalogue of `steps` (the checked TOML rules) and of the code-rule files `code`
    /// (`(file name, text)`).
    pub fn load(
        steps: &[super::StepRules],
        code: &[(&str, &str)],
    ) -> Result<Catalogue, CatalogueError> {
        let mut c = Catalogue::default();
        for s in steps {
            for r in &s.rules {
                let kind = match r.action {
                    super::Action::Rename(_) => "rename",
                    super::Action::Report => "report",
                };
                c.insert(
                    &format!("rules/step{:02}.toml", s.step),
                    r.id.clone(),
                    &r.message,
                    &r.note,
                    kind,
                )?;
            }
        }
        for (file, text) in code {
            let raw: CodeFile = toml::from_str(text).map_err(|source| CatalogueError::Toml {
                file: file.to_string(),
                source,
            })?;
            let stem = std::path::Path::new(file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("");
            let named: Option<u8> = stem.strip_prefix("step").and_then(|n| n.parse().ok());
            let common = stem == "common";
            if raw.step != named || (!common && named.is_none_or(|n| !(1..=9).contains(&n))) {
                return Err(CatalogueError::Step {
                    file: file.to_string(),
                    step: raw.step,
                });
            }
            if !common && !raw.every_step.is_empty() {
                return Err(CatalogueError::EveryStepOutsideCommon {
                    file: file.to_string(),
                });
            }
            for d in &raw.rule {
                let id = match raw.step {
                    Some(n) if is_word_id(&d.id) => format!("step{n:02}/{}", d.id),
                    None if d
                        .id
                        .split_once('/')
                        .is_some_and(|(a, b)| is_word_id(a) && is_word_id(b)) =>
                    {
                        d.id.clone()
                    }
                    _ => {
                        return Err(CatalogueError::BadId {
                            file: file.to_string(),
                            id: d.id.clone(),
                        })
                    }
                };
                c.insert(file, id, &d.message, &d.note, "code")?;
            }
            for d in &raw.every_step {
                if !is_word_id(&d.id) {
                    return Err(CatalogueError::BadId {
                        file: file.to_string(),
                        id: d.id.clone(),
                    });
                }
                for n in 1..=9 {
                    c.insert(
                        file,
                        format!("step{n:02}/{}", d.id),
                        &d.message,
                        &d.note,
                        "code",
                    )?;
                }
            }
        }
        Ok(c)
    }

    fn insert(
        &mut self,
        file: &str,
        id: String,
        message: &str,
        note: &str,
        kind: &'static str,
    ) -> Result<(), CatalogueError> {
        if message.trim().is_empty() {
            return Err(CatalogueError::NoMessage {
                file: file.into(),
                id,
            });
        }
        if self.rules.contains_key(&id) {
            return Err(CatalogueError::Duplicate {
                file: file.into(),
                id,
            });
        }
        self.rules.insert(
            id.clone(),
            RuleInfo {
                id,
                message: message.trim().to_string(),
                note: note.trim().to_string(),
                kind,
            },
        );
        Ok(())
    }

    /// The entry of `id`: its own, or its family's (`step03/compile-*` for
    /// `step03/compile-E0599`).
    pub fn get(&self, id: &str) -> Option<&RuleInfo> {
        self.rules.get(id).or_else(|| {
            self.rules.iter().find_map(|(k, v)| {
                let family = k.strip_suffix('*')?;
                (id.len() > family.len() && id.starts_with(family)).then_some(v)
            })
        })
    }

    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &RuleInfo> {
        self.rules.values()
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The entries of `ids` (each once, sorted); an id without an entry gets a message saying so
    /// (a bug the test of this module catches before a release).
    pub fn describe<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<RuleInfo> {
        let mut ids: Vec<&str> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|id| {
                let found = self.get(id).map(|r| RuleInfo {
                    id: id.to_string(),
                    ..r.clone()
                });
                found.unwrap_or_else(|| RuleInfo {
                    id: id.to_string(),
                    message: "(not in the catalogue)".into(),
                    note: String::new(),
                    kind: "code",
                })
            })
            .collect()
    }
}

/// The embedded catalogue, loaded once. The embedded files are checked by this module's tests,
/// so a load error here is a bug of the build.
pub fn embedded() -> &'static Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        Catalogue::load_embedded().unwrap_or_else(|e| panic!("the embedded rule catalogue: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_catalogue_loads_and_holds_every_code_file() {
        let c = Catalogue::load_embedded().unwrap();
        // TOML rules and code rules alike.
        assert_eq!(c.get("step03/code-type").unwrap().kind, "rename");
        assert_eq!(c.get("step02/native-handler").unwrap().kind, "code");
        assert!(c.contains("connect-migrate/file"));
        for n in 1..=9 {
            assert!(c.contains(&format!("step{n:02}/change")), "step {n}");
        }
        // Every file of rules/code/ is embedded.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/code");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let key = format!("rules/code/{name}");
            assert!(
                EMBEDDED_CODE.iter().any(|(f, _)| *f == key),
                "{key} is not in catalogue::EMBEDDED_CODE"
            );
        }
    }

    fn err(file: &str, text: &str) -> String {
        Catalogue::load(&[], &[(file, text)])
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn code_files_are_checked() {
        let ok = "step = 2\n[[rule]]\nid = \"a-b\"\nmessage = \"m\"\n";
        let c = Catalogue::load(&[], &[("rules/code/step02.toml", ok)]).unwrap();
        assert_eq!(c.get("step02/a-b").unwrap().message, "m");
        assert!(err("rules/code/step03.toml", ok).contains("does not match the file name"));
        assert!(err(
            "rules/code/step02.toml",
            "step = 2\n[[rule]]\nid = \"a\"\nmessage = \"m\"\nbogus = 1\n"
        )
        .contains("unknown field `bogus`"));
        assert!(err(
            "rules/code/step02.toml",
            "step = 2\n[[rule]]\nid = \"A\"\nmessage = \"m\"\n"
        )
        .contains("is not an id"));
        assert!(err(
            "rules/code/step02.toml",
            "step = 2\n[[rule]]\nid = \"a\"\nmessage = \" \"\n"
        )
        .contains("empty message"));
        let twice = "step = 2\n[[rule]]\nid = \"a\"\nmessage = \"m\"\n[[rule]]\nid = \"a\"\nmessage = \"n\"\n";
        assert!(err("rules/code/step02.toml", twice).contains("twice"));
        assert!(err(
            "rules/code/step02.toml",
            "step = 2\n[[every_step]]\nid = \"a\"\nmessage = \"m\"\n"
        )
        .contains("belongs in common.toml"));
        let every = "[[every_step]]\nid = \"a\"\nmessage = \"m\"\n[[rule]]\nid = \"t/x\"\nmessage = \"m\"\n";
        let c = Catalogue::load(&[], &[("rules/code/common.toml", every)]).unwrap();
        assert_eq!(c.len(), 10);
        assert!(c.contains("step09/a") && c.contains("t/x"));
    }

    #[test]
    fn a_code_rule_may_not_shadow_a_toml_rule() {
        let steps = crate::rules::load_embedded().unwrap();
        let shadow = "step = 3\n[[rule]]\nid = \"code-type\"\nmessage = \"m\"\n";
        let e = Catalogue::load(&steps, &[("rules/code/step03.toml", shadow)]).unwrap_err();
        assert!(e
            .to_string()
            .contains("`step03/code-type` is in the catalogue twice"));
    }

    #[test]
    fn describe_lists_each_id_once_and_names_the_unknown() {
        let c = embedded();
        let d = c.describe(["step03/code-type", "step03/code-type", "step99/nothing"]);
        assert_eq!(d.len(), 2);
        assert_eq!(d[0].id, "step03/code-type");
        assert_eq!(d[1].message, "(not in the catalogue)");
        // A family entry describes each of its ids.
        let d = c.describe(["step03/compile-E0599"]);
        assert_eq!(d[0].id, "step03/compile-E0599");
        assert_eq!(d[0].message, c.get("step03/compile-*").unwrap().message);
        assert!(!c.contains("step03/compile-"));
    }
}
