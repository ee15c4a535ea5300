//! WP branches travel with state (`push`, `pull`, `sync`, `init`), `review` on another
//! machine, `merge` from the remote's copy, and what `status` says about worktrees on other
//! machines and about a clone that never fetched state: two or three clones of a bare remote
//! over `file://`.

use std::path::{Path, PathBuf};

use crate::common::net::Net;
use crate::common::wp;

const BRANCH: &str = "001-linear-WP01";

/// Machine A implements WP01 of the linear plan, commits `a.txt` and sends it for review;
/// nothing is pushed yet. A's worktree.
fn implemented_on_a(net: &Net, a: &Path) -> PathBuf {
    let wt = net.printed_path(&net.kitty(a, "alice", &["implement", "WP01"]).ok().stdout);
    net.commit(&wt, "a.txt", "alice's work\n");
    net.kitty(&wt, "alice", &["lane", "for_review"]).ok();
    wt
}

/// A's WP01 (as [`implemented_on_a`]) pushed and pulled by B. A's worktree.
fn shared_with_b(net: &Net, a: &Path, b: &Path) -> PathBuf {
    let wt = implemented_on_a(net, a);
    net.kitty(a, "alice", &["push"]).ok();
    net.kitty(b, "bob", &["pull"]).ok();
    wt
}

/// A's WP01 (as [`shared_with_b`]); B reviews and approves it (nothing of B's pushed). A's
/// worktree.
fn approved_on_b(net: &Net, a: &Path, b: &Path) -> PathBuf {
    let wt = shared_with_b(net, a, b);
    net.kitty(b, "bob", &["review", "WP01"]).ok();
    net.kitty(b, "bob", &["lane", "WP01", "approved"]).ok();
    wt
}

/// A's WP01 (as [`shared_with_b`]); B takes its review and commits `b.txt` in the review's
/// worktree (nothing pushed). A's worktree, and B's commit.
fn fixed_on_b(net: &Net, a: &Path, b: &Path) -> (PathBuf, String) {
    let wt = shared_with_b(net, a, b);
    let review = net.printed_path(&net.kitty(b, "bob", &["review", "WP01"]).ok().stdout);
    let fix = net.commit(&review, "b.txt", "bob's fix\n");
    (wt, fix)
}

#[test]
fn machine_b_reviews_and_lands_what_machine_a_implemented() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    let wt = implemented_on_a(&net, &a);
    let tip = net.git(&wt, &["rev-parse", "HEAD"]).trim().to_owned();
    net.kitty(&a, "alice", &["push"])
        .ok()
        .stdout_has("001-linear/WP01: pushed")
        .stdout_has(&format!("001-linear/WP01: branch {BRANCH} pushed"));
    assert_eq!(
        net.remote_ref(&format!("refs/heads/{BRANCH}")),
        Some(tip.clone())
    );
    // A's tracking ref follows: a second push has nothing to send.
    let again = net.kitty(&a, "alice", &["push", "--json"]).ok().json();
    assert!(again.get("branches").is_none(), "{again:#}");

    // B pulls: the branch lands in the ordinary tracking ref; no local branch is made.
    net.kitty(&b, "bob", &["pull"]).ok();
    assert_eq!(
        net.local_ref(&b, &format!("refs/remotes/origin/{BRANCH}")),
        Some(tip.clone())
    );
    assert_eq!(net.local_ref(&b, &format!("refs/heads/{BRANCH}")), None);
    net.kitty(&b, "bob", &["status"])
        .ok()
        .stdout_has("Elsewhere       WP01  First")
        .stdout_has("on another machine (alice):")
        .stdout_has("`git kitty review WP01` reviews it here");
    let status = net.kitty(&b, "bob", &["status", "--json"]).ok().json();
    assert_eq!(
        wp(&status, "001-linear", "WP01")["worktree_elsewhere"],
        true
    );
    assert_eq!(wp(&status, "001-linear", "WP01")["worktree_missing"], false);
    // Not a missing worktree for check either.
    let check = net.kitty(&b, "bob", &["check", "--json"]).ok().json();
    assert!(!check.to_string().contains("missing-worktree"), "{check:#}");

    // B reviews: a worktree of a local branch made from origin's copy.
    let run = net.kitty(&b, "bob", &["review", "WP01"]);
    run.ok()
        .stderr_has("WP01: in_review (bob)")
        .stderr_has(&format!("branch    {BRANCH}  made from origin/{BRANCH}"));
    let review_wt = net.printed_path(&run.stdout);
    assert_eq!(review_wt, b.join(format!(".worktrees/{BRANCH}")));
    assert_eq!(
        std::fs::read_to_string(review_wt.join("a.txt")).unwrap(),
        "alice's work\n"
    );
    let status = net.kitty(&b, "bob", &["status", "--json"]).ok().json();
    let wp01 = wp(&status, "001-linear", "WP01");
    assert_eq!(wp01["lane"], "in_review");
    assert_eq!(wp01["reviewer"], "bob");
    assert_eq!(wp01["worktree_elsewhere"], false);
    // The same reviewer again: the worktree handed back, nothing moved.
    net.kitty(&b, "bob", &["review", "WP01", "--json"])
        .ok()
        .json()["reused"]
        .as_bool()
        .filter(|r| *r)
        .expect("reused");

    net.kitty(&b, "bob", &["lane", "WP01", "approved"]).ok();
    // The server guards review: the approval goes out before main, the done state after.
    net.kitty(&b, "bob", &["merge", "--push"])
        .ok()
        .stdout_has("WP01")
        .stdout_has(&format!(
            "Pushed main and state to origin.\n  deleted {BRANCH} on origin\n"
        ));
    // The landed branch is gone there as it is here (its tracking ref too).
    assert_eq!(net.remote_ref(&format!("refs/heads/{BRANCH}")), None);
    assert_eq!(
        net.local_ref(&b, &format!("refs/remotes/origin/{BRANCH}")),
        None
    );
    assert_eq!(
        std::fs::read_to_string(b.join("a.txt")).unwrap(),
        "alice's work\n"
    );
    assert_eq!(
        net.remote_ref("refs/heads/main"),
        Some(net.git(&b, &["rev-parse", "main"]).trim().to_owned())
    );
    // A sees it done.
    net.kitty(&a, "alice", &["pull"]).ok();
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP01")["lane"], "done");
    // Landed work's branch, deleted from the remote, is not sent back by A (which still has
    // its worktree and branch).
    net.kitty(&a, "alice", &["sync"]).ok();
    assert!(net.local_ref(&a, &format!("refs/heads/{BRANCH}")).is_some());
    assert_eq!(net.remote_ref(&format!("refs/heads/{BRANCH}")), None);
}

#[test]
fn a_clone_that_never_implemented_lands_from_the_remote_copy() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    shared_with_b(&net, &a, &b);
    // Reviewed by lane moves alone: no worktree, no local branch on B.
    net.kitty(&b, "bob", &["lane", "WP01", "in_review"]).ok();
    net.kitty(&b, "bob", &["status"]).ok().stdout_has(
        "Elsewhere       WP01  First                         implemented on another machine (alice), in",
    ).stdout_has("review (bob)");
    net.kitty(&b, "bob", &["lane", "WP01", "approved"]).ok();
    net.kitty(&b, "bob", &["status"])
        .ok()
        .stdout_has("Elsewhere       WP01  First                         implemented on another machine (alice):\n                        `git kitty merge WP01` lands it here\n");
    // What the issue saw: implement suggested, and refusing. Now the refusal says what works.
    net.kitty(&b, "bob", &["implement", "WP01"]).code(1).stderr_is(
        "error: WP01 is approved: implement starts planned work\nhint: `git kitty merge WP01` lands it\nhint: to reopen it: `git kitty lane WP01 in_progress --force --reason \"...\"`\n",
    );
    net.kitty(&b, "bob", &["merge", "--dry-run"])
        .ok()
        .stdout_has("WP01");
    let dry = net
        .kitty(&b, "bob", &["merge", "--dry-run", "--json"])
        .ok()
        .json();
    assert_eq!(dry["skipped"].as_array().map_or(0, Vec::len), 0, "{dry:#}");
    net.kitty(&b, "bob", &["merge"]).ok();
    assert_eq!(
        std::fs::read_to_string(b.join("a.txt")).unwrap(),
        "alice's work\n"
    );
    assert_eq!(net.local_ref(&b, &format!("refs/heads/{BRANCH}")), None);
    let status = net.kitty(&b, "bob", &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP01")["lane"], "done");
}

#[test]
fn pull_moves_branches_no_worktree_has_and_reports_the_others() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    let (wt, fixed) = fixed_on_b(&net, &a, &b);
    net.kitty(&b, "bob", &["push"])
        .ok()
        .stdout_has(&format!("001-linear/WP01: branch {BRANCH} pushed"));

    // A's branch is checked out in A's worktree: fetched, not moved, and said so.
    let run = net.kitty(&a, "alice", &["pull"]);
    run.ok().stderr_has(&format!(
        "warning: 001-linear/WP01: branch {BRANCH} not moved to origin/{BRANCH}: it is checked out in {}; `git merge --ff-only origin/{BRANCH}` there brings its commits",
        net.shown(&wt)
    ));
    let json = net.kitty(&a, "alice", &["pull", "--json"]).ok().json();
    assert_eq!(json["branches"][0]["outcome"], "checked_out", "{json:#}");
    assert_ne!(
        net.local_ref(&a, &format!("refs/heads/{BRANCH}")),
        Some(fixed.clone())
    );
    // Once no worktree has it, the next pull fast-forwards it.
    net.git(&a, &["worktree", "remove", wt.to_str().unwrap()]);
    net.kitty(&a, "alice", &["pull"])
        .ok()
        .stdout_has(&format!("001-linear/WP01: branch {BRANCH} fast-forwarded"));
    assert_eq!(
        net.local_ref(&a, &format!("refs/heads/{BRANCH}")),
        Some(fixed)
    );
    // A's worktree is missing here (its branch is here), and the hint is the reviewer's.
    net.kitty(&a, "alice", &["status"])
        .ok()
        .stdout_has("No worktree     WP01  First")
        .stdout_has("`git kitty review WP01 --agent bob` makes it");
    let check = net.kitty(&a, "alice", &["check"]);
    let all = format!("{}{}", check.stdout, check.stderr);
    assert!(
        all.contains("WP01 is in_review (bob), but its worktree .worktrees/001-linear-WP01 is missing: `git kitty review WP01 --agent bob` makes it again"),
        "{all}"
    );
    // B, where the review is, has nothing to warn about.
    let check = net.kitty(&b, "bob", &["check"]);
    assert!(!format!("{}{}", check.stdout, check.stderr).contains("missing"));
}

#[test]
fn a_push_never_drops_commits_of_another_machine() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    let (wt, bobs) = fixed_on_b(&net, &a, &b);
    net.kitty(&b, "bob", &["push"]).ok();
    // Meanwhile A commits too, without fetching: its lease names the tip it last saw.
    net.commit(&wt, "c.txt", "alice again\n");
    net.kitty(&a, "alice", &["note", "WP02", "next up"]).ok();
    let run = net.kitty(&a, "alice", &["push"]);
    run.ok().stderr_has(&format!(
        "warning: 001-linear/WP01: branch {BRANCH} not pushed: it diverged on origin since the last fetch; pull first (`git kitty pull`)"
    ));
    assert_eq!(
        net.remote_ref(&format!("refs/heads/{BRANCH}")),
        Some(bobs.clone())
    );
    // State went out all the same: one branch refused holds back nothing else.
    run.stdout_has("001-linear/WP02: pushed");
    assert_eq!(
        net.remote_ref("refs/kitty/wp/001-linear/WP02"),
        net.local_ref(&a, "refs/kitty/wp/001-linear/WP02")
    );
    // After a pull A knows: both sides have commits; neither is changed, by pull or push.
    net.kitty(&a, "alice", &["pull"]).ok().stderr_has(&format!(
        "warning: 001-linear/WP01: branch {BRANCH} and origin/{BRANCH} both have commits the other lacks: neither was changed"
    ));
    let json = net.kitty(&a, "alice", &["push", "--json"]).ok().json();
    assert_eq!(json["branches"][0]["outcome"], "diverged", "{json:#}");
    assert_eq!(net.remote_ref(&format!("refs/heads/{BRANCH}")), Some(bobs));
    // Merged in the worktree, it goes out as a fast-forward.
    net.git(
        &wt,
        &["merge", "-q", "--no-edit", &format!("origin/{BRANCH}")],
    );
    let merged = net.git(&wt, &["rev-parse", "HEAD"]).trim().to_owned();
    net.kitty(&a, "alice", &["push"])
        .ok()
        .stdout_has(&format!("branch {BRANCH} pushed"));
    assert_eq!(
        net.remote_ref(&format!("refs/heads/{BRANCH}")),
        Some(merged)
    );
}

#[test]
fn only_branches_git_kitty_owns_are_pushed() {
    let net = Net::new("linear");
    let a = net.clone("a");
    implemented_on_a(&net, &a);
    // Named like WP02's branch, but no state names it; and an ordinary branch.
    net.git(&a, &["branch", "001-linear-WP02"]);
    net.git(&a, &["branch", "feature-x"]);
    // WP03 has state, but it names no branch.
    net.kitty(&a, "alice", &["lane", "WP03", "claimed"]).ok();
    let json = net.kitty(&a, "alice", &["push", "--json"]).ok().json();
    let pushed: Vec<&str> = json["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["branch"].as_str().unwrap())
        .collect();
    assert_eq!(pushed, [BRANCH]);
    assert!(net.remote_ref(&format!("refs/heads/{BRANCH}")).is_some());
    assert_eq!(net.remote_ref("refs/heads/001-linear-WP02"), None);
    assert_eq!(net.remote_ref("refs/heads/feature-x"), None);
}

#[test]
fn review_takes_only_work_for_review_and_leaves_nothing_when_refused() {
    let net = Net::new("linear");
    let (a, b, c) = (net.clone("a"), net.clone("b"), net.clone("c"));
    net.kitty(&b, "bob", &["review", "WP02"])
        .code(1)
        .stderr_is("error: WP02 is planned: review takes work that is for_review\nhint: the state of origin was never fetched here: `git kitty pull` brings it (or `git kitty review WP02 --sync`)\nhint: `git kitty lane WP02 for_review` once its work is committed; `git kitty status` shows what waits for review\n");
    implemented_on_a(&net, &a);
    // State pushed, branch not (an older git kitty on A): nothing to check out on B.
    net.kitty(&a, "alice", &["push"]).ok();
    net.kitty(&a, "alice", &["pull"]).ok();
    net.git(
        &a,
        &["push", "-q", "origin", &format!(":refs/heads/{BRANCH}")],
    );
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&b, "bob", &["review", "WP01"])
        .code(1)
        .stderr_is(&format!("error: WP01 has no branch {BRANCH} here nor on origin as last fetched\nhint: `git kitty pull` fetches it once its implementer's machine pushed it (`git kitty push` there)\n"));
    assert_eq!(
        net.kitty(&b, "bob", &["status", "--json"]).ok().json()["features"][0]["work_packages"][0]
            ["lane"],
        "for_review"
    );
    // A pushes it again (its tracking ref still names it: the lease is on that value).
    net.git(&a, &["fetch", "-q", "--prune", "origin"]);
    net.kitty(&a, "alice", &["push"]).ok().stdout_has("pushed");
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&c, "carol", &["pull"]).ok();
    // Carol takes the review first; Bob's attempt leaves no branch and no worktree behind.
    net.kitty(&c, "carol", &["review", "WP01", "--sync"]).ok();
    net.kitty(&b, "bob", &["review", "WP01", "--sync"])
        .code(1)
        .stderr_has("error: WP01 is in review by carol");
    assert_eq!(net.local_ref(&b, &format!("refs/heads/{BRANCH}")), None);
    assert!(!b.join(format!(".worktrees/{BRANCH}")).exists());
    // Approved work is merged, not reviewed.
    net.kitty(&c, "carol", &["lane", "WP01", "approved"]).ok();
    net.kitty(&c, "carol", &["review", "WP01"])
        .code(1)
        .stderr_is("error: WP01 is approved already\nhint: `git kitty merge WP01` lands it\n");
}

#[test]
fn a_branch_restacked_here_replaces_its_old_copy_on_the_remote() {
    let net = Net::new("linear");
    let a = net.clone("a");
    let wt1 = implemented_on_a(&net, &a);
    let wt2 = net.printed_path(
        &net.kitty(&a, "bea", &["implement", "WP02", "--base", "WP01"])
            .ok()
            .stdout,
    );
    net.commit(&wt2, "two.txt", "2\n");
    net.kitty(&a, "alice", &["push"]).ok();
    // WP01 moves on; WP02 is restacked onto it: its history is rewritten.
    net.commit(&wt1, "one-more.txt", "1+\n");
    net.kitty(&a, "bea", &["restack", "WP02"]).ok();
    let restacked = net.git(&wt2, &["rev-parse", "HEAD"]).trim().to_owned();
    // Not diverged for a pull either: the old copy is what the restack replaced.
    let pulled = net.kitty(&a, "alice", &["pull"]);
    pulled
        .ok()
        .stdout_has("001-linear/WP02: branch 001-linear-WP02 has commits origin lacks");
    assert!(!pulled.stderr.contains("warning"), "{}", pulled.stderr);
    net.kitty(&a, "alice", &["push"])
        .ok()
        .stdout_has("001-linear/WP01: branch 001-linear-WP01 pushed")
        .stdout_has("001-linear/WP02: branch 001-linear-WP02 pushed");
    assert_eq!(
        net.remote_ref("refs/heads/001-linear-WP02"),
        Some(restacked)
    );
}

#[test]
fn a_fresh_clone_says_it_never_fetched_state_and_init_then_fetch_brings_it() {
    let net = Net::new("linear");
    let (a, empty) = (net.clone("a"), net.clone("empty"));
    // A remote without state: once pulled, nothing more to say.
    net.kitty(&empty, "eve", &["status"])
        .ok()
        .stdout_has("state of origin never fetched here");
    net.kitty(&empty, "eve", &["pull"]).ok();
    let status = net.kitty(&empty, "eve", &["status"]);
    assert!(
        !status.ok().stdout.contains("never fetched"),
        "{}",
        status.stdout
    );

    implemented_on_a(&net, &a);
    net.kitty(&a, "alice", &["push"]).ok();
    let b = net.clone("b");
    net.kitty(&b, "bob", &["status"]).ok().stdout_has(
        "001-linear  0/3 done (0%) · 0% weighted\n  state of origin never fetched here: `git kitty pull` brings it (or `git kitty init` once, then `git fetch origin`)\n",
    );
    let json = net.kitty(&b, "bob", &["status", "--json"]).ok().json();
    assert_eq!(json["features"][0]["unfetched_remote"], "origin");
    // init once, then plain git fetch brings state and branches; pull --no-fetch merges.
    net.kitty(&b, "bob", &["init"])
        .ok()
        .stdout_has("added    remote.origin.fetch +refs/kitty/*:refs/kitty-remotes/origin/*");
    let status = net.kitty(&b, "bob", &["status"]);
    assert!(
        !status.ok().stdout.contains("never fetched"),
        "{}",
        status.stdout
    );
    net.git(&b, &["fetch", "-q"]);
    assert!(
        net.local_ref(&b, &format!("refs/remotes/origin/{BRANCH}"))
            .is_some()
    );
    net.kitty(&b, "bob", &["pull", "--no-fetch"])
        .ok()
        .stdout_has("001-linear/WP01: new from the remote");
    net.kitty(&b, "bob", &["status"])
        .ok()
        .stdout_has("`git kitty review WP01` reviews it here");
    net.kitty(&b, "bob", &["review", "WP01"]).ok();

    // A clone that fetches one branch only gets a pattern for the plan's WP branches.
    let single = net.seed.sandbox.path().join("single");
    net.seed.git(&[
        "clone",
        "-q",
        "--single-branch",
        "-b",
        "main",
        &net.url(),
        single.to_str().unwrap(),
    ]);
    net.kitty(&single, "sam", &["init"]).ok().stdout_has(
        "added    remote.origin.fetch +refs/heads/001-linear-WP*:refs/remotes/origin/001-linear-WP*",
    );
    net.git(&single, &["fetch", "-q"]);
    assert!(
        net.local_ref(&single, &format!("refs/remotes/origin/{BRANCH}"))
            .is_some()
    );
    assert_eq!(
        net.local_ref(&single, "refs/remotes/origin/feature-x"),
        None
    );
}

#[test]
fn the_same_agent_goes_on_with_its_work_on_another_machine() {
    let net = Net::new("linear");
    let (a, c) = (net.clone("a"), net.clone("c"));
    let wt = net.printed_path(&net.kitty(&a, "alice", &["implement", "WP01"]).ok().stdout);
    let tip = net.commit(&wt, "a.txt", "started on a\n");
    net.kitty(&a, "alice", &["sync"])
        .ok()
        .stdout_has(&format!("001-linear/WP01: branch {BRANCH} pushed"))
        .stdout_has("synced with origin");
    net.kitty(&c, "alice", &["pull"]).ok();
    // On c the worktree is made again from the branch a pushed, not from the base.
    let there = net.printed_path(&net.kitty(&c, "alice", &["implement", "WP01"]).ok().stdout);
    assert_eq!(net.git(&there, &["rev-parse", "HEAD"]).trim(), tip);
    assert_eq!(
        std::fs::read_to_string(there.join("a.txt")).unwrap(),
        "started on a\n"
    );
}

/// The README's "Working from several machines" blocks, run as written: a fresh clone takes
/// WP01 and pushes it; a second clone reviews, approves and lands it. No KITTY_AGENT: the
/// machines' `user.name`, and inside a worktree its holder, say who acts.
#[test]
fn the_readme_flow_across_machines_runs_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("## Working from several machines")
        .nth(1)
        .unwrap();
    let blocks: Vec<&str> = section
        .split("```sh\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .take(2)
        .collect();
    let first = blocks[0]
        .replace(
            "git clone git@example.com:team/project.git && cd project",
            "git clone -q \"$URL\" a && cd a",
        )
        .replace(
            "# ... work, commit ...",
            "echo work > work.txt && git add work.txt && git commit -q -m work",
        );
    let second = format!("git clone -q \"$URL\" b && cd b\n{}", blocks[1]);
    let net = Net::new("linear");
    let global = net.seed.sandbox.path().join("gitconfig");
    std::fs::write(&global, "[user]\n\tname = Build Machine\n").unwrap();
    let sh = |script: &str| {
        let out = net
            .seed
            .command_in("sh", net.seed.sandbox.path())
            .env_remove("KITTY_AGENT")
            .env("GIT_CONFIG_GLOBAL", &global)
            .env("URL", net.url())
            .arg("-ec")
            .arg(script)
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}\n{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = sh(&first);
    assert!(out.contains("state of origin never fetched here"), "{out}");
    let out = sh(&second);
    assert!(out.contains("on another machine (claude)"), "{out}");
    let b = net.seed.sandbox.path().join("b");
    assert_eq!(
        std::fs::read_to_string(b.join("work.txt")).unwrap(),
        "work\n"
    );
    let a = net.seed.sandbox.path().join("a");
    net.kitty(&a, "claude", &["pull"]).ok();
    let status = net.kitty(&a, "claude", &["status", "--json"]).ok().json();
    let wp01 = wp(&status, "001-linear", "WP01");
    assert_eq!(wp01["lane"], "done");
    assert_eq!(wp01["agent"], "claude");
    assert_eq!(wp01["reviewer"], "Build Machine");
    assert_eq!(
        net.remote_ref("refs/heads/main"),
        net.local_ref(&b, "refs/heads/main")
    );
}

#[test]
fn after_init_a_plain_git_push_in_a_worktree_sends_its_branch() {
    let net = Net::new("linear");
    let a = net.clone("a");
    net.kitty(&a, "alice", &["init"]).ok();
    let wt = net.printed_path(&net.kitty(&a, "alice", &["implement", "WP01"]).ok().stdout);
    let tip = net.commit(&wt, "a.txt", "alice's work\n");
    net.git(&wt, &["push", "-q", "origin"]);
    assert_eq!(net.remote_ref(&format!("refs/heads/{BRANCH}")), Some(tip));
    // State went with it; git updated the tracking ref, so git kitty has nothing left to send.
    assert!(net.remote_ref("refs/kitty/wp/001-linear/WP01").is_some());
    let json = net.kitty(&a, "alice", &["push", "--json"]).ok().json();
    assert!(json.get("branches").is_none(), "{json:#}");
}

#[test]
fn a_branch_the_remote_refuses_holds_back_no_other() {
    let net = Net::new("linear");
    let a = net.clone("a");
    implemented_on_a(&net, &a);
    let wt2 = net.printed_path(
        &net.kitty(&a, "bea", &["implement", "WP02", "--base", "WP01"])
            .ok()
            .stdout,
    );
    let two = net.commit(&wt2, "two.txt", "2\n");
    // The remote refuses WP01's branch only (an `update` hook runs once per ref).
    let hook = net.remote.join("hooks/update");
    std::fs::write(
        &hook,
        "#!/bin/sh\ncase \"$1\" in refs/heads/*-WP01) echo \"WP01 is frozen\" >&2; exit 1;; esac\nexit 0\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = net.kitty(&a, "alice", &["push"]);
    run.ok()
        .stdout_has("001-linear/WP02: branch 001-linear-WP02 pushed")
        .stderr_has(&format!(
            "warning: 001-linear/WP01: branch {BRANCH} not pushed: origin refused it: WP01 is frozen"
        ));
    assert_eq!(net.remote_ref("refs/heads/001-linear-WP02"), Some(two));
    assert_eq!(net.remote_ref(&format!("refs/heads/{BRANCH}")), None);
    let json = net.kitty(&a, "alice", &["push", "--json"]).ok().json();
    assert_eq!(json["branches"][0]["outcome"], "declined", "{json:#}");
}

#[test]
fn merge_push_when_the_remote_target_moved_says_how_to_finish() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    approved_on_b(&net, &a, &b);
    // Meanwhile main moves on the remote (A's unrelated commit).
    net.commit(&a, "unrelated.txt", "a's fix\n");
    net.git(&a, &["push", "-q", "origin", "main"]);

    let run = net.kitty(&b, "bob", &["merge", "--push"]);
    run.code(1)
        .stderr_has("error: could not push main to origin")
        .stderr_has("landed here: WP01")
        .stderr_has(
            "hint: bring main up to date with origin's (`git pull origin main`), then `git push origin main` and `git kitty push origin`",
        );
    // The approval went out first; the landing is here only.
    net.kitty(&a, "alice", &["pull"]).ok();
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP01")["lane"], "approved");
    // As the hint says.
    net.git(
        &b,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    net.git(&b, &["push", "-q", "origin", "main"]);
    net.kitty(&b, "bob", &["push", "origin"]).ok();
    net.kitty(&a, "alice", &["pull"]).ok();
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP01")["lane"], "done");
}

#[test]
fn merge_remote_needs_push() {
    let net = Net::new("linear");
    let a = net.clone("a");
    net.kitty(&a, "alice", &["merge", "--remote", "origin"])
        .code(2)
        .stderr_has("--push");
}

#[test]
fn merge_push_keeps_a_remote_branch_with_work_it_has_not_seen() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    let wt = approved_on_b(&net, &a, &b);
    // Alice pushes one more commit to the branch after bob's last fetch.
    net.commit(&wt, "late.txt", "late\n");
    net.git(&wt, &["push", "-q", "origin", BRANCH]);
    let late = net.remote_ref(&format!("refs/heads/{BRANCH}"));
    let out = net
        .kitty(&b, "bob", &["merge", "--push", "--json"])
        .ok()
        .json();
    assert_eq!(out["pushed"]["deleted_branches"], serde_json::json!([]));
    assert_eq!(out["pushed"]["kept_branches"][0]["branch"], BRANCH);
    assert_eq!(
        out["pushed"]["kept_branches"][0]["reason"],
        "origin's copy has commits this clone has not fetched"
    );
    assert_eq!(net.remote_ref(&format!("refs/heads/{BRANCH}")), late);
}

/// A dependency approved (or stacked on) on another machine: the dependent starts from the
/// dependency's work as the remote has it, not from the target branch without it; and when
/// that copy moves, status says stale and restack brings the dependent onto it.
#[test]
fn a_dependent_starts_from_the_remote_copy_of_its_dependency() {
    let net = Net::new("linear");
    let (a, b, c) = (net.clone("a"), net.clone("b"), net.clone("c"));
    let wt = implemented_on_a(&net, &a);
    net.kitty(&a, "alice", &["push"]).ok();
    // Stacking on work for review that only the remote's copy has here.
    net.kitty(&c, "carol", &["pull"]).ok();
    let stacked = net.kitty(&c, "carol", &["implement", "WP02", "--base", "WP01"]);
    let stacked_wt = net.printed_path(&stacked.ok().stdout);
    assert_eq!(
        std::fs::read_to_string(stacked_wt.join("a.txt")).unwrap(),
        "alice's work\n"
    );
    net.kitty(&c, "carol", &["abandon", "WP02"]).ok();

    // Approved on b, never landed: c's WP02 starts from it.
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "in_review"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "approved"]).ok();
    net.kitty(&b, "bob", &["push"]).ok();
    net.kitty(&c, "carol", &["pull"]).ok();
    let run = net.kitty(&c, "carol", &["implement", "WP02"]);
    run.ok().stderr_has("from WP01's branch at");
    let wt2 = net.printed_path(&run.stdout);
    assert_eq!(
        std::fs::read_to_string(wt2.join("a.txt")).unwrap(),
        "alice's work\n"
    );

    // WP01 sent back and fixed on a: c sees WP02 stale and restacks it onto the new copy.
    net.kitty(
        &b,
        "bob",
        &[
            "lane",
            "WP01",
            "in_progress",
            "--force",
            "--reason",
            "one more fix",
        ],
    )
    .ok();
    net.kitty(&b, "bob", &["push"]).ok();
    net.kitty(&a, "alice", &["pull"]).ok();
    let fixed = net.commit(&wt, "a.txt", "alice's fixed work\n");
    net.kitty(&a, "alice", &["push"]).ok();
    net.kitty(&c, "carol", &["pull"]).ok();
    let status = net.kitty(&c, "carol", &["status", "--json"]).ok().json();
    assert_eq!(
        wp(&status, "001-linear", "WP02")["stale"][0]["wp"],
        "WP01",
        "{status:#}"
    );
    net.kitty(&c, "carol", &["restack", "WP02"]).ok();
    assert!(
        net.git(&wt2, &["merge-base", "--is-ancestor", &fixed, "HEAD"])
            .is_empty()
    );
    assert_eq!(
        std::fs::read_to_string(wt2.join("a.txt")).unwrap(),
        "alice's fixed work\n"
    );
}

/// A dependency landed from another clone, and this clone's target has not caught up: merge
/// says to bring the target up to date (the hint, run as printed, lets it land), not to mark
/// the work landed by hand.
#[test]
fn merge_on_a_clone_whose_target_is_behind_says_to_bring_it_up_to_date() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    shared_with_b(&net, &a, &b);
    net.kitty(&b, "bob", &["lane", "WP01", "in_review"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "approved"]).ok();
    net.kitty(&b, "bob", &["merge", "--push"]).ok();
    // a: WP02 on top of the landed WP01, approved by b; a's main is still the clone's.
    net.kitty(&a, "alice", &["pull"]).ok();
    let wt2 = net.printed_path(&net.kitty(&a, "alice", &["implement", "WP02"]).ok().stdout);
    net.commit(&wt2, "b.txt", "alice's second\n");
    net.kitty(&wt2, "alice", &["lane", "for_review"]).ok();
    net.kitty(&a, "alice", &["push"]).ok();
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&b, "bob", &["lane", "WP02", "in_review"]).ok();
    net.kitty(&b, "bob", &["lane", "WP02", "approved"]).ok();
    net.kitty(&b, "bob", &["push"]).ok();
    net.kitty(&a, "alice", &["pull"]).ok();
    let run = net.kitty(&a, "alice", &["merge", "--dry-run"]);
    run.ok()
        .stdout_has("WP02  skipped: waits on unmerged WP01")
        .stdout_has("if it landed from another clone, `git pull --ff-only` where main is checked out brings it");
    net.git(&a, &["pull", "--ff-only"]);
    net.kitty(&a, "alice", &["merge", "--push"])
        .ok()
        .stdout_has("WP02: merged into main");
}

/// `--help` of push, pull and sync says what they do with WP branches, and names the agent in
/// the command that gives back a lost claim's worktree (as the hints print it).
#[test]
fn push_pull_and_sync_help_say_what_they_do_with_wp_branches() {
    let repo = crate::common::Repo::with_fixture("linear");
    let help = |cmd: &str| repo.kitty(&[cmd, "--help"]).ok().stdout.replace('\n', " ");
    let push = help("push");
    assert!(push.contains("refs/heads/<feature>-<WP>"), "{push}");
    assert!(push.contains("--force-with-lease=refs/heads/"), "{push}");
    let pull = help("pull");
    assert!(
        pull.contains("refs/remotes/<remote>/<feature>-<WP>"),
        "{pull}"
    );
    assert!(pull.contains("fast-forwards"), "{pull}");
    let sync = help("sync");
    assert!(sync.contains("WP branches"), "{sync}");
    for text in [&push, &pull, &sync] {
        assert!(
            text.contains("`git kitty abandon <WP> --agent <agent>`"),
            "{text}"
        );
    }
}

/// WP01 landed from another clone: the implementer's clone, once it pulls, sees its worktree
/// and branch left over, and `abandon` (as printed) removes them, writing no event; work the
/// remote does not have is not dropped without --force.
#[test]
fn a_wp_landed_from_another_clone_leaves_a_worktree_abandon_removes() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    let wt = approved_on_b(&net, &a, &b);
    net.kitty(&b, "bob", &["merge", "--push"]).ok();
    net.kitty(&a, "alice", &["pull"]).ok();
    let state = net.local_ref(&a, "refs/kitty/wp/001-linear/WP01");

    let text = net.kitty(&a, "reader", &["status"]).ok().stdout.clone();
    assert!(
        text.contains("Landed          WP01  First")
            && text.contains(
                "`git kitty abandon WP01` removes its worktree\n\
                 \x20                       and branch left here\n"
            ),
        "{text}"
    );
    let status = net.kitty(&a, "reader", &["status", "--json"]).ok().json();
    assert_eq!(
        wp(&status, "001-linear", "WP01")["left_here"],
        serde_json::json!({
            "worktree": format!(".worktrees/{BRANCH}"),
            "branch": BRANCH,
            "next": "git kitty abandon WP01",
        })
    );

    // The remote deleted the landed branch and a's main has not caught up with the landing:
    // the way is to bring main up to date, and it works as printed.
    net.kitty(&a, "reader", &["abandon", "WP01"])
        .code(1)
        .stderr_has("hint: if it landed from another clone, `git pull --ff-only` where main is checked out brings the landing; then run this again");
    net.git(&a, &["pull", "-q", "--ff-only"]);
    // A commit made after the landing, which the remote does not have: kept unless forced.
    net.commit(&wt, "late.txt", "after the landing\n");
    net.kitty(&a, "reader", &["abandon", "WP01"])
        .code(1)
        .stderr_has(&format!(
            "error: WP01 is done, and its worktree and branch here hold work that would be lost: 1 commit on {BRANCH} that no other branch has"
        ));
    assert!(wt.exists());
    net.git(&wt, &["reset", "-q", "--hard", "HEAD~1"]);
    net.kitty(&a, "reader", &["abandon", "WP01"])
        .ok()
        .stdout_has("WP01: done; removed what was left here of it");
    assert!(!wt.exists());
    assert_eq!(net.local_ref(&a, &format!("refs/heads/{BRANCH}")), None);
    assert_eq!(net.local_ref(&a, "refs/kitty/wp/001-linear/WP01"), state);
    let text = net.kitty(&a, "reader", &["status"]).ok().stdout.clone();
    assert!(!text.contains("Landed"), "{text}");
}

/// A `git kitty merge` made without --push, its approval never pushed either: the server takes
/// neither the done state alone (no work on main) nor main alone (not approved by its state).
/// `push` and `merge --push` say which one push the server takes, and it works as printed.
#[test]
fn a_landing_made_without_push_is_shared_as_the_refusal_says() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    shared_with_b(&net, &a, &b);
    net.kitty(&b, "bob", &["lane", "WP01", "in_review"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "approved"]).ok();
    net.kitty(&b, "bob", &["merge"]).ok();
    let way = "git push origin main refs/kitty/wp/001-linear/WP01";
    let hint = format!(
        "hint: WP01 landed here and is not done on origin yet: `{way}` sends the work with its state, as a server guarding review takes them; then `git kitty sync origin`"
    );
    net.kitty(&b, "bob", &["push"])
        .code(1)
        .stderr_has(&hint)
        .stderr_has("hint: push the target branch with the work in the same push as the state (`git push <remote> <target> refs/kitty/wp/001-linear/WP01`)");
    net.kitty(&b, "bob", &["merge", "--push"])
        .code(1)
        .stderr_has(&hint);
    let words: Vec<&str> = way.split(' ').skip(1).collect();
    net.git(&b, &words);
    net.kitty(&b, "bob", &["sync", "origin"]).ok();
    assert_eq!(net.remote_ref("main"), net.local_ref(&b, "refs/heads/main"));
    net.kitty(&a, "alice", &["pull"]).ok();
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP01")["lane"], "done");
}

/// A dependency squash-landed from another clone: its branch on the remote was never merged
/// (squashed), but the target has its work; a dependent on an up-to-date clone starts from the
/// target, not from the old branch.
#[test]
fn a_dependent_of_squash_landed_work_starts_from_the_target() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    shared_with_b(&net, &a, &b);
    net.kitty(&b, "bob", &["lane", "WP01", "in_review"]).ok();
    net.kitty(&b, "bob", &["lane", "WP01", "approved"]).ok();
    net.kitty(&b, "bob", &["merge", "--strategy", "squash", "--push"])
        .ok();
    let c = net.clone("c");
    net.kitty(&c, "carol", &["pull"]).ok();
    let main = net.git(&c, &["rev-parse", "main"]).trim().to_owned();
    let run = net.kitty(&c, "carol", &["implement", "WP02"]);
    run.ok().stderr_has(&format!("from main at {}", &main[..7]));
}

/// `review` on a clone that never fetched state (the WP reads as planned here) says to fetch
/// it first, and that works as printed.
#[test]
fn review_on_a_clone_that_never_fetched_state_says_to_pull() {
    let net = Net::new("linear");
    let (a, b) = (net.clone("a"), net.clone("b"));
    implemented_on_a(&net, &a);
    net.kitty(&a, "alice", &["push"]).ok();
    net.kitty(&b, "bob", &["review", "WP01"])
        .code(1)
        .stderr_has("error: WP01 is planned: review takes work that is for_review\nhint: the state of origin was never fetched here: `git kitty pull` brings it (or `git kitty review WP01 --sync`)\n");
    net.kitty(&b, "bob", &["pull"]).ok();
    net.kitty(&b, "bob", &["review", "WP01"])
        .ok()
        .stderr_has("WP01: in_review (bob)");
}
