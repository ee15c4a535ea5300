//! `git kitty hooks`: install, remove and inspect git kitty's hooks.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::hooks::{self, CLIENT_HOOKS, HookAction, HookReport, HookState, SERVER_HOOKS};
use crate::ui::Ctx;

/// Install, remove or inspect the hooks that enforce landing order
#[derive(clap::Args, Debug)]
#[command(
    long_about = "git kitty's hooks keep dependency order where work lands.

In a clone (`git kitty hooks install`):
  prepare-commit-msg  adds `Kitty-WP: <feature>/<WP>` to commits made in a WP's worktree
  pre-commit          in a WP's worktree, refuses commits unless the WP is claimed or in
                      progress by this agent; anywhere, refuses staged WP files with errors
  pre-merge-commit    refuses a `git merge` into a target branch that brings a WP before
                      its dependencies, or a WP that is not approved
  pre-push            refuses a push of a target branch that lands a WP before its
                      dependencies, or a WP that is not approved
  reference-transaction
                      refuses any other move of a target branch that would (fast-forward
                      merges, `git pull`, `git reset`, `git update-ref`, `--no-verify`
                      merges); it runs for every ref update, so it starts git kitty only
                      when a branch moves

On a shared bare repository (`git kitty hooks install --server`):
  pre-receive         refuses target-branch updates that land a WP before its dependencies
                      or a WP its state refs (as the push leaves them) do not say is
                      approved or done (judged by landed work, against the plan before the
                      push; a push that
                      changes a WP's dependencies does not also land its work), deletions of
                      target branches, and anything under refs/kitty/ that is not a history
                      git kitty could have written. No client can bypass it.

Landing requires review (`git config kitty.landing.requireReview`, default true; each \
repository reads its own, the server its own): a WP's work lands only once the WP is approved \
(or done). `git kitty merge` lands approved WPs and marks them done; a server takes the state \
refs and the branch in one push (`git push origin main refs/kitty/wp/<feature>/<WP>`), or the \
approval shared earlier with `git kitty push`.

With --require-trailer (stored as kitty.requireTrailer=true in the bare repository; \
`git config --unset kitty.requireTrailer` turns it off), every commit a push brings to a \
target branch must carry a `Kitty-WP: <feature>/<WP>` trailer naming a WP of the plan, or \
change nothing outside kitty-specs/. Commits made in a WP's worktree get the trailer from the \
hook; `git kitty merge` writes it; a squash merge must carry one per WP it squashes (the hook \
copies them for `git merge --squash`); a clean merge commit changes nothing of its own.

Each hook is a small shell block between `# >>> git kitty >>>` markers that calls `git-kitty \
hook <name>`; hooks you already have keep working (the block goes after their `#!` line). A \
non-shell hook is moved to `<name>.kitty-chained` and called after the check only with --force. \
core.hooksPath is respected. Client-side checks can be skipped with `--no-verify`; the server's \
cannot.",
    after_long_help = concat!(
        "Examples:
  git kitty hooks install
  git -C /srv/git/project.git kitty hooks install --server
  git kitty hooks status --json

",
        crate::exit_codes_help!()
    )
)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Install (or update) the hooks
    Install {
        /// Install the server hook (pre-receive) in a bare repository
        #[arg(long)]
        server: bool,
        /// Chain hooks that are not shell scripts instead of refusing
        #[arg(long)]
        force: bool,
        /// With --server: the branch work lands on (stored as kitty.targetBranch; default:
        /// the repository's HEAD branch)
        #[arg(long, value_name = "BRANCH", requires = "server")]
        target_branch: Option<String>,
        /// With --server: refuse commits on a target branch that name no WP (no `Kitty-WP`
        /// trailer) and change files outside kitty-specs/ (stored as kitty.requireTrailer)
        #[arg(long, requires = "server")]
        require_trailer: bool,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove git kitty's blocks, leaving your own hooks as they were
    Uninstall {
        /// The server hook
        #[arg(long)]
        server: bool,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Show which hooks are installed
    Status {
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
}

#[derive(Serialize)]
struct Doc {
    hooks_dir: String,
    git_kitty_on_path: bool,
    hooks: Vec<HookReport>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    let repo = Repo::discover(&ctx.cwd)?;
    let dir_of_repo = repo.workdir().unwrap_or(repo.common_dir()).to_path_buf();
    let hooks_dir = hooks::hooks_dir(&dir_of_repo)?;
    let (reports, json) = match args.action {
        Action::Install {
            server,
            force,
            target_branch,
            require_trailer,
            json,
        } => {
            ctx.ui.json = json;
            let reports = install(&repo, &hooks_dir, server, force, target_branch.as_deref())?;
            if require_trailer {
                repo.config_set("kitty.requireTrailer", "true")?;
            }
            if server && !json {
                let (branch, why) = protected_branch(&repo, target_branch.as_deref());
                let shown = branch
                    .as_deref()
                    .map_or(why.clone(), |b| format!("{b} ({why})"));
                ctx.ui.note(&format!(
                    "landing order is enforced on: {shown}, and on the targets the plan declares"
                ));
                if repo.config_bool("kitty.landing.requireReview") != Some(false) {
                    ctx.ui.note("work lands only once its work package is approved (kitty.landing.requireReview; `git config kitty.landing.requireReview false` turns that off)");
                }
                // (The config just written is not in this process's snapshot of it.)
                if require_trailer || repo.config_bool("kitty.requireTrailer") == Some(true) {
                    let on = branch.unwrap_or_else(|| "target branches".into());
                    ctx.ui.note(&format!(
                        "commits on {on} must name their work package (kitty.requireTrailer)"
                    ));
                }
            }
            (reports, json)
        }
        Action::Uninstall { server, json } => {
            ctx.ui.json = json;
            let names = if server { SERVER_HOOKS } else { CLIENT_HOOKS };
            (hooks::uninstall(&hooks_dir, names)?, json)
        }
        Action::Status { json } => {
            ctx.ui.json = json;
            let all: Vec<&str> = CLIENT_HOOKS.iter().chain(SERVER_HOOKS).copied().collect();
            (hooks::status(&hooks_dir, &all)?, json)
        }
    };
    let on_path = on_path("git-kitty");
    // A hooks directory inside the working tree (`core.hooksPath = .githooks`) is a tracked
    // directory: each worktree runs its own checkout of it.
    let inside = repo
        .workdir()
        .is_some_and(|w| hooks_dir.starts_with(w) && !hooks_dir.starts_with(repo.common_dir()));
    let warning = inside.then(|| {
        "the hooks directory is inside the working tree (core.hooksPath): commit the changed hook files, or WP worktrees (which run their own checkout of it) will not have git kitty's hooks".to_owned()
    });
    if json {
        ctx.ui.out_json(&Doc {
            hooks_dir: hooks_dir.display().to_string(),
            git_kitty_on_path: on_path,
            hooks: reports,
        });
        return Ok(0);
    }
    let mut text = format!("hooks in {}\n", hooks_dir.display());
    for r in &reports {
        text.push_str(&report_line(r));
    }
    if !on_path {
        text.push_str(
            "warning: git-kitty is not on PATH: the hooks will refuse to run until it is\n",
        );
    }
    ctx.ui.out(&text);
    if let Some(w) = warning {
        ctx.ui.warn(&w);
    }
    Ok(0)
}

/// Install the hooks of this kind of repository, after recording `--target-branch`.
fn install(
    repo: &Repo,
    hooks_dir: &std::path::Path,
    server: bool,
    force: bool,
    target_branch: Option<&str>,
) -> Result<Vec<HookReport>> {
    let names = which(repo, server)?;
    if let Some(branch) = target_branch {
        if !crate::model::ids::is_safe_branch_name(branch) {
            return Err(Error::usage(format!(
                "`{branch}` is not a safe branch name"
            )));
        }
        repo.config_set("kitty.targetBranch", branch)?;
    }
    hooks::install(hooks_dir, names, force)
}

/// The branch the server hook protects, and why, for people (the branch is `None` when there
/// is none yet).
fn protected_branch(repo: &Repo, target_branch: Option<&str>) -> (Option<String>, String) {
    let configured = "kitty.targetBranch".to_owned();
    if let Some(b) = target_branch
        .map(str::to_owned)
        .or_else(|| repo.config_string("kitty.targetBranch"))
    {
        return (Some(b), configured);
    }
    match repo.main_branch() {
        Some(b) => (
            Some(b),
            "the repository's HEAD; --target-branch names another".into(),
        ),
        None => (None, "none yet".into()),
    }
}

/// `  pre-commit          installed (runs your hook after it)`: what was done, else where
/// the hook stands.
fn report_line(r: &HookReport) -> String {
    let what = match (r.action, r.state) {
        (HookAction::Installed, _) => "installed",
        (HookAction::Updated, _) => "updated",
        (HookAction::Unchanged, HookState::Installed) => "already installed",
        (HookAction::Removed, HookState::UserOnly) => "removed (your own hook kept)",
        (HookAction::Removed, _) => "removed",
        (_, HookState::Installed) => "installed",
        (_, HookState::Outdated) => "installed, outdated (`git kitty hooks install` updates it)",
        (_, HookState::Missing) => "not installed",
        (_, HookState::UserOnly) => "your own hook, without git kitty's block",
    };
    let chained = if r.chained {
        " (runs your hook after it)"
    } else {
        ""
    };
    format!("  {:<22}{what}{chained}\n", r.name)
}

/// The hooks for this kind of repository: `--server` only in a bare one.
fn which(repo: &Repo, server: bool) -> Result<&'static [&'static str]> {
    match (server, repo.is_bare()) {
        (true, true) => Ok(SERVER_HOOKS),
        (false, false) => Ok(CLIENT_HOOKS),
        (true, false) => Err(Error::usage("--server installs the pre-receive hook of a shared bare repository; this one has a working tree")
            .hint("run it in the bare repository: `git -C /path/to/repo.git kitty hooks install --server`")),
        (false, true) => Err(Error::usage("this is a bare repository: it gets the server hook")
            .hint("git kitty hooks install --server")),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(program);
            std::fs::metadata(&p).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        })
    })
}
