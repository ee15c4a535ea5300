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
/// carrying the steps in its details.
pub fn restack(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    states: &States,
    actor: &str,
) -> Result<Vec<Step>> {
    let order = with_dependents(feature, wp);
    let mut steps = Vec::new();
    for id in order {
        let Some(state) = states
            .get(&(feature.slug.clone(), id.clone()))
            .map(|t| t.state.clone())
        else {
            continue;
        };
        let (Some(rel), Some(old)) = (state.worktree.clone(), state.base.clone()) else {
            if id == *wp {
                return Err(Error::usage(format!("{wp} has no worktree to restack"))
                    .hint(format!("start it with `git kitty implement {wp}`")));
            }
            continue;
        };
        let main = ws.repo.main_workdir().unwrap_or(&ws.plan_root);
        let path = main.join(&rel);
        let step = restack_one(ws, feature, &id, &state, &old.commit, &path, actor)?;
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

fn restack_one(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    state: &WpState,
    old_base: &str,
    path: &std::path::Path,
    actor: &str,
) -> Result<Step> {
    if !path.exists() {
        return Err(
            Error::refused(format!("{wp}'s worktree {} is missing", path.display()))
                .hint(format!("`git kitty implement {wp}` makes it again")),
        );
    }
    let old = oid(old_base)?;
    let branch = state
        .branch
        .clone()
        .unwrap_or_else(|| base::branch_name(feature, wp));
    if ws.repo.rebase_in_progress(path) {
        return Err(Error::refused(format!("a rebase is still in progress in {wp}'s worktree"))
            .hint(format!(
                "finish it in {}: `git rebase --continue` (or `git rebase --abort`), then run this again",
                path.display()
            )));
    }
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
    // Already on top of the new base: either nothing moved, or an earlier conflict was
    // resolved by hand and the rebase finished there. Record it and unblock.
    if new == old || tip.is_some_and(|t| ws.repo.is_ancestor(new, t).unwrap_or(false)) {
        let unblock = state.lane == Lane::Blocked;
        if new != old || unblock {
            record(
                ws,
                feature,
                wp,
                actor,
                &new_base,
                unblock.then_some(Lane::InProgress),
                None,
            )?;
            return Ok(step(
                if new == old { "up_to_date" } else { "resumed" },
                Vec::new(),
            ));
        }
        return Ok(step("up_to_date", Vec::new()));
    }
    let changes = ws.repo.worktree_changes(path)?;
    if !changes.is_empty() {
        let shown: Vec<&str> = changes.iter().take(10).map(String::as_str).collect();
        return Err(Error::refused(format!(
            "{wp}'s worktree has uncommitted changes: {}",
            shown.join(", ")
        ))
        .hint(format!(
            "commit or stash them in {}, then run this again",
            path.display()
        )));
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
            record(
                ws,
                feature,
                wp,
                actor,
                state.base.as_ref().unwrap_or(&new_base),
                to,
                Some(note),
            )?;
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
