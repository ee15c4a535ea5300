//! What a hook reads through git, in the environment git gave the hook: `GIT_DIR`, the
//! temporary index of a partial commit, the quarantined objects of a push. Each function runs
//! `git` where the hook runs ([`Git::in_hook`]), never in a repository opened anew.

use std::path::Path;

use super::history::{History, WP_TRAILER};
use super::{Git, Oid, parse_oid};
use crate::error::Result;

/// The history as the hook sees it (quarantined objects of a push included).
pub fn history() -> History {
    History::new(Git::in_hook)
}

/// Add a `Kitty-WP: <wp>` trailer per entry of `wps` to the message file `file`
/// (`addIfDifferent`: amending keeps one of each).
pub fn add_wp_trailers(file: &str, wps: &[String]) -> Result<()> {
    let mut git = Git::in_hook().args([
        "interpret-trailers",
        "--in-place",
        "--if-exists",
        "addIfDifferent",
    ]);
    for wp in wps {
        git = git.arg("--trailer").arg(format!("{WP_TRAILER}: {wp}"));
    }
    git.arg("--").arg(file).run()?;
    Ok(())
}

/// Paths under `dir` that the commit being made adds, copies, modifies or renames (the index
/// git gave the hook).
pub fn staged_paths_under(dir: &str) -> Result<Vec<String>> {
    let out = Git::in_hook()
        .args([
            "diff",
            "--cached",
            "--name-only",
            "-z",
            "--diff-filter=ACMR",
            "--",
        ])
        .arg(dir)
        .run()?;
    Ok(out
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Whether `old` is an ancestor of `new` (a fast-forward).
pub fn is_ancestor(old: Oid, new: Oid) -> Result<bool> {
    Ok(Git::in_hook()
        .args([
            "merge-base",
            "--is-ancestor",
            &old.to_string(),
            &new.to_string(),
        ])
        .output()?
        .success)
}

/// The text of a file in the git dir (`MERGE_HEAD`, `SQUASH_MSG`), empty when absent.
pub fn git_dir_file(cwd: &Path, name: &str) -> Result<String> {
    let path = Git::in_hook()
        .args(["rev-parse", "--git-path", name])
        .run()?;
    Ok(std::fs::read_to_string(cwd.join(path.trim())).unwrap_or_default())
}

/// The object ids listed in a file of the git dir, one per line (`MERGE_HEAD`).
pub fn ids_in_git_dir_file(cwd: &Path, name: &str) -> Result<Vec<Oid>> {
    Ok(git_dir_file(cwd, name)?
        .lines()
        .filter_map(parse_oid)
        .collect())
}

/// `git config --get <key>`, when set and not empty.
pub fn config(key: &str) -> Option<String> {
    line(&["config", "--get", key])
}

/// `git config --type=bool --get <key>`, when set to a boolean.
pub fn config_bool(key: &str) -> Option<bool> {
    match line(&["config", "--type=bool", "--get", key])?.as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The branch `HEAD` points at (short name), if any.
pub fn head_branch() -> Option<String> {
    line(&["symbolic-ref", "--quiet", "--short", "HEAD"])
}

fn line(args: &[&str]) -> Option<String> {
    Git::in_hook()
        .args(args)
        .output()
        .ok()
        .filter(|o| o.success)
        .map(|o| o.stdout.trim().to_owned())
        .filter(|s| !s.is_empty())
}
