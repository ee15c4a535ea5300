//! Where a WP's branch and worktree are, as this clone can tell without asking the network:
//! its own branch here, else the remote's copy last fetched into the ordinary tracking
//! namespace (`refs/remotes/<remote>/<feature>-<WP>`); its worktree here, missing here, or on
//! another machine.

use serde::Serialize;

use super::Workspace;
use crate::error::Result;
use crate::git::Oid;
use crate::model::ids::{FeatureSlug, WpId, wp_branch, wp_worktree};
use crate::model::lane::Lane;
use crate::state::relation::{remote_name, tracking_prefix};
use crate::state::schema::WpState;

/// Where a WP branch's tip was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Where {
    /// The local branch `refs/heads/<feature>-<WP>`.
    Local,
    /// Only the remote's copy, as last fetched: `refs/remotes/<remote>/<feature>-<WP>`.
    Remote(String),
}

/// Where a WP's worktree is, for work still going on whose state names a worktree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorktreeAt {
    Here,
    /// This clone made it (its branch is here, or the claim never reached the remote), and
    /// it is gone: deleted by hand, or an interrupted `implement`.
    MissingHere,
    /// Made on another machine: no branch of it here, and its state came from the remote.
    Elsewhere,
}

/// The ref that tracks `branch` of `remote`: the ordinary one, so a plain `git fetch` of a
/// clone fills it and `git checkout <branch>` finds it.
pub fn remote_branch_ref(remote: &str, branch: &str) -> String {
    format!("refs/remotes/{remote}/{branch}")
}

impl Workspace {
    /// The tip of `branch`: the local branch, else the configured remote's copy as last
    /// fetched (no network). `None` when neither exists.
    pub fn branch_tip_anywhere(&self, branch: &str) -> Result<Option<(Oid, Where)>> {
        if let Some(tip) = self.repo.branch_tip(branch)? {
            return Ok(Some((tip, Where::Local)));
        }
        let Ok(remote) = remote_name(&self.repo, None) else {
            return Ok(None);
        };
        Ok(self
            .repo
            .ref_tip(&remote_branch_ref(&remote, branch))?
            .map(|tip| (tip, Where::Remote(remote))))
    }

    /// [`Self::branch_tip_anywhere`] of the WP's own branch `<feature>-<WP>`.
    pub fn wp_branch_tip(&self, feature: &FeatureSlug, wp: &WpId) -> Result<Option<(Oid, Where)>> {
        self.branch_tip_anywhere(&wp_branch(feature, wp))
    }

    /// The tip of `branch` here or on the remote, without saying where (what `merge` lands).
    pub fn branch_oid_anywhere(&self, branch: &str) -> Result<Option<Oid>> {
        Ok(self.branch_tip_anywhere(branch)?.map(|(tip, _)| tip))
    }

    /// Where the worktree of a WP with `state` is; `None` when there is none to expect (no
    /// worktree recorded, or the work is done or canceled).
    ///
    /// No state records which machine made a worktree, so this clone judges by what it has:
    /// the WP's own worktree path exists (here); else its own branch is here, or the WP's
    /// state never came from the remote (missing here: this clone made them); else the
    /// worktree is on another machine.
    pub fn worktree_at(&self, state: &WpState) -> Option<WorktreeAt> {
        if matches!(state.lane, Lane::Done | Lane::Canceled) || state.worktree.is_none() {
            return None;
        }
        let main = self.repo.main_workdir().unwrap_or(&self.plan_root);
        // The WP's own worktree path, whatever the state names (a state is never trusted
        // for a path).
        let own = wp_worktree(&state.feature, &state.wp);
        if std::fs::symlink_metadata(main.join(own)).is_ok() {
            return Some(WorktreeAt::Here);
        }
        let branch = wp_branch(&state.feature, &state.wp);
        if !matches!(self.repo.branch_tip(&branch), Ok(None)) {
            return Some(WorktreeAt::MissingHere);
        }
        let from_remote = remote_name(&self.repo, None).is_ok_and(|remote| {
            let tracking = format!("{}{}/{}", tracking_prefix(&remote), state.feature, state.wp);
            matches!(self.repo.ref_tip(&tracking), Ok(Some(_)))
        });
        Some(if from_remote {
            WorktreeAt::Elsewhere
        } else {
            WorktreeAt::MissingHere
        })
    }
}
