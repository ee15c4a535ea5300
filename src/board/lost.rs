//! WPs whose claim made here lost to another machine's and left a worktree or branch here
//! (`state::lost`): the board marks them with the command that gives those back.

use std::collections::HashMap;

use serde::Serialize;

use super::FeatureBoard;
use crate::error::Result;
use crate::model::ids::{FeatureSlug, WpId, wp_branch, wp_worktree};
use crate::model::plan::Feature;
use crate::state::lost;
use crate::state::store::States;
use crate::workspace::Workspace;

/// What a lost claim left here (`status --json`: `lost_claim`).
#[derive(Debug, Clone, Serialize)]
pub struct LostHere {
    /// Whose claim lost (made in this clone).
    pub agent: String,
    /// Who holds the WP, by the claim that won.
    pub holder: Option<String>,
    /// The WP's worktree here, left from the lost claim (relative to the main worktree).
    pub worktree: Option<String>,
    /// The WP's branch here, left from the lost claim.
    pub branch: Option<String>,
    /// The command that gives them back (and nothing else).
    pub next: String,
}

/// Mark the WPs of `feature` (its `board`) whose lost claim left a worktree or branch here.
/// `marked`: the WPs of every feature with a marker (`state::lost::marked`, listed once).
pub(super) fn mark(
    ws: &Workspace,
    feature: &Feature,
    marked: &HashMap<FeatureSlug, Vec<WpId>>,
    states: &States,
    board: &mut FeatureBoard,
) -> Result<()> {
    for wp in marked.get(&feature.slug).into_iter().flatten() {
        let Some(tip) = states.get(&(feature.slug.clone(), wp.clone())) else {
            continue;
        };
        let Some(found) = lost::read(&ws.repo, &feature.slug, wp, tip.commit)? else {
            continue;
        };
        let (worktree, branch) = left_here(ws, &feature.slug, wp)?;
        if worktree.is_none() && branch.is_none() {
            continue;
        }
        let Some(view) = board.work_packages.iter_mut().find(|v| v.id == wp.as_str()) else {
            continue;
        };
        let now = &tip.state;
        let next = give_back_command(&ws.wp_arg(feature, wp), &found.agent);
        view.lost_claim = Some(LostHere {
            agent: found.agent,
            holder: now.holder().or(now.agent.as_deref()).map(str::to_owned),
            worktree,
            branch,
            next,
        });
    }
    Ok(())
}

/// `git kitty abandon <words> --agent <agent>`: what gives back the worktree and branch a lost
/// claim of `agent` left here. The agent is named because only it gives them back without
/// `--force`, and whoever runs the command (in the main worktree, say) need not be it.
pub fn give_back_command(words: &str, agent: &str) -> String {
    format!(
        "git kitty abandon {words} --agent {}",
        crate::util::shell::quote(agent)
    )
}

/// The WP's own worktree (relative to the main worktree) and branch, each when it exists here.
pub fn left_here(
    ws: &Workspace,
    feature: &FeatureSlug,
    wp: &WpId,
) -> Result<(Option<String>, Option<String>)> {
    let worktree = wp_worktree(feature, wp);
    let branch = wp_branch(feature, wp);
    let main = ws.repo.main_workdir().unwrap_or(&ws.plan_root);
    let has_worktree = std::fs::symlink_metadata(main.join(&worktree)).is_ok();
    let has_branch = ws.repo.branch_tip(&branch)?.is_some();
    Ok((
        has_worktree.then_some(worktree),
        has_branch.then_some(branch),
    ))
}
