//! Error paths, checked exactly: the message, its causes and hints, the exit code, and the
//! JSON error document. A wording change shows up here on purpose.

use crate::common::{Repo, hinted_commands, shell_words};

#[test]
fn a_work_package_that_no_feature_has() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "WP99", "doing", "--agent", "claude"])
        .code(2)
        .stdout_is("")
        .stderr_is(
            "error: no work package WP99 in any feature\n\
             hint: `git kitty status` lists the work packages\n",
        );
}

#[test]
fn a_work_package_id_that_is_not_one() {
    let repo = Repo::with_fixture("example");
    for args in [
        &["lane", "WPX", "doing", "--agent", "claude"][..],
        &["implement", "WPX", "--agent", "claude"][..],
        &["log", "WPX"][..],
        &["restack", "WPX"][..],
        &["abandon", "WPX"][..],
    ] {
        repo.kitty(args).code(2).stderr_is(
            "error: `WPX` is not a work package id (expected `WP` and digits, like `WP01`)\n\
             hint: work package ids look like WP01\n",
        );
    }
}

#[test]
fn a_work_package_id_in_several_features() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["log", "WP01"]).code(2).stderr_is(
        "error: WP01 exists in several features: 001-checkout, 002-search\n\
         hint: `--feature 001-checkout` for WP01 Cart model\n\
         hint: `--feature 002-search` for WP01 Index schema\n",
    );
    let err = repo
        .kitty(&["lane", "WP01", "doing", "--json"])
        .code(2)
        .json();
    assert_eq!(
        err,
        serde_json::json!({"error": {
            "kind": "usage",
            "exit_code": 2,
            "message": "WP01 exists in several features: 001-checkout, 002-search",
            "causes": [],
            "hints": [
                "`--feature 001-checkout` for WP01 Cart model",
                "`--feature 002-search` for WP01 Index schema"
            ],
            "details": null,
        }})
    );
}

#[test]
fn a_feature_that_does_not_exist() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["implement", "WP01", "-f", "nope", "--agent", "claude"])
        .code(2)
        .stderr_is(
            "error: no feature `nope` in kitty-specs/\n\
             hint: features: 001-checkout, 002-search\n",
        );
}

#[test]
fn a_lane_without_its_work_package_outside_a_worktree() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "doing", "--agent", "claude"])
        .code(2)
        .stderr_is(
            "error: which work package? Name it before the LANE, or run this inside its worktree\n\
             hint: git kitty lane WP01 --feature 001-checkout doing\n",
        );
    repo.kitty(&["restack"]).code(2).stderr_is(
        "error: which work package? Name it, or run this inside its worktree\n\
         hint: git kitty restack WP02\n",
    );
}

#[test]
fn outside_a_repository() {
    let repo = Repo::with_fixture("example");
    let outside = repo.sandbox.path().join("not-a-repo");
    std::fs::create_dir_all(&outside).unwrap();
    let run = repo.kitty_in(&outside, &["status"]);
    run.code(2);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: not in a git repository: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.ends_with(
            "hint: run git kitty inside a clone, or point at one with `git kitty -C <path> status`\n"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_typo_points_at_dash_h_not_at_the_man_page() {
    // `git kitty --help` becomes `man git-kitty` through git; `-h` always reaches git kitty.
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "--agnt", "x"]).code(2).stderr_is(
        "error: unexpected argument '--agnt' found\n\n  \
         tip: a similar argument exists: '--agent'\n\n\
         Usage: git kitty lane [OPTIONS] [WP] <LANE>\n\n\
         For more information, try 'git kitty lane -h'.\n",
    );
    repo.kitty(&["statsu"])
        .code(2)
        .stderr_has("For more information, try 'git kitty -h'.\n");
    repo.kitty(&["lane", "-h"])
        .ok()
        .stdout_has("Usage: git kitty lane [OPTIONS] [WP] <LANE>");
}

#[test]
fn next_without_a_plan_says_so() {
    let repo = Repo::new();
    repo.kitty(&["next", "--agent", "a"]).code(3).stderr_is(
        "error: nothing is ready to start in any feature\n\
         caused by: the plan has no work packages\n\
         hint: plan them as kitty-specs/<feature>/tasks/WP01-<name>.md (YAML frontmatter: work_package_id, title, dependencies), then `git kitty check`\n",
    );
}

#[test]
fn a_forced_start_needs_a_reason_like_a_forced_move() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP02", "--force", "--agent", "a"])
        .code(2)
        .stderr_has(
            "error: the following required arguments were not provided:\n  --reason <TEXT>\n",
        );
}

#[test]
fn a_missing_lane_or_note_says_which_part_is_missing() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "WP01", "-f", "001-checkout", "--agent", "a"])
        .code(2)
        .stderr_is(
            "error: the lane to move WP01 to is missing\n\
             hint: git kitty lane WP01 --feature 001-checkout <lane>\n\
             hint: WP01 is done: it leaves it only with --force --reason\n",
        );
    repo.kitty(&["lane", "WP05", "--agent", "a"])
        .code(2)
        .stderr_is(
            "error: the lane to move WP05 to is missing\n\
         hint: git kitty lane WP05 <lane>\n\
         hint: from planned, WP05 can move to: claimed, in_progress, blocked, canceled\n",
        );
    repo.kitty(&["note", "WP05", "--agent", "a"])
        .code(2)
        .stderr_is(
            "error: the text for WP05 is missing\n\
         hint: git kitty note WP05 \"<text>\"\n",
        );
}

#[test]
fn a_refusal_for_another_holder_names_the_command_that_works() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&["lane", "WP05", "claimed", "--agent", "Jane Doe"])
        .ok();
    repo.kitty(&["lane", "WP05", "in_progress", "--agent", "bob"])
        .code(1)
        .stderr_is(
            "error: WP05 is claimed by Jane Doe\n\
             hint: if you are Jane Doe: `git kitty lane WP05 in_progress --agent 'Jane Doe'`\n\
             hint: ask Jane Doe, or take it over with `git kitty lane WP05 <lane> --force --reason \"...\"`\n",
        );
    repo.kitty(&["lane", "WP05", "in_progress", "--agent", "Jane Doe"])
        .ok();
}

#[test]
fn a_missing_required_flag_points_at_the_commands_help() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP02", "--force", "--agent", "a"])
        .code(2)
        .stderr_has("For more information, try 'git kitty implement -h'.\n");
}

/// Every run of every test checks its hints (tests/cli/common): the check itself must catch a
/// hint that names a flag that does not exist or leaves out a required one.
#[test]
fn the_hint_check_catches_commands_that_do_not_parse() {
    use crate::common::{assert_hint_parses, hinted_commands, shell_words};
    let stderr = "error: x\nhint: git kitty lane WP01 done\nhint: ask, or `git kitty lane WP01 done --force --reason \"it's fine\"` then `git kitty status`\n";
    assert_eq!(
        hinted_commands(stderr),
        [
            "git kitty lane WP01 done",
            "git kitty lane WP01 done --force --reason \"it's fine\"",
            "git kitty status"
        ]
    );
    assert_eq!(
        shell_words("git kitty note WP01 'a b' \"c \\\"d\\\"\" e\\ f"),
        ["git", "kitty", "note", "WP01", "a b", "c \"d\"", "e f"]
    );
    for good in hinted_commands(stderr) {
        assert_hint_parses(&good, stderr);
    }
    for bad in [
        "git kitty lane WP01 done --force",
        "git kitty lane WP01 --frobnicate",
        "git kitty statsu",
    ] {
        let caught = std::panic::catch_unwind(|| assert_hint_parses(bad, ""));
        assert!(caught.is_err(), "{bad} passed the check");
    }
}

#[test]
fn refusals_for_a_wp_id_two_features_share_name_its_feature() {
    let repo = Repo::with_fixture("example");
    repo.kitty(&[
        "lane",
        "WP01",
        "for_review",
        "-f",
        "002-search",
        "--agent",
        "gemini",
        "--force",
        "--reason",
        "setup",
    ])
    .ok();
    repo.kitty(&["lane", "WP01", "in_progress", "-f", "002-search", "--agent", "gemini"])
        .code(1)
        .stderr_has("hint: git kitty lane WP01 --feature 002-search in_progress --note \"what needs to change\"\n");
    repo.kitty(&[
        "lane",
        "WP01",
        "in_review",
        "-f",
        "002-search",
        "--agent",
        "rev",
    ])
    .ok();
    repo.kitty(&[
        "lane",
        "WP01",
        "approved",
        "-f",
        "002-search",
        "--agent",
        "bob",
    ])
    .code(1)
    .stderr_has(
        "hint: if you are rev: `git kitty lane WP01 --feature 002-search approved --agent rev`\n",
    )
    .stderr_has(
        "take it over with `git kitty lane WP01 --feature 002-search <lane> --force --reason",
    );
}

#[test]
fn restack_hints_for_a_wp_id_two_features_share_name_its_feature() {
    let repo = Repo::with_fixture("example");
    let f = ["-f", "002-search"];
    repo.kitty(&[&["implement", "WP01", "--agent", "gemini"][..], &f].concat())
        .ok();
    repo.kitty(&[&["implement", "WP02", "--agent", "a"][..], &f].concat())
        .ok();
    repo.kitty(
        &[
            &[
                "implement",
                "WP03",
                "--agent",
                "b",
                "--base",
                "WP01",
                "--base",
                "WP02",
            ][..],
            &f,
        ]
        .concat(),
    )
    .ok();
    repo.commit_in(&repo.worktree("002-search-WP01"), "c", "a");
    repo.kitty(&[&["restack", "WP03", "--agent", "mallory"][..], &f].concat())
        .code(1)
        .stderr_is(
            "error: WP03 is claimed by b\n\
             hint: acting for b: `git kitty restack WP03 --feature 002-search --agent b`\n\
             hint: otherwise ask b, or `git kitty restack WP03 --feature 002-search --force`\n",
        );
    // As printed, from the main worktree.
    repo.commit_in(&repo.worktree("002-search-WP03"), "c", "b");
    repo.kitty(&["restack", "WP03", "--feature", "002-search", "--agent", "b"])
        .code(4)
        .stderr_has(
            "; then `git kitty restack WP03 --feature 002-search`\n\
             hint: or give up the rebase there with `git rebase --abort` (then `git kitty lane WP03 --feature 002-search in_progress`)\n",
        );
}

#[test]
fn implement_and_board_hints_for_a_shared_wp_id_run_as_printed() {
    let repo = Repo::with_fixture("example");
    let refused = repo.kitty(&["implement", "WP03", "-f", "002-search", "--agent", "z"]);
    refused
        .code(1)
        .stderr_has("hint: WP02 has not been started: `git kitty implement WP02 --feature 002-search`\n")
        .stderr_has("hint: or start anyway: `git kitty implement WP03 --feature 002-search --force --reason \"...\"`\n");
    // WP01 is claimed by gemini (its frontmatter) but has no branch: the hint names gemini,
    // and works as printed by anyone (without `--agent`, `z` was refused it).
    let held = "hint: WP01 is held by gemini and not started; acting for gemini: `git kitty implement WP01 --feature 002-search --agent gemini`\n";
    refused.stderr_has(held);
    let hinted = hinted_commands(&refused.stderr);
    let words = shell_words(
        hinted
            .iter()
            .find(|c| c.contains("implement WP01"))
            .expect("the hint for WP01"),
    );
    let args: Vec<&str> = words[2..].iter().map(String::as_str).collect();
    repo.kitty_env(&[("KITTY_AGENT", None)], &args).ok();
    assert_eq!(repo.lane("002-search", "WP01"), "in_progress");
    repo.kitty(&[
        "implement",
        "WP02",
        "--feature",
        "002-search",
        "--agent",
        "z",
    ])
    .ok();
    // Its worktree deleted by hand: the board's way back names the feature and the holder
    // (anyone else is refused a claimed WP), and works.
    repo.git(&[
        "worktree",
        "remove",
        "--force",
        ".worktrees/002-search-WP02",
    ]);
    let board = repo.kitty(&["status", "-f", "002-search"]);
    board
        .ok()
        .stdout_has("`git kitty implement WP02 --feature 002-search --agent z` makes it again");
    let printed = board
        .stdout
        .lines()
        .find(|l| l.contains("makes it again"))
        .and_then(|l| l.split('`').nth(1))
        .expect("a way back")
        .to_owned();
    // And `check`'s, which the next command runs as printed.
    let check = repo.kitty(&["check"]);
    let said = format!("{}{}", check.stdout, check.stderr);
    assert!(
        said.contains(
            "`git kitty implement WP02 --feature 002-search --agent z` makes it again, \
             `git kitty abandon WP02 --feature 002-search --agent z` gives it back"
        ),
        "{said}"
    );
    // Run as printed, by someone with no KITTY_AGENT.
    let words = shell_words(
        printed
            .strip_prefix("git kitty ")
            .expect("a git kitty command"),
    );
    let args: Vec<&str> = words.iter().map(String::as_str).collect();
    repo.kitty_env(&[("KITTY_AGENT", None)], &args).ok();
    assert!(repo.worktree("002-search-WP02").is_dir());
}
