//! Where a WP's work is: its branch `<feature>-<WP>` and its worktree, both derived from the
//! WP's own id.
//!
//! A state ref can arrive forged or damaged (pushed by anyone with write access to a remote,
//! or written by hand), so the branch and worktree it records are never acted on: they are
//! only compared with the WP's own, and a command that removes or rebases refuses a state that
//! names anything else. The worktree is where git has the WP's own branch checked out (a
//! `git worktree move` keeps working), else `.worktrees/<feature>-<WP>`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::model::ids::{WpId, wp_branch, wp_worktree};
use crate::model::plan::Feature;
use crate::state::schema::WpState;
use crate::workspace::Workspace;

/// A WP's branch and worktree.
#[derive(Debug, Clone)]
pub struct Place {
    pub branch: String,
    /// `.worktrees/<feature>-<WP>`, relative to the main worktree.
    pub rel: String,
    /// Where its worktree is: where git has the branch checked out, else the path above
    /// (which may not exist).
    pub worktree: PathBuf,
}

/// What `state` names that is not the WP's own (`branch X and worktree Y`), if anything.
pub fn foreign(feature: &Feature, wp: &WpId, state: &WpState) -> Option<String> {
    let mut names = Vec::new();
    if let Some(b) = state
        .branch
        .as_ref()
        .filter(|b| **b != wp_branch(&feature.slug, wp))
    {
        names.push(format!("branch {}", b.escape_debug()));
    }
    if let Some(w) = state
        .worktree
        .as_ref()
        .filter(|w| **w != wp_worktree(&feature.slug, wp))
    {
        names.push(format!("worktree {}", w.escape_debug()));
    }
    (!names.is_empty()).then(|| names.join(" and "))
}

/// The command that replaces a damaged state.
pub fn repair_hint(feature: &Feature, wp: &WpId) -> String {
    format!("`git kitty repair {wp} -f {}`", feature.slug)
}

/// Refuse to act on a WP whose state names a branch or worktree that is not its own.
pub fn check(feature: &Feature, wp: &WpId, state: &WpState) -> Result<()> {
    match foreign(feature, wp, state) {
        None => Ok(()),
        Some(names) => Err(Error::refused(format!(
            "refusing to act on {wp}: its state names {names}, not its own ({}, {})",
            wp_branch(&feature.slug, wp),
            wp_worktree(&feature.slug, wp)
        ))
        .hint(format!(
            "inspect it with `git kitty log {wp}`; {} replaces a damaged state",
            repair_hint(feature, wp)
        ))),
    }
}

/// The WP's branch and where its worktree is. Refused when the branch is checked out in the
/// main worktree: that is nobody's WP worktree to remove or rebase.
pub fn locate(ws: &Workspace, feature: &Feature, wp: &WpId) -> Result<Place> {
    let branch = wp_branch(&feature.slug, wp);
    let rel = wp_worktree(&feature.slug, wp);
    let main = ws
        .repo
        .main_workdir()
        .unwrap_or(&ws.plan_root)
        .to_path_buf();
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
    let checked_out = ws
        .repo
        .worktrees()?
        .into_iter()
        .find(|w| w.branch.as_deref() == Some(branch.as_str()))
        .map(|w| w.path);
    if let Some(p) = &checked_out
        && canonical(p) == canonical(&main)
    {
        return Err(Error::refused(format!(
            "{branch} is checked out in the main worktree ({}): it is not {wp}'s worktree to change",
            main.display()
        ))
        .hint("check out another branch there first"));
    }
    Ok(Place {
        worktree: checked_out.unwrap_or_else(|| main.join(&rel)),
        branch,
        rel,
    })
}
