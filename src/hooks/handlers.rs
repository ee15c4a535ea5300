//! What each hook does when git runs it (through the shim's `git-kitty hook <name>`).

use std::io::Read;
use std::path::Path;

use gix::ObjectId;

use crate::cli::Ui;
use crate::error::{Error, Result};
use crate::git::Git;
use crate::git::history::{History, WP_TRAILER};
use crate::model::lane::Lane;
use crate::model::plan::{Plan, is_wp_file_name};
use crate::model::problem::Severity;
use crate::state::store;
use crate::workflow::landing::{self, Report};
use crate::workspace::Workspace;

/// Run hook `name` with git's arguments. Ok(0) lets git go on.
pub fn run(name: &str, args: &[String], ui: &mut Ui, cwd: &Path) -> Result<u8> {
    match name {
        "prepare-commit-msg" => prepare_commit_msg(args, cwd),
        "pre-commit" => pre_commit(cwd, ui),
        "pre-merge-commit" => pre_merge_commit(cwd, ui),
        "pre-push" => pre_push(cwd, ui),
        "pre-receive" => pre_receive(ui),
        other => Err(
            Error::usage(format!("git kitty has no `{other}` hook")).hint(
                "hooks: prepare-commit-msg, pre-commit, pre-merge-commit, pre-push, pre-receive",
            ),
        ),
    }
}

/// Reads in the environment git gave the hook (index, quarantined objects).
fn hook_history() -> History {
    History::new(Git::in_hook)
}

const CLIENT_BYPASS: &str = "this is a client-side check: `--no-verify` skips it (a server with git kitty's pre-receive hook still refuses)";

/// Add `Kitty-WP: <feature>/<WP>` to commits made in a WP's worktree.
fn prepare_commit_msg(args: &[String], cwd: &Path) -> Result<u8> {
    let Some(file) = args.first() else {
        return Err(Error::usage("prepare-commit-msg needs the message file"));
    };
    let ws = Workspace::open(cwd, None)?;
    let Some((feature, wp)) = ws.implied_wp() else {
        return Ok(0); // not a WP's worktree: nothing to add
    };
    Git::in_hook()
        .args([
            "interpret-trailers",
            "--in-place",
            "--if-exists",
            "addIfDifferent",
            "--trailer",
        ])
        .arg(format!("{WP_TRAILER}: {}/{wp}", feature.slug))
        .arg("--")
        .arg(file)
        .run()?;
    Ok(0)
}

/// In a WP's worktree, commits belong to work in progress held by this agent; anywhere,
/// staged WP files must pass `git kitty check`'s file checks.
fn pre_commit(cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let ws = Workspace::open(cwd, None)?;
    if let Some((feature, wp)) = ws.implied_wp() {
        let state = store::read(&ws.repo, &feature.slug, &wp)?
            .map(|t| t.state)
            .unwrap_or_else(|| ws.initial_state(feature, &wp));
        if !matches!(state.lane, Lane::Claimed | Lane::InProgress) {
            return Err(Error::refused(format!(
                "{wp} is {}: commits here belong to work in progress",
                state.lane
            ))
            .hint(format!(
                "to change it again: `git kitty lane {wp} in_progress --note \"why\"`{}",
                if state.lane == Lane::Planned {
                    " (or `git kitty implement`)"
                } else {
                    ""
                }
            ))
            .hint(CLIENT_BYPASS));
        }
        let actor = ws.actor(None)?;
        if let Some(holder) = state.holder()
            && holder != actor
        {
            return Err(Error::refused(format!("{wp} is claimed by {holder}, not by {actor}"))
                .hint("commit as the agent that holds it (KITTY_AGENT), or take it over with `git kitty lane --force`")
                .hint(CLIENT_BYPASS));
        }
    }
    // Staged WP files, as they will be committed (the index git gave the hook).
    let staged = Git::in_hook()
        .args([
            "diff",
            "--cached",
            "--name-only",
            "-z",
            "--diff-filter=ACMR",
            "--",
            "kitty-specs",
        ])
        .run()?;
    let paths: Vec<String> = staged
        .split('\0')
        .filter(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len() == 4
                && parts[0] == "kitty-specs"
                && parts[2] == "tasks"
                && is_wp_file_name(parts[3])
        })
        .map(str::to_owned)
        .collect();
    let contents = hook_history().read_files(None, &paths)?;
    let mut errors = Vec::new();
    for (path, bytes) in paths.iter().zip(contents) {
        let Some(bytes) = bytes else { continue };
        let (_, problems) = crate::model::wp::parse(path, &bytes);
        errors.extend(
            problems
                .into_iter()
                .filter(|p| p.severity == Severity::Error),
        );
    }
    if errors.is_empty() {
        return Ok(0);
    }
    let p = ui.err_paint;
    let mut err = Error::refused(format!(
        "staged work package files have {} problem{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ));
    for problem in &errors {
        err = err.cause(crate::render::board::problem_line(problem, p));
    }
    Err(err
        .hint("fix them and `git add` again (`git kitty check` shows the plan's problems)")
        .hint(CLIENT_BYPASS))
}

/// `git merge` into a target branch: refuse when it brings a WP before its dependencies.
fn pre_merge_commit(cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let ws = Workspace::open(cwd, None)?;
    let Some(branch) = ws.repo.current_branch() else {
        return Ok(0);
    };
    let targets = landing::target_branches(
        &ws.plan,
        ws.repo.config_string("kitty.targetBranch"),
        ws.repo.main_branch(),
    );
    if !targets.contains(&branch) {
        return Ok(0);
    }
    let history = hook_history();
    let Some(head) = history.resolve("HEAD")? else {
        return Ok(0);
    };
    // What is being merged: git does not write MERGE_HEAD before this hook, but it names each
    // merged commit in a `GITHEAD_<id>` variable (for conflict labels); MERGE_HEAD is there
    // when a stopped merge is being committed.
    let mut incoming: Vec<ObjectId> = std::env::vars()
        .filter_map(|(k, _)| {
            k.strip_prefix("GITHEAD_")
                .and_then(|h| ObjectId::from_hex(h.as_bytes()).ok())
        })
        .collect();
    let merge_head_file = Git::in_hook()
        .args(["rev-parse", "--git-path", "MERGE_HEAD"])
        .run()?;
    let from_file = std::fs::read_to_string(cwd.join(merge_head_file.trim())).unwrap_or_default();
    for l in from_file.lines() {
        if let Ok(id) = ObjectId::from_hex(l.trim().as_bytes())
            && !incoming.contains(&id)
        {
            incoming.push(id);
        }
    }
    if incoming.is_empty() {
        return Ok(0);
    }
    let report = landing::check_merge(&history, &ws.plan, head, &incoming)?;
    verdict(&report, &branch, ui, Some(CLIENT_BYPASS))
}

/// `git push` of a target branch: the same order check, before anything leaves.
fn pre_push(cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let ws = Workspace::open(cwd, None)?;
    let targets = landing::target_branches(
        &ws.plan,
        ws.repo.config_string("kitty.targetBranch"),
        ws.repo.main_branch(),
    );
    let history = hook_history();
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::failed("cannot read the pre-push input").cause(e))?;
    for line in input.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, local, remote_ref, remote] = fields[..] else {
            continue;
        };
        let Some(branch) = remote_ref.strip_prefix("refs/heads/") else {
            continue;
        };
        let (Some(new), old) = (oid(local), oid(remote)) else {
            continue; // a deletion
        };
        if !targets.contains(branch) {
            continue;
        }
        if let Some(o) = old
            && !history.has(o)
        {
            ui.warn(&format!(
                "cannot check the landing order on {branch}: the remote's {} is not here (fetch first); the server checks it",
                &o.to_string()[..7]
            ));
            continue;
        }
        let report = landing::check_update(&history, &ws.plan, old, new)?;
        verdict(&report, branch, ui, Some(CLIENT_BYPASS))?;
    }
    Ok(0)
}

/// On a shared bare repository: refuse target-branch updates that land a WP before its
/// dependencies, and state-ref updates that drop history. There is no bypass.
fn pre_receive(ui: &mut Ui) -> Result<u8> {
    let history = hook_history();
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::failed("cannot read the pre-receive input").cause(e))?;
    let configured = Git::in_hook()
        .args(["config", "--get", "kitty.targetBranch"])
        .output()
        .ok()
        .filter(|o| o.success)
        .map(|o| o.stdout.trim().to_owned());
    let head = Git::in_hook()
        .args(["symbolic-ref", "--quiet", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.success)
        .map(|o| o.stdout.trim().to_owned());
    for line in input.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [old, new, name] = fields[..] else {
            continue;
        };
        let (old, new) = (oid(old), oid(new));
        if let Some(rest) = name.strip_prefix("refs/kitty/") {
            let _ = rest;
            check_state_update(name, old, new)?;
            continue;
        }
        let (Some(branch), Some(new)) = (name.strip_prefix("refs/heads/"), new) else {
            continue;
        };
        let plan: Plan = crate::workspace::plan_files::plan_at(&history, new)?;
        let targets = landing::target_branches(&plan, configured.clone(), head.clone());
        if !targets.contains(branch) {
            continue;
        }
        let report = landing::check_update(&history, &plan, old, new)?;
        verdict(&report, branch, ui, None)?;
    }
    Ok(0)
}

/// A state ref may only move forward: a fast-forward, or a merge that keeps both sides.
fn check_state_update(name: &str, old: Option<ObjectId>, new: Option<ObjectId>) -> Result<()> {
    match (old, new) {
        (_, None) => Err(Error::refused(format!(
            "refusing to delete {name}: state refs keep the history of every claim and move"
        ))),
        (None, Some(_)) => Ok(()),
        (Some(old), Some(new)) => {
            let kept = Git::in_hook()
                .args([
                    "merge-base",
                    "--is-ancestor",
                    &old.to_string(),
                    &new.to_string(),
                ])
                .output()?
                .success;
            if kept {
                Ok(())
            } else {
                Err(Error::refused(format!(
                    "refusing to rewrite {name}: the update drops events the server has"
                ))
                .hint("`git kitty pull` merges the server's events with yours; then push again"))
            }
        }
    }
}

/// Print warnings; turn violations into the refusal.
fn verdict(report: &Report, target: &str, ui: &mut Ui, bypass: Option<&str>) -> Result<u8> {
    for w in &report.warnings {
        ui.warn(w);
    }
    let Some(first) = report.violations.first() else {
        return Ok(0);
    };
    let (message, order) = landing::describe(first, target);
    let mut err = Error::refused(message).hint(order);
    for other in &report.violations[1..] {
        err = err.cause(landing::describe(other, target).0);
    }
    if let Some(b) = bypass {
        err = err.hint(b);
    }
    Err(err.details(serde_json::json!({ "violations": report.violations })))
}

fn oid(hex: &str) -> Option<ObjectId> {
    ObjectId::from_hex(hex.as_bytes())
        .ok()
        .filter(|id| !id.is_null())
}
