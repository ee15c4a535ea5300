//! `git kitty sync`: pull, then push.

use crate::cmd::args::{AgentArg, JsonArg};
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::sync;
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Pull the remote's state, merge it, and push local state: both sides end up the same
#[derive(clap::Args, Debug)]
#[command(
    long_about = "`git kitty pull` then `git kitty push`: afterwards the remote and this clone \
hold the same state, and every event of both is in each WP's history. Clones that worked \
offline converge by each running sync (in any order, as often as needed).",
    after_long_help = concat!("Examples:\n  git kitty sync\n\n", crate::exit_codes_help!())
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
    let mut report = sync::pull(&ws, &remote, true, &actor, None::<&FeatureSlug>)?;
    let pushed = sync::push(&ws, &remote, &actor, None)?;
    report.changed.retain(|c| c.outcome != sync::Outcome::Ahead);
    report.changed.extend(pushed.changed);
    report.failed = pushed.failed;
    super::pull::print(&mut ctx.ui, "synced with", &report, args.json.enabled);
    Ok(super::pull::exit_code(&report))
}
