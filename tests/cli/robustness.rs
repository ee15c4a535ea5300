//! Robustness: what hostile data, a hostile filesystem or a `kill -9` does to git kitty.
//! Terminal escapes from data, read-only refs, stale locks, optional locks, fault injection.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{Repo, Run};

/// Whether this process runs as root (then file modes do not stop it). A file it creates is
/// owned by its effective user.
fn running_as_root(repo: &Repo) -> bool {
    use std::os::unix::fs::MetadataExt;
    let probe = repo.sandbox.path().join("uid-probe");
    std::fs::write(&probe, "").unwrap();
    std::fs::metadata(&probe).unwrap().uid() == 0
}

/// `git-kitty <args>` as a process that file permissions apply to: as root, without the
/// capabilities that override them (`setpriv`, util-linux).
fn kitty_unprivileged(repo: &Repo, args: &[&str]) -> Run {
    let kitty = assert_cmd::cargo::cargo_bin("git-kitty");
    let mut cmd = if running_as_root(repo) {
        let mut cmd = repo.command_in("setpriv", &repo.root);
        cmd.args(["--bounding-set", "-dac_override,-dac_read_search", "--"])
            .arg(&kitty);
        cmd
    } else {
        repo.command_in(kitty.to_str().unwrap(), &repo.root)
    };
    cmd.args(args);
    let out = cmd
        .output()
        .expect("run git-kitty (as root this needs `setpriv`)");
    Run::new(out, &repo.root)
}

/// Set the mode of `dir` and everything under it.
fn chmod_tree(dir: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            chmod_tree(&entry.path(), mode);
        }
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Loose objects in the repository (`git count-objects`).
fn loose_objects(repo: &Repo) -> usize {
    let out = repo.git(&["count-objects"]);
    out.split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn read_only_refs_fail_at_once_naming_the_path_and_the_permission() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["note", "WP01", "first"]).ok();
    let refs = repo.path(".git/refs");
    chmod_tree(&refs, 0o555);
    let objects = loose_objects(&repo);
    let started = Instant::now();
    // A WP with state (its directory exists, read-only) and one without (nothing under
    // refs/kitty can be made).
    let first = kitty_unprivileged(&repo, &["lane", "WP01", "claimed"]);
    let second = kitty_unprivileged(&repo, &["note", "WP02", "hello"]);
    let json = kitty_unprivileged(&repo, &["lane", "WP03", "claimed", "--json"]);
    let elapsed = started.elapsed();
    chmod_tree(&refs, 0o755);
    first
        .code(6)
        .stderr_has(
            "error: cannot write refs/kitty/wp/001-fan-out/WP01: permission denied on \
             $REPO/.git/refs/kitty/wp/001-fan-out (mode 0555, ",
        )
        .stderr_has("hint: nothing was changed; make it writable for the user running git kitty");
    second
        .code(6)
        .stderr_has("error: cannot write refs/kitty/wp/001-fan-out/WP02: permission denied");
    let err = &json.code(6).json()["error"];
    assert_eq!(err["kind"], "failed");
    assert!(
        elapsed < Duration::from_secs(5),
        "took {elapsed:?}: retried"
    );
    // One commit object per decision at most, none per retry.
    assert!(
        loose_objects(&repo) <= objects + 3,
        "objects were written per attempt"
    );
    // Writable again: everything works.
    repo.kitty(&["lane", "WP01", "claimed"]).ok();
    // No commit object can be written: the same, for the object database.
    let objects_dir = repo.path(".git/objects");
    chmod_tree(&objects_dir, 0o555);
    let run = kitty_unprivileged(&repo, &["note", "WP02", "hello"]);
    chmod_tree(&objects_dir, 0o755);
    run.code(6).stderr_has(
        "error: cannot write a commit object: permission denied on $REPO/.git/objects (mode 0555, ",
    );
}

#[test]
fn a_stuck_lock_costs_one_commit_per_decision_not_one_per_attempt() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["note", "WP01", "first"]).ok();
    let lock = repo.path(".git/refs/kitty/wp/001-fan-out/WP01.lock");
    std::fs::write(&lock, "").unwrap();
    let objects = loose_objects(&repo);
    repo.kitty_env(
        &[("KITTY_RETRY_SECS", Some("1"))],
        &["lane", "WP01", "claimed"],
    )
    .code(6)
    .stderr_has("gave up writing refs/kitty/wp/001-fan-out/WP01");
    assert_eq!(
        loose_objects(&repo),
        objects + 1,
        "one decision, one commit"
    );
    std::fs::remove_file(&lock).unwrap();
}

/// A `git` that logs how git kitty runs it (`GIT_OPTIONAL_LOCKS` and the arguments), then
/// runs the real one: the directory to put first on PATH, and the log.
fn logging_git(repo: &Repo) -> (std::path::PathBuf, std::path::PathBuf) {
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let dir = repo.sandbox.path().join("git-wrapper");
    std::fs::create_dir_all(&dir).unwrap();
    let log = repo.sandbox.path().join("git-calls.log");
    let script = format!(
        "#!/bin/sh\nprintf '%s %s\\n' \"${{GIT_OPTIONAL_LOCKS:-unset}}\" \"$*\" >> '{}'\nexec '{}' \"$@\"\n",
        log.display(),
        real.trim()
    );
    let git = dir.join("git");
    std::fs::write(&git, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    (dir, log)
}

#[test]
fn git_kitty_takes_no_optional_git_lock() {
    let repo = Repo::with_fixture("fan-out");
    let (wrapper, log) = logging_git(&repo);
    let path = format!(
        "{}:{}:{}",
        wrapper.display(),
        crate::common::bin_dir().display(),
        std::env::var("PATH").unwrap()
    );
    let env = [("PATH", Some(path.as_str()))];
    // Reads and writes: the plan check of implement (`git status` in the main worktree),
    // worktree listing, status of a worktree before review, merges of bases.
    repo.kitty_env(&env, &["implement", "WP01", "--agent", "a"])
        .ok();
    repo.commit_in(&repo.worktree("001-fan-out-WP01"), "a.txt", "a\n");
    repo.kitty_env(&env, &["lane", "WP01", "for_review", "--agent", "a"])
        .ok();
    repo.kitty_env(&env, &["next", "--agent", "b", "--json"])
        .code(3);
    repo.kitty_env(&env, &["status"]).ok();
    repo.kitty_env(&env, &["abandon", "WP01", "--agent", "a", "--force"]);
    let calls = std::fs::read_to_string(&log).unwrap();
    assert!(calls.contains(" status "), "{calls}");
    let taking: Vec<&str> = calls.lines().filter(|l| !l.starts_with("0 ")).collect();
    assert!(
        taking.is_empty(),
        "git run without GIT_OPTIONAL_LOCKS=0:\n{}",
        taking.join("\n")
    );
}

#[test]
fn implement_removes_its_own_stale_branch_lock_and_no_other() {
    let repo = Repo::with_fixture("fan-out");
    // What a `kill -9` during the branch step leaves: the claim, and the branch's lock file.
    let run = repo.kitty_env(
        &[("KITTY_TEST_FAIL", Some("implement:after-claim"))],
        &["implement", "WP01", "--agent", "a"],
    );
    assert_ne!(run.code, 0);
    let own = repo.path(".git/refs/heads/001-fan-out-WP01.lock");
    let users = repo.path(".git/refs/heads/main.lock");
    for lock in [&own, &users] {
        std::fs::write(lock, "").unwrap();
    }
    let run = repo.kitty(&["implement", "WP01", "--agent", "a"]);
    run.ok().stdout_has("WP01: worktree made again (a)");
    assert!(!own.exists(), "git kitty's own stale lock was kept");
    assert!(users.exists(), "a lock that is not git kitty's was removed");
    std::fs::remove_file(&users).unwrap();
    repo.kitty(&["check"]).ok().stdout_has("no problems");
}
