//! `git kitty orchestrator-api`: the contract, call by call, without Python. Every answer is
//! checked as an envelope (one line of JSON on stdout, seven keys with their types); then the
//! data and error codes each call promises.

use serde_json::{Value, json};

use crate::common::{Repo, wp};

const POLICY: &str = r#"{"orchestrator_id":"spec-kitty-orchestrator","orchestrator_version":"0.1.2","agent_family":"claude","approval_mode":"full_auto","sandbox_mode":"workspace_write","network_mode":"none","dangerous_flags":[],"tool_restrictions":null}"#;
const M: &str = "001-diamond";

/// Run one call; check the envelope; return it and the exit code.
fn api(repo: &Repo, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["orchestrator-api"];
    all.extend_from_slice(args);
    let run = repo.kitty(&all);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stdout: {}", run.stdout);
    let env: Value = serde_json::from_str(lines[0]).expect("JSON envelope");
    check_envelope(&env, args.first().copied().unwrap_or("unknown"));
    assert_eq!(env["success"], run.code == 0, "{env}\n{}", run.stderr);
    (env, run.code)
}

fn check_envelope(env: &Value, call: &str) {
    let keys: Vec<&str> = env
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "contract_version",
            "command",
            "timestamp",
            "correlation_id",
            "success",
            "error_code",
            "data"
        ]
    );
    assert_eq!(env["contract_version"], "1.5.0");
    let known = env["command"] == format!("orchestrator-api.{call}");
    assert!(
        known || env["command"] == "orchestrator-api.unknown",
        "{env}"
    );
    let ts = env["timestamp"].as_str().unwrap();
    assert!(
        ts.len() >= 20 && ts.ends_with('Z') && &ts[10..11] == "T",
        "{ts}"
    );
    let corr = env["correlation_id"].as_str().unwrap();
    assert!(corr.starts_with("corr-") && corr.len() == 37, "{corr}");
    assert!(corr[5..].chars().all(|c| c.is_ascii_hexdigit()));
    assert!(env["data"].is_object());
    if env["success"] == true {
        assert!(env["error_code"].is_null());
    } else {
        assert!(env["error_code"].is_string());
        assert!(env["data"]["message"].is_string(), "{env}");
    }
}

/// A call that must succeed: its `data`.
fn ok(repo: &Repo, args: &[&str]) -> Value {
    let (env, code) = api(repo, args);
    assert_eq!(code, 0, "{env}");
    env["data"].clone()
}

/// A call that must fail with `code` and `exit`: its `data`.
fn fails(repo: &Repo, args: &[&str], code: &str, exit: i32) -> Value {
    let (env, status) = api(repo, args);
    assert_eq!(
        (env["error_code"].as_str(), status),
        (Some(code), exit),
        "{env}"
    );
    env["data"].clone()
}

fn start(repo: &Repo, w: &str, actor: &str) -> Value {
    ok(
        repo,
        &[
            "start-implementation",
            "--mission",
            M,
            "--wp",
            w,
            "--actor",
            actor,
            "--policy",
            POLICY,
        ],
    )
}

fn to(repo: &Repo, w: &str, lane: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "transition",
        "--mission",
        M,
        "--wp",
        w,
        "--to",
        lane,
        "--actor",
        "orch",
        "--policy",
        POLICY,
    ];
    args.extend_from_slice(extra);
    ok(repo, &args)
}

/// A path from an answer (`$REPO/...`, as `Run` shows it) as a real path.
fn real(repo: &Repo, shown: &Value) -> std::path::PathBuf {
    let shown = shown.as_str().unwrap();
    std::path::PathBuf::from(shown.replace("$REPO", &repo.root.display().to_string()))
}

/// Start `w` as `orch`, commit in its worktree, send it for review and approve it.
fn approve(repo: &Repo, w: &str) {
    let data = start(repo, w, "orch");
    let wt = real(repo, &data["workspace_path"]);
    repo.commit_in(&wt, &format!("{w}.txt"), w);
    to(repo, w, "for_review", &[]);
    to(repo, w, "done", &["--review-ref", "r1"]);
}

#[test]
fn contract_version_and_provider_check() {
    let repo = Repo::new();
    let data = ok(&repo, &["contract-version"]);
    assert_eq!(
        data,
        json!({"api_version": "1.5.0", "min_supported_provider_version": "0.1.0"})
    );
    ok(&repo, &["contract-version", "--provider-version", "0.1.2"]);
    let old = fails(
        &repo,
        &["contract-version", "--provider-version", "0.0.9"],
        "CONTRACT_VERSION_MISMATCH",
        1,
    );
    assert_eq!(old["min_supported_provider_version"], "0.1.0");
    fails(
        &repo,
        &["contract-version", "--provider-version", "latest"],
        "CONTRACT_VERSION_MISMATCH",
        1,
    );
}

#[test]
fn usage_errors_answer_with_an_envelope_and_exit_2() {
    let repo = Repo::with_fixture("diamond");
    let missing = fails(&repo, &["mission-state"], "USAGE_ERROR", 2);
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("--mission <SLUG>"),
        "{missing}"
    );
    let (env, _) = api(&repo, &["mission-state"]);
    assert_eq!(env["command"], "orchestrator-api.mission-state");
    fails(
        &repo,
        &["list-ready", "--mission", M, "--bogus"],
        "USAGE_ERROR",
        2,
    );
    let (env, code) = api(&repo, &["frobnicate"]);
    assert_eq!((env["error_code"].as_str(), code), (Some("USAGE_ERROR"), 2));
    assert_eq!(env["command"], "orchestrator-api.unknown");
    fails(&repo, &[], "USAGE_ERROR", 2);
    let bad_lane = fails(
        &repo,
        &[
            "transition",
            "--mission",
            M,
            "--wp",
            "WP01",
            "--to",
            "finished",
            "--actor",
            "a",
        ],
        "USAGE_ERROR",
        2,
    );
    assert!(bad_lane["message"].as_str().unwrap().contains("not a lane"));
    fails(
        &repo,
        &[
            "transition",
            "--mission",
            M,
            "--wp",
            "WP01",
            "--to",
            "blocked",
            "--actor",
            "a",
            "--evidence-json",
            "[1]",
        ],
        "USAGE_ERROR",
        2,
    );
    fails(
        &repo,
        &[
            "append-history",
            "--mission",
            M,
            "--wp",
            "WP01",
            "--actor",
            "a",
            "--note",
            " ",
        ],
        "USAGE_ERROR",
        2,
    );
    // stderr has the diagnostics; the single binary answers the same way.
    let run = repo.bin_in("git-kitty-orchestrator-api", &repo.root, &["list-ready"]);
    run.code(2).stderr_has("--mission <SLUG>");
    let env: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(env["error_code"], "USAGE_ERROR");
}

#[test]
fn the_shim_is_printed_exactly() {
    let repo = Repo::new();
    repo.kitty(&["orchestrator-api", "--print-shim"])
        .ok()
        .stdout_is("#!/bin/sh\nexec git kitty \"$@\"\n");
}

#[test]
fn missions_and_wps_that_do_not_exist() {
    let repo = Repo::with_fixture("diamond");
    for mission in ["999-nope", "../etc", "--x"] {
        let flag = format!("--mission={mission}");
        let args = ["list-ready", flag.as_str()];
        fails(&repo, &args, "MISSION_NOT_FOUND", 1);
    }
    for w in ["WP99", "nope"] {
        let args = ["resolve-workspace", "--mission", M, "--wp", w];
        let data = fails(&repo, &args, "WP_NOT_FOUND", 1);
        assert_eq!(data["wp_id"], w);
    }
    let args = [
        "append-history",
        "--mission",
        M,
        "--wp",
        "WP7",
        "--actor",
        "a",
        "--note",
        "n",
    ];
    fails(&repo, &args, "WP_NOT_FOUND", 1);
}

#[test]
fn mission_state_and_list_ready_follow_the_board() {
    let repo = Repo::with_fixture("diamond");
    let data = ok(&repo, &["mission-state", "--mission", M]);
    assert_eq!(data["mission_slug"], M);
    assert_eq!(data["summary"]["planned"], 4);
    let lanes: Vec<&str> = data["summary"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(lanes.len(), 8, "{lanes:?}");
    assert_eq!(
        data["work_packages"][3],
        json!({"wp_id": "WP04", "lane": "planned", "dependencies": ["WP02", "WP03"],
               "last_actor": null, "kitty_lane": "planned", "merged": false})
    );
    let ready = ok(&repo, &["list-ready", "--mission", M]);
    assert_eq!(
        ready["ready_work_packages"],
        json!([{"wp_id": "WP01", "lane": "planned", "dependencies_satisfied": true,
                "recommended_base": null}])
    );
    repo.kitty(&["lane", "WP01", "claimed", "--agent", "alice"])
        .ok();
    let data = ok(&repo, &["mission-state", "--mission", M]);
    assert_eq!(data["work_packages"][0]["last_actor"], "alice");
    assert_eq!(data["work_packages"][0]["lane"], "claimed");
    repo.kitty(&["lane", "WP01", "planned", "--agent", "alice"])
        .ok();
    approve(&repo, "WP01");
    let data = ok(&repo, &["mission-state", "--mission", M]);
    let w1 = &data["work_packages"][0];
    assert_eq!(
        (&w1["lane"], &w1["kitty_lane"]),
        (&json!("done"), &json!("approved"))
    );
    assert_eq!(w1["last_actor"], "orch");
    let ready = ok(&repo, &["list-ready", "--mission", M]);
    let ids: Vec<&str> = ready["ready_work_packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["wp_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["WP02", "WP03"]);
    assert_eq!(ready["ready_work_packages"][0]["recommended_base"], "WP01");
}

#[test]
fn start_implementation_claims_makes_the_worktree_and_records_the_policy() {
    let repo = Repo::with_fixture("diamond");
    let args = |w: &'static str, actor: &'static str| {
        vec![
            "start-implementation",
            "--mission",
            M,
            "--wp",
            w,
            "--actor",
            actor,
        ]
    };
    fails(&repo, &args("WP01", "orch"), "POLICY_METADATA_REQUIRED", 1);
    let deps = fails(
        &repo,
        &[&args("WP04", "orch")[..], &["--policy", POLICY]].concat(),
        "DEPENDENCIES_NOT_SATISFIED",
        1,
    );
    assert!(deps["message"].as_str().unwrap().contains("WP02 (planned)"));
    assert_eq!(deps["unsatisfied_dependencies"], json!(["WP02", "WP03"]));
    let data = start(&repo, "WP01", "orch");
    let wt = repo.worktree("001-diamond-WP01");
    assert_eq!(
        data,
        json!({"mission_slug": M, "wp_id": "WP01", "from_lane": "planned",
               "to_lane": "in_progress", "workspace_path": "$REPO/.worktrees/001-diamond-WP01",
               "prompt_path": "$REPO/kitty-specs/001-diamond/tasks/WP01-schema.md",
               "policy_metadata_recorded": true, "no_op": false, "branch": "001-diamond-WP01"})
    );
    assert!(wt.join("README.md").exists());
    let again = start(&repo, "WP01", "orch");
    assert_eq!(
        (&again["no_op"], &again["from_lane"]),
        (&json!(true), &json!("in_progress"))
    );
    assert_eq!(again["workspace_path"], data["workspace_path"]);
    let taken = fails(
        &repo,
        &[&args("WP01", "other")[..], &["--policy", POLICY]].concat(),
        "WP_ALREADY_CLAIMED",
        1,
    );
    assert_eq!(
        (&taken["claimed_by"], &taken["requesting_actor"]),
        (&json!("orch"), &json!("other"))
    );
    // git kitty's own state, with the policy on the claim.
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, M, "WP01")["agent"], "orch");
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    let claim = &log["events"][0];
    assert_eq!(claim["kind"], "implement");
    // Recorded as given (a null tool_restrictions left out).
    let mut policy: Value = serde_json::from_str(POLICY).unwrap();
    policy.as_object_mut().unwrap().remove("tool_restrictions");
    assert_eq!(claim["policy"], policy);
    // Not planned: refused.
    approve(&repo, "WP01");
    approve(&repo, "WP02");
    let again = fails(
        &repo,
        &[&args("WP02", "orch")[..], &["--policy", POLICY]].concat(),
        "TRANSITION_REJECTED",
        1,
    );
    assert!(
        again["message"].as_str().unwrap().contains("WP02 is done"),
        "{again}"
    );
}

#[test]
fn policies_with_banned_flags_or_secrets_are_refused_and_nothing_moves() {
    let repo = Repo::with_fixture("diamond");
    let banned = POLICY.replace(
        r#""dangerous_flags":[]"#,
        r#""dangerous_flags":["--dangerously-skip-permissions"]"#,
    );
    let secret = POLICY.replace(
        r#""tool_restrictions":null"#,
        r#""tool_restrictions":"api_key=abc123""#,
    );
    let deep = POLICY.replace(
        r#""tool_restrictions":null"#,
        r#""extra":{"list":["a","My-Token"]}"#,
    );
    for (policy, what) in [
        (banned.as_str(), "--dangerously-skip-permissions"),
        (secret.as_str(), "`tool_restrictions` looks like a secret"),
        (deep.as_str(), "`extra.list[1]` looks like a secret"),
        ("not json", "not valid JSON"),
        (r#"{"orchestrator_id":"x"}"#, "missing the required field"),
    ] {
        let args = [
            "start-implementation",
            "--mission",
            M,
            "--wp",
            "WP01",
            "--actor",
            "a",
            "--policy",
            policy,
        ];
        let data = fails(&repo, &args, "POLICY_VALIDATION_FAILED", 1);
        let message = data["message"].as_str().unwrap();
        assert!(message.contains(what), "{message}");
        assert!(
            !message.contains("abc123"),
            "secrets are not echoed: {message}"
        );
    }
    assert_eq!(repo.lane(M, "WP01"), "planned");
    assert!(!repo.worktree("001-diamond-WP01").exists());
}

#[test]
fn reviews_go_through_the_lane_rules() {
    let repo = Repo::with_fixture("diamond");
    let data = start(&repo, "WP01", "orch");
    let review = words("start-review --mission 001-diamond --wp WP01 --actor orch");
    let with_policy = [&review[..], &["--policy", POLICY]].concat();
    let early = fails(&repo, &with_policy, "TRANSITION_REJECTED", 1);
    assert!(early["message"].as_str().unwrap().contains("in_progress"));
    fails(&repo, &review, "POLICY_METADATA_REQUIRED", 1);
    // Nothing committed: git kitty's review guard refuses.
    let for_review =
        words("transition --mission 001-diamond --wp WP01 --to for_review --actor orch");
    let empty = fails(
        &repo,
        &[&for_review[..], &["--policy", POLICY]].concat(),
        "TRANSITION_REJECTED",
        1,
    );
    let message = empty["message"].as_str().unwrap();
    assert!(message.contains("no commit beyond its base"), "{message}");
    fails(&repo, &for_review, "POLICY_METADATA_REQUIRED", 1);
    let wt = real(&repo, &data["workspace_path"]);
    repo.commit_in(&wt, "schema.sql", "create table t;");
    let flags = words("--subtasks-complete --no-implementation-evidence-present");
    let moved = to(&repo, "WP01", "for_review", &flags);
    assert_eq!(
        moved,
        json!({"mission_slug": M, "wp_id": "WP01", "from_lane": "in_progress",
               "to_lane": "for_review", "policy_metadata_recorded": true, "changed": true,
               "forced": false})
    );
}

/// A command line without spaces inside its arguments, split.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

#[test]
fn review_feedback_and_verdicts() {
    let repo = Repo::with_fixture("diamond");
    let data = start(&repo, "WP01", "orch");
    let review = |actor: &'static str| {
        vec![
            "start-review",
            "--mission",
            M,
            "--wp",
            "WP01",
            "--actor",
            actor,
            "--policy",
            POLICY,
            "--review-ref",
            "rev-1",
        ]
    };
    let wt = real(&repo, &data["workspace_path"]);
    repo.commit_in(&wt, "schema.sql", "create table t;");
    to(&repo, "WP01", "for_review", &[]);
    let taken = ok(&repo, &review("rev"));
    assert_eq!(
        (&taken["from_lane"], &taken["to_lane"], &taken["no_op"]),
        (&json!("for_review"), &json!("in_review"), &json!(false))
    );
    assert_eq!(ok(&repo, &review("rev"))["no_op"], true);
    let other = fails(&repo, &review("orch"), "WP_ALREADY_CLAIMED", 1);
    assert_eq!(other["claimed_by"], "rev");
    // Sending it back needs the feedback; the verdict must fit the move.
    let back = [
        "transition",
        "--mission",
        M,
        "--wp",
        "WP01",
        "--to",
        "in_progress",
        "--actor",
        "rev",
        "--policy",
        POLICY,
    ];
    let no_note = fails(&repo, &back, "TRANSITION_REJECTED", 1);
    assert!(no_note["message"].as_str().unwrap().contains("--note"));
    let verdict = r#"{"reviewer":"rev","verdict":"approved","reference":"rev-1"}"#;
    fails(
        &repo,
        &[&back[..], &["--review-result-json", verdict]].concat(),
        "TRANSITION_REJECTED",
        1,
    );
    let changes = r#"{"reviewer":"rev","verdict":"changes_requested","reference":"rev-1"}"#;
    ok(
        &repo,
        &[&back[..], &["--review-result-json", changes]].concat(),
    );
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    let sent_back = &log["events"][0];
    assert_eq!(sent_back["note"], "changes requested by rev");
    assert_eq!(sent_back["review_ref"], "rev-1");
    assert_eq!(
        sent_back["evidence"]["review_result"]["verdict"],
        "changes_requested"
    );
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(
        wp(&status, M, "WP01")["state"]["review_status"],
        "has_feedback"
    );
}

#[test]
fn done_records_the_approval_and_force_is_used_only_when_needed() {
    let repo = Repo::with_fixture("diamond");
    start(&repo, "WP01", "orch");
    // Out of the table: refused, then forced with the note as reason.
    let args = [
        "transition",
        "--mission",
        M,
        "--wp",
        "WP01",
        "--to",
        "done",
        "--actor",
        "orch",
    ];
    fails(&repo, &args, "TRANSITION_REJECTED", 1);
    let forced = ok(
        &repo,
        &[&args[..], &["--force", "--note", "reviewed elsewhere"]].concat(),
    );
    assert_eq!(
        (
            &forced["to_lane"],
            &forced["forced"],
            &forced["policy_metadata_recorded"]
        ),
        (&json!("done"), &json!(true), &json!(false))
    );
    assert_eq!(repo.lane(M, "WP01"), "approved");
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    assert_eq!(log["events"][0]["reason"], "reviewed elsewhere");
    // Done again: nothing to do.
    let again = ok(&repo, &args);
    assert_eq!(
        (&again["changed"], &again["from_lane"]),
        (&json!(false), &json!("done"))
    );
    // A move the rules allow is not forced even when --force is passed.
    start(&repo, "WP02", "orch");
    let blocked = ok(
        &repo,
        &[
            "transition",
            "--mission",
            M,
            "--wp",
            "WP02",
            "--to",
            "blocked",
            "--actor",
            "orch",
            "--force",
            "--note",
            "waiting on credentials",
        ],
    );
    assert_eq!(blocked["forced"], false);
    assert_eq!(repo.lane(M, "WP02"), "blocked");
}

#[test]
fn append_history_is_a_note_in_the_wps_history() {
    let repo = Repo::with_fixture("diamond");
    let data = ok(
        &repo,
        &[
            "append-history",
            "--mission",
            M,
            "--wp",
            "wp01",
            "--actor",
            "orch",
            "--note",
            "Starting implementation",
        ],
    );
    assert_eq!(
        (&data["mission_slug"], &data["wp_id"]),
        (&json!(M), &json!("WP01"))
    );
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    let note = &log["events"][0];
    assert_eq!(data["history_entry_id"], note["id"]);
    assert_eq!(
        (&note["kind"], &note["note"]),
        (&json!("note"), &json!("Starting implementation"))
    );
    assert_eq!(repo.lane(M, "WP01"), "planned");
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "no file was written"
    );
}

#[test]
fn accept_and_merge_the_mission() {
    let repo = Repo::with_fixture("diamond");
    approve(&repo, "WP01");
    let accept = ["accept-mission", "--mission", M, "--actor", "orch"];
    let not_ready = fails(&repo, &accept, "MISSION_NOT_READY", 1);
    assert_eq!(not_ready["incomplete_wps"], json!(["WP02", "WP03", "WP04"]));
    let merge = ["merge-mission", "--mission", M];
    let main_before = repo.git(&["rev-parse", "main"]);
    let pre = fails(&repo, &merge, "PREFLIGHT_FAILED", 1);
    assert!(
        crate::common::strings(&pre["errors"]).contains(&"WP02: not approved (planned)".to_owned()),
        "{pre}"
    );
    assert_eq!(
        repo.git(&["rev-parse", "main"]),
        main_before,
        "nothing merged"
    );
    for w in ["WP02", "WP03", "WP04"] {
        approve(&repo, w);
    }
    let accepted = ok(&repo, &accept);
    assert_eq!(accepted["accepted"], true);
    assert_eq!(
        accepted["merge_pending_wps"],
        json!(["WP01", "WP02", "WP03", "WP04"])
    );
    let bad = fails(
        &repo,
        &[&merge[..], &["--strategy", "rebase"]].concat(),
        "UNSUPPORTED_STRATEGY",
        1,
    );
    assert_eq!(bad["supported"], json!(["merge", "squash"]));
    let elsewhere = fails(
        &repo,
        &[&merge[..], &["--target", "release"]].concat(),
        "PREFLIGHT_FAILED",
        1,
    );
    assert!(
        elsewhere["message"]
            .as_str()
            .unwrap()
            .contains("not on --target release")
    );
    let merged = ok(
        &repo,
        &[&merge[..], &["--target", "main", "--strategy", "squash"]].concat(),
    );
    assert_eq!(
        (
            &merged["merged"],
            &merged["target_branch"],
            &merged["strategy"]
        ),
        (&json!(true), &json!("main"), &json!("squash"))
    );
    assert_eq!(
        merged["merged_wps"],
        json!(["WP01", "WP02", "WP03", "WP04"])
    );
    assert_eq!(merged["worktree_removed"], true);
    assert_eq!(repo.lane(M, "WP04"), "done");
    let state = ok(&repo, &["mission-state", "--mission", M]);
    assert_eq!(state["summary"]["done"], 4);
    assert_eq!(state["work_packages"][3]["merged"], true);
    assert!(repo.path("WP04.txt").exists());
    // Landed: nothing left, and accepting still holds.
    let again = ok(&repo, &merge);
    assert_eq!(again["merged_wps"], json!([]));
    ok(&repo, &accept);
}

#[test]
fn merge_mission_push_lands_on_a_server_that_guards_review() {
    let repo = Repo::with_fixture("diamond");
    let remote = repo.sandbox.path().join("remote.git");
    repo.git(&["clone", "-q", "--bare", ".", remote.to_str().unwrap()]);
    repo.kitty_in(&remote, &["hooks", "install", "--server"])
        .ok();
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    for w in ["WP01", "WP02", "WP03", "WP04"] {
        approve(&repo, w);
    }
    // Nothing was pushed before: the approvals go out first, then main, then the done states.
    let merged = ok(&repo, &["merge-mission", "--mission", M, "--push"]);
    assert_eq!(merged["pushed"], true);
    let on_remote = |name: &str| repo.git_in(&remote, &["rev-parse", name]);
    assert_eq!(on_remote("main"), repo.git(&["rev-parse", "main"]));
    for w in ["WP01", "WP04"] {
        let state = format!("refs/kitty/wp/{M}/{w}");
        assert_eq!(on_remote(&state), repo.git(&["rev-parse", &state]));
    }
    assert_eq!(repo.lane(M, "WP04"), "done");
}
