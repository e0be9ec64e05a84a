//! The source tree as the step's checks found it: a build script that writes into the source
//! tree (`tonic_build::configure().out_dir("src")`, checked-in stubs regenerated at every build:
//! dragonfly-api) rewrites those files when the compiler loop checks the step's new build
//! script. They are not the step's edits, so restoring the step's files would leave them
//! behind: a failed step then damaged code the user keeps in git.
//!
//! [`TreeGuard::take`] records every file of the workspace (not `.git`, `target` or another
//! target directory) after the baseline check, before the step writes; [`TreeGuard::changes`]
//! says which the checks changed, created or deleted, the step's own files aside;
//! [`TreeGuard::restore`] puts them back as they were. A file too large to keep (over
//! [`KEEP_AT_MOST`], or past the total [`BUDGET`]) is recorded by its size and time only, and
//! is reported, not restored, when it changed.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The largest file whose content is kept.
const KEEP_AT_MOST: u64 = 4 << 20;
/// The most content kept in all.
const BUDGET: u64 = 256 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kept {
    Content(Vec<u8>),
    /// Too large to keep: its length and modification time.
    Stamp(u64, Option<SystemTime>),
}

/// What a check did to a file the step did not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Change {
    Modified(PathBuf),
    Created(PathBuf),
    Deleted(PathBuf),
}

impl Change {
    pub(super) fn path(&self) -> &Path {
        match self {
            Change::Modified(p) | Change::Created(p) | Change::Deleted(p) => p,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct TreeGuard {
    files: BTreeMap<PathBuf, Kept>,
}

impl TreeGuard {
    pub(super) fn take(root: &Path) -> TreeGuard {
        let mut files = BTreeMap::new();
        let mut budget = BUDGET;
        for p in walk(root) {
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            let kept = if meta.len() <= KEEP_AT_MOST && meta.len() <= budget {
                match std::fs::read(&p) {
                    Ok(bytes) => {
                        budget -= meta.len();
                        Kept::Content(bytes)
                    }
                    Err(_) => continue,
                }
            } else {
                Kept::Stamp(meta.len(), meta.modified().ok())
            };
            files.insert(p, kept);
        }
        TreeGuard { files }
    }

    /// The files the checks changed since [`TreeGuard::take`], except `written` (the step's).
    pub(super) fn changes(&self, root: &Path, written: &HashSet<PathBuf>) -> Vec<Change> {
        let mut out = Vec::new();
        let now: HashSet<PathBuf> = walk(root).into_iter().collect();
        for (p, kept) in &self.files {
            if written.contains(p) {
                continue;
            }
            if !now.contains(p) {
                out.push(Change::Deleted(p.clone()));
                continue;
            }
            let same = match kept {
                Kept::Content(c) => std::fs::read(p).is_ok_and(|b| &b == c),
                Kept::Stamp(len, time) => std::fs::metadata(p)
                    .is_ok_and(|m| m.len() == *len && m.modified().ok() == *time),
            };
            if !same {
                out.push(Change::Modified(p.clone()));
            }
        }
        let mut created: Vec<&PathBuf> = now
            .iter()
            .filter(|p| !self.files.contains_key(*p) && !written.contains(*p))
            .collect();
        created.sort();
        out.extend(created.into_iter().cloned().map(Change::Created));
        out
    }

    /// Put `changes` back as they were: the kept content rewritten, created files deleted.
    /// The files that could not be (too large to keep, or an IO error) are returned.
    pub(super) fn restore(&self, changes: &[Change]) -> Vec<PathBuf> {
        let mut failed = Vec::new();
        for c in changes {
            let ok = match c {
                Change::Created(p) => std::fs::remove_file(p).is_ok(),
                Change::Modified(p) | Change::Deleted(p) => match self.files.get(p) {
                    Some(Kept::Content(bytes)) => {
                        p.parent()
                            .is_none_or(|d| std::fs::create_dir_all(d).is_ok())
                            && std::fs::write(p, bytes).is_ok()
                    }
                    _ => false,
                },
            };
            if !ok {
                failed.push(c.path().to_path_buf());
            }
        }
        failed
    }
}

/// A directory of the workspace that holds no source of the user's: `.git`, `target`, or one
/// marked as a cache (a target directory elsewhere has `CACHEDIR.TAG`). The tree key of the
/// check cache and [`TreeGuard`] skip the same ones.
pub(super) fn not_the_users(dir: &Path) -> bool {
    let name = dir.file_name().unwrap_or_default();
    name == ".git" || name == "target" || dir.join("CACHEDIR.TAG").exists()
}

/// The files under `root`, in no particular order: not in `.git`, `target` or a directory
/// marked as a cache (a target directory elsewhere has `CACHEDIR.TAG`); symbolic links are not
/// followed.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(ft) = e.file_type() else {
                continue;
            };
            if ft.is_dir() {
                if not_the_users(&p) {
                    continue;
                }
                dirs.push(p);
            } else if ft.is_file() {
                out.push(p);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_a_check_wrote_into_the_tree_is_found_and_put_back() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("target/debug")).unwrap();
        std::fs::write(root.join("src/gen.rs"), "pub struct Old;\n").unwrap();
        std::fs::write(root.join("src/lib.rs"), "mod gen;\n").unwrap();
        std::fs::write(root.join("src/gone.bin"), [1u8, 2, 3]).unwrap();
        std::fs::write(root.join("build.rs"), "fn main() {}\n").unwrap();
        let guard = TreeGuard::take(root);
        // The step writes build.rs; its check regenerates src/gen.rs, creates a file, deletes
        // another, and builds into target/ (not the user's).
        std::fs::write(root.join("build.rs"), "fn main() { codegen() }\n").unwrap();
        std::fs::write(root.join("src/gen.rs"), "pub struct New;\n").unwrap();
        std::fs::write(root.join("src/extra.rs"), "// new\n").unwrap();
        std::fs::remove_file(root.join("src/gone.bin")).unwrap();
        std::fs::write(root.join("target/debug/out"), "x").unwrap();
        let written: HashSet<PathBuf> = [root.join("build.rs")].into_iter().collect();
        let changes = guard.changes(root, &written);
        assert_eq!(
            changes,
            vec![
                Change::Modified(root.join("src/gen.rs")),
                Change::Deleted(root.join("src/gone.bin")),
                Change::Created(root.join("src/extra.rs")),
            ]
        );
        assert!(guard.restore(&changes).is_empty());
        assert_eq!(
            std::fs::read_to_string(root.join("src/gen.rs")).unwrap(),
            "pub struct Old;\n"
        );
        assert_eq!(std::fs::read(root.join("src/gone.bin")).unwrap(), [1, 2, 3]);
        assert!(!root.join("src/extra.rs").exists());
        // The step's own file is the step's to restore.
        assert_eq!(
            std::fs::read_to_string(root.join("build.rs")).unwrap(),
            "fn main() { codegen() }\n"
        );
        assert!(guard.changes(root, &written).is_empty());
    }
}
