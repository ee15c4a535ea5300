//! Taking a WP's review: a worktree of its branch (from this clone, else from the remote's
//! copy last fetched) and the move to `in_review` with the reviewer as its holder.
//!
//! The worktree comes first (reversible), the lane move last; when the move fails, what this
//! run made (the worktree, the local branch) is removed again. Run again by the same
//! reviewer, the worktree is handed back (and made again if it went missing).

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::{Cas, Oid};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::WpState;
use crate::state::store;
use crate::workflow::lane::{Move, move_wp};
use crate::workflow::place;
use crate::workspace::Workspace;
use crate::workspace::branches::Where;

/// A review as asked for.
pub struct Request<'a> {
    pub feature: &'a Feature,
    pub wp: WpId,
    pub actor: String,
    /// Confirm the move to in_review with the remote (fetching state and branch first).
    pub sync: bool,
}

/// What `review` did (the `--json` document).
#[derive(Debug, Serialize)]
pub struct Reviewed {
    pub wp: String,
    pub feature: String,
    pub branch: String,
    /// Absolute path of the worktree.
    pub worktree: PathBuf,
    pub lane: Lane,
    pub reviewer: String,
    pub implementer: Option<String>,
    /// Where the branch came from: `local`, or `{"remote": "origin"}` when this run made the
    /// local branch from the remote's copy.
    pub branch_from: Where,
    /// The WP was already in review by this reviewer: nothing moved.
    pub reused: bool,
    /// This run made the worktree (else it existed: the implementer's, in this clone).
    pub made_worktree: bool,
    /// The WP's file: what the work was meant to do.
    pub prompt: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Take the review of `req.wp`: see the module documentation.
pub fn review(ws: &Workspace, req: &Request<'_>) -> Result<Reviewed> {
    let (feature, wp) = (req.feature, &req.wp);
    if req.sync {
        let remote = crate::sync::remote_name(&ws.repo, None)?;
        crate::sync::refresh(ws, &remote, &feature.slug, &req.actor)?;
    }
    let state = match store::read(&ws.repo, &feature.slug, wp)? {
        Some(tip) => tip.state,
        None => ws.initial_state(feature, wp),
    };
    place::check(feature, wp, &state)?;
    let reused = check_lane(ws, feature, wp, &state, &req.actor)?;
    let spot = place::locate(ws, feature, wp)?;
    let (branch_from, made_branch) = ensure_branch(ws, feature, wp, &spot.branch)?;
    let checked_out = ws
        .repo
        .worktrees()?
        .iter()
        .any(|w| w.branch.as_deref() == Some(spot.branch.as_str()));
    let made_worktree = !checked_out;
    if !checked_out && std::fs::symlink_metadata(&spot.worktree).is_ok() {
        undo_branch(ws, &spot.branch, made_branch);
        return Err(Error::refused(format!(
            "{} is in the way: it is not a worktree of {}",
            spot.worktree.display(),
            spot.branch
        ))
        .hint("move it away (it is not git kitty's), then run the same command again"));
    }
    if made_worktree {
        crate::workflow::implement::ensure_excluded(ws)?;
        if let Err(e) = ws
            .repo
            .add_worktree_for_branch(&spot.worktree, &spot.branch)
        {
            undo_branch(ws, &spot.branch, made_branch);
            return Err(e);
        }
    }
    if !reused {
        let moved = move_wp(
            ws,
            &Move {
                feature,
                wp,
                to: Lane::InReview,
                actor: &req.actor,
                note: None,
                force: false,
                reason: None,
                sync: req.sync,
                provenance: Default::default(),
            },
        );
        if let Err(e) = moved {
            if made_worktree {
                let _ = ws.repo.remove_worktree(&spot.worktree, false);
            }
            undo_branch(ws, &spot.branch, made_branch);
            return Err(e);
        }
    }
    let prompt = feature.wp(wp).map(|w| w.file.clone()).unwrap_or_default();
    Ok(Reviewed {
        wp: wp.to_string(),
        feature: feature.slug.to_string(),
        branch: spot.branch,
        worktree: spot.worktree,
        lane: Lane::InReview,
        reviewer: req.actor.clone(),
        implementer: state.agent.clone(),
        branch_from,
        reused,
        made_worktree,
        prompt,
        warnings: crate::workflow::implement::trailer_hook(ws),
    })
}

/// Only work for review is taken; work in review by this reviewer is handed back (`true`).
fn check_lane(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    state: &WpState,
    actor: &str,
) -> Result<bool> {
    let arg = ws.wp_arg(feature, wp);
    match state.lane {
        Lane::ForReview => Ok(false),
        Lane::InReview if state.reviewer.as_deref() == Some(actor) => Ok(true),
        Lane::InReview => {
            let reviewer = state.reviewer.as_deref().unwrap_or("someone else");
            Err(Error::refused(format!("{wp} is in review by {reviewer}"))
                .details(serde_json::json!({ "holder": reviewer, "lane": state.lane }))
                .hint(format!(
                    "if you are {reviewer}: `git kitty review {arg} --agent {}`",
                    crate::util::shell::quote(reviewer)
                )))
        }
        Lane::Approved => Err(Error::refused(format!("{wp} is approved already"))
            .hint(format!("`git kitty merge {arg}` lands it"))),
        Lane::Done | Lane::Canceled => Err(Error::refused(format!(
            "{wp} is {}: there is nothing left to review",
            state.lane
        ))
        .hint(format!("`git kitty log {arg}` shows its history"))),
        other => {
            let err = Error::refused(format!(
                "{wp} is {other}: review takes work that is for_review"
            ))
            .hint(format!(
                "`git kitty lane {arg} for_review` once its work is committed; `git kitty status` shows what waits for review"
            ));
            // A fresh clone reads every WP as planned: the lane here may be no lane at all.
            let unfetched = crate::state::relation::remote_name(&ws.repo, None)
                .ok()
                .filter(|r| crate::state::relation::never_fetched(&ws.repo, r).unwrap_or(false));
            Err(match unfetched {
                Some(remote) => err.hint_first(format!(
                    "the state of {remote} was never fetched here: `git kitty pull` brings it (or `git kitty review {arg} --sync`)"
                )),
                None => err,
            })
        }
    }
}

/// The WP's local branch, made from the remote's copy last fetched when there is none here.
/// Where it came from, and whether this run made it.
fn ensure_branch(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    branch: &str,
) -> Result<(Where, bool)> {
    match ws.wp_branch_tip(&feature.slug, wp)? {
        Some((_, Where::Local)) => Ok((Where::Local, false)),
        Some((tip, Where::Remote(remote))) => {
            make_branch(ws, branch, tip)?;
            Ok((Where::Remote(remote), true))
        }
        None => {
            let remote = crate::sync::remote_name(&ws.repo, None).ok();
            let mut err = Error::refused(format!(
                "{wp} has no branch {branch} here{}",
                remote
                    .as_deref()
                    .map(|r| format!(" nor on {r} as last fetched"))
                    .unwrap_or_default()
            ));
            if remote.is_some() {
                err = err.hint(
                    "`git kitty pull` fetches it once its implementer's machine pushed it \
                     (`git kitty push` there)",
                );
            }
            Err(err)
        }
    }
}

fn make_branch(ws: &Workspace, branch: &str, tip: Oid) -> Result<()> {
    let name = format!("refs/heads/{branch}");
    match ws
        .repo
        .cas_ref(&name, None, tip, "git kitty review: branch from the remote")?
    {
        Cas::Done => Ok(()),
        Cas::Raced => Err(
            Error::refused(format!("a branch `{branch}` appeared meanwhile"))
                .hint("run the same command again"),
        ),
    }
}

/// Delete the branch this run made (if nothing moved it since).
fn undo_branch(ws: &Workspace, branch: &str, made: bool) {
    if !made {
        return;
    }
    if let Ok(Some(tip)) = ws.repo.branch_tip(branch) {
        let _ = ws.repo.delete_branch(branch, tip);
    }
}
