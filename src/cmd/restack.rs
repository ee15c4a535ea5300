//! `git kitty restack`: rebase a work package (and what depends on it) onto its new base.

use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::error::Result;
use crate::ui::Ctx;
use crate::workflow::restack;
use crate::workspace::Workspace;

/// Rebase a work package's branch onto its dependencies' current work, then its dependents'
#[derive(clap::Args, Debug)]
#[command(
    long_about = "When a dependency's branch moves past the base a WP was started from, `git \
kitty status` marks the WP stale (`stale: WP01 moved 2 commits`). restack rebases the WP's branch \
onto its new base (`git rebase --onto <new> <old>` in the WP's worktree) and records the new \
base; then it does the same for every WP that depends on it, dependencies first.

It refuses when a worktree has uncommitted changes. A conflict stops the run cleanly: the \
rebase is left in progress in that worktree for its agent to resolve, and the WP moves to \
blocked with a note; after `git rebase --continue`, running restack again records the result \
and unblocks the WP. Inside a WP's worktree the WP can be left out.",
    after_long_help = concat!(
        "Examples:
  git kitty restack WP02
  git kitty restack            (inside WP02's worktree)

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The work package (left out inside its worktree)
    #[arg(value_name = "WP")]
    pub wp: Option<String>,

    #[command(flatten)]
    pub feature: FeatureArg,

    #[command(flatten)]
    pub agent: AgentArg,

    /// Restack a WP that another agent holds
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp) = ws.resolve_wp_or_here(
        args.wp.as_deref(),
        args.feature.get(),
        "git kitty restack WP02",
    )?;
    let actor = args.agent.actor(&ws)?;
    let (states, _) = ws.read_states(Some(&[feature]))?;
    let steps = restack::restack(&ws, feature, &wp, &states, &actor, args.force)?;
    if args.json.enabled {
        ctx.ui
            .out_json(&serde_json::json!({ "feature": feature.slug, "steps": steps }));
        return Ok(0);
    }
    let mut text = String::new();
    for s in &steps {
        let short = |c: &Option<String>| {
            c.as_deref()
                .and_then(|c| c.get(..7))
                .unwrap_or("?")
                .to_owned()
        };
        let line = match s.outcome {
            restack::Outcome::Restacked => format!(
                "{}: rebased from {} onto {}",
                s.wp,
                short(&s.old_base),
                short(&s.new_base)
            ),
            restack::Outcome::Resumed => format!(
                "{}: rebase finished by hand, now on {}",
                s.wp,
                short(&s.new_base)
            ),
            restack::Outcome::UpToDate => format!("{}: up to date", s.wp),
            restack::Outcome::Conflict => format!("{}: conflict, not restacked", s.wp),
            restack::Outcome::Skipped(lane) => format!("{}: skipped ({lane}), not restacked", s.wp),
        };
        text.push_str(&line);
        text.push('\n');
    }
    ctx.ui.out(&text);
    Ok(0)
}
