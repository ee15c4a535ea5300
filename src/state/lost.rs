//! Claims this clone lost to another machine's: made here without `--sync`, refused when the
//! histories were joined because another machine's claim reached the remote first.
//!
//! The joined history is the same on every clone once pushed, so it cannot say *which* clone
//! lost: the winner's clone reads the very same merge. What only the losing clone knows is that
//! its own state held the claim just before the join. So the join that finds a local claim lost
//! leaves a **marker**, the local ref `refs/kitty-lost/<feature>/<WP>`, pointing at that merge
//! commit (its first parent is the local state before the join, which names the losing agent).
//! It is never pushed or fetched (outside `refs/kitty/`), and is written only when the WP's own
//! branch or worktree exists here: something is left to give back. `status` marks that worktree,
//! `abandon` gives back only it (never a release event for a claim this clone does not hold) and
//! then drops the marker. A later claim by the same agent that takes effect supersedes it.

use std::collections::{HashMap, HashSet};

use super::schema::{Event, EventKind, WpState};
use super::store;
use super::verify::{Commits, RepoCommits};
use crate::error::Result;
use crate::git::{Cas, Oid, Repo};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;

/// Where the markers live: local refs, outside `refs/kitty/` (never pushed or fetched).
pub const PREFIX: &str = "refs/kitty-lost/";

pub fn ref_name(feature: &FeatureSlug, wp: &WpId) -> String {
    format!("{PREFIX}{feature}/{wp}")
}

/// The agent an event claims the WP for, when it is a claim: a move (or `implement`) to
/// claimed or in progress from planned, or a forced one (a takeover).
pub fn claimant(e: &Event) -> Option<&str> {
    let claim = matches!(e.kind, EventKind::Lane | EventKind::Implement)
        && matches!(e.to, Some(Lane::Claimed | Lane::InProgress))
        && (e.from == Some(Lane::Planned) || e.forced);
    claim.then(|| e.agent.as_deref().unwrap_or(&e.actor))
}

/// Whose local claim a join lost: `before` is the local state before the join, `rejected` the
/// events the join refused. The agent, when the local state held a claim (its implementer, in
/// any lane but planned) and the join refused that agent's claim.
pub fn lost_by<'a, 'e>(
    before: &'a WpState,
    mut rejected: impl Iterator<Item = &'e Event>,
) -> Option<&'a str> {
    let agent = before.agent.as_deref()?;
    if before.lane == Lane::Planned {
        return None;
    }
    rejected
        .any(|e| claimant(e) == Some(agent))
        .then_some(agent)
}

/// A claim this clone lost, as its marker records it.
#[derive(Debug, Clone)]
pub struct Lost {
    /// The agent whose claim lost.
    pub agent: String,
    /// The merge that refused it (what the marker points at).
    pub merge: Oid,
    /// The local state before that merge: the lost claim's (its base, for what would be lost).
    pub before: WpState,
}

/// Record that the join `merge` lost this clone's claim of `wp`.
pub fn record(repo: &Repo, feature: &FeatureSlug, wp: &WpId, merge: Oid) -> Result<()> {
    let name = ref_name(feature, wp);
    for _ in 0..5 {
        let current = repo.ref_target(&name)?;
        let log = "git kitty: a local claim lost to another machine's";
        if repo.cas_ref(&name, current, merge, log)? == Cas::Done {
            return Ok(());
        }
    }
    Ok(())
}

/// Drop the marker of `wp`, if it still points at `merge`.
pub fn forget(repo: &Repo, feature: &FeatureSlug, wp: &WpId, merge: Oid) -> Result<()> {
    repo.cas_ref_or_delete(&ref_name(feature, wp), merge, None)
        .map(|_| ())
}

/// The WPs with a marker (in force or not), by feature: one listing for every feature (a
/// board of hundreds of features must not list refs once per feature).
pub fn marked(repo: &Repo) -> Result<HashMap<FeatureSlug, Vec<WpId>>> {
    let mut out: HashMap<FeatureSlug, Vec<WpId>> = HashMap::new();
    for (name, _) in repo.refs_under(PREFIX)? {
        let Some((feature, wp)) = name[PREFIX.len()..].split_once('/') else {
            continue;
        };
        if let (Ok(feature), Ok(wp)) = (feature.parse(), wp.parse()) {
            out.entry(feature).or_default().push(wp);
        }
    }
    Ok(out)
}

/// The claim of `wp` this clone lost, while its marker is in force: no claim by the same
/// agent took effect since (`tip` is the WP's current state commit). A marker that cannot be
/// read (not a merge of this WP's states) counts as none.
pub fn read(repo: &Repo, feature: &FeatureSlug, wp: &WpId, tip: Oid) -> Result<Option<Lost>> {
    let Some(merge) = repo.ref_target(&ref_name(feature, wp))? else {
        return Ok(None);
    };
    let Some(lost) = decode(repo, feature, wp, merge) else {
        return Ok(None);
    };
    Ok((!superseded(repo, &lost, tip)?).then_some(lost))
}

fn decode(repo: &Repo, feature: &FeatureSlug, wp: &WpId, merge: Oid) -> Option<Lost> {
    let commit = repo.read_commit(merge).ok()?;
    let before_id = *commit.parents.first()?;
    let before = repo.read_commit(before_id).ok()?;
    let (_, state) = store::decode_for(&before, feature, wp).ok()?;
    Some(Lost {
        agent: state.agent.clone()?,
        merge,
        before: state,
    })
}

/// Whether a claim by the lost agent took effect in the history from `tip` that `lost.merge`
/// does not hold (an event no merge refused).
fn superseded(repo: &Repo, lost: &Lost, tip: Oid) -> Result<bool> {
    let mut commits = RepoCommits::new(repo);
    let mut events = Vec::new();
    for id in commits.only_in(tip, Some(lost.merge))? {
        if let Ok(commit) = repo.read_commit(id)
            && let Ok((event, _)) = store::decode(&commit)
        {
            events.push(event);
        }
    }
    let refused: HashSet<&str> = events
        .iter()
        .flat_map(|e| e.rejected.iter().map(String::as_str))
        .collect();
    Ok(events
        .iter()
        .any(|e| !refused.contains(e.id.as_str()) && claimant(e) == Some(lost.agent.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::store::draft;

    fn state(lane: Lane, agent: Option<&str>) -> WpState {
        let mut s = WpState::initial(
            "001-x".parse().unwrap(),
            "WP01".parse().unwrap(),
            lane,
            None,
        );
        s.agent = agent.map(str::to_owned);
        s
    }

    fn claim(actor: &str, from: Lane, to: Lane) -> Event {
        let mut e = draft(EventKind::Implement, actor);
        e.from = Some(from);
        e.to = Some(to);
        e
    }

    #[test]
    fn a_claim_is_a_move_from_planned_or_a_takeover() {
        assert_eq!(
            claimant(&claim("codex", Lane::Planned, Lane::InProgress)),
            Some("codex")
        );
        let mut named = claim("ci", Lane::Planned, Lane::Claimed);
        named.agent = Some("codex".into());
        assert_eq!(claimant(&named), Some("codex"));
        assert_eq!(
            claimant(&claim("codex", Lane::Claimed, Lane::InProgress)),
            None
        );
        let mut takeover = claim("codex", Lane::ForReview, Lane::InProgress);
        assert_eq!(claimant(&takeover), None);
        takeover.forced = true;
        assert_eq!(claimant(&takeover), Some("codex"));
        assert_eq!(claimant(&draft(EventKind::Note, "codex")), None);
    }

    #[test]
    fn lost_only_when_the_local_holder_s_claim_was_refused() {
        let mine = claim("codex", Lane::Planned, Lane::InProgress);
        let theirs = claim("claude", Lane::Planned, Lane::InProgress);
        let held = state(Lane::InProgress, Some("codex"));
        assert_eq!(lost_by(&held, [&mine].into_iter()), Some("codex"));
        // Worked on and sent to review offline: still the implementer's lost claim.
        let reviewed = state(Lane::ForReview, Some("codex"));
        assert_eq!(lost_by(&reviewed, [&mine].into_iter()), Some("codex"));
        // Someone else's refused claim, or nothing refused: nothing lost here.
        assert_eq!(lost_by(&held, [&theirs].into_iter()), None);
        assert_eq!(lost_by(&held, std::iter::empty()), None);
        // Claimed and given back offline: there is nothing left to lose.
        let released = state(Lane::Planned, None);
        assert_eq!(lost_by(&released, [&mine].into_iter()), None);
    }
}
