//! `git kitty abandon`: give a work package back.

use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::error::Result;
use crate::ui::Ctx;
use crate::workflow::abandon;
use crate::workspace::Workspace;

/// Release a claim: remove the worktree and branch, back to planned
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Give a work package back: remove its worktree and its branch, and move it to \
planned so another agent can take it. It refuses when that would lose work (uncommitted \
changes, or commits no other branch has) unless --force is given; a forced deletion prints the \
commit the branch was at, so `git branch <name> <commit>` restores it. Only the agent holding \
the WP abandons it without --force.

On a clone whose claim lost to another machine's (a claim made without --sync that reached the \
remote second: `pull`, `push` and `sync` say so and exit 1, `status` lists it under \"Lost \
claims\"), abandon gives back only what that claim left here, its worktree and branch, with the \
same care for work on them; the claim that won is not touched, here or on the remote.

A done WP (landed from another clone: `status` lists it under \"Landed\") keeps its state: \
abandon removes its worktree and branch left here, by anyone, with no event, keeping \
uncommitted changes and commits that neither the target branch nor the remote's copies of the \
branch and of the target have unless --force is given (`git pull --ff-only` first brings the \
landing).",
    after_long_help = concat!(
        "Examples:
  git kitty abandon WP03
  git kitty abandon WP03 --force --note \"wrong approach, starting over\"

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

    /// Drop uncommitted changes and unmerged commits, or abandon another agent's WP
    #[arg(long)]
    pub force: bool,

    /// Why, for the history
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub note: Option<String>,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp) = ws.resolve_wp_or_here(
        args.wp.as_deref(),
        args.feature.get(),
        "git kitty abandon WP02",
    )?;
    let actor = args.agent.actor(&ws)?;
    let done = abandon::abandon(&ws, feature, &wp, &actor, args.force, args.note)
        .map_err(|e| ws.qualify_hints(feature, e))?;
    if args.json.enabled {
        ctx.ui.out_json(&done);
        return Ok(0);
    }
    let mut text = match &done.lost_claim {
        None if done.lane == crate::model::lane::Lane::Done => {
            format!("{}: done; removed what was left here of it\n", done.wp)
        }
        None => format!("{}: back to {} ({actor})\n", done.wp, done.lane),
        Some(l) => format!(
            "{}: gave back what {}'s lost claim left here; its state is untouched ({}{})\n",
            done.wp,
            l.agent,
            done.lane,
            l.holder
                .as_deref()
                .map(|h| format!(", {h}"))
                .unwrap_or_default()
        ),
    };
    if let Some(w) = &done.removed_worktree {
        text.push_str(&format!("  removed worktree {w}\n"));
    }
    if let Some(k) = &done.kept_branch {
        text.push_str(&format!(
            "  kept branch {}: another writer moved it to {} meanwhile (`git branch -D {}` deletes it)\n",
            k.name,
            k.commit.get(..7).unwrap_or(&k.commit),
            k.name
        ));
    }
    if let Some(d) = &done.deleted_branch {
        let (b, c) = (&d.name, &d.commit);
        text.push_str(&format!(
            "  deleted branch {b} (was {})\n",
            c.get(..7).unwrap_or(c)
        ));
        if done.dropped_commits > 0 {
            text.push_str(&format!(
                "  {} commit{} dropped; restore with `git branch {b} {c}`\n",
                done.dropped_commits,
                if done.dropped_commits == 1 { "" } else { "s" }
            ));
        }
    }
    ctx.ui.out(&text);
    Ok(0)
}
