//! How local state compares with a remote's, per WP, from the refs last fetched into
//! `refs/kitty-remotes/<remote>/` (no network: `git kitty pull` refreshes them).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::error::Result;
use crate::git::{Oid, Repo};
use crate::model::ids::FeatureSlug;
use crate::state::store::PREFIX;

/// The remote to use: the one named, else `git config kitty.remote`, else `origin`.
pub fn remote_name(repo: &Repo, named: Option<&str>) -> Result<String> {
    let name = named
        .map(str::to_owned)
        .or_else(|| repo.config_string("kitty.remote"))
        .unwrap_or_else(|| "origin".to_owned());
    repo.check_remote(&name)?;
    Ok(name)
}

/// Where the remote's state refs are tracked.
pub fn tracking_prefix(remote: &str) -> String {
    format!("refs/kitty-remotes/{remote}/wp/")
}

/// Where this clone notes the remotes it fetched state from, one name a line (under the
/// common directory): a remote that has no state at all leaves no tracking ref to tell.
const FETCHED_FILE: &str = "kitty/fetched-remotes";

/// The file noting the remotes state was fetched from: an input of the board, as the refs are.
pub fn fetched_note(repo: &Repo) -> std::path::PathBuf {
    repo.common_dir().join(FETCHED_FILE)
}

/// Note that state was fetched from `remote` (whether it had any). Best effort: without the
/// note, `status` only says once more that nothing was fetched.
pub fn mark_fetched(repo: &Repo, remote: &str) {
    let path = fetched_note(repo);
    let known = std::fs::read_to_string(&path).unwrap_or_default();
    if known.lines().any(|l| l == remote) {
        return;
    }
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let _ = std::fs::write(&path, format!("{known}{remote}\n"));
}

/// Whether this clone never fetched `remote`'s state, as far as it can tell without the
/// network: no tracking ref, no note of a `git kitty pull`, and no fetch refspec for
/// `refs/kitty/*` (`git kitty init`: then a plain `git fetch` brings it). A fresh clone is
/// such a clone: `git clone` fetches branches only.
pub fn never_fetched(repo: &Repo, remote: &str) -> Result<bool> {
    if !repo
        .refs_under(&format!("refs/kitty-remotes/{remote}/"))?
        .is_empty()
    {
        return Ok(false);
    }
    let fetched = std::fs::read_to_string(fetched_note(repo))
        .is_ok_and(|known| known.lines().any(|l| l == remote));
    let configured = repo
        .config_strings(&format!("remote.{remote}.fetch"))
        .iter()
        .any(|spec| spec.contains("refs/kitty/"));
    Ok(!fetched && !configured)
}

/// How local state compares with the remote's last fetched state, per WP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    InSync,
    /// Local has events the remote lacks: `git kitty push`.
    Ahead,
    /// The remote has events local lacks: `git kitty pull`.
    Behind,
    /// Both have new events: `git kitty sync` merges them.
    Diverged,
    LocalOnly,
    RemoteOnly,
}

/// The relation of every WP that has state on either side, for `remote`, by feature and WP
/// id. Empty when nothing was ever fetched from it. Two ref listings for the whole board
/// (one per feature cost 250 ms on a plan of 412 features: docs/performance.md).
pub fn relations(
    repo: &Repo,
    remote: &str,
) -> Result<HashMap<FeatureSlug, HashMap<String, Relation>>> {
    let remote_refs = tips_by_feature(repo, &tracking_prefix(remote))?;
    let mut out: HashMap<FeatureSlug, HashMap<String, Relation>> = HashMap::new();
    if remote_refs.is_empty() {
        return Ok(out);
    }
    let local_refs = tips_by_feature(repo, PREFIX)?;
    let none = HashMap::new();
    let is_ancestor = |a, d| repo.is_ancestor(a, d);
    let features: HashSet<&FeatureSlug> = remote_refs.keys().chain(local_refs.keys()).collect();
    for feature in features {
        let remote = remote_refs.get(feature).unwrap_or(&none);
        let local = local_refs.get(feature).unwrap_or(&none);
        let wps: HashSet<&String> = remote.keys().chain(local.keys()).collect();
        let mut rels = HashMap::new();
        for wp in wps {
            // A WP whose history cannot be read (damaged objects) is left unknown, not fatal.
            if let Ok(Some(rel)) =
                relation(local.get(wp).copied(), remote.get(wp).copied(), is_ancestor)
            {
                rels.insert(wp.clone(), rel);
            }
        }
        out.insert(feature.clone(), rels);
    }
    Ok(out)
}

/// The refs `<prefix><feature>/<WP>` that point at an object, by feature and WP.
fn tips_by_feature(
    repo: &Repo,
    prefix: &str,
) -> Result<HashMap<FeatureSlug, HashMap<String, Oid>>> {
    let mut out: HashMap<FeatureSlug, HashMap<String, Oid>> = HashMap::new();
    for (name, id) in repo.refs_under(prefix)? {
        let (Some((feature, wp)), Some(id)) = (name[prefix.len()..].split_once('/'), id) else {
            continue;
        };
        if let Ok(feature) = feature.parse() {
            out.entry(feature).or_default().insert(wp.to_owned(), id);
        }
    }
    Ok(out)
}

/// How a WP's local state tip compares with the remote's (`None`: neither has one). Equal
/// tips are in sync; otherwise the side whose tip contains the other's is ahead.
/// `is_ancestor(a, d)` says whether `a` is reachable from `d`.
pub fn relation(
    local: Option<Oid>,
    remote: Option<Oid>,
    is_ancestor: impl Fn(Oid, Oid) -> Result<bool>,
) -> Result<Option<Relation>> {
    let (l, r) = match (local, remote) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Ok(Some(Relation::LocalOnly)),
        (None, Some(_)) => return Ok(Some(Relation::RemoteOnly)),
        (Some(l), Some(r)) => (l, r),
    };
    Ok(Some(if r == l {
        Relation::InSync
    } else if is_ancestor(r, l)? {
        Relation::Ahead
    } else if is_ancestor(l, r)? {
        Relation::Behind
    } else {
        Relation::Diverged
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    /// The commit id numbered `n` (`00…0n` in hex).
    fn numbered(n: u32) -> Oid {
        crate::git::parse_oid(&format!("{n:040x}")).unwrap()
    }

    /// `a` is reachable from `d` in this history (each commit with its parent):
    /// 1 <- 2 <- 3, and 4 forked from 2.
    fn ancestry(a: Oid, d: Oid) -> Result<bool> {
        let parent = |c: Oid| {
            [(2, 1), (3, 2), (4, 2)]
                .iter()
                .find(|(k, _)| numbered(*k) == c)
                .map(|(_, p)| numbered(*p))
        };
        let mut at = Some(d);
        while let Some(c) = at {
            if c == a {
                return Ok(true);
            }
            at = parent(c);
        }
        Ok(false)
    }

    #[test]
    fn the_remote_relation_of_every_pair_of_tips() {
        let rel = |l: Option<u32>, r: Option<u32>| {
            relation(l.map(numbered), r.map(numbered), ancestry).unwrap()
        };
        assert_eq!(rel(Some(3), Some(3)), Some(Relation::InSync));
        assert_eq!(rel(Some(3), Some(1)), Some(Relation::Ahead));
        assert_eq!(rel(Some(2), Some(3)), Some(Relation::Behind));
        assert_eq!(rel(Some(4), Some(3)), Some(Relation::Diverged));
        assert_eq!(rel(Some(3), Some(4)), Some(Relation::Diverged));
        assert_eq!(rel(Some(1), None), Some(Relation::LocalOnly));
        assert_eq!(rel(None, Some(1)), Some(Relation::RemoteOnly));
        assert_eq!(rel(None, None), None);
    }

    #[test]
    fn an_unreadable_history_is_an_error_but_equal_tips_need_none() {
        let unreadable = |_, _| Err(Error::failed("damaged"));
        assert_eq!(
            relation(Some(numbered(1)), Some(numbered(2)), unreadable)
                .unwrap_err()
                .message,
            "damaged"
        );
        assert_eq!(
            relation(Some(numbered(1)), Some(numbered(1)), unreadable).unwrap(),
            Some(Relation::InSync)
        );
    }
}
