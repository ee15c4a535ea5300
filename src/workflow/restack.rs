//! `restack`: move a WP's branch onto its dependencies' current work, then its dependents'.
//!
//! For each WP in dependency order (the one asked for, then every WP that depends on it and
//! has a worktree): compute the base again; if it changed, `git rebase --onto <new> <old>` in
//! the WP's own worktree (refused when that worktree has uncommitted changes) and record the
//! new base. A conflict stops the run: the rebase is left in progress in that worktree for its
//! agent to resolve, and the WP is moved to `blocked` with a note saying how to go on.

use std::path::PathBuf;

use serde::Serialize;

use super::base::{self, describe_base};
use super::place;
use crate::error::{Error, ErrorKind, Result};
use crate::git::{Rebase, parse_oid};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::{EventKind, WpState};
use crate::state::store;
use crate::workspace::{States, Workspace};

#[derive(Debug, Serialize)]
pub struct Step {
    pub wp: String,
    pub outcome: Outcome,
    pub old_base: Option<String>,
    pub new_base: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
}

/// What restack did to one WP (`restacked`, `up_to_date`... in JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Restacked,
    UpToDate,
    /// A rebase that stopped on a conflict was finished by hand, and is now recorded.
    Resumed,
    /// Stopped on a conflict: the rebase is left in progress in the worktree.
    Conflict,
    /// Not work in progress (in review, approved...): left alone. `skipped (<lane>)`.
    #[serde(untagged, serialize_with = "skipped_text")]
    Skipped(Lane),
}

fn skipped_text<S: serde::Serializer>(lane: &Lane, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&format_args!("skipped ({lane})"))
}

/// A WP that is going to be rebased, as found before anything is.
struct Todo {
    wp: WpId,
    state: WpState,
    /// The base its branch is on now (the state's).
    old_base: String,
    /// Its worktree.
    path: PathBuf,
    /// Its last event is a restack: a block on it is restack's own, lifted once resolved.
    blocked_by_restack: bool,
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
    let (todo, mut steps) = prepare(ws, feature, wp, states, actor, force)?;
    for t in todo {
        let step = restack_one(ws, feature, &t, actor)?;
        let conflict = step.outcome == Outcome::Conflict;
        steps.push(step);
        if conflict {
            return Err(conflict_error(&t, &ws.wp_arg(feature, &t.wp), &steps));
        }
    }
    Ok(steps)
}

/// Find what to rebase: `wp` and its dependents with a worktree, dependencies first. Those
/// not in progress are left alone (a step says so); `wp` itself must be restackable by
/// `actor`. Every worktree to rebase is checked here, before anything is rebased.
fn prepare(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    states: &States,
    actor: &str,
    force: bool,
) -> Result<(Vec<Todo>, Vec<Step>)> {
    let mut todo = Vec::new();
    let mut steps = Vec::new();
    for id in with_dependents(feature, wp) {
        let asked = id == *wp;
        let tip = states.get(&(feature.slug.clone(), id.clone()));
        // A WP whose state names another's branch or worktree stops the run: nothing of it is
        // rebased, nor anything another WP owns.
        if let Some(t) = tip {
            place::check(feature, &id, &t.state)?;
        }
        let Some(tip) = tip.filter(|t| t.state.worktree.is_some() && t.state.base.is_some()) else {
            if asked {
                return Err(
                    Error::usage(format!("{wp} has no worktree to restack")).hint(format!(
                        "start it with `git kitty implement {}`",
                        ws.wp_arg(feature, wp)
                    )),
                );
            }
            continue;
        };
        let state = &tip.state;
        if !matches!(state.lane, Lane::Claimed | Lane::InProgress | Lane::Blocked) {
            if asked {
                return Err(Error::refused(format!(
                    "{wp} is {}: restacking would change work that is in review or done",
                    state.lane
                ))
                .hint(format!(
                    "move it back first: `git kitty lane {} in_progress --note \"...\"`",
                    ws.wp_arg(feature, wp)
                )));
            }
            steps.push(Step {
                wp: id.to_string(),
                outcome: Outcome::Skipped(state.lane),
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
                .hint(format!(
                    "acting for {holder}: `git kitty restack {} --agent {}`",
                    ws.wp_arg(feature, wp),
                    crate::util::shell::quote(holder)
                ))
                .hint(format!(
                    "otherwise ask {holder}, or `git kitty restack {} --force`",
                    ws.wp_arg(feature, wp)
                )));
        }
        let path = place::locate(ws, feature, &id)?.worktree;
        preflight(ws, &id, &ws.wp_arg(feature, &id), &path)?;
        todo.push(Todo {
            old_base: state
                .base
                .as_ref()
                .map(|b| b.commit.clone())
                .unwrap_or_default(),
            state: state.clone(),
            path,
            blocked_by_restack: tip.event.kind == EventKind::Restack,
            wp: id,
        });
    }
    Ok((todo, steps))
}

/// The stop on a conflict: where to resolve it and how to go on (or give up).
/// `arg` names the WP on a command line (with `--feature` when its id is ambiguous).
fn conflict_error(t: &Todo, arg: &str, steps: &[Step]) -> Error {
    let id = &t.wp;
    let conflicts = steps.last().map_or(&[][..], |s| s.conflicts.as_slice());
    let shown: Vec<&str> = conflicts.iter().take(20).map(String::as_str).collect();
    Error::new(
        ErrorKind::Conflict,
        format!("restacking {id} stopped on a conflict in {}", shown.join(", ")),
    )
    .details(serde_json::json!({ "steps": steps }))
    .hint(format!(
        "resolve it in {}: edit, `git add`, `git rebase --continue`; then `git kitty restack {arg}`",
        t.path.display()
    ))
    .hint(format!("or give up the rebase there with `git rebase --abort` (then `git kitty lane {arg} in_progress`)"))
}

/// A worktree must exist, be clean and not be mid-rebase, for every WP of the run, before
/// anything is rebased. (A rebase finished by hand is no longer in progress: `restack_one`
/// then records its result.)
fn preflight(ws: &Workspace, wp: &WpId, arg: &str, path: &std::path::Path) -> Result<()> {
    if !path.exists() {
        return Err(
            Error::refused(format!("{wp}'s worktree {} is missing", path.display()))
                .hint(format!("`git kitty implement {arg}` makes it again")),
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

/// Rebase one WP onto its base computed again, and record the new base (or the conflict).
fn restack_one(ws: &Workspace, feature: &Feature, t: &Todo, actor: &str) -> Result<Step> {
    let (wp, state) = (&t.wp, &t.state);
    let not_an_id = |hex: &str| Error::failed(format!("`{hex}` is not an object id"));
    let old = parse_oid(&t.old_base).ok_or_else(|| not_an_id(&t.old_base))?;
    let branch = base::branch_name(feature, wp);
    let new_base = base::compute(ws, feature, wp, actor)?;
    let new = parse_oid(&new_base.commit).ok_or_else(|| not_an_id(&new_base.commit))?;
    let tip = ws.repo.branch_tip(&branch)?;
    let step = |outcome: Outcome, conflicts: Vec<String>| Step {
        wp: wp.to_string(),
        outcome,
        old_base: Some(old.to_string()),
        new_base: Some(new.to_string()),
        conflicts,
    };
    // Already on top of the new base: nothing moved, or an earlier conflict was resolved by
    // hand and the rebase finished there. Record it, and lift the block restack put on it.
    let on_top = tip.is_some_and(|t| ws.repo.is_ancestor(new, t).unwrap_or(false));
    if new == old || on_top {
        let unblock = t.blocked_by_restack && state.lane == Lane::Blocked;
        if new != old || unblock {
            let to = unblock.then_some(Lane::InProgress);
            record(ws, feature, wp, actor, &new_base, to, None)?;
        }
        let outcome = if new == old && !unblock {
            Outcome::UpToDate
        } else {
            Outcome::Resumed
        };
        return Ok(step(outcome, Vec::new()));
    }
    match ws.repo.rebase_onto(&t.path, new, old)? {
        Rebase::Done => {
            record(ws, feature, wp, actor, &new_base, None, None)?;
            Ok(step(Outcome::Restacked, Vec::new()))
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
            Ok(step(Outcome::Conflict, paths))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_keep_their_json_names() {
        let json = |o: Outcome| serde_json::to_value(o).unwrap();
        assert_eq!(json(Outcome::Restacked), "restacked");
        assert_eq!(json(Outcome::UpToDate), "up_to_date");
        assert_eq!(json(Outcome::Resumed), "resumed");
        assert_eq!(json(Outcome::Conflict), "conflict");
        assert_eq!(
            json(Outcome::Skipped(Lane::InReview)),
            "skipped (in_review)"
        );
    }
}
