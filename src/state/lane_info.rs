//! A WP's lane as the board sees it, and where it was read from: git kitty's state ref when
//! there is one, else what the plan says (Spec Kitty's event log, the frontmatter, `planned`).

use serde::Serialize;

use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::model::wp::WorkPackage;
use crate::state::stale::Stale;
use crate::state::store::Tip;
use crate::util::time::parse_rfc3339;

/// Where a WP's lane was read from, most authoritative first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LaneSource {
    /// git kitty's state ref `refs/kitty/wp/<feature>/<WP>`.
    State,
    /// Spec Kitty's `status.events.jsonl`.
    SpecKittyEvents,
    /// The frontmatter `lane:` field.
    Frontmatter,
    /// Nothing says: `planned`.
    Default,
}

/// A WP's runtime view, as far as the board needs it.
#[derive(Clone, Debug, Serialize)]
pub struct LaneInfo {
    pub lane: Lane,
    pub source: LaneSource,
    pub agent: Option<String>,
    pub reviewer: Option<String>,
    /// The note that last sent the review back, until approved (state refs only).
    pub feedback: Option<String>,
    /// Why the WP is blocked, while it is (state refs only).
    pub blocked_reason: Option<String>,
    /// Last change, nanoseconds since the epoch.
    #[serde(skip)]
    pub changed_at: Option<i128>,
    /// Extra facts the state knows (branch, worktree, base...), shown as-is.
    #[serde(skip)]
    pub extra: Option<serde_json::Value>,
    /// What git says about the WP's branch and worktree (filled by the caller).
    #[serde(skip)]
    pub runtime: Runtime,
}

/// Facts about a WP's branch and worktree that only git knows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Runtime {
    /// Dependencies whose branches moved past the base this WP was started from.
    pub stale: Vec<Stale>,
    /// The state names a worktree this clone made that no longer exists.
    pub worktree_missing: bool,
    /// The state names a worktree made on another machine (none here).
    pub worktree_elsewhere: bool,
    /// The WP's state ref exists but cannot be used (damaged, or from a newer version).
    pub state_unreadable: bool,
}

impl LaneInfo {
    /// The lane of a WP: its state ref when it has one, else what the plan says.
    pub fn of(feature: &Feature, wp: &WorkPackage, tip: Option<&Tip>) -> LaneInfo {
        match tip {
            Some(tip) => LaneInfo::from_state(tip),
            None => LaneInfo::from_plan(feature, wp),
        }
    }

    /// The lane recorded in git kitty's state ref.
    pub fn from_state(tip: &Tip) -> LaneInfo {
        let s = &tip.state;
        LaneInfo {
            lane: s.lane,
            source: LaneSource::State,
            agent: s.agent.clone(),
            reviewer: s.reviewer.clone(),
            feedback: s.feedback.clone(),
            blocked_reason: s.blocked_reason.clone(),
            changed_at: parse_rfc3339(&s.updated_at),
            extra: Some(serde_json::json!({
                "commit": tip.commit.to_string(),
                "events": s.events,
                "forced": s.forced,
                "review_status": s.review_status,
                "branch": s.branch,
                "worktree": s.worktree,
                "base": s.base,
            })),
            runtime: Runtime::default(),
        }
    }

    /// The lane the plan alone implies: Spec Kitty's log, else the frontmatter, else planned.
    pub fn from_plan(feature: &Feature, wp: &WorkPackage) -> LaneInfo {
        if let Some(r) = feature.replayed.get(&wp.id) {
            return LaneInfo {
                lane: r.lane,
                source: LaneSource::SpecKittyEvents,
                // The log's `actor` is whoever ran the command (often "user" or a migration),
                // not the agent working on the WP: only the frontmatter names that one.
                agent: wp.agent.clone(),
                reviewer: wp.reviewed_by.clone(),
                feedback: None,
                blocked_reason: None,
                changed_at: r.at,
                extra: None,
                runtime: Runtime::default(),
            };
        }
        LaneInfo {
            lane: wp.lane.unwrap_or(Lane::Planned),
            source: if wp.lane.is_some() {
                LaneSource::Frontmatter
            } else {
                LaneSource::Default
            },
            agent: wp.agent.clone(),
            reviewer: wp.reviewed_by.clone(),
            feedback: None,
            blocked_reason: None,
            changed_at: None,
            extra: None,
            runtime: Runtime::default(),
        }
    }
}
