//! Reading history and trees with the `git` binary, for the hooks.
//!
//! In a `pre-receive` hook the pushed objects sit in a quarantine directory that git announces
//! through `GIT_OBJECT_DIRECTORY` and `GIT_ALTERNATE_OBJECT_DIRECTORIES`; gix 0.90 does not
//! read those, so every read the landing-order check makes goes through `git`, which works the
//! same on a client and in a receiving repository. One process per question: a `git log` for
//! the commits and their `Kitty-WP:` trailers, a `git cat-file --batch` for many files.

use gix::ObjectId;

use super::Git;
use crate::error::{Error, Result};

/// The trailer that names a commit's work package.
pub const WP_TRAILER: &str = "Kitty-WP";
/// The trailer `git kitty merge` adds to the commit that lands a WP on its target branch.
pub const LANDED_TRAILER: &str = "Kitty-Landed";

/// A commit with its parents and the values of its `Kitty-WP:` trailers.
#[derive(Debug, Clone)]
pub struct TrailerCommit {
    pub id: ObjectId,
    pub parents: Vec<ObjectId>,
    pub wps: Vec<String>,
    /// `Kitty-Landed:` values: this commit is where `git kitty merge` landed these WPs.
    pub landed: Vec<String>,
}

/// An object's type (`commit`, `blob`...) and its contents, as `git cat-file` gives them.
pub(super) type RawObject = (String, Vec<u8>);

/// Reads history through a `git` command factory (a repository, or the hook's environment).
pub struct History {
    make: Box<dyn Fn() -> Git>,
}

impl History {
    pub fn new(make: impl Fn() -> Git + 'static) -> History {
        History {
            make: Box::new(make),
        }
    }

    /// Commits reachable from `include` but not from `exclude`, newest first, with trailers.
    pub fn commits(
        &self,
        include: &[ObjectId],
        exclude: &[ObjectId],
    ) -> Result<Vec<TrailerCommit>> {
        if include.is_empty() {
            return Ok(Vec::new());
        }
        let format = format!(
            "--format=%H %P%x1e%(trailers:key={WP_TRAILER},valueonly,separator=%x1f)%x1e%(trailers:key={LANDED_TRAILER},valueonly,separator=%x1f)%x1d"
        );
        let mut git = (self.make)().args(["log", &format, "--end-of-options"]);
        for i in include {
            git = git.arg(i.to_string());
        }
        for e in exclude {
            git = git.arg(format!("^{e}"));
        }
        let out = git.arg("--").run()?;
        let mut commits = Vec::new();
        for record in out.split('\u{1d}') {
            let record = record.trim_start_matches('\n');
            if record.trim().is_empty() {
                continue;
            }
            let mut parts = record.split('\u{1e}');
            let ids = parts.next().unwrap_or("");
            let trailers = parts.next().unwrap_or("");
            let landed_trailers = parts.next().unwrap_or("");
            let mut hexes = ids.split_whitespace();
            let Some(id) = hexes
                .next()
                .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok())
            else {
                continue;
            };
            let parents = hexes
                .filter_map(|h| ObjectId::from_hex(h.as_bytes()).ok())
                .collect();
            let values = |s: &str| -> Vec<String> {
                s.split('\u{1f}')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            commits.push(TrailerCommit {
                id,
                parents,
                wps: values(trailers),
                landed: values(landed_trailers),
            });
        }
        Ok(commits)
    }

    /// The raw text of a commit object (`git cat-file commit`), if it exists.
    pub fn commit_text(&self, rev: &str) -> Option<String> {
        let out = (self.make)()
            .args(["cat-file", "commit", "--end-of-options", rev])
            .output()
            .ok()?;
        out.success.then_some(out.stdout)
    }

    /// Resolve a revision (`HEAD`, `MERGE_HEAD`, a branch) to a commit, if it exists.
    pub fn resolve(&self, rev: &str) -> Result<Option<ObjectId>> {
        let out = (self.make)()
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{rev}^{{commit}}"))
            .output()?;
        Ok(if out.success {
            ObjectId::from_hex(out.stdout.trim().as_bytes()).ok()
        } else {
            None
        })
    }

    /// Whether `id` names an object this repository has.
    pub fn has(&self, id: ObjectId) -> bool {
        (self.make)()
            .args(["cat-file", "-e", &id.to_string()])
            .output()
            .is_ok_and(|o| o.success)
    }

    /// Paths of the files under `prefix` in `commit`'s tree.
    pub fn files_under(&self, commit: ObjectId, prefix: &str) -> Result<Vec<String>> {
        let out = (self.make)()
            .args([
                "ls-tree",
                "-r",
                "-z",
                "--name-only",
                &commit.to_string(),
                "--",
                prefix,
            ])
            .run()?;
        Ok(out
            .split('\0')
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// The contents of `paths` in `commit` (or in the index, with `commit` `None`), in order;
    /// `None` for a path that is not there.
    pub fn read_files(
        &self,
        commit: Option<ObjectId>,
        paths: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>> {
        let specs = paths
            .iter()
            .map(|p| match commit {
                Some(c) => format!("{c}:{p}"),
                None => format!(":{p}"),
            })
            .collect::<Vec<_>>();
        Ok(self
            .batch(&specs)?
            .into_iter()
            .map(|o| o.map(|(_, body)| body))
            .collect())
    }

    /// A `git` command that reads where this history reads (for `objects`).
    pub(super) fn git(&self) -> Git {
        (self.make)()
    }

    /// `git cat-file --batch` on `specs` (one object name each): each object's type and
    /// contents, in order; `None` for one that is missing.
    pub(super) fn batch(&self, specs: &[String]) -> Result<Vec<Option<RawObject>>> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for spec in specs {
            input.extend_from_slice(spec.as_bytes());
            input.push(b'\n');
        }
        let out = (self.make)()
            .args(["cat-file", "--batch"])
            .input(input)
            .output_raw()?;
        if !out.status.success() {
            return Err(Error::failed("`git cat-file --batch` failed")
                .cause(String::from_utf8_lossy(&out.stderr)));
        }
        let data = out.stdout;
        let mut pos = 0;
        let mut objects = Vec::with_capacity(specs.len());
        for _ in specs {
            let end = data[pos..]
                .iter()
                .position(|b| *b == b'\n')
                .map(|i| pos + i)
                .ok_or_else(|| Error::failed("`git cat-file --batch` ended early"))?;
            let header = String::from_utf8_lossy(&data[pos..end]).into_owned();
            pos = end + 1;
            if header.ends_with(" missing") || header.ends_with(" ambiguous") {
                objects.push(None);
                continue;
            }
            let mut fields = header.rsplit(' ');
            let size: Option<usize> = fields.next().and_then(|s| s.parse().ok());
            let (Some(size), Some(kind)) = (size, fields.next()) else {
                return Err(Error::failed(format!(
                    "unexpected `git cat-file` header {header:?}"
                )));
            };
            let body = data
                .get(pos..pos + size)
                .ok_or_else(|| Error::failed("`git cat-file --batch` output is short"))?;
            objects.push(Some((kind.to_owned(), body.to_vec())));
            pos += size + 1;
        }
        Ok(objects)
    }
}

impl super::Repo {
    /// Commits reachable from `include` but not from `exclude` in this repository, newest
    /// first, with their trailers ([`History::commits`]).
    pub fn trailer_commits(
        &self,
        include: &[ObjectId],
        exclude: &[ObjectId],
    ) -> Result<Vec<TrailerCommit>> {
        self.history().commits(include, exclude)
    }
}
