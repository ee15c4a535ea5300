//! Claims made here that lost to another machine's when the histories were joined (a claim
//! made without `--sync`: local until pushed). `pull`, `push` and `sync` list them and exit 1;
//! the join leaves a marker (`state::lost`) when the lost claim left a branch or worktree here,
//! so `status` and `abandon` know it afterwards.

use serde::Serialize;

use crate::error::Result;
use crate::git::Oid;
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::state::lost;
use crate::state::schema::WpState;
use crate::workspace::Workspace;

/// A claim made here that another machine's claim beat to the remote.
#[derive(Debug, Clone, Serialize)]
pub struct LostClaim {
    pub feature: String,
    pub wp: String,
    /// Whose claim lost (made in this clone).
    pub agent: String,
    /// Who holds the WP now, by the claim that won (`None` when nobody holds it).
    pub holder: Option<String>,
    /// The WP's lane now.
    pub lane: Lane,
    /// The WP's worktree here, left from the lost claim (relative to the main worktree).
    pub worktree: Option<String>,
    /// The WP's branch here, left from the lost claim.
    pub branch: Option<String>,
    /// The command that gives back what the lost claim left here (`None`: nothing is left).
    pub next: Option<String>,
}

/// The join `merge` made `joined` of `f`/`w` and lost `agent`'s claim: what is left here of
/// it, with a marker for `status` and `abandon` when that is a branch or a worktree.
pub(super) fn found(
    ws: &Workspace,
    (f, w): (&FeatureSlug, &WpId),
    agent: &str,
    joined: &WpState,
    merge: Oid,
) -> Result<LostClaim> {
    let (worktree, branch) = crate::board::left_here(ws, f, w)?;
    let next = if worktree.is_some() || branch.is_some() {
        lost::record(&ws.repo, f, w, merge)?;
        Some(crate::board::give_back_command(&wp_words(ws, f, w), agent))
    } else {
        None
    };
    Ok(LostClaim {
        feature: f.to_string(),
        wp: w.to_string(),
        agent: agent.to_owned(),
        holder: joined
            .holder()
            .or(joined.agent.as_deref())
            .map(str::to_owned),
        lane: joined.lane,
        worktree,
        branch,
        next,
    })
}

/// How a command line names `w` from anywhere in this clone (`WP01`, or with `--feature`).
fn wp_words(ws: &Workspace, f: &FeatureSlug, w: &WpId) -> String {
    match ws.plan.features.iter().find(|x| x.slug == *f) {
        Some(feature) => ws.wp_arg(feature, w),
        None => format!("{w} --feature {f}"),
    }
}
