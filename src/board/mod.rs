//! The board: what `git kitty status` shows, computed from the plan and each WP's lane.
//!
//! Pure data (it is also the `--json` document, see docs/json.md); rendering is in
//! `render::board`. Where a lane comes from is decided by the caller ([`LaneInfo`]), so this
//! module does not care whether it was read from refs, Spec Kitty's log or the frontmatter.

mod landed;
mod lost;
mod read;

pub use landed::LeftHere;
pub use lost::{LostHere, give_back_command, left_here};
pub use read::{Snapshot, Sources, read, read_with_remote};

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::model::problem::Problem;
use crate::state::lane_info::{LaneInfo, LaneSource};

/// Version of the `status --json` document's shape (docs/json.md); bumped on incompatible
/// changes.
pub const SCHEMA: u32 = 1;

/// The `status --json` document.
#[derive(Debug, Serialize)]
pub struct Board {
    /// Version of this document's shape (docs/json.md); bumped on incompatible changes.
    pub schema: u32,
    pub features: Vec<FeatureBoard>,
    pub problems: Vec<Problem>,
}

#[derive(Debug, Serialize)]
pub struct FeatureBoard {
    pub slug: String,
    pub work_packages: Vec<WpView>,
    pub progress: Progress,
    /// Planned WPs whose dependencies are all approved or done and whose files have no
    /// errors, best first: the one that unblocks the most remaining work, ties by id.
    pub ready: Vec<String>,
    /// Planned WPs that still wait, with what they wait on.
    pub waiting: Vec<Waiting>,
    /// How local state compares with the remote's last fetched state (`None` before any
    /// fetch from it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteSummary>,
    /// The remote whose state this clone has never fetched (a fresh clone: `git clone` does
    /// not bring `refs/kitty/*`); `git kitty pull` brings it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unfetched_remote: Option<String>,
}

/// Counts of WPs by how their local state compares with the remote's.
#[derive(Debug, Default, Serialize)]
pub struct RemoteSummary {
    pub name: String,
    pub in_sync: usize,
    pub ahead: usize,
    pub behind: usize,
    pub diverged: usize,
    pub local_only: usize,
    pub remote_only: usize,
}

#[derive(Debug, Serialize)]
pub struct WpView {
    pub id: String,
    /// How a command line names it (`WP01`, or `WP01 --feature 002-search` where another
    /// feature has a WP01): for the board's hints, not the JSON.
    #[serde(skip)]
    pub arg: String,
    pub title: String,
    pub lane: Lane,
    pub lane_source: LaneSource,
    pub dependencies: Vec<String>,
    pub ready: bool,
    /// Dependencies not yet approved or done (unknown ids included: they never will be).
    pub waiting_on: Vec<String>,
    /// The WP's file has errors (`git kitty check` lists them): it is never ready until fixed.
    pub has_errors: bool,
    pub agent: Option<String>,
    pub reviewer: Option<String>,
    /// The note of the last move that sent the review back, until the WP is approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Why the WP is blocked, while it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// RFC 3339 time of the last lane change, when known.
    pub updated_at: Option<String>,
    /// How many WPs depend on this one, directly or not, and are not done yet.
    pub unblocks: usize,
    pub subtasks: usize,
    pub phase: Option<String>,
    pub file: String,
    /// Dependencies whose branches moved past this WP's base: `git kitty restack` it.
    pub stale: Vec<crate::state::stale::Stale>,
    /// The WP's worktree, made in this clone, is gone (deleted by hand, an interrupted
    /// `implement`).
    pub worktree_missing: bool,
    /// The WP's worktree was made on another machine: this clone has no branch of it and
    /// got its state from the remote.
    pub worktree_elsewhere: bool,
    /// How this WP's state compares with the remote's (see [`FeatureBoard::remote`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<crate::state::relation::Relation>,
    /// Runtime facts from the state ref (branch, worktree, base); see docs/json.md.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<serde_json::Value>,
    /// A claim made here lost to another machine's, and left its worktree or branch here:
    /// `git kitty abandon` gives them back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_claim: Option<LostHere>,
    /// Done, and its worktree or branch is still here (landed from another clone):
    /// `git kitty abandon` removes them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left_here: Option<LeftHere>,
}

#[derive(Debug, Serialize)]
pub struct Waiting {
    pub id: String,
    pub waiting_on: Vec<WaitingOn>,
}

#[derive(Debug, Serialize)]
pub struct WaitingOn {
    pub id: String,
    /// `None` for a dependency that is not in the plan.
    pub lane: Option<Lane>,
}

#[derive(Debug, Serialize)]
pub struct Progress {
    pub done: usize,
    /// WPs that count: all but canceled ones.
    pub total: usize,
    /// `done / total`, in percent, rounded to one decimal.
    pub percent: f64,
    /// Each WP weighted by its lane (planned 0, claimed 0.1, in_progress 0.3, for_review 0.6,
    /// in_review 0.7, approved 0.9, done 1), in percent.
    pub weighted_percent: f64,
    pub by_lane: BTreeMap<Lane, usize>,
}

/// Build one feature's board. `lane_of` gives each WP's lane (in `feature.wps` order).
pub fn feature_board(feature: &Feature, lanes: &[LaneInfo]) -> FeatureBoard {
    let graph = feature.graph();
    let lane_by_id = |id: &crate::model::ids::WpId| feature.index_of(id).map(|i| lanes[i].lane);
    let mut views = Vec::with_capacity(feature.wps.len());
    for (i, wp) in feature.wps.iter().enumerate() {
        let info = &lanes[i];
        let waiting_on: Vec<String> = wp
            .dependencies()
            .filter(|d| *d != &wp.id && !lane_by_id(d).is_some_and(Lane::satisfies_dependency))
            .map(|d| d.as_str().to_owned())
            .collect();
        views.push(WpView {
            id: wp.id.as_str().to_owned(),
            arg: wp.id.as_str().to_owned(),
            title: wp.title.clone(),
            lane: info.lane,
            lane_source: info.source,
            dependencies: wp.dependencies().map(|d| d.as_str().to_owned()).collect(),
            ready: info.lane == Lane::Planned
                && waiting_on.is_empty()
                && !wp.has_errors
                && !info.runtime.state_unreadable,
            waiting_on,
            has_errors: wp.has_errors || info.runtime.state_unreadable,
            agent: info.agent.clone(),
            reviewer: info.reviewer.clone(),
            feedback: info.feedback.clone(),
            blocked_reason: info.blocked_reason.clone(),
            updated_at: info.changed_at.map(crate::util::time::format_rfc3339),
            unblocks: graph.held_back(i, |d| !matches!(lanes[d].lane, Lane::Done | Lane::Canceled)),
            subtasks: wp.subtasks,
            phase: wp.phase.clone(),
            file: wp.file.clone(),
            sync: None,
            stale: info.runtime.stale.clone(),
            worktree_missing: info.runtime.worktree_missing,
            worktree_elsewhere: info.runtime.worktree_elsewhere,
            state: info.extra.clone(),
            lost_claim: None,
            left_here: None,
        });
    }

    let mut ready: Vec<&WpView> = views.iter().filter(|v| v.ready).collect();
    // Best first: what unblocks the most remaining work, ties by id (views are in id order).
    ready.sort_by_key(|v| std::cmp::Reverse(v.unblocks));
    let waiting = views
        .iter()
        .filter(|v| v.lane == Lane::Planned && !v.waiting_on.is_empty())
        .map(|v| Waiting {
            id: v.id.clone(),
            waiting_on: v
                .waiting_on
                .iter()
                .map(|d| WaitingOn {
                    id: d.clone(),
                    lane: d.parse().ok().and_then(|id| lane_by_id(&id)),
                })
                .collect(),
        })
        .collect();

    FeatureBoard {
        slug: feature.slug.as_str().to_owned(),
        ready: ready.iter().map(|v| v.id.clone()).collect(),
        waiting,
        remote: None,
        unfetched_remote: None,
        progress: progress(lanes),
        work_packages: views,
    }
}

fn progress(lanes: &[LaneInfo]) -> Progress {
    let mut by_lane = BTreeMap::new();
    for l in lanes {
        *by_lane.entry(l.lane).or_insert(0) += 1;
    }
    let counted: Vec<Lane> = lanes
        .iter()
        .map(|l| l.lane)
        .filter(|l| *l != Lane::Canceled)
        .collect();
    let total = counted.len();
    let done = counted.iter().filter(|l| **l == Lane::Done).count();
    let weighted: f64 = counted.iter().map(|l| l.progress_weight()).sum();
    let pct = |x: f64| {
        if total == 0 {
            0.0
        } else {
            (x * 1000.0 / total as f64).round() / 10.0
        }
    };
    Progress {
        done,
        total,
        percent: pct(done as f64),
        weighted_percent: pct(weighted),
        by_lane,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::plan::{FeatureListing, Plan};

    fn feature(spec: &[(&str, &[&str], &str)]) -> Feature {
        let mut listing = FeatureListing::new("001-x");
        let mut files = std::collections::HashMap::new();
        for (id, deps, lane) in spec {
            let path = format!("tasks/{id}-x.md");
            listing.add_file(&path);
            files.insert(
                format!("kitty-specs/001-x/{path}"),
                format!(
                    "---\nwork_package_id: {id}\ndependencies: [{}]\nlane: {lane}\n---\n",
                    deps.join(", ")
                ),
            );
        }
        let mut plan = Plan::load(vec![listing], &|p: &str| Ok(files[p].clone().into_bytes()));
        plan.features.remove(0)
    }

    fn board(f: &Feature) -> FeatureBoard {
        let lanes: Vec<LaneInfo> = f.wps.iter().map(|w| LaneInfo::from_plan(f, w)).collect();
        feature_board(f, &lanes)
    }

    #[test]
    fn fan_out_is_ready_once_the_root_is_approved() {
        let f = feature(&[
            ("WP01", &[], "in_progress"),
            ("WP02", &["WP01"], "planned"),
            ("WP03", &["WP01"], "planned"),
            ("WP04", &["WP01"], "planned"),
        ]);
        let b = board(&f);
        assert!(b.ready.is_empty());
        assert_eq!(b.waiting.len(), 3);
        assert_eq!(b.waiting[0].waiting_on[0].lane, Some(Lane::InProgress));
        assert_eq!(b.work_packages[0].unblocks, 3);

        let f = feature(&[
            ("WP01", &[], "approved"),
            ("WP02", &["WP01"], "planned"),
            ("WP03", &["WP01"], ""),
            ("WP04", &["WP01"], "doing"),
        ]);
        let b = board(&f);
        assert_eq!(b.ready, ["WP02", "WP03"]);
        assert!(b.waiting.is_empty());
    }

    #[test]
    fn diamond_waits_on_both_sides_and_ready_prefers_what_unblocks_most() {
        let f = feature(&[
            ("WP01", &[], "done"),
            ("WP02", &["WP01"], "planned"),
            ("WP03", &["WP01", "WP05"], "planned"),
            ("WP04", &["WP02", "WP03"], "planned"),
            ("WP05", &[], "planned"),
        ]);
        let b = board(&f);
        // WP05 unblocks WP03 and WP04; WP02 unblocks WP04 only.
        assert_eq!(b.ready, ["WP05", "WP02"]);
        let w4 = b.waiting.iter().find(|w| w.id == "WP04").unwrap();
        let on: Vec<&str> = w4.waiting_on.iter().map(|w| w.id.as_str()).collect();
        assert_eq!(on, ["WP02", "WP03"]);
    }

    #[test]
    fn progress_ignores_canceled_and_weights_lanes() {
        let f = feature(&[
            ("WP01", &[], "done"),
            ("WP02", &[], "for_review"),
            ("WP03", &[], "canceled"),
            ("WP04", &[], "planned"),
        ]);
        let p = board(&f).progress;
        assert_eq!((p.done, p.total), (1, 3));
        assert_eq!(p.percent, 33.3);
        assert_eq!(p.weighted_percent, 53.3);
        assert_eq!(p.by_lane[&Lane::Canceled], 1);
    }

    #[test]
    fn unknown_dependencies_keep_a_wp_waiting() {
        let f = feature(&[("WP01", &["WP09"], "planned")]);
        let b = board(&f);
        assert!(b.ready.is_empty());
        assert_eq!(b.waiting[0].waiting_on[0].lane, None);
    }
}
