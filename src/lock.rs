//! One write run at a time per workspace: an exclusive advisory lock (`flock`, released by the
//! system when the process ends, even on a crash) on a file in the git directory, where it never
//! shows as an untracked file, or in the temporary directory outside git.
//!
//! A lock file in the temporary directory is removed by the run that holds it when it is done
//! (so they do not pile up there, one per workspace ever migrated). Removing a locked file is
//! safe with the usual check: a run that was waiting on the removed file finds, once it holds
//! the lock, that the path no longer names the file it locked, and starts again on a new file.
//! The lock in the git directory stays (one file, out of sight).

use std::path::{Path, PathBuf};

/// The lock of a workspace, held as long as the value lives.
#[derive(Debug)]
pub struct WorkspaceLock {
    file: std::fs::File,
    /// Removed before the lock is released (the temporary-directory lock).
    remove: Option<PathBuf>,
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        if let Some(p) = &self.remove {
            // Still holding the lock: a waiter sees the path gone (or a newer file) and retries.
            if same_file(p, &self.file) {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

/// Where the lock of the workspace at `root` lives.
pub fn lock_path(root: &Path) -> PathBuf {
    let git_dir = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--absolute-git-dir"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim_end()));
    match git_dir {
        Some(d) if d.is_dir() => d.join("connect-migrate.lock"),
        _ => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            root.canonicalize()
                .unwrap_or_else(|_| root.to_path_buf())
                .hash(&mut h);
            std::env::temp_dir().join(format!("connect-migrate-{:016x}.lock", h.finish()))
        }
    }
}

/// Take the lock at `path` without waiting: `None` while another run holds it.
pub fn try_lock(path: &Path) -> std::io::Result<Option<WorkspaceLock>> {
    lock_file(path, false)
}

/// Take the lock at `path`, waiting for the run that holds it to finish.
pub fn lock(path: &Path) -> std::io::Result<WorkspaceLock> {
    lock_file(path, true).map(|l| l.expect("a blocking lock is taken"))
}

/// Is the lock file one of the tool's own in the temporary directory (removed after the run)?
fn removable(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    path.parent() == Some(std::env::temp_dir().as_path())
        && name.starts_with("connect-migrate-")
        && name.ends_with(".lock")
}

#[cfg(unix)]
fn same_file(path: &Path, file: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(unix)]
fn lock_file(path: &Path, wait: bool) -> std::io::Result<Option<WorkspaceLock>> {
    use std::os::unix::io::AsRawFd;
    let op = if wait {
        libc::LOCK_EX
    } else {
        libc::LOCK_EX | libc::LOCK_NB
    };
    let remove = removable(path).then(|| path.to_path_buf());
    'open: loop {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        loop {
            // SAFETY: flock on a file descriptor this function owns; no memory is shared.
            if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
                break;
            }
            let e = std::io::Error::last_os_error();
            match e.kind() {
                std::io::ErrorKind::Interrupted => continue,
                std::io::ErrorKind::WouldBlock if !wait => return Ok(None),
                _ => return Err(e),
            }
        }
        // The run that held it may have removed the file meanwhile: lock the current one.
        if remove.is_some() && !same_file(path, &file) {
            continue 'open;
        }
        return Ok(Some(WorkspaceLock { file, remove }));
    }
}

#[cfg(not(unix))]
fn same_file(_path: &Path, _file: &std::fs::File) -> bool {
    false
}

/// Elsewhere there is no lock yet (the README says so): every run proceeds.
#[cfg(not(unix))]
fn lock_file(path: &Path, _wait: bool) -> std::io::Result<Option<WorkspaceLock>> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    Ok(Some(WorkspaceLock { file, remove: None }))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn temp_lock(tag: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "connect-migrate-test{}{tag}.lock",
            std::process::id()
        ))
    }

    #[test]
    fn a_lock_in_the_temporary_directory_is_removed_when_released() {
        let p = temp_lock("a");
        let l = lock(&p).unwrap();
        assert!(p.exists());
        assert!(try_lock(&p).unwrap().is_none(), "held: a second try fails");
        drop(l);
        assert!(!p.exists(), "the released lock's file is gone");
        // And it can be taken again.
        let again = try_lock(&p).unwrap();
        assert!(again.is_some());
    }

    #[test]
    fn a_waiter_on_a_removed_lock_file_locks_the_new_one() {
        let p = temp_lock("b");
        let first = lock(&p).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let q = p.clone();
        let waiter = std::thread::spawn(move || {
            let l = lock(&q).unwrap();
            tx.send(()).unwrap();
            // While the waiter holds it, nobody else gets it, and the path names its file.
            assert!(same_file(&q, &l.file));
            assert!(try_lock(&q).unwrap().is_none());
            drop(l);
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(rx.try_recv().is_err(), "the waiter waits");
        drop(first);
        rx.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
        waiter.join().unwrap();
        assert!(!p.exists());
    }

    #[test]
    fn a_lock_in_the_git_directory_stays() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("connect-migrate.lock");
        drop(lock(&p).unwrap());
        assert!(
            p.exists(),
            "only the tool's own temporary lock files are removed"
        );
    }
}
