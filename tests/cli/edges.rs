//! Edge cases found in review: blocked WPs, failing or interrupted git steps, moved
//! worktrees, damaged refs, stuck locks, `git -c` config, uncommitted plans.

use crate::common::{Repo, wp};

#[test]
fn a_blocked_wp_still_belongs_to_its_agent() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "alice"]).ok();
    repo.kitty(&[
        "lane",
        "WP01",
        "blocked",
        "--agent",
        "alice",
        "--note",
        "waiting for keys",
    ])
    .ok();
    repo.kitty(&["implement", "WP01", "--agent", "bob"])
        .code(1)
        .stderr_has("WP01 is claimed by alice");
    repo.kitty(&["lane", "WP01", "in_progress", "--agent", "bob"])
        .code(1)
        .stderr_has("WP01 is claimed by alice");
    // Blocked work goes back through in_progress (and its review check) before review.
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "alice"])
        .code(1)
        .stderr_has("WP01 cannot move from blocked to for_review");
    repo.kitty(&["lane", "WP01", "in_progress", "--agent", "alice"])
        .ok();
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "alice"])
        .code(1)
        .stderr_has("nothing to review yet");
}

#[test]
fn a_failing_worktree_add_leaves_neither_worktree_nor_claim() {
    let repo = Repo::with_fixture("fan-out");
    let hook = repo.path(".git/hooks/post-checkout");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'post-checkout says no' >&2\nexit 1\n",
    )
    .unwrap();

    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    repo.kitty(&["implement", "WP01", "--agent", "a"])
        .code(6)
        .stderr_has("could not create WP01's worktree; the claim was released")
        .stderr_has("post-checkout says no");
    assert_eq!(repo.lane("001-fan-out", "WP01"), "planned");
    assert!(!repo.git(&["worktree", "list"]).contains("WP01"));
    assert_eq!(repo.git(&["branch", "--list", "001-fan-out-WP01"]), "");
    std::fs::remove_file(&hook).unwrap();
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
}

#[test]
fn a_half_made_worktree_is_made_again_not_handed_back() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    // What `git worktree add` leaves when killed during checkout: locked "initializing",
    // files missing.
    let wt = repo.worktree("001-fan-out-WP01");
    std::fs::write(
        repo.path(".git/worktrees/001-fan-out-WP01/locked"),
        "initializing",
    )
    .unwrap();
    std::fs::remove_dir_all(wt.join("kitty-specs")).unwrap();
    let json = repo
        .kitty(&["implement", "WP01", "--agent", "a", "--json"])
        .ok()
        .json();
    assert_eq!(json["recreated"], true);
    assert!(wt.join("kitty-specs").exists());
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
}

#[test]
fn done_work_is_not_reopened_by_implement() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.commit_in(&repo.worktree("001-fan-out-WP01"), "x.txt", "x");
    for (to, who) in [("for_review", "a"), ("approved", "r"), ("done", "r")] {
        repo.kitty(&["lane", "WP01", to, "--agent", who]).ok();
    }
    repo.kitty(&["implement", "WP01", "--agent", "a"])
        .code(1)
        .stderr_has("WP01 is done: implement starts planned work");
}

#[test]
fn review_needs_the_branch() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.kitty(&["abandon", "WP01", "--agent", "a"]).ok();
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.git_in(&wt, &["checkout", "-q", "--detach"]);
    repo.git(&["branch", "-D", "001-fan-out-WP01"]);
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "a"])
        .code(1)
        .stderr_has("WP01's branch 001-fan-out-WP01 is gone: there is nothing to review");
}

#[test]
fn abandon_follows_a_moved_worktree() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let moved = repo.sandbox.path().join("moved");
    repo.git(&[
        "worktree",
        "move",
        repo.worktree("001-fan-out-WP01").to_str().unwrap(),
        moved.to_str().unwrap(),
    ]);
    std::fs::write(moved.join("wip.txt"), "unsaved").unwrap();
    repo.kitty(&["abandon", "WP01", "--agent", "a"])
        .code(1)
        .stderr_has("uncommitted changes (wip.txt)");
    repo.kitty(&["abandon", "WP01", "--agent", "a", "--force"])
        .ok()
        .stdout_has("removed worktree $SANDBOX/moved");
    assert!(!moved.exists());
}

#[test]
fn restack_respects_holders_lanes_and_dirty_dependents() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt1 = repo.worktree("001-linear-WP01");
    repo.commit_in(&wt1, "one.txt", "1");
    repo.kitty(&["implement", "WP02", "--base", "WP01", "--agent", "b"])
        .ok();
    repo.commit_in(&repo.worktree("001-linear-WP02"), "two.txt", "2");
    repo.kitty(&["implement", "WP03", "--base", "WP02", "--agent", "c"])
        .ok();
    repo.commit_in(&wt1, "one-more.txt", "1+");

    repo.kitty(&["restack", "WP02", "--agent", "mallory"])
        .code(1)
        .stderr_is(
            "error: WP02 is claimed by b\n\
             hint: acting for b: `git kitty restack WP02 --agent b`\n\
             hint: otherwise ask b, or `git kitty restack WP02 --force`\n",
        );
    // A dirty dependent stops the run before anything is rebased.
    let wt3 = repo.worktree("001-linear-WP03");
    std::fs::write(wt3.join("scratch"), "x").unwrap();
    let before = repo.git(&["rev-parse", "001-linear-WP02"]);
    repo.kitty(&["restack", "WP02", "--agent", "b"])
        .code(1)
        .stderr_has("WP03's worktree has uncommitted changes: scratch")
        .stderr_has("nothing was rebased");
    assert_eq!(repo.git(&["rev-parse", "001-linear-WP02"]), before);
    std::fs::remove_file(wt3.join("scratch")).unwrap();
    // Work in review is left alone.
    repo.commit_in(&wt3, "three.txt", "3");
    repo.kitty(&["lane", "WP03", "for_review", "--agent", "c"])
        .ok();
    repo.kitty(&["restack", "WP02", "--agent", "b"])
        .ok()
        .stdout_has("WP02: rebased from")
        .stdout_has("WP03: skipped (for_review), not restacked");
    repo.kitty(&["restack", "WP03", "--agent", "c"])
        .code(1)
        .stderr_has("WP03 is for_review: restacking would change work that is in review or done");
    // Never started: nothing to restack.
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["restack", "WP02"])
        .code(2)
        .stderr_has("WP02 has no worktree to restack");
}

#[test]
fn next_skips_a_conflicting_base_and_a_damaged_ref() {
    let repo = Repo::with_fixture("diamond");
    repo.write(
        "kitty-specs/001-diamond/tasks/WP05-solo.md",
        "---\nwork_package_id: WP05\ntitle: Solo\n---\n",
    );
    repo.write(
        "kitty-specs/001-diamond/tasks/WP06-other.md",
        "---\nwork_package_id: WP06\ntitle: Other\n---\n",
    );
    repo.commit_all("more work");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    repo.commit_in(&repo.worktree("001-diamond-WP01"), "base.txt", "b");
    repo.kitty(&[
        "lane", "WP01", "approved", "--agent", "r", "--force", "--reason", "test",
    ])
    .ok();
    for w in ["WP02", "WP03"] {
        repo.kitty(&["implement", w, "--agent", w]).ok();
        repo.commit_in(&repo.worktree(&format!("001-diamond-{w}")), "api.txt", w);
        repo.kitty(&[
            "lane", w, "approved", "--agent", "r", "--force", "--reason", "test",
        ])
        .ok();
    }
    // WP05's state ref is damaged: not ready, and `next` does not trip on it.
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["update-ref", "refs/kitty/wp/001-diamond/WP05", head.trim()]);
    // WP04 (a merge of conflicting WP02 and WP03) unblocks nothing but comes first by id
    // among equals; its conflict must not stop `next` from giving out WP06.
    let run = repo.kitty(&["next", "--agent", "n"]);
    run.ok()
        .stdout_is("$REPO/.worktrees/001-diamond-WP06\n")
        .stderr_has("WP06: in_progress (n)")
        .stderr_has("skipping WP04");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-diamond", "WP05")["ready"], false);
    assert_eq!(wp(&status, "001-diamond", "WP05")["has_errors"], true);
    // The feature's log still shows everyone else's activity.
    let run = repo.kitty(&["log", "-n", "3"]);
    run.ok().stderr_has("001-diamond/WP05 skipped");
}

#[test]
fn a_stuck_lock_is_retried_then_named() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["note", "WP01", "first"]).ok();
    let lock = repo.path(".git/refs/kitty/wp/001-fan-out/WP01.lock");
    std::fs::write(&lock, "").unwrap();
    // While another git kitty writes refs, no lock file is taken as stale.
    let writer = crate::common::live_ref_writer(&repo);
    let run = repo.kitty_env(
        &[("KITTY_RETRY_SECS", Some("1"))],
        &["note", "WP01", "second"],
    );
    run.code(6)
        .stderr_has("gave up writing refs/kitty/wp/001-fan-out/WP01")
        .stderr_has("a crashed one left it: `rm $REPO/.git/refs/kitty/wp/001-fan-out/WP01.lock`");
    // A lock that goes away in time is just a race: the write goes through.
    let child = repo
        .kitty_command(&repo.root, &["note", "WP01", "third"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    std::fs::remove_file(&lock).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(writer);
}

#[test]
fn a_lock_left_by_a_dead_writer_is_removed_once_stale() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["note", "WP01", "first"]).ok();
    // What a git kitty killed inside a ref update leaves; nobody is writing refs now.
    let lock = repo.path(".git/refs/kitty/wp/001-fan-out/WP01.lock");
    std::fs::write(&lock, "").unwrap();
    let started = std::time::Instant::now();
    repo.kitty_env(
        &[("KITTY_RETRY_SECS", Some("5"))],
        &["note", "WP01", "second"],
    )
    .ok();
    // Removed once a second old (a live git holds a ref lock for milliseconds). The age is
    // the file's mtime, which the filesystem keeps at a coarser grain than this clock.
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert!(!lock.exists());
    let log = repo.kitty(&["log", "WP01"]).ok().stdout.clone();
    assert!(log.contains("second") && log.contains("first"), "{log}");
}

#[test]
fn git_dash_c_config_is_honoured() {
    let repo = Repo::with_fixture("fan-out");
    let mut cmd = repo.command_in("git", &repo.root);
    cmd.args([
        "-c",
        "kitty.targetBranch=nope",
        "kitty",
        "implement",
        "WP01",
    ]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "the target branch `nope` (from git config kitty.targetBranch) does not exist"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_uncommitted_plan_is_refused_where_it_matters() {
    let repo = Repo::with_fixture("fan-out");
    repo.write(
        "kitty-specs/001-fan-out/tasks/WP05-new.md",
        "---\nwork_package_id: WP05\ntitle: New\n---\n",
    );
    repo.kitty(&["implement", "WP05"])
        .code(1)
        .stderr_has("the plan of 001-fan-out has uncommitted changes in the main worktree: kitty-specs/001-fan-out/tasks/WP05-new.md")
        .stderr_has("git add kitty-specs/001-fan-out && git commit");
    repo.commit_all("add WP05");
    repo.kitty(&["implement", "WP05"]).ok();
    assert!(
        repo.worktree("001-fan-out-WP05")
            .join("kitty-specs/001-fan-out/tasks/WP05-new.md")
            .exists()
    );
}

#[test]
fn staged_renames_of_any_name_are_reported_not_a_panic() {
    use std::os::unix::ffi::OsStrExt;
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    let odd = std::ffi::OsStr::from_bytes(b"ab\xff.txt");
    for name in ["éé.txt", "ab€.txt", "abcdef.txt"] {
        repo.commit_in(&wt, name, "x");
    }
    std::fs::write(wt.join(odd), "x").unwrap();
    repo.git_in(&wt, &["add", "-A"]);
    repo.git_in(&wt, &["commit", "-q", "-m", "odd name"]);
    for name in ["éé.txt", "ab€.txt", "abcdef.txt"] {
        repo.git_in(&wt, &["mv", name, &format!("renamed-{name}")]);
    }
    let renamed = std::ffi::OsStr::from_bytes(b"renamed-ab\xff.txt");
    std::fs::rename(wt.join(odd), wt.join(renamed)).unwrap();
    repo.git_in(&wt, &["add", "-A"]);

    // Each file under its new name; a name that is not UTF-8 shown with U+FFFD.
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "a"])
        .code(1)
        .stderr_has(
            "error: WP01's worktree has uncommitted changes: renamed-abcdef.txt, \
             renamed-ab€.txt, renamed-ab\u{fffd}.txt, renamed-éé.txt\n",
        );
    repo.kitty(&["abandon", "WP01", "--agent", "a"])
        .code(1)
        .stderr_has("renamed-abcdef.txt");
    repo.kitty(&["restack", "WP01", "--agent", "a"])
        .code(1)
        .stderr_has("renamed-abcdef.txt");
    repo.kitty(&["abandon", "WP01", "--agent", "a", "--force"])
        .ok();
    assert!(!wt.exists());
}

/// WP03's state, forged to claim it with WP02's branch and worktree (as a pushed or pulled
/// forgery would arrive), on top of a real first event; its lane `lane`.
fn forge_wp03_naming_wp02(repo: &Repo, lane: &str) {
    repo.kitty(&["note", "WP03", "hello"]).ok();
    let note = repo.git(&["rev-parse", "refs/kitty/wp/001-linear/WP03"]);
    let forged = repo.forge_state(note.trim(), Some(&[]), |event, state| {
        event["kind"] = "implement".into();
        event["from"] = "planned".into();
        event["to"] = lane.into();
        event["actor"] = "mallory".into();
        event["branch"] = "001-linear-WP02".into();
        event["worktree"] = ".worktrees/001-linear-WP02".into();
        state["lane"] = lane.into();
        state["agent"] = "mallory".into();
        state["branch"] = "001-linear-WP02".into();
        state["worktree"] = ".worktrees/001-linear-WP02".into();
    });
    repo.git(&["update-ref", "refs/kitty/wp/001-linear/WP03", &forged]);
}

#[test]
fn a_state_naming_another_wps_branch_and_worktree_is_never_acted_on() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&[
        "implement",
        "WP02",
        "--force",
        "--reason",
        "test",
        "--agent",
        "b",
    ])
    .ok();
    let wt2 = repo.worktree("001-linear-WP02");
    std::fs::write(wt2.join("unsaved.txt"), "precious").unwrap();
    forge_wp03_naming_wp02(&repo, "in_progress");
    let refusal = "error: refusing to act on WP03: its state names branch 001-linear-WP02 and worktree .worktrees/001-linear-WP02, not its own (001-linear-WP03, .worktrees/001-linear-WP03)\nhint: inspect it with `git kitty log WP03`; `git kitty repair WP03 -f 001-linear` replaces a damaged state\n";
    repo.kitty(&["abandon", "WP03", "--force", "--agent", "mallory"])
        .code(1)
        .stderr_is(refusal);
    repo.kitty(&["restack", "WP03", "--force", "--agent", "mallory"])
        .code(1)
        .stderr_is(refusal);
    assert_eq!(
        std::fs::read_to_string(wt2.join("unsaved.txt")).unwrap(),
        "precious"
    );
    assert_eq!(
        repo.git(&["branch", "--list", "--format=%(refname)", "001-linear-WP02"])
            .trim(),
        "refs/heads/001-linear-WP02"
    );
    // merge leaves it out, and says why.
    let repo = Repo::with_fixture("linear");
    forge_wp03_naming_wp02(&repo, "approved");
    repo.kitty(&["merge", "WP03", "--dry-run"])
        .ok()
        .stdout_has("WP03  skipped: its state names branch 001-linear-WP02 and worktree .worktrees/001-linear-WP02, not its own: `git kitty repair WP03 -f 001-linear`");
}

#[test]
fn abandon_keeps_a_branch_another_writer_moved() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.commit_in(&wt, "work.txt", "w\n");
    let first = repo
        .git(&["rev-parse", "001-fan-out-WP01"])
        .trim()
        .to_owned();
    repo.commit_in(&wt, "more.txt", "m\n");
    let second = repo
        .git(&["rev-parse", "001-fan-out-WP01"])
        .trim()
        .to_owned();
    repo.git_in(&wt, &["reset", "-q", "--hard", &first]);
    // Another writer moves the branch while abandon looks at the worktree: git runs the
    // fsmonitor command during abandon's `git status`.
    let script = repo.sandbox.path().join("move-branch.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git -C '{}' update-ref refs/heads/001-fan-out-WP01 {second}\nexit 1\n",
            repo.root.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    repo.git_in(&wt, &["config", "core.fsmonitor", script.to_str().unwrap()]);
    let run = repo.kitty(&["abandon", "WP01", "--agent", "a", "--force", "--json"]);
    let json = run.ok().json();
    assert_eq!(json["deleted_branch"], serde_json::Value::Null, "{json:#}");
    assert_eq!(json["kept_branch"]["name"], "001-fan-out-WP01");
    assert_eq!(json["kept_branch"]["commit"], second.as_str());
    assert_eq!(
        repo.git(&["rev-parse", "001-fan-out-WP01"]).trim(),
        second,
        "the moved branch was deleted"
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP01")["lane"], "planned");
}

#[test]
fn merge_never_removes_the_main_worktree() {
    let repo = Repo::with_fixture("linear");
    repo.git(&["config", "kitty.targetBranch", "main"]);
    repo.kitty(&["implement", "WP01"]).ok();
    repo.commit_in(&repo.worktree("001-linear-WP01"), "one.txt", "1\n");
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    // WP01's branch is checked out in the main worktree; main in another one.
    repo.git(&["worktree", "remove", ".worktrees/001-linear-WP01"]);
    repo.git(&["checkout", "-q", "001-linear-WP01"]);
    let elsewhere = repo.sandbox.path().join("elsewhere");
    repo.git(&["worktree", "add", "-q", elsewhere.to_str().unwrap(), "main"]);
    repo.kitty_in(&elsewhere, &["merge"])
        .ok()
        .stdout_has("WP01: merged into main")
        .stdout_has("001-linear-WP01 is checked out in the main worktree $REPO: left as it is");
    assert!(repo.path("one.txt").exists());
    assert_eq!(
        repo.git(&["branch", "--show-current"]).trim(),
        "001-linear-WP01"
    );
}
