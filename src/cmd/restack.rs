//! `git kitty restack`: rebase a work package (and what depends on it) onto its new base.

use std::str::FromStr;

use crate::cli::Ctx;
use crate::error::{Error, Result};
use crate::model::ids::{FeatureSlug, WpId};
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

    /// The feature of the WP (needed only when several features have that WP id)
    #[arg(long, short = 'f', value_name = "FEATURE")]
    pub feature: Option<FeatureSlug>,

    /// Who is acting (default: $KITTY_AGENT, else git config user.name)
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,

    /// Restack a WP that another agent holds
    #[arg(long)]
    pub force: bool,

    /// Print the steps as JSON (docs/json.md)
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json;
    let ws = Workspace::open(&ctx.cwd, args.feature.as_ref())?;
    let (feature, wp) = match &args.wp {
        Some(raw) => {
            let wp = WpId::from_str(raw).map_err(Error::usage)?;
            let f = ws.feature_of_wp(&wp, args.feature.as_ref())?;
            let wp = f.index_of(&wp).map_or(wp, |i| f.wps[i].id.clone());
            (f, wp)
        }
        None => ws.implied_wp().ok_or_else(|| {
            Error::usage("which work package? Name it, or run this inside its worktree")
                .hint("git kitty restack WP02")
        })?,
    };
    let actor = ws.actor(args.agent.as_deref())?;
    let (states, _) = ws.read_states(Some(&[feature]))?;
    let steps = restack::restack(&ws, feature, &wp, &states, &actor, args.force)?;
    if args.json {
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
