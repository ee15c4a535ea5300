//! The state in refs under stress and damage: no lost update, one owner, bad refs.

use std::process::{Child, Stdio};

use crate::common::{Repo, wp};

/// A feature with `n` independent WPs.
fn wide(n: usize) -> Repo {
    let repo = Repo::new();
    for i in 1..=n {
        repo.write(
            &format!("kitty-specs/001-wide/tasks/WP{i:02}-w.md"),
            &format!("---\nwork_package_id: WP{i:02}\ntitle: Wide {i}\ndependencies: []\n---\n"),
        );
    }
    repo.commit_all("plan");
    repo
}

fn finish(children: Vec<Child>) -> Vec<(i32, String, String)> {
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        })
        .collect()
}

#[test]
fn sixteen_writers_on_sixteen_wps_lose_nothing() {
    let repo = wide(16);
    let children: Vec<Child> = (1..=16)
        .map(|i| {
            let id = format!("WP{i:02}");
            let agent = format!("agent-{i}");
            repo.spawn_kitty(&["lane", &id, "claimed", "--agent", &agent])
        })
        .collect();
    for (code, _, err) in finish(children) {
        assert_eq!(code, 0, "{err}");
    }
    let status = repo.kitty(&["status", "--json"]).ok().json();
    for i in 1..=16 {
        let w = wp(&status, "001-wide", &format!("WP{i:02}"));
        assert_eq!(w["lane"], "claimed");
        assert_eq!(w["agent"], format!("agent-{i}"));
    }
}

#[test]
fn sixteen_notes_on_one_wp_all_survive() {
    let repo = wide(1);
    let children: Vec<Child> = (1..=16)
        .map(|i| {
            repo.spawn_kitty(&[
                "note",
                "WP01",
                &format!("note {i}"),
                "--agent",
                &format!("a{i}"),
            ])
        })
        .collect();
    for (code, _, err) in finish(children) {
        assert_eq!(code, 0, "{err}");
    }
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    let mut notes: Vec<String> = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["note"].as_str().unwrap().to_owned())
        .collect();
    notes.sort();
    let mut expected: Vec<String> = (1..=16).map(|i| format!("note {i}")).collect();
    expected.sort();
    assert_eq!(notes, expected);
    // A chain, not a tree: each event is on top of the previous one.
    let count = repo.git(&[
        "rev-list",
        "--count",
        "--first-parent",
        "refs/kitty/wp/001-wide/WP01",
    ]);
    assert_eq!(count.trim(), "16");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-wide", "WP01")["state"]["events"], 16);
}

#[test]
fn sixteen_claims_of_one_wp_have_exactly_one_winner() {
    let repo = wide(1);
    let children: Vec<Child> = (1..=16)
        .map(|i| repo.spawn_kitty(&["lane", "WP01", "claimed", "--agent", &format!("agent-{i}")]))
        .collect();
    let results = finish(children);
    let winners: Vec<&(i32, String, String)> = results.iter().filter(|r| r.0 == 0).collect();
    assert_eq!(winners.len(), 1, "{results:#?}");
    let winner = winners[0]
        .1
        .trim()
        .rsplit('(')
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_owned();
    for (code, _, err) in results.iter().filter(|r| r.0 != 0) {
        assert_eq!(*code, 1, "{err}");
        assert!(
            err.contains(&format!("error: WP01 is claimed by {winner}")),
            "loser was not told who holds it: {err}"
        );
    }
    let status = repo.kitty(&["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-wide", "WP01")["agent"], winner.as_str());
    let count = repo.git(&["rev-list", "--count", "refs/kitty/wp/001-wide/WP01"]);
    assert_eq!(count.trim(), "1");
}

/// Write an object with `git hash-object` and return its id.
fn hash_object(repo: &Repo, kind: &str, content: &str) -> String {
    let mut child = repo
        .command_in("git", &repo.root)
        .args(["hash-object", "-w", "-t", kind, "--stdin"])
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

#[test]
fn corrupt_or_foreign_refs_are_reported_and_skipped() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["lane", "WP02", "claimed"]).ok();
    let blob = hash_object(&repo, "blob", "not a commit\n");
    repo.git(&["update-ref", "refs/kitty/wp/001-fan-out/WP01", &blob]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["update-ref", "refs/kitty/wp/001-fan-out/WP03", head.trim()]);
    repo.git(&[
        "update-ref",
        "refs/kitty/wp/001-fan-out/not-a-wp",
        head.trim(),
    ]);

    let run = repo.kitty(&["status"]);
    run.ok()
        .stdout_has("WP02 API")
        .stdout_has("refs/kitty/wp/001-fan-out/WP01: warning[bad-state-ref]")
        .stdout_has("refs/kitty/wp/001-fan-out/WP03: warning[bad-state-ref]: commit ")
        .stdout_has("has no `kitty-state` header: not a git kitty state commit")
        .stdout_has("refs/kitty/wp/001-fan-out/not-a-wp: warning[bad-state-ref]: not a `refs/kitty/wp/<feature>/<WP>` state ref");
    let status = repo.kitty(&["status", "--json"]).ok().json();
    // Skipped refs fall back to the plan; the good one still counts.
    assert_eq!(wp(&status, "001-fan-out", "WP01")["lane_source"], "default");
    assert_eq!(wp(&status, "001-fan-out", "WP02")["lane"], "claimed");
    repo.kitty(&["check"]).ok().stdout_has("3 warnings");

    // Writing on top of a damaged ref is refused with the way out, never overwritten.
    repo.kitty(&["lane", "WP01", "claimed"])
        .code(6)
        .stderr_has("error: cannot use the state of 001-fan-out/WP01 in refs/kitty/wp/001-fan-out/WP01")
.stderr_has("hint: inspect it with `git log refs/kitty/wp/001-fan-out/WP01`; `git kitty repair WP01 -f 001-fan-out` replaces it with a sound history (here and on the remote)");
    assert_eq!(
        repo.git(&["rev-parse", "refs/kitty/wp/001-fan-out/WP01"])
            .trim(),
        blob
    );
    // The way out: a repair, here (there is no remote), that starts the history again.
    repo.kitty(&["repair", "WP01"]).ok().stdout_is(&format!(
        "WP01: repaired (tester), now planned\n  replaced {} here: object {} is not a commit\n  kept nothing of it: the history starts again from the plan\n",
        &blob[..7],
        &blob[..7]
    ));
    repo.kitty(&["lane", "WP01", "claimed"]).ok();
    let log = repo.kitty(&["log", "WP01", "--json"]).ok().json();
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{log:#}");
    assert_eq!(events[1]["replaces"], blob.as_str());
    // An ordinary commit in WP03's place, and a ref outside the schema: the first repaired,
    // the second only named for removal.
    repo.kitty(&["repair", "WP03", "--local", "--json"])
        .ok()
        .json()["replaced"][0]["why"]
        .as_str()
        .unwrap()
        .contains("it has no `kitty-event` and `kitty-state` headers (an ordinary commit)")
        .then_some(())
        .unwrap();
    repo.kitty(&["check"])
        .ok()
        .stdout_has("it is not state: `git update-ref --no-deref -d refs/kitty/wp/001-fan-out/not-a-wp` removes it");
    repo.kitty(&["repair", "WP02"])
        .ok()
        .stdout_is("WP02: nothing to repair: its state is sound here\n");
}

#[test]
fn a_state_from_a_newer_schema_is_named_not_guessed() {
    let repo = Repo::with_fixture("fan-out");
    let tree = hash_object(&repo, "tree", "");
    let commit = hash_object(
        &repo,
        "commit",
        &format!(
            "tree {tree}\nauthor a <a@b> 1700000000 +0000\ncommitter a <a@b> 1700000000 +0000\nkitty-event {{\"v\":7}}\nkitty-state {{\"v\":7,\"lane\":\"teleported\"}}\n\nWP01: from the future\n"
        ),
    );
    repo.git(&["update-ref", "refs/kitty/wp/001-fan-out/WP01", &commit]);
    repo.kitty(&["status"]).ok().stdout_has(
        "it was written by a newer git kitty (state schema v7; this one reads up to v1)",
    );
    repo.kitty(&["lane", "WP01", "claimed"]).code(6).stderr_has(
        "it was written by a newer git kitty (state schema v7; this one reads up to v1)",
    );
    repo.kitty(&["log", "WP01"])
        .code(6)
        .stderr_has("state schema v7");
}
