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
    net.kitty(&b, "bob", &["merge"]).ok().stdout_has("WP01");
    assert_eq!(
        std::fs::read_to_string(b.join("a.txt")).unwrap(),
        "alice's work\n"
    );
    net.git(&b, &["push", "-q", "origin", "main"]);
    net.kitty(&b, "bob", &["push"]).ok();
    // A sees it done.
    net.kitty(&a, "alice", &["pull"]).ok();
    let status = net.kitty(&a, "alice", &["status", "--json"]).ok().json();
    assert_eq!(wp(&status, "001-linear", "WP01")["lane"], "done");
}
