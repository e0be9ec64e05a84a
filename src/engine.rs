//! The pure core: (file text, passes) -> (new text, edits, manual items). No IO here, and nothing
//! of the layers above: what to run comes in as [`Passes`] (a step implements it).
//!
//! One file goes through: byte prefilter -> parse (syn, span locations) -> name resolution ->
//! the step's passes, each committing its edits to one [`EditBuffer`] -> apply to the original
//! text -> re-parse. A result that does not parse is an internal error: the file is not written.
//! A BOM is kept (the text after it is what is parsed and edited); CRLF files get CRLF in
//! inserted text.
//!
//! What a file's new code needs beyond the file (a dependency of its crate, a new module) is
//! declared by the passes ([`PassOutput::need`]) and carried in the outcome ([`Need`]); the run
//! layer applies it once per crate after all files. A new module's declaration in a target root
//! is committed as a held edit ([`PassOutput::commit_declaration`]): the outcome then also holds
//! the file's text without it, for a run in which no file needs the module.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::context::CrateCtx;
use crate::edit::{Edit, EditBuffer, LineEnding, Overlap};
use crate::evidence::SideEvidence;
use crate::manifest::NewDep;
use crate::resolve::FileIndex;

/// The comment that keeps a construct (the statement or item on its line or the next) unchanged.
pub const IGNORE_MARKER: &str = "connect-migrate: ignore";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemKind {
    /// Needs a human: the tool knows what to do but cannot do it safely.
    Manual,
    /// The tool could not tell whether the construct is what a rule is about.
    Unsure,
    /// Left alone on request (`// connect-migrate: ignore`), or a generated file.
    Skipped,
}

/// A site the tool did not migrate, with why and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManualItem {
    /// Byte offset in the file's text (after a BOM).
    pub offset: usize,
    pub rule: String,
    pub message: String,
    pub note: String,
    pub kind: ItemKind,
}

/// What a file looks like to a pass.
pub struct FileCtx<'a> {
    /// The text the spans refer to (after a BOM).
    pub text: &'a str,
    pub file: &'a syn::File,
    pub index: &'a FileIndex,
    /// 1-based lines holding the ignore marker.
    pub suppress_lines: BTreeSet<usize>,
    /// Server/client evidence of the whole crate, from a byte scan of its files.
    pub crate_evidence: SideEvidence,
    pub line_ending: LineEnding,
    /// The file's path, when it comes from disk.
    pub path: Option<&'a Path>,
    /// Crate-absolute module path of the file, when known.
    pub module_path: Option<&'a [String]>,
    /// What the step learnt about the file's crate before the files were processed.
    pub crate_ctx: Option<&'a CrateCtx>,
    /// See [`FileMeta::workspace_libs`].
    pub workspace_libs: &'a [String],
}

/// What a file's new code needs beyond the file. The run layer applies each once per crate
/// (a dependency) or per run (a module), whichever files declared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// A dependency of the file's crate (added to its manifest when missing).
    Dependency(NewDep),
    /// The module file `path` of the target whose root file is `root`: created with `text`
    /// when it is not there (`None`: it is); the root's declaration of it is a held edit of the
    /// root ([`PassOutput::commit_declaration`]), kept where some file needs the module.
    Module {
        path: PathBuf,
        root: PathBuf,
        text: Option<Arc<str>>,
    },
}

/// When a declared [`Need`] holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    /// The step wrote this text: the file's new text names it more often than the old one
    /// (edits taken back, by a later pass or an ignore comment, do not count).
    Writes(&'static str),
}

/// The needs the passes declared on one file, and the declarations they hold back.
#[derive(Debug, Default)]
pub struct Needs {
    declared: Vec<(Need, When)>,
    /// Held edits: a module's declaration, kept only where the run needs the module.
    held: Vec<(PathBuf, Edit)>,
    /// The passes run without the held edits (the file's text for a run without the modules).
    without_held: bool,
}

/// Edits and manual items produced by the passes of a step on one file.
pub struct PassOutput {
    pub buffer: EditBuffer,
    pub items: Vec<ManualItem>,
    line_ending: LineEnding,
    /// What the new code needs beyond the file.
    pub needs: Needs,
}

impl PassOutput {
    /// Declare that the file's new code needs `need` (see [`When`]).
    pub fn need(&mut self, need: Need, when: When) {
        if !self
            .needs
            .declared
            .iter()
            .any(|(n, w)| *n == need && *w == when)
        {
            self.needs.declared.push((need, when));
        }
    }

    /// Commit the declaration of the new module `module` (a [`Need::Module`] path) as a held
    /// transaction: it stays in the file's text where some file of the run needs the module,
    /// and goes otherwise (the engine also runs the passes without it: see
    /// [`Outcome::Rewritten::without`]).
    pub fn commit_declaration(&mut self, module: &Path, edits: Vec<Edit>) -> Result<(), Overlap> {
        if self.needs.without_held {
            return Ok(());
        }
        let start = self.needs.held.len();
        for e in &edits {
            self.needs.held.push((module.to_path_buf(), e.clone()));
        }
        let r = self.commit(edits);
        if r.is_err() {
            self.needs.held.truncate(start);
        }
        r
    }

    /// Commit one rule's edits as a transaction (see [`EditBuffer::commit`]); inserted text is
    /// converted to the file's line ending.
    pub fn commit(&mut self, mut edits: Vec<Edit>) -> Result<(), Overlap> {
        if self.line_ending == LineEnding::CrLf {
            for e in &mut edits {
                if e.text.contains('\n') {
                    e.text = self.line_ending.convert(&e.text);
                }
            }
        }
        self.buffer.commit(edits)
    }
}

/// A unit of rewriting logic (one per rule family).
pub trait Pass {
    fn run(&self, ctx: &FileCtx<'_>, out: &mut PassOutput);
}

/// What the engine runs over a file: a byte prefilter and the passes. A step implements it
/// (`steps::Step`); the engine names no step.
pub trait Passes {
    /// Can this file hold a construct the passes rewrite? A byte scan, no parsing.
    /// `crate_ctx`: a context was prepared for the file's crate.
    fn prefilter(&self, text: &[u8], crate_ctx: bool) -> bool;
    /// The passes to run, in order, over a file of a crate with this context.
    fn passes<'a>(&'a self, ctx: Option<&'a CrateCtx>) -> Vec<Box<dyn Pass + 'a>>;
}

/// Where the file sits, for name resolution and side decisions.
#[derive(Clone, Debug, Default)]
pub struct FileMeta {
    /// Crate-absolute module path (`["crate", "service"]`) when known.
    pub module_path: Option<Vec<String>>,
    pub crate_evidence: SideEvidence,
    pub path: Option<PathBuf>,
    pub crate_ctx: Option<Arc<CrateCtx>>,
    /// Library crate names (`platform_server`) of the workspace's members: a path starting
    /// with one names that crate, not a generated `*_server`/`*_client` module.
    pub workspace_libs: Arc<[String]>,
    /// The symbol index of the file's crate (one per crate per step, read as lookups reach
    /// its files), and the file's place in it.
    pub symbols: Option<crate::index::FileSymbols>,
}

/// The outcome for one file.
#[derive(Debug)]
pub enum Outcome {
    /// The prefilter ruled the file out: it cannot hold a construct of the step.
    NotApplicable,
    /// Parsed and checked: these edits (maybe none) and items.
    Rewritten {
        new_text: Option<String>,
        edits: usize,
        items: Vec<ManualItem>,
        /// What the new text needs beyond the file (see [`Need`]).
        needs: Vec<Need>,
        /// The new text declares new modules (held edits): the modules, and the file's outcome
        /// without their declarations, for a run in which no file needs them.
        without: Option<(Vec<PathBuf>, Box<Outcome>)>,
    },
    /// The file does not parse: left untouched.
    ParseError {
        line: usize,
        column: usize,
        message: String,
    },
    /// The rewrite produced text that does not parse (a bug): left untouched.
    InvalidOutput {
        message: String,
        items: Vec<ManualItem>,
    },
}

/// Lines (1-based) that carry the ignore marker.
pub fn suppress_lines(text: &str) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    if memchr::memmem::find(text.as_bytes(), IGNORE_MARKER.as_bytes()).is_none() {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        if let Some(pos) = line.find(IGNORE_MARKER) {
            if line[..pos].trim_end().ends_with("//") || line[..pos].contains("//") {
                out.insert(i + 1);
            }
        }
    }
    out
}

/// Run `step`'s passes over one file's full text (BOM included).
pub fn process(step: &dyn Passes, full_text: &str, meta: &FileMeta) -> Outcome {
    // A file reached through `include!` may name nothing of the step itself (its names come
    // from the including module): always parsed.
    if !meta.symbols.as_ref().is_some_and(|s| s.included())
        && !step.prefilter(full_text.as_bytes(), meta.crate_ctx.is_some())
    {
        return Outcome::NotApplicable;
    }
    let (bom, text) = match full_text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", full_text),
    };
    let outcome = process_parsed(step, text, meta, bom);
    // Spans of this file are no longer needed: keep the per-thread source map from growing with
    // the corpus.
    proc_macro2::extra::invalidate_current_thread_spans();
    outcome
}

/// The byte ranges that `// connect-migrate: ignore` protects: every item, statement, impl
/// item or field that starts on the marker's line or the next one (the outermost one wins).
pub fn suppressed_regions(
    file: &syn::File,
    text: &str,
    lines: &BTreeSet<usize>,
) -> Vec<std::ops::Range<usize>> {
    use syn::spanned::Spanned;
    use syn::visit::Visit;
    struct Collect<'a> {
        text: &'a str,
        lines: &'a BTreeSet<usize>,
        out: Vec<std::ops::Range<usize>>,
    }
    impl Collect<'_> {
        fn consider(&mut self, span: proc_macro2::Span) {
            let r = span.byte_range();
            let line = crate::edit::line_col(self.text, r.start).0;
            let marked =
                self.lines.contains(&line) || self.lines.contains(&(line.saturating_sub(1)));
            if marked
                && !self
                    .out
                    .iter()
                    .any(|o| o.start <= r.start && r.end <= o.end)
            {
                self.out.push(r);
            }
        }
    }
    impl<'ast> Visit<'ast> for Collect<'_> {
        fn visit_item(&mut self, i: &'ast syn::Item) {
            self.consider(i.span());
            syn::visit::visit_item(self, i);
        }
        fn visit_stmt(&mut self, s: &'ast syn::Stmt) {
            self.consider(s.span());
            syn::visit::visit_stmt(self, s);
        }
        fn visit_impl_item(&mut self, i: &'ast syn::ImplItem) {
            self.consider(i.span());
            syn::visit::visit_impl_item(self, i);
        }
        fn visit_field_value(&mut self, f: &'ast syn::FieldValue) {
            self.consider(f.span());
            syn::visit::visit_field_value(self, f);
        }
    }
    let mut c = Collect {
        text,
        lines,
        out: Vec::new(),
    };
    c.visit_file(file);
    c.out
}

/// Take back every edit inside a region the ignore comment protects, and say so.
fn drop_suppressed(file: &syn::File, text: &str, lines: &BTreeSet<usize>, out: &mut PassOutput) {
    let regions = suppressed_regions(file, text, lines);
    if regions.is_empty() {
        return;
    }
    let inside = |e: &Edit| {
        regions
            .iter()
            .any(|r| r.start <= e.range.start && e.range.end <= r.end)
    };
    let (dropped, kept): (Vec<Edit>, Vec<Edit>) =
        out.buffer.edits().iter().cloned().partition(|e| inside(e));
    if dropped.is_empty() {
        return;
    }
    let mut seen = BTreeSet::new();
    for e in &dropped {
        if seen.insert((e.rule.clone(), e.range.start)) {
            out.items.push(ManualItem {
                offset: e.range.start,
                rule: e.rule.clone(),
                message: "skipped: this construct is marked `// connect-migrate: ignore`".into(),
                note: "remove the comment to let the step migrate it".into(),
                kind: ItemKind::Skipped,
            });
        }
    }
    let mut buffer = EditBuffer::new(text.len());
    buffer
        .commit(kept)
        .expect("a subset of disjoint edits is disjoint");
    out.buffer = buffer;
}

fn process_parsed(step: &dyn Passes, text: &str, meta: &FileMeta, bom: &str) -> Outcome {
    let file = match syn::parse_file(text) {
        Ok(f) => f,
        Err(e) => {
            let start = e.span().start();
            return Outcome::ParseError {
                line: start.line,
                column: start.column + 1,
                message: e.to_string(),
            };
        }
    };
    let index = FileIndex::build(&file, meta.module_path.clone());
    // The crate's index reads this file from this parse, not from disk again.
    if let Some(s) = &meta.symbols {
        s.offer(&file, &index);
    }
    let index = index.with_symbols(meta.symbols.as_ref().map(|s| s.index.clone()));
    // A file reached through `include!` resolves through the including module's names too.
    let index = match &meta.symbols {
        Some(s) if s.included() && meta.module_path.is_some() => index.with_outer(),
        _ => index,
    };
    let line_ending = LineEnding::detect(text);
    let ctx = FileCtx {
        text,
        file: &file,
        index: &index,
        suppress_lines: suppress_lines(text),
        crate_evidence: meta.crate_evidence,
        line_ending,
        path: meta.path.as_deref(),
        module_path: meta.module_path.as_deref(),
        crate_ctx: meta.crate_ctx.as_deref(),
        workspace_libs: &meta.workspace_libs,
    };
    let out = run_passes(step, &ctx, meta, false);
    // The held declarations that made it into the text (a later pass may have taken one back).
    let mut held: Vec<PathBuf> = Vec::new();
    for (m, e) in &out.needs.held {
        if out.buffer.edits().contains(e) && !held.contains(m) {
            held.push(m.clone());
        }
    }
    let outcome = finish(text, bom, out);
    if held.is_empty() {
        return outcome;
    }
    match outcome {
        Outcome::Rewritten {
            new_text,
            edits,
            items,
            needs,
            without: _,
        } => {
            // The passes again, without the held edits: exactly what they make of the file when
            // the declarations were never asked for (a held edit may have kept a later one out).
            let without = finish(text, bom, run_passes(step, &ctx, meta, true));
            Outcome::Rewritten {
                new_text,
                edits,
                items,
                needs,
                without: Some((held, Box::new(without))),
            }
        }
        o => o,
    }
}

/// The step's passes over one parsed file (`without_held`: held edits are not committed).
fn run_passes(
    step: &dyn Passes,
    ctx: &FileCtx<'_>,
    meta: &FileMeta,
    without_held: bool,
) -> PassOutput {
    let mut out = PassOutput {
        buffer: EditBuffer::new(ctx.text.len()),
        items: Vec::new(),
        line_ending: ctx.line_ending,
        needs: Needs {
            without_held,
            ..Needs::default()
        },
    };
    for pass in step.passes(meta.crate_ctx.as_deref()) {
        pass.run(ctx, &mut out);
    }
    if !ctx.suppress_lines.is_empty() {
        drop_suppressed(ctx.file, ctx.text, &ctx.suppress_lines, &mut out);
    }
    out
}

/// The outcome of the passes' output on `text`: the new text (re-parsed), the items, and the
/// needs that hold.
fn finish(text: &str, bom: &str, out: PassOutput) -> Outcome {
    let mut items = out.items;
    items.sort_by(|a, b| (a.offset, &a.rule).cmp(&(b.offset, &b.rule)));
    items.dedup();
    let new = (!out.buffer.is_empty())
        .then(|| out.buffer.apply(text))
        .filter(|n| n != text);
    if let Some(n) = &new {
        if let Err(e) = syn::parse_file(n) {
            let start = e.span().start();
            return Outcome::InvalidOutput {
                message: format!(
                    "the rewritten file would not parse ({}:{}: {e}); it was left unchanged",
                    start.line,
                    start.column + 1
                ),
                items,
            };
        }
    }
    let after = new.as_deref().unwrap_or(text);
    let needs = out
        .needs
        .declared
        .into_iter()
        .filter(|(_, when)| match when {
            When::Always => true,
            When::Writes(w) => after.matches(w).count() > text.matches(w).count(),
        })
        .map(|(n, _)| n)
        .collect();
    Outcome::Rewritten {
        edits: if new.is_some() { out.buffer.len() } else { 0 },
        new_text: new.map(|n| format!("{bom}{n}")),
        items,
        needs,
        without: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DepKind;

    /// A pass as a closure.
    type PassFn = Box<dyn Fn(&FileCtx<'_>, &mut PassOutput) + Sync>;

    /// Passes made of closures over the file's text.
    struct Fake(Vec<PassFn>);

    struct FakePass<'a>(&'a PassFn);

    impl Pass for FakePass<'_> {
        fn run(&self, ctx: &FileCtx<'_>, out: &mut PassOutput) {
            (self.0)(ctx, out)
        }
    }

    impl Passes for Fake {
        fn prefilter(&self, _: &[u8], _: bool) -> bool {
            true
        }
        fn passes<'a>(&'a self, _: Option<&'a CrateCtx>) -> Vec<Box<dyn Pass + 'a>> {
            self.0
                .iter()
                .map(|f| Box::new(FakePass(f)) as Box<dyn Pass + 'a>)
                .collect()
        }
    }

    fn futures() -> Need {
        Need::Dependency(NewDep::new("futures", "0.3", &[], DepKind::Normal))
    }

    /// The new text, the needs, and the outcome without the held declarations.
    type Parts = (
        Option<String>,
        Vec<Need>,
        Option<(Vec<PathBuf>, Box<Outcome>)>,
    );

    fn rewritten(o: Outcome) -> Parts {
        match o {
            Outcome::Rewritten {
                new_text,
                needs,
                without,
                ..
            } => (new_text, needs, without),
            o => panic!("{o:?}"),
        }
    }

    /// A pass that replaces `a()` by `futures::a()` (the text's first call) and declares
    /// `futures` when it writes `futures::`.
    fn writes_futures() -> PassFn {
        Box::new(|ctx, out| {
            if let Some(at) = ctx.text.find("a()") {
                let _ = out.commit(vec![Edit::replace(at..at + 1, "futures::a", "t/x")]);
            }
            out.need(futures(), When::Writes("futures::"));
        })
    }

    /// A need declared with a witness holds where the new text names the witness more often
    /// than the old one: not when nothing was written, not when the edit was taken back by an
    /// ignore comment.
    #[test]
    fn a_need_holds_where_the_new_text_shows_it() {
        let step = Fake(vec![writes_futures()]);
        let meta = FileMeta::default();
        let (new, needs, without) = rewritten(process(&step, "fn f() { a(); }\n", &meta));
        assert_eq!(new.as_deref(), Some("fn f() { futures::a(); }\n"));
        assert_eq!(needs, vec![futures()]);
        assert!(without.is_none());
        // Nothing to write.
        let (new, needs, _) = rewritten(process(&step, "fn f() { b(); }\n", &meta));
        assert_eq!((new, needs), (None, vec![]));
        // Already named, nothing more written.
        let (_, needs, _) = rewritten(process(&step, "use futures::b;\nfn f() {}\n", &meta));
        assert!(needs.is_empty());
        // Written, then taken back by the ignore comment.
        let text = "fn f() {\n    // connect-migrate: ignore\n    a();\n}\n";
        let (new, needs, _) = rewritten(process(&step, text, &meta));
        assert_eq!((new, needs), (None, vec![]));
        // `When::Always` holds without an edit.
        let always = Fake(vec![Box::new(|_: &FileCtx<'_>, out: &mut PassOutput| {
            out.need(futures(), When::Always)
        })]);
        let (_, needs, _) = rewritten(process(&always, "fn f() {}\n", &meta));
        assert_eq!(needs, vec![futures()]);
    }

    /// A held declaration is in the new text, and the outcome also holds the file's text
    /// without it: what the passes make of the file without the declaration, an edit that the
    /// declaration kept out included.
    #[test]
    fn a_held_declaration_comes_with_the_text_without_it() {
        let module = PathBuf::from("src/m.rs");
        let m = module.clone();
        let declare: PassFn = Box::new(move |ctx, out| {
            let at = ctx.text.find('\n').unwrap();
            let _ = out.commit_declaration(&m, vec![Edit::insert(at, "\nmod m;", "t/decl")]);
        });
        // A later edit over the declaration's place (the whole first line).
        let over: PassFn = Box::new(|ctx, out| {
            let end = ctx.text.find('\n').unwrap() + 1;
            let _ = out.commit(vec![Edit::replace(0..end, "use x::Z;\n", "t/over")]);
        });
        let meta = FileMeta::default();
        let text = "use x::Y;\nfn f() { a(); }\n";
        let step = Fake(vec![declare, writes_futures(), over]);
        let (new, needs, without) = rewritten(process(&step, text, &meta));
        assert_eq!(
            new.as_deref(),
            Some("use x::Y;\nmod m;\nfn f() { futures::a(); }\n")
        );
        assert_eq!(needs, vec![futures()]);
        let (modules, without) = without.expect("the text without the declaration");
        assert_eq!(modules, vec![module]);
        let (new, needs, again) = rewritten(*without);
        assert_eq!(
            new.as_deref(),
            Some("use x::Z;\nfn f() { futures::a(); }\n")
        );
        assert_eq!(needs, vec![futures()]);
        assert!(again.is_none());
    }
}
