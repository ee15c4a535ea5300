//! `merge`: land approved WPs on their target branch, one merge each, dependencies first.
//!
//! Each merge is computed with `git merge-tree` (no working tree) and written as a commit that
//! carries the WP's `Kitty-WP:` trailer. The target branch then moves to it: by a fast-forward
//! `git merge --ff-only` in the worktree where it is checked out (so that checkout follows),
//! or by a compare-and-swap of the ref when it is checked out nowhere. A conflict stops the run
//! before that WP; the target keeps every earlier WP and nothing of this one.

use gix::ObjectId;
use serde::Serialize;

use super::base::{self, branch_name};
use crate::error::{Error, ErrorKind, Result};
use crate::git::history::{LANDED_TRAILER, WP_TRAILER};
use crate::git::{Cas, NewCommit, TreeMerge};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::EventKind;
use crate::state::store;
use crate::workspace::{States, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A merge commit per WP: the WP's commits keep their history.
    Merge,
    /// One new commit per WP holding all its changes.
    Squash,
}

pub struct Request<'a> {
    pub feature: &'a Feature,
    /// The WPs asked for (empty: every approved WP of the feature).
    pub wps: Vec<WpId>,
    pub dry_run: bool,
    pub strategy: Strategy,
    pub keep_worktrees: bool,
    pub keep_branches: bool,
    pub actor: String,
}

#[derive(Debug, Serialize)]
pub struct Landed {
    pub wp: String,
    pub target: String,
    /// The commit the target branch moved to (in a dry run: the one it would move to).
    pub commit: String,
    pub removed_worktree: bool,
    pub deleted_branch: bool,
    /// Notes for people: a worktree kept because it had changes, and the like.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Skipped {
    pub wp: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Conflict {
    pub wp: String,
    pub target: String,
    pub paths: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub feature: String,
    pub strategy: Strategy,
    pub dry_run: bool,
    /// In landing order.
    pub merged: Vec<Landed>,
    pub skipped: Vec<Skipped>,
    /// Dry run: every conflict predicted. A real run stops at the first (an error).
    pub conflicts: Vec<Conflict>,
}

pub fn merge(ws: &Workspace, states: &States, req: &Request<'_>) -> Result<Outcome> {
    let feature = req.feature;
    let lanes = ws.lanes(feature, states);
    let graph = feature.graph();
    let (order, _) = graph.order();
    let asked = |id: &WpId| req.wps.is_empty() || req.wps.iter().any(|w| w.number() == id.number());
    for w in &req.wps {
        if feature.index_of(w).is_none() {
            return Err(Error::usage(format!(
                "no work package {w} in feature {}",
                feature.slug
            )));
        }
    }

    let mut outcome = Outcome {
        feature: feature.slug.to_string(),
        strategy: req.strategy,
        dry_run: req.dry_run,
        merged: Vec::new(),
        skipped: Vec::new(),
        conflicts: Vec::new(),
    };
    // Where each target branch is, as this run moves it (a dry run moves it in memory only).
    let mut tips: Vec<(String, ObjectId)> = Vec::new();
    let mut landed_now: Vec<usize> = Vec::new();
    let mut held_back: Vec<(usize, String)> = Vec::new();
    let mut checked_checkouts: Vec<String> = Vec::new();

    for i in order {
        let wp = &feature.wps[i];
        let id = &wp.id;
        let lane = lanes[i].lane;
        if !asked(id) {
            continue;
        }
        let skip = |reason: String| Skipped {
            wp: id.to_string(),
            reason,
        };
        if lane == Lane::Done {
            if !req.wps.is_empty() {
                outcome.skipped.push(skip("already done".into()));
            }
            continue;
        }
        if lane != Lane::Approved {
            if !req.wps.is_empty()
                || matches!(
                    lane,
                    Lane::ForReview | Lane::InReview | Lane::InProgress | Lane::Claimed
                )
            {
                outcome.skipped.push(skip(format!("not approved ({lane})")));
            }
            held_back.push((i, format!("not approved ({lane})")));
            continue;
        }
        let (target, tip) = base::target_branch(ws, feature, Some(id))?;
        let target_tip = match tips.iter().find(|(name, _)| *name == target) {
            Some((_, moved)) => *moved,
            None => {
                tips.push((target.clone(), tip));
                tip
            }
        };
        // Dependencies first: each must be done, or landed earlier in this run.
        let mut waits = Vec::new();
        for &d in graph.deps(i) {
            let dep = &feature.wps[d];
            let done = lanes[d].lane == Lane::Done || landed_now.contains(&d);
            if !done {
                let why = held_back
                    .iter()
                    .find(|(h, _)| *h == d)
                    .map_or_else(|| lanes[d].lane.to_string(), |(_, r)| r.clone());
                waits.push(format!("{} ({why})", dep.id));
            }
        }
        if !waits.is_empty() {
            let reason = format!("waits on unmerged {}", waits.join(", "));
            outcome.skipped.push(skip(reason.clone()));
            held_back.push((i, reason));
            continue;
        }
        let branch = branch_name(feature, id);
        let Some(branch_tip) = ws.repo.branch_tip(&branch)? else {
            let reason = format!("no branch {branch} (implemented without git kitty?)");
            outcome.skipped.push(skip(reason.clone()));
            held_back.push((i, reason));
            continue;
        };
        if let Some(foreign) = foreign_work(ws, feature, id, target_tip, branch_tip)? {
            outcome.skipped.push(skip(foreign.clone()));
            held_back.push((i, foreign));
            continue;
        }
        if ws.repo.is_ancestor(branch_tip, target_tip)? {
            // Already on the target (merged by hand): nothing to merge, just record it.
            let mut landed = Landed {
                wp: id.to_string(),
                target: target.clone(),
                commit: target_tip.to_string(),
                removed_worktree: false,
                deleted_branch: false,
                notes: vec![format!("already on {target}: no new commit")],
            };
            if !req.dry_run {
                finish(
                    ws,
                    feature,
                    id,
                    &branch,
                    branch_tip,
                    target_tip,
                    &target,
                    req,
                    &mut landed,
                )?;
            }
            landed_now.push(i);
            outcome.merged.push(landed);
            continue;
        }
        if !req.dry_run && !checked_checkouts.contains(&target) {
            clean_checkout(ws, &target)?;
            checked_checkouts.push(target.clone());
        }
        let tree = match ws.repo.merge_trees(target_tip, branch_tip)? {
            TreeMerge::Clean(tree) => tree,
            TreeMerge::Conflict(paths) => {
                let conflict = Conflict {
                    wp: id.to_string(),
                    target: target.clone(),
                    paths,
                };
                if req.dry_run {
                    held_back.push((i, "conflicts".into()));
                    outcome.conflicts.push(conflict);
                    continue;
                }
                return Err(conflict_error(&outcome, &conflict, &branch));
            }
        };
        let commit = write_landing(
            ws, feature, id, &wp.title, &branch, tree, target_tip, branch_tip, req,
        )?;
        let mut landed = Landed {
            wp: id.to_string(),
            target: target.clone(),
            commit: commit.to_string(),
            removed_worktree: false,
            deleted_branch: false,
            notes: Vec::new(),
        };
        if !req.dry_run {
            if let Err(e) = move_target(ws, &target, target_tip, commit) {
                let earlier: Vec<&str> = outcome.merged.iter().map(|m| m.wp.as_str()).collect();
                return Err(if earlier.is_empty() {
                    e
                } else {
                    e.cause(format!("landed before this: {}", earlier.join(", ")))
                });
            }
            finish(
                ws,
                feature,
                id,
                &branch,
                branch_tip,
                commit,
                &target,
                req,
                &mut landed,
            )?;
        }
        if let Some(t) = tips.iter_mut().find(|(t, _)| *t == target) {
            t.1 = commit;
        }
        landed_now.push(i);
        outcome.merged.push(landed);
    }
    Ok(outcome)
}

/// Commits on the WP's branch (beyond the target) that name another WP, other than one it
/// depends on: landing them would land that WP's work out of its turn.
fn foreign_work(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    target: ObjectId,
    tip: ObjectId,
) -> Result<Option<String>> {
    let Some(start) = feature.index_of(wp) else {
        return Ok(None);
    };
    // The WP itself and everything it depends on, directly or not: a stacked branch carries
    // its dependencies' work (already landed, or landing before it).
    let graph = feature.graph();
    let mut allowed: Vec<u32> = vec![wp.number()];
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        for &d in graph.deps(i) {
            let n = feature.wps[d].id.number();
            if !allowed.contains(&n) {
                allowed.push(n);
                stack.push(d);
            }
        }
    }
    for c in ws.repo.history().commits(&[tip], &[target])? {
        for value in &c.wps {
            let other = value
                .split_once('/')
                .filter(|(f, _)| *f == feature.slug.as_str())
                .and_then(|(_, w)| w.parse::<WpId>().ok());
            match other {
                Some(o) if allowed.contains(&o.number()) => {}
                Some(o) => {
                    return Ok(Some(format!(
                        "its branch carries {o}'s work (commit {}): land it with {o}, or move it off this branch",
                        &c.id.to_string()[..7]
                    )));
                }
                None => {
                    return Ok(Some(format!(
                        "its branch carries a commit of {value} (commit {})",
                        &c.id.to_string()[..7]
                    )));
                }
            }
        }
    }
    Ok(None)
}

/// The target branch's checkout, if any, must be clean: it is fast-forwarded in place.
fn clean_checkout(ws: &Workspace, target: &str) -> Result<()> {
    for w in ws.repo.worktrees()? {
        if w.branch.as_deref() == Some(target) && w.path.exists() {
            let changes = ws.repo.tracked_changes(&w.path)?;
            if !changes.is_empty() {
                let shown: Vec<&str> = changes.iter().take(10).map(String::as_str).collect();
                return Err(Error::refused(format!(
                    "{target} is checked out in {} with uncommitted changes: {}",
                    w.path.display(),
                    shown.join(", ")
                ))
                .hint("commit or stash them, then run this again: landing moves that checkout"));
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_landing(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    title: &str,
    branch: &str,
    tree: ObjectId,
    target_tip: ObjectId,
    branch_tip: ObjectId,
    req: &Request<'_>,
) -> Result<ObjectId> {
    let (parents, message) = match req.strategy {
        Strategy::Merge => (
            vec![target_tip, branch_tip],
            format!(
                "Merge {wp}: {title} ({branch})\n\n{WP_TRAILER}: {0}/{wp}\n{LANDED_TRAILER}: {0}/{wp}\n",
                feature.slug
            ),
        ),
        Strategy::Squash => {
            let count = ws.repo.count_between(target_tip, branch_tip).unwrap_or(0);
            (
                vec![target_tip],
                format!(
                    "{wp}: {title}\n\nSquash of {count} commit{} from {branch}.\n\n{WP_TRAILER}: {1}/{wp}\n{LANDED_TRAILER}: {1}/{wp}\n",
                    if count == 1 { "" } else { "s" },
                    feature.slug
                ),
            )
        }
    };
    ws.repo.write_commit(NewCommit {
        tree: Some(tree),
        parents: &parents,
        message: &message,
        headers: &[],
        author_name: &req.actor,
        author_email: &ws
            .repo
            .config_string("user.email")
            .unwrap_or_else(|| "kitty@localhost".into()),
        time_secs: (crate::util::time::now_nanos() / 1_000_000_000) as i64,
    })
}

/// Move `target` from `old` to `new` (a descendant of `old`).
fn move_target(ws: &Workspace, target: &str, old: ObjectId, new: ObjectId) -> Result<()> {
    let checkout = ws
        .repo
        .worktrees()?
        .into_iter()
        .find(|w| w.branch.as_deref() == Some(target) && w.path.exists());
    match checkout {
        Some(w) => {
            // Fast-forward where it is checked out, so files and index follow the branch.
            ws.repo.fast_forward_worktree(&w.path, new).map_err(|e| {
                Error::failed(format!("could not move {target} in {}", w.path.display()))
                    .cause(e.causes.join("\n"))
            })?;
            Ok(())
        }
        None => match ws.repo.cas_ref(
            &format!("refs/heads/{target}"),
            Some(old),
            new,
            "git kitty merge",
        )? {
            Cas::Done => Ok(()),
            Cas::Raced => Err(Error::refused(format!(
                "{target} moved while git kitty was merging into it"
            ))
            .hint("run `git kitty merge` again")),
        },
    }
}

/// After a WP landed: mark it done, remove its worktree and branch unless kept.
#[allow(clippy::too_many_arguments)]
fn finish(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    branch: &str,
    branch_tip: ObjectId,
    commit: ObjectId,
    target: &str,
    req: &Request<'_>,
    landed: &mut Landed,
) -> Result<()> {
    let initial = || ws.initial_state(feature, wp);
    let short = &commit.to_string()[..7];
    store::append(&ws.repo, &feature.slug, wp, &initial, &mut |state| {
        let mut e = store::draft(EventKind::Lane, &req.actor);
        e.from = Some(state.lane);
        e.to = Some(Lane::Done);
        e.note = Some(format!("merged into {target} as {short}"));
        Ok(Some(e))
    })?;
    if !req.keep_worktrees
        && let Some(w) = ws
            .repo
            .worktrees()?
            .into_iter()
            .find(|w| w.branch.as_deref() == Some(branch))
    {
        let here = std::fs::canonicalize(&ws.cwd).unwrap_or_else(|_| ws.cwd.clone());
        let there = std::fs::canonicalize(&w.path).unwrap_or_else(|_| w.path.clone());
        if here.starts_with(&there) {
            landed.notes.push(format!(
                "worktree {} kept: git kitty runs inside it (`git worktree remove` it later)",
                w.path.display()
            ));
        } else if ws.repo.worktree_changes(&w.path)?.is_empty() {
            ws.repo.remove_worktree(&w.path, false)?;
            landed.removed_worktree = true;
        } else {
            landed.notes.push(format!(
                "worktree {} kept: it has uncommitted changes",
                w.path.display()
            ));
        }
    }
    let worktree_gone = landed.removed_worktree
        || !ws
            .repo
            .worktrees()?
            .iter()
            .any(|w| w.branch.as_deref() == Some(branch));
    if !req.keep_branches
        && worktree_gone
        && ws.repo.delete_branch(branch, branch_tip)? == Cas::Done
    {
        landed.deleted_branch = true;
    }
    if landed.removed_worktree || landed.deleted_branch {
        store::append(&ws.repo, &feature.slug, wp, &initial, &mut |_| {
            let mut e = store::draft(EventKind::Release, &req.actor);
            if !landed.deleted_branch {
                e.branch = Some(branch.to_owned());
            }
            Ok(Some(e))
        })?;
    }
    Ok(())
}

fn conflict_error(outcome: &Outcome, c: &Conflict, branch: &str) -> Error {
    let shown: Vec<&str> = c.paths.iter().take(20).map(String::as_str).collect();
    let landed: Vec<&str> = outcome.merged.iter().map(|m| m.wp.as_str()).collect();
    let mut err = Error::new(
        ErrorKind::Conflict,
        format!("{} conflicts with {}: {}", c.wp, c.target, shown.join(", ")),
    )
    .details(serde_json::json!({ "conflict": c, "merged": outcome.merged }));
    if !landed.is_empty() {
        err = err.cause(format!("landed before the conflict: {}", landed.join(", ")));
    }
    err.hint(format!(
        "{} is unchanged by {}. {branch} needs {}'s latest work: `git kitty lane {} in_progress --note \"conflicts with {}\"`, then in its worktree `git merge {}`, resolve, commit, and have it reviewed again",
        c.target, c.wp, c.target, c.wp, c.target, c.target
    ))
}
