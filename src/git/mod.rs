//! The only module that talks to git.
//!
//! gix for reads, object writes and ref transactions (in process: no spawn per WP, which is
//! what keeps `status` fast); the `git` binary ([`run::Git`]) where gix has no support. Every
//! function here takes validated names; nothing user-typed reaches a git argument unchecked.

pub mod exclude;
mod fs;
pub mod history;
pub mod hook_env;
mod locks;
pub mod objects;
pub mod remote;
mod run;
pub mod worktree;

use std::path::{Path, PathBuf};

use gix::bstr::{BString, ByteSlice};
use gix::refs::Target;
use gix::refs::transaction::{Change, LogChange, PreviousValue, RefEdit, RefLog};

use crate::error::{Context, Error, ErrorKind, Result};
pub use locks::LockFile;
use run::Git;
pub use worktree::{Rebase, TreeMerge, WorktreeEntry};

/// A git object id. The one id type of git kitty: nothing outside `src/git` names gix.
pub use gix::ObjectId as Oid;
use gix::ObjectId;

/// The hooks directory of the repository whose git directory or worktree is `dir`: git's own
/// answer to `git rev-parse --git-path hooks`, so `core.hooksPath` is respected.
pub fn hooks_dir(dir: &Path) -> Result<PathBuf> {
    let out = Git::new(dir)
        .args(["rev-parse", "--git-path", "hooks"])
        .run()?;
    let p = PathBuf::from(out.trim());
    Ok(if p.is_absolute() { p } else { dir.join(p) })
}

/// The null id: "no object" (a [`remote::Lease`] to it deletes the ref).
pub fn null_oid() -> Oid {
    Oid::null(gix::hash::Kind::Sha1)
}

/// The id of the empty tree: the tree of every state commit.
pub fn empty_tree() -> Oid {
    Oid::empty_tree(gix::hash::Kind::Sha1)
}

/// Parse a full hexadecimal object id (surrounding whitespace allowed, as git prints it).
pub fn parse_oid(hex: &str) -> Option<Oid> {
    Oid::from_hex(hex.trim().as_bytes()).ok()
}

/// An open repository, seen from the worktree git kitty was started in.
pub struct Repo {
    repo: gix::Repository,
    common_dir: PathBuf,
    workdir: Option<PathBuf>,
    main_workdir: Option<PathBuf>,
}

/// A commit as git kitty reads it.
#[derive(Debug, Clone)]
pub struct CommitData {
    pub id: ObjectId,
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub message: String,
    /// Extra headers (after `committer`), such as git kitty's `kitty-state`.
    pub headers: Vec<(String, String)>,
    pub time_secs: i64,
}

impl CommitData {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// See [`Repo::state_ref_paths`].
#[derive(Debug, Clone)]
pub struct RefPaths {
    /// `<common-dir>/refs`: always there in a repository git kitty can open.
    pub loose_root: PathBuf,
    /// The namespaces below it that matter: `refs/kitty` (state), `refs/kitty-remotes`
    /// (the remote's state, for ahead/behind) and `refs/heads` (branches, for staleness).
    /// They need not exist yet.
    pub namespaces: Vec<PathBuf>,
    /// `<common-dir>/packed-refs`.
    pub packed: PathBuf,
}

/// The outcome of a compare-and-swap ref update.
#[derive(Debug, PartialEq, Eq)]
pub enum Cas {
    Done,
    /// The ref no longer has the expected value: someone else wrote first.
    Raced,
}

impl Repo {
    /// Find the repository containing `dir` (honouring `GIT_DIR` as git does, which matters
    /// inside hooks).
    pub fn discover(dir: &Path) -> Result<Repo> {
        let start = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let overrides = config_from_environment();
        let options = || gix::open::Options::default().cli_overrides(overrides.clone());
        let trust = gix::sec::trust::Mapping {
            full: options(),
            reduced: options(),
        };
        let repo = gix::ThreadSafeRepository::discover_with_environment_overrides_opts(
            &start,
            Default::default(),
            trust,
        )
        .map(gix::Repository::from)
        .map_err(|e| {
            Error::usage(format!("not in a git repository: {}", start.display()))
                .cause(e)
                .hint(
                    "run git kitty inside a clone, or point at one with `git kitty -C <path> status`",
                )
        })?;
        Repo::from_gix(repo)
    }

    fn from_gix(repo: gix::Repository) -> Result<Repo> {
        let storage = repo.config_snapshot().string("extensions.refStorage");
        if storage.is_some_and(|s| s.eq_ignore_ascii_case(b"reftable")) {
            return Err(Error::usage(
                "this repository stores refs in a reftable, which git kitty does not support yet",
            )
            .hint("git kitty needs the default `files` ref storage"));
        }
        let common_dir = canonical(&repo.path().join(repo.common_dir()));
        let workdir = repo.workdir().map(canonical);
        let main_workdir = match repo.kind() {
            gix::repository::Kind::LinkedWorkTree => repo
                .main_repo()
                .ok()
                .and_then(|m| m.workdir().map(canonical)),
            _ => workdir.clone(),
        };
        Ok(Repo {
            repo,
            common_dir,
            workdir,
            main_workdir,
        })
    }

    pub fn gix(&self) -> &gix::Repository {
        &self.repo
    }

    /// The `.git` directory shared by all worktrees.
    pub fn common_dir(&self) -> &Path {
        &self.common_dir
    }

    /// The top of the worktree git kitty runs in (`None` in a bare repository).
    pub fn workdir(&self) -> Option<&Path> {
        self.workdir.as_deref()
    }

    /// The top of the main worktree, where the plan is read from (`None` when bare).
    pub fn main_workdir(&self) -> Option<&Path> {
        self.main_workdir.as_deref()
    }

    pub fn is_bare(&self) -> bool {
        self.workdir.is_none()
    }

    /// Where git keeps the refs a board is computed from, for a live view to watch: loose
    /// refs are files under `<common-dir>/refs/` (written by lock file and rename), and
    /// `git pack-refs` moves them into `<common-dir>/packed-refs`. Every worktree shares them.
    pub fn state_ref_paths(&self) -> RefPaths {
        let refs = self.common_dir.join("refs");
        RefPaths {
            namespaces: ["kitty", "kitty-remotes", "kitty-lost", "heads"]
                .iter()
                .map(|n| refs.join(n))
                .collect(),
            loose_root: refs,
            packed: self.common_dir.join("packed-refs"),
        }
    }

    /// Where a `git` subprocess should run: the current worktree, else the git dir.
    fn git(&self) -> Git {
        Git::new(self.workdir().unwrap_or(&self.common_dir))
    }

    /// A `git` subprocess in the main worktree (else the git dir): for what must not run
    /// inside the worktree it changes, such as removing that worktree.
    fn git_in_main(&self) -> Git {
        Git::new(
            self.main_workdir()
                .or(self.workdir())
                .unwrap_or(&self.common_dir),
        )
    }

    /// History and tree reads through `git`, in this repository.
    pub fn history(&self) -> history::History {
        let dir = self.workdir().unwrap_or(&self.common_dir).to_path_buf();
        history::History::new(move || Git::new(&dir))
    }

    // ---- config -------------------------------------------------------------------------

    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo
            .config_snapshot()
            .string(key)
            .map(|s| s.to_str_lossy().trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    pub fn config_bool(&self, key: &str) -> Option<bool> {
        self.repo.config_snapshot().boolean(key)
    }

    /// Every value of a multi-valued key, as the config read at open has it (no process: a
    /// read-only command such as `status` must not start `git` for this).
    pub fn config_strings(&self, key: &str) -> Vec<String> {
        self.repo
            .config_snapshot()
            .strings(key)
            .unwrap_or_default()
            .iter()
            .map(|s| s.to_str_lossy().trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Every value of a multi-valued key in the repository's own config (`--get-all`), read
    /// fresh from git rather than from the snapshot taken at open.
    pub fn config_get_all(&self, key: &str) -> Result<Vec<String>> {
        let out = self.git().args(["config", "--get-all", key]).output()?;
        Ok(out
            .stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// Add one value to a multi-valued key of the repository's config (`git config --add`).
    pub fn config_add(&self, key: &str, value: &str) -> Result<()> {
        self.git().args(["config", "--add", key, value]).run()?;
        Ok(())
    }

    /// Set a key of the repository's config, replacing its value (`git config <key> <value>`).
    pub fn config_set(&self, key: &str, value: &str) -> Result<()> {
        self.git().args(["config", key, value]).run()?;
        Ok(())
    }

    // ---- branches and HEAD --------------------------------------------------------------

    /// The branch checked out in this worktree (`None` when detached or bare).
    pub fn current_branch(&self) -> Option<String> {
        let name = self.repo.head_name().ok()??;
        name.as_bstr()
            .to_str()
            .ok()?
            .strip_prefix("refs/heads/")
            .map(str::to_owned)
    }

    /// The branch checked out in the main worktree (for a bare repository: what HEAD names).
    pub fn main_branch(&self) -> Option<String> {
        let head = std::fs::read_to_string(self.common_dir.join("HEAD")).ok()?;
        head.trim()
            .strip_prefix("ref: refs/heads/")
            .map(str::to_owned)
    }

    /// The branch a remote's HEAD names (`refs/remotes/<remote>/HEAD`, which `git clone` and
    /// `git remote set-head` write): the remote's default branch, short name. `None` when it
    /// is not set or not symbolic.
    pub fn remote_default_branch(&self, remote: &str) -> Option<String> {
        let prefix = format!("refs/remotes/{remote}/");
        let r = self
            .repo
            .try_find_reference(&format!("{prefix}HEAD"))
            .ok()??;
        let name = r.target().try_name()?.as_bstr().to_str().ok()?.to_owned();
        name.strip_prefix(&prefix)
            .filter(|b| *b != "HEAD")
            .map(str::to_owned)
    }

    pub fn branch_tip(&self, branch: &str) -> Result<Option<ObjectId>> {
        self.ref_tip(&format!("refs/heads/{branch}"))
    }

    /// Delete branch `name` if it still points at `expected`.
    pub fn delete_branch(&self, name: &str, expected: ObjectId) -> Result<Cas> {
        self.cas_refs(
            &[RefUpdate {
                name: format!("refs/heads/{name}"),
                expected: Some(expected),
                new: None,
            }],
            "git kitty: delete branch",
        )
    }

    /// The tree of a commit.
    pub fn tree_of(&self, commit: ObjectId) -> Result<ObjectId> {
        let c = self
            .repo
            .find_commit(commit)
            .context(|| format!("reading commit {commit}"))?;
        Ok(c.tree_id()
            .context(|| format!("reading the tree of {commit}"))?
            .detach())
    }

    /// Where a ref points (peeled to its object id), `None` if it does not exist.
    pub fn ref_tip(&self, full_name: &str) -> Result<Option<ObjectId>> {
        let found = self
            .repo
            .try_find_reference(full_name)
            .context(|| format!("reading ref {full_name}"))?;
        match found {
            None => Ok(None),
            Some(mut r) => Ok(Some(
                r.peel_to_id()
                    .context(|| format!("resolving ref {full_name}"))?
                    .detach(),
            )),
        }
    }

    /// What a ref points at directly, not peeled (a ref at a tag object gives the tag's id);
    /// `None` if it does not exist or is symbolic.
    pub fn ref_target(&self, full_name: &str) -> Result<Option<ObjectId>> {
        let found = self
            .repo
            .try_find_reference(full_name)
            .context(|| format!("reading ref {full_name}"))?;
        Ok(found.and_then(|r| r.try_id().map(|id| id.detach())))
    }

    /// All refs under `prefix` (which ends with `/`), with their direct targets. Symbolic refs
    /// are returned with `None`.
    ///
    /// A `git pack-refs` (often git's own background `gc --auto` after a fetch) can move a
    /// loose ref into `packed-refs` between listing and reading it: the listing is tried again.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, Option<ObjectId>)>> {
        let mut attempt = 0;
        loop {
            match self.refs_under_once(prefix) {
                Ok(refs) => return Ok(refs),
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20 * attempt));
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn refs_under_once(&self, prefix: &str) -> Result<Vec<(String, Option<ObjectId>)>> {
        let platform = self.repo.references().context(|| "listing refs".into())?;
        let iter = platform
            .prefixed(prefix)
            .context(|| format!("listing refs under {prefix}"))?;
        let mut out = Vec::new();
        for r in iter {
            let r = r.context(|| format!("reading a ref under {prefix}"))?;
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            out.push((name, r.try_id().map(|id| id.detach())));
        }
        Ok(out)
    }

    // ---- ref transactions ---------------------------------------------------------------

    /// Point `name` at `new` if it still points at `expected` (`None`: must not exist).
    ///
    /// This is git's own lock-file protocol, shared with `git update-ref`. When the update is
    /// refused, the ref is read again: a changed value is [`Cas::Raced`] (the caller re-reads,
    /// re-validates and retries); an unchanged one means the lock was busy, also a race.
    pub fn cas_ref(
        &self,
        name: &str,
        expected: Option<ObjectId>,
        new: ObjectId,
        log_message: &str,
    ) -> Result<Cas> {
        self.cas_refs(
            &[RefUpdate {
                name: name.to_owned(),
                expected,
                new: Some(new),
            }],
            log_message,
        )
    }

    /// Move `name` from `expected` back to `to`, or delete it when `to` is `None`.
    pub fn cas_ref_or_delete(
        &self,
        name: &str,
        expected: ObjectId,
        to: Option<ObjectId>,
    ) -> Result<Cas> {
        self.cas_refs(
            &[RefUpdate {
                name: name.to_owned(),
                expected: Some(expected),
                new: to,
            }],
            "git kitty: undo",
        )
    }

    /// Apply several compare-and-swap updates atomically: all or none.
    pub fn cas_refs(&self, updates: &[RefUpdate], log_message: &str) -> Result<Cas> {
        let mut edits = Vec::new();
        for u in updates {
            let name: gix::refs::FullName = u
                .name
                .as_str()
                .try_into()
                .context(|| format!("invalid ref name {}", u.name))?;
            let expected = match u.expected {
                Some(old) => PreviousValue::MustExistAndMatch(Target::Object(old)),
                None => PreviousValue::MustNotExist,
            };
            let change = match u.new {
                Some(new) => Change::Update {
                    log: LogChange {
                        mode: RefLog::AndReference,
                        force_create_reflog: false,
                        message: BString::from(log_message.replace('\n', " ")),
                    },
                    expected,
                    new: Target::Object(new),
                },
                None => Change::Delete {
                    expected,
                    log: RefLog::AndReference,
                },
            };
            edits.push(RefEdit {
                change,
                name,
                deref: false,
            });
        }
        // A failure is a race when a ref no longer has its expected value or another writer
        // holds a lock file (its update is about to land, or it died and left `<ref>.lock`);
        // the caller retries and, after a while, points at the lock file. gix reports errors
        // as messages, so this is decided from the repository, never from the error's text.
        // A lock released between the failure and the look is caught by trying once more.
        // Seen by `clear_stale_ref_lock`: a lock file of ours is never taken from under us.
        let _writing = self.writing_refs();
        let mut last_err = None;
        for _attempt in 0..2 {
            match self.repo.edit_references(edits.clone()) {
                Ok(_) => return Ok(Cas::Done),
                Err(err) => {
                    // A filesystem that refuses the write (permissions, read-only, full) is
                    // not contention: no retry, say where and why at once.
                    if let Some(io) = fs::permanent_io_error(&err) {
                        let name = updates.first().map_or("", |u| u.name.as_str());
                        return Err(fs::refused_write(name, &self.common_dir.join(name), io));
                    }
                    for u in updates {
                        if self.ref_tip(&u.name)? != u.expected {
                            return Ok(Cas::Raced);
                        }
                    }
                    let locked = updates
                        .iter()
                        .map(|u| u.name.as_str())
                        .chain(["packed-refs"])
                        .any(|n| self.common_dir.join(format!("{n}.lock")).exists());
                    if locked {
                        return Ok(Cas::Raced);
                    }
                    last_err = Some(err.to_string());
                }
            }
        }
        Err(Error::new(ErrorKind::Failed, "a ref update failed")
            .cause(last_err.unwrap_or_default()))
    }

    // ---- objects ------------------------------------------------------------------------

    pub fn read_commit(&self, id: ObjectId) -> Result<CommitData> {
        read_commit_in(&self.repo, id)
    }

    /// The kind of an object, `None` when the object database does not have it.
    pub fn object_kind(&self, id: ObjectId) -> Result<Option<ObjectKind>> {
        let header = self
            .repo
            .try_find_header(id)
            .context(|| format!("reading object {id}"))?;
        Ok(header.map(|h| match h.kind() {
            gix::object::Kind::Blob => ObjectKind::Blob,
            gix::object::Kind::Tree => ObjectKind::Tree,
            gix::object::Kind::Commit => ObjectKind::Commit,
            gix::object::Kind::Tag => ObjectKind::Tag,
        }))
    }

    /// Write a commit object (no ref is touched). Extra headers carry machine state.
    pub fn write_commit(&self, commit: NewCommit<'_>) -> Result<ObjectId> {
        let tree = match commit.tree {
            Some(tree) => tree,
            None => self.empty_tree()?,
        };
        let sig = gix::actor::Signature {
            name: commit.author_name.into(),
            email: commit.author_email.into(),
            time: gix::date::Time {
                seconds: commit.time_secs,
                offset: 0,
            },
        };
        let object = gix::objs::Commit {
            tree,
            parents: commit.parents.iter().copied().collect(),
            author: sig.clone(),
            committer: sig,
            encoding: None,
            message: commit.message.into(),
            extra_headers: commit
                .headers
                .iter()
                .map(|(k, v)| (BString::from(*k), BString::from(v.as_str())))
                .collect(),
        };
        match self.repo.write_object(&object) {
            Ok(id) => Ok(id.detach()),
            Err(err) => Err(match fs::permanent_io_error(&err) {
                Some(io) => fs::refused_write(
                    "a commit object",
                    &self.common_dir.join("objects").join("xx"),
                    io,
                ),
                None => Error::failed("writing a state commit").cause(err),
            }),
        }
    }

    /// The empty tree, written to the object database so that pushes and `git fsck` find it.
    fn empty_tree(&self) -> Result<ObjectId> {
        let id = ObjectId::empty_tree(self.repo.object_hash());
        let path = self
            .common_dir
            .join("objects")
            .join(id.to_hex_with_len(2).to_string())
            .join(&id.to_hex().to_string()[2..]);
        if !path.exists() {
            // `write_object` treats the empty tree as always present and would skip it.
            use gix::objs::Write as _;
            self.repo
                .objects
                .write_buf(gix::objs::Kind::Tree, &[])
                .context(|| "writing the empty tree".into())?;
        }
        Ok(id)
    }

    /// Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor).
    pub fn is_ancestor(&self, ancestor: ObjectId, descendant: ObjectId) -> Result<bool> {
        if ancestor == descendant {
            return Ok(true);
        }
        Ok(self.merge_base(ancestor, descendant)? == Some(ancestor))
    }

    pub fn merge_base(&self, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>> {
        Ok(self
            .repo
            .merge_base(a, b)
            .context(|| format!("finding the merge base of {a} and {b}"))?
            .map(|id| id.detach()))
    }

    /// Commits reachable from `tip` but not from `base` (`git rev-list --count base..tip`).
    pub fn count_between(&self, base: ObjectId, tip: ObjectId) -> Result<usize> {
        let walk = self
            .repo
            .rev_walk([tip])
            .with_hidden([base])
            .all()
            .context(|| format!("walking {base}..{tip}"))?;
        let mut n = 0;
        for info in walk {
            info.context(|| format!("walking {base}..{tip}"))?;
            n += 1;
        }
        Ok(n)
    }

    /// Read many commits, in parallel when there are many. Each worker thread opens its own
    /// handle on the repository (gix handles are not shared across threads without gix's
    /// `parallel` feature, and opening one costs about a millisecond).
    pub fn read_commits(&self, ids: &[ObjectId]) -> Vec<Result<CommitData>> {
        if ids.len() < 64 {
            return ids
                .iter()
                .map(|id| read_commit_in(&self.repo, *id))
                .collect();
        }
        let git_dir = self.repo.git_dir().to_path_buf();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
        let chunk = ids.len().div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .chunks(chunk)
                .map(|part| {
                    let git_dir = &git_dir;
                    s.spawn(move || match gix::open(git_dir) {
                        Ok(repo) => part.iter().map(|id| read_commit_in(&repo, *id)).collect(),
                        Err(e) => {
                            let e = Error::failed("cannot open the repository").cause(e);
                            part.iter().map(|_| Err(e.clone())).collect::<Vec<_>>()
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| match h.join() {
                    Ok(v) => v,
                    Err(panic) => std::panic::resume_unwind(panic),
                })
                .collect()
        })
    }
}

/// The kind of a git object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Blob,
    Tree,
    Commit,
    Tag,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Blob => "blob",
            ObjectKind::Tree => "tree",
            ObjectKind::Commit => "commit",
            ObjectKind::Tag => "tag",
        }
    }
}

/// One update of [`Repo::cas_refs`]; `new: None` deletes.
#[derive(Debug, Clone)]
pub struct RefUpdate {
    pub name: String,
    pub expected: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

/// What [`Repo::write_commit`] writes.
pub struct NewCommit<'a> {
    /// The tree; `None` for the empty tree (state commits).
    pub tree: Option<ObjectId>,
    pub parents: &'a [ObjectId],
    pub message: &'a str,
    pub headers: &'a [(&'a str, String)],
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub time_secs: i64,
}

/// Read a commit with any repository handle (used from worker threads).
pub fn read_commit_in(repo: &gix::Repository, id: ObjectId) -> Result<CommitData> {
    let commit = repo
        .find_commit(id)
        .context(|| format!("reading commit {id}"))?;
    let decoded = commit
        .decode()
        .context(|| format!("decoding commit {id}"))?;
    Ok(CommitData {
        id,
        tree: decoded.tree(),
        parents: decoded.parents().collect(),
        message: decoded.message.to_str_lossy().into_owned(),
        headers: decoded
            .extra_headers
            .iter()
            .map(|(k, v)| (k.to_str_lossy().into_owned(), v.to_str_lossy().into_owned()))
            .collect(),
        time_secs: decoded.committer().map(|c| c.seconds()).unwrap_or(0),
    })
}

/// Configuration git hands to subcommands in the environment: `git -c key=value kitty ...`
/// (`GIT_CONFIG_PARAMETERS`) and `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`,
/// as `key=value` strings. gix reads neither by itself.
fn config_from_environment() -> Vec<String> {
    let mut out = std::env::var("GIT_CONFIG_PARAMETERS")
        .map(|v| parse_config_parameters(&v))
        .unwrap_or_default();
    let count: usize = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    for i in 0..count {
        if let (Ok(k), Ok(v)) = (
            std::env::var(format!("GIT_CONFIG_KEY_{i}")),
            std::env::var(format!("GIT_CONFIG_VALUE_{i}")),
        ) {
            out.push(format!("{k}={v}"));
        }
    }
    out
}

/// `'core.a'='1' 'b.c=2'` (git's shell-quoting, `'\''` for a quote) -> `["core.a=1", "b.c=2"]`.
fn parse_config_parameters(text: &str) -> Vec<String> {
    fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<String> {
        if chars.next()? != '\'' {
            return None;
        }
        let mut s = String::new();
        loop {
            match chars.next()? {
                '\'' => {
                    // `'\''` continues the string with a literal quote.
                    if chars.peek() == Some(&'\\') {
                        chars.next();
                        chars.next();
                        chars.next();
                        s.push('\'');
                    } else {
                        return Some(s);
                    }
                }
                c => s.push(c),
            }
        }
    }
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let Some(key) = quoted(&mut chars) else { break };
        if chars.peek() == Some(&'=') {
            chars.next();
            match quoted(&mut chars) {
                Some(value) => out.push(format!("{key}={value}")),
                None => break,
            }
        } else {
            out.push(key);
        }
    }
    out
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

#[cfg(test)]
mod tests {
    #[test]
    fn config_parameters_as_git_writes_them() {
        assert_eq!(
            super::parse_config_parameters("'kitty.targetBranch'='nope' 'user.name=It'\\''s me'"),
            ["kitty.targetBranch=nope", "user.name=It's me"]
        );
        assert!(super::parse_config_parameters("").is_empty());
    }
}
