//! Landing requires review (`kitty.landing.requireReview`, on by default): a WP's work reaches
//! a target branch only when the WP is approved (or done), on the client (every way a branch
//! moves, fast-forwards included) and on the server; every refusal says how to get out, and
//! the way out works as printed.

use std::path::{Path, PathBuf};

use crate::common::net::{self, hooked_bare};
use crate::common::{Repo, Run};

const REVIEW_HINT: &str = "hint: land reviewed work with git kitty: `git kitty lane WP01 for_review -f 001-linear`, a reviewer approves it (`git kitty lane WP01 approved -f 001-linear`), then `git kitty merge -f 001-linear`";

/// `git <args>` in `dir`, as a run to check (no editor).
fn git(repo: &Repo, dir: &Path, args: &[&str]) -> Run {
    let mut cmd = repo.command_in("git", dir);
    cmd.env("GIT_EDITOR", "true").args(args);
    Run::new(cmd.output().unwrap(), &repo.root)
}

/// A bare server with git kitty's hook as `origin` of `repo` (main pushed); its path.
fn server(repo: &Repo) -> PathBuf {
    let (bare, installed) = hooked_bare(repo, "shared.git");
    installed.stderr_has("work lands only once its work package is approved (kitty.landing.requireReview; `git config kitty.landing.requireReview false` turns that off)");
    net::add_origin(repo, &bare);
    repo.git(&["push", "-q", "origin", "main"]);
    bare
}

/// WP01 implemented and committed, still in progress.
fn in_progress(repo: &Repo) {
    repo.kitty(&["implement", "WP01"]).ok();
    repo.commit_in(&repo.worktree("001-linear-WP01"), "one.txt", "one\n");
}

#[test]
fn unreviewed_work_is_refused_by_every_client_hook_and_each_way_out_works() {
    let repo = Repo::with_fixture("linear");
    server(&repo);
    repo.kitty(&["hooks", "install"])
        .ok()
        .stdout_has("  reference-transaction installed\n");
    in_progress(&repo);
    let main = repo.git(&["rev-parse", "main"]);
    let root = repo.root.clone();

    // A fast-forward runs no pre-merge-commit: the reference-transaction hook refuses it.
    let run = git(&repo, &root, &["merge", "--ff-only", "001-linear-WP01"]);
    assert_ne!(run.code, 0);
    run.stderr_has("error: refusing to land 001-linear/WP01 on main: it is in_progress, not approved (kitty.landing.requireReview)\n")
        .stderr_has(REVIEW_HINT)
        .stderr_has("hint: main did not move; if a `git merge` or `git pull` changed the files, `git reset --merge` puts them back as main has them");
    assert_eq!(repo.git(&["rev-parse", "main"]), main);
    assert_ne!(repo.git(&["status", "--porcelain"]), "");
    git(&repo, &root, &["reset", "--merge"]).ok();
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert!(!repo.path("one.txt").exists());

    // A merge commit: pre-merge-commit refuses it, mid-merge; `git merge --abort` as hinted.
    git(
        &repo,
        &root,
        &["merge", "--no-ff", "--no-edit", "001-linear-WP01"],
    )
    .code(1)
    .stderr_has("error: refusing to land 001-linear/WP01 on main: it is in_progress, not approved")
    .stderr_has("hint: the merge stopped before its commit: `git merge --abort` takes it back out");
    git(&repo, &root, &["merge", "--abort"]).ok();
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // `--no-verify` skips pre-merge-commit, not the reference-transaction hook.
    let run = git(
        &repo,
        &root,
        &[
            "merge",
            "--no-ff",
            "--no-edit",
            "--no-verify",
            "001-linear-WP01",
        ],
    );
    assert_ne!(run.code, 0);
    run.stderr_has("hint: main did not move: `git merge --abort` takes the merge back out");
    git(&repo, &root, &["merge", "--abort"]).ok();
    // Moving the ref by hand is refused too.
    let run = git(
        &repo,
        &root,
        &["update-ref", "refs/heads/main", "001-linear-WP01"],
    );
    assert_ne!(run.code, 0);
    run.stderr_has("refusing to land 001-linear/WP01 on main: it is in_progress");
    assert_eq!(repo.git(&["rev-parse", "main"]), main);
}

#[test]
fn unreviewed_work_pushed_is_refused_by_pre_push_and_the_server_and_the_right_way_lands() {
    let repo = Repo::with_fixture("linear");
    server(&repo);
    repo.kitty(&["hooks", "install"]).ok();
    in_progress(&repo);
    let main = repo.git(&["rev-parse", "main"]);
    let root = repo.root.clone();
    // Without the client's hooks, pre-push (the next line of defence) refuses, with the way
    // back; then the server.
    repo.git(&[
        "-c",
        "core.hooksPath=/dev/null",
        "merge",
        "-q",
        "--ff-only",
        "001-linear-WP01",
    ]);
    let run = git(&repo, &root, &["push", "origin", "main"]);
    run.code(1)
        .stderr_has("error: refusing to land 001-linear/WP01 on main: it is in_progress, not approved")
        .stderr_has(&format!(
            "hint: nothing was pushed; to take the work back off main here: `git reset --keep {}` on main (main before {}, the first commit refused)",
            &main[..7],
            &repo.git(&["rev-parse", "001-linear-WP01"])[..7]
        ));
    git(&repo, &root, &["push", "--no-verify", "origin", "main"])
        .code(1)
        .stderr_has("remote: error: refusing to land 001-linear/WP01 on main: it is planned, not approved (kitty.landing.requireReview)")
        .stderr_has("remote: hint: this server judges review by its own state refs, as this push leaves them: push the state with the work (`git push <remote> main refs/kitty/wp/001-linear/WP01`)");
    git(&repo, &root, &["reset", "-q", "--keep", &main[..7]]).ok();
    assert_eq!(repo.git(&["rev-parse", "main"]), main);

    // The right way: review, approve, `git kitty merge` (whose fast-forward of main passes the
    // hook: the WP is approved while main moves, done after), then push work and state.
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    repo.kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    repo.kitty(&["merge"])
        .ok()
        .stdout_has("WP01: merged into main as ");
    assert_eq!(repo.lane("001-linear", "WP01"), "done");
    git(
        &repo,
        &root,
        &[
            "push",
            "-q",
            "origin",
            "main",
            "refs/kitty/wp/001-linear/WP01",
        ],
    )
    .ok();
}

#[test]
fn require_review_false_turns_the_rule_off_on_the_client_and_on_the_server() {
    let repo = Repo::with_fixture("linear");
    let bare = server(&repo);
    repo.kitty(&["hooks", "install"]).ok();
    // WP02 started on its own, before WP01 (which it depends on).
    repo.kitty(&["implement", "WP02", "--force", "--reason", "test"])
        .ok();
    repo.commit_in(&repo.worktree("001-linear-WP02"), "two.txt", "two\n");
    in_progress(&repo);
    let root = repo.root.clone();
    repo.git(&["config", "kitty.landing.requireReview", "false"]);
    // Landing order still holds with review off.
    let run = git(&repo, &root, &["merge", "--ff-only", "001-linear-WP02"]);
    assert_ne!(run.code, 0);
    run.stderr_has("refusing to land 001-linear/WP02 on main: it depends on WP01");
    git(&repo, &root, &["reset", "-q", "--merge"]).ok();
    git(
        &repo,
        &root,
        &["merge", "-q", "--ff-only", "001-linear-WP01"],
    )
    .ok();
    // The server reads its own configuration.
    git(&repo, &root, &["push", "origin", "main"])
        .code(1)
        .stderr_has(
            "remote: error: refusing to land 001-linear/WP01 on main: it is planned, not approved",
        );
    repo.git_in(&bare, &["config", "kitty.landing.requireReview", "false"]);
    git(&repo, &root, &["push", "-q", "origin", "main"]).ok();
}

/// Alice's clone (with `origin`, a hooked bare server): WP01 in progress, its branch and state
/// shared. Bob's clone, with WP01's branch fetched. Their paths: (alice's repo, bob).
fn alice_and_bob() -> (Repo, PathBuf) {
    let alice = Repo::with_fixture("linear");
    let bare = server(&alice);
    alice.kitty(&["init"]).ok();
    in_progress(&alice);
    let root = alice.root.clone();
    git(&alice, &root, &["push", "-q", "origin", "001-linear-WP01"]).ok();
    alice.kitty(&["push"]).ok();
    let bob = alice.sandbox.path().join("bob");
    alice.git(&["clone", "-q", &net::url(&bare), bob.to_str().unwrap()]);
    git(&alice, &bob, &["fetch", "-q", "origin", "001-linear-WP01"]).ok();
    (alice, bob)
}

#[test]
fn the_server_refuses_unreviewed_work_from_another_clone_merged_or_fast_forwarded() {
    let (alice, bob) = alice_and_bob();
    let bare = alice.sandbox.path().join("shared.git");
    let main = alice.git_in(&bare, &["rev-parse", "main"]);
    // Bob's own hooks refuse both kinds of merge (his clone knows WP01 only from the plan).
    alice.kitty_in(&bob, &["hooks", "install"]).ok();
    let run = git(&alice, &bob, &["merge", "--ff-only", "FETCH_HEAD"]);
    assert_ne!(run.code, 0);
    run.stderr_has("refusing to land 001-linear/WP01 on main: it is planned, not approved");
    git(&alice, &bob, &["reset", "-q", "--merge"]).ok();
    git(
        &alice,
        &bob,
        &["merge", "--no-ff", "--no-edit", "FETCH_HEAD"],
    )
    .code(1)
    .stderr_has("refusing to land 001-linear/WP01 on main: it is planned, not approved");
    git(&alice, &bob, &["merge", "--abort"]).ok();
    // Past them (hooks off), the server refuses a merge commit and a fast-forward alike, by
    // the state Alice shared: in progress.
    let off = ["-c", "core.hooksPath=/dev/null"];
    for how in [
        &["merge", "-q", "--no-ff", "--no-edit"][..],
        &["merge", "-q", "--ff-only"],
    ] {
        let args: Vec<&str> = off
            .iter()
            .chain(how)
            .chain(&["FETCH_HEAD"])
            .copied()
            .collect();
        git(&alice, &bob, &args).ok();
        git(&alice, &bob, &["push", "--no-verify", "origin", "main"])
            .code(1)
            .stderr_has("remote: error: refusing to land 001-linear/WP01 on main: it is in_progress, not approved (kitty.landing.requireReview)");
        assert_eq!(alice.git_in(&bare, &["rev-parse", "main"]), main);
        git(
            &alice,
            &bob,
            &[off[0], off[1], "reset", "-q", "--hard", main.trim()],
        )
        .ok();
    }
}

#[test]
fn a_review_shared_by_one_clone_lets_another_land_and_a_third_pull_it() {
    let (alice, bob) = alice_and_bob();
    // Alice's reviewer approves and the approval is shared: Bob's fast-forward is taken.
    alice.kitty(&["lane", "WP01", "for_review"]).ok();
    alice
        .kitty(&["lane", "WP01", "approved", "--agent", "reviewer"])
        .ok();
    alice.kitty(&["push"]).ok();
    git(&alice, &bob, &["merge", "-q", "--ff-only", "FETCH_HEAD"]).ok();
    git(&alice, &bob, &["push", "-q", "origin", "main"]).ok();
    // Carol (hooks installed, no state pulled) fast-forwards to it: work the server took is
    // not judged again by her clone.
    let carol = alice.sandbox.path().join("carol");
    let url = net::url(&alice.sandbox.path().join("shared.git"));
    alice.git(&["clone", "-q", &url, carol.to_str().unwrap()]);
    alice.kitty_in(&carol, &["hooks", "install"]).ok();
    git(&alice, &carol, &["reset", "-q", "--hard", "HEAD~1"]).ok();
    git(
        &alice,
        &carol,
        &["pull", "-q", "--ff-only", "origin", "main"],
    )
    .ok();
    assert!(carol.join("one.txt").exists());
}

/// pre-push's way back keeps this clone's own commits on the target: it takes the target back
/// to just before the first refused commit (a merge of unreviewed work made with the hooks
/// off), not to the remote's tip, which would drop a commit made on main before it.
#[test]
fn pre_push_way_back_keeps_commits_made_before_the_refused_one() {
    let repo = Repo::with_fixture("linear");
    server(&repo);
    repo.kitty(&["hooks", "install"]).ok();
    in_progress(&repo);
    let root = repo.root.clone();
    repo.commit_in(&root, "mine.txt", "mine\n");
    let mine = repo.git(&["rev-parse", "main"]);
    repo.git(&[
        "-c",
        "core.hooksPath=/dev/null",
        "merge",
        "-q",
        "--no-ff",
        "--no-edit",
        "001-linear-WP01",
    ]);
    let merge = repo.git(&["rev-parse", "main"]);
    let run = git(&repo, &root, &["push", "origin", "main"]);
    run.code(1).stderr_has(&format!(
        "hint: nothing was pushed; to take the work back off main here: `git reset --keep {}` on main (main before {}, the first commit refused)",
        &mine[..7],
        &merge[..7]
    ));
    git(&repo, &root, &["reset", "--keep", &mine[..7]]).ok();
    assert_eq!(repo.git(&["rev-parse", "main"]), mine);
    assert_eq!(
        std::fs::read_to_string(root.join("mine.txt")).unwrap(),
        "mine\n"
    );
    git(&repo, &root, &["push", "-q", "origin", "main"]).ok();
}
