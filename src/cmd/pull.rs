//! `git kitty pull`: bring the remote's state in and merge it with local state.

use crate::cmd::args::RemoteArgs;
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::sync::{self, Report};
use crate::ui::{Ctx, Ui};

/// Fetch the remote's lanes, claims and history, and merge them with local state
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Fetch the remote's state refs (refs/kitty/*) into refs/kitty-remotes/<remote>/, \
never over local state, then bring each work package together: a missing or older local state \
is fast-forwarded; where both sides have new events, a merge commit replays the events of both \
in one deterministic order (Lamport clock, time, event id), each checked again by the lane \
rules. An event the replay refuses (a second claim, a move from a lane the WP no longer has) \
stays in the history, marked rejected, and is listed here for whoever made it.

The same fetch brings each feature's WP branches into refs/remotes/<remote>/<feature>-<WP> \
(where a plain `git fetch` puts them), and pull fast-forwards the local WP branches that no \
worktree has checked out; one checked out, ahead or diverged is reported and left as it is. No \
local branch is made: `git kitty review` and `git kitty merge` work from the remote's copy.

The remote is the one named, else git config kitty.remote, else origin. --no-fetch merges what \
the last fetch brought (a plain `git fetch` does too, after `git kitty init`).

A claim made here (without --sync) that lost to another machine's, whose claim reached the \
remote first, is listed with who won and what it left here, and the exit status is 1: \
`git kitty abandon <WP> --agent <agent>` gives back that worktree and branch, and nothing else.",
    after_long_help = concat!(
        "Examples:
  git kitty pull
  git kitty pull upstream --json

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    #[command(flatten)]
    pub common: RemoteArgs,

    /// Do not fetch: merge what is already in refs/kitty-remotes/<remote>/
    #[arg(long)]
    pub no_fetch: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.common.json.enabled;
    let (ws, remote, actor) = args.common.open(&ctx.cwd)?;
    let report = sync::pull(&ws, &remote, !args.no_fetch, &actor, None::<&FeatureSlug>)?;
    print(
        &mut ctx.ui,
        "pulled from",
        &report,
        args.common.json.enabled,
    );
    Ok(exit_code(&report))
}

/// 0; 6 ("failed") when some WP could not be brought together (the others were); else 1
/// ("refused") when a claim made here lost to another machine's.
pub fn exit_code(report: &Report) -> u8 {
    if !report.failed.is_empty() {
        crate::error::ErrorKind::Failed.exit_code()
    } else if !report.lost_claims.is_empty() {
        crate::error::ErrorKind::Refused.exit_code()
    } else {
        0
    }
}

/// Each lost claim on stderr: whose, who won, what is left here and the command that gives
/// it back.
fn print_lost(ui: &mut Ui, report: &Report) {
    for l in &report.lost_claims {
        let winner = match &l.holder {
            Some(h) => format!("{h}'s claim reached {} first", report.remote),
            None => format!("{} had other changes first", report.remote),
        };
        ui.warn(&format!(
            "{}/{}: {}'s claim, made here, lost: {winner}",
            l.feature, l.wp, l.agent
        ));
        let left: Vec<String> = [
            l.worktree.as_ref().map(|w| format!("worktree {w}")),
            l.branch.as_ref().map(|b| format!("branch {b}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        match &l.next {
            Some(next) => ui.note(&format!(
                "hint: `{next}` gives back the {} left here from it, and nothing else",
                left.join(" and ")
            )),
            None => ui.note("hint: nothing of it is left here to give back"),
        }
    }
}

/// What happened to WP branches: what moved on stdout, what needs attention as warnings.
fn print_branches(ui: &mut Ui, text: &mut String, report: &Report) {
    use sync::branches::BranchOutcome as B;
    let remote = &report.remote;
    for b in &report.branches {
        let at = format!("{}/{}: branch {}", b.feature, b.wp, b.branch);
        let tracking = format!("{remote}/{}", b.branch);
        match b.outcome {
            B::Pushed => text.push_str(&format!("{at} pushed\n")),
            B::FastForward => text.push_str(&format!("{at} fast-forwarded\n")),
            B::Ahead => text.push_str(&format!("{at} has commits {remote} lacks\n")),
            B::Behind => text.push_str(&format!(
                "{at} lacks commits of {tracking}: nothing to send\n"
            )),
            B::CheckedOut => ui.warn(&format!(
                "{at} not moved to {tracking}: it is checked out in {}; \
                 `git merge --ff-only {tracking}` there brings its commits",
                b.detail.as_deref().unwrap_or("a worktree")
            )),
            B::Diverged => ui.warn(&format!(
                "{at} and {tracking} both have commits the other lacks: neither was changed; \
                 merge or rebase them in its worktree, then `git kitty push`"
            )),
            B::Stale => ui.warn(&format!(
                "{at} not pushed: it diverged on {remote} since the last fetch; pull first \
                 (`git kitty pull`)"
            )),
            B::Declined => ui.warn(&format!(
                "{at} not pushed: {remote} refused it: {}",
                b.detail.as_deref().unwrap_or("")
            )),
        }
    }
}

/// One line per changed WP, the rejections under it, then a count.
pub fn print(ui: &mut Ui, verb: &str, report: &Report, json: bool) {
    if json {
        ui.out_json(report);
        return;
    }
    let p = ui.paint;
    let mut text = String::new();
    for c in &report.changed {
        let what = match c.outcome {
            sync::Outcome::New => "new from the remote",
            sync::Outcome::FastForward => "fast-forwarded",
            sync::Outcome::Merged => "merged both histories",
            sync::Outcome::Ahead => "local has newer events",
            sync::Outcome::Pushed => "pushed",
        };
        text.push_str(&format!("{}/{}: {what}\n", c.feature, p.bold(&c.wp)));
        for r in &c.rejected {
            text.push_str(&format!(
                "  {} {}'s {}: {}\n",
                p.yellow("rejected"),
                r.actor,
                r.what,
                r.why
            ));
        }
    }
    for f in &report.failed {
        ui.warn(&format!("{f}; its local state was left as it was"));
    }
    print_lost(ui, report);
    print_branches(ui, &mut text, report);
    let changed = report
        .changed
        .iter()
        .filter(|c| c.outcome != sync::Outcome::Ahead)
        .count();
    text.push_str(&format!(
        "{verb} {}: {changed} changed, {} unchanged\n",
        report.remote, report.unchanged
    ));
    ui.out(&text);
}
