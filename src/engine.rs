//! The pure core: (file text, passes) -> (new text, edits, manual items). No IO here, and nothing
//! of the layers above: what to run comes in as [`Passes`] (a step implements it).
//!
//! One file goes through: byte prefilter -> parse (syn, span locations) -> name resolution ->
//! the step's passes, each committing its edits to one [`EditBuffer`] -> apply to the original
//! text -> re-parse. A result that does not parse is an internal error: the file is not written.
//! A BOM is kept (the text after it is what is parsed and edited); CRLF files get CRLF in
//! inserted text.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::context::CrateCtx;
use crate::edit::{Edit, EditBuffer, LineEnding, Overlap};
use crate::evidence::SideEvidence;
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

/// Edits and manual items produced by the passes of a step on one file.
pub struct PassOutput {
    pub buffer: EditBuffer,
    pub items: Vec<ManualItem>,
    line_ending: LineEnding,
}

impl PassOutput {
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
    if !step.prefilter(full_text.as_bytes(), meta.crate_ctx.is_some()) {
        return Outcome::NotApplicable;
    }
    let (bom, text) = match full_text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", full_text),
    };
    let outcome = process_parsed(step, text, meta).map(|(new, edits, items)| {
        let new_text = new.map(|n| format!("{bom}{n}"));
        (new_text, edits, items)
    });
    // Spans of this file are no longer needed: keep the per-thread source map from growing with
    // the corpus.
    proc_macro2::extra::invalidate_current_thread_spans();
    match outcome {
        Ok((new_text, edits, items)) => Outcome::Rewritten {
            new_text,
            edits,
            items,
        },
        Err(o) => o,
    }
}

type Done = (Option<String>, usize, Vec<ManualItem>);

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

fn process_parsed(step: &dyn Passes, text: &str, meta: &FileMeta) -> Result<Done, Outcome> {
    let file = syn::parse_file(text).map_err(|e| {
        let start = e.span().start();
        Outcome::ParseError {
            line: start.line,
            column: start.column + 1,
            message: e.to_string(),
        }
    })?;
    let index = FileIndex::build(&file, meta.module_path.clone());
    // The crate's index reads this file from this parse, not from disk again.
    if let Some(s) = &meta.symbols {
        s.offer(&file, &index);
    }
    let index = index.with_symbols(meta.symbols.as_ref().map(|s| s.index.clone()));
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
    let mut out = PassOutput {
        buffer: EditBuffer::new(text.len()),
        items: Vec::new(),
        line_ending,
    };
    for pass in step.passes(meta.crate_ctx.as_deref()) {
        pass.run(&ctx, &mut out);
    }
    if !ctx.suppress_lines.is_empty() {
        drop_suppressed(&file, text, &ctx.suppress_lines, &mut out);
    }
    let mut items = out.items;
    items.sort_by(|a, b| (a.offset, &a.rule).cmp(&(b.offset, &b.rule)));
    items.dedup();
    if out.buffer.is_empty() {
        return Ok((None, 0, items));
    }
    let new = out.buffer.apply(text);
    if new == text {
        return Ok((None, 0, items));
    }
    if let Err(e) = syn::parse_file(&new) {
        let start = e.span().start();
        return Err(Outcome::InvalidOutput {
            message: format!(
                "the rewritten file would not parse ({}:{}: {e}); it was left unchanged",
                start.line,
                start.column + 1
            ),
            items,
        });
    }
    Ok((Some(new), out.buffer.len(), items))
}
