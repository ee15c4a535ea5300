//! `git kitty implement`: claim a work package and give it a branch and a worktree.

use crate::cmd::args::{AgentArg, ClaimSyncArg, FeatureArg, JsonArg};
use crate::cmd::worktree_out;
use crate::error::Result;
use crate::model::ids::WpId;
use crate::render::Paint;
use crate::ui::{Ctx, Ui};
use crate::workflow::base::describe_base;
use crate::workflow::implement::{self, Implemented, Request};
use crate::workspace::Workspace;

/// Claim a work package and give it its own branch and worktree
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Claim a work package for an agent and give it a branch `<feature>-<WP>` and a \
worktree `.worktrees/<feature>-<WP>` (kept out of `git status` through .git/info/exclude).

The branch starts from what the WP depends on: with no dependencies, the target branch; with \
one, that dependency's branch (or the target branch once it is merged there); with several, a \
merge of their branches, made without touching any worktree and recorded in the WP's state. \
A conflict in that merge stops with the conflicting paths, having created nothing.

A WP starts only when each dependency is approved or done, or is named with --base and has a \
branch (stacking on unfinished work). --force starts anyway and is recorded.

The claim is a compare-and-swap of the WP's state ref: of several agents running this at once \
in one clone, one gets the worktree and the others are told who holds it. Across machines the \
claim is local until `git kitty push` sends it: when another machine's claim reaches the remote \
first, that push (or pull, or sync) says this one lost and exits 1, and `git kitty abandon` \
gives back the worktree and branch it left. With --sync (or git config kitty.syncClaims true) \
the claim is confirmed with the remote before the worktree is made: atomic across machines. Run again by the same agent, it \
prints the existing worktree (and makes it again if it was deleted). The worktree path is all \
that goes to stdout (the summary goes to stderr): dir=$(git kitty implement WP01) && cd \"$dir\".

The target branch is the WP's merge_target_branch, else the feature's meta.json target_branch, \
else git config kitty.targetBranch, else the remote's default branch (refs/remotes/<remote>/HEAD), \
else the branch checked out in the main worktree.",
    after_long_help = concat!(
        "Examples:
  git kitty implement WP01
  git kitty implement WP02 --base WP01          stack on WP01's unfinished branch
  dir=$(git kitty implement WP03 --agent claude) && cd \"$dir\"

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The work package to start
    #[arg(value_name = "WP")]
    pub wp: String,

    #[command(flatten)]
    pub feature: FeatureArg,

    /// Stack on this dependency's unfinished branch (repeat for several)
    #[arg(long = "base", value_name = "WP")]
    pub bases: Vec<WpId>,

    #[command(flatten)]
    pub agent: AgentArg,

    /// Start although dependencies are not approved or done (needs --reason; recorded as forced)
    #[arg(long, requires = "reason")]
    pub force: bool,

    /// Why the gate is overridden; recorded in the history
    #[arg(long, value_name = "TEXT", requires = "force", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub reason: Option<String>,

    #[command(flatten)]
    pub sync: ClaimSyncArg,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp) = ws.resolve_wp(&args.wp, args.feature.get())?;
    let actor = args.agent.actor(&ws)?;
    let remote = args.sync.remote(&ws, [&feature.slug], &actor)?;
    let (states, _) = ws.read_states(Some(&[feature]))?;
    let done = implement::implement(
        &ws,
        &states,
        &Request {
            feature,
            wp,
            bases: args.bases,
            actor,
            force: args.force,
            reason: args.reason,
            remote,
            provenance: Default::default(),
        },
    )
    .map_err(|e| ws.qualify_hints(feature, e))?;
    print(&mut ctx.ui, &ws, &done, args.json.enabled);
    Ok(0)
}

/// Print an implement outcome: a summary, then the worktree path as the last line.
pub fn print(ui: &mut Ui, ws: &Workspace, done: &Implemented, json: bool) {
    worktree_out::print(ui, json, done, &done.worktree, |p| summary(p, ws, done));
}

/// What `implement` did, and what to do next.
fn summary(p: Paint, ws: &Workspace, done: &Implemented) -> String {
    let head = if done.recreated {
        format!("{}: worktree made again ({})", done.wp, done.agent)
    } else if done.reused {
        format!("{}: already yours ({})", done.wp, done.agent)
    } else {
        let forced = if done.forced { " (forced)" } else { "" };
        format!("{}: {} ({}){forced}", done.wp, done.lane, done.agent)
    };
    let rel = worktree_out::shown(ws, &done.worktree);
    let mut text = format!("{}\n", p.bold(&head));
    text.push_str(&format!(
        "  branch    {}  from {}\n",
        done.branch,
        describe_base(&done.base)
    ));
    text.push_str(&format!("  prompt    {}\n", done.prompt));
    if let Some(feedback) = &done.feedback {
        // The reviewer's words, as they wrote them: the work to do now.
        for (i, line) in feedback.trim().lines().enumerate() {
            let label = if i == 0 { "feedback" } else { "" };
            text.push_str(&format!(
                "  {label:<9} {}\n",
                p.yellow(&crate::render::clean(line))
            ));
        }
    }
    text.push_str(&format!(
        "  next      cd {rel}, commit your work, then `git kitty lane for_review` there\n"
    ));
    text
}
