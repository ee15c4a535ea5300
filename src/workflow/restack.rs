//! `restack`: move a WP's branch onto its dependencies' current work, then its dependents'.
//!
//! For each WP in dependency order (the one asked for, then every WP that depends on it and
//! has a worktree): compute the base again; if it changed, `git rebase --onto <new> <old>` in
//! the WP's own worktree (refused when that worktree has uncommitted changes) and record the
//! new base. A conflict stops the run: the rebase is left in progress in that worktree for its
//! agent to resolve, and the WP is moved to `blocked` with a note saying how to go on.

use gix::ObjectId;
use serde::Serialize;

use super::base::{self, describe_base};
use crate::error::{Error, ErrorKind, Result};
use crate::git::Rebase;
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::{EventKind, WpState};
use crate::state::store;
use crate::workspace::{States, Workspace};

#[derive(Debug, Serialize)]
pub struct Step {
    pub wp: String,
    /// `restacked`, `up_to_date`, `resumed` (a rebase finished by hand), `conflict`.
    pub outcome: String,
    pub old_base: Option<String>,
    pub new_base: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

/// Restack `wp` and its dependents. Returns the steps taken; a conflict is an error (exit 4)
/// carrying the steps in its details. Only work in progress is rebased: WPs in review or
/// approved are left alone (rebasing would change reviewed code). Every worktree involved is
/// checked before anything is rebased, so a dirty one stops the run before it starts.
pub fn restack(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    states: &States,
    actor: &str,
    force: bool,
) -> Result<Vec<Step>> {
    let main = ws
        .repo
        .main_workdir()
        .unwrap_or(&ws.plan_root)
        .to_path_buf();
    let mut plan: Vec<(WpId, WpState, String, std::path::PathBuf, bool)> = Vec::new();
    let mut steps = Vec::new();
    for id in with_dependents(feature, wp) {
        let asked = id == *wp;
        let state = states
            .get(&(feature.slug.clone(), id.clone()))
            .map(|t| t.state.clone());
        let (Some(state), true) = (
            state.clone(),
            state
                .as_ref()
                .is_some_and(|s| s.worktree.is_some() && s.base.is_some()),
        ) else {
            if asked {
                return Err(Error::usage(format!("{wp} has no worktree to restack"))
                    .hint(format!("start it with `git kitty implement {wp}`")));
            }
            continue;
        };
        if !matches!(state.lane, Lane::Claimed | Lane::InProgress | Lane::Blocked) {
            if asked {
                return Err(Error::refused(format!(
                    "{wp} is {}: restacking would change work that is in review or done",
                    state.lane
                ))
                .hint(format!(
                    "move it back first: `git kitty lane {wp} in_progress --note \"...\"`"
                )));
            }
            steps.push(Step {
                wp: id.to_string(),
                outcome: format!("skipped ({})", state.lane),
                old_base: state.base.as_ref().map(|b| b.commit.clone()),
                new_base: None,
                conflicts: Vec::new(),
            });
            continue;
        }
        if asked
            && !force
            && let Some(holder) = state.holder()
            && holder != actor
        {
            return Err(Error::refused(format!("{wp} is claimed by {holder}"))
                .hint(format!("ask {holder}, or `git kitty restack {wp} --force`")));
        }
        let rel = state.worktree.clone().unwrap_or_default();
        let base = state
            .base
            .as_ref()
            .map(|b| b.commit.clone())
            .unwrap_or_default();
        let path = main.join(&rel);
        preflight(ws, &id, &path, asked)?;
        let by_restack = states
            .get(&(feature.slug.clone(), id.clone()))
            .is_some_and(|t| t.event.kind == EventKind::Restack);
        plan.push((id, state, base, path, by_restack));
    }
    for (id, state, old, path, by_restack) in plan {
        let step = restack_one(ws, feature, &id, &state, &old, &path, actor, by_restack)?;
        let conflict = step.outcome == "conflict";
        steps.push(step);
        if conflict {
            let last = steps.last().expect("just pushed");
            let shown: Vec<&str> = last.conflicts.iter().take(20).map(String::as_str).collect();
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("restacking {id} stopped on a conflict in {}", shown.join(", ")),
            )
            .details(serde_json::json!({ "steps": steps }))
            .hint(format!(
                "resolve it in {}: edit, `git add`, `git rebase --continue`; then `git kitty restack {id}`",
                path.display()
            ))
            .hint(format!("or give up the rebase there with `git rebase --abort` (then `git kitty lane {id} in_progress`)")));
        }
    }
    Ok(steps)
}

/// A worktree must exist, be clean and not be mid-rebase, except the asked WP's, whose
/// finished-by-hand rebase `restack_one` recognises.
fn preflight(ws: &Workspace, wp: &WpId, path: &std::path::Path, asked: bool) -> Result<()> {
    if !path.exists() {
        return Err(
            Error::refused(format!("{wp}'s worktree {} is missing", path.display()))
                .hint(format!("`git kitty implement {wp}` makes it again")),
        );
    }
    if ws.repo.rebase_in_progress(path) {
        return Err(Error::refused(format!("a rebase is still in progress in {wp}'s worktree"))
            .hint(format!(
                "finish it in {}: `git rebase --continue` (or `git rebase --abort`), then run this again",
                path.display()
            )));
    }
    let changes = ws.repo.worktree_changes(path)?;
    if !changes.is_empty() {
        let shown: Vec<&str> = changes.iter().take(10).map(String::as_str).collect();
        let _ = asked;
        return Err(Error::refused(format!(
            "{wp}'s worktree has uncommitted changes: {}",
            shown.join(", ")
        ))
        .hint(format!(
            "commit or stash them in {}, then run this again (nothing was rebased)",
            path.display()
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn restack_one(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    state: &WpState,
    old_base: &str,
    path: &std::path::Path,
    actor: &str,
    blocked_by_restack: bool,
) -> Result<Step> {
    let old = oid(old_base)?;
    let branch = state
        .branch
        .clone()
        .unwrap_or_else(|| base::branch_name(feature, wp));
    let new_base = base::compute(ws, feature, wp, actor)?;
    let new = oid(&new_base.commit)?;
    let tip = ws.repo.branch_tip(&branch)?;
    let step = |outcome: &str, conflicts: Vec<String>| Step {
        wp: wp.to_string(),
        outcome: outcome.into(),
        old_base: Some(old.to_string()),
        new_base: Some(new.to_string()),
        conflicts,
    };
    // Already on top of the new base: nothing moved, or an earlier conflict was resolved by
    // hand and the rebase finished there. Record it, and lift the block restack put on it.
    let on_top = tip.is_some_and(|t| ws.repo.is_ancestor(new, t).unwrap_or(false));
    if new == old || on_top {
        let unblock = blocked_by_restack && state.lane == Lane::Blocked;
        if new != old || unblock {
            let to = unblock.then_some(Lane::InProgress);
            record(ws, feature, wp, actor, &new_base, to, None)?;
        }
        let outcome = if new == old && !unblock {
            "up_to_date"
        } else {
            "resumed"
        };
        return Ok(step(outcome, Vec::new()));
    }
    match ws.repo.rebase_onto(path, new, old)? {
        Rebase::Done => {
            record(ws, feature, wp, actor, &new_base, None, None)?;
            Ok(step("restacked", Vec::new()))
        }
        Rebase::Conflict(paths) => {
            let note = format!(
                "restack onto {} stopped on a conflict in {}; resolve it in the worktree, `git rebase --continue`, then `git kitty restack {wp}`",
                describe_base(&new_base),
                paths.join(", ")
            );
            let to = state
                .lane
                .can_move_to(Lane::Blocked)
                .then_some(Lane::Blocked);
            let kept = state.base.as_ref().unwrap_or(&new_base);
            record(ws, feature, wp, actor, kept, to, Some(note))?;
            Ok(step("conflict", paths))
        }
    }
}

/// Append a restack event: the new base, and a lane change when given.
fn record(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    actor: &str,
    base: &crate::state::schema::Base,
    to: Option<Lane>,
    note: Option<String>,
) -> Result<()> {
    let initial = || ws.initial_state(feature, wp);
    store::append(&ws.repo, &feature.slug, wp, &initial, &mut |state| {
        let mut e = store::draft(EventKind::Restack, actor);
        e.from = Some(state.lane);
        e.to = to;
        e.base = Some(base.clone());
        e.note = note.clone();
        Ok(Some(e))
    })?;
    Ok(())
}

/// `wp`, then every WP that depends on it, directly or not, dependencies first.
fn with_dependents(feature: &Feature, wp: &WpId) -> Vec<WpId> {
    let graph = feature.graph();
    let Some(start) = feature.index_of(wp) else {
        return vec![wp.clone()];
    };
    let mut wanted = vec![false; graph.len()];
    wanted[start] = true;
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        for &d in graph.dependents(i) {
            if !wanted[d] {
                wanted[d] = true;
                stack.push(d);
            }
        }
    }
    let (order, _) = graph.order();
    order
        .into_iter()
        .filter(|&i| wanted[i])
        .map(|i| feature.wps[i].id.clone())
        .collect()
}

fn oid(hex: &str) -> Result<ObjectId> {
    ObjectId::from_hex(hex.as_bytes())
        .map_err(|e| Error::failed(format!("`{hex}` is not an object id")).cause(e))
}
