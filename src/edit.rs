//! Edits: byte-range replacements on the original text of one file.
//!
//! A rewrite never re-prints a file. Every rule produces [`Edit`]s (a byte range of the original
//! text plus its new text, tagged with the rule that made it), and one [`EditBuffer`] per file
//! keeps them sorted and disjoint.
//!
//! # Overlap policy
//! - Two edits conflict when their ranges intersect: `a.start < b.end && b.start < a.end`.
//! - An insertion (an empty range at `p`) conflicts with a replacement `[s, e)` only when
//!   `s < p < e`; an insertion at either end of a replacement is adjacent, not overlapping.
//! - Several insertions at the same position are kept in the order they were committed.
//! - An edit identical to one already in the buffer (same range, same text) is merged: two rules
//!   asking for the same change is agreement, not conflict.
//! - A rule commits its edits as one transaction ([`EditBuffer::commit`]): if any of them conflicts
//!   with the buffer or with each other, none is applied and the rule's site is reported instead.

use std::ops::Range;

/// One replacement of `range` (byte offsets into the original text) by `text`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
    /// The rule id that produced the edit (for reports and debugging).
    pub rule: String,
}

impl Edit {
    pub fn replace(range: Range<usize>, text: impl Into<String>, rule: &str) -> Edit {
        Edit {
            range,
            text: text.into(),
            rule: rule.to_string(),
        }
    }

    pub fn insert(at: usize, text: impl Into<String>, rule: &str) -> Edit {
        Edit::replace(at..at, text, rule)
    }

    pub fn delete(range: Range<usize>, rule: &str) -> Edit {
        Edit::replace(range, "", rule)
    }

    fn is_insert(&self) -> bool {
        self.range.is_empty()
    }

    fn same_change(&self, other: &Edit) -> bool {
        self.range == other.range && self.text == other.text
    }
}

/// Do `a` and `b` conflict under the overlap policy of this module?
pub fn conflicts(a: &Edit, b: &Edit) -> bool {
    if a.same_change(b) {
        return false;
    }
    match (a.is_insert(), b.is_insert()) {
        (true, true) => false,
        (true, false) => b.range.start < a.range.start && a.range.start < b.range.end,
        (false, true) => a.range.start < b.range.start && b.range.start < a.range.end,
        (false, false) => a.range.start < b.range.end && b.range.start < a.range.end,
    }
}

/// Why a transaction was rolled back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("edit {new:?} by `{new_rule}` overlaps edit {old:?} by `{old_rule}`")]
pub struct Overlap {
    pub new: Range<usize>,
    pub new_rule: String,
    pub old: Range<usize>,
    pub old_rule: String,
}

/// The sorted, disjoint set of edits for one file.
#[derive(Debug, Default, Clone)]
pub struct EditBuffer {
    /// Sorted by `(start, end)`; insertions at one position stay in commit order.
    edits: Vec<Edit>,
    len: usize,
}

impl EditBuffer {
    /// A buffer for a text of `len` bytes (edits past the end are rejected by `commit`).
    pub fn new(len: usize) -> EditBuffer {
        EditBuffer {
            edits: Vec::new(),
            len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    pub fn len(&self) -> usize {
        self.edits.len()
    }

    pub fn edits(&self) -> &[Edit] {
        &self.edits
    }

    /// Commit all of `batch` or none of it (per-rule commit/rollback).
    pub fn commit(&mut self, batch: Vec<Edit>) -> Result<(), Overlap> {
        for (i, e) in batch.iter().enumerate() {
            assert!(
                e.range.start <= e.range.end && e.range.end <= self.len,
                "edit {:?} by `{}` outside the text (len {})",
                e.range,
                e.rule,
                self.len
            );
            for other in self.edits.iter().chain(batch[..i].iter()) {
                if conflicts(e, other) {
                    return Err(Overlap {
                        new: e.range.clone(),
                        new_rule: e.rule.clone(),
                        old: other.range.clone(),
                        old_rule: other.rule.clone(),
                    });
                }
            }
        }
        for e in batch {
            if self.edits.iter().any(|o| o.same_change(&e)) {
                continue;
            }
            // Insert after every edit that sorts before or equal, so same-position insertions keep
            // commit order; an insertion sorts before a replacement starting at the same offset.
            let key = |x: &Edit| (x.range.start, !x.is_insert(), x.range.end);
            let pos = self.edits.partition_point(|o| key(o) <= key(&e));
            self.edits.insert(pos, e);
        }
        Ok(())
    }

    /// Take out the edits that lie inside `r` (a later pass decided the region stays as it
    /// was).
    pub fn remove_within(&mut self, r: &Range<usize>) -> Vec<Edit> {
        let (inside, keep): (Vec<Edit>, Vec<Edit>) = std::mem::take(&mut self.edits)
            .into_iter()
            .partition(|e| r.start <= e.range.start && e.range.end <= r.end);
        self.edits = keep;
        inside
    }

    /// Keep only the edits `keep` accepts (a later pass took the others back).
    pub fn retain(&mut self, keep: impl FnMut(&Edit) -> bool) {
        self.edits.retain(keep);
    }

    /// Apply the edits to `original` (the text the ranges refer to).
    pub fn apply(&self, original: &str) -> String {
        apply(original, &self.edits)
    }
}

/// Apply sorted, disjoint edits to `original`.
pub fn apply(original: &str, edits: &[Edit]) -> String {
    let mut out = String::with_capacity(original.len() + 64);
    let mut at = 0;
    for e in edits {
        debug_assert!(e.range.start >= at, "edits must be sorted and disjoint");
        out.push_str(&original[at..e.range.start]);
        out.push_str(&e.text);
        at = e.range.end;
    }
    out.push_str(&original[at..]);
    out
}

/// Line ending conventions of a file, kept for inserted text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    CrLf,
}

impl LineEnding {
    pub fn detect(text: &str) -> LineEnding {
        match memchr::memchr(b'\n', text.as_bytes()) {
            Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => LineEnding::CrLf,
            _ => LineEnding::Lf,
        }
    }

    /// Convert `\n` in freshly generated text to this line ending.
    pub fn convert(self, text: &str) -> String {
        match self {
            LineEnding::Lf => text.to_string(),
            LineEnding::CrLf => text.replace("\r\n", "\n").replace('\n', "\r\n"),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = memchr::memchr_iter(b'\n', before.as_bytes()).count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

/// The start of the line holding `offset`.
pub fn line_start(text: &str, offset: usize) -> usize {
    text[..offset].rfind('\n').map(|i| i + 1).unwrap_or(0)
}

/// The whitespace that indents the line holding `offset`.
pub fn indent_at(text: &str, offset: usize) -> &str {
    let start = line_start(text, offset);
    let rest = &text[start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// Extend a range to whole lines (leading indentation and the line break) when nothing else
/// stands on its first and last line, so that deleting it leaves no blank line behind.
pub fn whole_lines(text: &str, r: Range<usize>) -> Range<usize> {
    let ls = line_start(text, r.start);
    let eol = text[r.end..]
        .find('\n')
        .map(|i| r.end + i + 1)
        .unwrap_or(text.len());
    if text[ls..r.start].trim().is_empty() && text[r.end..eol].trim().is_empty() {
        ls..eol
    } else {
        r
    }
}

/// [`whole_lines`] for deleting an item that stood between blank lines (a `use` line with a
/// blank line on each side): the blank line after it goes too, so that the deletion does not
/// leave two blank lines in a row (or a blank first line in the file).
pub fn whole_lines_tidy(text: &str, r: Range<usize>) -> Range<usize> {
    let w = whole_lines(text, r);
    if w.end == 0 || text.as_bytes().get(w.end - 1) != Some(&b'\n') {
        return w;
    }
    if line_start(text, w.start) != w.start {
        return w;
    }
    // The line before: none (file start), blank, or one that opens a block.
    let blank_before = w.start == 0 || {
        let prev = &text[line_start(text, w.start - 1)..w.start - 1];
        prev.trim().is_empty() || prev.trim_end().ends_with('{')
    };
    if !blank_before {
        return w;
    }
    let rest = &text[w.end..];
    match rest.find('\n') {
        Some(i) if rest[..i].trim().is_empty() => w.start..w.end + i + 1,
        _ => w,
    }
}

/// Re-indent a block of new text (lines after the first) to `indent`.
pub fn reindent(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(indent);
            }
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tidy_line_deletion_keeps_one_blank_line() {
        let cut = |t: &str, what: &str| {
            let at = t.find(what).unwrap();
            let r = whole_lines_tidy(t, at..at + what.len());
            format!("{}{}", &t[..r.start], &t[r.end..])
        };
        // Between blank lines: one blank line stays.
        assert_eq!(
            cut("use a;\n\nuse tonic::X;\n\nfn f() {}\n", "use tonic::X;"),
            "use a;\n\nfn f() {}\n"
        );
        // First in the file, or first in a block: the blank line after it goes too.
        assert_eq!(
            cut("use tonic::X;\n\nfn f() {}\n", "use tonic::X;"),
            "fn f() {}\n"
        );
        assert_eq!(
            cut(
                "mod m {\n    use tonic::X;\n\n    fn f() {}\n}\n",
                "use tonic::X;"
            ),
            "mod m {\n    fn f() {}\n}\n"
        );
        // Next to other lines: only its own line goes.
        assert_eq!(
            cut("use a;\nuse tonic::X;\n\nfn f() {}\n", "use tonic::X;"),
            "use a;\n\nfn f() {}\n"
        );
        assert_eq!(
            cut("use a;\n\nuse tonic::X;\nuse b;\n", "use tonic::X;"),
            "use a;\n\nuse b;\n"
        );
        // Not alone on its line: just the range.
        assert_eq!(
            cut("use a; use tonic::X;\n\nfn f() {}\n", "use tonic::X;"),
            "use a; \n\nfn f() {}\n"
        );
    }

    #[test]
    fn insertions_at_one_point_keep_commit_order() {
        let mut b = EditBuffer::new(3);
        b.commit(vec![Edit::insert(1, "x", "a")]).unwrap();
        b.commit(vec![Edit::insert(1, "y", "b")]).unwrap();
        assert_eq!(b.apply("abc"), "axybc");
    }

    #[test]
    fn overlapping_transaction_rolls_back_whole() {
        let mut b = EditBuffer::new(10);
        b.commit(vec![Edit::replace(2..5, "X", "a")]).unwrap();
        let err = b
            .commit(vec![
                Edit::replace(0..1, "Y", "b"),
                Edit::replace(4..6, "Z", "b"),
            ])
            .unwrap_err();
        assert_eq!(err.old, 2..5);
        assert_eq!(b.len(), 1);
        assert_eq!(b.apply("0123456789"), "01X56789");
    }

    #[test]
    fn insertion_inside_replacement_conflicts_but_adjacent_does_not() {
        let mut b = EditBuffer::new(10);
        b.commit(vec![Edit::replace(2..5, "X", "a")]).unwrap();
        assert!(b.commit(vec![Edit::insert(3, "i", "b")]).is_err());
        b.commit(vec![Edit::insert(2, "<", "b"), Edit::insert(5, ">", "b")])
            .unwrap();
        assert_eq!(b.apply("0123456789"), "01<X>56789");
    }

    #[test]
    fn identical_edits_merge() {
        let mut b = EditBuffer::new(4);
        b.commit(vec![Edit::replace(0..2, "Q", "a")]).unwrap();
        b.commit(vec![Edit::replace(0..2, "Q", "b")]).unwrap();
        assert_eq!(b.len(), 1);
        assert_eq!(b.apply("abcd"), "Qcd");
    }

    #[test]
    fn crlf_conversion_and_reindent() {
        assert_eq!(LineEnding::detect("a\r\nb"), LineEnding::CrLf);
        assert_eq!(LineEnding::detect("a\nb"), LineEnding::Lf);
        assert_eq!(LineEnding::CrLf.convert("x\ny\r\n"), "x\r\ny\r\n");
        assert_eq!(reindent("a\nb\n\nc", "    "), "a\n    b\n\n    c");
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(indent_at("x\n    y", 7), "    ");
    }

    /// A reference model: apply edits one by one from the end, on a text where every edit was
    /// accepted by the buffer.
    fn naive(original: &str, accepted: &[Edit]) -> String {
        let mut v: Vec<&Edit> = accepted.iter().collect();
        // Stable sort by start, insertions before replacements at one start, commit order kept.
        v.sort_by_key(|e| (e.range.start, !e.range.is_empty()));
        let mut out = original.to_string();
        for e in v.iter().rev() {
            out.replace_range(e.range.clone(), &e.text);
        }
        out
    }

    proptest! {
        #[test]
        fn buffer_stays_sorted_disjoint_and_matches_model(
            text in "[a-z]{0,40}",
            batches in prop::collection::vec(
                prop::collection::vec((0usize..41, 0usize..6, "[A-Z]{0,3}"), 1..4), 0..12)
        ) {
            let len = text.len();
            let mut buf = EditBuffer::new(len);
            let mut accepted: Vec<Edit> = Vec::new();
            for (bi, batch) in batches.into_iter().enumerate() {
                let edits: Vec<Edit> = batch
                    .into_iter()
                    .map(|(s, l, t)| {
                        let s = s.min(len);
                        let e = (s + l).min(len);
                        Edit::replace(s..e, t, &format!("r{bi}"))
                    })
                    .collect();
                let before = buf.edits().to_vec();
                match buf.commit(edits.clone()) {
                    Ok(()) => {
                        for e in edits {
                            if !accepted.iter().any(|a| a.range == e.range && a.text == e.text) {
                                accepted.push(e);
                            }
                        }
                    }
                    Err(_) => prop_assert_eq!(buf.edits(), &before[..]),
                }
                // Sorted and pairwise non-conflicting.
                for w in buf.edits().windows(2) {
                    prop_assert!(w[0].range.start <= w[1].range.start);
                    prop_assert!(w[0].range.end <= w[1].range.start || w[1].range.is_empty() && w[0].range.is_empty() || w[0].range.is_empty());
                }
                for (i, a) in buf.edits().iter().enumerate() {
                    for b in &buf.edits()[i + 1..] {
                        prop_assert!(!conflicts(a, b));
                    }
                }
            }
            prop_assert_eq!(buf.apply(&text), naive(&text, &accepted));
        }
    }
}
