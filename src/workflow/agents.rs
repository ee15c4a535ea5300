//! `git kitty agents`: the slash commands (prompt files) that coding agents read, one per
//! git kitty command, each a thin instruction to run `git kitty ...` and trust its output.
//!
//! Every file git kitty writes carries [`MARKER`]; `uninstall` removes exactly the files that
//! carry it, and `install` never overwrites a file that does not (unless forced). Files inside
//! the repository are listed one by one in `.git/info/exclude`, so `git status` stays clean and
//! a user's own commands in the same folder are untouched.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::Repo;

/// What marks a file as git kitty's.
pub const MARKER: &str = "git-kitty:agent-command";
const EXCLUDE_COMMENT: &str = "git kitty: agent commands (git kitty agents uninstall)";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Agent {
    /// Claude Code: .claude/commands/<name>.md
    Claude,
    /// OpenAI Codex CLI: $CODEX_HOME/prompts/<name>.md (Codex reads prompts only there)
    Codex,
    /// Gemini CLI: .gemini/commands/<name>.toml
    Gemini,
    /// Cursor: .cursor/commands/<name>.md
    Cursor,
    /// OpenCode: .opencode/commands/<name>.md
    Opencode,
}

impl Agent {
    pub const ALL: [Agent; 5] = [
        Agent::Claude,
        Agent::Codex,
        Agent::Gemini,
        Agent::Cursor,
        Agent::Opencode,
    ];

    /// The folder of the agent's commands: in the worktree, or (`global`) the user's own.
    fn dir(self, places: &Places) -> (PathBuf, bool) {
        let home = &places.home;
        match (self, places.global) {
            (Agent::Codex, _) => (places.codex_home.join("prompts"), false),
            (Agent::Claude, false) => (places.root.join(".claude/commands"), true),
            (Agent::Claude, true) => (home.join(".claude/commands"), false),
            (Agent::Gemini, false) => (places.root.join(".gemini/commands"), true),
            (Agent::Gemini, true) => (home.join(".gemini/commands"), false),
            (Agent::Cursor, false) => (places.root.join(".cursor/commands"), true),
            (Agent::Cursor, true) => (home.join(".cursor/commands"), false),
            (Agent::Opencode, false) => (places.root.join(".opencode/commands"), true),
            (Agent::Opencode, true) => (home.join(".config/opencode/commands"), false),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Agent::Gemini => "toml",
            _ => "md",
        }
    }

    /// How the agent passes what follows the slash command.
    fn arguments(self) -> &'static str {
        match self {
            Agent::Gemini => "{{args}}",
            _ => "$ARGUMENTS",
        }
    }

    /// The file for `cmd`.
    pub fn render(self, cmd: &Command) -> String {
        let body = cmd.body.replace("{ARGS}", self.arguments());
        match self {
            Agent::Gemini => format!(
                "# {MARKER} (git kitty agents uninstall removes this file)\ndescription = {}\nprompt = \"\"\"\n{body}\"\"\"\n",
                toml_string(cmd.description)
            ),
            Agent::Claude => format!(
                "---\ndescription: {}\nargument-hint: {}\nallowed-tools: Bash(git kitty:*)\n---\n<!-- {MARKER} (git kitty agents uninstall removes this file) -->\n\n{body}",
                yaml_string(cmd.description),
                yaml_string(cmd.argument_hint)
            ),
            Agent::Opencode => format!(
                "---\ndescription: {}\nagent: build\n---\n<!-- {MARKER} (git kitty agents uninstall removes this file) -->\n\n{body}",
                yaml_string(cmd.description)
            ),
            Agent::Codex | Agent::Cursor => format!(
                "---\ndescription: {}\nargument-hint: {}\n---\n<!-- {MARKER} (git kitty agents uninstall removes this file) -->\n\n{body}",
                yaml_string(cmd.description),
                yaml_string(cmd.argument_hint)
            ),
        }
    }
}

/// A JSON string is a valid YAML double-quoted scalar and TOML basic string for this text.
fn yaml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

fn toml_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// One slash command: its name (the file name), what it says in the agent's menu, and the
/// instruction (`{ARGS}`: what the user typed after it).
pub struct Command {
    pub name: &'static str,
    pub description: &'static str,
    pub argument_hint: &'static str,
    pub body: &'static str,
}

/// The body of a command: the instruction, then the same advice for every agent: trust git kitty's output.
macro_rules! concat_trust {
    ($s:literal) => {
        concat!(
            $s,
            "\n\nTrust its output: it reads the plan and the state refs for you. Do not work \
out lanes or claims from kitty-specs/ files, and never edit a WP file's `lane:`.\n"
        )
    };
}

/// The commands installed for every agent.
pub fn commands() -> Vec<Command> {
    vec![
        Command {
            name: "kitty-status",
            description: "git kitty: the board (lanes, who works on what, what is ready)",
            argument_hint: "[--feature FEATURE]",
            body: concat_trust!("Run `git kitty status {ARGS}` and show me the board it prints."),
        },
        Command {
            name: "kitty-next",
            description: "git kitty: claim the next ready work package and get its worktree",
            argument_hint: "[--feature FEATURE]",
            body: concat_trust!(
                "Run `git kitty next {ARGS}`. It claims the ready work package that unblocks the most work and prints its worktree path on stdout (a summary on stderr): `cd` there and work from the WP file it names as `prompt`. Exit status 3 means nothing is ready: report what it says everything waits on."
            ),
        },
        Command {
            name: "kitty-implement",
            description: "git kitty: claim a work package and get its branch and worktree",
            argument_hint: "WP01",
            body: concat_trust!(
                "Run `git kitty implement {ARGS}`. It claims the work package and prints its worktree path on stdout (a summary on stderr): `cd` there and work from the WP file it names as `prompt`. If it refuses (dependencies not done, claimed by someone else), report its message and hints; do not work around them."
            ),
        },
        Command {
            name: "kitty-review",
            description: "git kitty: hand the work package in this worktree to review",
            argument_hint: "[note]",
            body: concat_trust!(
                "Commit all work in this worktree first. Then run `git kitty lane for_review --note \"{ARGS}\"` here (the WP is the one of this worktree). If it refuses (uncommitted changes, nothing committed), fix what it names and run it again."
            ),
        },
        Command {
            name: "kitty-lane",
            description: "git kitty: move a work package (review it, approve it, send it back)",
            argument_hint: "WP01 in_review|approved|in_progress [--note TEXT]",
            body: concat_trust!(
                "Run `git kitty lane {ARGS}`. To review: `git kitty lane WP01 in_review`, then `git kitty lane WP01 approved`, or send it back with `git kitty lane WP01 in_progress --note \"what must change\"`. `git kitty lane --help` lists the allowed moves."
            ),
        },
        Command {
            name: "kitty-note",
            description: "git kitty: add a note to a work package's history",
            argument_hint: "[WP01] text",
            body: concat_trust!(
                "Run `git kitty note {ARGS}` (inside a WP's worktree the WP can be left out)."
            ),
        },
        Command {
            name: "kitty-log",
            description: "git kitty: the history of a work package or a feature",
            argument_hint: "[WP01] [-n N]",
            body: concat_trust!(
                "Run `git kitty log {ARGS}` and summarise what happened, newest first."
            ),
        },
    ]
}

/// Where files go.
pub struct Places {
    /// The worktree's top (project commands).
    pub root: PathBuf,
    pub home: PathBuf,
    /// `$CODEX_HOME`, else `~/.codex`.
    pub codex_home: PathBuf,
    /// The user's own folders instead of the worktree's (every repository, every worktree).
    pub global: bool,
}

impl Places {
    /// From the environment: `HOME`, `CODEX_HOME`.
    pub fn new(root: &Path, global: bool) -> Result<Places> {
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| Error::usage("HOME is not set: where do the agents' files go?"))?;
        let codex_home = std::env::var_os("CODEX_HOME")
            .filter(|h| !h.is_empty())
            .map_or_else(|| home.join(".codex"), PathBuf::from);
        Ok(Places {
            root: root.to_path_buf(),
            home,
            codex_home,
            global,
        })
    }
}

/// One command file and what was found or done.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub agent: Agent,
    pub command: String,
    pub path: PathBuf,
    pub state: FileState,
    pub action: Action,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// git kitty's, as this version writes it.
    Installed,
    /// git kitty's, from another version: `install` rewrites it.
    Outdated,
    Missing,
    /// A file of the user's (no marker): never touched.
    Foreign,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    None,
    Installed,
    Updated,
    Unchanged,
    Removed,
    /// A file of the user's was in the way (install without `--force`).
    Skipped,
}

/// What is there for `agents`.
pub fn status(places: &Places, agents: &[Agent]) -> Vec<Entry> {
    let mut out = Vec::new();
    for &agent in agents {
        let (dir, _) = agent.dir(places);
        for cmd in commands() {
            let path = dir.join(format!("{}.{}", cmd.name, agent.extension()));
            let state = state_of(&path, &agent.render(&cmd));
            out.push(Entry {
                agent,
                command: cmd.name.to_owned(),
                path,
                state,
                action: Action::None,
            });
        }
    }
    out
}

fn state_of(path: &Path, want: &str) -> FileState {
    match std::fs::read_to_string(path) {
        Ok(have) if have == want => FileState::Installed,
        Ok(have) if have.contains(MARKER) => FileState::Outdated,
        Ok(_) => FileState::Foreign,
        Err(_) if std::fs::symlink_metadata(path).is_ok() => FileState::Foreign,
        Err(_) => FileState::Missing,
    }
}

/// Write every command file of `agents`; a file of the user's in the way is skipped (replaced
/// with `force`). Worktree files are added to `.git/info/exclude`.
pub fn install(repo: &Repo, places: &Places, agents: &[Agent], force: bool) -> Result<Vec<Entry>> {
    let mut entries = status(places, agents);
    let mut excluded = Vec::new();
    for e in &mut entries {
        let cmd = commands()
            .into_iter()
            .find(|c| c.name == e.command)
            .expect("listed by status");
        e.action = match e.state {
            FileState::Installed => Action::Unchanged,
            FileState::Foreign if !force => Action::Skipped,
            FileState::Missing => Action::Installed,
            FileState::Outdated | FileState::Foreign => Action::Updated,
        };
        if matches!(e.action, Action::Installed | Action::Updated) {
            write(&e.path, &e.agent.render(&cmd))?;
            e.state = FileState::Installed;
        }
        if e.state == FileState::Installed
            && let Some(line) = exclude_line(places, e.agent, &e.path)
        {
            excluded.push(line);
        }
    }
    if !excluded.is_empty() {
        repo.exclude_add(&excluded, EXCLUDE_COMMENT)?;
    }
    Ok(entries)
}

/// Remove every file of `agents` that carries the marker (and the folders that are then
/// empty); the user's files stay.
pub fn uninstall(repo: &Repo, places: &Places, agents: &[Agent]) -> Result<Vec<Entry>> {
    let mut entries = status(places, agents);
    let mut excluded = Vec::new();
    for e in &mut entries {
        if matches!(e.state, FileState::Installed | FileState::Outdated) {
            std::fs::remove_file(&e.path).map_err(|err| {
                Error::failed(format!("cannot remove {}", e.path.display())).cause(err)
            })?;
            e.action = Action::Removed;
            e.state = FileState::Missing;
        }
        if let Some(line) = exclude_line(places, e.agent, &e.path) {
            excluded.push(line);
        }
    }
    for agent in agents {
        let (dir, in_repo) = agent.dir(places);
        // Only folders git kitty may have made: the commands folder and, in the worktree,
        // its parent (`.claude/`), each only when empty.
        let _ = std::fs::remove_dir(&dir);
        if in_repo && let Some(parent) = dir.parent().filter(|p| *p != places.root) {
            let _ = std::fs::remove_dir(parent);
        }
    }
    repo.exclude_remove(&excluded, EXCLUDE_COMMENT)?;
    Ok(entries)
}

/// `/.claude/commands/kitty-status.md` for a file inside the worktree.
fn exclude_line(places: &Places, agent: Agent, path: &Path) -> Option<String> {
    let (_, in_repo) = agent.dir(places);
    if !in_repo {
        return None;
    }
    let rel = path.strip_prefix(&places.root).ok()?;
    Some(format!("/{}", rel.to_str()?.replace('\\', "/")))
}

fn write(path: &Path, text: &str) -> Result<()> {
    let fail =
        |e: std::io::Error| Error::failed(format!("cannot write {}", path.display())).cause(e);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::write(path, text).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_runs_git_kitty_with_the_arguments_and_says_to_trust_it() {
        assert_eq!(commands().len(), 7);
        for cmd in commands() {
            assert!(cmd.body.contains("`git kitty "), "{}", cmd.name);
            assert!(cmd.body.contains("Trust its output"), "{}", cmd.name);
            for agent in Agent::ALL {
                let text = agent.render(&cmd);
                assert!(text.contains(MARKER));
                assert!(text.contains(agent.arguments()) || !cmd.body.contains("{ARGS}"));
                assert!(!text.contains("{ARGS}"));
            }
        }
    }
}
