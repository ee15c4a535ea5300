//! Worktrees, tree merges and rebases: the operations gix cannot do (yet), run with the `git`
//! binary. gix 0.90 can add worktrees but runs no hooks and needs an existing branch; `git
//! worktree add` creates the branch and checks out in one step, runs the user's hooks and is
//! what every git user debugs with.

use std::path::{Path, PathBuf};

use gix::ObjectId;

use super::{Git, Repo};
use crate::error::{Error, ErrorKind, Result};

/// A lock of one of git kitty's branches at least this old, found while holding the worktree
/// lock, was left by a process that died.
const STALE_LOCK_AGE: std::time::Duration = std::time::Duration::from_secs(1);

/// One entry of `git worktree list --porcelain -z`.
#[derive(Debug, Clone, PartialEq)]
pub struct WorktreeEntry {
    pub path: PathBuf,
    pub head: Option<ObjectId>,
    /// `refs/heads/x` -> `x`.
    pub branch: Option<String>,
    pub bare: bool,
    /// git knows the worktree but its directory is gone.
    pub prunable: bool,
    /// `git worktree lock`ed, with the reason; `initializing` means a `worktree add` never
    /// finished (it was killed during checkout).
    pub locked: Option<String>,
}

impl WorktreeEntry {
    /// Complete and usable: not half-made, not gone.
    pub fn is_usable(&self) -> bool {
        !self.prunable && self.locked.as_deref() != Some("initializing")
    }
}

/// The result of merging two commits' trees without touching any working tree.
pub enum TreeMerge {
    Clean(ObjectId),
    Conflict(Vec<String>),
}

/// The result of a rebase run in a worktree.
pub enum Rebase {
    Done,
    /// Stopped on a conflict: the worktree is mid-rebase, with these paths unmerged.
    Conflict(Vec<String>),
}

impl Repo {
    /// Every worktree git knows of (the main one first).
    pub fn worktrees(&self) -> Result<Vec<WorktreeEntry>> {
        let out = self
            .git()
            .args(["worktree", "list", "--porcelain", "-z"])
            .run()?;
        let mut list = Vec::new();
        let mut current: Option<WorktreeEntry> = None;
        for field in out.split('\0') {
            if field.is_empty() {
                if let Some(e) = current.take() {
                    list.push(e);
                }
                continue;
            }
            let (key, value) = field.split_once(' ').unwrap_or((field, ""));
            match key {
                "worktree" => {
                    if let Some(e) = current.take() {
                        list.push(e);
                    }
                    current = Some(WorktreeEntry {
                        path: PathBuf::from(value),
                        head: None,
                        branch: None,
                        bare: false,
                        prunable: false,
                        locked: None,
                    });
                }
                "HEAD" => {
                    if let Some(e) = &mut current {
                        e.head = ObjectId::from_hex(value.as_bytes()).ok();
                    }
                }
                "branch" => {
                    if let Some(e) = &mut current {
                        e.branch = value.strip_prefix("refs/heads/").map(str::to_owned);
                    }
                }
                "bare" => {
                    if let Some(e) = &mut current {
                        e.bare = true;
                    }
                }
                "prunable" => {
                    if let Some(e) = &mut current {
                        e.prunable = true;
                    }
                }
                "locked" => {
                    if let Some(e) = &mut current {
                        e.locked = Some(value.to_owned());
                    }
                }
                _ => {}
            }
        }
        if let Some(e) = current {
            list.push(e);
        }
        Ok(list)
    }

    /// Create `branch` at `start` and check it out in a new worktree at `path`. `branch` is
    /// one of git kitty's own (a WP's `<feature>-<WP>`): a stale lock of it is removed.
    ///
    /// The branch is made by a compare-and-swap ("must not exist") in process, then checked
    /// out by `git worktree add` without `-b`: no `git branch` child holds its lock while
    /// files are checked out, so a kill during the checkout cannot leave it behind. If the
    /// worktree cannot be made the branch stays; the caller deletes it.
    pub fn add_worktree_with_branch(
        &self,
        path: &Path,
        branch: &str,
        start: ObjectId,
    ) -> Result<()> {
        self.with_worktree_lock(|| {
            self.clear_stale_branch_lock(branch)?;
            let name = format!("refs/heads/{branch}");
            if self.cas_ref(&name, None, start, "git kitty: branch for a work package")?
                == super::Cas::Raced
            {
                return Err(Error::refused(format!(
                    "a branch `{branch}` appeared meanwhile"
                )));
            }
            self.git()
                .args(["worktree", "add", "--quiet"])
                .arg("--")
                .arg(path)
                .arg(branch)
                .run()
                .map(|_| ())
        })
    }

    /// Check out an existing `branch` in a new worktree at `path` (recovering a worktree that
    /// was deleted by hand, or never made). `branch` is one of git kitty's own: a stale lock
    /// of it is removed.
    pub fn add_worktree_for_branch(&self, path: &Path, branch: &str) -> Result<()> {
        self.with_worktree_lock(|| {
            self.clear_stale_branch_lock(branch)?;
            // A worktree deleted by hand is still registered until pruned.
            let _ = self.git().args(["worktree", "prune"]).run();
            self.git()
                .args(["worktree", "add", "--quiet"])
                .arg("--")
                .arg(path)
                .arg(branch)
                .run()
                .map(|_| ())
        })
    }

    /// Remove the worktree at `path` (`force`: even with local changes, or half-made and
    /// locked by an interrupted `worktree add`).
    pub fn remove_worktree(&self, path: &Path, force: bool) -> Result<()> {
        self.with_worktree_lock(|| {
            let mut git = self.git().args(["worktree", "remove"]);
            if force {
                git = git.args(["--force", "--force"]);
            }
            git.arg("--").arg(path).run()?;
            let _ = self.git().args(["worktree", "prune"]).run();
            Ok(())
        })
    }

    /// Remove `refs/heads/<branch>.lock` if a dead process left it. Called holding the
    /// worktree lock, so no git kitty is making a branch or worktree right now (that lock is
    /// released by the kernel when its holder dies); and the lock file must be at least
    /// [`STALE_LOCK_AGE`] old, since git holds a ref lock for milliseconds: a younger one is
    /// waited for, in case someone's own git is updating that branch this very moment.
    fn clear_stale_branch_lock(&self, branch: &str) -> Result<()> {
        let lock = self
            .common_dir()
            .join("refs/heads")
            .join(format!("{branch}.lock"));
        for _ in 0..2 {
            let Ok(meta) = std::fs::symlink_metadata(&lock) else {
                return Ok(());
            };
            let age = meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .unwrap_or_default();
            if age < STALE_LOCK_AGE {
                std::thread::sleep(STALE_LOCK_AGE - age);
                continue;
            }
            return match std::fs::remove_file(&lock) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::failed(format!(
                    "cannot remove the stale lock {}",
                    lock.display()
                ))
                .cause(e)),
            };
        }
        Ok(())
    }

    /// Run `f` holding `<common-dir>/kitty/worktrees.lock`. Concurrent `git worktree add`
    /// runs can trip over each other's half-written admin directories ("failed to read
    /// .git/worktrees/x/commondir"); claims stay lock-free, only these few git calls queue.
    fn with_worktree_lock<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let dir = self.common_dir().join("kitty");
        let fail = |e: std::io::Error| Error::failed("cannot take the worktree lock").cause(e);
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("worktrees.lock"))
            .map_err(fail)?;
        file.lock().map_err(fail)?;
        let result = f();
        let _ = file.unlock();
        result
    }

    /// Uncommitted changes in the worktree at `path`: modified, staged or untracked (but not
    /// ignored) files, as `git status --porcelain` lists them.
    pub fn worktree_changes(&self, path: &Path) -> Result<Vec<String>> {
        status_paths(path, "normal", None)
    }

    /// Changes to tracked files in the worktree at `path` (untracked files do not stop a
    /// fast-forward unless they are in the way, and git says so then).
    pub fn tracked_changes(&self, path: &Path) -> Result<Vec<String>> {
        status_paths(path, "no", None)
    }

    /// Uncommitted changes under `rel` (a repository-relative directory) in the worktree at
    /// `path`, untracked files included.
    pub fn changes_under(&self, path: &Path, rel: &str) -> Result<Vec<String>> {
        status_paths(path, "all", Some(rel))
    }

    /// Merge the trees of `ours` and `theirs` (`git merge-tree --write-tree`): no index, no
    /// working tree, nothing but new objects.
    pub fn merge_trees(&self, ours: ObjectId, theirs: ObjectId) -> Result<TreeMerge> {
        let out = self
            .git()
            .args([
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                "-z",
            ])
            .arg(ours.to_string())
            .arg(theirs.to_string())
            .output()?;
        let mut fields = out.stdout.split('\0').filter(|f| !f.is_empty());
        let tree = fields
            .next()
            .and_then(|t| ObjectId::from_hex(t.trim().as_bytes()).ok());
        match (out.code, tree) {
            (Some(0), Some(tree)) => Ok(TreeMerge::Clean(tree)),
            (Some(1), Some(_)) => {
                let mut paths: Vec<String> = fields.map(str::to_owned).collect();
                paths.dedup();
                Ok(TreeMerge::Conflict(paths))
            }
            _ => Err(Error::new(
                ErrorKind::Failed,
                format!("cannot merge {ours} and {theirs}"),
            )
            .cause(out.stderr)),
        }
    }

    /// Rebase the branch checked out in `worktree` from `old_base` onto `new_base`
    /// (`git rebase --onto new old`). A conflict leaves the rebase in progress there.
    pub fn rebase_onto(
        &self,
        worktree: &Path,
        new_base: ObjectId,
        old_base: ObjectId,
    ) -> Result<Rebase> {
        let out = Git::new(worktree)
            .args(["rebase", "--quiet", "--onto"])
            .arg(new_base.to_string())
            .arg(old_base.to_string())
            .output()?;
        if out.success {
            return Ok(Rebase::Done);
        }
        let unmerged = Git::new(worktree)
            .args(["diff", "--name-only", "--diff-filter=U", "-z"])
            .run()
            .unwrap_or_default();
        let paths: Vec<String> = unmerged
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        if paths.is_empty() {
            Err(Error::failed(format!(
                "`git rebase --onto {new_base} {old_base}` failed in {}",
                worktree.display()
            ))
            .cause(out.stderr))
        } else {
            Ok(Rebase::Conflict(paths))
        }
    }

    /// Whether a rebase is stopped in the worktree at `path`.
    pub fn rebase_in_progress(&self, path: &Path) -> bool {
        let Ok(out) = Git::new(path)
            .args(["rev-parse", "--git-path", "rebase-merge"])
            .run()
        else {
            return false;
        };
        let p = PathBuf::from(out.trim());
        let p = if p.is_absolute() { p } else { path.join(p) };
        p.exists() || path.join(".git").join("rebase-apply").exists()
    }

    /// Fast-forward the branch checked out in the worktree at `path` to `to` (`git merge
    /// --ff-only`), so that its files and index follow the branch.
    pub fn fast_forward(&self, path: &Path, to: ObjectId) -> Result<()> {
        Git::new(path)
            .args(["merge", "--ff-only", "--quiet", &to.to_string()])
            .run()
            .map(|_| ())
    }
}

/// The paths `git status --porcelain=v1 -z` lists in the worktree at `path`
/// (`--untracked-files=<untracked>`, limited to `pathspec`).
fn status_paths(path: &Path, untracked: &str, pathspec: Option<&str>) -> Result<Vec<String>> {
    let out = Git::new(path)
        .args(["status", "--porcelain=v1", "-z"])
        .arg(format!("--untracked-files={untracked}"))
        .arg("--")
        .args(pathspec)
        .run()?;
    let mut paths = Vec::new();
    let mut records = out.split('\0').filter(|e| !e.is_empty());
    while let Some(record) = records.next() {
        let Some(name) = record.get(3..) else {
            continue;
        };
        // A rename or copy is followed by its source path, a record of its own.
        if matches!(record.as_bytes()[0], b'R' | b'C') {
            records.next();
        }
        paths.push(name.to_owned());
    }
    Ok(paths)
}
