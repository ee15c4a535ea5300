//! `git kitty merge` and the hooks: dependency order where work lands (I7).

use std::path::Path;

use crate::common::net::{self, hooked_bare};
use crate::common::{Repo, Run, wp};

/// Implement `id` (stacked on its listed bases), commit `file`, and get it approved.
fn approved(repo: &Repo, feature: &str, id: &str, bases: &[&str], file: &str) {
    // As the test environment's agent (KITTY_AGENT=tester), so commits pass the pre-commit hook.
    let mut args = vec!["implement", id];
    for b in bases {
        args.extend(["--base", b]);
    }
    repo.kitty(&args).ok();
    repo.commit_in(
        &repo.worktree(&format!("{feature}-{id}")),
        file,
        &format!("{id}\n"),
    );
    repo.kitty(&["lane", id, "for_review"]).ok();
    repo.kitty(&["lane", id, "approved", "--agent", "reviewer"])
        .ok();
    // With a server, the approval is shared: the server lands only work its state says is
    // approved.
    if repo.git(&["remote"]).lines().any(|r| r == "origin") {
        repo.git(&[
            "push",
            "-q",
            "--no-verify",
            "origin",
            &format!("refs/kitty/wp/{feature}/{id}"),
        ]);
    }
}

/// Subjects and `Kitty-WP` trailers of main's first-parent history, oldest first.
fn main_history(repo: &Repo) -> Vec<String> {
    let out = repo.git(&[
        "log",
        "--first-parent",
        "--reverse",
        "--format=%s|%(trailers:key=Kitty-WP,valueonly,separator=%x2C)",
        "main",
    ]);
    out.lines().map(str::to_owned).collect()
}

#[test]
fn merge_lands_a_diamond_in_dependency_order_and_cleans_up() {
    let repo = Repo::with_fixture("diamond");
    approved(&repo, "001-diamond", "WP01", &[], "schema.sql");
    approved(&repo, "001-diamond", "WP02", &[], "backend.rs");
    approved(&repo, "001-diamond", "WP03", &[], "frontend.ts");
    approved(
        &repo,
        "001-diamond",
        "WP04",
        &["WP02", "WP03"],
        "integration.rs",
    );

    let run = repo.kitty(&["merge", "--dry-run"]);
    run.ok()
        .stdout_has("001-diamond would land, in this order: WP01, WP02, WP03, WP04");
    assert_eq!(
        repo.lane("001-diamond", "WP01"),
        "approved",
        "dry run changed something"
    );

    let run = repo.kitty(&["merge", "--agent", "lander"]);
    run.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    for (line, id) in lines.iter().zip(["WP01", "WP02", "WP03", "WP04"]) {
        assert!(
            line.starts_with(&format!("{id}: merged into main as ")),
            "{line}"
        );
        assert!(
            line.ends_with("(worktree removed, branch deleted)"),
            "{line}"
        );
    }
    let history = main_history(&repo);
    assert_eq!(
        history[history.len() - 4..],
        [
            "Merge WP01: Schema (001-diamond-WP01)|001-diamond/WP01",
            "Merge WP02: Backend (001-diamond-WP02)|001-diamond/WP02",
            "Merge WP03: Frontend (001-diamond-WP03)|001-diamond/WP03",
            "Merge WP04: Integration (001-diamond-WP04)|001-diamond/WP04",
        ]
    );
    for id in ["WP01", "WP02", "WP03", "WP04"] {
        assert_eq!(repo.lane("001-diamond", id), "done");
        assert!(!repo.worktree(&format!("001-diamond-{id}")).exists());
    }
    assert_eq!(repo.git(&["branch", "--list", "001-diamond-*"]), "");
    // The main checkout moved with the branch and is clean.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    for f in ["schema.sql", "backend.rs", "frontend.ts", "integration.rs"] {
        assert!(repo.path(f).exists(), "{f} not in the main checkout");
    }
    repo.kitty(&["log", "WP04"])
        .ok()
        .stdout_has("merged into main as");
}

#[test]
fn merge_of_a_fan_out_waits_on_the_root_and_says_why() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01"]).ok();
    repo.commit_in(&repo.worktree("001-fan-out-WP01"), "core.rs", "core");
    approved(&repo, "001-fan-out", "WP02", &["WP01"], "api.rs");
    approved(&repo, "001-fan-out", "WP03", &["WP01"], "cli.rs");

    let run = repo.kitty(&["merge", "--dry-run"]);
    run.ok()
        .stdout_has("Nothing to land in 001-fan-out.")
        .stdout_has("WP01  skipped: not approved (in_progress)")
        .stdout_has("WP02  skipped: waits on unmerged WP01 (not approved (in_progress))");
    let json = repo.kitty(&["merge", "--dry-run", "--json"]).ok().json();
    assert_eq!(json["merged"].as_array().unwrap().len(), 0);
    assert_eq!(json["skipped"][1]["wp"], "WP02");

    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    repo.kitty(&["merge"]).ok();
    let history = main_history(&repo);
    let landed: Vec<&str> = history
        .iter()
        .filter_map(|l| l.split('|').nth(1))
        .filter(|t| !t.is_empty())
        .collect();
    assert_eq!(
        landed,
        ["001-fan-out/WP01", "001-fan-out/WP02", "001-fan-out/WP03"]
    );
    // WP04 depended only on WP01: it is ready now.
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP04")["ready"], true);
}

#[test]
fn a_conflicting_wp_is_skipped_and_leaves_the_target_without_it() {
    // Two independent approved WPs that change the same file differently.
    let repo = Repo::new();
    for (id, title) in [("WP01", "Index schema"), ("WP02", "Query parser")] {
        repo.write(
            &format!("kitty-specs/002-search/tasks/{id}-x.md"),
            &format!("---\nwork_package_id: {id}\ntitle: {title}\n---\n"),
        );
    }
    repo.commit_all("plan");
    approved(&repo, "002-search", "WP01", &[], "shared.txt");
    approved(&repo, "002-search", "WP02", &[], "shared.txt");
    let dry = repo.kitty(&["merge", "-f", "002-search", "--dry-run"]);
    dry.code(4)
        .stdout_has("WP02  would conflict with main: shared.txt");

    let run = repo.kitty(&["merge", "-f", "002-search", "--json"]);
    run.code(4)
        .stderr_has("error: WP02 conflicts with main")
        .stderr_has("caused by: landed all the same: WP01")
        .stderr_has("caused by: WP02: shared.txt")
        .stderr_has("main is unchanged by WP02");
    let json = run.json();
    assert_eq!(json["conflicts"][0]["paths"][0], "shared.txt");
    assert_eq!(json["merged"][0]["wp"], "WP01");
    let history = main_history(&repo);
    assert_eq!(
        history.last().unwrap(),
        "Merge WP01: Index schema (002-search-WP01)|002-search/WP01"
    );
    assert_eq!(repo.lane("002-search", "WP01"), "done");
    assert_eq!(repo.lane("002-search", "WP02"), "approved");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(repo.path("shared.txt")).unwrap(),
        "WP01\n"
    );
}

#[test]
fn kept_worktrees_and_branches_and_a_target_checked_out_nowhere() {
    let repo = Repo::with_fixture("linear");
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    // The main worktree is on another branch: main moves by compare-and-swap.
    repo.git(&["checkout", "-q", "-b", "elsewhere"]);
    repo.git(&["config", "kitty.targetBranch", "main"]);
    let before = repo.git(&["rev-parse", "elsewhere"]);
    repo.kitty(&["merge", "--keep-worktrees", "--keep-branches"])
        .ok()
        .stdout_has("WP01: merged into main as ");
    assert_eq!(repo.git(&["rev-parse", "elsewhere"]), before);
    assert!(repo.worktree("001-linear-WP01").exists());
    assert_ne!(repo.git(&["branch", "--list", "001-linear-WP01"]), "");
    assert!(
        main_history(&repo)
            .last()
            .unwrap()
            .ends_with("|001-linear/WP01")
    );
}

#[test]
fn a_dirty_target_checkout_is_refused_before_anything_lands() {
    let repo = Repo::with_fixture("linear");
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    std::fs::write(repo.path("README.md"), "edited\n").unwrap();
    let head = repo.git(&["rev-parse", "main"]);
    repo.kitty(&["merge"])
        .code(1)
        .stderr_has("main is checked out in $REPO with uncommitted changes: README.md");
    assert_eq!(repo.git(&["rev-parse", "main"]), head);
    assert_eq!(repo.lane("001-linear", "WP01"), "approved");
}

#[test]
fn squash_lands_one_commit_per_wp_with_its_trailer() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["implement", "WP01"]).ok();
    let wt = repo.worktree("001-linear-WP01");
    repo.commit_in(&wt, "a.txt", "a");
    repo.commit_in(&wt, "b.txt", "b");
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    repo.kitty(&["merge", "--strategy", "squash"]).ok();
    let msg = repo.git(&["log", "-1", "--format=%B", "main"]);
    assert!(
        msg.starts_with("WP01: First\n\nSquash of 2 commits from 001-linear-WP01."),
        "{msg}"
    );
    assert!(msg.contains("Kitty-WP: 001-linear/WP01"));
    assert_eq!(
        repo.git(&["rev-list", "--count", "--parents", "-1", "main"])
            .trim(),
        "1"
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%P", "main"])
            .split_whitespace()
            .count(),
        1
    );
}

#[test]
fn a_branch_carrying_another_wps_commits_is_not_landed() {
    let repo = Repo::with_fixture("fan-out");
    approved(&repo, "001-fan-out", "WP01", &[], "core.rs");
    repo.kitty(&["merge"]).ok();
    approved(&repo, "001-fan-out", "WP02", &[], "api.rs");
    let wt = repo.worktree("001-fan-out-WP02");
    std::fs::write(wt.join("docs.md"), "docs").unwrap();
    repo.git_in(&wt, &["add", "docs.md"]);
    repo.git_in(
        &wt,
        &["commit", "-q", "-m", "docs\n\nKitty-WP: 001-fan-out/WP04"],
    );
    // (Committed after approval: the reviewer would not have seen it either.)
    let trailers = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Kitty-WP,valueonly,separator=%x2C)",
        "001-fan-out-WP02",
    ]);
    assert!(trailers.contains("WP04"), "{trailers}");
    repo.kitty(&["merge"])
        .ok()
        .stdout_has("WP02  skipped: its branch carries WP04's work");
}

#[test]
fn implement_installs_the_trailer_hook_next_to_the_users() {
    let repo = Repo::with_fixture("fan-out");
    let hook = repo.path(".git/hooks/prepare-commit-msg");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho mine >> \"$(git rev-parse --git-dir)/user-hook-ran\"\n",
    )
    .unwrap();
    set_executable(&hook);
    repo.kitty(&["implement", "WP01"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.commit_in(&wt, "x.txt", "x");
    let msg = repo.git_in(&wt, &["log", "-1", "--format=%B"]);
    assert!(
        msg.trim_end().ends_with("Kitty-WP: 001-fan-out/WP01"),
        "{msg}"
    );
    assert!(
        repo.path(".git/worktrees/001-fan-out-WP01/user-hook-ran")
            .exists(),
        "the user's hook did not run"
    );
    // Outside any WP nothing is added.
    repo.commit_in(&repo.root.clone(), "y.txt", "y");
    assert!(!repo.git(&["log", "-1", "--format=%B"]).contains("Kitty-WP"));
    // Amending keeps one trailer.
    repo.git_in(&wt, &["commit", "-q", "--amend", "--no-edit"]);
    let msg = repo.git_in(&wt, &["log", "-1", "--format=%B"]);
    assert_eq!(msg.matches("Kitty-WP").count(), 1, "{msg}");
}

fn set_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn hooks_install_and_uninstall_keep_the_users_hooks() {
    let repo = Repo::with_fixture("fan-out");
    let hooks = repo.path(".git/hooks");
    std::fs::write(
        hooks.join("pre-commit"),
        "#!/bin/bash\necho user pre-commit\n",
    )
    .unwrap();
    std::fs::write(
        hooks.join("pre-push"),
        "#!/usr/bin/env python3\nprint('user pre-push')\n",
    )
    .unwrap();
    set_executable(&hooks.join("pre-commit"));
    set_executable(&hooks.join("pre-push"));
    repo.kitty(&["hooks", "install"])
        .code(1)
        .stderr_has("pre-push is not a shell script: git kitty cannot add its block to it")
        .stderr_has("`git kitty hooks install --force` moves it to pre-push.kitty-chained");
    let run = repo.kitty(&["hooks", "install", "--force"]);
    run.ok();
    let pre_commit = std::fs::read_to_string(hooks.join("pre-commit")).unwrap();
    assert!(
        pre_commit.starts_with("#!/bin/bash\n# >>> git kitty >>>"),
        "{pre_commit}"
    );
    assert!(pre_commit.ends_with("# <<< git kitty <<<\necho user pre-commit\n"));
    assert!(hooks.join("pre-push.kitty-chained").exists());
    let status = repo.kitty(&["hooks", "status", "--json"]).ok().json();
    let states: Vec<(&str, &str)> = status["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("prepare-commit-msg", "installed"),
            ("commit-msg", "installed"),
            ("pre-commit", "installed"),
            ("pre-merge-commit", "installed"),
            ("pre-push", "installed"),
            ("reference-transaction", "installed"),
            ("pre-receive", "missing"),
        ]
    );
    assert_eq!(status["git_kitty_on_path"], true);
    // Installing again changes nothing.
    repo.kitty(&["hooks", "install"])
        .ok()
        .stdout_has("  pre-commit            already installed\n")
        .stdout_has("  pre-push              already installed (runs your hook after it)\n");
    repo.kitty(&["hooks", "uninstall"])
        .ok()
        .stdout_has("  pre-commit            removed (your own hook kept)\n")
        .stdout_has("  pre-merge-commit      removed\n");
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        "#!/bin/bash\necho user pre-commit\n"
    );
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-push")).unwrap(),
        "#!/usr/bin/env python3\nprint('user pre-push')\n"
    );
    assert!(!hooks.join("pre-merge-commit").exists());
    assert!(!hooks.join("pre-push.kitty-chained").exists());
}

#[test]
fn core_hooks_path_is_respected() {
    let repo = Repo::with_fixture("fan-out");
    repo.git(&["config", "core.hooksPath", "tools/hooks"]);
    repo.kitty(&["hooks", "install"])
        .ok()
        .stdout_has("hooks in $REPO/tools/hooks")
        .stderr_has("the hooks directory is inside the working tree (core.hooksPath): commit the changed hook files");
    assert!(repo.path("tools/hooks/pre-push").exists());
    assert!(!repo.path(".git/hooks/pre-push").exists());
    // A hook that is a symbolic link is not written through without --force.
    repo.git(&["config", "--unset", "core.hooksPath"]);
    repo.write("tools/shared-hook", "#!/bin/sh\necho shared\n");
    std::os::unix::fs::symlink(
        repo.path("tools/shared-hook"),
        repo.path(".git/hooks/pre-commit"),
    )
    .unwrap();
    repo.kitty(&["hooks", "install"])
        .code(1)
        .stderr_has("pre-commit is a symbolic link");
    assert_eq!(
        std::fs::read_to_string(repo.path("tools/shared-hook")).unwrap(),
        "#!/bin/sh\necho shared\n"
    );
}

#[test]
fn pre_commit_guards_the_wp_worktree_and_the_plan_files() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["hooks", "install"]).ok();
    repo.kitty(&["implement", "WP01", "--agent", "tester"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.commit_in(&wt, "ok.txt", "fine while in progress");
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    std::fs::write(wt.join("late.txt"), "after review was asked").unwrap();
    repo.git_in(&wt, &["add", "late.txt"]);
    let commit = |dir: &Path, extra: &[&str]| {
        let mut args = vec!["commit", "-q", "-m", "late"];
        args.extend_from_slice(extra);
        Run::new(
            repo.command_in("git", dir).args(&args).output().unwrap(),
            &repo.root,
        )
    };
    commit(&wt, &[])
        .code(1)
        .stderr_has("error: WP01 is for_review: commits here belong to work in progress")
        .stderr_has("`--no-verify` skips it");
    commit(&wt, &["--no-verify"]).ok();
    // Another agent cannot commit to a WP held by someone else.
    repo.kitty(&[
        "lane",
        "WP01",
        "in_progress",
        "--force",
        "--reason",
        "more work",
        "--agent",
        "other",
    ])
    .ok();
    std::fs::write(wt.join("more.txt"), "x").unwrap();
    repo.git_in(&wt, &["add", "more.txt"]);
    commit(&wt, &[])
        .code(1)
        .stderr_has("WP01 is claimed by other, not by tester");
    // A staged WP file with errors, anywhere.
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP05-new.md",
        "---\nwork_package_id: WP05\ndependencies: {x: 1}\n---\n",
    );
    repo.git(&["add", "kitty-specs"]);
    commit(&repo.root.clone(), &[])
        .code(1)
        .stderr_has("staged work package files have 1 problem")
        .stderr_has("kitty-specs/001-fan-out/tasks/WP05-new.md:3: error[malformed-field]");
}

#[test]
fn git_merge_of_a_wp_before_its_dependency_is_refused_on_the_client() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["hooks", "install"]).ok();
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    let merge = |branch: &str, extra: &[&str]| {
        let mut args = vec!["merge", "--no-ff", "--no-edit", "-q"];
        args.extend_from_slice(extra);
        args.push(branch);
        Run::new(
            repo.command_in("git", &repo.root)
                .args(&args)
                .output()
                .unwrap(),
            &repo.root,
        )
    };
    let run = merge("001-linear-WP02", &[]);
    run.code(1)
        .stderr_has("error: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet")
        .stderr_has("hint: land them in this order: WP01, then WP02 (`git kitty merge -f 001-linear` does it)");
    repo.git(&["merge", "--abort"]);
    // The right order goes through.
    merge("001-linear-WP01", &[]).ok();
    merge("001-linear-WP02", &[]).ok();
    // Branches that are not targets are never checked.
    let scratch = repo.sandbox.path().join("scratch");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "scratch",
        scratch.to_str().unwrap(),
        "HEAD~2",
    ]);
    let out = repo
        .command_in("git", &scratch)
        .args(["merge", "--no-ff", "--no-edit", "-q", "001-linear-WP02"])
        .output()
        .unwrap();
    Run::new(out, &repo.root).ok();
}

#[test]
fn push_order_is_enforced_by_the_client_and_by_the_server_without_bypass() {
    let repo = Repo::with_fixture("linear");
    let (bare, installed) = hooked_bare(&repo, "shared.git");
    installed.stderr_has("landing order is enforced on: main");
    net::add_origin(&repo, &bare);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.kitty(&["hooks", "install"]).ok();
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    let before = repo.git(&["rev-parse", "main"]);
    repo.git(&[
        "-c",
        "core.hooksPath=/dev/null",
        "merge",
        "-q",
        "--no-ff",
        "--no-edit",
        "001-linear-WP02",
    ]);

    let push = |extra: &[&str]| {
        let mut args = vec!["push", "origin", "main"];
        args.extend_from_slice(extra);
        Run::new(
            repo.command_in("git", &repo.root)
                .args(&args)
                .output()
                .unwrap(),
            &repo.root,
        )
    };
    push(&[])
        .code(1)
        .stderr_has("error: refusing to land 001-linear/WP02 on main: it depends on WP01");
    push(&["--no-verify"])
        .code(1)
        .stderr_has("remote: error: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet")
        .stderr_has("pre-receive hook declined");
    assert_eq!(
        repo.git_in(&bare, &["rev-parse", "main"]),
        before,
        "the server's main moved"
    );
    // `git kitty merge` lands them in order; the same push then goes through both checks.
    repo.git(&["reset", "-q", "--hard", before.trim()]);
    repo.kitty(&["merge"]).ok();
    push(&[]).ok();
    assert_eq!(
        repo.git_in(&bare, &["rev-parse", "main"]),
        repo.git(&["rev-parse", "main"])
    );
    // Unrelated branches are never blocked.
    repo.git(&["branch", "-f", "experiment", "main~1"]);
    Run::new(
        repo.command_in("git", &repo.root)
            .args(["push", "origin", "experiment"])
            .output()
            .unwrap(),
        &repo.root,
    )
    .ok();
}

#[test]
fn the_server_refuses_state_updates_that_drop_history() {
    let repo = Repo::with_fixture("fan-out");
    let (bare, _) = hooked_bare(&repo, "shared.git");
    net::add_origin(&repo, &bare);
    repo.kitty(&["note", "WP01", "first"]).ok();
    let first = repo.git(&["rev-parse", "refs/kitty/wp/001-fan-out/WP01"]);
    let push_state = |spec: &str| {
        Run::new(
            repo.command_in("git", &repo.root)
                .args(["push", "--force", "origin", spec])
                .output()
                .unwrap(),
            &repo.root,
        )
    };
    push_state("refs/kitty/wp/001-fan-out/WP01:refs/kitty/wp/001-fan-out/WP01").ok();
    repo.kitty(&["note", "WP01", "second"]).ok();
    push_state("refs/kitty/wp/001-fan-out/WP01:refs/kitty/wp/001-fan-out/WP01").ok();
    // Rewinding (dropping "second") is refused, even forced; so is deleting.
    push_state(&format!("{}:refs/kitty/wp/001-fan-out/WP01", first.trim()))
        .code(1)
        .stderr_has("remote: error: refusing to rewrite refs/kitty/wp/001-fan-out/WP01: the update drops events the server has");
    push_state(":refs/kitty/wp/001-fan-out/WP01")
        .code(1)
        .stderr_has("refusing to delete refs/kitty/wp/001-fan-out/WP01");
}

#[test]
fn odd_trailers_and_missing_git_kitty_are_reported_not_silent() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["hooks", "install"]).ok();
    // A trailer naming a WP the plan does not have: a warning, never a block.
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x\n\nKitty-WP: 001-fan-out/WP42",
    ]);
    repo.git(&["checkout", "-q", "main"]);
    let out = repo
        .command_in("git", &repo.root)
        .args(["merge", "--no-ff", "--no-edit", "-q", "side"])
        .output()
        .unwrap();
    let run = Run::new(out, &repo.root);
    run.ok()
        .stderr_has("warning: commit ")
        .stderr_has("names 001-fan-out/WP42, which is not in the plan");
    // Without git-kitty on PATH the shim says so instead of failing silently.
    let mut cmd = repo.command_in("git", &repo.root);
    cmd.env("PATH", "/usr/bin:/bin:/usr/local/bin").args([
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "y",
    ]);
    let run = Run::new(cmd.output().unwrap(), &repo.root);
    run.code(1)
        .stderr_has("git kitty: this repository's pre-commit hook needs git-kitty on PATH; install it, or run 'git kitty hooks uninstall'");
    // Hooks need the right repository kind.
    repo.kitty(&["hooks", "install", "--server"])
        .code(2)
        .stderr_has("this one has a working tree");
}

fn git_run(repo: &Repo, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = repo.command_in("git", dir);
    cmd.env("GIT_EDITOR", "true").args(args);
    Run::new(cmd.output().unwrap(), &repo.root)
}

#[test]
fn a_pull_merge_of_work_landed_in_order_upstream_is_accepted_everywhere() {
    let repo = Repo::with_fixture("linear");
    let bare = net::origin(&repo, "shared.git");
    repo.kitty(&["hooks", "install"]).ok();
    // Another clone has a local commit when WP01 and WP02 land upstream in order.
    let other = repo.sandbox.path().join("other");
    repo.git(&["clone", "-q", &net::url(&bare), other.to_str().unwrap()]);
    repo.kitty_in(&other, &["hooks", "install"]).ok();
    std::fs::write(other.join("notes.txt"), "unrelated\n").unwrap();
    repo.git_in(&other, &["add", "notes.txt"]);
    repo.git_in(&other, &["commit", "-q", "-m", "notes"]);
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    repo.kitty(&["merge"]).ok();
    git_run(&repo, &repo.root, &["push", "-q", "origin", "main"]).ok();
    // `git pull` (a merge) brings both landings at once: fine, they are in order.
    git_run(
        &repo,
        &other,
        &["pull", "-q", "--no-rebase", "origin", "main"],
    )
    .ok();
    git_run(&repo, &other, &["push", "-q", "origin", "main"]).ok();
    // And the same history goes to a brand-new server as a whole.
    let (fresh, _) = hooked_bare(&repo, "fresh.git");
    let fresh_url = net::url(&fresh);
    // Without the state that says the work was approved, a new server does not take it...
    git_run(&repo, &other, &["push", "-q", &fresh_url, "main"])
        .code(1)
        .stderr_has("refusing to land 001-linear/WP01 on main: it is planned, not approved (kitty.landing.requireReview)");
    // ...with it, in the same push, it does.
    git_run(
        &repo,
        &other,
        &["fetch", "-q", "origin", "refs/kitty/*:refs/kitty/*"],
    )
    .ok();
    git_run(
        &repo,
        &other,
        &[
            "push",
            "-q",
            &fresh_url,
            "main",
            "refs/kitty/*:refs/kitty/*",
        ],
    )
    .ok();
}

#[test]
fn a_force_push_that_drops_a_dependency_is_refused() {
    let repo = Repo::with_fixture("linear");
    net::origin(&repo, "shared.git");
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &[], "two.txt");
    let plan_commit = repo.git(&["rev-parse", "main"]);
    repo.kitty(&["merge"]).ok();
    git_run(&repo, &repo.root, &["push", "-q", "origin", "main"]).ok();
    // Rewrite main without WP01 and force it: WP02's dependency is gone from the new history.
    let wp02_landing = repo.git(&["rev-parse", "main"]);
    repo.git(&["reset", "-q", "--hard", plan_commit.trim()]);
    repo.git(&["cherry-pick", "-m", "1", wp02_landing.trim()]);
    git_run(
        &repo,
        &repo.root,
        &["push", "--force", "--no-verify", "origin", "main"],
    )
    .code(1)
    .stderr_has("remote: error: refusing to land 001-linear/WP02 on main: it depends on WP01");
}

#[test]
fn a_hand_squash_keeps_the_wps_identity_and_is_held_to_the_order() {
    let repo = Repo::with_fixture("linear");
    net::origin(&repo, "shared.git");
    repo.kitty(&["hooks", "install"]).ok();
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    git_run(
        &repo,
        &repo.root,
        &["merge", "-q", "--squash", "001-linear-WP02"],
    )
    .ok();
    git_run(&repo, &repo.root, &["commit", "-q", "--no-edit"])
        .code(1)
        .stderr_has("refusing to land 001-linear/WP02 on main: it depends on WP01");
    // `--no-verify` skips pre-commit, not the reference-transaction hook: main does not move.
    let run = git_run(
        &repo,
        &repo.root,
        &["commit", "-q", "--no-edit", "--no-verify"],
    );
    assert_ne!(run.code, 0);
    run.stderr_has("refusing to land 001-linear/WP02 on main: it depends on WP01");
    // Without that hook too, the squash is committed (with both WPs' trailers).
    std::fs::remove_file(repo.path(".git/hooks/reference-transaction")).unwrap();
    git_run(
        &repo,
        &repo.root,
        &["commit", "-q", "--no-edit", "--no-verify"],
    )
    .ok();
    let msg = repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Kitty-WP,valueonly,separator=%x2C)",
    ]);
    let mut wps: Vec<&str> = msg.trim().split(',').collect();
    wps.sort();
    assert_eq!(
        wps,
        ["001-linear/WP01", "001-linear/WP02"],
        "the squash lost its WPs"
    );
    git_run(
        &repo,
        &repo.root,
        &["push", "--no-verify", "origin", "main"],
    )
    .code(1)
    .stderr_has("remote: error: refusing to land 001-linear/WP02 on main");
}

#[test]
fn editing_the_plan_in_the_same_push_does_not_bypass_the_server() {
    let repo = Repo::with_fixture("linear");
    net::origin(&repo, "shared.git");
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    git_run(
        &repo,
        &repo.root,
        &[
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            "001-linear-WP02",
        ],
    )
    .ok();
    let path = "kitty-specs/001-linear/tasks/WP02-second.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace("dependencies: [WP01]", "dependencies: []"),
    );
    git_run(
        &repo,
        &repo.root,
        &["commit", "-q", "-a", "--no-verify", "-m", "no deps"],
    )
    .ok();
    git_run(
        &repo,
        &repo.root,
        &["push", "--no-verify", "origin", "main"],
    )
    .code(1)
    .stderr_has("remote: error: refusing to land 001-linear/WP02 on main: this push also changes its dependencies in the plan (WP01 before, none after)")
    .stderr_has("remote: caused by: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet")
    .stderr_has("push it on its own first (on this branch it comes after the work)");
}

#[test]
fn finishing_a_stopped_merge_with_commit_is_checked_too() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["hooks", "install"]).ok();
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    git_run(
        &repo,
        &repo.root,
        &["merge", "-q", "--no-ff", "--no-commit", "001-linear-WP02"],
    )
    .ok();
    git_run(&repo, &repo.root, &["commit", "-q", "--no-edit"])
        .code(1)
        .stderr_has("refusing to land 001-linear/WP02 on main");
}

#[test]
fn an_empty_message_still_aborts_a_commit_in_a_wp_worktree() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    std::fs::write(wt.join("x.txt"), "x").unwrap();
    repo.git_in(&wt, &["add", "x.txt"]);
    // The editor leaves the message empty: git aborts, no trailer-only commit.
    let before = repo.git_in(&wt, &["rev-parse", "HEAD"]);
    git_run(&repo, &wt, &["commit", "-q"]).code(1);
    assert_eq!(repo.git_in(&wt, &["rev-parse", "HEAD"]), before);
    // Written in the editor, the message gets its trailer after editing.
    let mut cmd = repo.command_in("git", &wt);
    cmd.env("GIT_EDITOR", "sh -c 'echo edited > \"$1\"' --")
        .args(["commit", "-q"]);
    assert!(cmd.output().unwrap().status.success());
    let msg = repo.git_in(&wt, &["log", "-1", "--format=%B"]);
    assert!(
        msg.starts_with("edited\n") && msg.contains("Kitty-WP: 001-fan-out/WP01"),
        "{msg}"
    );
}

#[test]
fn squash_landing_of_a_stacked_chain_goes_all_the_way() {
    let repo = Repo::with_fixture("linear");
    approved(&repo, "001-linear", "WP01", &[], "one.txt");
    approved(&repo, "001-linear", "WP02", &["WP01"], "two.txt");
    approved(&repo, "001-linear", "WP03", &["WP02"], "three.txt");
    let run = repo.kitty(&["merge", "--strategy", "squash"]);
    run.ok();
    assert_eq!(
        run.stdout.matches("merged into main").count(),
        3,
        "{}",
        run.stdout
    );
    for f in ["one.txt", "two.txt", "three.txt"] {
        assert!(repo.path(f).exists());
    }
}

#[test]
fn a_wp_done_before_git_kitty_counts_once_the_target_says_it_landed() {
    let repo = Repo::with_fixture("linear");
    let path = "kitty-specs/001-linear/tasks/WP01-first.md";
    let text = std::fs::read_to_string(repo.path(path)).unwrap();
    repo.write(
        path,
        &text.replace("dependencies: []", "dependencies: []\nlane: done"),
    );
    repo.commit_all("WP01 was finished long ago");
    net::origin(&repo, "shared.git");
    repo.kitty(&["hooks", "install"]).ok();
    approved(&repo, "001-linear", "WP02", &[], "two.txt");
    // A lane in a file is no proof of landed work: merge waits, and a hand merge is refused
    // by the client and by the server.
    let before = repo.git(&["rev-parse", "main"]);
    repo.kitty(&["merge"])
        .ok()
        .stdout_has("WP02  skipped: waits on unmerged WP01 (done, but no commit on main carries its work: if it landed from another clone, `git pull --ff-only` where main is checked out brings it; work landed before git kitty needs a commit with `Kitty-Landed: 001-linear/WP01`)");
    assert_eq!(repo.git(&["rev-parse", "main"]), before);
    git_run(
        &repo,
        &repo.root,
        &[
            "-c",
            "core.hooksPath=/dev/null",
            "merge",
            "-q",
            "--no-ff",
            "--no-edit",
            "001-linear-WP02",
        ],
    )
    .ok();
    git_run(&repo, &repo.root, &["push", "-q", "origin", "main"])
        .code(1)
        .stderr_has("error: refusing to land 001-linear/WP02 on main: it depends on WP01, which is not on main yet");
    git_run(
        &repo,
        &repo.root,
        &["push", "-q", "--no-verify", "origin", "main"],
    )
    .code(1)
    .stderr_has("remote: error: refusing to land 001-linear/WP02 on main: it depends on WP01");
    // A commit on main that says WP01 landed (before git kitty) is: it shows in history.
    repo.git(&["reset", "-q", "--hard", before.trim()]);
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "WP01 landed before git kitty\n\nKitty-Landed: 001-linear/WP01",
    ]);
    repo.kitty(&["merge"])
        .ok()
        .stdout_has("WP02: merged into main");
    git_run(&repo, &repo.root, &["push", "-q", "origin", "main"]).ok();
}

#[test]
fn merge_inside_a_wps_worktree_keeps_that_worktree() {
    let repo = Repo::with_fixture("fan-out");
    approved(&repo, "001-fan-out", "WP01", &[], "core.rs");
    let wt = repo.worktree("001-fan-out-WP01");
    repo.kitty_in(&wt, &["merge", "-f", "001-fan-out"])
        .ok()
        .stdout_has("WP01: merged into main")
        .stdout_has("kept: git kitty runs inside it");
    assert!(wt.exists());
}
