//! Which branch work lands on (`workflow::base::target_branch`): the WP's
//! `merge_target_branch`, else the feature's `meta.json` `target_branch`, else
//! `kitty.targetBranch`, else the remote's default branch, else the main worktree's branch;
//! and the hooks guard every branch `merge` may pick.

use std::path::Path;

use crate::common::{Repo, Run};

fn git(repo: &Repo, dir: &Path, args: &[&str]) -> Run {
    Run::new(
        repo.command_in("git", dir).args(args).output().unwrap(),
        &repo.root,
    )
}

/// In `dir`: implement WP01, commit, and (when `approve`) get it approved.
fn wp01(repo: &Repo, dir: &Path, approve: bool) {
    repo.kitty_in(dir, &["implement", "WP01"])
        .ok()
        .stderr_has("from main at");
    repo.commit_in(&dir.join(".worktrees/001-linear-WP01"), "one.txt", "one\n");
    if approve {
        repo.kitty_in(dir, &["lane", "WP01", "for_review"]).ok();
        repo.kitty_in(dir, &["lane", "WP01", "approved", "--agent", "reviewer"])
            .ok();
    }
}

#[test]
fn a_wps_merge_target_branch_wins_over_the_main_worktrees_branch() {
    // The report: a WP records `merge_target_branch: main`, the main worktree has another
    // branch checked out.
    let repo = Repo::with_fixture("linear");
    let path = "kitty-specs/001-linear/tasks/WP01-first.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace(
            "dependencies: []",
            "dependencies: []\nmerge_target_branch: main",
        ),
    );
    repo.commit_all("WP01 lands on main");
    repo.kitty(&["hooks", "install"]).ok();
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", "other work"]);
    let other = repo.git(&["rev-parse", "other"]);
    wp01(&repo, &repo.root, false);
    // The hooks guard main, where merge would land it, though no worktree has it checked out.
    let run = git(
        &repo,
        &repo.root,
        &["update-ref", "refs/heads/main", "001-linear-WP01"],
    );
    assert_ne!(run.code, 0);
    run.stderr_has("refusing to land 001-linear/WP01 on main: it is in_progress, not approved");
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    repo.kitty(&["merge", "--dry-run"])
        .ok()
        .stdout_has("  WP01  onto main (clean)");
    repo.kitty(&["merge"])
        .ok()
        .stdout_has("WP01: merged into main as ");
    assert_eq!(repo.git(&["rev-parse", "other"]), other);
    let trailers = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Kitty-Landed,valueonly)",
        "main",
    ]);
    assert_eq!(trailers.trim(), "001-linear/WP01");
}

#[test]
fn with_nothing_declared_work_lands_on_the_remotes_default_branch() {
    let repo = Repo::with_fixture("linear");
    let bare = repo.sandbox.path().join("shared.git");
    repo.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    repo.git(&["push", "-q", &format!("file://{}", bare.display()), "main"]);
    let clone = repo.sandbox.path().join("clone");
    repo.git(&[
        "clone",
        "-q",
        &format!("file://{}", bare.display()),
        clone.to_str().unwrap(),
    ]);
    repo.kitty_in(&clone, &["hooks", "install"]).ok();
    // The main worktree moves to a topic branch; origin's default branch is still main.
    repo.git_in(&clone, &["checkout", "-q", "-b", "topic"]);
    let topic = repo.git_in(&clone, &["rev-parse", "topic"]);
    wp01(&repo, &clone, false);
    let run = git(
        &repo,
        &clone,
        &["update-ref", "refs/heads/main", "001-linear-WP01"],
    );
    assert_ne!(run.code, 0);
    run.stderr_has("refusing to land 001-linear/WP01 on main: it is in_progress, not approved");
    repo.kitty_in(&clone, &["lane", "WP01", "for_review"]).ok();
    repo.kitty_in(&clone, &["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    repo.kitty_in(&clone, &["merge"])
        .ok()
        .stdout_has("WP01: merged into main as ");
    assert_eq!(repo.git_in(&clone, &["rev-parse", "topic"]), topic);
    // kitty.targetBranch comes before the remote's default.
    repo.git_in(&clone, &["branch", "release", "topic"]);
    repo.git_in(&clone, &["config", "kitty.targetBranch", "release"]);
    repo.kitty_in(
        &clone,
        &["implement", "WP02", "--force", "--reason", "test"],
    )
    .ok()
    .stderr_has("from release at");
}

#[test]
fn a_missions_target_is_the_one_all_its_wps_declare() {
    // Every WP records `merge_target_branch: main`; the main worktree is on another branch.
    let repo = Repo::new();
    repo.write(
        "kitty-specs/001-one/tasks/WP01-one.md",
        "---\nwork_package_id: WP01\ntitle: One\nmerge_target_branch: main\n---\n",
    );
    repo.commit_all("plan");
    repo.kitty(&["implement", "WP01"]).ok();
    repo.commit_in(&repo.worktree("001-one-WP01"), "one.txt", "one\n");
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.kitty(&["merge"])
        .ok()
        .stdout_has("WP01: merged into main as ");
    // The mission as a whole lands on main too: not on the main worktree's branch.
    let run = repo.kitty(&[
        "orchestrator-api",
        "merge-mission",
        "--mission",
        "001-one",
        "--target",
        "main",
    ]);
    run.ok();
    let envelope: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(envelope["data"]["target_branch"], "main", "{envelope}");
}
