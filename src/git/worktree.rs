//! Worktrees, tree merges and rebases: the operations gix cannot do (yet), run with the `git`
//! binary. gix 0.90 can add worktrees but runs no hooks and needs an existing branch; `git
//! worktree add` creates the branch and checks out in one step, runs the user's hooks and is
//! what every git user debugs with.

use std::path::{Path, PathBuf};

use gix::ObjectId;

use super::{Git, Repo};
use crate::error::{Error, ErrorKind, Result};

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
    /// Every worktree git knows of (the main one first). Should git fail to list them because
    /// a `git worktree add` of git kitty's was killed half-way through writing its entry (an
    /// empty `commondir` makes every `git worktree list` die), that entry is removed, as git
    /// itself would have on any other signal, and the listing tried again.
    pub fn worktrees(&self) -> Result<Vec<WorktreeEntry>> {
        let list = || {
            self.git()
                .args(["worktree", "list", "--porcelain", "-z"])
                .run()
        };
        let out = match list() {
            Ok(out) => out,
            Err(e) => {
                if !self.with_worktree_lock(|| Ok(self.clear_interrupted_adds()))? {
                    return Err(e);
                }
                list()?
            }
        };
        Ok(parse_worktree_list(&out))
    }

    /// Remove the entries under `<common-dir>/worktrees/` of `git worktree add`s into
    /// `.worktrees/` that never finished (still locked "initializing"), once at least
    /// `locks::STALE_AFTER` old (a younger one is waited for). Call it holding the worktree
    /// lock: git kitty makes its worktrees under it, so none of them is being made now.
    /// Whether any was removed.
    fn clear_interrupted_adds(&self) -> bool {
        let found = self.interrupted_adds();
        if let Some(youngest) = found.iter().map(|(_, age)| *age).min() {
            std::thread::sleep(super::locks::STALE_AFTER.saturating_sub(youngest));
        }
        found
            .iter()
            .filter(|(admin, _)| std::fs::remove_dir_all(admin).is_ok())
            .count()
            > 0
    }

    /// The unfinished entries of [`Self::clear_interrupted_adds`], with their age.
    fn interrupted_adds(&self) -> Vec<(PathBuf, std::time::Duration)> {
        let (Some(main), Ok(entries)) = (
            self.main_workdir(),
            std::fs::read_dir(self.common_dir().join("worktrees")),
        ) else {
            return Vec::new();
        };
        let ours = main.join(".worktrees");
        entries
            .flatten()
            .map(|e| e.path())
            .filter_map(|admin| {
                let read =
                    |name: &str| std::fs::read_to_string(admin.join(name)).unwrap_or_default();
                let initializing = read("locked").trim() == "initializing";
                let in_ours = Path::new(read("gitdir").trim()).starts_with(&ours);
                let age = std::fs::metadata(admin.join("locked"))
                    .and_then(|m| m.modified())
                    .ok()?
                    .elapsed()
                    .unwrap_or_default();
                (initializing && in_ours).then_some((admin, age))
            })
            .collect()
    }
}

/// Parse `git worktree list --porcelain -z`.
fn parse_worktree_list(out: &str) -> Vec<WorktreeEntry> {
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
    list
}

impl Repo {
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
            self.clear_stale_branch_lock(branch);
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
            self.clear_stale_branch_lock(branch);
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
            // From the main worktree: git cannot remove the worktree it runs in, and the WP's
            // own worktree is where an agent calls `abandon` from.
            let mut git = self.git_in_main().args(["worktree", "remove"]);
            if force {
                git = git.args(["--force", "--force"]);
            }
            git.arg("--").arg(path).run()?;
            let _ = self.git_in_main().args(["worktree", "prune"]).run();
            Ok(())
        })
    }

    /// Remove what an interrupted `git worktree add` left at `path` (git lists it, locked as
    /// "initializing" or prunable): first as git would (`worktree remove --force --force`);
    /// when git refuses because the checkout got no further than its directory (no `.git`
    /// file yet), the directory is removed, then the entry unlocked and pruned. Call it only
    /// for such a half-made worktree of git kitty's own (`.worktrees/<feature>-<WP>`).
    pub fn remove_half_made_worktree(&self, path: &Path) -> Result<()> {
        self.with_worktree_lock(|| {
            let removed = self
                .git()
                .args(["worktree", "remove", "--force", "--force", "--"])
                .arg(path)
                .output()?;
            if !removed.success {
                if std::fs::symlink_metadata(path).is_ok() {
                    std::fs::remove_dir_all(path).map_err(|e| {
                        Error::failed(format!("cannot remove the half-made {}", path.display()))
                            .cause(e)
                    })?;
                }
                let _ = self
                    .git()
                    .args(["worktree", "unlock", "--"])
                    .arg(path)
                    .output();
            }
            self.git().args(["worktree", "prune"]).run().map(|_| ())
        })
    }

    /// Remove the directory at `path` if an interrupted `git worktree add` left it with
    /// nothing of value: empty, or holding only the `.git` file that points to an entry git
    /// no longer has. Anything else stays. Whether it is gone.
    pub fn remove_orphaned_worktree_dir(&self, path: &Path) -> bool {
        let Ok(entries) = std::fs::read_dir(path) else {
            return std::fs::symlink_metadata(path).is_err();
        };
        let names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
        let dot_git = path.join(".git");
        let orphaned = match names.as_slice() {
            [] => true,
            [only] if only == ".git" => {
                std::fs::symlink_metadata(&dot_git).is_ok_and(|m| m.is_file())
                    && std::fs::read_to_string(&dot_git).is_ok_and(|text| {
                        text.trim()
                            .strip_prefix("gitdir:")
                            .is_some_and(|target| !Path::new(target.trim()).exists())
                    })
            }
            _ => false,
        };
        if orphaned {
            let _ = std::fs::remove_file(&dot_git);
            let _ = std::fs::remove_dir(path);
        }
        std::fs::symlink_metadata(path).is_err()
    }

    /// Remove `refs/heads/<branch>.lock` and `packed-refs.lock` if a dead process left them
    /// (`git::locks`: no git kitty is writing refs, and old enough not to be anyone's update
    /// in progress): the checkout of `git worktree add` takes both. A young one is waited for
    /// a little; one that stays live is left for git to report.
    fn clear_stale_branch_lock(&self, branch: &str) {
        let deadline = std::time::Instant::now() + 2 * super::locks::STALE_AFTER;
        for name in [format!("refs/heads/{branch}"), "packed-refs".to_owned()] {
            while self.clear_stale_ref_lock(&name) == super::LockFile::Live
                && std::time::Instant::now() < deadline
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
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

    /// Commit exactly `paths` (repository-relative, tracked) in the worktree at `path` with
    /// `message`, leaving anything else staged there as it was (`git commit --only`).
    pub fn commit_paths(&self, path: &Path, paths: &[String], message: &str) -> Result<()> {
        Git::new(path)
            .args(["commit", "--only", "--quiet", "-m", message, "--"])
            .args(paths)
            .run()?;
        Ok(())
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
