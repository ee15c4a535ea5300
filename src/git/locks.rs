//! git's lock files (`<ref>.lock`), and telling a stale one from a live one.
//!
//! git and gix update a ref by creating `<ref>.lock`, writing the new value into it and
//! renaming it over the ref. A process killed in between leaves the lock file, and every later
//! update of that ref fails until someone removes it. Nothing in the file says who made it, so
//! git kitty makes its own writers visible: every ref update it does ([`Repo::cas_refs`]) holds
//! a **shared** advisory lock on `<common-dir>/kitty/ref-writers.flock` for its duration, and
//! the kernel releases that lock the moment its holder dies.
//!
//! A lock file of one of git kitty's own refs is **stale**, and removed, when
//! - an **exclusive** lock on `ref-writers.flock` can be had at once: no git kitty process is
//!   inside a ref update (a stalled one still holds its shared lock, so its lock file is
//!   never taken from under it); and
//! - the lock file is at least [`STALE_AFTER`] old: git itself holds a ref lock for
//!   milliseconds, so an older one is not another program's update in progress either.
//!
//! Only callers that own the ref's namespace ask (the WP state refs, the WP branches), and
//! for `packed-refs.lock`, which a git killed while deleting any ref leaves (`git worktree
//! add` deletes the new worktree's `AUTO_MERGE`), and which then stops every ref update that
//! must look at packed refs. Should a very slow git (a `pack-refs` of a huge repository)
//! still hold a lock that old, removing it makes that git command fail cleanly: git renames
//! its lock file into place, and cannot once it is gone; nothing is overwritten.

use std::fs::File;
use std::path::Path;
use std::time::Duration;

use super::Repo;

/// How old a lock file must be before it can be stale (see the module documentation).
pub const STALE_AFTER: Duration = Duration::from_secs(1);

/// The advisory lock file every git kitty ref writer holds shared.
fn writers_file(common_dir: &Path) -> Option<File> {
    let dir = common_dir.join("kitty");
    std::fs::create_dir_all(&dir).ok()?;
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("ref-writers.flock"))
        .ok()
}

/// Held by a ref writer; released on drop (or by the kernel, should the process die).
pub struct Writing(Option<File>);

impl Drop for Writing {
    fn drop(&mut self) {
        if let Some(f) = &self.0 {
            let _ = f.unlock();
        }
    }
}

/// What [`Repo::clear_stale_ref_lock`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum LockFile {
    /// No lock file: nothing to clear.
    Absent,
    /// A dead process's lock file, now removed.
    Removed,
    /// Possibly someone's update in progress: left alone (for now).
    Live,
}

impl Repo {
    /// Announce a ref update by git kitty (a shared lock, blocking only while a stale lock is
    /// being removed). Without a writable `kitty/` directory nothing is announced, and then
    /// nobody can take the exclusive lock either: no lock file is ever judged stale.
    pub(super) fn writing_refs(&self) -> Writing {
        let file = writers_file(self.common_dir());
        Writing(file.filter(|f| f.lock_shared().is_ok()))
    }

    /// Remove `<ref>.lock` of `name` (a full ref name, or `packed-refs`) if it is stale, as
    /// the module documentation defines it.
    pub fn clear_stale_ref_lock(&self, name: &str) -> LockFile {
        let lock = self.common_dir().join(format!("{name}.lock"));
        let Ok(meta) = std::fs::symlink_metadata(&lock) else {
            return LockFile::Absent;
        };
        let Some(writers) = writers_file(self.common_dir()) else {
            return LockFile::Live;
        };
        if writers.try_lock().is_err() {
            return LockFile::Live; // a git kitty is updating refs right now
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .unwrap_or_default();
        let outcome = if age < STALE_AFTER {
            LockFile::Live
        } else {
            match std::fs::remove_file(&lock) {
                Ok(()) => LockFile::Removed,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => LockFile::Absent,
                Err(_) => LockFile::Live,
            }
        };
        let _ = writers.unlock();
        outcome
    }
}
