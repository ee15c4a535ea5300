//! `git kitty orchestrator-api`: Spec Kitty's orchestrator host contract. Each call prints
//! exactly one JSON envelope on stdout (usage errors included); stderr carries diagnostics.

use std::ffi::OsString;

use crate::error::{Error, Result};
use crate::ui::Ctx;
use crate::workflow::orchestrator::{self, ApiError, Call, Envelope, ErrorCode, Transition};

/// The two lines that make `spec-kitty orchestrator-api ...` run git kitty.
pub const SHIM: &str = "#!/bin/sh\nexec git kitty \"$@\"\n";

/// Spec Kitty's orchestrator API: drive git kitty from `spec-kitty-orchestrator`
#[derive(clap::Args, Debug)]
#[command(
    subcommand_value_name = "CALL",
    long_about = "Spec Kitty's orchestrator host API (contract 1.5.0), served by git kitty.

An external orchestrator such as `spec-kitty-orchestrator` runs `spec-kitty orchestrator-api \
<call> [flags]` and reads one JSON envelope from stdout: contract_version, command, timestamp, \
correlation_id, success, error_code, data. With the `spec-kitty` shim on PATH (\
`git kitty orchestrator-api --print-shim`), every claim, worktree, review and lane move it makes \
goes through git kitty's own rules and refs, as if agents had run `git kitty` themselves. \
`--mission` is the feature; a move to `done` records the review's approval (git kitty's \
`approved`), and `merge-mission` lands the mission with `git kitty merge`. \
docs/orchestrator.md has the contract table.",
    after_long_help = "Examples:
  git kitty orchestrator-api --print-shim > ~/.local/bin/spec-kitty && chmod +x ~/.local/bin/spec-kitty
  spec-kitty-orchestrator orchestrate --mission 001-checkout
  git kitty orchestrator-api list-ready --mission 001-checkout

Exit status:
  0  success
  1  the call failed: `error_code` says why, `data.message` for people
  2  usage error (`error_code` USAGE_ERROR)"
)]
pub struct Args {
    /// Print the `spec-kitty` shim (`#!/bin/sh` + `exec git kitty "$@"`) and exit
    #[arg(long, exclusive = true)]
    pub print_shim: bool,

    #[command(subcommand)]
    pub call: Option<ApiCall>,
}

#[derive(clap::Subcommand, Debug)]
pub enum ApiCall {
    /// The contract version this host implements (and the oldest provider it accepts)
    ContractVersion {
        /// The caller's version: below the minimum is CONTRACT_VERSION_MISMATCH
        #[arg(long, value_name = "VERSION")]
        provider_version: Option<String>,
    },
    /// Every WP of a mission: lane, dependencies, last actor; counts per lane
    MissionState(MissionArg),
    /// The WPs ready to start: planned, every dependency approved or done
    ListReady(MissionArg),
    /// Where a WP's worktree is (or will be), changing nothing
    ResolveWorkspace(WpArgs),
    /// Claim a WP and make its branch and worktree (planned -> in_progress)
    StartImplementation(StartArgs),
    /// Take a WP's review (for_review -> in_review)
    StartReview(ReviewArgs),
    /// Move a WP to another lane by git kitty's rules
    Transition(TransitionArgs),
    /// Add a note to a WP's history
    AppendHistory(HistoryArgs),
    /// Check that every WP of the mission is approved or done
    AcceptMission(AcceptArgs),
    /// Land the mission's WPs with `git kitty merge`, dependencies first
    MergeMission(MergeArgs),
}

#[derive(clap::Args, Debug)]
pub struct MissionArg {
    /// The mission: a feature under kitty-specs/
    #[arg(long, value_name = "SLUG")]
    pub mission: String,
}

#[derive(clap::Args, Debug)]
pub struct WpArgs {
    #[command(flatten)]
    pub mission: MissionArg,
    /// The work package (WP01)
    #[arg(long, value_name = "WP")]
    pub wp: String,
}

#[derive(clap::Args, Debug)]
pub struct StartArgs {
    #[command(flatten)]
    pub target: WpArgs,
    /// Who acts (recorded as the agent)
    #[arg(long, value_name = "NAME")]
    pub actor: String,
    /// The orchestrator's policy, a JSON object (required)
    #[arg(long, value_name = "JSON")]
    pub policy: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub start: StartArgs,
    /// The review this refers to (recorded with the event)
    #[arg(long, value_name = "REF")]
    pub review_ref: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct TransitionArgs {
    #[command(flatten)]
    pub target: WpArgs,
    /// The lane to move to (`done` records the review's approval)
    #[arg(long, value_name = "LANE")]
    pub to: String,
    /// Who acts
    #[arg(long, value_name = "NAME")]
    pub actor: String,
    /// Why (required to send a review back)
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// The orchestrator's policy (required for claimed, in_progress, for_review, in_review)
    #[arg(long, value_name = "JSON")]
    pub policy: Option<String>,
    /// Force the move if the rules refuse it (recorded as forced, the note as reason)
    #[arg(long)]
    pub force: bool,
    /// The review this move answers
    #[arg(long, value_name = "REF")]
    pub review_ref: Option<String>,
    /// A structured review outcome: {"reviewer", "verdict", "reference"}
    #[arg(long, value_name = "JSON")]
    pub review_result_json: Option<String>,
    /// Evidence to record with the move (a JSON object)
    #[arg(long, value_name = "JSON")]
    pub evidence_json: Option<String>,
    /// Spec Kitty's for_review guard (git kitty checks the worktree itself)
    #[arg(long, overrides_with = "no_subtasks_complete")]
    pub subtasks_complete: bool,
    #[arg(long, hide = true, overrides_with = "subtasks_complete")]
    pub no_subtasks_complete: bool,
    /// Spec Kitty's for_review guard (git kitty checks the worktree itself)
    #[arg(long, overrides_with = "no_implementation_evidence_present")]
    pub implementation_evidence_present: bool,
    #[arg(long, hide = true, overrides_with = "implementation_evidence_present")]
    pub no_implementation_evidence_present: bool,
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub target: WpArgs,
    /// Who writes the note
    #[arg(long, value_name = "NAME")]
    pub actor: String,
    /// The note
    #[arg(long, value_name = "TEXT")]
    pub note: String,
}

#[derive(clap::Args, Debug)]
pub struct AcceptArgs {
    #[command(flatten)]
    pub mission: MissionArg,
    /// Who accepts
    #[arg(long, value_name = "NAME")]
    pub actor: String,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    #[command(flatten)]
    pub mission: MissionArg,
    /// The branch to land on: must be the WPs' target branch
    #[arg(long, value_name = "BRANCH")]
    pub target: Option<String>,
    /// merge (a merge commit per WP) or squash (one commit per WP); rebase is not supported
    #[arg(long, value_name = "STRATEGY", default_value = "merge")]
    pub strategy: String,
    /// Push the target branch and the mission's state afterwards
    #[arg(long)]
    pub push: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    if args.print_shim {
        ctx.ui.out(SHIM);
        return Ok(0);
    }
    let Some(call) = args.call else {
        let err = ApiError::new(
            ErrorCode::UsageError,
            "which call? e.g. `git kitty orchestrator-api contract-version`",
        );
        return Ok(print(ctx, &Envelope::failed("unknown", &err), 2));
    };
    let call = to_call(call);
    let (envelope, code) = orchestrator::answer(&ctx.cwd, &call);
    Ok(print(ctx, &envelope, code))
}

fn to_call(call: ApiCall) -> Call {
    match call {
        ApiCall::ContractVersion { provider_version } => Call::ContractVersion { provider_version },
        ApiCall::MissionState(m) => Call::MissionState { mission: m.mission },
        ApiCall::ListReady(m) => Call::ListReady { mission: m.mission },
        ApiCall::ResolveWorkspace(t) => Call::ResolveWorkspace {
            mission: t.mission.mission,
            wp: t.wp,
        },
        ApiCall::StartImplementation(s) => Call::StartImplementation {
            mission: s.target.mission.mission,
            wp: s.target.wp,
            actor: s.actor,
            policy: s.policy,
        },
        ApiCall::StartReview(r) => Call::StartReview {
            mission: r.start.target.mission.mission,
            wp: r.start.target.wp,
            actor: r.start.actor,
            policy: r.start.policy,
            review_ref: r.review_ref,
        },
        ApiCall::Transition(t) => Call::Transition(transition(t)),
        ApiCall::AppendHistory(h) => Call::AppendHistory {
            mission: h.target.mission.mission,
            wp: h.target.wp,
            actor: h.actor,
            note: h.note,
        },
        ApiCall::AcceptMission(a) => Call::AcceptMission {
            mission: a.mission.mission,
            actor: a.actor,
        },
        ApiCall::MergeMission(m) => Call::MergeMission {
            mission: m.mission.mission,
            target: m.target,
            strategy: m.strategy,
            push: m.push,
        },
    }
}

fn transition(t: TransitionArgs) -> Transition {
    let flag = |yes: bool, no: bool| (yes || no).then_some(yes);
    Transition {
        mission: t.target.mission.mission,
        wp: t.target.wp,
        to: t.to,
        actor: t.actor,
        note: t.note,
        policy: t.policy,
        force: t.force,
        review_ref: t.review_ref,
        review_result_json: t.review_result_json,
        evidence_json: t.evidence_json,
        subtasks_complete: flag(t.subtasks_complete, t.no_subtasks_complete),
        implementation_evidence_present: flag(
            t.implementation_evidence_present,
            t.no_implementation_evidence_present,
        ),
    }
}

/// The envelope on stdout (one line), and a failure for people on stderr.
fn print(ctx: &mut Ctx, envelope: &Envelope, code: u8) -> u8 {
    let line = serde_json::to_string(envelope).unwrap_or_else(|_| "{}".to_owned());
    ctx.ui.out(&line);
    ctx.ui.out("\n");
    if !envelope.success {
        let message = envelope.data["message"].as_str().unwrap_or_default();
        let mut err = Error::usage(format!(
            "{} ({})",
            message,
            serde_json::to_value(envelope.error_code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
        for h in envelope.data["hints"].as_array().into_iter().flatten() {
            err = err.hint(h.as_str().unwrap_or_default());
        }
        ctx.ui.render_error(&err);
    }
    code
}

/// The calls, as typed after `orchestrator-api`.
const CALLS: [&str; 10] = [
    "contract-version",
    "mission-state",
    "list-ready",
    "resolve-workspace",
    "start-implementation",
    "start-review",
    "transition",
    "append-history",
    "accept-mission",
    "merge-mission",
];

/// A command line clap refused, when it was an `orchestrator-api` call: the USAGE_ERROR
/// envelope on stdout, clap's message on stderr, exit 2. `args` is argv without the program.
pub fn usage_error(args: &[OsString], err: &clap::Error) -> u8 {
    let name = args
        .iter()
        .skip_while(|a| *a != "orchestrator-api")
        .nth(1)
        .and_then(|a| a.to_str())
        .filter(|a| CALLS.contains(a))
        .unwrap_or("unknown");
    let rendered = err.to_string();
    // clap's first paragraph (`the following required arguments were not provided:
    // --mission <SLUG>`), on one line.
    let message = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned();
    let envelope = Envelope::failed(name, &ApiError::new(ErrorCode::UsageError, message));
    let mut ui = crate::ui::Ui::new(crate::ui::ColorChoice::Never);
    ui.out(&serde_json::to_string(&envelope).unwrap_or_else(|_| "{}".to_owned()));
    ui.out("\n");
    ui.flush();
    let _ = err.print();
    2
}
