//! `git kitty review`: take a work package's review in a worktree of its branch.

use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::cmd::worktree_out;
use crate::error::Result;
use crate::render::Paint;
use crate::ui::{Ctx, Ui};
use crate::workflow::review::{self, Request, Reviewed};
use crate::workspace::Workspace;
use crate::workspace::branches::Where;

/// Take a work package's review: a worktree of its branch, and the move to in_review
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Take the review of a work package that is for_review: check its branch out in a \
worktree and move it to in_review, with you as its reviewer.

The branch is the WP's own, `<feature>-<WP>`: the local one, else the remote's copy as last \
fetched (refs/remotes/<remote>/<feature>-<WP>, which `git kitty pull` and a plain `git fetch` \
bring), from which a local branch is made. So a clone that never implemented the WP reviews \
what another machine pushed. The worktree is the one that already has the branch checked out \
in this clone (the implementer's), else a new `.worktrees/<feature>-<WP>`.

The worktree is made first and the lane moved last: if the move is refused (someone else took \
the review), what this run made is removed again. Run again by the same reviewer, it prints \
the worktree (and makes it again if it was deleted). The worktree path is all that goes to \
stdout: dir=$(git kitty review WP03) && cd \"$dir\". Then `git kitty lane WP03 approved`, or \
`git kitty lane WP03 in_progress --note \"...\"` to send it back.",
    after_long_help = concat!(
        "Examples:
  git kitty review WP03
  git kitty review WP03 --sync        fetch first, and confirm the move with the remote
  dir=$(git kitty review WP03 --agent reviewer) && cd \"$dir\"

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The work package to review
    #[arg(value_name = "WP")]
    pub wp: String,

    #[command(flatten)]
    pub feature: FeatureArg,

    #[command(flatten)]
    pub agent: AgentArg,

    /// Fetch its state and branch first, and confirm the move with the remote
    #[arg(long)]
    pub sync: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp) = ws.resolve_wp(&args.wp, args.feature.get())?;
    let actor = args.agent.actor(&ws)?;
    let done = review::review(
        &ws,
        &Request {
            feature,
            wp,
            actor,
            sync: args.sync,
        },
    )
    .map_err(|e| ws.qualify_hints(feature, e))?;
    print(&mut ctx.ui, &ws, &done, args.json.enabled);
    Ok(0)
}

/// A summary on stderr, the worktree path on stdout.
fn print(ui: &mut Ui, ws: &Workspace, done: &Reviewed, json: bool) {
    worktree_out::print(ui, json, done, &done.worktree, |p| summary(p, ws, done));
}

/// The review taken, and what to do next.
fn summary(p: Paint, ws: &Workspace, done: &Reviewed) -> String {
    let head = if done.reused {
        format!("{}: already in review by you ({})", done.wp, done.reviewer)
    } else {
        format!("{}: in_review ({})", done.wp, done.reviewer)
    };
    let rel = worktree_out::shown(ws, &done.worktree);
    let from = match &done.branch_from {
        Where::Local => String::new(),
        Where::Remote(r) => format!("  made from {r}/{}", done.branch),
    };
    let mut text = format!("{}\n", p.bold(&head));
    text.push_str(&format!("  branch    {}{from}\n", done.branch));
    if let Some(who) = &done.implementer {
        text.push_str(&format!("  by        {who}\n"));
    }
    text.push_str(&format!("  prompt    {}\n", done.prompt));
    let arg = ws
        .plan
        .feature(&done.feature)
        .and_then(|f| done.wp.parse().ok().map(|w| ws.wp_arg(f, &w)))
        .unwrap_or_else(|| done.wp.clone());
    text.push_str(&format!(
        "  next      cd {rel}; then `git kitty lane {arg} approved`, or `git kitty lane {arg} in_progress --note \"...\"` to send it back\n"
    ));
    for w in &done.warnings {
        text.push_str(&format!("  warning   {w}\n"));
    }
    text
}
