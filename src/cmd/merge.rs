//! `git kitty merge`: land approved work packages in dependency order.

use std::str::FromStr;

use crate::cmd::args::{AgentArg, FeatureArg, JsonArg};
use crate::error::{Error, Result};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Feature;
use crate::render::Paint;
use crate::ui::Ctx;
use crate::workflow::merge::{self, Landed, Outcome, Request, Strategy};
use crate::workflow::publish;
use crate::workspace::Workspace;

/// Land approved work packages on the target branch, dependencies first
#[derive(clap::Args, Debug)]
#[command(
    mut_arg("feature", |a| a.help("The feature (default: the one the current directory implies, or the only one)")),
    long_about = "Land approved work packages on their target branch in dependency order: a WP \
only after everything it depends on has landed, each as its own merge commit (or squashed \
commit) carrying a `Kitty-WP: <feature>/<WP>` trailer. Merges are computed without touching any \
worktree; the target branch then moves by a fast-forward where it is checked out (which must be \
clean) or directly when it is checked out nowhere.

A WP whose merge conflicts is skipped, with everything that depends on it; the rest still \
lands, and the run ends with the conflicting WPs, their paths and what to do (exit status 4). \
The target branch gets nothing of a conflicting WP. After a WP lands its lane becomes done, its \
worktree is removed and its branch deleted (--keep-worktrees, --keep-branches to keep them), and \
what depends on it becomes ready.

--dry-run prints the order, what is skipped and why (not approved, waits on an unmerged \
dependency) and the conflicts it predicts, changing nothing. It is the same plan the real run \
carries out: it lands exactly what the dry run says would land, refuses what it says is \
refused (a target checkout with uncommitted changes), and exits with the same status.",
    after_long_help = concat!(
        "Examples:
  git kitty merge --dry-run            what would land, in which order
  git kitty merge -f 001-auth          every approved WP of the feature
  git kitty merge WP02 WP03 --strategy squash
  git kitty merge --push               land, then share it with origin

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    /// Only these work packages (default: every approved one)
    #[arg(value_name = "WP")]
    pub wps: Vec<String>,

    #[command(flatten)]
    pub feature: FeatureArg,

    /// Print the order, the skipped WPs and the predicted conflicts; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// How each WP lands
    #[arg(long, value_enum, default_value_t = Strategy::Merge)]
    pub strategy: Strategy,

    /// Keep each landed WP's worktree
    #[arg(long)]
    pub keep_worktrees: bool,

    /// Keep each landed WP's branch
    #[arg(long)]
    pub keep_branches: bool,

    /// Share the landing: send the approvals, then each target branch that moved, then the
    /// state that says what landed (the order a server guarding review accepts)
    #[arg(long)]
    pub push: bool,

    /// The remote for --push (default: git config kitty.remote, else origin)
    #[arg(long, value_name = "REMOTE", requires = "push")]
    pub remote: Option<String>,

    #[command(flatten)]
    pub agent: AgentArg,

    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    ctx.ui.json = args.json.enabled;
    let ws = Workspace::open(&ctx.cwd, args.feature.get())?;
    let wps: Vec<WpId> = args
        .wps
        .iter()
        .map(|w| WpId::from_str(w).map_err(Error::usage))
        .collect::<Result<_>>()?;
    let feature = which_feature(&ws, args.feature.get(), wps.first())?;
    let actor = args.agent.actor(&ws)?;
    let remote = match args.push {
        true => Some(crate::sync::remote_name(&ws.repo, args.remote.as_deref())?),
        false => None,
    };
    if let (Some(remote), false) = (&remote, args.dry_run) {
        publish::before(&ws, remote, &actor, &feature.slug)?;
    }
    let (states, _) = ws.read_states(Some(&[feature]))?;
    let mut outcome = merge::merge(
        &ws,
        &states,
        &Request {
            feature,
            wps,
            dry_run: args.dry_run,
            strategy: args.strategy,
            keep_worktrees: args.keep_worktrees,
            keep_branches: args.keep_branches,
            actor: actor.clone(),
        },
    )?;
    if let (Some(remote), false) = (&remote, args.dry_run) {
        outcome.pushed = Some(publish::after(
            &ws,
            remote,
            &actor,
            &feature.slug,
            &outcome,
        )?);
    }
    if args.json.enabled {
        ctx.ui.out_json(&outcome);
    } else {
        ctx.ui.out(&text(&outcome, ctx.ui.paint));
    }
    // Conflicting WPs were skipped (with their dependents) and the rest landed: the outcome
    // says what, stderr says what to do, the exit code (4) that something was left behind.
    match outcome.conflict_error() {
        Some(err) => {
            // The document on stdout is the outcome; the error goes to stderr only.
            ctx.ui.json = false;
            ctx.ui.render_error(&err);
            Ok(err.exit_code())
        }
        None => Ok(0),
    }
}

/// The feature named, else the first WP's, else the only one: one feature at a time.
fn which_feature<'w>(
    ws: &'w Workspace,
    named: Option<&FeatureSlug>,
    first_wp: Option<&WpId>,
) -> Result<&'w Feature> {
    match (named, first_wp) {
        (Some(slug), _) => ws.feature(slug),
        (None, Some(first)) => ws.feature_of_wp(first, None),
        (None, None) => match ws.selected_features(None)?.as_slice() {
            [one] => Ok(*one),
            many => {
                let names: Vec<&str> = many.iter().map(|f| f.slug.as_str()).collect();
                Err(
                    Error::usage("which feature? git kitty merges one feature at a time").hint(
                        format!(
                            "features: {}; `git kitty merge -f <feature>`",
                            names.join(", ")
                        ),
                    ),
                )
            }
        },
    }
}

/// The outcome for people: the plan (dry run) or what landed, then conflicts and skipped WPs.
fn text(outcome: &Outcome, p: Paint) -> String {
    let mut text = String::new();
    if outcome.merged.is_empty() && outcome.conflicts.is_empty() {
        text.push_str(&format!("Nothing to land in {}.\n", outcome.feature));
    }
    if outcome.dry_run {
        text.push_str(&plan_text(outcome, p));
    } else {
        for m in &outcome.merged {
            text.push_str(&landed_text(m));
        }
    }
    let conflict = if outcome.dry_run {
        "would conflict"
    } else {
        "skipped: conflicts"
    };
    for c in &outcome.conflicts {
        text.push_str(&format!(
            "  {}  {} with {}: {}\n",
            c.wp,
            p.red(conflict),
            c.target,
            c.paths.join(", ")
        ));
    }
    for s in &outcome.skipped {
        text.push_str(&format!("  {}  skipped: {}\n", s.wp, p.dim(&s.reason)));
    }
    if let Some(pushed) = &outcome.pushed {
        let what = match pushed.targets.as_slice() {
            [] => "state".to_owned(),
            targets => format!("{} and state", targets.join(", ")),
        };
        text.push_str(&format!("Pushed {what} to {}.\n", pushed.remote));
        for b in &pushed.deleted_branches {
            text.push_str(&format!("  deleted {b} on {}\n", pushed.remote));
        }
        for k in &pushed.kept_branches {
            text.push_str(&format!(
                "  kept {} on {}: {}\n",
                k.branch,
                pushed.remote,
                p.dim(&k.reason)
            ));
        }
    }
    text
}

/// A dry run's landings: the order, then one line per WP.
fn plan_text(outcome: &Outcome, p: Paint) -> String {
    let mut text = String::new();
    if !outcome.merged.is_empty() {
        let order: Vec<&str> = outcome.merged.iter().map(|m| m.wp.as_str()).collect();
        text.push_str(&format!(
            "{} would land, in this order: {}\n",
            p.bold(&outcome.feature),
            order.join(", ")
        ));
    }
    for m in &outcome.merged {
        text.push_str(&format!("  {}  onto {} (clean)\n", m.wp, m.target));
    }
    text
}

/// One landed WP: where, as which commit, what was cleaned up, and its notes.
fn landed_text(m: &Landed) -> String {
    let short = m.commit.get(..7).unwrap_or(&m.commit);
    let mut extra = Vec::new();
    if m.removed_worktree {
        extra.push("worktree removed");
    }
    if m.deleted_branch {
        extra.push("branch deleted");
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join(", "))
    };
    let mut text = format!("{}: merged into {} as {short}{extra}\n", m.wp, m.target);
    for n in &m.notes {
        text.push_str(&format!("  {n}\n"));
    }
    text
}
