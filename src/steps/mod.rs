//! The nine migration steps, in order: [`STEPS`].
//!
//! Each step is a module named with its number (`step01/` .. `step09/`) that exports one
//! [`Definition`] (`stepNN/definition.rs`): its number, title and limits, the byte triggers of its
//! prefilter, its work on the workspace before the files (`prepare`) and the passes it runs on
//! each file after the generic rename pass of its rules (`rules/stepNN.toml`); its code rules are listed in `rules/code/stepNN.toml`. No step imports
//! another: what several steps share lives in [`common`], [`handlers`] (the handler pass of
//! steps 3 and 4), [`details`] (tonic-types details, steps 3 and 7) and [`metadata`].
//!
//! To add a code rule to a step, change that step's module; its definition lists its passes.

pub mod common;
pub mod details;
pub mod handlers;
pub mod metadata;
pub mod step01;
pub mod step02;
pub mod step03;
pub mod step04;
pub mod step05;
pub mod step06;
pub mod step07;
pub mod step08;
pub mod step09;

use aho_corasick::AhoCorasick;

use crate::context::CrateCtx;
use crate::engine::Pass;
use crate::rules::rename::RenamePass;
use crate::rules::StepRules;
use crate::workspace::Workspace;
use common::prepare::Prepared;

/// The steps, in migration order.
pub const STEPS: [&Definition; 9] = [
    &step01::DEFINITION,
    &step02::DEFINITION,
    &step03::DEFINITION,
    &step04::DEFINITION,
    &step05::DEFINITION,
    &step06::DEFINITION,
    &step07::DEFINITION,
    &step08::DEFINITION,
    &step09::DEFINITION,
];

/// Everything about one step but its rules (those are data: `rules/stepNN.toml`).
pub struct Definition {
    pub number: u8,
    /// What the step does, as the README's table says it.
    pub title: &'static str,
    /// What the step does not do yet, for `plan` and the run summary.
    pub limits: &'static str,
    /// Where the rename pass of the step's rules runs.
    pub renames: Renames,
    /// Which files can hold a construct of the step (a byte scan).
    pub triggers: Triggers,
    /// The work on the whole workspace before the files.
    pub prepare: Prepare,
    /// The step's own passes over a file of a crate with this context (after the renames).
    pub passes: for<'a> fn(Option<&'a CrateCtx>) -> Vec<Box<dyn Pass + 'a>>,
}

/// Where a step's rename rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Renames {
    /// In every file the prefilter lets through.
    Always,
    /// Only in the crates its `prepare` gave a context. Step 1's renames (prost to buffa)
    /// belong to the crates whose messages the step moves to buffa (a prepared context: own
    /// codegen, or a workspace crate's). Elsewhere buffa is no dependency and the messages stay
    /// prost's (checked-in stubs, or another crate's: listed by prepare as
    /// `step01/stubs-elsewhere`), so `prost::Message` must stay too.
    WithCrateCtx,
}

/// The byte triggers of a step's prefilter. A file of a crate with a prepared context always
/// goes through (step 1 then reads every file of the crate: messages are used under names no
/// byte scan can guess).
pub struct Triggers {
    /// Crate names besides the rules' own: a file must name one of them...
    pub crates: &'static [&'static str],
    /// ... and one of these identifiers or the rules' own.
    pub idents: &'static [&'static str],
    /// A file naming `connect_shim` goes through (the step works on the shim's adapters).
    pub connect_shim: bool,
    /// The step's own byte test, instead of crates and identifiers.
    pub own: Option<fn(&[u8]) -> bool>,
}

impl Triggers {
    /// The rules' crates and identifiers alone.
    pub const RULES: Triggers = Triggers {
        crates: &[],
        idents: &[],
        connect_shim: false,
        own: None,
    };
}

/// A step's work on the whole workspace before the files.
pub enum Prepare {
    /// From the workspace alone.
    Workspace(fn(&Workspace) -> Prepared),
    /// With the step (its rules).
    Step(fn(&Step, &Workspace) -> Prepared),
    /// Starting from step 1's analysis of the workspace (the crates' schemas and modules).
    AfterStep1(fn(&Step, &Workspace, Prepared) -> Prepared),
}

/// The checks in code the rules of every step may depend on.
const RULE_CHECKS: crate::rules::Checks = crate::rules::Checks {
    details_converts: details::converts,
    descriptors_migrate: step01::descriptors::migrates,
    tonic_upgrade: step01::upgrade::change_moves,
};

/// One migration step, ready to run: its definition and its rules.
pub struct Step {
    pub number: u8,
    pub rules: StepRules,
    /// What the step does not do yet, for `plan` and the run summary.
    pub limits: &'static str,
    definition: &'static Definition,
    crates: Vec<Vec<u8>>,
    idents: Option<AhoCorasick>,
}

impl Step {
    pub fn new(definition: &'static Definition, rules: StepRules) -> Step {
        let t = &definition.triggers;
        let mut crates: Vec<Vec<u8>> = rules.crates.iter().map(|c| c.as_bytes().to_vec()).collect();
        crates.extend(t.crates.iter().map(|c| c.as_bytes().to_vec()));
        let mut idents_list = rules.idents.clone();
        idents_list.extend(t.idents.iter().map(|i| i.to_string()));
        let idents = if idents_list.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&idents_list).expect("identifiers build an automaton"))
        };
        Step {
            number: definition.number,
            rules,
            limits: definition.limits,
            definition,
            crates,
            idents,
        }
    }

    pub fn title(&self) -> &'static str {
        self.definition.title
    }

    /// Can this file hold a construct of the step? A byte scan, no parsing (see [`Triggers`]).
    /// `crate_ctx`: the step prepared context for the file's crate.
    pub fn prefilter(&self, text: &[u8], crate_ctx: bool) -> bool {
        if crate_ctx {
            return true;
        }
        let t = &self.definition.triggers;
        if t.connect_shim && memchr::memmem::find(text, b"connect_shim").is_some() {
            return true;
        }
        if let Some(own) = t.own {
            return own(text);
        }
        let names_crate = self
            .crates
            .iter()
            .any(|c| memchr::memmem::find(text, c).is_some());
        names_crate && self.idents.as_ref().is_some_and(|ac| ac.is_match(text))
    }

    /// The rename pass of the step's rules, then the step's own passes.
    pub fn passes<'a>(&'a self, ctx: Option<&'a CrateCtx>) -> Vec<Box<dyn Pass + 'a>> {
        let mut v: Vec<Box<dyn Pass + 'a>> = Vec::new();
        if self.definition.renames == Renames::Always || ctx.is_some() {
            v.push(Box::new(RenamePass {
                rules: &self.rules,
                checks: RULE_CHECKS,
            }));
        }
        v.extend((self.definition.passes)(ctx));
        v
    }

    /// Work on the whole workspace before the files: per-crate context and manifest changes.
    pub fn prepare(&self, ws: &Workspace) -> Prepared {
        match self.definition.prepare {
            Prepare::Workspace(f) => f(ws),
            Prepare::Step(f) => f(self, ws),
            Prepare::AfterStep1(f) => f(self, ws, step01::prepare(ws)),
        }
    }
}

impl crate::engine::Passes for Step {
    fn prefilter(&self, text: &[u8], crate_ctx: bool) -> bool {
        Step::prefilter(self, text, crate_ctx)
    }
    fn passes<'a>(&'a self, ctx: Option<&'a CrateCtx>) -> Vec<Box<dyn Pass + 'a>> {
        Step::passes(self, ctx)
    }
}

/// All steps, in order, with their rules.
pub fn all() -> anyhow::Result<Vec<Step>> {
    let rules = crate::rules::load_embedded()?;
    Ok(rules
        .into_iter()
        .skip(1)
        .zip(STEPS)
        .map(|(r, d)| Step::new(d, r))
        .collect())
}

/// The step with this number (1..=9).
pub fn get(steps: &[Step], n: u8) -> &Step {
    &steps[n as usize - 1]
}

/// Removals of the private imports a pass's edits (so far in `out`) left unused: a name whose
/// every use outside `use` items lay in text the pass rewrote, or a leaf `also` accepts (by its
/// full path) that nothing outside the rewritten text names. A name an edit writes stays.
/// Removals overlapping an edit are dropped.
pub fn emptied_import_removals(
    file: &crate::engine::FileCtx<'_>,
    out: &crate::engine::PassOutput,
    also: impl Fn(&[&str]) -> bool,
    rule: &str,
) -> Vec<crate::edit::Edit> {
    use std::collections::{HashMap, HashSet};
    let touched: Vec<std::ops::Range<usize>> =
        out.buffer.edits().iter().map(|e| e.range.clone()).collect();
    if touched.is_empty() {
        return Vec::new();
    }
    let written = |name: &str| {
        out.buffer.edits().iter().any(|e| {
            let t = e.text.as_bytes();
            memchr::memmem::find_iter(t, name.as_bytes()).any(|i| {
                let id = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
                let end = i + name.len();
                (i == 0 || !id(t[i - 1])) && (end >= t.len() || !id(t[end]))
            })
        })
    };
    let emptied: HashSet<String> = {
        let mut toks = Vec::new();
        common::tokens::flatten(quote::ToTokens::to_token_stream(file.file), &mut toks);
        let in_use = |at: usize| file.index.use_items.iter().any(|u| u.range.contains(&at));
        let mut seen: HashMap<&str, bool> = HashMap::new();
        for t in &toks {
            let common::tokens::Tok::Ident(n, r) = t else {
                continue;
            };
            if in_use(r.start) {
                continue;
            }
            let inside = touched.iter().any(|e| e.start <= r.start && r.end <= e.end);
            *seen.entry(n.as_str()).or_insert(true) &= inside;
        }
        // A trait's import may serve method calls elsewhere even when its name is gone: the
        // usual trait names are never taken for emptied.
        const TRAITS: &[&str] = &[
            "Message",
            "Name",
            "Service",
            "Layer",
            "Interceptor",
            "Future",
            "Stream",
            "Sink",
            "Read",
            "Write",
            "Buf",
            "BufMut",
            "Iterator",
            "IntoIterator",
            "FromIterator",
            "Extend",
            "Borrow",
            "Deref",
            "Display",
            "Debug",
            "Error",
            "Hash",
            "Body",
            "Serialize",
            "Deserialize",
            "Encode",
            "Decode",
            "View",
            "MessageView",
            "Executor",
        ];
        seen.into_iter()
            .filter(|(n, all)| *all && !n.ends_with("Ext") && !TRAITS.contains(n))
            .map(|(n, _)| n.to_string())
            .collect()
    };
    crate::rules::rename::unused_import_removals_named(
        file.file,
        file.index,
        file.text,
        &touched,
        |segs, name| (emptied.contains(name) || also(segs)) && !written(name),
        rule,
    )
    .into_iter()
    .filter(|e| {
        !touched
            .iter()
            .any(|r| r.start < e.range.end && e.range.start < r.end)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use crate::engine::{process, FileMeta, Outcome};
    use std::sync::Arc;

    #[test]
    fn the_list_holds_the_nine_steps_in_order() {
        let numbers: Vec<u8> = super::STEPS.iter().map(|d| d.number).collect();
        assert_eq!(numbers, (1..=9).collect::<Vec<u8>>());
        let all = super::all().unwrap();
        assert_eq!(all.len(), 9);
        assert!(all
            .iter()
            .enumerate()
            .all(|(i, s)| s.number as usize == i + 1));
    }

    fn step1(text: &str, ctx: Option<crate::context::CrateCtx>) -> String {
        let s = super::all().unwrap().into_iter().next().unwrap();
        let meta = FileMeta {
            crate_ctx: ctx.map(Arc::new),
            ..Default::default()
        };
        match process(&s, text, &meta) {
            Outcome::Rewritten {
                new_text: Some(t), ..
            } => t,
            _ => text.to_string(),
        }
    }

    /// Before: `use prost::Message as _;` became `use buffa::Message as _;` in a crate whose
    /// stubs are checked in (or come from another crate), where step 1 adds no buffa
    /// dependency and the messages stay prost's: E0432 and E0599 on `decode`. After: such a
    /// crate keeps prost; a crate whose messages step 1 moves still gets the rename.
    #[test]
    fn prost_renames_only_where_step_1_moves_the_messages() {
        let src = "use prost::Message as _;\nfn f(b: &[u8]) { let _ = X::decode(b); }\n";
        assert_eq!(step1(src, None), src);
        assert_eq!(
            step1(src, Some(Default::default())),
            src.replace("prost::Message", "buffa::Message")
        );
    }

    /// Before: a custom tonic codec wrapping `ProstCodec<T, U>` (bounds `T: Message`) got
    /// `use buffa::Message;` and no longer compiled (E0277: ProstCodec wants prost's trait).
    /// After: code written against prost's codec keeps prost's trait.
    #[test]
    fn prost_codec_code_keeps_prost_message() {
        let src = "use prost::Message;\nuse tonic_prost::ProstCodec;\npub struct C<T>(ProstCodec<T, T>);\nfn f<T: Message>() {}\n";
        assert_eq!(step1(src, Some(Default::default())), src);
    }
}
