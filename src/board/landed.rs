//! Done WPs whose worktree or branch is still in this clone: landed from another clone (or
//! merged with `--keep-worktrees`/`--keep-branches`). The board names them with the command
//! that removes them (`abandon` of a done WP, which writes no event).

use serde::Serialize;

use super::FeatureBoard;
use crate::error::Result;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::store::States;
use crate::workspace::Workspace;

/// What is left here of a done WP (`status --json`: `left_here`).
#[derive(Debug, Clone, Serialize)]
pub struct LeftHere {
    /// The WP's worktree here (relative to the main worktree), when it exists.
    pub worktree: Option<String>,
    /// The WP's branch here, when it exists.
    pub branch: Option<String>,
    /// The command that removes them.
    pub next: String,
}

/// Mark the done WPs of `feature` (its `board`) with a state whose own worktree or branch is
/// here.
pub(super) fn mark(
    ws: &Workspace,
    feature: &Feature,
    states: &States,
    board: &mut FeatureBoard,
) -> Result<()> {
    // Done by git kitty's state only (a lane from a file alone names nothing git kitty made):
    // a plan with no state refs (a Spec Kitty repository) has thousands of done WPs to skip.
    if states.is_empty() {
        return Ok(());
    }
    for view in &mut board.work_packages {
        if view.lane != Lane::Done {
            continue;
        }
        let Some(wp) = feature.wps.iter().find(|w| w.id.as_str() == view.id) else {
            continue;
        };
        if !states.contains_key(&(feature.slug.clone(), wp.id.clone())) {
            continue;
        }
        let (worktree, branch) = super::left_here(ws, &feature.slug, &wp.id)?;
        if worktree.is_none() && branch.is_none() {
            continue;
        }
        view.left_here = Some(LeftHere {
            worktree,
            branch,
            next: format!("git kitty abandon {}", ws.wp_arg(feature, &wp.id)),
        });
    }
    Ok(())
}
