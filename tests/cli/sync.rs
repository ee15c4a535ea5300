//! `git kitty push`, `pull`, `sync`, `init` and claims across machines: several clones of a
//! bare remote over `file://` (I2, I6).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Stdio;

use crate::common::net::Net;
use crate::common::{Repo, Run};

#[test]
fn clones_that_work_offline_converge_whatever_the_sync_order() {
    for order in [["a", "b", "c"], ["c", "a", "b"], ["b", "c", "a"]] {
        let net = Net::new("fan-out");
        let (a, b, c) = (net.clone("a"), net.clone("b"), net.clone("c"));
        // Offline: the same WP claimed twice, different WPs moved, notes everywhere.
        net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
        net.kitty(&a, "alice", &["note", "WP02", "alice was here"])
            .ok();
        net.kitty(&b, "bob", &["lane", "WP01", "claimed"]).ok();
        net.kitty(
            &b,
            "bob",
            &["lane", "WP02", "blocked", "--note", "needs a decision"],
        )
        .ok();
        net.kitty(&c, "carol", &["lane", "WP03", "in_progress"])
            .ok();
        net.kitty(&c, "carol", &["note", "WP01", "carol has thoughts"])
            .ok();
        let all_events: BTreeSet<String> =
            [&a, &b, &c].iter().flat_map(|d| net.event_ids(d)).collect();

        let dir = |n: &str| match n {
            "a" => a.clone(),
            "b" => b.clone(),
            _ => c.clone(),
        };
        // One round in the given order, then a second so everyone sees the last pushes.
        // The clone whose claim of WP01 reached the remote second is told, once (exit 1).
        let mut lost = Vec::new();
        for n in order.iter().chain(order.iter()) {
            let run = net.kitty(&dir(n), n, &["sync"]);
            if run.code == 1 {
                run.stderr_has("'s claim, made here, lost");
                lost.push(*n);
            } else {
                run.ok();
            }
        }
        let first = *order.iter().find(|n| **n != "c").unwrap();
        assert_eq!(
            lost,
            [if first == "a" { "b" } else { "a" }],
            "order {order:?}"
        );
        let boards: Vec<_> = [&a, &b, &c].iter().map(|d| net.board(d)).collect();
        assert_eq!(boards[0], boards[1], "order {order:?}");
        assert_eq!(boards[1], boards[2], "order {order:?}");
        // One claim of WP01 won; the other is in the history, rejected.
        let wp01 = boards[0].iter().find(|w| w.0 == "WP01").unwrap();
        assert_eq!(wp01.1, "claimed");
        assert_eq!(wp01.2, if first == "a" { "alice" } else { "bob" });
        for d in [&a, &b, &c] {
            let ids = net.event_ids(d);
            assert!(
                all_events.is_subset(&ids),
                "order {order:?}: {:?} lacks {:?}",
                d,
                all_events.difference(&ids).collect::<Vec<_>>()
            );
        }
        let log = net
            .kitty(&a, "reader", &["log", "WP01"])
            .ok()
            .stdout
            .clone();
        assert!(
            log.contains("(rejected when histories were merged)"),
            "{log}"
        );
        // Syncing again changes nothing.
        let again = net.kitty(&a, "alice", &["sync", "--json"]).ok().json();
        assert_eq!(again["changed"].as_array().unwrap().len(), 0, "{again:#}");
    }
}

#[test]
fn pull_reports_the_rejected_event_to_whoever_made_it() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
    net.kitty(&a, "alice", &["push"])
        .ok()
        .stdout_has("001-fan-out/WP01: pushed");
    net.kitty(&b, "bob", &["lane", "WP01", "claimed"]).ok();
    let run = net.kitty(&b, "bob", &["pull"]);
    run.code(1)
        .stderr_has("warning: 001-fan-out/WP01: bob's claim, made here, lost")
        .stdout_has("001-fan-out/WP01: merged both histories")
        .stdout_has("rejected bob's claim (planned -> claimed): WP01 is claimed by alice");
    let json = net.kitty(&b, "bob", &["log", "WP01", "--json"]).ok().json();
    let refused: Vec<&serde_json::Value> = json["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["refused"] == true)
        .collect();
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["actor"], "bob");
    // b is ahead now (the merge); pushing makes the remote take it as a fast-forward.
    let status = net.kitty(&b, "bob", &["status", "--json"]).ok().json();
    assert_eq!(status["features"][0]["remote"]["ahead"], 1);
    net.kitty(&b, "bob", &["push"]).ok();
    net.kitty(&a, "alice", &["pull", "--json"]).ok();
    assert_eq!(net.board(&a), net.board(&b));
}

#[test]
fn one_owner_across_machines() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    for _ in 0..3 {
        // Both claim WP01 with --sync at the same moment (implement: a worktree too).
        let spawn = |dir: &Path, agent: &str| {
            let mut cmd = net
                .seed
                .kitty_command(dir, &["implement", "WP01", "--sync"]);
            cmd.env("KITTY_AGENT", agent)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        };
        let (ca, cb) = (spawn(&a, "alice"), spawn(&b, "bob"));
        let ra = Run::new(ca.wait_with_output().unwrap(), &net.seed.root);
        let rb = Run::new(cb.wait_with_output().unwrap(), &net.seed.root);
        let (winner, loser, loser_dir, winner_name) = match (ra.code, rb.code) {
            (0, 1) => (&ra, &rb, &b, "alice"),
            (1, 0) => (&rb, &ra, &a, "bob"),
            other => panic!("expected exactly one winner, got {other:?}\n{ra:#?}\n{rb:#?}"),
        };
        let _ = winner;
        loser.stderr_has(&format!(
            "WP01 was claimed by {winner_name} on another machine first"
        ));
        // The loser has no claim and no worktree left.
        assert!(!loser_dir.join(".worktrees/001-fan-out-WP01").exists());
        let board = net.board(loser_dir);
        assert_eq!(
            board[0],
            ("WP01".into(), "in_progress".into(), winner_name.into())
        );
        assert_eq!(
            net.git(loser_dir, &["branch", "--list", "001-fan-out-WP01"]),
            ""
        );
        // Reset for the next round.
        for d in [&a, &b] {
            let _ = std::fs::remove_dir_all(d.join(".worktrees"));
            net.git(d, &["worktree", "prune"]);
            // Only the winner has the branch.
            let _ = net
                .seed
                .command_in("git", d)
                .args(["branch", "-D", "-q", "001-fan-out-WP01"])
                .output();
        }
        let refs = net.git(
            &net.remote.clone(),
            &["for-each-ref", "--format=%(refname)", "refs/kitty"],
        );
        for r in refs.lines() {
            net.git(&net.remote.clone(), &["update-ref", "-d", r]);
        }
        for d in [&a, &b] {
            let refs = net.git(
                d,
                &[
                    "for-each-ref",
                    "--format=%(refname)",
                    "refs/kitty",
                    "refs/kitty-remotes",
                ],
            );
            for r in refs.lines() {
                net.git(d, &["update-ref", "-d", r]);
            }
        }
    }
}

#[test]
fn an_unreachable_or_refusing_remote_loses_nothing_locally() {
    let net = Net::new("fan-out");
    let a = net.clone("a");
    net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
    let before = net.git(&a, &["for-each-ref", "refs/kitty"]);
    // The remote goes away.
    let moved = net.seed.sandbox.path().join("gone.git");
    std::fs::rename(&net.remote, &moved).unwrap();
    net.kitty(&a, "alice", &["push"])
        .code(5)
        .stderr_has("error: could not push to origin")
        .stderr_has("local state is unchanged");
    net.kitty(&a, "alice", &["pull"])
        .code(5)
        .stderr_has("nothing local was changed");
    let run = net.kitty(
        &a,
        "alice",
        &["lane", "WP02", "claimed", "--sync", "--json"],
    );
    run.code(5);
    assert_eq!(run.json()["error"]["kind"], "unreachable");
    assert_eq!(
        net.git(&a, &["for-each-ref", "refs/kitty"]),
        before,
        "local state changed"
    );
    std::fs::rename(&moved, &net.remote).unwrap();
    // A remote that refuses the update: local state stays, the refusal is relayed.
    let hook = net.remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'closed for maintenance' >&2\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    net.kitty(&a, "alice", &["push"])
        .code(1)
        .stderr_has("error: origin refused the state update")
        .stderr_has("closed for maintenance");
    assert_eq!(net.git(&a, &["for-each-ref", "refs/kitty"]), before);
    // A claim the remote refuses is undone.
    net.kitty(&a, "alice", &["lane", "WP02", "claimed", "--sync"])
        .code(1)
        .stderr_has(
            "error: origin refused WP02's new state: WP02's change was not confirmed and is undone",
        )
        .stderr_has("closed for maintenance");
    assert_eq!(net.git(&a, &["for-each-ref", "refs/kitty"]), before);
    std::fs::remove_file(&hook).unwrap();
    net.kitty(&a, "alice", &["push"]).ok();
}

#[test]
fn a_claim_with_sync_is_confirmed_by_the_remote() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    net.git(&a, &["config", "kitty.syncClaims", "true"]);
    net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
    // Confirmed means the remote has it: b sees it after a pull, without a push from a.
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "in_progress", "--sync"])
        .code(1)
        .stderr_has("WP01 is claimed by alice");
    // b claims offline without --sync, then with: the remote decides.
    net.kitty(&b, "bob", &["lane", "WP02", "claimed"]).ok();
    net.kitty(&a, "alice", &["lane", "WP02", "claimed"]).ok();
    let run = net.kitty(&b, "bob", &["push"]);
    run.code(1)
        .stderr_has("bob's claim, made here, lost: alice's claim reached origin first")
        .stdout_has("rejected bob's claim (planned -> claimed): WP02 is claimed by alice");
}

#[test]
fn init_lets_plain_git_carry_the_state() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    let run = net.kitty(&a, "alice", &["init"]);
    run.ok()
        .stdout_has("added    remote.origin.fetch +refs/kitty/*:refs/kitty-remotes/origin/*")
        .stdout_has("added    remote.origin.push HEAD")
        .stdout_has("added    remote.origin.push refs/kitty/*:refs/kitty/*");
    net.kitty(&a, "alice", &["init"])
        .ok()
        .stdout_has("already  remote.origin.push refs/kitty/*:refs/kitty/*");
    net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
    // Plain git push sends the state (and still the branch).
    std::fs::write(a.join("x.txt"), "x").unwrap();
    net.git(&a, &["add", "x.txt"]);
    net.git(&a, &["commit", "-q", "-m", "x"]);
    net.git(&a, &["push", "-q"]);
    assert_eq!(
        net.git(
            &net.remote.clone(),
            &["for-each-ref", "--format=%(refname)", "refs/kitty"]
        ),
        "refs/kitty/wp/001-fan-out/WP01\n"
    );
    assert_eq!(
        net.git(&net.remote.clone(), &["rev-parse", "main"]),
        net.git(&a, &["rev-parse", "main"])
    );
    // Plain git fetch brings it into the tracking namespace; pull --no-fetch merges it.
    net.kitty(&b, "bob", &["init"]).ok();
    net.git(&b, &["fetch", "-q"]);
    assert_eq!(
        net.git(&b, &["for-each-ref", "refs/kitty/wp"]),
        "",
        "fetch wrote over local state"
    );
    assert_ne!(
        net.git(&b, &["for-each-ref", "refs/kitty-remotes/origin/wp"]),
        ""
    );
    net.kitty(&b, "bob", &["pull", "--no-fetch"])
        .ok()
        .stdout_has("001-fan-out/WP01: new from the remote");
    assert_eq!(net.board(&a), net.board(&b));
}

#[test]
fn status_says_ahead_behind_and_diverged() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    for w in ["WP01", "WP02", "WP03"] {
        net.kitty(&a, "alice", &["note", w, "start"]).ok();
    }
    net.kitty(&a, "alice", &["push"]).ok();
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&a, "alice", &["note", "WP01", "a only"]).ok(); // a: ahead on WP01
    net.kitty(&b, "bob", &["note", "WP02", "b only"]).ok();
    net.kitty(&b, "bob", &["push"]).ok();
    net.kitty(&a, "alice", &["note", "WP03", "a again"]).ok();
    net.kitty(&b, "bob", &["note", "WP03", "b again"]).ok();
    net.kitty(&b, "bob", &["push"]).ok();
    net.git(
        &a,
        &[
            "fetch",
            "-q",
            "origin",
            "+refs/kitty/*:refs/kitty-remotes/origin/*",
        ],
    );
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    let r = &status["features"][0]["remote"];
    assert_eq!(
        (
            r["ahead"].as_u64(),
            r["behind"].as_u64(),
            r["diverged"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{r:#}"
    );
    let sync_of = |id: &str| {
        crate::common::wp(&status, "001-fan-out", id)["sync"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        (sync_of("WP01"), sync_of("WP02"), sync_of("WP03")),
        ("ahead".into(), "behind".into(), "diverged".into())
    );
    net.kitty(&a, "alice", &["status"])
        .ok()
        .stdout_has("state vs origin: 1 ahead, 1 behind, 1 diverged (`git kitty sync`)");
    net.kitty(&a, "alice", &["sync"]).ok();
    net.kitty(&a, "alice", &["status"])
        .ok()
        .stdout_has("state in sync with origin");
}

#[test]
fn remotes_are_named_and_checked() {
    let net = Net::new("fan-out");
    let a = net.clone("a");
    net.kitty(&a, "alice", &["push", "nowhere"])
        .code(2)
        .stderr_has("no remote `nowhere` in this repository");
    net.kitty(&a, "alice", &["pull", "--upload-pack=evil"])
        .code(2);
    net.kitty(&a, "alice", &["push", "-x"]).code(2);
    net.git(&a, &["remote", "rename", "origin", "upstream"]);
    net.kitty(&a, "alice", &["pull"])
        .code(2)
        .stderr_has("no remote `origin`");
    net.git(&a, &["config", "kitty.remote", "upstream"]);
    net.kitty(&a, "alice", &["pull"])
        .ok()
        .stdout_has("pulled from upstream");
}

#[test]
fn a_claim_the_remote_cannot_confirm_is_undone_or_kept_and_retried() {
    let net = Net::new("fan-out");
    let a = net.clone("a");
    // Fetching works, pushing does not: a claim is made but cannot be confirmed.
    let gone = format!(
        "file://{}",
        net.seed.sandbox.path().join("gone.git").display()
    );
    net.git(&a, &["config", "remote.origin.pushurl", &gone]);
    let error_of = |run: &Run| {
        let err = run.json()["error"].clone();
        let message = err["message"].as_str().unwrap().to_owned();
        let hint = err["hints"][0].as_str().unwrap().to_owned();
        (err["kind"].as_str().unwrap().to_owned(), message, hint)
    };
    // A claim made by this run is undone: local state is as it was, no worktree.
    let run = net.kitty(&a, "alice", &["implement", "WP01", "--sync", "--json"]);
    run.code(5);
    let (kind, message, hint) = error_of(&run);
    assert_eq!(kind, "unreachable");
    assert!(message.contains("not confirmed and is undone"), "{message}");
    assert!(
        hint.contains("run `git kitty implement WP01 --sync` again"),
        "{hint}"
    );
    assert!(!a.join(".worktrees/001-fan-out-WP01").exists());
    assert_eq!(net.git(&a, &["for-each-ref", "refs/kitty"]), "");
    // A claim made earlier without --sync cannot be undone by this run: kept, unconfirmed.
    net.kitty(&a, "alice", &["lane", "WP02", "claimed"]).ok();
    let run = net.kitty(
        &a,
        "alice",
        &["lane", "WP02", "claimed", "--sync", "--json"],
    );
    run.code(5);
    let (_, message, hint) = error_of(&run);
    assert!(
        message.contains("recorded here but not confirmed"),
        "{message}"
    );
    assert!(
        hint.contains("`git kitty lane WP02 claimed --sync` confirms it"),
        "{hint}"
    );
    assert_eq!(
        net.board(&a)[1],
        ("WP02".into(), "claimed".into(), "alice".into())
    );
    assert_eq!(
        net.git(&net.remote.clone(), &["for-each-ref", "refs/kitty"]),
        ""
    );
    // Once the remote takes pushes, the same commands confirm (and make the worktree).
    net.git(&a, &["config", "--unset", "remote.origin.pushurl"]);
    net.kitty(&a, "alice", &["implement", "WP01", "--sync"])
        .ok();
    assert!(a.join(".worktrees/001-fan-out-WP01").is_dir());
    net.kitty(&a, "alice", &["lane", "WP02", "claimed", "--sync"])
        .ok();
    assert_eq!(
        net.git(
            &net.remote.clone(),
            &["for-each-ref", "--format=%(refname)", "refs/kitty"]
        ),
        "refs/kitty/wp/001-fan-out/WP01\nrefs/kitty/wp/001-fan-out/WP02\n"
    );
}

#[test]
fn an_earlier_claim_is_confirmed_over_unrelated_remote_events() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
    // Meanwhile bob notes on the same WP and pushes: the histories diverge.
    net.kitty(&b, "bob", &["note", "WP01", "watch the API"])
        .ok();
    net.kitty(&b, "bob", &["push"]).ok();
    // Asking again with --sync is a no-op here but confirms the claim: a note is not a loss.
    net.kitty(&a, "alice", &["lane", "WP01", "claimed", "--sync"])
        .ok()
        .stdout_has("WP01 is already claimed (alice): nothing to do");
    net.kitty(&b, "bob", &["pull"]).ok();
    assert_eq!(
        net.board(&b)[0],
        ("WP01".into(), "claimed".into(), "alice".into())
    );
    let log = net.kitty(&b, "bob", &["log", "WP01"]).ok().stdout.clone();
    assert!(log.contains("watch the API"), "{log}");
}

#[test]
fn a_release_made_offline_cannot_undo_a_claim_that_won() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    // Offline, alice claims WP01 and gives it up again; bob claims it and pushes first.
    net.kitty(&a, "alice", &["lane", "WP01", "claimed"]).ok();
    net.kitty(&a, "alice", &["abandon", "WP01"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "claimed", "--sync"])
        .ok();
    let run = net.kitty(&a, "alice", &["sync"]);
    run.ok()
        .stdout_has("rejected alice's claim (planned -> claimed): WP01 is claimed by bob");
    net.kitty(&b, "bob", &["sync"]).ok();
    for d in [&a, &b] {
        assert_eq!(
            net.board(d)[0],
            ("WP01".into(), "claimed".into(), "bob".into()),
            "{d:?}"
        );
    }
}

#[test]
fn sync_claims_config_confirms_claims_only() {
    let net = Net::new("fan-out");
    let a = net.clone("a");
    net.git(&a, &["config", "kitty.syncClaims", "true"]);
    net.kitty(&a, "alice", &["lane", "WP01", "in_progress"])
        .ok();
    // Offline now: notes and other moves still work; a claim needs the remote, and so does
    // any move asked with --sync.
    let moved = net.seed.sandbox.path().join("gone.git");
    std::fs::rename(&net.remote, &moved).unwrap();
    net.kitty(&a, "alice", &["note", "WP01", "offline"]).ok();
    net.kitty(&a, "alice", &["lane", "WP02", "claimed"])
        .code(5)
        .stderr_has("could not fetch from origin");
    net.kitty(
        &a,
        "alice",
        &["lane", "WP01", "blocked", "--note", "waiting"],
    )
    .ok();
    net.kitty(&a, "alice", &["lane", "WP01", "in_progress", "--sync"])
        .code(5);
    assert_eq!(
        net.board(&a)[0],
        ("WP01".into(), "blocked".into(), "alice".into())
    );
}

#[test]
fn lane_sync_confirms_moves_that_keep_another_holder() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    net.kitty(&a, "alice", &["lane", "WP01", "in_progress", "--sync"])
        .ok();
    // Nothing to move and no state anywhere: a no-op, not an error.
    net.kitty(&b, "bob", &["lane", "WP02", "planned", "--sync"])
        .ok()
        .stdout_has("WP02 is already planned: nothing to do");
    // Bob blocks alice's WP (forced: she holds it). She still holds it, and bob's move is
    // confirmed, not mistaken for a lost claim.
    net.kitty(
        &b,
        "bob",
        &[
            "lane",
            "WP01",
            "blocked",
            "--force",
            "--reason",
            "API frozen",
            "--sync",
        ],
    )
    .ok()
    .stdout_has("WP01: in_progress -> blocked (bob) (forced)");
    net.kitty(&a, "alice", &["pull"]).ok();
    assert_eq!(
        net.board(&a)[0],
        ("WP01".into(), "blocked".into(), "alice".into())
    );
}

#[test]
fn damaged_remote_refs_are_refused_and_the_others_pulled() {
    let net = Net::new("fan-out");
    let (a, b) = (net.clone("a"), net.clone("b"));
    net.kitty(&a, "alice", &["note", "WP02", "mine"]).ok();
    net.kitty(&b, "bob", &["note", "WP03", "bob's"]).ok();
    net.kitty(&b, "bob", &["push"]).ok();
    // On the remote, WP02's state points at an ordinary commit, WP04's at WP03's state.
    let remote = net.remote.clone();
    let main = net.git(&remote, &["rev-parse", "main"]);
    let wp03 = net.git(&remote, &["rev-parse", "refs/kitty/wp/001-fan-out/WP03"]);
    for (wp, target) in [("WP02", &main), ("WP04", &wp03)] {
        let name = format!("refs/kitty/wp/001-fan-out/{wp}");
        net.git(&remote, &["update-ref", &name, target.trim()]);
    }
    let local_wp02 = net.git(&a, &["rev-parse", "refs/kitty/wp/001-fan-out/WP02"]);
    // Diverged (WP02) or new (WP04): either way refused, local state untouched, WP03 pulled.
    net.kitty(&a, "alice", &["pull"])
        .code(6)
        .stderr_has("001-fan-out/WP02: the remote's state of 001-fan-out/WP02 cannot be used")
        .stderr_has("has no `kitty-state` header: not a git kitty state commit")
        .stderr_has("001-fan-out/WP04: the remote's state of 001-fan-out/WP04 cannot be used")
        .stderr_has("it holds the state of 001-fan-out/WP03")
        .stderr_has("its local state was left as it was")
        .stdout_has("001-fan-out/WP03: new from the remote");
    assert_eq!(
        net.git(&a, &["rev-parse", "refs/kitty/wp/001-fan-out/WP02"]),
        local_wp02
    );
    assert_eq!(
        net.git(&a, &["for-each-ref", "refs/kitty/wp/001-fan-out/WP04"]),
        ""
    );
    let json = net.kitty(&a, "alice", &["pull", "--json"]).code(6).json();
    assert_eq!(json["failed"].as_array().unwrap().len(), 2, "{json:#}");
    // The board still shows everything, WP02 with alice's local state.
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    assert_eq!(
        crate::common::wp(&status, "001-fan-out", "WP02")["sync"],
        "diverged"
    );
    net.kitty(&a, "alice", &["check"]).ok();
}

/// A plan of `n` independent WPs, `001-wide/WP01`..: any of them can be started.
fn wide(n: usize) -> Repo {
    let repo = Repo::new();
    for i in 1..=n {
        repo.write(
            &format!("kitty-specs/001-wide/tasks/WP{i:02}-w.md"),
            &format!("---\nwork_package_id: WP{i:02}\ntitle: W{i}\n---\n# WP{i:02}\n"),
        );
    }
    repo.commit_all("plan: wide");
    repo
}

/// Write a raw object into `git_dir` (`git hash-object -t <kind> -w --stdin`): its id.
fn raw_object(net: &Net, git_dir: &Path, kind: &str, content: &str) -> String {
    let mut child = net
        .seed
        .command_in("git", git_dir)
        .args(["hash-object", "-t", kind, "-w", "--literally", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(content.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A commit whose `kitty-event`/`kitty-state` headers hold `state` and `event`.
fn state_like_commit(net: &Net, git_dir: &Path, event: &str, state: &str) -> String {
    let tree = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
    let who = "x <x@example.invalid> 1700000000 +0000";
    let text = format!(
        "tree {tree}\nauthor {who}\ncommitter {who}\nkitty-event {event}\nkitty-state {state}\n\nforged\n"
    );
    raw_object(net, git_dir, "commit", &text)
}

/// Seven ways the remote's state ref of a WP can be damaged: (label, what it points at).
fn damage_the_remote(net: &Net) -> Vec<(&'static str, String)> {
    let remote = net.remote.clone();
    // A real state of another WP (WP08), pushed by someone.
    let other = net.clone("other");
    net.kitty(&other, "olga", &["note", "WP08", "hello"]).ok();
    net.kitty(&other, "olga", &["push"]).ok();
    let wp08 = net.git(&remote, &["rev-parse", "refs/kitty/wp/001-wide/WP08"]);
    net.git(&remote, &["tag", "-a", "-m", "a tag", "v1", "main"]);
    net.git(&remote, &["mktree"]);
    let targets = vec![
        ("blob", raw_object(net, &remote, "blob", "not a state\n")),
        (
            "tree",
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904".to_owned(),
        ),
        (
            "tag",
            net.git(&remote, &["rev-parse", "v1"]).trim().to_owned(),
        ),
        (
            "ordinary commit",
            net.git(&remote, &["rev-parse", "main"]).trim().to_owned(),
        ),
        ("another WP's state", wp08.trim().to_owned()),
        (
            "newer schema",
            state_like_commit(net, &remote, r#"{"v":99}"#, r#"{"v":99}"#),
        ),
        (
            "unreadable JSON",
            state_like_commit(net, &remote, r#"{"v":1,"kind":"#, r#"{"v":1,"lane":"#),
        ),
    ];
    for (i, (_, target)) in targets.iter().enumerate() {
        let name = format!("refs/kitty/wp/001-wide/WP{:02}", i + 1);
        net.git(&remote, &["update-ref", &name, target]);
    }
    targets
}

#[test]
fn a_damaged_remote_state_never_leaves_a_claim_without_a_worktree() {
    let net = Net::seeded(wide(9));
    let damaged = damage_the_remote(&net);
    let a = net.clone("a");
    // What can be pulled is (WP08's note); the damaged ones are reported.
    net.kitty(&a, "alice", &["pull"]).code(6);
    let local_refs = |dir: &Path| {
        net.git(
            dir,
            &[
                "for-each-ref",
                "--format=%(refname)",
                "refs/kitty/wp",
                "refs/heads",
            ],
        )
    };
    let before = local_refs(&a);
    for (i, (label, _)) in damaged.iter().enumerate() {
        let wp = format!("WP{:02}", i + 1);
        for args in [
            vec!["implement", wp.as_str(), "--sync"],
            vec!["lane", wp.as_str(), "claimed", "--sync"],
            vec!["lane", wp.as_str(), "in_progress", "--sync"],
        ] {
            let run = net.kitty(&a, "alice", &args);
            run.code(6)
                .stderr_has(&format!(
                    "error: the remote's state of 001-wide/{wp} cannot be used"
                ))
                .stderr_has("; nothing was changed here");
            assert_eq!(
                local_refs(&a),
                before,
                "{label}: {args:?} left something\n{run:#?}"
            );
            assert!(
                !a.join(format!(".worktrees/001-wide-{wp}")).exists(),
                "{label}"
            );
        }
    }
    // `next --sync` passes over the damaged ones (saying so) and takes a sound one.
    let run = net.kitty(&a, "alice", &["next", "--sync"]);
    run.ok().stderr_has("WP08: in_progress (alice)");
    for i in 1..=damaged.len() {
        run.stderr_has(&format!(
            "skipping WP{i:02}: the remote's state of 001-wide/WP{i:02} cannot be used"
        ));
    }
    assert!(a.join(".worktrees/001-wide-WP08").is_dir());
    net.kitty(&a, "alice", &["check"]).ok();
}

#[test]
fn a_claim_whose_remote_state_breaks_meanwhile_is_undone() {
    // The remote's state of WP01 is damaged while the claim is on its way (a hook does it
    // once, before the update): the push is stale, the fetch brings the damage, and the
    // claim, which cannot be confirmed against it, is taken back.
    let net = Net::seeded(wide(2));
    let a = net.clone("a");
    let main = net.git(&net.remote.clone(), &["rev-parse", "main"]);
    let hook = net.remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\nif [ ! -e once ]; then touch once; \
             env -u GIT_QUARANTINE_PATH git update-ref refs/kitty/wp/001-wide/WP01 {}; fi\n",
            main.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    net.kitty(&a, "alice", &["implement", "WP01", "--sync"])
        .code(6)
        .stderr_has("the remote's state of 001-wide/WP01 cannot be used")
        .stderr_has("WP01's change was not confirmed and is undone");
    assert_eq!(
        net.git(
            &a,
            &["for-each-ref", "refs/kitty/wp", "refs/heads/001-wide-WP01"]
        ),
        ""
    );
    assert!(!a.join(".worktrees/001-wide-WP01").exists());
}
