//! `git kitty repair`: replace a damaged state ref with a sound history.

use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::error::Result;
use crate::ui::Ctx;
use crate::workflow::repair::{self, Repaired, Request};
use crate::workspace::Workspace;

/// Replace a WP's damaged state (here and on the remote) with a sound history
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Replace a work package's damaged state ref with a sound history, here and on \
the remote. A state ref is damaged when it points at something other than a state commit of \
that WP (a blob, a tag, an ordinary commit, another WP's state), or when its history holds a \
commit git kitty could not have written: a state its event does not lead to under the lane \
rules, a branch or worktree that is not the WP's own, `done` without the WP's work on its \
target branch. It is judged by the same check the server's hook runs.

What is kept is the newest sound part of each side's history (joined when both have one, as \
`pull` does); on top of it goes a note that names the damaged object it replaces. The server \
(`hooks install --server`) takes that history in place of a damaged value, and only of a \
damaged one; the push has a lease on that value, so nothing that arrived meanwhile is dropped. \
State written by a newer git kitty is not damage: it is refused, never replaced. A WP whose \
state is sound is left alone.

The remote is --remote, else git config kitty.remote, else origin when there is one; --local \
repairs this clone only.",
    after_long_help = concat!(
        "Examples:
  git kitty repair WP03
  git kitty repair WP03 -f 001-auth --remote upstream --json
  git kitty repair WP03 --local

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

    /// The remote to repair too (default: git config kitty.remote, else origin)
    #[arg(long, value_name = "REMOTE", conflicts_with = "local")]
    pub remote: Option<String>,

    /// Repair this clone only
    #[arg(long)]
    pub local: bool,

    #[command(flatten)]
    pub agent: AgentArg,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp) = ws.resolve_wp_or_here(
        args.wp.as_deref(),
        args.feature.get(),
        "git kitty repair WP02",
    )?;
    let actor = args.agent.actor(&ws)?;
    let remote = match (&args.remote, args.local) {
        (_, true) => None,
        (Some(named), false) => Some(crate::sync::remote_name(&ws.repo, Some(named))?),
        // The default remote when there is one; none is not an error here.
        (None, false) => crate::sync::remote_name(&ws.repo, None).ok(),
    };
    let done = repair::repair(
        &ws,
        &Request {
            feature,
            wp,
            actor: actor.clone(),
            remote,
        },
    )?;
    if args.json.enabled {
        ctx.ui.out_json(&done);
    } else {
        ctx.ui.out(&text(&done, &actor));
    }
    Ok(0)
}

fn text(done: &Repaired, actor: &str) -> String {
    let wp = &done.wp;
    let place = match &done.remote {
        Some(r) => format!("here and on {r}"),
        None => "here".into(),
    };
    if !done.repaired {
        return format!("{wp}: nothing to repair: its state is sound {place}\n");
    }
    let mut text = format!("{wp}: repaired ({actor}), now {}\n", done.lane);
    for r in &done.replaced {
        let at = if r.at == "local" {
            "here".to_owned()
        } else {
            format!("on {}", r.at)
        };
        text.push_str(&format!("  replaced {} {at}: {}\n", &r.object[..7], r.why));
    }
    match &done.kept {
        Some(k) => text.push_str(&format!("  kept its sound history up to {}\n", &k[..7])),
        None => text.push_str("  kept nothing of it: the history starts again from the plan\n"),
    }
    if let (true, Some(r)) = (done.pushed, &done.remote) {
        text.push_str(&format!("  pushed to {r}\n"));
    }
    text
}
