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
    let _writer = crate::common::live_ref_writer(&repo);
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
/// runs the real one: a PATH that finds it first, and the log.
fn logging_git(repo: &Repo) -> (String, std::path::PathBuf) {
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
    let path = format!(
        "{}:{}:{}",
        dir.display(),
        crate::common::bin_dir().display(),
        std::env::var("PATH").unwrap()
    );
    (path, log)
}

/// Showing the board and checking the plan run in-process: no `git` started, even with a
/// remote, state refs, a worktree and a branch (a `git config` there was 5 ms of every
/// `status`: docs/performance.md).
#[test]
fn reading_the_board_starts_no_git_process() {
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["implement", "WP01", "--agent", "a"]).ok();
    let origin = repo.sandbox.path().join("origin.git");
    repo.git(&["init", "-q", "--bare", origin.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    let (path, log) = logging_git(&repo);
    let env = [("PATH", Some(path.as_str()))];
    for args in [
        &["status"][..],
        &["status", "--json"],
        &["status", "--graph"],
        &["status", "-f", "001-fan-out"],
        &["check"],
        &["check", "--json"],
    ] {
        repo.kitty_env(&env, args).ok();
    }
    let calls = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(calls.is_empty(), "git started: {calls}");
}

#[test]
fn git_kitty_takes_no_optional_git_lock() {
    let repo = Repo::with_fixture("fan-out");
    let (path, log) = logging_git(&repo);
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
    run.ok().stderr_has("WP01: worktree made again (a)");
    assert!(!own.exists(), "git kitty's own stale lock was kept");
    assert!(users.exists(), "a lock that is not git kitty's was removed");
    std::fs::remove_file(&users).unwrap();
    repo.kitty(&["check"]).ok().stdout_has("no problems");
}

/// An escape sequence that sets the terminal's title (OSC 0), ended by a bell.
const EVIL: &str = "\x1b]0;OWNED\x07";
/// How git kitty shows it: escaped as git's `core.quotePath` does.
const SHOWN: &str = "\\033]0;OWNED\\a";

/// Characters a terminal may act on: C0 (but the line feed), DEL, C1, bidirectional
/// overrides and isolates.
fn is_terminal_control(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// Nothing in either stream a terminal could act on, but git kitty's own colours (`ESC [
/// digits m`) when `colors` is true.
#[track_caller]
fn assert_terminal_safe(run: &Run, colors: bool) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let mut rest = text.as_str();
        while let Some(i) = rest.find(is_terminal_control) {
            let tail = &rest[i..];
            let sgr = tail.strip_prefix("\x1b[").and_then(|t| {
                let end = t.find(|c: char| !c.is_ascii_digit() && c != ';')?;
                (t.as_bytes()[end] == b'm').then_some(end + 3)
            });
            match sgr {
                Some(len) if colors => rest = &tail[len..],
                _ => panic!(
                    "{name} has a raw control character at {:?}\n{text}",
                    &tail[..tail.len().min(20)]
                ),
            }
        }
    }
}

/// A plan whose data carries terminal escapes: a file name (WP02, valid), a broken file
/// (WP03), a frontmatter holder (WP04).
fn hostile_repo() -> Repo {
    let repo = Repo::new();
    let dir = "kitty-specs/001-evil/tasks";
    repo.write(
        &format!("{dir}/WP01-ok.md"),
        "---\nwork_package_id: WP01\ntitle: Fine\n---\n",
    );
    repo.write(
        &format!("{dir}/WP02-{EVIL}.md"),
        "---\nwork_package_id: WP02\ntitle: Named badly\n---\n",
    );
    repo.write(
        &format!("{dir}/WP03-{EVIL}.md"),
        "---\nwork_package_id: [WP03\n---\n",
    );
    repo.write(
        &format!("{dir}/WP04-held.md"),
        "---\nwork_package_id: WP04\ntitle: Held\nlane: in_progress\nagent: \"x\\e]0;OWNED\\ay\"\n---\n",
    );
    repo.commit_all("plan: evil");
    repo
}

#[test]
fn data_never_reaches_the_terminal_as_control_characters() {
    let repo = hostile_repo();
    let note = format!("before{EVIL}after\u{9b}31m\u{7f}\u{202e}end");
    repo.kitty(&["note", "WP01", &note]).ok();
    repo.kitty(&[
        "lane",
        "WP01",
        "done",
        "--force",
        "--reason",
        &format!("why{EVIL}"),
    ])
    .ok();
    for color in ["never", "always"] {
        let colors = color == "always";
        let log = repo.kitty(&["--color", color, "log", "WP01"]);
        log.ok()
            .stdout_has(&format!(
                "before{SHOWN}after\\302\\23331m\\177\\342\\200\\256end"
            ))
            .stdout_has(&format!("(forced: why{SHOWN})"));
        assert_terminal_safe(&log, colors);
        // Problem lines name the file escaped.
        let check = repo.kitty(&["--color", color, "check"]);
        check
            .code(1)
            .stdout_has(&format!("kitty-specs/001-evil/tasks/WP03-{SHOWN}.md:"));
        assert_terminal_safe(&check, colors);
        let status = repo.kitty(&["--color", color, "status", "--all"]);
        assert_terminal_safe(status.ok(), colors);
        // The holder from the frontmatter, in a refusal (message and hint).
        let refused = repo.kitty(&["--color", color, "lane", "WP04", "for_review"]);
        refused
            .code(1)
            .stderr_has(&format!(" WP04 is claimed by x{SHOWN}y\n"))
            .stderr_has(&format!(" ask x{SHOWN}y, or"));
        assert_terminal_safe(&refused, colors);
    }
    // The prompt path printed by implement.
    let run = repo.kitty(&["implement", "WP02"]);
    run.ok().stderr_has(&format!(
        "prompt    kitty-specs/001-evil/tasks/WP02-{SHOWN}.md"
    ));
    assert_terminal_safe(&run, false);
    // JSON is the data, exactly (escaped by JSON's own rules, nothing raw).
    let json = repo.kitty(&["log", "WP01", "--json"]);
    assert_terminal_safe(&json, false);
    let events = json.ok().json()["events"].clone();
    assert_eq!(events[1]["note"], note.as_str(), "{events:#}");
    assert_eq!(events[0]["reason"], format!("why{EVIL}"));
    let refused = repo.kitty(&["lane", "WP04", "for_review", "--json"]);
    assert_terminal_safe(&refused, false);
    assert_eq!(
        refused.code(1).json()["error"]["details"]["holder"],
        "x\x1b]0;OWNED\x07y"
    );
}

#[test]
fn a_forged_actor_in_the_state_is_shown_escaped() {
    // The actor and holder of an event that came from elsewhere (a pull, a forged push).
    let repo = Repo::with_fixture("fan-out");
    repo.kitty(&["lane", "WP01", "claimed", "--agent", "tester"])
        .ok();
    let name = "refs/kitty/wp/001-fan-out/WP01";
    let commit = repo.git(&["cat-file", "commit", name]);
    let forged = commit.replace("\"tester\"", "\"ev\\u001b]0;OWNED\\u0007il\"");
    assert_ne!(forged, commit);
    let mut child = repo
        .command_in("git", &repo.root)
        .args(["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(forged.as_bytes())
        .unwrap();
    let id = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    repo.git(&["update-ref", name, id.trim()]);
    for color in ["never", "always"] {
        let colors = color == "always";
        let log = repo.kitty(&["--color", color, "log", "WP01"]);
        log.ok().stdout_has(&format!("ev{SHOWN}il"));
        assert_terminal_safe(&log, colors);
        let status = repo.kitty(&["--color", color, "status"]);
        assert_terminal_safe(status.ok(), colors);
        let refused = repo.kitty(&[
            "--color",
            color,
            "lane",
            "WP01",
            "in_progress",
            "--agent",
            "bob",
        ]);
        refused
            .code(1)
            .stderr_has(&format!(" WP01 is claimed by ev{SHOWN}il\n"));
        assert_terminal_safe(&refused, colors);
        let refused = repo.kitty(&["--color", color, "implement", "WP01", "--agent", "bob"]);
        refused.code(1).stderr_has(&format!("ev{SHOWN}il"));
        assert_terminal_safe(&refused, colors);
    }
}

/// Lock files git (or git kitty) left under `dir`, but git kitty's own worktree mutex
/// (`kitty/worktrees.lock`, an advisory lock the kernel releases with its holder).
fn lock_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            lock_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "lock")
            && !path.ends_with("kitty/worktrees.lock")
        {
            out.push(path.display().to_string());
        }
    }
}

#[test]
fn implement_killed_at_any_point_is_completed_or_refused_cleanly() {
    use std::os::unix::process::CommandExt;
    const ROUNDS: usize = 16;
    let repo = Repo::new();
    for i in 0..=ROUNDS {
        repo.write(
            &format!("kitty-specs/001-kill/tasks/WP{i:02}-k.md"),
            &format!("---\nwork_package_id: WP{i:02}\ntitle: K{i}\n---\n"),
        );
    }
    repo.commit_all("plan");
    // How long one implement takes, unkilled: the kills are spread over that time.
    let started = Instant::now();
    repo.kitty(&["implement", "WP00", "--agent", "a"]).ok();
    let whole = started.elapsed();
    let mut outcomes = Vec::new();
    for round in 1..=ROUNDS {
        let wp = format!("WP{round:02}");
        // The whole process group, as a closing terminal or a CI timeout does: git's own
        // children die with git kitty.
        let mut child = repo
            .kitty_command(&repo.root, &["implement", &wp, "--agent", "a"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        std::thread::sleep(whole * round as u32 / ROUNDS as u32);
        let group = format!("-{}", child.id());
        let _ = Command::new("kill").args(["-9", "--", &group]).status();
        let killed = child.wait().unwrap();
        // Again, to the end: made (or made again), or refused with a reason and a way out.
        let again = repo.kitty(&["implement", &wp, "--agent", "a"]);
        match again.code {
            0 => assert!(
                repo.worktree(&format!("001-kill-{wp}"))
                    .join(".git")
                    .exists()
            ),
            1 | 6 => {
                again.stderr_has("error: ").stderr_has("hint: ");
            }
            _ => panic!("{wp}: {again:#?}"),
        }
        outcomes.push((killed.code(), again.code, again.stderr.clone()));
        let mut locks = Vec::new();
        lock_files(&repo.path(".git"), &mut locks);
        assert!(locks.is_empty(), "{wp}: left behind: {locks:?}");
        repo.kitty(&["status", "--json"]).ok().json();
        repo.kitty(&["check"]).ok();
    }
    // The user's own git works: no index lock in the way.
    repo.write("after.txt", "x\n");
    repo.commit_all("the user's commit");
    // Each round ends with the WP implemented.
    assert!(
        outcomes.iter().all(|(_, again, _)| *again == 0),
        "{outcomes:#?}"
    );
}
