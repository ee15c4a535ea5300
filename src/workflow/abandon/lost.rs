//! `abandon` on a clone whose claim lost to another machine's (`state::lost`): give back only
//! what the lost claim left here, its worktree and branch. The claim that won is not this
//! clone's: no release event is written, so the WP's state (here, and on the remote after the
//! next push) stays exactly the winner's. Work on the worktree or branch is kept unless forced,
//! as for any abandon.

use super::{Abandoned, LostClaim, at_risk, at_stake, remove};
use crate::error::{Error, Result};
use crate::model::ids::WpId;
use crate::model::plan::Feature;
use crate::state::lost::{self, Lost};
use crate::state::schema::WpState;
use crate::util::shell::quote;
use crate::workspace::Workspace;

pub(super) struct Request<'a> {
    pub actor: &'a str,
    pub force: bool,
}

/// Remove what `lost` left here of `wp` (whose state is now `now`, the winner's), then drop
/// the marker.
pub(super) fn give_back(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    req: &Request<'_>,
    lost: Lost,
    now: &WpState,
) -> Result<Abandoned> {
    let holder = now.holder().or(now.agent.as_deref()).map(str::to_owned);
    let words = ws.wp_arg(feature, wp);
    if req.actor != lost.agent && !req.force {
        return Err(Error::refused(format!(
            "the worktree and branch of {wp} here are left from {}'s claim, which lost to \
             another machine's: {} gives them back, not {}",
            lost.agent, lost.agent, req.actor
        ))
        .hint(format!(
            "`git kitty abandon {words} --agent {}`",
            quote(&lost.agent)
        )));
    }
    let stake = at_stake(ws, feature, wp, &lost.before)?;
    if !req.force && (!stake.unsaved.is_empty() || stake.unmerged > 0) {
        return Err(Error::refused(format!(
            "{wp}'s worktree and branch here, left from {}'s lost claim, hold work that would \
             be lost: {}",
            lost.agent,
            at_risk(&stake.branch, &stake.unsaved, stake.unmerged)
        ))
        .hint(format!(
            "commit it and keep it under another name (`git branch <name> {}`), then \
             `git kitty abandon {words} --force`",
            stake.branch
        )));
    }
    let removed = remove(ws, &stake, req.force)?;
    lost::forget(&ws.repo, &feature.slug, wp, lost.merge)?;
    let lost_claim = LostClaim {
        agent: lost.agent,
        holder,
    };
    Ok(Abandoned::new(
        feature,
        wp,
        removed,
        now.lane,
        false,
        Some(lost_claim),
    ))
}
