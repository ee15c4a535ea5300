//! `git kitty push`: send local state to the remote.

use crate::cmd::args::{AgentArg, JsonArg};
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::sync;
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Push local lanes, claims and history to the remote
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Push every local state ref the remote does not have yet, in one atomic push, \
each with a lease on the value last fetched (--force-with-lease=<ref>:<value>): the remote takes \
them only if nobody else pushed meanwhile. When it moved, git kitty pulls, merges and tries again \
(up to 5 times). State the remote has and local lacks is merged first, so a push never drops \
anyone's events.",
    after_long_help = concat!(
        "Examples:
  git kitty push
  git kitty push upstream

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The remote (default: git config kitty.remote, else origin)
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,

    #[command(flatten)]
    pub agent: AgentArg,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, None)?;
    let remote = sync::remote_name(&ws.repo, args.remote.as_deref())?;
    let actor = ws.actor(args.agent.name.as_deref())?;
    let report = sync::push(&ws, &remote, &actor, None::<&FeatureSlug>)?;
    super::pull::print(&mut ctx.ui, "pushed to", &report, args.json.enabled);
    Ok(super::pull::exit_code(&report))
}
