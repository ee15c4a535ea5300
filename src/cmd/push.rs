//! `git kitty push`: send local state to the remote.

use crate::cmd::args::RemoteArgs;
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::sync;
use crate::ui::Ctx;

/// Push local lanes, claims and history to the remote
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Push every local state ref the remote does not have yet, in one atomic push, \
each with a lease on the value last fetched (--force-with-lease=<ref>:<value>): the remote takes \
them only if nobody else pushed meanwhile. When it moved, git kitty pulls, merges and tries again \
(up to 5 times). State the remote has and local lacks is merged first, so a push never drops \
anyone's events.

Then each WP branch git kitty owns (refs/heads/<feature>-<WP>, named by the WP's state, while \
the WP is neither done nor canceled) that differs from the remote's copy is pushed with its own \
lease (--force-with-lease=refs/heads/<branch>:<copy last fetched>), only when it holds what the \
remote has (or was restacked here): never replacing commits this clone lacks. One branch the \
remote refuses holds back no other, and is a warning, not an exit status. No other branch is \
pushed, and nothing is deleted on the remote.

A claim made here (without --sync) that lost to another machine's, whose claim reached the \
remote first, is listed with who won and what it left here, and the exit status is 1: \
`git kitty abandon <WP> --agent <agent>` gives back that worktree and branch, and nothing else.",
    after_long_help = concat!(
        "Examples:
  git kitty push
  git kitty push upstream

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    #[command(flatten)]
    pub common: RemoteArgs,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.common.json.enabled;
    let (ws, remote, actor) = args.common.open(&ctx.cwd)?;
    let report = sync::push(&ws, &remote, &actor, None::<&FeatureSlug>)
        .map_err(|e| crate::workflow::publish::with_unpushed_landings(&ws, &remote, e))?;
    super::pull::print(&mut ctx.ui, "pushed to", &report, args.common.json.enabled);
    Ok(super::pull::exit_code(&report))
}
