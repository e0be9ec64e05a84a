//! The items a step lists (a site it could not migrate: where, which rule, why, what to do),
//! built one way for every step.
//!
//! Each step keeps a one-line `item` helper of its own that writes its prefix into the rule id
//! (`format!("step02/{rule}")`) and calls [`item_at`]: the rule-id catalogue test
//! (`rules::catalogue::emitted`) reads the ids a step emits from those templates.
//!
//! ```text
//! fn item(offset: usize, rule: &str, kind: ItemKind, message: String, note: &str) -> ManualItem {
//!     item_at(offset, format!("step02/{rule}"), kind, message, note)
//! }
//! ```

use crate::engine::{ItemKind, ManualItem};

/// The item of rule `rule` (a full id, `step02/impl-shape`) at byte `offset` of the file being
/// processed: `message` says what was not done and why, `note` what to do.
pub fn item_at(
    offset: usize,
    rule: String,
    kind: ItemKind,
    message: String,
    note: &str,
) -> ManualItem {
    ManualItem {
        offset,
        rule,
        message,
        note: note.to_string(),
        kind,
    }
}

/// [`item_at`] of kind [`ItemKind::Manual`]: a site left for a human.
pub fn manual_at(offset: usize, rule: String, message: String, note: &str) -> ManualItem {
    item_at(offset, rule, ItemKind::Manual, message, note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_keeps_what_it_is_given() {
        let i = item_at(
            7,
            "step02/impl-shape".into(),
            ItemKind::Unsure,
            "why".into(),
            "what to do",
        );
        assert_eq!(
            (
                i.offset,
                i.rule.as_str(),
                i.kind,
                i.message.as_str(),
                i.note.as_str()
            ),
            (
                7,
                "step02/impl-shape",
                ItemKind::Unsure,
                "why",
                "what to do"
            )
        );
        let m = manual_at(3, "step09/x".into(), "m".into(), "n");
        assert_eq!(
            (m.offset, m.kind, m.note.as_str()),
            (3, ItemKind::Manual, "n")
        );
    }
}
