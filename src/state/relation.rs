//! How local state compares with a remote's, per WP, from the refs last fetched into
//! `refs/kitty-remotes/<remote>/` (no network: `git kitty pull` refreshes them).

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::git::{Oid, Repo};
use crate::model::ids::FeatureSlug;
use crate::state::store::PREFIX;

/// Where the remote's state refs are tracked.
pub fn tracking_prefix(remote: &str) -> String {
    format!("refs/kitty-remotes/{remote}/wp/")
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

/// The relation of every WP of `feature` that has state on either side, for `remote`.
/// Empty when nothing was ever fetched from it.
pub fn relations(
    repo: &Repo,
    remote: &str,
    feature: &FeatureSlug,
) -> Result<HashMap<String, Relation>> {
    let tracking_feature = format!("{}{feature}/", tracking_prefix(remote));
    let remote_refs: HashMap<String, Oid> = repo
        .refs_under(&tracking_feature)?
        .into_iter()
        .filter_map(|(n, id)| Some((n[tracking_feature.len()..].to_owned(), id?)))
        .collect();
    let mut out = HashMap::new();
    if remote_refs.is_empty() && repo.refs_under(&tracking_prefix(remote))?.is_empty() {
        return Ok(out);
    }
    let local_feature = format!("{PREFIX}{feature}/");
    let local_refs: HashMap<String, Oid> = repo
        .refs_under(&local_feature)?
        .into_iter()
        .filter_map(|(n, id)| Some((n[local_feature.len()..].to_owned(), id?)))
        .collect();
    let compare = |l: Oid, r: Oid| -> Result<Relation> {
        Ok(if r == l {
            Relation::InSync
        } else if repo.is_ancestor(r, l)? {
            Relation::Ahead
        } else if repo.is_ancestor(l, r)? {
            Relation::Behind
        } else {
            Relation::Diverged
        })
    };
    for wp in remote_refs.keys() {
        out.insert(wp.clone(), Relation::RemoteOnly);
    }
    for (wp, l) in &local_refs {
        let rel = match remote_refs.get(wp) {
            None => Some(Relation::LocalOnly),
            // A WP whose history cannot be read (damaged objects) is left unknown, not fatal.
            Some(r) => compare(*l, *r).ok(),
        };
        match rel {
            Some(rel) => out.insert(wp.clone(), rel),
            None => out.remove(wp),
        };
    }
    Ok(out)
}
