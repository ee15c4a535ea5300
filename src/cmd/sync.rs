//! `git kitty sync`: pull, then push.

use crate::cmd::args::RemoteArgs;
use crate::error::Result;
use crate::sync;
use crate::ui::Ctx;

/// Pull the remote's state, merge it, and push local state: both sides end up the same
#[derive(clap::Args, Debug)]
#[command(
    long_about = "`git kitty pull` then `git kitty push`: afterwards the remote and this clone \
hold the same state, and every event of both is in each WP's history; WP branches are fetched \
and fast-forwarded as pull does, and sent with a lease as push does. Clones that worked \
offline converge by each running sync (in any order, as often as needed).

A claim made here (without --sync) that lost to another machine's, whose claim reached the \
remote first, is listed with who won and what it left here, and the exit status is 1: \
`git kitty abandon <WP> --agent <agent>` gives back that worktree and branch, and nothing else.",
    after_long_help = concat!("Examples:\n  git kitty sync\n\n", crate::exit_codes_help!())
)]
pub struct Args {
    #[command(flatten)]
    pub common: RemoteArgs,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.common.json.enabled;
    let (ws, remote, actor) = args.common.open(&ctx.cwd)?;
    let report = sync::sync(&ws, &remote, &actor)
        .map_err(|e| crate::workflow::publish::with_unpushed_landings(&ws, &remote, e))?;
    super::pull::print(
        &mut ctx.ui,
        "synced with",
        &report,
        args.common.json.enabled,
    );
    Ok(super::pull::exit_code(&report))
}
