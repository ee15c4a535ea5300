//! `git kitty lane`: move a work package to another lane.

use std::str::FromStr;

use serde::Serialize;

use super::{resolve_wp_and, write_outcome};
use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::error::{Error, Result};
use crate::model::lane::Lane;
use crate::state::store::Appended;
use crate::ui::Ctx;
use crate::workflow::lane::{self, Move, Moved};
use crate::workspace::Workspace;

fn long_about() -> String {
    format!(
        "Move a work package to another lane, recorded as an event in its state ref \
refs/kitty/wp/<feature>/<WP> (no commit on any branch, nothing in any working tree).

Allowed moves (anything else needs --force --reason):
{}
`doing` is accepted for in_progress.

Rules:
  - claiming (claimed, or in_progress from planned) records the agent as the WP's holder;
    a WP claimed or in progress by one agent (or in review by one reviewer) is moved by
    another only with --force;
  - for_review, in_review or approved -> in_progress or planned (and in_review -> blocked)
    sends the review back: --note with the feedback is required; the review status becomes
    has_feedback, and the board and `implement` show the note until the WP is approved;
  - approving records the reviewer; leaving approved for anything but done withdraws it;
  - a move to blocked keeps its --note (or --reason) as the reason the board shows;
  - done and canceled are left only with --force.

Across machines: a move is recorded in this clone only, until `git kitty push` (or sync) sends \
it. Two machines can then both claim one WP: the claim that reaches the remote first wins, and \
the other clone's push, pull or sync says its claim lost and exits 1 (`git kitty abandon` then \
gives back what it left there). With --sync (or git config kitty.syncClaims true) a claim is \
confirmed with the remote before it counts: atomic across machines, and refused when another \
machine got there first.

The agent is --agent, else $KITTY_AGENT, else (inside a WP's worktree) the WP's holder or implementer, else git
config user.name.
Inside a WP's worktree the WP can be left out: `git kitty lane for_review`.",
        Lane::table_text()
    )
}

/// Move a work package to another lane
#[derive(clap::Args, Debug)]
#[command(
    override_usage = "git kitty lane [OPTIONS] [WP] <LANE>",
    long_about = long_about(),
    after_long_help = concat!(
        "Examples:
  git kitty lane WP02 claimed --agent claude
  git kitty lane WP02 for_review --note \"ready: all tests pass\"
  git kitty lane WP02 in_progress --note \"the retry path has no test\"   (review feedback)
  git kitty lane WP02 approved
  git kitty lane WP05 planned --force --reason \"agent crashed\"

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// The work package (left out inside its worktree), then the lane to move it to
    #[arg(value_name = "WP> <LANE", num_args = 1..=2, required = true)]
    pub targets: Vec<String>,

    #[command(flatten)]
    pub feature: FeatureArg,

    /// A note for the history; required when sending a review back
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub note: Option<String>,

    #[command(flatten)]
    pub agent: AgentArg,

    /// Move outside the allowed moves, or take over another agent's WP (needs --reason)
    #[arg(long, requires = "reason")]
    pub force: bool,

    /// Why the move is forced; recorded in the history
    #[arg(long, value_name = "TEXT", requires = "force", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub reason: Option<String>,

    /// Confirm the move with the remote before it counts: a claim is then atomic across
    /// machines. Without it a move is local until `git kitty push`; `git config
    /// kitty.syncClaims true` turns it on for every move to claimed or in_progress
    #[arg(long)]
    pub sync: bool,

    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Serialize)]
struct Outcome<'a> {
    feature: &'a str,
    wp: &'a str,
    changed: bool,
    from: Lane,
    to: Lane,
    #[serde(flatten)]
    written: serde_json::Value,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    // Naming the feature spares reading the others.
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let (feature, wp, lane) =
        resolve_wp_and(&ws, &args.targets, args.feature.get(), ("lane", "LANE"))?;
    let to = Lane::from_str(&lane).map_err(|why| {
        Error::usage(why).hint(format!(
            "`git kitty lane {wp} <lane>`: `git kitty lane -h` shows the allowed moves"
        ))
    })?;
    let actor = args.agent.actor(&ws)?;
    let request = Move {
        feature,
        wp: &wp,
        to,
        actor: &actor,
        note: args.note.clone().filter(|n| !n.trim().is_empty()),
        force: args.force,
        reason: args.reason.clone(),
        sync: args.sync,
        provenance: Default::default(),
    };
    let Moved { from, outcome } = lane::move_wp(&ws, &request)?;
    let changed = matches!(outcome, Appended::Written(_));
    if args.json.enabled {
        ctx.ui.out_json(&Outcome {
            feature: feature.slug.as_str(),
            wp: wp.as_str(),
            changed,
            from,
            to,
            written: write_outcome(&outcome),
        });
    } else {
        match &outcome {
            Appended::Written(tip) => {
                let forced = if tip.event.forced { " (forced)" } else { "" };
                ctx.ui
                    .out(&format!("{wp}: {from} -> {to} ({actor}){forced}\n"));
            }
            Appended::Unchanged(state) => {
                let who = state
                    .holder()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                ctx.ui
                    .out(&format!("{wp} is already {to}{who}: nothing to do\n"));
            }
        }
    }
    Ok(0)
}
