//! Talking to remotes: `git fetch` and `git push`, through the `git` binary so the user's
//! transports, credentials and config apply (gix cannot push, and its HTTPS stack is large).

use gix::ObjectId;

use super::Repo;
use crate::error::{Error, ErrorKind, Result};

/// One ref to push, with the lease: the value the remote must still have (`None`: must not
/// exist there yet).
#[derive(Debug, Clone)]
pub struct Lease {
    pub name: String,
    pub expected: Option<ObjectId>,
    /// The value to push; the null id deletes the ref.
    pub new: ObjectId,
}

/// How a push ended (a transport failure is an `unreachable` error instead).
#[derive(Debug)]
pub enum Pushed {
    Accepted,
    /// A lease failed or the remote moved: fetch, merge and try again.
    Stale(Vec<String>),
    /// The remote refused (its hook): what it said.
    Declined(String),
}

/// How one ref of a non-atomic push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefPushed {
    Accepted,
    /// Its lease failed or the remote moved: what the remote has is not what we last saw.
    Stale,
    /// The remote refused it (a hook, a protected ref): what it said.
    Declined(String),
}

/// How `git push --porcelain` words a rejection caused by the remote having moved.
const RACE: [&str; 6] = [
    "stale info",
    "fetch first",
    "non-fast-forward",
    "already exists",
    "cannot lock ref",
    "but expected",
];

impl Repo {
    /// `remote` must be a configured remote: state is tracked under its name.
    pub fn check_remote(&self, remote: &str) -> Result<()> {
        let valid = !remote.is_empty()
            && !remote.starts_with('-')
            && remote
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
        if !valid {
            return Err(Error::usage(format!(
                "`{}` is not a remote name",
                remote.escape_debug()
            )));
        }
        if self
            .config_string(&format!("remote.{remote}.url"))
            .is_none()
        {
            return Err(
                Error::usage(format!("no remote `{remote}` in this repository"))
                    .hint(format!("add it: `git remote add {remote} <url>`")),
            );
        }
        Ok(())
    }

    /// `git push <remote> refs/heads/<branch>`: a plain push of one branch (a fast-forward,
    /// as the remote's own rules decide; hooks run). Refused or unreachable is an error.
    pub fn push_branch(&self, remote: &str, branch: &str) -> Result<()> {
        self.check_remote(remote)?;
        if !crate::model::ids::is_safe_branch_name(branch) {
            return Err(Error::usage(format!(
                "`{}` is not a branch name git kitty pushes",
                branch.escape_debug()
            )));
        }
        let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
        let out = self
            .git()
            .args(["push", "--porcelain", "--end-of-options", remote, &spec])
            .output()?;
        if out.success {
            return Ok(());
        }
        let refused = out.stdout.lines().any(|l| l.starts_with('!'));
        let kind = if refused {
            ErrorKind::Refused
        } else {
            ErrorKind::Unreachable
        };
        Err(Error::new(kind, format!("could not push {branch} to {remote}")).cause(out.stderr))
    }

    /// `git fetch <remote> <refspecs>`. Any failure to talk to the remote is `unreachable`.
    pub fn fetch(&self, remote: &str, refspecs: &[String]) -> Result<()> {
        let out = self
            .git()
            .args([
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                "--prune",
                "--end-of-options",
                remote,
            ])
            .args(refspecs)
            .output()?;
        if out.success {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Unreachable,
                format!("could not fetch from {remote}"),
            )
            .cause(out.stderr)
            .hint("nothing local was changed; retry when the remote is reachable"))
        }
    }

    /// `git push --porcelain --no-verify` (with `--atomic` when `atomic`) of each lease's new
    /// value, each guarded by `--force-with-lease=<ref>:<expected>`.
    fn push_leases_command(&self, remote: &str, leases: &[Lease], atomic: bool) -> super::run::Git {
        let mut git = self.git().args(["push", "--porcelain", "--no-verify"]);
        if atomic {
            git = git.arg("--atomic");
        }
        for l in leases {
            let expected = l.expected.map(|e| e.to_string()).unwrap_or_default();
            git = git.arg(format!("--force-with-lease={}:{expected}", l.name));
        }
        git = git.args(["--end-of-options", remote]);
        for l in leases {
            // The null id deletes the ref (`:<ref>`), as in a hook's input.
            let from = match l.new.is_null() {
                true => String::new(),
                false => l.new.to_string(),
            };
            git = git.arg(format!("{from}:{}", l.name));
        }
        git
    }

    /// Push `leases` each on its own (not `--atomic`): one ref refused does not hold back the
    /// others. The outcome of each, in the order given. A transport failure (no ref reported)
    /// is `unreachable`. The local `pre-push` hook is not run (it checks target branches,
    /// which these pushes never are).
    pub fn push_leases_each(&self, remote: &str, leases: &[Lease]) -> Result<Vec<RefPushed>> {
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let out = self.push_leases_command(remote, leases, false).output()?;
        // `<flag>\t<from>:<to>\t<summary>`, one line per ref; `!` is a rejection.
        let lines: Vec<(char, &str, &str)> = out
            .stdout
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, '\t');
                let flag = parts.next()?.chars().next()?;
                let (_, to) = parts.next()?.split_once(':')?;
                Some((flag, to, parts.next().unwrap_or("")))
            })
            .collect();
        if lines.is_empty() && !out.success {
            return Err(Error::new(
                ErrorKind::Unreachable,
                format!("could not push to {remote}"),
            )
            .cause(out.stderr)
            .hint("nothing was changed; `git kitty push` again when the remote is reachable"));
        }
        let said = || {
            let remote_lines: Vec<&str> = out
                .stderr
                .lines()
                .filter_map(|l| l.strip_prefix("remote: "))
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .collect();
            remote_lines.join("\n")
        };
        Ok(leases
            .iter()
            .map(|l| match lines.iter().find(|(_, to, _)| *to == l.name) {
                Some(('!', _, summary)) if RACE.iter().any(|why| summary.contains(why)) => {
                    RefPushed::Stale
                }
                Some(('!', _, summary)) => {
                    let said = said();
                    RefPushed::Declined(if said.is_empty() {
                        (*summary).to_owned()
                    } else {
                        said
                    })
                }
                Some(_) => RefPushed::Accepted,
                None => RefPushed::Declined("the remote did not report this ref".to_owned()),
            })
            .collect())
    }

    /// Push `leases` atomically: all or none, each only if the remote still has the expected
    /// value (`--force-with-lease=<ref>:<expected>`).
    pub fn push_leases(&self, remote: &str, leases: &[Lease]) -> Result<Pushed> {
        let out = self.push_leases_command(remote, leases, true).output()?;
        if out.success {
            return Ok(Pushed::Accepted);
        }
        let rejected: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with('!')).collect();
        if rejected.is_empty() {
            return Err(Error::new(
                ErrorKind::Unreachable,
                format!("could not push to {remote}"),
            )
            .cause(out.stderr)
            .hint(
                "local state is unchanged; `git kitty push` again when the remote is reachable",
            ));
        }
        // A lease that failed, "fetch first", "is at X but expected Y": the remote moved, a
        // race to retry after a fetch. Anything else (a hook said no, a protected ref, a
        // full disk) is the remote's decision: retrying would not change it.
        // (A lost ref-lock race shows only in the remote's stderr, as "cannot lock ref".)
        let raced = |l: &str| RACE.iter().any(|why| l.contains(why));
        let moved = rejected.iter().any(|l| raced(l)) || raced(&out.stderr);
        if rejected.iter().any(|l| l.contains("hook declined")) || !moved {
            let said: Vec<String> = out
                .stderr
                .lines()
                .filter_map(|l| l.strip_prefix("remote: "))
                .map(|l| l.trim_end().to_owned())
                .filter(|l| !l.is_empty())
                .collect();
            return Ok(Pushed::Declined(if said.is_empty() {
                rejected.join("\n")
            } else {
                said.join("\n")
            }));
        }
        Ok(Pushed::Stale(
            rejected.iter().map(|l| (*l).to_owned()).collect(),
        ))
    }
}
