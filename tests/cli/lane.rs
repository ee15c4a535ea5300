//! `git kitty lane`, `note` and `log`: lanes in refs, the rules, the guards, bad input.

use crate::common::{Repo, feature, wp};

#[test]
fn a_wp_walks_the_whole_workflow_without_touching_any_branch() {
    let repo = Repo::with_fixture("fan-out");
    let head = repo.git(&["rev-parse", "HEAD"]);
    let steps = [
        ("claimed", "alice", "WP01: planned -> claimed (alice)"),
        (
            "in_progress",
            "alice",
            "WP01: claimed -> in_progress (alice)",
        ),
        (
            "for_review",
            "alice",
            "WP01: in_progress -> for_review (alice)",
        ),
        ("in_review", "rev", "WP01: for_review -> in_review (rev)"),
        ("approved", "rev", "WP01: in_review -> approved (rev)"),
        ("done", "rev", "WP01: approved -> done (rev)"),
    ];
    for (to, agent, said) in steps {
        let run = repo.kitty(&["lane", "WP01", to, "--agent", agent]);
        run.ok();
        assert_eq!(run.stdout, format!("{said}\n"));
        assert_eq!(repo.lane("001-fan-out", "WP01"), to);
    }
    // Nothing committed, nothing dirty: the state is only in refs.
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        repo.git(&["for-each-ref", "--format=%(refname)", "refs/heads"]),
        "refs/heads/main\n"
    );
    // The audit log is plain git.
    let log = repo.git(&["log", "--format=%an|%s", "refs/kitty/wp/001-fan-out/WP01"]);
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "rev|WP01: approved -> done (rev)",
            "rev|WP01: in_review -> approved (rev)",
            "rev|WP01: for_review -> in_review (rev)",
            "alice|WP01: in_progress -> for_review (alice)",
            "alice|WP01: claimed -> in_progress (alice)",
            "alice|WP01: planned -> claimed (alice)",
        ]
    );
    repo.git(&["fsck", "--no-progress", "--strict"]);
    // Dependents became ready.
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let ready = crate::common::strings(&feature(&status, "001-fan-out")["ready"]);
    assert_eq!(ready, ["WP02", "WP03", "WP04"]);
    let w1 = wp(&status, "001-fan-out", "WP01");
    assert_eq!(w1["lane_source"], "state");
    assert_eq!(w1["agent"], "alice");
    assert_eq!(w1["reviewer"], "rev");
    assert_eq!(w1["state"]["review_status"], "approved");
    assert_eq!(w1["state"]["events"], 6);
}

#[test]
fn moves_outside_the_table_need_force_and_a_reason() {
    let repo = Repo::with_fixture("fan-out");
    let run = repo.kitty(&["lane", "WP01", "done"]);
    run.code(1)
        .stderr_has("error: WP01 cannot move from planned to done")
        .stderr_has("hint: from planned a WP can move to: claimed, in_progress, blocked, canceled")
        .stderr_has("--force --reason");
    repo.kitty(&["lane", "WP01", "done", "--force"])
        .code(2)
        .stderr_has("--reason");
    repo.kitty(&[
        "lane",
        "WP01",
        "done",
        "--force",
        "--reason",
        "done upstream",
    ])
    .ok()
    .stdout_has("WP01: planned -> done (tester) (forced)");
    // Terminal: leaving done also needs force.
    repo.kitty(&["lane", "WP01", "in_progress"])
        .code(1)
        .stderr_has("WP01 is done: a done work package leaves its lane only with --force");
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    let e = &log["events"][0];
    assert_eq!(e["forced"], true);
    assert_eq!(e["reason"], "done upstream");
    repo.kitty(&["log", "WP01"])
        .ok()
        .stdout_has("planned -> done  (forced: done upstream)");
    let subject = repo.git(&["log", "-1", "--format=%B", "refs/kitty/wp/001-fan-out/WP01"]);
    assert!(subject.contains("Kitty-Forced: done upstream"), "{subject}");
}

#[test]
fn a_claimed_wp_belongs_to_its_agent() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["lane", "WP01", "claimed", "--agent", "alice"])
        .ok();
    let run = repo.kitty(&["lane", "WP01", "in_progress", "--agent", "bob"]);
    run.code(1)
        .stderr_has("error: WP01 is claimed by alice")
        .stderr_has("hint: ask alice, or take it over with `git kitty lane WP01 <lane> --force --reason \"...\"`");
    let json = repo
        .kitty(&["lane", "WP01", "claimed", "--agent", "bob", "--json"])
        .code(1)
        .json();
    assert_eq!(json["error"]["kind"], "refused");
    assert_eq!(json["error"]["details"]["holder"], "alice");
    // The holder asking again is a no-op.
    repo.kitty(&["lane", "WP01", "claimed", "--agent", "alice"])
        .ok()
        .stdout_has("WP01 is already claimed (alice): nothing to do");
    // A forced take-over changes the holder.
    repo.kitty(&[
        "lane",
        "WP01",
        "in_progress",
        "--agent",
        "bob",
        "--force",
        "--reason",
        "alice is gone",
    ])
    .ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP01")["agent"], "bob");
}

#[test]
fn the_agent_comes_from_flag_env_or_git_config() {
    let repo = Repo::with_fixture("fan-out");
    let run = repo.kitty_env(&[("KITTY_AGENT", None)], &["lane", "WP01", "claimed"]);
    run.code(2).stderr_has("error: who is acting?").stderr_has(
        "hint: pass `--agent <name>`, set KITTY_AGENT, or `git config user.name <name>`",
    );
    repo.git(&["config", "user.name", "Config Name"]);
    repo.kitty_env(&[("KITTY_AGENT", None)], &["lane", "WP01", "claimed"])
        .ok()
        .stdout_has("(Config Name)");
    repo.kitty_env(
        &[("KITTY_AGENT", Some("from-env"))],
        &["note", "WP01", "hi"],
    )
    .ok()
    .stdout_has("(from-env)");
    repo.kitty(&["note", "WP01", "hi", "--agent", "bad<name>"])
        .code(2)
        .stderr_has("is not usable as an agent name");
}

#[test]
fn review_feedback_needs_a_note_and_approval_records_the_reviewer() {
    let repo = Repo::with_fixture("fan-out");
    for (to, who) in [
        ("in_progress", "alice"),
        ("for_review", "alice"),
        ("in_review", "rev"),
    ] {
        repo.kitty(&["lane", "WP01", to, "--agent", who]).ok();
    }
    repo.kitty(&["lane", "WP01", "in_progress", "--agent", "rev"])
        .code(1)
        .stderr_has("sends the review back: say why with --note")
        .stderr_has("hint: git kitty lane WP01 in_progress --note \"what needs to change\"");
    repo.kitty(&[
        "lane",
        "WP01",
        "doing",
        "--agent",
        "rev",
        "--note",
        "the retry path has no test",
    ])
    .ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let w = wp(&status, "001-fan-out", "WP01");
    assert_eq!(w["lane"], "in_progress");
    assert_eq!(w["agent"], "alice", "the work goes back to its implementer");
    assert_eq!(w["state"]["review_status"], "has_feedback");
    // The implementer carries on; someone else reviews and approves.
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "alice"])
        .ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "rev2"])
        .ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let w = wp(&status, "001-fan-out", "WP01");
    assert_eq!(w["reviewer"], "rev2");
    assert_eq!(w["state"]["review_status"], "approved");
    repo.kitty(&["log", "WP01"])
        .ok()
        .stdout_has("rev    in_review -> in_progress\n    the retry path has no test\n");
}

#[test]
fn review_feedback_travels_with_the_wp() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "alice"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    repo.commit_in(&wt, "cart.rs", "work");
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "alice"])
        .ok();
    // Pulling back from for_review is sending the review back too: it needs the why.
    repo.kitty(&["lane", "WP01", "in_progress", "--agent", "alice"])
        .code(1)
        .stderr_has("error: moving WP01 from for_review back to in_progress sends the review back: say why with --note\n");
    repo.kitty(&["lane", "WP01", "in_review", "--agent", "rev"])
        .ok();
    repo.kitty(&[
        "lane",
        "WP01",
        "in_progress",
        "--agent",
        "rev",
        "--note",
        "the retry path has no test\nand the docs are stale",
    ])
    .ok();
    // The board, its JSON and the implementer's next `implement` all carry it.
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let w = wp(&status, "001-fan-out", "WP01");
    assert_eq!(
        w["feedback"],
        "the retry path has no test\nand the docs are stale"
    );
    assert_eq!(w["state"]["review_status"], "has_feedback");
    repo.kitty(&["status"]).ok().stdout_has(
        "  Feedback        WP01  Core                          the retry path has no test …\n",
    );
    repo.kitty(&["implement", "WP01", "--agent", "alice"])
        .ok()
        .stderr_has("WP01: already yours (alice)\n")
        .stderr_has("  feedback  the retry path has no test\n            and the docs are stale\n");
    // Approval clears it; leaving approved withdraws the approval.
    repo.kitty(&["lane", "WP01", "for_review", "--agent", "alice"])
        .ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "rev"])
        .ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let w = wp(&status, "001-fan-out", "WP01");
    assert!(w.get("feedback").is_none(), "{w}");
    assert_eq!(w["state"]["review_status"], "approved");
    repo.kitty(&[
        "lane",
        "WP01",
        "in_progress",
        "--agent",
        "rev",
        "--note",
        "one more thing",
    ])
    .ok();
    let status = repo.kitty(&["status", "--json"]).ok().json();
    let w = wp(&status, "001-fan-out", "WP01");
    assert_eq!(w["state"]["review_status"], "has_feedback");
    assert_eq!(w["feedback"], "one more thing");
}

#[test]
fn a_blocked_wp_shows_why() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["lane", "WP01", "in_progress", "--agent", "alice"])
        .ok();
    repo.kitty(&[
        "lane",
        "WP01",
        "blocked",
        "--agent",
        "alice",
        "--note",
        "waiting for API keys",
    ])
    .ok();
    repo.kitty(&["status"]).ok().stdout_has(
        "  Blocked         WP01  Core                          alice  waiting for API keys\n",
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(
        wp(&status, "001-fan-out", "WP01")["blocked_reason"],
        "waiting for API keys"
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_written() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "WP99", "claimed"])
        .code(2)
        .stderr_has("error: no work package WP99 in any feature");
    repo.kitty(&["lane", "WP02", "finished", "-f", "002-search"])
        .code(2)
        .stderr_has("`finished` is not a lane");
    repo.kitty(&["lane", "../../x", "claimed"])
        .code(2)
        .stderr_has("is not a work package id");
    repo.kitty(&["lane", "--", "-WP01", "claimed"])
        .code(2)
        .stderr_has("is not a work package id");
    repo.kitty(&["lane", "WP01", "claimed"])
        .code(2)
        .stderr_has("error: WP01 exists in several features: 001-checkout, 002-search")
        .stderr_has("hint: `--feature 001-checkout` for WP01 Cart model\n");
    repo.kitty(&["lane", "WP01", "claimed", "-f", "nope"])
        .code(2)
        .stderr_has("no feature `nope`");
    repo.kitty(&["lane", "claimed"])
        .code(2)
        .stderr_has("which work package?");
    assert_eq!(repo.git(&["for-each-ref", "refs/kitty"]), "");
    // Ids are matched by number: WP1 is the plan's WP01.
    repo.kitty(&[
        "lane",
        "wp1",
        "approved",
        "-f",
        "002-search",
        "--force",
        "--reason",
        "x",
    ])
    .ok()
    .stdout_has("WP01: claimed -> approved");
    assert_eq!(
        repo.git(&["for-each-ref", "--format=%(refname)", "refs/kitty"]),
        "refs/kitty/wp/002-search/WP01\n"
    );
}

#[test]
fn inside_a_worktree_the_wp_can_be_left_out() {
    let repo = Repo::with_fixture("fan-out");
    let wt = repo.sandbox.path().join("wt");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "001-fan-out-WP02",
        wt.to_str().unwrap(),
    ]);
    repo.kitty_in(&wt, &["lane", "claimed"])
        .ok()
        .stdout_has("WP02: planned -> claimed (tester)");
    repo.kitty_in(&wt, &["note", "looking at the API first"])
        .ok();
    // Shared instantly: the main worktree sees it, nothing is dirty anywhere.
    assert_eq!(repo.lane("001-fan-out", "WP02"), "claimed");
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(repo.git_in(&wt, &["status", "--porcelain"]), "");
    // And the other way round.
    repo.kitty(&["lane", "WP02", "in_progress"]).ok();
    let status = repo.kitty_in(&wt, &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-fan-out", "WP02")["lane"], "in_progress");
}

#[test]
fn notes_do_not_move_and_log_merges_a_feature() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["note", "WP01", "first thought"])
        .ok()
        .stdout_has("WP01: note added (tester)");
    repo.kitty(&[
        "lane",
        "WP02",
        "blocked",
        "--note",
        "waiting for WP01's API",
    ])
    .ok();
    repo.kitty(&["note", "WP01", "second thought", "--agent", "alice"])
        .ok();
    assert_eq!(repo.lane("001-fan-out", "WP01"), "planned");
    let run = repo.kitty(&["log"]);
    run.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", run.stdout);
    assert!(lines[0].ends_with("WP01  alice   note"), "{}", lines[0]);
    assert_eq!(lines[1], "    second thought");
    assert!(
        lines[2].ends_with("WP02  tester  planned -> blocked"),
        "{}",
        lines[2]
    );
    assert!(lines[4].ends_with("WP01  tester  note"), "{}", lines[4]);
    let json = repo.kitty(&["log", "--json", "-n", "2"]).ok().json();
    let events = json["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    for key in [
        "feature", "wp", "commit", "kind", "actor", "at", "lamport", "id",
    ] {
        assert!(events[0].get(key).is_some(), "log entry lacks {key}");
    }
    assert_eq!(events[0]["note"], "second thought");
    assert_eq!(events[1]["to"], "blocked");
    repo.kitty(&["log", "WP03"])
        .ok()
        .stdout_has("No history yet for this work package");
    repo.kitty(&["note", "WP01", "   "])
        .code(2)
        .stderr_has("the note is empty");
}

#[test]
fn check_reports_frontmatter_lanes_that_drifted_from_the_state() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&[
        "lane",
        "WP03",
        "for_review",
        "-f",
        "001-checkout",
        "--agent",
        "claude",
    ])
    .ok();
    let file = "kitty-specs/001-checkout/tasks/WP03-payment-client.md";
    // Left behind by the state, as every Spec Kitty file is once work starts: information,
    // and not a --strict failure.
    repo.kitty(&["check"]).ok().stdout_has(&format!(
        "{file}:5: info[lane-drift]: the frontmatter still says `lane: in_progress`; WP03 is for_review in refs/kitty/wp/001-checkout/WP03 (the state wins; `git kitty check --fix` writes it back)\n"
    ));
    repo.kitty(&["check", "--strict"]).ok();
    // The board follows the state, not the stale frontmatter.
    assert_eq!(repo.lane("001-checkout", "WP03"), "for_review");

    // Edited by hand, expecting it to move the WP: a warning that says what works.
    let path = repo.path(file);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("lane: doing", "lane: done")).unwrap();
    repo.commit_all("hand edit");
    repo.kitty(&["check"]).ok().stdout_has(&format!(
        "{file}:5: warning[lane-edited]: the frontmatter was changed to `lane: done`, which moves nothing: WP03 is for_review in refs/kitty/wp/001-checkout/WP03; `git kitty lane WP03 --feature 001-checkout done` moves it\n"
    ));
    repo.kitty(&["check", "--strict"]).code(1);
    assert_eq!(repo.lane("001-checkout", "WP03"), "for_review");

    // --fix writes the state's lanes back: one commit, only the lane values changed.
    let before = repo.git(&["rev-parse", "HEAD"]);
    repo.kitty(&["check", "--fix", "--strict"])
        .ok()
        .stderr_has(&format!("fixed {file}: lane done -> for_review\n"));
    let diff = repo.git(&["diff", "--unified=0", before.trim(), "HEAD"]);
    let changed: Vec<&str> = diff
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert!(
        changed
            .iter()
            .all(|l| l.ends_with("lane: done") || l.ends_with("lane: for_review")),
        "{diff}"
    );
    assert!(!changed.is_empty());
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    repo.kitty(&["check", "--strict"])
        .ok()
        .stdout_has("no problems");
}

#[test]
fn the_first_event_starts_from_the_lane_the_plan_gives() {
    // Spec Kitty's event log says WP02 is in_progress (by codex): moving on starts there.
    let repo = Repo::with_fixture("messy");
    repo.kitty(&[
        "lane",
        "WP02",
        "for_review",
        "-f",
        "020-events",
        "--agent",
        "codex",
    ])
    .ok()
    .stdout_has("WP02: in_progress -> for_review (codex)");
    // And the frontmatter `lane: doing` of a legacy file, held by its frontmatter agent.
    repo.kitty(&["lane", "WP02", "for_review", "-f", "010-legacy"])
        .code(1)
        .stderr_has("WP02 is claimed by codex");
}

#[test]
fn lane_help_prints_the_transition_table() {
    let repo = Repo::new();
    let run = repo.kitty(&["lane", "--help"]);
    run.ok()
        .stdout_has("Usage: git kitty lane [OPTIONS] [WP] <LANE>")
        .stdout_has("  planned      -> claimed, in_progress, blocked, canceled")
        .stdout_has("  done         -> (terminal: only with --force)");
    let man = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("man/man1/git-kitty-lane.1"),
    )
    .unwrap();
    assert!(man.contains(
        "in_review    \\-> approved, in_progress, planned, for_review, blocked, canceled"
    ));
}

#[test]
fn inside_its_worktree_the_agent_is_the_wps_without_any_setup() {
    // Agents commit with the machine's git identity and no KITTY_AGENT.
    let repo = Repo::with_fixture("fan-out");
    repo.git(&["config", "user.name", "Machine User"]);
    repo.kitty(&["hooks", "install"]).ok();
    repo.kitty(&["implement", "WP01", "--agent", "claude"]).ok();
    let wt = repo.worktree("001-fan-out-WP01");
    let as_machine = |dir: &std::path::Path, program: &str, args: &[&str]| {
        let out = repo
            .command_in(program, dir)
            .env_remove("KITTY_AGENT")
            .args(args)
            .output()
            .unwrap();
        crate::common::Run::new(out, &repo.root)
    };
    std::fs::write(wt.join("core.rs"), "fn core() {}\n").unwrap();
    as_machine(&wt, "git", &["add", "core.rs"]).ok();
    as_machine(&wt, "git", &["commit", "-q", "-m", "core"]).ok();
    as_machine(&wt, "git-kitty", &["lane", "for_review"])
        .ok()
        .stdout_is("WP01: in_progress -> for_review (claude)\n");
    as_machine(&wt, "git-kitty", &["note", "ready for a look"]).ok();
    repo.kitty(&["log", "WP01"]).ok().stdout_has("claude  note");
    // Outside the worktree the machine's identity acts, and is told how to act as claude.
    as_machine(&repo.root, "git-kitty", &["lane", "WP01", "in_review"])
        .ok()
        .stdout_is("WP01: for_review -> in_review (Machine User)\n");
    as_machine(
        &repo.root,
        "git-kitty",
        &["lane", "WP01", "approved", "--agent", "claude"],
    )
    .code(1)
    .stderr_has(
        "hint: if you are Machine User: `git kitty lane WP01 approved --agent 'Machine User'`\n",
    );
}
