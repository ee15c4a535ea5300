//! What a state commit holds: the event it records and the WP's state after it.
//!
//! Both are JSON in extra commit headers (`kitty-event`, `kitty-state`), so reading a WP's
//! current state costs one object: the tip commit. The commit message is the same event for
//! people (`git log refs/kitty/wp/<feature>/<WP>` is the audit log). `v` is the schema
//! version: a reader refuses a version newer than its own, and migrates older ones.

use serde::{Deserialize, Serialize};

use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;

/// The schema version this build writes and the newest it reads.
pub const SCHEMA: u32 = 1;

/// Commit headers that carry the machine-readable state.
pub const EVENT_HEADER: &str = "kitty-event";
pub const STATE_HEADER: &str = "kitty-state";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A lane move (a claim is a move to `claimed` or `in_progress`).
    Lane,
    /// A note in the history; the lane does not change.
    Note,
    /// `implement` set up the WP's branch and worktree (and claimed it, in the same event).
    Implement,
    /// The WP's branch was rebased onto a new base.
    Restack,
    /// The WP's worktree was removed (abandon, or cleanup after merge).
    Release,
    /// Two histories of the WP were joined (`git kitty pull`).
    Merge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    HasFeedback,
    Approved,
}

/// What a WP's branch was started from, so it can be reproduced and checked for staleness.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Base {
    /// The commit the branch started from (for several dependencies: the merge commit).
    pub commit: String,
    pub kind: BaseKind,
    /// The target branch at the time, when the base came from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_branch: Option<String>,
    /// Each dependency that contributed, with the commit its branch was at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<BaseDependency>,
}

/// Where a WP's branch started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseKind {
    /// The target branch.
    Target,
    /// One dependency's branch.
    Dependency,
    /// A merge commit of several dependencies' branches (and the target).
    Merge,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseDependency {
    pub wp: String,
    pub branch: String,
    pub commit: String,
}

/// One event, as stored in the `kitty-event` header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub v: u32,
    /// Unique per event (actor, process, time, counter): two identical moves are two events.
    pub id: String,
    pub kind: EventKind,
    pub actor: String,
    /// RFC 3339 with nanoseconds.
    pub at: String,
    /// Lamport clock: one more than the largest clock among the parents.
    pub lamport: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Lane>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Lane>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub forced: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The agent a claim is for (normally the actor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worktree: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Base>,
    /// Merge events: ids of events the replay refused, kept in history but without effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
    /// The policy an orchestrator declared for this change (`git kitty orchestrator-api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<Policy>,
    /// The review this change answers (`--review-ref` of `orchestrator-api`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_ref: Option<String>,
    /// Evidence an orchestrator attached (`--evidence-json`, `--review-result-json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
    /// A repair (a note written by `git kitty repair`): the damaged object this history
    /// replaces as the WP's state. A server takes a history that does not contain its old
    /// value only when it starts with such a note naming that value and the value is damaged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// What an external orchestrator declares about the agents it runs (Spec Kitty's policy
/// metadata), recorded with every change it drives. Validated before it is stored
/// (`workflow::orchestrator::policy`): no secret-looking value, no banned flag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub orchestrator_id: String,
    pub orchestrator_version: String,
    pub agent_family: String,
    pub approval_mode: String,
    pub sandbox_mode: String,
    pub network_mode: String,
    pub dangerous_flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_restrictions: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A WP's state after an event, as stored in the `kitty-state` header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WpState {
    pub v: u32,
    pub feature: FeatureSlug,
    pub wp: WpId,
    pub lane: Lane,
    /// The implementer: who claimed it (and holds it while claimed or in progress).
    #[serde(default)]
    pub agent: Option<String>,
    /// Who took the review (holds it while in review) or approved it.
    #[serde(default)]
    pub reviewer: Option<String>,
    #[serde(default)]
    pub review_status: Option<ReviewStatus>,
    /// The note of the last move that sent the review back, until the WP is approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Why the WP is blocked (the note or reason of the move to blocked), while it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_reason: Option<String>,
    /// The WP's branch and worktree (repository-relative path), once `implement` made them.
    #[serde(default)]
    pub branch: Option<String>,
    #[serde(default)]
    pub worktree: Option<String>,
    #[serde(default)]
    pub base: Option<Base>,
    pub lamport: u64,
    /// Time of the last event (RFC 3339).
    pub updated_at: String,
    /// Number of events so far, and how many of them were forced.
    pub events: u64,
    #[serde(default)]
    pub forced: u64,
}

impl WpState {
    /// The state before any event: what the plan says.
    pub fn initial(feature: FeatureSlug, wp: WpId, lane: Lane, agent: Option<String>) -> WpState {
        WpState {
            v: SCHEMA,
            feature,
            wp,
            lane,
            agent,
            reviewer: None,
            review_status: None,
            feedback: None,
            blocked_reason: None,
            branch: None,
            worktree: None,
            base: None,
            lamport: 0,
            updated_at: String::new(),
            events: 0,
            forced: 0,
        }
    }

    /// Who holds the WP in its current lane, if anyone: the implementer while claimed, in
    /// progress or blocked, the reviewer while in review. Only the holder moves it without
    /// `--force`.
    pub fn holder(&self) -> Option<&str> {
        match self.lane {
            Lane::Claimed | Lane::InProgress | Lane::Blocked => self.agent.as_deref(),
            Lane::InReview => self.reviewer.as_deref(),
            _ => None,
        }
    }
}

/// Read the schema version of a header value without trusting the rest of it.
pub fn version_of(json: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct V {
        v: u64,
    }
    serde_json::from_str::<V>(json).ok().map(|v| v.v)
}

/// The commit message people read in `git log`: subject, note, trailers.
pub fn message(event: &Event, wp: &WpId) -> String {
    let who = &event.actor;
    let subject = match event.kind {
        EventKind::Lane | EventKind::Implement => format!(
            "{wp}: {} -> {} ({who})",
            event.from.map_or("?", Lane::as_str),
            event.to.map_or("?", Lane::as_str)
        ),
        EventKind::Note if event.replaces.is_some() => format!("{wp}: repaired ({who})"),
        EventKind::Note => format!("{wp}: note ({who})"),
        EventKind::Restack => format!("{wp}: restacked ({who})"),
        EventKind::Release => format!("{wp}: worktree released ({who})"),
        EventKind::Merge => format!("{wp}: merged histories ({who})"),
    };
    let mut msg = subject;
    if let Some(note) = &event.note {
        msg.push_str("\n\n");
        msg.push_str(note.trim());
    }
    let mut trailers = vec![format!(
        "Kitty-Event: {}",
        serde_json::to_value(event.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    )];
    if event.forced {
        trailers.push(format!(
            "Kitty-Forced: {}",
            event.reason.as_deref().unwrap_or("yes").replace('\n', " ")
        ));
    }
    if let Some(branch) = &event.branch {
        trailers.push(format!("Kitty-Branch: {branch}"));
    }
    if !event.rejected.is_empty() {
        trailers.push(format!("Kitty-Rejected: {}", event.rejected.join(", ")));
    }
    if let Some(replaced) = &event.replaces {
        trailers.push(format!("Kitty-Replaces: {replaced}"));
    }
    msg.push_str("\n\n");
    msg.push_str(&trailers.join("\n"));
    msg.push('\n');
    msg
}
