//! Robustness: what hostile data, a hostile filesystem or a `kill -9` does to git kitty.
//! Terminal escapes from data, read-only refs, stale locks, optional locks, fault injection.

use std::path::Path;
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
