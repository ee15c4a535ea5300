//! Objects as a receiving hook sees them (quarantined objects included, so through `git`):
//! their kinds, commits parsed from their raw text, which commits an update brings, and the
//! paths a commit changes. Each function is one `git` process, whatever the number of ids.

use std::collections::HashMap;

use serde::Serialize;

use super::history::History;
use super::{CommitData, Oid, parse_oid};
use crate::error::{Error, Result};

/// What an object id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl ObjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commit",
            ObjectKind::Tree => "tree",
            ObjectKind::Blob => "blob",
            ObjectKind::Tag => "tag",
        }
    }

    fn parse(s: &str) -> Option<ObjectKind> {
        match s {
            "commit" => Some(ObjectKind::Commit),
            "tree" => Some(ObjectKind::Tree),
            "blob" => Some(ObjectKind::Blob),
            "tag" => Some(ObjectKind::Tag),
            _ => None,
        }
    }
}

impl History {
    /// The kind of each object (`None`: not there). One `git cat-file --batch-check`.
    pub fn object_kinds(&self, ids: &[Oid]) -> Result<Vec<Option<ObjectKind>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let input: String = ids.iter().map(|id| format!("{id}\n")).collect();
        let out = self
            .git()
            .args(["cat-file", "--batch-check=%(objectname) %(objecttype)"])
            .input(input.into_bytes())
            .run()?;
        let mut kinds: HashMap<Oid, ObjectKind> = HashMap::new();
        for line in out.lines() {
            if let Some((id, kind)) = line.split_once(' ')
                && let (Some(id), Some(kind)) = (parse_oid(id), ObjectKind::parse(kind))
            {
                kinds.insert(id, kind);
            }
        }
        Ok(ids.iter().map(|id| kinds.get(id).copied()).collect())
    }

    /// Whether `path` is the same tree (or equally absent) in commits `a` and `b`: one
    /// `git cat-file --batch-check`.
    pub fn same_path(&self, a: Oid, b: Oid, path: &str) -> Result<bool> {
        let out = self
            .git()
            .args(["cat-file", "--batch-check=%(objectname)"])
            .input(format!("{a}:{path}\n{b}:{path}\n").into_bytes())
            .run()?;
        let lines: Vec<&str> = out.lines().collect();
        Ok(lines.len() == 2 && lines[0] == lines[1])
    }

    /// Commits reachable from `include` and from none of `exclude`, parents before children.
    /// One `git rev-list --topo-order --reverse`.
    pub fn rev_list(&self, include: &[Oid], exclude: &[Oid]) -> Result<Vec<Oid>> {
        if include.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = String::new();
        for i in include {
            input.push_str(&format!("{i}\n"));
        }
        for e in exclude {
            input.push_str(&format!("^{e}\n"));
        }
        let out = self
            .git()
            .args(["rev-list", "--topo-order", "--reverse", "--stdin"])
            .input(input.into_bytes())
            .run()?;
        Ok(out.lines().filter_map(parse_oid).collect())
    }

    /// The commits `ids`, parsed; `None` for one that is missing or not a commit. One
    /// `git cat-file --batch`.
    pub fn read_commits(&self, ids: &[Oid]) -> Result<Vec<Option<CommitData>>> {
        let specs: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let objects = self.batch(&specs)?;
        Ok(ids
            .iter()
            .zip(objects)
            .map(|(id, object)| match object {
                Some((kind, body)) if kind == "commit" => parse_commit(*id, &body),
                _ => None,
            })
            .collect())
    }

    /// For each of `ids`, the paths it changes: against its parent, against every parent for a
    /// merge (only what differs from all of them, as `git diff --cc` shows it: a clean merge
    /// changes nothing), every path for a root commit. Renames count as both paths. Paths
    /// are as git quotes them (`core.quotePath`). One `git log --no-walk`.
    pub fn changed_paths(&self, ids: &[Oid]) -> Result<Vec<Vec<String>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let input: String = ids.iter().map(|id| format!("{id}\n")).collect();
        // A line that starts with \x01 cannot be a path: git always quotes control characters.
        let out = self
            .git()
            .args([
                "-c",
                "core.quotePath=true",
                "log",
                "--no-walk=unsorted",
                "--stdin",
                "--format=%x01%H",
                "--name-only",
                "--no-renames",
                "--cc",
                "--root",
            ])
            .input(input.into_bytes())
            .run()?;
        let mut paths: HashMap<Oid, Vec<String>> = HashMap::new();
        let mut current = None;
        for line in out.lines() {
            if let Some(hex) = line.strip_prefix('\u{1}') {
                current = parse_oid(hex);
                if let Some(id) = current {
                    paths.entry(id).or_default();
                }
            } else if let Some(id) = current
                && !line.is_empty()
            {
                paths.entry(id).or_default().push(line.to_owned());
            }
        }
        ids.iter()
            .map(|id| {
                paths.get(id).cloned().ok_or_else(|| {
                    Error::failed(format!("`git log` did not show the changes of {id}"))
                })
            })
            .collect()
    }
}

/// A commit object's raw text -> [`CommitData`]; `None` when it is not one git would write.
fn parse_commit(id: Oid, raw: &[u8]) -> Option<CommitData> {
    let text = String::from_utf8_lossy(raw);
    let (head, message) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut tree = None;
    let mut parents = Vec::new();
    let mut time_secs = 0;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut last_standard = false;
    for line in head.lines() {
        if let Some(more) = line.strip_prefix(' ') {
            // A continuation of the header before it (a signature, a multi-line value).
            if let Some((_, value)) = headers.last_mut().filter(|_| !last_standard) {
                value.push('\n');
                value.push_str(more);
            }
            continue;
        }
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        last_standard = true;
        match key {
            "tree" => tree = parse_oid(value),
            "parent" => parents.push(parse_oid(value)?),
            "author" | "encoding" => {}
            "committer" => {
                time_secs = value
                    .rsplit(' ')
                    .nth(1)
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0);
            }
            _ => {
                last_standard = false;
                headers.push((key.to_owned(), value.to_owned()));
            }
        }
    }
    Some(CommitData {
        id,
        tree: tree?,
        parents,
        message: message.to_owned(),
        headers,
        time_secs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_commits_parse_with_their_extra_headers() {
        let id = parse_oid("1111111111111111111111111111111111111111").unwrap();
        let raw = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent 2222222222222222222222222222222222222222\n\
parent 3333333333333333333333333333333333333333\n\
author a <a@x> 1700000000 +0000\n\
committer c <c@x> 1700000123 +0100\n\
kitty-event {\"v\":1}\n\
gpgsig -----BEGIN-----\n abc\n -----END-----\n\
kitty-state {\"v\":1}\n\
\n\
subject\n\nbody\n";
        let c = parse_commit(id, raw.as_bytes()).unwrap();
        assert_eq!(c.tree, crate::git::empty_tree());
        assert_eq!(c.parents.len(), 2);
        assert_eq!(c.time_secs, 1_700_000_123);
        assert_eq!(c.header("kitty-event"), Some("{\"v\":1}"));
        assert_eq!(c.header("kitty-state"), Some("{\"v\":1}"));
        assert_eq!(
            c.header("gpgsig"),
            Some("-----BEGIN-----\nabc\n-----END-----")
        );
        assert_eq!(c.message, "subject\n\nbody\n");
        assert!(parse_commit(id, b"author x\n\nno tree").is_none());
    }
}
