//! Sharing state between machines through any git remote.
//!
//! The remote's `refs/kitty/*` are fetched into `refs/kitty-remotes/<remote>/*`, never over
//! local state. Each WP is then brought together: a missing or older local ref is
//! fast-forwarded; where both sides have new events, a merge commit replays the local-only
//! events on top of the remote's state (`store::join`). Pushing sends the changed refs, each
//! with a lease on the value last seen on the remote; when the remote moved meanwhile, git
//! kitty pulls, merges and tries again. A claim made with `--sync` counts only once such a
//! push is accepted: the remote is the arbiter between machines, as the ref compare-and-swap
//! is within one clone. A claim made here without `--sync` that a join refuses is reported as
//! lost (`lost`: exit 1, and a local marker for `status` and `abandon`).
//!
//! WP branches travel with the state ([`branches`]): `pull` fetches them in the same `git
//! fetch` and fast-forwards local ones, `push` sends them after the state.

pub mod branches;
mod lost;

use std::collections::HashMap;

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::git::remote::{Lease, Pushed};
use crate::git::{Cas, ObjectKind, Oid, Repo};
use crate::model::ids::{FeatureSlug, WpId};
use crate::state::relation::{Relation, relation, tracking_prefix};
use crate::state::schema::WpState;
use crate::state::store::{self, PREFIX};
use crate::workspace::Workspace;

/// How many times `push` pulls and retries when the remote keeps moving.
const PUSH_ATTEMPTS: usize = 5;

/// At most this many refs per `git push`.
const PUSH_CHUNK: usize = 256;

pub use crate::state::relation::remote_name;
pub use lost::LostClaim;

/// What `pull` fetches: the remote's state refs (one feature's, or all) into its tracking refs.
pub fn fetch_spec(remote: &str, feature: Option<&FeatureSlug>) -> String {
    match feature {
        Some(f) => format!("+{PREFIX}{f}/*:{}{f}/*", tracking_prefix(remote)),
        None => format!("+refs/kitty/*:refs/kitty-remotes/{remote}/*"),
    }
}

/// What happened to one WP's state.
#[derive(Debug, Clone, Serialize)]
pub struct WpSync {
    pub feature: String,
    pub wp: String,
    pub outcome: Outcome,
    /// Events a merge refused, for the people who made them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<RejectedEvent>,
    /// A claim made here that this merge refused (listed in [`Report::lost_claims`]).
    #[serde(skip)]
    pub lost: Option<LostClaim>,
}

/// What `pull` or `push` did to one WP's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Only the remote had it.
    New,
    FastForward,
    /// Both had new events: replayed together.
    Merged,
    /// Only local has new events (`push` sends them).
    Ahead,
    Pushed,
}

impl Outcome {
    /// The name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::New => "new",
            Outcome::FastForward => "fast_forward",
            Outcome::Merged => "merged",
            Outcome::Ahead => "ahead",
            Outcome::Pushed => "pushed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectedEvent {
    pub id: String,
    pub actor: String,
    pub what: String,
    pub why: String,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub remote: String,
    pub changed: Vec<WpSync>,
    pub unchanged: usize,
    /// WPs that could not be brought together (a damaged ref, a newer git kitty's state),
    /// one message each; the others were.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<String>,
    /// Claims made here that lost to another machine's (exit 1).
    pub lost_claims: Vec<LostClaim>,
    /// What happened to WP branches (`branches::BranchSync`): only those that changed or
    /// need attention.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branches: Vec<branches::BranchSync>,
}

/// Fetch (unless `fetch` is false: use what the last fetch, plain `git fetch` included,
/// brought) and bring every WP's local state together with the remote's.
pub fn pull(
    ws: &Workspace,
    remote: &str,
    fetch: bool,
    actor: &str,
    feature: Option<&FeatureSlug>,
) -> Result<Report> {
    if fetch {
        let mut specs = vec![fetch_spec(remote, feature)];
        specs.extend(branches::fetch_specs(ws, remote, feature));
        ws.repo.fetch(remote, &specs)?;
        crate::state::relation::mark_fetched(&ws.repo, remote);
    }
    let prefix = match feature {
        Some(f) => format!("{}{f}/", tracking_prefix(remote)),
        None => tracking_prefix(remote),
    };
    let mut report = Report {
        remote: remote.to_owned(),
        ..Report::default()
    };
    for (name, tip) in ws.repo.refs_under(&prefix)? {
        let Some(remote_tip) = tip else { continue };
        let rel = &name[tracking_prefix(remote).len()..];
        let Some((f, w)) = store::parse_wp_path(rel) else {
            continue;
        };
        // One WP's damaged state must not keep the others from syncing.
        match bring_together(ws, &f, &w, remote_tip, actor) {
            Ok(Some(mut done)) => {
                report.lost_claims.extend(done.lost.take());
                report.changed.push(done);
            }
            Ok(None) => report.unchanged += 1,
            Err(e) if e.kind == ErrorKind::Failed => {
                report.failed.push(format!("{f}/{w}: {}", e.message));
            }
            Err(e) => return Err(e),
        }
    }
    report.branches = branches::update_local(ws, remote, feature)?;
    Ok(report)
}

/// Bring one WP's local ref together with `remote_tip`. `None` when nothing changed.
fn bring_together(
    ws: &Workspace,
    f: &FeatureSlug,
    w: &WpId,
    remote_tip: Oid,
    actor: &str,
) -> Result<Option<WpSync>> {
    let name = store::ref_name(f, w);
    let entry = |outcome: Outcome, rejected: Vec<RejectedEvent>| WpSync {
        feature: f.to_string(),
        wp: w.to_string(),
        outcome,
        rejected,
        lost: None,
    };
    for _ in 0..10 {
        let local = ws.repo.ref_tip(&name)?;
        if local == Some(remote_tip) {
            return Ok(None);
        }
        // Whatever is taken from the remote must be this WP's state (a damaged or misplaced
        // ref is reported, not copied into local state, nor walked as a history).
        usable_remote_tip(ws, f, w, remote_tip)?;
        let relation = relation(local, Some(remote_tip), |a, d| ws.repo.is_ancestor(a, d))?;
        let mut lost_by = None;
        let (outcome, new, rejected) = match (relation, local) {
            (Some(Relation::InSync), _) => return Ok(None),
            (Some(Relation::Ahead), _) => return Ok(Some(entry(Outcome::Ahead, Vec::new()))),
            (Some(Relation::RemoteOnly), _) => (Outcome::New, remote_tip, Vec::new()),
            (Some(Relation::Behind), _) => (Outcome::FastForward, remote_tip, Vec::new()),
            (Some(Relation::Diverged), Some(l)) => {
                let joined = join(ws, f, w, l, remote_tip, actor)?;
                lost_by = joined.lost.map(|agent| (agent, joined.state));
                (Outcome::Merged, joined.commit, joined.rejected)
            }
            (Some(Relation::Diverged | Relation::LocalOnly) | None, _) => {
                unreachable!("the remote has a tip, and diverged means a local one too")
            }
        };
        let log = format!("git kitty pull: {}", outcome.as_str());
        if ws.repo.cas_ref(&name, local, new, &log)? == Cas::Done {
            let mut done = entry(outcome, rejected);
            if let Some((agent, state)) = lost_by {
                done.lost = Some(lost::found(ws, (f, w), &agent, &state, new)?);
            }
            return Ok(Some(done));
        }
        // A local writer moved the ref meanwhile: look again.
    }
    Err(Error::failed(format!(
        "{name} keeps changing; run `git kitty pull` again"
    )))
}

/// `remote_tip` (what the remote's ref for `f`/`w` points at, unpeeled) must be a readable
/// state commit of that WP, in a schema this version reads. The error says which ref, why,
/// and the way out.
fn usable_remote_tip(ws: &Workspace, f: &FeatureSlug, w: &WpId, remote_tip: Oid) -> Result<()> {
    let why = match ws.repo.object_kind(remote_tip)? {
        Some(ObjectKind::Commit) => {
            let commit = ws.repo.read_commit(remote_tip)?;
            match store::decode_for(&commit, f, w) {
                Ok(_) => return Ok(()),
                Err(why) => why,
            }
        }
        Some(kind) => store::Unusable::Damaged(format!(
            "it points at a {}, {remote_tip}, not at a state commit",
            kind.as_str()
        )),
        None => store::Unusable::Damaged(format!("it points at {remote_tip}, which is missing")),
    };
    let hint = match why {
        store::Unusable::Newer(_) => "upgrade git kitty to use it".to_owned(),
        store::Unusable::Damaged(_) => format!(
            "the remote's ref {PREFIX}{f}/{w} must be repaired there; until then \
             commands without `--sync` work on the local state"
        ),
    };
    Err(Error::failed(format!(
        "the remote's state of {f}/{w} cannot be used: {why}"
    ))
    .hint(hint))
}

/// Before a change that the remote must confirm (`--sync`): the remote's state of `wp`, as
/// last fetched, must be usable, or nothing is written at all. A damaged or newer remote
/// state could never confirm the change, and a claim made anyway would be left without its
/// worktree.
pub fn check_remote_state(
    ws: &Workspace,
    remote: &str,
    feature: &FeatureSlug,
    wp: &WpId,
) -> Result<()> {
    let tracking = format!("{}{feature}/{wp}", tracking_prefix(remote));
    match ws.repo.ref_target(&tracking)? {
        None => Ok(()),
        Some(tip) => usable_remote_tip(ws, feature, wp, tip).map_err(|e| {
            let mut out = Error::failed(format!("{}; nothing was changed here", e.message));
            for h in &e.hints {
                out = out.hint(h.clone());
            }
            out
        }),
    }
}

/// A join of a WP's diverged histories, as `pull` reports it.
struct Join {
    commit: Oid,
    state: WpState,
    rejected: Vec<RejectedEvent>,
    /// The agent whose claim, held here before the join, the join refused.
    lost: Option<String>,
}

/// Join the diverged local and remote histories of a WP (`store::join`): the merge commit,
/// the events it refused, for the people who made them, and the local claim it lost.
fn join(
    ws: &Workspace,
    f: &FeatureSlug,
    w: &WpId,
    local: Oid,
    remote_tip: Oid,
    actor: &str,
) -> Result<Join> {
    let joined = store::join(&ws.repo, local, remote_tip, f, w, actor)?;
    let before = store::decode_for(&ws.repo.read_commit(local)?, f, w)
        .ok()
        .map(|(_, s)| s);
    let lost = before
        .as_ref()
        .and_then(|b| crate::state::lost::lost_by(b, joined.rejected.iter().map(|(e, _)| e)))
        .map(str::to_owned);
    let rejected = joined
        .rejected
        .iter()
        .map(|(e, why)| RejectedEvent {
            id: e.id.clone(),
            actor: e.actor.clone(),
            what: store::describe(e),
            why: why.clone(),
        })
        .collect();
    Ok(Join {
        commit: joined.commit,
        state: joined.state,
        rejected,
        lost,
    })
}

/// Push state ([`push_state`]), then the WP branches that go with it
/// ([`branches::push`]).
pub fn push(
    ws: &Workspace,
    remote: &str,
    actor: &str,
    feature: Option<&FeatureSlug>,
) -> Result<Report> {
    let mut report = push_state(ws, remote, actor, feature)?;
    report.branches = branches::push(ws, remote, feature)?;
    Ok(report)
}

/// Push every local state ref that the remote (as last seen) does not have, with leases;
/// when the remote moved, pull, merge and retry.
fn push_state(
    ws: &Workspace,
    remote: &str,
    actor: &str,
    feature: Option<&FeatureSlug>,
) -> Result<Report> {
    // Local must contain what we last saw of the remote before anything goes out.
    let mut report = pull(ws, remote, false, actor, feature)?;
    for attempt in 0..PUSH_ATTEMPTS {
        if attempt > 0 {
            let again = pull(ws, remote, true, actor, feature)?;
            // WPs still waiting to go out were listed as "ahead" by the first pull already.
            report.changed.extend(
                again
                    .changed
                    .into_iter()
                    .filter(|c| c.outcome != Outcome::Ahead),
            );
            report.failed = again.failed;
            report.lost_claims.extend(again.lost_claims);
        }
        let leases = pending(ws, remote, feature)?;
        if leases.is_empty() {
            return Ok(report);
        }
        // Chunks keep each command line short (thousands of refs would not fit) and each
        // push small; every lease still guards its own ref.
        let mut raced = false;
        for chunk in leases.chunks(PUSH_CHUNK) {
            match ws.repo.push_leases(remote, chunk)? {
                Pushed::Accepted => {
                    record_pushed(ws, remote, chunk)?;
                    let pushed: Vec<(FeatureSlug, WpId)> = chunk
                        .iter()
                        .filter_map(|l| store::parse_ref_name(&l.name))
                        .collect();
                    report.changed.retain(|c| {
                        c.outcome != Outcome::Ahead
                            || !pushed
                                .iter()
                                .any(|(f, w)| f.as_str() == c.feature && w.as_str() == c.wp)
                    });
                    report
                        .changed
                        .extend(pushed.into_iter().map(|(f, w)| WpSync {
                            feature: f.to_string(),
                            wp: w.to_string(),
                            outcome: Outcome::Pushed,
                            rejected: Vec::new(),
                            lost: None,
                        }));
                }
                Pushed::Stale(_) => raced = true,
                Pushed::Declined(said) => {
                    return Err(Error::refused(format!("{remote} refused the state update"))
                        .cause(said)
                        .hint("`git kitty pull` first if the remote has state you do not"));
                }
            }
        }
        if !raced {
            return Ok(report);
        }
    }
    Err(Error::failed(format!(
        "gave up pushing to {remote} after {PUSH_ATTEMPTS} attempts: it kept moving"
    ))
    .hint("run `git kitty sync` again"))
}

/// Local state refs that differ from the remote's last known value, as leases. Each is a
/// descendant of that value (push calls `pull` first), so nothing on the remote is dropped.
fn pending(ws: &Workspace, remote: &str, feature: Option<&FeatureSlug>) -> Result<Vec<Lease>> {
    let local_prefix = match feature {
        Some(f) => format!("{PREFIX}{f}/"),
        None => PREFIX.to_owned(),
    };
    let tracking: HashMap<String, Oid> = ws
        .repo
        .refs_under(&tracking_prefix(remote))?
        .into_iter()
        .filter_map(|(n, id)| Some((n[tracking_prefix(remote).len()..].to_owned(), id?)))
        .collect();
    let mut leases = Vec::new();
    for (name, id) in ws.repo.refs_under(&local_prefix)? {
        let (Some(id), Some(_)) = (id, store::parse_ref_name(&name)) else {
            continue;
        };
        let rel = &name[PREFIX.len()..];
        let expected = tracking.get(rel).copied();
        if expected == Some(id) {
            continue;
        }
        if let Some(e) = expected
            && !ws.repo.is_ancestor(e, id)?
        {
            continue; // diverged: the next pull merges it first
        }
        leases.push(Lease {
            name,
            expected,
            new: id,
        });
    }
    Ok(leases)
}

/// After an accepted push, the remote has these values: track them.
fn record_pushed(ws: &Workspace, remote: &str, leases: &[Lease]) -> Result<()> {
    for l in leases {
        let tracking = format!("{}{}", tracking_prefix(remote), &l.name[PREFIX.len()..]);
        let current = ws.repo.ref_tip(&tracking)?;
        let _ = ws
            .repo
            .cas_ref(&tracking, current, l.new, "git kitty push")?;
    }
    Ok(())
}

/// Pull, then push: one report of what changed on either side, and what the push could not
/// bring together.
pub fn sync(ws: &Workspace, remote: &str, actor: &str) -> Result<Report> {
    let mut report = pull(ws, remote, true, actor, None)?;
    let pushed = push(ws, remote, actor, None)?;
    report.changed.retain(|c| c.outcome != Outcome::Ahead);
    report.changed.extend(pushed.changed);
    report.failed = pushed.failed;
    report.lost_claims.extend(pushed.lost_claims);
    report.branches = branches::combine(std::mem::take(&mut report.branches), pushed.branches);
    Ok(report)
}

/// What to confirm with the remote: one WP's state, just changed by `actor`.
pub struct Confirm<'a> {
    pub remote: &'a str,
    pub feature: &'a FeatureSlug,
    pub wp: &'a WpId,
    pub actor: &'a str,
    /// Whether the change still holds in a state (after a join).
    pub ours: &'a dyn Fn(&WpState) -> bool,
    /// The state commit this run wrote, if any: undone when it cannot be confirmed.
    pub written: Option<Oid>,
    /// The command that confirms it later, for the hint.
    pub again: String,
}

/// Confirm with the remote the local state of one WP, just changed (a claim, a move made
/// with `--sync`): push it with a lease. When the remote moved meanwhile, fetch, join (the remote's state is the
/// base, local events replay on top) and, while `ours` still holds of the joined state, push
/// again. Errors:
/// - `refused` when the join rejected the change: another machine got there first. The
///   local state is then the remote's, nothing to undo.
/// - `unreachable` when the remote cannot be reached, `refused` when it declines the update:
///   the change this run wrote is undone (local state as it was before the command); one
///   written earlier stays, unconfirmed. Either way `again` (the command that confirms it)
///   says how to retry.
pub fn confirm(ws: &Workspace, c: &Confirm<'_>) -> Result<()> {
    let (remote, feature, wp) = (c.remote, c.feature, c.wp);
    let name = store::ref_name(feature, wp);
    let not_confirmed = |e: Error| unconfirmed(ws, c, &name, e);
    for attempt in 0..PUSH_ATTEMPTS {
        if attempt > 0 {
            ws.repo
                .fetch(remote, &[fetch_spec(remote, Some(feature))])
                .map_err(not_confirmed)?;
        }
        // Local must contain the remote's state before it goes out. A remote state that
        // cannot be joined (damaged meanwhile) can never confirm the change: taken back.
        let tracking = format!("{}{feature}/{wp}", tracking_prefix(remote));
        let expected = ws.repo.ref_target(&tracking)?;
        if let Some(remote_tip) = expected {
            bring_together(ws, feature, wp, remote_tip, c.actor).map_err(&not_confirmed)?;
        }
        let Some(tip) = store::read(&ws.repo, feature, wp)? else {
            return Ok(()); // no state on either side: nothing to confirm
        };
        if !(c.ours)(&tip.state) {
            return Err(lost(wp, remote, &tip.state));
        }
        if expected == Some(tip.commit) {
            return Ok(());
        }
        let lease = Lease {
            name: name.clone(),
            expected,
            new: tip.commit,
        };
        let pushed = ws
            .repo
            .push_leases(remote, std::slice::from_ref(&lease))
            .map_err(&not_confirmed)?;
        match pushed {
            Pushed::Accepted => return record_pushed(ws, remote, &[lease]),
            Pushed::Stale(_) => continue,
            Pushed::Declined(said) => {
                return Err(not_confirmed(
                    Error::refused(format!("{remote} refused {wp}'s new state")).cause(said),
                ));
            }
        }
    }
    Err(not_confirmed(Error::failed(format!(
        "{remote} kept moving ({PUSH_ATTEMPTS} attempts)"
    ))))
}

/// The change of `c` was not confirmed (`e` says why): take back what this run wrote to the
/// ref `name`, if nothing came after it, and say what state is left and how to retry.
fn unconfirmed(ws: &Workspace, c: &Confirm<'_>, name: &str, e: Error) -> Error {
    let (remote, wp, again) = (c.remote, c.wp, &c.again);
    let undone = c
        .written
        .is_some_and(|commit| withdraw(&ws.repo, name, commit));
    let (what, hint) = if undone {
        (
            format!("{wp}'s change was not confirmed and is undone"),
            format!("local state is as it was; run `{again}` again when {remote} takes it"),
        )
    } else {
        (
            format!("{wp}'s change is recorded here but not confirmed"),
            format!(
                "`{again}` confirms it once {remote} takes it \
                 (or `git kitty abandon {wp}` gives a claim back)"
            ),
        )
    };
    let message = match e.kind {
        ErrorKind::Unreachable => format!("{remote} cannot be reached: {what}"),
        _ => format!("{}: {what}", e.message),
    };
    let mut out = Error::new(e.kind, message).hint(hint);
    for cause in &e.causes {
        out = out.cause(cause.clone());
    }
    for h in &e.hints {
        out = out.hint(h.clone());
    }
    out
}

/// Move `name` back from `commit` to its parent (or delete it), only if `commit` is still
/// the tip: a commit that nobody else has seen. Whether it was undone.
fn withdraw(repo: &Repo, name: &str, commit: Oid) -> bool {
    let Ok(data) = repo.read_commit(commit) else {
        return false;
    };
    let before = data.parents.first().copied();
    matches!(repo.cas_ref_or_delete(name, commit, before), Ok(Cas::Done))
}

/// The error when the remote's state won over a local change.
fn lost(wp: &WpId, remote: &str, state: &WpState) -> Error {
    let err = match state.holder() {
        Some(holder) => Error::refused(format!(
            "{wp} was claimed by {holder} on another machine first"
        )),
        None => Error::refused(format!(
            "{wp} changed on another machine first: it is {} there, your change did not apply",
            state.lane
        )),
    };
    err.details(serde_json::json!({
        "holder": state.holder(),
        "lane": state.lane,
        "remote": remote,
    }))
    .hint(format!(
        "nothing was kept of it; `git kitty log {wp}` shows both sides, \
         `git kitty next --sync` finds free work"
    ))
}

/// Fetch and merge one feature's state from `remote` before a claim. Unreachable is an
/// error: a confirmed claim needs the remote.
pub fn refresh(ws: &Workspace, remote: &str, feature: &FeatureSlug, actor: &str) -> Result<()> {
    pull(ws, remote, true, actor, Some(feature)).map(|_| ())
}

/// Whether claims go through the remote: `--sync`, or `git config kitty.syncClaims true`.
pub fn claims_synced(repo: &Repo, flag: bool) -> bool {
    flag || repo.config_bool("kitty.syncClaims").unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_keep_their_json_names() {
        use Outcome::*;
        for o in [New, FastForward, Merged, Ahead, Pushed] {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert_eq!(FastForward.as_str(), "fast_forward");
    }
}
