//! `git kitty implement`, `next`, `restack`, `abandon`: a worktree per WP, on real repos.

use std::path::Path;
use std::process::Child;

use crate::common::{Repo, Run, wp};

fn finish(children: Vec<Child>, root: &Path) -> Vec<Run> {
    children
        .into_iter()
        .map(|c| Run::new(c.wait_with_output().unwrap(), root))
        .collect()
}

/// Run from another worktree, the `cd` the summary prints goes to the new one from there.
#[test]
fn the_next_step_names_the_worktree_from_where_it_runs() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "alice"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    let from_wt = repo.kitty_in(
        &wt,
        &[
            "implement",
            "WP02",
            "--agent",
            "bob",
            "--force",
            "--reason",
            "r",
        ],
    );
    from_wt.ok();
    let next = from_wt
        .stderr
        .lines()
        .find(|l| l.starts_with("  next"))
        .unwrap();
    let shown = next
        .trim_start_matches("  next      cd ")
        .split(',')
        .next()
        .unwrap();
    let shown = shown.replace(
        "$REPO",
        repo.path("").to_str().unwrap().trim_end_matches('/'),
    );
    assert!(wt.join(&shown).join(".git").exists(), "{next}");
    assert!(shown.ends_with("/.worktrees/001-fan-out-WP02"), "{next}");
}

#[test]
fn implement_gives_a_branch_a_worktree_and_a_claim() {
    let repo = Repo::with_fixture("fan-out");
    let main_before = repo.git(&["rev-parse", "main"]);
    let run = repo.kitty(&["implement", "WP01", "--agent", "alice"]);
    run.ok();
    // The path alone on stdout (`dir=$(git kitty implement WP01) && cd "$dir"`), the summary
    // on stderr.
    run.stdout_is("$REPO/.worktrees/001-fan-out-WP01\n");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines[0], "WP01: in_progress (alice)");
    assert!(
        lines[1].starts_with("  branch    001-fan-out-WP01  from main at "),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "  prompt    kitty-specs/001-fan-out/tasks/WP01-core.md"
    );
    assert_eq!(
        lines[3],
        "  next      cd .worktrees/001-fan-out-WP01, commit your work, then `git kitty lane for_review` there"
    );
    let wt = repo.worktree("001-fan-out-WP01");
    assert_eq!(
        repo.git_in(&wt, &["branch", "--show-current"]).trim(),
        "001-fan-out-WP01"
    );
    assert_eq!(repo.git_in(&wt, &["rev-parse", "HEAD"]), main_before);
    // Kept out of `git status`, and nothing committed on main.
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(
        std::fs::read_to_string(repo.path(".git/info/exclude"))
            .unwrap()
            .contains("/.worktrees/")
    );
    assert_eq!(repo.git(&["rev-parse", "main"]), main_before);
    // The state records it all.
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let w = wp(&status, "001-fan-out", "WP01");
    assert_eq!(w["lane"], "in_progress");
    assert_eq!(w["agent"], "alice");
    assert_eq!(w["state"]["branch"], "001-fan-out-WP01");
    assert_eq!(w["state"]["worktree"], ".worktrees/001-fan-out-WP01");
    assert_eq!(w["state"]["base"]["kind"], "target");
    assert_eq!(w["state"]["base"]["commit"], main_before.trim());
    // Again, same agent: the same worktree, reused.
    let again = repo
        .kitty(&["implement", "WP01", "--agent", "alice", "--json"])
        .ok()
        .json();
    assert_eq!(again["reused"], true);
    assert_eq!(again["worktree"], "$REPO/.worktrees/001-fan-out-WP01");
    for key in [
        "wp", "feature", "branch", "worktree", "base", "lane", "agent", "reused",
    ] {
        assert!(again.get(key).is_some(), "implement --json lacks {key}");
    }
    // Another agent is told who holds it.
    repo.kitty(&["implement", "WP01", "--agent", "bob"])
        .code(1)
        .stderr_has("error: WP01 is claimed by alice");
    // From inside the worktree, `lane` needs no WP (and checks there is work to review).
    repo.kitty_in(&wt, &["lane", "for_review", "--agent", "alice"])
        .code(1)
        .stderr_has("WP01 has no commit beyond its base: there is nothing to review yet");
    std::fs::write(wt.join("core.txt"), "core\n").unwrap();
    repo.kitty_in(&wt, &["lane", "for_review", "--agent", "alice"])
        .code(1)
        .stderr_has("WP01's worktree has uncommitted changes: core.txt");
    repo.git_in(&wt, &["add", "core.txt"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "core"]);
    repo.kitty_in(&wt, &["lane", "for_review", "--agent", "alice"])
        .ok()
        .stdout_has("WP01: in_progress -> for_review (alice)");
}

#[test]
fn two_independent_wps_at_once() {
    let repo = Repo::with_fixture("example");
    let children = vec![
        repo.spawn_kitty(&["implement", "WP02", "-f", "002-search", "--agent", "a"]),
        repo.spawn_kitty(&["implement", "WP05", "-f", "001-checkout", "--agent", "b"]),
    ];
    for run in finish(children, &repo.root) {
        run.ok();
    }
    assert!(
        repo.worktree("002-search-WP02")
            .join("kitty-specs")
            .exists()
    );
    assert!(
        repo.worktree("001-checkout-WP05")
            .join("kitty-specs")
            .exists()
    );
    assert_eq!(repo.lane("002-search", "WP02"), "in_progress");
    assert_eq!(repo.lane("001-checkout", "WP05"), "in_progress");
}

#[test]
fn the_gate_refuses_unfinished_dependencies_and_says_what_works() {
    let repo = Repo::with_fixture("fan-out");
    let run = repo.kitty(&["implement", "WP02"]);
    run.code(1)
        .stderr_has("error: WP02 depends on work that is not approved or done: WP01 (planned)")
        .stderr_has("hint: WP01 has not been started: `git kitty implement WP01`")
        .stderr_has("hint: or start anyway: `git kitty implement WP02 --force --reason \"...\"`");
    assert_eq!(
        repo.git(&["for-each-ref", "refs/kitty", "refs/heads/001-fan-out-WP02"]),
        ""
    );
    repo.kitty(&["implement", "WP01", "--agent", "alice"]).ok();
    repo.kitty(&["implement", "WP02"])
        .code(1)
        .stderr_has("WP01 (in_progress)")
        .stderr_has("hint: stack on their unfinished work: `git kitty implement WP02 --base WP01`");
    repo.kitty(&["implement", "WP02", "--base", "WP03"])
        .code(2)
        .stderr_has("error: --base WP03: WP03 is not a dependency of WP02")
        .stderr_has("hint: WP02 depends on WP01");
    // --force starts anyway, recorded as forced.
    repo.kitty(&["implement", "WP03", "--force", "--reason", "prototype"])
        .ok()
        .stderr_has("WP03: in_progress (tester) (forced)");
    let log = repo.kitty(&["log", "WP03", "--json"]).ok().json();
    assert_eq!(log["events"][0]["forced"], true);
    assert_eq!(log["events"][0]["reason"], "prototype");
}

#[test]
fn fan_out_each_worktree_holds_the_roots_work() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "root"]).ok();
    repo.commit_in(&repo.worktree("001-fan-out-WP01"), "core.txt", "core\n");
    // Three agents stack on WP01 at once.
    let children: Vec<Child> = ["WP02", "WP03", "WP04"]
        .iter()
        .map(|w| {
            repo.spawn_kitty(&[
                "implement",
                w,
                "--base",
                "WP01",
                "--agent",
                &format!("agent-{w}"),
            ])
        })
        .collect();
    for run in finish(children, &repo.root) {
        run.ok();
    }
    for w in ["WP02", "WP03", "WP04"] {
        let wt = repo.worktree(&format!("001-fan-out-{w}"));
        assert_eq!(
            std::fs::read_to_string(wt.join("core.txt")).unwrap(),
            "core\n",
            "{w}"
        );
        assert_eq!(repo.lane("001-fan-out", w), "in_progress");
    }
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let base = &wp(&status, "001-fan-out", "WP02")["state"]["base"];
    assert_eq!(base["kind"], "dependency");
    assert_eq!(base["dependencies"][0]["wp"], "WP01");
}

#[test]
fn a_chain_stacks_with_base_and_restacks_when_the_dependency_moves() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt1 = repo.worktree("001-linear-WP01");
    repo.commit_in(&wt1, "one.txt", "1\n");
    repo.kitty(&["implement", "WP02", "--base", "WP01", "--agent", "b"])
        .ok();
    let wt2 = repo.worktree("001-linear-WP02");
    repo.commit_in(&wt2, "two.txt", "2\n");
    repo.kitty(&["implement", "WP03", "--base", "WP02", "--agent", "c"])
        .ok();
    let wt3 = repo.worktree("001-linear-WP03");
    assert!(wt3.join("one.txt").exists() && wt3.join("two.txt").exists());

    // WP01 moves on: WP02 (and so WP03) go stale.
    repo.commit_in(&wt1, "one-more.txt", "1+\n");
    repo.commit_in(&wt1, "one-again.txt", "1++\n");
    repo.kitty(&["status"])
        .ok()
        .stdout_has("Stale           WP02 stale: WP01 moved 2 commits  (git kitty restack WP02)");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP02")["stale"][0]["moved"], 2);

    let run = repo.kitty(&["restack", "WP02", "--agent", "b"]);
    run.ok()
        .stdout_has("WP02: rebased from ")
        .stdout_has("WP03: rebased from ");
    for wt in [&wt2, &wt3] {
        assert!(
            wt.join("one-again.txt").exists(),
            "{} not restacked",
            wt.display()
        );
    }
    assert!(wt3.join("two.txt").exists());
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(
        wp(&status, "001-linear", "WP02")["stale"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        wp(&status, "001-linear", "WP03")["stale"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    repo.kitty(&["restack", "WP02", "--agent", "b"])
        .ok()
        .stdout_has("WP02: up to date");
}

#[test]
fn restack_refuses_a_dirty_worktree_and_stops_cleanly_on_a_conflict() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt1 = repo.worktree("001-linear-WP01");
    repo.commit_in(&wt1, "shared.txt", "base\n");
    repo.kitty(&["implement", "WP02", "--base", "WP01", "--agent", "b"])
        .ok();
    let wt2 = repo.worktree("001-linear-WP02");
    repo.commit_in(&wt2, "shared.txt", "WP02's version\n");
    repo.commit_in(&wt1, "shared.txt", "WP01's new version\n");

    std::fs::write(wt2.join("scratch.txt"), "wip").unwrap();
    repo.kitty(&["restack", "WP02", "--agent", "b"])
        .code(1)
        .stderr_has("WP02's worktree has uncommitted changes: scratch.txt");
    std::fs::remove_file(wt2.join("scratch.txt")).unwrap();

    let run = repo.kitty(&["restack", "WP02", "--agent", "b"]);
    run.code(4)
        .stderr_has("error: restacking WP02 stopped on a conflict in shared.txt")
        .stderr_has("`git rebase --continue`; then `git kitty restack WP02`");
    assert_eq!(repo.lane("001-linear", "WP02"), "blocked");
    repo.kitty(&["log", "WP02"])
        .ok()
        .stdout_has("stopped on a conflict in shared.txt");
    // The agent resolves it in the worktree, then restack records it and unblocks.
    repo.kitty(&["restack", "WP02", "--agent", "b"])
        .code(1)
        .stderr_has("a rebase is still in progress in WP02's worktree");
    std::fs::write(wt2.join("shared.txt"), "merged\n").unwrap();
    repo.git_in(&wt2, &["add", "shared.txt"]);
    let mut cmd = repo.command_in("git", &wt2);
    cmd.env("GIT_EDITOR", "true").args(["rebase", "--continue"]);
    assert!(cmd.output().unwrap().status.success());
    repo.kitty(&["restack", "WP02", "--agent", "b"])
        .ok()
        .stdout_has("WP02: rebase finished by hand");
    assert_eq!(repo.lane("001-linear", "WP02"), "in_progress");
}

#[test]
fn diamond_base_is_a_merge_of_both_sides() {
    let repo = Repo::with_fixture("diamond");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.commit_in(&repo.worktree("001-diamond-WP01"), "schema.sql", "create\n");
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "a"])
        .ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "rev"])
        .ok();
    repo.kitty(&["implement", "WP02", "--agent", "b"]).ok();
    repo.kitty(&["implement", "WP03", "--agent", "c"]).ok();
    repo.commit_in(&repo.worktree("001-diamond-WP02"), "backend.rs", "b\n");
    repo.commit_in(&repo.worktree("001-diamond-WP03"), "frontend.ts", "f\n");
    let run = repo.kitty(&[
        "implement",
        "WP04",
        "--base",
        "WP02",
        "--base",
        "WP03",
        "--agent",
        "d",
    ]);
    run.ok().stderr_has("from a merge of WP02, WP03");
    let wt4 = repo.worktree("001-diamond-WP04");
    for f in ["schema.sql", "backend.rs", "frontend.ts"] {
        assert!(wt4.join(f).exists(), "WP04's base lacks {f}");
    }
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let base = &wp(&status, "001-diamond", "WP04")["state"]["base"];
    assert_eq!(base["kind"], "merge");
    let parents = repo.git(&[
        "rev-list",
        "--parents",
        "-n1",
        base["commit"].as_str().unwrap(),
    ]);
    assert_eq!(
        parents.split_whitespace().count(),
        3,
        "a merge commit: {parents}"
    );
    // No worktree but WP04's was touched by the merge.
    for w in ["WP01", "WP02", "WP03"] {
        assert_eq!(
            repo.git_in(
                &repo.worktree(&format!("001-diamond-{w}")),
                &["status", "--porcelain"]
            ),
            ""
        );
    }
}

#[test]
fn a_conflicting_multi_dependency_base_stops_and_leaves_nothing() {
    let repo = Repo::with_fixture("diamond");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.kitty(&["implement", "WP02", "--base", "WP01", "--agent", "b"])
        .ok();
    repo.kitty(&["implement", "WP03", "--base", "WP01", "--agent", "c"])
        .ok();
    repo.commit_in(
        &repo.worktree("001-diamond-WP02"),
        "api.txt",
        "v1 by WP02\n",
    );
    repo.commit_in(
        &repo.worktree("001-diamond-WP03"),
        "api.txt",
        "v1 by WP03\n",
    );
    let refs_before = repo.git(&["for-each-ref"]);
    let run = repo.kitty(&[
        "implement",
        "WP04",
        "--base",
        "WP02",
        "--base",
        "WP03",
        "--agent",
        "d",
        "--json",
    ]);
    run.code(4);
    assert!(
        run.stderr
            .contains("WP04 depends on WP02 and WP03, whose work conflicts"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("stops in api.txt"));
    assert!(run.stderr.contains("nothing was claimed or created"));
    let json = run.json();
    assert_eq!(json["error"]["kind"], "conflict");
    assert_eq!(json["error"]["details"]["paths"][0], "api.txt");
    assert_eq!(repo.git(&["for-each-ref"]), refs_before, "a ref changed");
    assert!(!repo.worktree("001-diamond-WP04").exists());
}

#[test]
fn eight_agents_implementing_one_wp_make_one_worktree() {
    let repo = Repo::with_fixture("fan-out");
    let children: Vec<Child> = (1..=8)
        .map(|i| repo.spawn_kitty(&["implement", "WP01", "--agent", &format!("agent-{i}")]))
        .collect();
    let runs = finish(children, &repo.root);
    let winners: Vec<&Run> = runs.iter().filter(|r| r.code == 0).collect();
    assert_eq!(winners.len(), 1, "{runs:#?}");
    let winner = winners[0]
        .stderr
        .lines()
        .next()
        .unwrap()
        .split('(')
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .to_owned();
    for r in runs.iter().filter(|r| r.code != 0) {
        r.code(1)
            .stderr_has(&format!("WP01 is claimed by {winner}"));
    }
    let worktrees = repo.git(&["worktree", "list", "--porcelain"]);
    assert_eq!(worktrees.matches("worktree ").count(), 2, "{worktrees}");
    assert_eq!(
        repo.git(&["branch", "--list", "001-fan-out-*"])
            .lines()
            .count(),
        1
    );
}

#[test]
fn eight_agents_calling_next_get_eight_different_wps() {
    let repo = Repo::new();
    for i in 1..=8 {
        repo.write(
            &format!("kitty-specs/001-eight/tasks/WP{i:02}-w.md"),
            &format!("---\nwork_package_id: WP{i:02}\ntitle: W{i}\n---\n"),
        );
    }
    repo.commit_all("plan");
    let children: Vec<Child> = (1..=8)
        .map(|i| repo.spawn_kitty(&["next", "--agent", &format!("agent-{i}"), "--json"]))
        .collect();
    let runs = finish(children, &repo.root);
    let mut got: Vec<String> = runs
        .iter()
        .map(|r| r.ok().json()["wp"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let expected: Vec<String> = (1..=8).map(|i| format!("WP{i:02}")).collect();
    assert_eq!(got, expected);
    // A ninth agent finds nothing: exit 3, saying why.
    let run = repo.kitty(&["next", "--agent", "late"]);
    run.code(3)
        .stderr_has("error: nothing is ready to start in 001-eight")
        .stderr_has("every work package is started, in review or done");
}

#[test]
fn next_takes_what_unblocks_most_and_explains_when_nothing_is_ready() {
    let repo = Repo::with_fixture("example");
    // 002-search: WP02 is ready and unblocks WP03 and WP04.
    let run = repo.kitty(&["next", "-f", "002-search", "--agent", "n"]);
    run.ok().stderr_has("WP02: in_progress (n)");
    let run = repo.kitty(&["next", "-f", "002-search", "--agent", "n"]);
    run.code(3)
        .stderr_has("error: nothing is ready to start in 002-search")
        .stderr_has("hint: 002-search WP03 waits on WP01 (claimed), WP02 (in_progress)");
    let json = repo
        .kitty(&["next", "-f", "002-search", "--agent", "n", "--json"])
        .code(3)
        .json();
    assert_eq!(json["error"]["kind"], "nothing_ready");
}

#[test]
fn an_interrupted_or_failed_implement_leaves_nothing_half_done() {
    let repo = Repo::with_fixture("fan-out");
    // Killed right after the claim: the claim is there, the worktree is not.
    let run = repo.kitty_env(
        &[("KITTY_TEST_FAIL", Some("implement:after-claim"))],
        &["implement", "WP01", "--agent", "a"],
    );
    assert_ne!(run.code, 0);
    assert!(!repo.worktree("001-fan-out-WP01").exists());
    repo.kitty(&["status"])
        .ok()
        .stdout_has("No worktree     WP01  Core")
        .stdout_has("`git kitty implement WP01 --agent a` makes it");
    // Running it again recovers.
    let run = repo.kitty(&["implement", "WP01", "--agent", "a", "--json"]);
    let json = run.ok().json();
    assert_eq!(
        (json["reused"].as_bool(), json["recreated"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(
        repo.worktree("001-fan-out-WP01")
            .join("kitty-specs")
            .exists()
    );

    // The worktree step fails: the claim is released and the branch removed.
    let run = repo.kitty_env(
        &[("KITTY_TEST_FAIL", Some("implement:worktree"))],
        &[
            "implement",
            "WP02",
            "--force",
            "--reason",
            "prototype",
            "--agent",
            "b",
        ],
    );
    run.code(6)
        .stderr_has("error: could not create WP02's worktree; the claim was released")
        .stderr_has("injected failure at implement:worktree");
    assert_eq!(repo.lane("001-fan-out", "WP02"), "planned");
    assert_eq!(repo.git(&["branch", "--list", "001-fan-out-WP02"]), "");
    repo.kitty(&[
        "implement",
        "WP02",
        "--force",
        "--reason",
        "prototype",
        "--agent",
        "b",
    ])
    .ok();
}

#[test]
fn a_worktree_deleted_by_hand_is_detected_and_made_again() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.commit_in(&wt, "work.txt", "kept on the branch\n");
    std::fs::remove_dir_all(&wt).unwrap();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP01")["worktree_missing"], true);
    repo.kitty(&["implement", "WP01", "--agent", "a"])
        .ok()
        .stderr_has("WP01: worktree made again (a)");
    assert_eq!(
        std::fs::read_to_string(wt.join("work.txt")).unwrap(),
        "kept on the branch\n"
    );
}

#[test]
fn never_overwrites_what_is_not_ours() {
    let repo = Repo::with_fixture("fan-out");
    repo.git(&["branch", "001-fan-out-WP01"]);
    repo.kitty(&["implement", "WP01"])
        .code(1)
        .stderr_has("a branch `001-fan-out-WP01` already exists, and git kitty did not make it")
        .stderr_has("git branch -m 001-fan-out-WP01 001-fan-out-WP01-old");
    repo.git(&["branch", "-D", "001-fan-out-WP01"]);
    std::fs::create_dir_all(repo.worktree("001-fan-out-WP01")).unwrap();
    std::fs::write(repo.worktree("001-fan-out-WP01").join("mine.txt"), "x").unwrap();
    repo.kitty(&["implement", "WP01"])
        .code(1)
        .stderr_has("already exists");
    assert_eq!(repo.git(&["for-each-ref", "refs/kitty"]), "");
    // A target branch that does not exist.
    repo.git(&["config", "kitty.targetBranch", "release"]);
    repo.kitty(&["implement", "WP03", "--force", "--reason", "prototype"])
        .code(2)
        .stderr_has("error: the target branch `release` (from git config kitty.targetBranch) does not exist");
    // Unsafe ids never reach git.
    repo.kitty(&["implement", "--", "--upload-pack=x"])
        .code(2)
        .stderr_has("is not a work package id");
}

#[test]
fn abandon_gives_the_wp_back_without_losing_work_silently() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.commit_in(&wt, "work.txt", "w\n");
    std::fs::write(wt.join("wip.txt"), "unsaved").unwrap();
    repo.kitty(&["abandon", "WP01", "--agent", "b"])
        .code(1)
        .stderr_has("WP01 is held by a, not by b");
    repo.kitty(&["abandon", "WP01", "--agent", "a"])
        .code(1)
        .stderr_has("WP01 has work that would be lost: uncommitted changes (wip.txt) and 1 commit on 001-fan-out-WP01 that no other branch has");
    let tip = repo.git(&["rev-parse", "001-fan-out-WP01"]);
    let run = repo.kitty(&["abandon", "WP01", "--agent", "a", "--force"]);
    run.ok()
        .stdout_has("WP01: back to planned (a)")
        .stdout_has(&format!(
            "restore with `git branch 001-fan-out-WP01 {}`",
            tip.trim()
        ));
    assert!(!wt.exists());
    assert_eq!(repo.git(&["branch", "--list", "001-fan-out-WP01"]), "");
    assert_eq!(repo.lane("001-fan-out", "WP01"), "planned");
    // A clean WP goes back without --force, and can be implemented again by anyone.
    repo.kitty(&["implement", "WP01", "--agent", "c"]).ok();
    repo.kitty(&["abandon", "WP01", "--agent", "c"]).ok();
    repo.kitty(&["implement", "WP01", "--agent", "d"]).ok();
}

#[test]
fn a_wp_sent_back_to_planned_is_taken_over_with_its_branch() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.commit_in(
        &repo.worktree("001-fan-out-WP01"),
        "half.txt",
        "half done\n",
    );
    repo.kitty(&[
        "lane",
        "WP01",
        "planned",
        "--agent",
        "a",
        "--note",
        "handing over",
    ])
    .ok();
    repo.kitty(&["implement", "WP01", "--agent", "b"]).ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP01")["agent"], "b");
    assert!(repo.worktree("001-fan-out-WP01").join("half.txt").exists());
}

#[test]
fn abandon_works_from_inside_the_wps_own_worktree() {
    // `--help` says the WP may be left out there: that is where its agent is.
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.kitty_in(&wt, &["abandon", "--agent", "a"])
        .ok()
        .stdout_has("WP01: back to planned (a)\n")
        .stdout_has("  removed worktree $REPO/.worktrees/001-fan-out-WP01\n");
    assert!(!wt.exists());
    assert_eq!(repo.git(&["branch", "--list", "001-fan-out-WP01"]), "");
    assert_eq!(repo.lane("001-fan-out", "WP01"), "planned");
    assert!(repo.git(&["worktree", "list"]).lines().count() == 1);
}

#[test]
fn check_reports_a_claim_without_its_worktree() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["check"]).ok().stdout_has("no problems");
    // Killed right after the claim: a claim whose branch and worktree were never made.
    let run = repo.kitty_env(
        &[("KITTY_TEST_FAIL", Some("implement:after-claim"))],
        &["implement", "WP01", "--agent", "a"],
    );
    assert_ne!(run.code, 0);
    let expected = "refs/kitty/wp/001-fan-out/WP01: warning[missing-worktree]: WP01 is \
in_progress (a), but its worktree .worktrees/001-fan-out-WP01 and its branch 001-fan-out-WP01 \
are missing: `git kitty implement WP01 --agent a` makes them again, `git kitty abandon WP01 \
--agent a` gives it back\n";
    repo.kitty(&["check"]).ok().stdout_has(expected);
    repo.kitty(&["check", "--strict"]).code(1);
    let json = repo.kitty(&["check", "--json"]).ok().json();
    assert_eq!(json["problems"][0]["code"], "missing-worktree");
    assert_eq!(json["problems"][0]["wp"], "WP01");
    // The branch is there, the worktree deleted by hand: only the worktree is missing.
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    std::fs::remove_dir_all(repo.worktree("001-fan-out-WP01")).unwrap();
    repo.kitty(&["check"])
        .ok()
        .stdout_has("but its worktree .worktrees/001-fan-out-WP01 is missing: `git kitty implement WP01 --agent a` makes it again");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.kitty(&["check"]).ok().stdout_has("no problems");
}
