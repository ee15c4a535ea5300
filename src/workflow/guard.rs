//! Checks on a WP's worktree before a lane move hands it on.

use super::place;
use crate::error::{Error, Result};
use crate::git::parse_oid;
use crate::model::plan::Feature;
use crate::state::schema::WpState;
use crate::workspace::Workspace;

/// `in_progress -> for_review` hands work to a reviewer: refuse when the worktree has
/// uncommitted changes, or when the branch has no commit beyond its base (nothing to review).
/// WPs without a worktree (moved by `lane` alone) are not checked. The WP's own branch and
/// worktree are looked at (`place`), whatever the state names.
pub fn reviewable(ws: &Workspace, feature: &Feature, state: &WpState) -> Result<()> {
    let (Some(_), Some(base), Some(_)) = (&state.worktree, &state.base, &state.branch) else {
        return Ok(());
    };
    let wp = &state.wp;
    place::check(feature, wp, state)?;
    let place::Place {
        branch,
        worktree: path,
        ..
    } = place::locate(ws, feature, wp)?;
    let branch = &branch;
    if path.exists() {
        let changes = ws.repo.worktree_changes(&path)?;
        if !changes.is_empty() {
            let shown: Vec<&str> = changes.iter().take(10).map(String::as_str).collect();
            return Err(Error::refused(format!(
                "{wp}'s worktree has uncommitted changes: {}",
                shown.join(", ")
            ))
            .hint(format!(
                "commit them in {} first (or `--force --reason \"...\"`)",
                path.display()
            )));
        }
    }
    let Some(base) = parse_oid(&base.commit) else {
        return Ok(());
    };
    let Some(tip) = ws.repo.branch_tip(branch)? else {
        return Err(Error::refused(format!(
            "{wp}'s branch {branch} is gone: there is nothing to review"
        ))
        .hint(format!(
            "`git kitty implement {wp}` makes the branch and worktree again"
        )));
    };
    if ws.repo.count_between(base, tip)? == 0 {
        return Err(Error::refused(format!(
            "{wp} has no commit beyond its base: there is nothing to review yet"
        ))
        .hint(format!("commit the work on {branch} first")));
    }
    Ok(())
}
