//! `git kitty check`: every problem in the plan.

use crate::cmd::args::{FeatureArg, JsonArg};
use crate::error::Result;
use crate::model::ids::FeatureSlug;
use crate::model::problem::{Code, Problem, Severity};
use crate::render::board::{plural, problem_line};
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
a frontmatter lane that disagrees with the state) do not, unless --strict is given.",
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
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    if let Some(slug) = &args.feature.slug {
        ws.feature(slug)?;
    }
    let (states, state_problems) = ws.read_states(None)?;
    let mut problems = ws.plan.problems.clone();
    problems.extend(drift(&ws, &states));
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
    let warnings = problems.len() - errors;
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
            let mut counts = Vec::new();
            if errors > 0 {
                counts.push(p.red(&plural(errors, "error")));
            }
            if warnings > 0 {
                counts.push(p.yellow(&plural(warnings, "warning")));
            }
            text.push_str(&format!("\n{} in {scope}\n", counts.join(", ")));
        }
        ctx.ui.out(&text);
    }
    super::keep_until_exit((states, ws));
    Ok(if failed { 1 } else { 0 })
}

/// A frontmatter `lane` that disagrees with the state ref: the state wins, the file is stale.
fn drift(ws: &Workspace, states: &crate::workspace::States) -> Vec<Problem> {
    let mut out = Vec::new();
    for f in &ws.plan.features {
        for wp in &f.wps {
            let (Some(declared), Some(tip)) =
                (wp.lane, states.get(&(f.slug.clone(), wp.id.clone())))
            else {
                continue;
            };
            if declared != tip.state.lane {
                out.push(
                    Problem::new(
                        Code::LaneDrift,
                        format!(
                            "the frontmatter says `lane: {declared}`, but {} is {} in {} (the state wins)",
                            wp.id,
                            tip.state.lane,
                            crate::state::store::ref_name(&f.slug, &wp.id)
                        ),
                    )
                    .at(&wp.file, wp.lane_line)
                    .in_feature(f.slug.as_str())
                    .for_wp(wp.id.as_str()),
                );
            }
        }
    }
    out
}
