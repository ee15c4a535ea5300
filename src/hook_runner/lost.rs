//! `pre-commit` in a worktree left by a claim that lost to another machine's
//! (`state::lost`): the WP is not that agent's to commit to, so it says so and how to keep
//! the work, rather than "claimed by <winner>" with a hint to commit as the winner.

use crate::error::{Error, Result};
use crate::model::ids::{WpId, wp_branch};
use crate::model::plan::Feature;
use crate::state::{lost, store};
use crate::workspace::Workspace;

/// Refuse a commit in `wp`'s worktree when it is left from a lost claim.
pub(super) fn refuse_commit(ws: &Workspace, feature: &Feature, wp: &WpId) -> Result<()> {
    let Some(tip) = store::read(&ws.repo, &feature.slug, wp)? else {
        return Ok(());
    };
    let Some(found) = lost::read(&ws.repo, &feature.slug, wp, tip.commit)? else {
        return Ok(());
    };
    let winner = tip
        .state
        .holder()
        .or(tip.state.agent.as_deref())
        .map(|h| format!(" to {h}'s"))
        .unwrap_or_default();
    let branch = wp_branch(&feature.slug, wp);
    Err(Error::refused(format!(
        "this worktree is left from {}'s claim of {wp}, which lost{winner} on another machine: \
         {wp} is not {}'s to commit to",
        found.agent, found.agent
    ))
    .hint(format!(
        "to keep the changes: `git commit --no-verify`, then keep them under another name \
         (`git branch <name> {branch}`), or make a patch (`git diff HEAD > {wp}.patch`)"
    ))
    .hint(format!(
        "then `git kitty abandon {} --force` gives back this worktree and branch",
        ws.wp_arg(feature, wp)
    )))
}
