//! `git kitty status --watch` in a real terminal: tmux runs it in a pane; the test makes lane
//! moves, reads the pane (`capture-pane`) and types keys (`send-keys`).
//!
//! Without tmux these tests skip locally (saying so) and fail in CI (`CI=true`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{Repo, bin_dir};

/// A tmux server of its own, killed when dropped.
struct Tmux<'r> {
    repo: &'r Repo,
    socket: String,
    dir: PathBuf,
}

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// Whether tmux is there; without it a test skips locally (saying so) and fails in CI.
fn have_tmux(test: &str) -> bool {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| d.join("tmux").is_file());
    if !found {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("{test}: tmux is required in CI (apt-get install tmux); none on PATH");
        }
        eprintln!("skipping {test}: no tmux on PATH (apt-get install tmux)");
    }
    found
}

impl<'r> Tmux<'r> {
    fn new(repo: &'r Repo) -> Tmux<'r> {
        let n = SERVERS.fetch_add(1, Ordering::SeqCst);
        Tmux {
            repo,
            socket: format!("kitty-test-{}-{n}", std::process::id()),
            dir: repo.root.clone(),
        }
    }

    fn run(&self, args: &[&str]) -> String {
        let mut cmd = self.repo.command_in("tmux", &self.dir);
        cmd.env("TERM", "xterm-256color")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args);
        let out = cmd.output().expect("tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run `shell` in a 110x40 pane.
    fn open(&self, shell: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-x",
            "110",
            "-y",
            "40",
            "-s",
            "w",
            shell,
        ]);
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "w"])
    }

    /// Wait until the screen shows every one of `needles`; the screen.
    fn wait_for(&self, needles: &[&str], within: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(
                start.elapsed() < within,
                "waited {within:?} for {needles:?}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = self
            .repo
            .command_in("tmux", &self.dir)
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// `git kitty status --watch` in a shell that records the terminal's settings before and
/// after, and the exit status.
fn watch_in_pane(tmux: &Tmux) -> PathBuf {
    let dir = tmux.repo.sandbox.path().to_path_buf();
    tmux.open(&format!(
        "cd '{}' && stty -g > '{d}/stty-before'; {}/git-kitty status --watch; echo exit=$?; \
         stty -g > '{d}/stty-after'; sleep 60",
        tmux.repo.root.display(),
        bin_dir().display(),
        d = dir.display(),
    ));
    dir
}

/// Where the cards of a column start on screen.
fn column_at(screen: &str, name: &str) -> usize {
    screen
        .lines()
        .find(|l| l.trim_start().starts_with("Planned"))
        .and_then(|l| l.find(name))
        .unwrap()
}

#[test]
fn the_board_is_redrawn_in_place_on_each_move_and_q_restores_the_terminal() {
    if !have_tmux("status_watch_q") {
        return;
    }
    let repo = Repo::with_fixture("fan-out");
    let tmux = Tmux::new(&repo);
    let dir = watch_in_pane(&tmux);
    let first = tmux.wait_for(
        &["git kitty status --watch", "WP01 Core"],
        Duration::from_secs(10),
    );
    assert!(
        first.starts_with("git kitty status --watch  updated "),
        "{first}"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "w", "#{alternate_on}"])
            .trim(),
        "1"
    );

    let start = Instant::now();
    repo.kitty(&["lane", "WP01", "in_progress"]).ok();
    let screen = tmux.wait_for(
        &["» 001-fan-out/WP01 planned -> in_progress", "» WP01 Core"],
        Duration::from_secs(2),
    );
    println!("lane move -> terminal: {:?}", start.elapsed());
    // In place: the frame starts on the first line, and the card sits under Doing.
    assert!(screen.starts_with("git kitty status --watch"), "{screen}");
    let card = screen.lines().find(|l| l.contains("» WP01 Core")).unwrap();
    assert_eq!(
        card.find("» WP01"),
        Some(column_at(&screen, "Doing")),
        "{screen}"
    );
    assert!(screen.contains("tester · just now"), "{screen}");

    // The next move marks only what moved then.
    repo.kitty(&["lane", "WP01", "for_review"]).ok();
    let screen = tmux.wait_for(
        &["» 001-fan-out/WP01 in_progress -> for_review"],
        Duration::from_secs(2),
    );
    let card = screen.lines().find(|l| l.contains("» WP01 Core")).unwrap();
    assert_eq!(card.find("» WP01"), Some(column_at(&screen, "For Review")));

    tmux.run(&["send-keys", "-t", "w", "q"]);
    let after = tmux.wait_for(&["exit=0"], Duration::from_secs(5));
    assert!(
        !after.contains("git kitty status --watch"),
        "the board is gone: {after}"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "w", "#{alternate_on}"])
            .trim(),
        "0"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "w", "#{cursor_flag}"])
            .trim(),
        "1"
    );
    let stty = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let start = Instant::now();
    while !dir.join("stty-after").exists() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        stty("stty-before"),
        stty("stty-after"),
        "terminal settings restored"
    );
}

#[test]
fn ctrl_c_quits_and_restores_the_terminal() {
    if !have_tmux("status_watch_ctrl_c") {
        return;
    }
    let repo = Repo::with_fixture("linear");
    let tmux = Tmux::new(&repo);
    let dir = watch_in_pane(&tmux);
    tmux.wait_for(&["WP01 First"], Duration::from_secs(10));
    tmux.run(&["send-keys", "-t", "w", "C-c"]);
    tmux.wait_for(&["exit=0"], Duration::from_secs(5));
    let start = Instant::now();
    while !dir.join("stty-after").exists() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("stty-before")).unwrap(),
        std::fs::read_to_string(dir.join("stty-after")).unwrap()
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "w", "#{alternate_on}"])
            .trim(),
        "0"
    );
}

#[test]
fn watch_needs_a_terminal_and_is_for_people() {
    let repo = Repo::with_fixture("linear");
    repo.kitty(&["status", "--watch"]).code(2).stderr_is(
        "error: `status --watch` redraws the board in a terminal, and stdout is not one\n\
         hint: `git kitty status` prints the board once; `git kitty dashboard` serves it live\n",
    );
    repo.kitty(&["status", "--watch", "--json"])
        .code(2)
        .stderr_has("cannot be used with");
    repo.kitty(&["status", "--watch", "-f", "999-nope"])
        .code(2)
        .stderr_has("error: `status --watch` redraws the board in a terminal");
}
