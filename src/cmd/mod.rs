//! One file per command: its arguments (the doc comments are its `--help`) and its `run`.
//!
//! One exhaustive `enum Command` and one `match`: a new command that is not wired in does not
//! compile.

pub mod abandon;
pub mod args;
pub mod check;
pub mod hook;
pub mod hooks;
pub mod implement;
pub mod init;
pub mod lane;
pub mod log;
pub mod merge;
pub mod next;
pub mod note;
pub mod pull;
pub mod push;
pub mod restack;
pub mod status;
pub mod sync;

use clap::Subcommand;

use crate::error::{Error, Result};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Feature;
use crate::state::store::Appended;
use crate::ui::Ctx;
use crate::workspace::Workspace;

#[derive(Subcommand, Debug)]
pub enum Command {
    Status(status::Args),
    Check(check::Args),
    Lane(lane::Args),
    Note(note::Args),
    Log(log::Args),
    Implement(implement::Args),
    Next(next::Args),
    Restack(restack::Args),
    Abandon(abandon::Args),
    Merge(merge::Args),
    Hooks(hooks::Args),
    Push(push::Args),
    Pull(pull::Args),
    Sync(sync::Args),
    Init(init::Args),
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
        Command::Implement(args) => implement::run(args, ctx),
        Command::Next(args) => next::run(args, ctx),
        Command::Restack(args) => restack::run(args, ctx),
        Command::Abandon(args) => abandon::run(args, ctx),
        Command::Merge(args) => merge::run(args, ctx),
        Command::Hooks(args) => hooks::run(args, ctx),
        Command::Push(args) => push::run(args, ctx),
        Command::Pull(args) => pull::run(args, ctx),
        Command::Sync(args) => sync::run(args, ctx),
        Command::Init(args) => init::run(args, ctx),
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
    what: &str,
) -> Result<(&'w Feature, WpId, String)> {
    let (typed, value) = match targets {
        [wp, value] => (wp.clone(), value),
        [value] => match ws.implied_wp() {
            Some((_, wp)) => (wp.as_str().to_owned(), value),
            None => {
                return Err(Error::usage(format!(
                    "which work package? Name it before the {what}, or run this inside its worktree"
                ))
                .hint(format!("git kitty ... WP01 {}", value.escape_debug())));
            }
        },
        _ => return Err(Error::usage(format!("expected [WP] <{what}>"))),
    };
    let (feature, wp) = ws.resolve_wp(&typed, feature)?;
    Ok((feature, wp, value.clone()))
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
