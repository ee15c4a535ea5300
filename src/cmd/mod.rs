//! One file per command: its arguments (the doc comments are its `--help`) and its `run`.
//!
//! The root parser [`Cli`] (global flags, the command tree that `--help`, the man pages and the
//! completions come from), one exhaustive `enum Command` and one `match`: a new command that is
//! not wired in does not compile.

pub mod abandon;
pub mod agents;
pub mod args;
pub mod check;
pub mod completions;
pub mod dashboard;
pub mod hook;
pub mod hooks;
pub mod implement;
pub mod init;
pub mod lane;
pub mod log;
pub mod merge;
pub mod next;
pub mod note;
pub mod orchestrator_api;
pub mod pull;
pub mod push;
pub mod repair;
pub mod restack;
pub mod review;
pub mod status;
pub mod sync;
pub mod worktree_out;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::error::{EXIT_CODES_HELP, Error, Result};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Feature;
use crate::state::store::Appended;
use crate::ui::{ColorChoice, Ctx};
use crate::workspace::Workspace;

const ABOUT: &str = "Run many coding agents on one git repository, safely";

const LONG_ABOUT: &str = "\
Run many coding agents (or people) on one git repository, safely.

A feature is planned as work packages (WPs): markdown files with YAML frontmatter in
kitty-specs/<feature>/tasks/WP01-name.md, as Spec Kitty writes them. git kitty reads that plan,
checks it, and shows the board: which WPs are in which lane, who works on what, what is ready
to start and what waits on what.

All state lives in the repository: the plan in committed files, lanes and claims in refs under
refs/kitty/. No server, no database, no daemon.";

#[derive(Parser, Debug)]
#[command(
    name = "git-kitty",
    bin_name = "git kitty",
    display_name = "git-kitty",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = EXIT_CODES_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Run as if started in PATH (like `git -C`)
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,

    /// When to use colours: auto (a terminal without NO_COLOR), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    Status(status::Args),
    Check(check::Args),
    Lane(lane::Args),
    Note(note::Args),
    Log(log::Args),
    Dashboard(dashboard::Args),
    Implement(implement::Args),
    Next(next::Args),
    Restack(restack::Args),
    Review(review::Args),
    Abandon(abandon::Args),
    Repair(repair::Args),
    Merge(merge::Args),
    Hooks(hooks::Args),
    Push(push::Args),
    Pull(pull::Args),
    Sync(sync::Args),
    Init(init::Args),
    Completions(completions::Args),
    OrchestratorApi(orchestrator_api::Args),
    Agents(agents::Args),
    #[command(hide = true)]
    Hook(hook::Args),
}

/// Run a parsed command; the result is the exit code (errors carry their own).
pub fn run(command: Command, ctx: &mut Ctx) -> Result<u8> {
    match command {
        Command::Status(args) => status::run(args, ctx),
        Command::Check(args) => check::run(args, ctx),
        Command::Lane(args) => lane::run(args, ctx),
        Command::Note(args) => note::run(args, ctx),
        Command::Log(args) => log::run(args, ctx),
        Command::Dashboard(args) => dashboard::run(args, ctx),
        Command::Implement(args) => implement::run(args, ctx),
        Command::Next(args) => next::run(args, ctx),
        Command::Restack(args) => restack::run(args, ctx),
        Command::Review(args) => review::run(args, ctx),
        Command::Abandon(args) => abandon::run(args, ctx),
        Command::Repair(args) => repair::run(args, ctx),
        Command::Merge(args) => merge::run(args, ctx),
        Command::Hooks(args) => hooks::run(args, ctx),
        Command::Push(args) => push::run(args, ctx),
        Command::Pull(args) => pull::run(args, ctx),
        Command::Sync(args) => sync::run(args, ctx),
        Command::Init(args) => init::run(args, ctx),
        Command::Completions(args) => completions::run(args, ctx),
        Command::OrchestratorApi(args) => orchestrator_api::run(args, ctx),
        Command::Agents(args) => agents::run(args, ctx),
        Command::Hook(args) => hook::run(args, ctx),
    }
}

/// Hand a read command's plan and board to the end of the process instead of freeing them:
/// the process exits right after, and freeing a real plan's tens of thousands of small
/// allocations one by one costs several milliseconds of a `status` (docs/performance.md).
/// Only for values that hold memory alone (no lock, no temp file, nothing to flush).
pub fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}

/// `[WP] <VALUE>`: with two arguments the first is the WP; with one, the WP is the one whose
/// worktree the command runs in. Returns the WP's feature, the WP and the value.
pub fn resolve_wp_and<'w>(
    ws: &'w Workspace,
    targets: &[String],
    feature: Option<&FeatureSlug>,
    (command, what): (&str, &str),
) -> Result<(&'w Feature, WpId, String)> {
    let (typed, value) = match targets {
        [wp, value] => (wp.clone(), value),
        [value] => match ws.implied_wp() {
            Some((_, wp)) => (wp.as_str().to_owned(), value),
            None => return Err(missing_target(ws, value, feature, (command, what))),
        },
        _ => return Err(Error::usage(format!("expected [WP] <{what}>"))),
    };
    let (feature, wp) = ws.resolve_wp(&typed, feature)?;
    Ok((feature, wp, value.clone()))
}

/// `git kitty lane WP01` (the lane left out) or `git kitty lane doing` outside a worktree: say
/// which part is missing, with a command line that has it.
fn missing_target(
    ws: &Workspace,
    value: &str,
    feature: Option<&FeatureSlug>,
    (command, what): (&str, &str),
) -> Error {
    if let Ok((f, wp)) = ws.resolve_wp(value, feature) {
        let wp_arg = ws.wp_arg(f, &wp);
        return match command {
            "lane" => {
                let lane = ws.current_lane(f, &wp);
                let next: Vec<&str> = lane.allowed_next().iter().map(|l| l.as_str()).collect();
                let err = Error::usage(format!("the lane to move {wp} to is missing"))
                    .hint(format!("git kitty {command} {wp_arg} <lane>"));
                if next.is_empty() {
                    err.hint(format!(
                        "{wp} is {lane}: it leaves it only with --force --reason"
                    ))
                } else {
                    err.hint(format!(
                        "from {lane}, {wp} can move to: {}",
                        next.join(", ")
                    ))
                }
            }
            _ => Error::usage(format!("the {} for {wp} is missing", what.to_lowercase())).hint(
                format!("git kitty {command} {wp_arg} \"<{}>\"", what.to_lowercase()),
            ),
        };
    }
    let example = ws
        .plan
        .features
        .iter()
        .find_map(|f| f.wps.first().map(|w| ws.wp_arg(f, &w.id)))
        .unwrap_or_else(|| "WP01".to_owned());
    Error::usage(format!(
        "which work package? Name it before the {what}, or run this inside its worktree"
    ))
    .hint(format!(
        "git kitty {command} {example} {}",
        crate::util::shell::quote(value)
    ))
}

/// The `event` and `state` of an append, for JSON outcomes.
pub fn write_outcome(outcome: &Appended) -> serde_json::Value {
    match outcome {
        Appended::Written(tip) => serde_json::json!({
            "commit": tip.commit.to_string(),
            "event": tip.event,
            "state": tip.state,
        }),
        Appended::Unchanged(state) => serde_json::json!({ "state": state }),
    }
}
