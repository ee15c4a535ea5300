//! `git kitty agents install|status|uninstall`: slash commands for coding agents.

use crate::cmd::args::JsonArg;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ui::Ctx;
use crate::workflow::agents::{self, Action, Agent, Entry, FileState, Places};

/// Slash commands for coding agents: /kitty-status, /kitty-next and the like
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Install, list or remove the slash commands (prompt files) that coding agents \
read, one per git kitty command: kitty-status, kitty-next, kitty-implement, kitty-review, \
kitty-lane, kitty-note, kitty-log. Each tells the agent to run the `git kitty` command and trust \
its output.

Files go in the agent's own folder and format: Claude Code .claude/commands/*.md, Gemini CLI \
.gemini/commands/*.toml, Cursor .cursor/commands/*.md, OpenCode .opencode/commands/*.md (in \
this worktree, each file listed in .git/info/exclude so `git status` stays clean), Codex \
$CODEX_HOME/prompts/*.md (Codex reads prompts only there). `--global` uses your own folders \
instead (~/.claude/commands and the like), so agents in every worktree and repository have them. \
Every file carries the marker `git-kitty:agent-command`: `uninstall` removes exactly those \
files, and a file of yours with the same name is never overwritten without `--force`.",
    after_long_help = "Examples:
  git kitty agents install claude gemini
  git kitty agents install --global claude codex cursor opencode
  git kitty agents status
  git kitty agents uninstall"
)]
pub struct Args {
    #[command(subcommand)]
    pub action: AgentsAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum AgentsAction {
    /// Write the command files of these agents
    Install {
        /// claude, codex, gemini, cursor, opencode
        #[arg(value_enum, required = true, value_name = "AGENT")]
        agents: Vec<Agent>,
        #[command(flatten)]
        opts: Opts,
        /// Replace files of yours that have the same names
        #[arg(long)]
        force: bool,
    },
    /// List the command files and whether they are installed
    Status {
        /// Only these agents (default: all)
        #[arg(value_enum, value_name = "AGENT")]
        agents: Vec<Agent>,
        #[command(flatten)]
        opts: Opts,
    },
    /// Remove the command files git kitty wrote (yours stay)
    Uninstall {
        /// Only these agents (default: all)
        #[arg(value_enum, value_name = "AGENT")]
        agents: Vec<Agent>,
        #[command(flatten)]
        opts: Opts,
    },
}

#[derive(clap::Args, Debug)]
pub struct Opts {
    /// Your own folders (~/.claude/commands, ...) instead of this worktree's
    #[arg(long)]
    pub global: bool,
    #[command(flatten)]
    pub json: JsonArg,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    let (agents, opts) = match &args.action {
        AgentsAction::Install { agents, opts, .. }
        | AgentsAction::Status { agents, opts }
        | AgentsAction::Uninstall { agents, opts } => (agents, opts),
    };
    ctx.ui.json = opts.json.enabled;
    let repo = Repo::discover(&ctx.cwd)?;
    let root = repo
        .workdir()
        .ok_or_else(|| Error::usage("a bare repository has no worktree for agent commands"))?
        .to_path_buf();
    let places = Places::new(&root, opts.global)?;
    let chosen: Vec<Agent> = if agents.is_empty() {
        Agent::ALL.to_vec()
    } else {
        agents.clone()
    };
    let entries = match &args.action {
        AgentsAction::Install { force, .. } => agents::install(&repo, &places, &chosen, *force)?,
        AgentsAction::Status { .. } => agents::status(&places, &chosen),
        AgentsAction::Uninstall { .. } => agents::uninstall(&repo, &places, &chosen)?,
    };
    let skipped = entries
        .iter()
        .filter(|e| e.action == Action::Skipped)
        .count();
    if opts.json.enabled {
        ctx.ui
            .out_json(&serde_json::json!({ "schema": 1, "files": entries }));
    } else {
        ctx.ui.out(&text(&entries, &root));
    }
    if skipped > 0 {
        ctx.ui.warn(&format!(
            "{skipped} file(s) of yours have the names of git kitty's commands and were left alone; `--force` replaces them"
        ));
        return Ok(1);
    }
    Ok(0)
}

/// One line per file: agent, command, state (and what was done), path.
fn text(entries: &[Entry], root: &std::path::Path) -> String {
    let mut out = String::new();
    for e in entries {
        let state = match e.state {
            FileState::Installed => "installed",
            FileState::Outdated => "outdated",
            FileState::Missing => "missing",
            FileState::Foreign => "yours",
        };
        let action = match e.action {
            Action::None => String::new(),
            Action::Installed => " (written)".into(),
            Action::Updated => " (rewritten)".into(),
            Action::Unchanged => " (unchanged)".into(),
            Action::Removed => " (removed)".into(),
            Action::Skipped => " (skipped: not git kitty's)".into(),
        };
        let path = e.path.strip_prefix(root).unwrap_or(&e.path);
        out.push_str(&format!(
            "{:<9} {:<16} {state}{action}  {}\n",
            serde_json::to_value(e.agent)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            e.command,
            path.display()
        ));
    }
    out
}
