//! `git kitty check`: every problem in the plan.

use crate::cmd::args::{FeatureArg, JsonArg};
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::model::lane::Lane;
use crate::model::problem::{Code, Problem, Severity};
use crate::render::board::{plural, problem_line, severity_counts};
use crate::ui::Ctx;
use crate::workspace::Workspace;

/// Check the plan: every problem, with file and line
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("feature", |a| a.help("Check only this feature")),
    long_about = "Check the plan and report every problem, each with its file and line: malformed \
YAML, a missing or malformed work_package_id, an id that disagrees with its file name, duplicate \
ids, unknown dependencies, self-dependencies, dependency cycles (printed as WP02 -> WP04 -> WP02), \
unknown lanes, and feature folders or branch names that are not safe as git names or paths.

Errors make the exit status 1. Warnings (a malformed line in Spec Kitty's status.events.jsonl, \
a frontmatter lane edited by hand although the state decides) do not, unless --strict is given. \
Notes (a frontmatter lane the state has left behind, as in every Spec Kitty file once work \
starts) never do; --fix writes the state's lanes back into the files, as one commit.",
    after_long_help = "Exit status:
  0  no errors (warnings allowed unless --strict)
  1  problems found
  2  usage error (unknown feature, not in a repository)

Examples:
  git kitty check
  git kitty check -f 001-auth --json"
)]
pub struct Args {
    #[command(flatten)]
    pub feature: FeatureArg,

    #[command(flatten)]
    pub json: JsonArg,

    /// Fail on warnings too
    #[arg(long)]
    pub strict: bool,

    /// Write the lanes of git kitty's state back into the WP files' frontmatter (one commit
    /// of only those files, only their `lane:` values changed)
    #[arg(long)]
    pub fix: bool,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    if let Some(slug) = &args.feature.slug {
        ws.feature(slug)?;
    }
    let (mut states, mut state_problems) = ws.read_states(None)?;
    let mut ws = ws;
    if args.fix {
        let written = crate::workflow::frontmatter::write_back_lanes(&ws, &states)?;
        for w in &written {
            ctx.ui
                .note(&format!("fixed {}: lane {} -> {}", w.file, w.from, w.to));
        }
        // Read the plan again: the files changed.
        ws = Workspace::open(&ctx.cwd, args.feature.get())?;
        (states, state_problems) = ws.read_states(None)?;
    }
    let mut problems = ws.plan.problems.clone();
    problems.extend(drift(&ws, &states));
    problems.extend(missing_worktrees(&ws, &states)?);
    problems.extend(state_problems.into_iter().filter(|p| {
        args.feature.slug.is_none()
            || p.feature.as_deref() == args.feature.get().map(FeatureSlug::as_str)
    }));
    crate::model::problem::sort(&mut problems);
    let problems = &problems;
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = problems
        .iter()
        .filter(|p| p.severity == Severity::Warning)
        .count();
    let failed = errors > 0 || (args.strict && warnings > 0);
    let features = ws.plan.features.len();
    let wps: usize = ws.plan.features.iter().map(|f| f.wps.len()).sum();
    if args.json.enabled {
        ctx.ui.out_json(&serde_json::json!({
            "schema": 1,
            "ok": !failed,
            "features": features,
            "work_packages": wps,
            "errors": errors,
            "warnings": warnings,
            "notes": problems.len() - errors - warnings,
            "problems": problems,
        }));
    } else {
        let p = ctx.ui.paint;
        let mut text = String::new();
        for problem in problems {
            text.push_str(&problem_line(problem, p));
            text.push('\n');
        }
        let scope = format!(
            "{}, {}",
            plural(features, "feature"),
            plural(wps, "work package")
        );
        if problems.is_empty() {
            text.push_str(&format!("{} {scope}: no problems\n", p.green("ok:")));
        } else {
            let counts = severity_counts(problems, p);
            text.push_str(&format!("\n{} in {scope}\n", counts.join(", ")));
        }
        ctx.ui.out(&text);
    }
    super::keep_until_exit((states, ws));
    Ok(if failed { 1 } else { 0 })
}

/// A frontmatter `lane` that disagrees with the state ref. Left behind (it still says the
/// lane the WP had when git kitty first moved it, as Spec Kitty files do): information.
/// Changed since (someone edited it, expecting it to move the WP): a warning, since the
/// state wins and the edit does nothing.
fn drift(ws: &Workspace, states: &crate::workspace::States) -> Vec<Problem> {
    let mut out = Vec::new();
    for f in &ws.plan.features {
        for wp in &f.wps {
            let (Some(declared), Some(tip)) =
                (wp.lane, states.get(&(f.slug.clone(), wp.id.clone())))
            else {
                continue;
            };
            if declared == tip.state.lane {
                continue;
            }
            let name = crate::state::store::ref_name(&f.slug, &wp.id);
            let lane = tip.state.lane;
            let problem = if declared == first_lane(ws, f, wp).unwrap_or(declared) {
                Problem::new(
                    Code::LaneDrift,
                    format!(
                        "the frontmatter still says `lane: {declared}`; {} is {lane} in {name} (the state wins; `git kitty check --fix` writes it back)",
                        wp.id
                    ),
                )
            } else {
                Problem::new(
                    Code::LaneEdited,
                    format!(
                        "the frontmatter was changed to `lane: {declared}`, which moves nothing: {} is {lane} in {name}; `git kitty lane {} {declared}` moves it",
                        wp.id,
                        ws.wp_arg(f, &wp.id)
                    ),
                )
            };
            out.push(
                problem
                    .at(&wp.file, wp.lane_line)
                    .in_feature(f.slug.as_str())
                    .for_wp(wp.id.as_str()),
            );
        }
    }
    out
}

/// The lane a WP had before git kitty's first event on it.
fn first_lane(
    ws: &Workspace,
    f: &crate::model::plan::Feature,
    wp: &crate::model::wp::WorkPackage,
) -> Option<Lane> {
    let history = crate::state::store::history(&ws.repo, &f.slug, &wp.id).ok()?;
    history.last()?.1.from
}

/// Work in progress whose worktree is gone (an interrupted `implement`, a worktree deleted by
/// hand): the claim holds the WP, but nobody can work on it until it is made again or given
/// back.
fn missing_worktrees(ws: &Workspace, states: &crate::workspace::States) -> Result<Vec<Problem>> {
    let mut out = Vec::new();
    for ((feature, wp), tip) in states {
        let s = &tip.state;
        // Work under review or approved needs no worktree of its implementer's: `review`
        // makes the reviewer's, `merge` lands from the branch.
        if !ws.worktree_missing(s) || matches!(s.lane, Lane::ForReview | Lane::Approved) {
            continue;
        }
        let worktree = s.worktree.as_deref().unwrap_or_default();
        let branch_gone = match &s.branch {
            Some(b) => ws.repo.branch_tip(b)?.is_none().then_some(b),
            None => None,
        };
        let (what, them) = match branch_gone {
            Some(b) => (
                format!("its worktree {worktree} and its branch {b} are"),
                "them",
            ),
            None => (format!("its worktree {worktree} is"), "it"),
        };
        // How the commands name the WP: with `--feature` where another feature shares its id.
        let arg = match ws.plan.feature(feature.as_str()) {
            Some(f) => ws.wp_arg(f, wp),
            None => format!("{wp} --feature {feature}"),
        };
        let holder = s.holder().or(s.agent.as_deref());
        let (who, agent) = match holder {
            Some(h) => (
                format!(" ({h})"),
                format!(" --agent {}", crate::util::shell::quote(h)),
            ),
            None => (String::new(), String::new()),
        };
        out.push(
            Problem::new(
                Code::MissingWorktree,
                if s.lane == Lane::InReview {
                    format!(
                        "{wp} is {}{who}, but {what} missing: `git kitty review {arg}{agent}` \
                         makes {them} again",
                        s.lane
                    )
                } else {
                    format!(
                        "{wp} is {}{who}, but {what} missing: `git kitty implement {arg}{agent}` \
                         makes {them} again, `git kitty abandon {arg}{agent}` gives it back",
                        s.lane
                    )
                },
            )
            .at(&crate::state::store::ref_name(feature, wp), None)
            .in_feature(feature.as_str())
            .for_wp(wp.as_str()),
        );
    }
    Ok(out)
}
