//! The activity of many WPs as one feed: every event of their state histories, newest first
//! (what `git kitty log` prints and the dashboard's feed shows).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

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
    sort_newest_first(&mut entries);
    (entries, unreadable)
}

/// Newest first: by time, then Lamport clock, then id.
fn sort_newest_first(entries: &mut [Activity]) {
    entries.sort_by_cached_key(|a| {
        std::cmp::Reverse((
            parse_rfc3339(&a.event.at),
            a.event.lamport,
            a.event.id.clone(),
        ))
    });
}

/// One event as `git kitty log --json` prints it (and the dashboard's feed carries it): its
/// feature, WP and state commit, then the event's own fields.
#[derive(Serialize)]
pub struct Entry<'a> {
    pub feature: &'a str,
    pub wp: &'a str,
    pub commit: String,
    /// A merge of histories refused this event: it is kept, without effect.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub refused: bool,
    #[serde(flatten)]
    pub event: &'a Event,
}

impl Activity {
    pub fn entry(&self, refused: &HashSet<String>) -> Entry<'_> {
        Entry {
            feature: self.feature.as_str(),
            wp: self.wp.as_str(),
            commit: self.commit.to_string(),
            refused: refused.contains(&self.event.id),
            event: &self.event,
        }
    }
}

/// The feed of many WPs kept up to date by a long-running reader (the dashboard). For each WP
/// it keeps the newest [`Feed::PER_WP`] events (no more can ever reach the top of the feed)
/// and, when the WP's state ref moves on, reads only the commits it does not have yet: a
/// change costs its new events, and memory stays bounded however long histories grow.
#[derive(Default)]
pub struct Feed {
    histories: HashMap<(FeatureSlug, WpId), Kept>,
}

struct Kept {
    tip: Oid,
    /// Newest first, at most [`Feed::PER_WP`].
    entries: Vec<Activity>,
    /// The commits of `entries`.
    commits: HashSet<Oid>,
}

impl Feed {
    /// Events kept per WP: the length of the dashboard's feed.
    pub const PER_WP: usize = 60;

    /// The newest events of the WPs in `tips` (each with its state ref's commit), newest
    /// first, and the WPs whose history could not be read. WPs no longer in `tips` are
    /// forgotten.
    pub fn update(
        &mut self,
        repo: &Repo,
        tips: &[(FeatureSlug, WpId, Oid)],
    ) -> (Vec<Activity>, Vec<(FeatureSlug, WpId, Error)>) {
        let mut unreadable = Vec::new();
        let mut kept = HashMap::with_capacity(tips.len());
        for (feature, wp, tip) in tips {
            let key = (feature.clone(), wp.clone());
            let old = self.histories.remove(&key);
            match refresh(repo, feature, wp, *tip, old) {
                Ok(k) => {
                    kept.insert(key, k);
                }
                Err(e) => unreadable.push((feature.clone(), wp.clone(), e)),
            }
        }
        self.histories = kept;
        let mut all: Vec<Activity> = self
            .histories
            .values()
            .flat_map(|k| k.entries.iter().cloned())
            .collect();
        sort_newest_first(&mut all);
        (all, unreadable)
    }
}

/// One WP's kept events at `tip`: those already kept plus the new ones, or all of them
/// again when the ref went back (a claim taken back) rather than on.
fn refresh(
    repo: &Repo,
    feature: &FeatureSlug,
    wp: &WpId,
    tip: Oid,
    old: Option<Kept>,
) -> Result<Kept, Error> {
    let old = match old {
        Some(k) if k.tip == tip => return Ok(k),
        Some(k) if !k.commits.contains(&tip) => Some(k),
        _ => None,
    };
    let known = old.as_ref().map(|k| k.commits.clone()).unwrap_or_default();
    let new = store::history_from(repo, feature, wp, tip, &known)?;
    let mut entries: Vec<Activity> = new
        .into_iter()
        .map(|(commit, event)| Activity {
            feature: feature.clone(),
            wp: wp.clone(),
            commit: commit.id,
            event,
        })
        .collect();
    if let Some(old) = old {
        entries.extend(old.entries);
    }
    sort_newest_first(&mut entries);
    entries.truncate(Feed::PER_WP);
    Ok(Kept {
        tip,
        commits: entries.iter().map(|a| a.commit).collect(),
        entries,
    })
}

/// The ids of events that a merge of histories refused (kept in the history, without effect).
pub fn refused(entries: &[Activity]) -> HashSet<String> {
    entries
        .iter()
        .filter(|a| a.event.kind == EventKind::Merge)
        .flat_map(|a| a.event.rejected.iter().cloned())
        .collect()
}
