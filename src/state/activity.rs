//! The activity of many WPs as one feed: every event of their state histories, newest first
//! (what `git kitty log` prints and the dashboard's feed shows).

use std::collections::HashSet;

use crate::error::Error;
use crate::git::{Oid, Repo};
use crate::model::ids::{FeatureSlug, WpId};
use crate::state::schema::{Event, EventKind};
use crate::state::store;
use crate::util::time::parse_rfc3339;

/// One event of one WP's history.
#[derive(Debug, Clone)]
pub struct Activity {
    pub feature: FeatureSlug,
    pub wp: WpId,
    /// The state commit that records it.
    pub commit: Oid,
    pub event: Event,
}

/// Every event of `targets`' histories, newest first (time, then Lamport clock, then id), and
/// the WPs whose history could not be read, with why: one damaged ref hides only itself.
pub fn read(
    repo: &Repo,
    targets: &[(FeatureSlug, WpId)],
) -> (Vec<Activity>, Vec<(FeatureSlug, WpId, Error)>) {
    let mut entries = Vec::new();
    let mut unreadable = Vec::new();
    for (feature, wp) in targets {
        match store::history(repo, feature, wp) {
            Ok(history) => entries.extend(history.into_iter().map(|(commit, event)| Activity {
                feature: feature.clone(),
                wp: wp.clone(),
                commit: commit.id,
                event,
            })),
            Err(e) => unreadable.push((feature.clone(), wp.clone(), e)),
        }
    }
    entries.sort_by_cached_key(|a| {
        std::cmp::Reverse((
            parse_rfc3339(&a.event.at),
            a.event.lamport,
            a.event.id.clone(),
        ))
    });
    (entries, unreadable)
}

/// The ids of events that a merge of histories refused (kept in the history, without effect).
pub fn refused(entries: &[Activity]) -> HashSet<String> {
    entries
        .iter()
        .filter(|a| a.event.kind == EventKind::Merge)
        .flat_map(|a| a.event.rejected.iter().cloned())
        .collect()
}
