//! `abandon`: give a WP back: remove its worktree and branch, release the claim.
//!
//! Nothing is lost silently: uncommitted changes, or commits that are not in the target
//! branch, make it refuse unless forced; a forced deletion of commits prints the branch tip
//! so it can be restored (`git branch <name> <commit>`), as `git branch -D` does.
//! The worktree goes first and the claim last: if anything fails half-way, what remains is a
//! claim without a worktree, which `status` shows and `implement` repairs.
//!
//! Only the WP's own branch and worktree are touched (`place`): a state that names others is
//! refused. The branch is deleted by compare-and-swap: one another writer moved meanwhile is
//! kept, and the report says so.
//!
//! On a clone whose claim lost to another machine's (`state::lost`), only what that claim left
//! here is given back (`lost`): the claim that won is not this clone's to release.

mod lost;

use std::path::PathBuf;

use serde::Serialize;

use super::{base, place};
use crate::error::{Error, Result};
use crate::git::{Cas, Oid, parse_oid};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::{EventKind, WpState};
use crate::state::store;
use crate::workspace::Workspace;

#[derive(Debug, Serialize)]
pub struct Abandoned {
    pub wp: String,
    pub feature: String,
    pub removed_worktree: Option<String>,
    /// The deleted branch and the commit it was at.
    pub deleted_branch: Option<DeletedBranch>,
    /// The branch, kept because another writer moved it while it was being deleted: the
    /// commit it is at now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_branch: Option<DeletedBranch>,
    /// Commits that were only on the deleted branch (forced).
    pub dropped_commits: usize,
    pub lane: Lane,
    /// Whether a release event gave the claim back (false when it was not this clone's).
    pub released: bool,
    /// The claim made here that lost to another machine's: only what it left here was given
    /// back, and the WP's state is untouched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_claim: Option<LostClaim>,
}

#[derive(Debug, Serialize)]
pub struct LostClaim {
    /// Whose claim lost.
    pub agent: String,
    /// Who holds the WP, by the claim that won.
    pub holder: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DeletedBranch {
    pub name: String,
    pub commit: String,
}

impl Abandoned {
    /// The report of giving `wp` back: what `removed` took away, and the WP's `lane` after.
    fn new(
        feature: &Feature,
        wp: &WpId,
        removed: Removed,
        lane: Lane,
        released: bool,
        lost_claim: Option<LostClaim>,
    ) -> Abandoned {
        Abandoned {
            wp: wp.to_string(),
            feature: feature.slug.to_string(),
            removed_worktree: removed.worktree,
            deleted_branch: removed.deleted_branch,
            kept_branch: removed.kept_branch,
            dropped_commits: removed.dropped_commits,
            lane,
            released,
            lost_claim,
        }
    }
}

/// The WP's worktree and branch here, and what giving them back would lose.
struct AtStake {
    branch: String,
    worktree: PathBuf,
    branch_tip: Option<Oid>,
    /// Uncommitted changes in the worktree.
    unsaved: Vec<String>,
    /// Commits only on the branch (`unmerged_commits`).
    unmerged: usize,
}

/// What `remove` did.
struct Removed {
    worktree: Option<String>,
    deleted_branch: Option<DeletedBranch>,
    /// Moved by another writer meanwhile: kept, at this commit.
    kept_branch: Option<DeletedBranch>,
    /// The unmerged commits, when the branch was deleted.
    dropped_commits: usize,
}

pub fn abandon(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    actor: &str,
    force: bool,
    note: Option<String>,
) -> Result<Abandoned> {
    let Some(tip) = store::read(&ws.repo, &feature.slug, wp)? else {
        return Err(Error::usage(format!(
            "{wp} was never claimed: there is nothing to abandon"
        )));
    };
    if let Some(lost) = crate::state::lost::read(&ws.repo, &feature.slug, wp, tip.commit)? {
        return lost::give_back(
            ws,
            feature,
            wp,
            &lost::Request { actor, force },
            lost,
            &tip.state,
        );
    }
    let state = tip.state;
    if state.lane == Lane::Done {
        return landed_leftovers(ws, feature, wp, &state, force);
    }
    may_abandon(wp, &state, actor, force)?;
    place::check(feature, wp, &state)?;
    let stake = at_stake(ws, feature, wp, &state)?;
    if !force && (!stake.unsaved.is_empty() || stake.unmerged > 0) {
        return Err(loss_refused(
            wp,
            &stake.branch,
            &stake.unsaved,
            stake.unmerged,
        ));
    }

    let removed = remove(ws, &stake, force)?;
    let initial = || ws.initial_state(feature, wp);
    let released = store::append(&ws.repo, &feature.slug, wp, &initial, &mut |s| {
        let mut e = store::draft(EventKind::Release, actor);
        e.from = Some(s.lane);
        e.to = Some(Lane::Planned);
        // Forced only when it takes another agent's claim back. `--force` that only drops
        // work on one's own claim must not become a release that a later join would apply to
        // the claim another machine won meanwhile.
        e.forced = force && takes_over(s, actor);
        e.note = Some(
            note.clone()
                .unwrap_or_else(|| "abandoned: worktree removed, claim released".into()),
        );
        if let Some(d) = &removed.deleted_branch {
            e.reason = force.then(|| format!("forced; {} was at {}", d.name, d.commit));
        }
        if let Some(k) = &removed.kept_branch {
            // Still there: the state keeps naming it.
            e.branch = Some(k.name.clone());
        }
        Ok(Some(e))
    })?;
    let (lane, released) = match released {
        store::Appended::Written(t) => (t.state.lane, true),
        store::Appended::Unchanged(s) => (s.lane, false),
    };
    Ok(Abandoned::new(feature, wp, removed, lane, released, None))
}

/// The WP's worktree and branch here (`place::locate`), and what they hold that no other
/// branch has: commits counted from where `state` says the branch started.
fn at_stake(ws: &Workspace, feature: &Feature, wp: &WpId, state: &WpState) -> Result<AtStake> {
    let place::Place {
        branch, worktree, ..
    } = place::locate(ws, feature, wp)?;
    let branch_tip = ws.repo.branch_tip(&branch)?;
    let unsaved = if worktree.exists() {
        ws.repo.worktree_changes(&worktree)?
    } else {
        Vec::new()
    };
    let unmerged = match branch_tip {
        Some(tip) => unmerged_commits(ws, feature, wp, state, tip)?,
        None => 0,
    };
    Ok(AtStake {
        branch,
        worktree,
        branch_tip,
        unsaved,
        unmerged,
    })
}

/// Remove the worktree (if it is there), then the branch if it is still at its tip
/// (compare-and-swap): what was removed, for the report.
fn remove(ws: &Workspace, stake: &AtStake, force: bool) -> Result<Removed> {
    let mut removed = Removed {
        worktree: None,
        deleted_branch: None,
        kept_branch: None,
        dropped_commits: 0,
    };
    let (path, branch) = (&stake.worktree, &stake.branch);
    if path.exists() {
        ws.repo.remove_worktree(path, force)?;
        removed.worktree = Some(path.display().to_string());
    }
    let Some(tip) = stake.branch_tip else {
        return Ok(removed);
    };
    match ws.repo.delete_branch(branch, tip)? {
        Cas::Done => {
            removed.deleted_branch = Some(DeletedBranch {
                name: branch.clone(),
                commit: tip.to_string(),
            });
            removed.dropped_commits = stake.unmerged;
        }
        Cas::Raced => {
            // Else deleted by the other writer: gone either way, and not by us.
            if let Some(now) = ws.repo.branch_tip(branch)? {
                removed.kept_branch = Some(DeletedBranch {
                    name: branch.clone(),
                    commit: now.to_string(),
                });
            }
        }
    }
    Ok(removed)
}

/// A done WP whose worktree or branch is still here (landed from another clone, or merged
/// with `--keep-worktrees`/`--keep-branches`): remove them, writing no event (there is no
/// claim to give back, and done is final). Anyone may; uncommitted changes and commits that
/// neither the target branch nor the remote's copy of the branch has are kept unless forced.
fn landed_leftovers(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    state: &WpState,
    force: bool,
) -> Result<Abandoned> {
    place::check(feature, wp, state)?;
    let place::Place {
        branch, worktree, ..
    } = place::locate(ws, feature, wp)?;
    let branch_tip = ws.repo.branch_tip(&branch)?;
    if !worktree.exists() && branch_tip.is_none() {
        return Err(Error::refused(format!(
            "{wp} is done: there is nothing to give back"
        )));
    }
    let unsaved = if worktree.exists() {
        ws.repo.worktree_changes(&worktree)?
    } else {
        Vec::new()
    };
    let (mut unmerged, mut target_name) = (0, String::new());
    if let Some(tip) = branch_tip {
        let (target, target_tip) = base::target_branch(ws, feature, Some(wp))?;
        let mut have = vec![target_tip];
        // The remote's copies as last fetched: of the branch (what was reviewed, while the
        // remote keeps it) and of the target (the landing, once fetched).
        if let Ok(remote) = crate::state::relation::remote_name(&ws.repo, None) {
            for name in [&branch, &target] {
                let copy = crate::workspace::branches::remote_branch_ref(&remote, name);
                have.extend(ws.repo.ref_tip(&copy)?);
            }
        }
        unmerged = ws.repo.trailer_commits(&[tip], &have)?.len();
        target_name = target;
    }
    let stake = AtStake {
        branch,
        worktree,
        branch_tip,
        unsaved,
        unmerged,
    };
    if !force && (!stake.unsaved.is_empty() || stake.unmerged > 0) {
        return Err(Error::refused(format!(
            "{wp} is done, and its worktree and branch here hold work that would be lost: {}",
            at_risk(&stake.branch, &stake.unsaved, stake.unmerged)
        ))
        .hint(format!(
            "if it landed from another clone, `git pull --ff-only` where {target_name} is checked out brings the landing; then run this again"
        ))
        .hint(format!(
            "commit it and keep it under another name (`git branch <name> {}`), then `git kitty abandon {} --force`",
            stake.branch,
            ws.wp_arg(feature, wp)
        )));
    }
    let removed = remove(ws, &stake, force)?;
    Ok(Abandoned::new(
        feature,
        wp,
        removed,
        Lane::Done,
        false,
        None,
    ))
}

/// Whether giving `state` back is taking it from another agent than `actor`.
fn takes_over(state: &WpState, actor: &str) -> bool {
    state
        .holder()
        .or(state.agent.as_deref())
        .is_some_and(|holder| holder != actor)
}

/// Only its holder gives a WP back (unless forced), and only before it is done.
fn may_abandon(wp: &WpId, state: &WpState, actor: &str, force: bool) -> Result<()> {
    if let Some(holder) = state.holder().or(state.agent.as_deref())
        && takes_over(state, actor)
        && !force
    {
        return Err(
            Error::refused(format!("{wp} is held by {holder}, not by {actor}"))
                .hint(format!("ask {holder}, or `git kitty abandon {wp} --force`")),
        );
    }
    if state.lane == Lane::Done {
        return Err(Error::refused(format!(
            "{wp} is done: there is nothing to give back"
        )));
    }
    Ok(())
}

/// Commits on the WP's branch (at `tip`) that its target branch does not have, counted from
/// where the branch started.
fn unmerged_commits(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    state: &WpState,
    tip: Oid,
) -> Result<usize> {
    let (_, target_tip) = base::target_branch(ws, feature, Some(wp))?;
    if ws.repo.is_ancestor(tip, target_tip)? {
        return Ok(0);
    }
    let from = state
        .base
        .as_ref()
        .and_then(|b| parse_oid(&b.commit))
        .map_or(Ok(target_tip), |b| {
            ws.repo.merge_base(b, tip).map(|m| m.unwrap_or(b))
        })?;
    ws.repo.count_between(from, tip)
}

/// The refusal to drop uncommitted changes or commits no other branch has, without --force.
fn loss_refused(wp: &WpId, branch: &str, unsaved: &[String], unmerged: usize) -> Error {
    Error::refused(format!(
        "{wp} has work that would be lost: {}",
        at_risk(branch, unsaved, unmerged)
    ))
    .hint(format!(
        "land or save it first, or `git kitty abandon {wp} --force` to drop it"
    ))
}

/// `uncommitted changes (a, b) and 2 commits on <branch> that no other branch has`.
fn at_risk(branch: &str, unsaved: &[String], unmerged: usize) -> String {
    let mut what = Vec::new();
    if !unsaved.is_empty() {
        let shown: Vec<&str> = unsaved.iter().take(10).map(String::as_str).collect();
        what.push(format!("uncommitted changes ({})", shown.join(", ")));
    }
    if unmerged > 0 {
        what.push(format!(
            "{unmerged} commit{} on {branch} that no other branch has",
            if unmerged == 1 { "" } else { "s" }
        ));
    }
    what.join(" and ")
}
