//! Moving a WP to another lane: one event appended by compare-and-swap, checked by the lane
//! rules, and (with `--sync` or `kitty.syncClaims`) confirmed with the remote.

use crate::error::Result;
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::{Event, EventKind, Policy, WpState};
use crate::state::store::{self, Appended};
use crate::workspace::Workspace;

/// A lane move as asked for.
pub struct Move<'a> {
    pub feature: &'a Feature,
    pub wp: &'a WpId,
    pub to: Lane,
    pub actor: &'a str,
    pub note: Option<String>,
    /// Move a WP that another agent holds, or against the transition table.
    pub force: bool,
    pub reason: Option<String>,
    /// Confirm the move with the remote (claims also with `kitty.syncClaims`).
    pub sync: bool,
    /// What an orchestrator attaches to the move (empty for people and agents).
    pub provenance: Provenance,
}

/// What an external orchestrator attaches to a change (`git kitty orchestrator-api`): its
/// declared policy, the review the change answers, evidence. Recorded with the event.
#[derive(Clone, Debug, Default)]
pub struct Provenance {
    pub policy: Option<Policy>,
    pub review_ref: Option<String>,
    pub evidence: Option<serde_json::Value>,
}

impl Provenance {
    /// Record this provenance on `event`.
    pub fn stamp(&self, event: &mut Event) {
        event.policy = self.policy.clone();
        event.review_ref = self.review_ref.clone();
        event.evidence = self.evidence.clone();
    }
}

/// What a move did: the lane it started from and the append's outcome.
pub struct Moved {
    pub from: Lane,
    pub outcome: Appended,
}

/// Move a WP. Asking for the lane it is in, as its holder, writes nothing.
pub fn move_wp(ws: &Workspace, m: &Move<'_>) -> Result<Moved> {
    // The rules and the remote name the WP by id; a command line may need its feature too.
    move_by_id(ws, m).map_err(|e| ws.qualify_hints(m.feature, e))
}

fn move_by_id(ws: &Workspace, m: &Move<'_>) -> Result<Moved> {
    let claiming = matches!(m.to, Lane::Claimed | Lane::InProgress);
    let remote = if m.sync || (claiming && crate::sync::claims_synced(&ws.repo, false)) {
        let remote = crate::sync::remote_name(&ws.repo, None)?;
        crate::sync::refresh(ws, &remote, &m.feature.slug, m.actor)?;
        crate::sync::check_remote_state(ws, &remote, &m.feature.slug, m.wp)?;
        Some(remote)
    } else {
        None
    };
    let initial = || ws.initial_state(m.feature, m.wp);
    let mut from = Lane::Planned;
    let outcome = store::append(&ws.repo, &m.feature.slug, m.wp, &initial, &mut |state| {
        from = state.lane;
        decide(ws, m, state)
    })
    .map_err(|e| match e.holder().map(str::to_owned) {
        // The usual cause: the holder itself, acting without saying who it is.
        Some(holder) => {
            let agent = crate::util::shell::quote(&holder);
            e.hint_first(format!(
                "if you are {holder}: `git kitty lane {} {} --agent {agent}`",
                ws.wp_arg(m.feature, m.wp),
                m.to
            ))
        }
        None => e,
    })?;
    if let Some(remote) = &remote {
        confirm(ws, m, remote, &outcome)?;
    }
    Ok(Moved { from, outcome })
}

/// The event to append on top of `state`, or none when the WP is already where asked.
fn decide(ws: &Workspace, m: &Move<'_>, state: &WpState) -> Result<Option<Event>> {
    // Asking for the lane the WP is in, as its holder (or with no holder), is a no-op.
    if state.lane == m.to && state.holder().is_none_or(|h| h == m.actor) && !m.force {
        return Ok(None);
    }
    if m.to == Lane::ForReview && state.lane == Lane::InProgress && !m.force {
        crate::workflow::guard::reviewable(ws, m.feature, state)?;
    }
    let mut event = store::draft(EventKind::Lane, m.actor);
    event.from = Some(state.lane);
    event.to = Some(m.to);
    event.note = m.note.clone();
    event.forced = m.force;
    event.reason = m.reason.clone();
    m.provenance.stamp(&mut event);
    if matches!(m.to, Lane::Claimed | Lane::InProgress) {
        event.agent = Some(m.actor.to_owned());
    }
    Ok(Some(event))
}

/// Confirm the move with `remote`, also when nothing changed here: an earlier move may still
/// await confirmation. The move holds if the WP is in `to`, and ours where `to` makes its
/// mover the holder (a move to blocked keeps the agent who holds it).
fn confirm(ws: &Workspace, m: &Move<'_>, remote: &str, outcome: &Appended) -> Result<()> {
    let takes_hold = matches!(m.to, Lane::Claimed | Lane::InProgress | Lane::InReview);
    let ours = |s: &WpState| s.lane == m.to && (!takes_hold || s.holder() == Some(m.actor));
    let written = match outcome {
        Appended::Written(tip) => Some(tip.commit),
        Appended::Unchanged(_) => None,
    };
    let confirm = crate::sync::Confirm {
        remote,
        feature: &m.feature.slug,
        wp: m.wp,
        actor: m.actor,
        ours: &ours,
        written,
        again: format!("git kitty lane {} {} --sync", m.wp, m.to),
    };
    crate::sync::confirm(ws, &confirm)
}
