//! Hermetic temporary repositories and a runner for the real binaries.
//!
//! Every command runs with a cleared environment: HOME in the temp dir, no system or global
//! git config, fixed identities and dates, `LC_ALL=C`, `NO_COLOR`, a fixed clock for "ago".

#![allow(dead_code)]

pub mod chromium;
pub mod live;
pub mod net;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The fixed "now" of every test (`KITTY_NOW`).
pub const NOW: &str = "2026-11-25T12:00:00Z";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// The directory holding the built binaries (`git-kitty`, `git-kitty-status`, ...).
pub fn bin_dir() -> PathBuf {
    let exe = assert_cmd::cargo::cargo_bin("git-kitty");
    exe.parent().expect("binary has a parent").to_path_buf()
}

/// A temporary directory holding one or more repositories.
pub struct Sandbox {
    pub tmp: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            tmp: tempfile::Builder::new()
                .prefix("kitty-test-")
                .tempdir()
                .expect("tempdir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    pub fn home(&self) -> PathBuf {
        let h = self.path().join("home");
        std::fs::create_dir_all(&h).expect("home");
        h
    }
}

/// A repository in its own sandbox, with `main` checked out.
pub struct Repo {
    pub sandbox: Sandbox,
    pub root: PathBuf,
}

impl Repo {
    /// An empty repository with one commit on `main`.
    pub fn new() -> Repo {
        let sandbox = Sandbox::new();
        let root = sandbox.path().join("repo");
        std::fs::create_dir_all(&root).expect("mkdir");
        let root = std::fs::canonicalize(&root).expect("canonical");
        let repo = Repo { sandbox, root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write("README.md", "# test repository\n");
        repo.commit_all("initial");
        repo
    }

    /// A repository holding a fixture scenario (`fixtures/<name>/`), committed.
    pub fn with_fixture(name: &str) -> Repo {
        let repo = Repo::new();
        copy_dir(&fixtures().join(name), &repo.root);
        repo.commit_all(&format!("plan: {name}"));
        repo
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, content: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }

    pub fn commit_all(&self, message: &str) {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }

    /// Run git in the repository; panics on failure; returns stdout.
    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self
            .command_in("git", dir)
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A command with the hermetic environment, started in `dir`.
    pub fn command_in(&self, program: &str, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        hermetic(&mut cmd, &self.sandbox.home());
        cmd.current_dir(dir);
        cmd
    }

    /// `git-kitty <args>` in the repository root.
    pub fn kitty(&self, args: &[&str]) -> Run {
        self.kitty_in(&self.root, args)
    }

    pub fn kitty_in(&self, dir: &Path, args: &[&str]) -> Run {
        self.bin_in("git-kitty", dir, args)
    }

    /// `git-kitty <args>` with extra environment (`("NAME", Some(value))` sets, `None` removes).
    pub fn kitty_env(&self, env: &[(&str, Option<&str>)], args: &[&str]) -> Run {
        let mut cmd = self.kitty_command(&self.root, args);
        for (k, v) in env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        Run::new(cmd.output().expect("run binary"), &self.root)
    }

    /// `git-kitty <args>` in the repository, started and left running (output piped).
    pub fn spawn_kitty(&self, args: &[&str]) -> std::process::Child {
        self.kitty_command(&self.root, args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// A WP's worktree: `.worktrees/<name>`.
    pub fn worktree(&self, name: &str) -> PathBuf {
        self.path(&format!(".worktrees/{name}"))
    }

    /// Commit `file` with `content` in the worktree `wt`.
    pub fn commit_in(&self, wt: &Path, file: &str, content: &str) {
        std::fs::write(wt.join(file), content).unwrap();
        self.git_in(wt, &["add", "--", file]);
        self.git_in(wt, &["commit", "-q", "-m", &format!("add {file}")]);
    }

    /// The lane `status --json --all` shows for `feature`/`id`.
    pub fn lane(&self, feature: &str, id: &str) -> String {
        let status = self.kitty(&["status", "--json", "--all"]).ok().json();
        wp(&status, feature, id)["lane"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn kitty_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = self.command_in(
            assert_cmd::cargo::cargo_bin("git-kitty")
                .to_str()
                .expect("utf-8 path"),
            dir,
        );
        cmd.args(args);
        cmd
    }

    /// Any of the binaries (`git-kitty-status`...), started in `dir`.
    pub fn bin_in(&self, bin: &str, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.command_in(
            assert_cmd::cargo::cargo_bin(bin)
                .to_str()
                .expect("utf-8 path"),
            dir,
        );
        cmd.args(args);
        Run::new(cmd.output().expect("run binary"), &self.root)
    }
}

impl Repo {
    /// Write an object from its raw text (`git hash-object -t <kind> -w`); its id.
    pub fn write_object(&self, kind: &str, text: &str) -> String {
        use std::io::Write;
        let mut child = self
            .command_in("git", &self.root)
            .args(["hash-object", "-t", kind, "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("git hash-object");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("git hash-object");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A copy of state commit `of` with its event and state edited as JSON (and its parents
    /// replaced, when given), written as a forger would with `git cat-file` and
    /// `git hash-object`; its id.
    pub fn forge_state(
        &self,
        of: &str,
        parents: Option<&[&str]>,
        edit: impl FnOnce(&mut serde_json::Value, &mut serde_json::Value),
    ) -> String {
        let text = self.git(&["cat-file", "commit", of]);
        let (head, message) = text.split_once("\n\n").expect("a commit");
        let header = |name: &str| {
            let line = head
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name} ")))
                .expect("a state commit");
            serde_json::from_str::<serde_json::Value>(line).expect("JSON")
        };
        let (mut event, mut state) = (header("kitty-event"), header("kitty-state"));
        edit(&mut event, &mut state);
        let mut out = String::new();
        for line in head.lines() {
            if line.starts_with("parent ") && parents.is_some() {
                continue;
            }
            if line.starts_with("author ") {
                for p in parents.unwrap_or(&[]) {
                    out.push_str(&format!("parent {p}\n"));
                }
            }
            if line.starts_with("kitty-event ") {
                out.push_str(&format!("kitty-event {event}\n"));
            } else if line.starts_with("kitty-state ") {
                out.push_str(&format!("kitty-state {state}\n"));
            } else {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push('\n');
        out.push_str(message);
        self.write_object("commit", &out)
    }
}

/// The environment every test command gets.
pub fn hermetic(cmd: &mut Command, home: &Path) {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test Author")
        .env("GIT_COMMITTER_EMAIL", "author@example.invalid")
        .env("GIT_AUTHOR_DATE", "2026-11-01T10:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-01T10:00:00Z")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("KITTY_AGENT", "tester")
        .env("KITTY_NOW", NOW);
}

/// A finished command: exit code, stdout and stderr, with the repository path replaced by
/// `$REPO` so expectations do not depend on the temp dir.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn new(out: Output, root: &Path) -> Run {
        let norm = |b: &[u8]| {
            let s = String::from_utf8_lossy(b).into_owned();
            let sandbox = root.parent().expect("sandbox");
            s.replace(&root.display().to_string(), "$REPO")
                .replace(&sandbox.display().to_string(), "$SANDBOX")
        };
        let run = Run {
            code: out.status.code().unwrap_or(-1),
            stdout: norm(&out.stdout),
            stderr: norm(&out.stderr),
        };
        // Every hint any test provokes must be a command line git kitty accepts.
        for hint in hinted_commands(&run.stderr) {
            assert_hint_parses(&hint, &run.stderr);
        }
        run
    }

    /// Assert the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Run {
        assert_eq!(
            self.code, expected,
            "unexpected exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> &Run {
        self.code(0)
    }

    #[track_caller]
    pub fn stdout_has(&self, needle: &str) -> &Run {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_has(&self, needle: &str) -> &Run {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}\n--- stderr\n{}\n--- stdout\n{}",
            self.stderr,
            self.stdout
        );
        self
    }

    /// Assert stderr exactly (message, causes and hints, in order).
    #[track_caller]
    pub fn stderr_is(&self, expected: &str) -> &Run {
        assert_eq!(
            self.stderr, expected,
            "stderr differs\n--- stdout\n{}",
            self.stdout
        );
        self
    }

    /// Assert stdout exactly.
    #[track_caller]
    pub fn stdout_is(&self, expected: &str) -> &Run {
        assert_eq!(
            self.stdout, expected,
            "stdout differs\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\n--- stdout\n{}\n--- stderr\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The ids of a JSON array of strings.
pub fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_str().expect("string").to_owned())
        .collect()
}

/// A feature's WP entry by id, from `status --json`.
pub fn wp<'a>(status: &'a serde_json::Value, feature: &str, id: &str) -> &'a serde_json::Value {
    let f = status["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["slug"] == feature)
        .unwrap_or_else(|| panic!("no feature {feature}"));
    f["work_packages"]
        .as_array()
        .expect("wps")
        .iter()
        .find(|w| w["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {feature}"))
}

pub fn feature<'a>(status: &'a serde_json::Value, slug: &str) -> &'a serde_json::Value {
    status["features"]
        .as_array()
        .expect("features")
        .iter()
        .find(|f| f["slug"] == slug)
        .unwrap_or_else(|| panic!("no feature {slug}"))
}

/// Hold what a live git kitty ref writer holds (a shared lock on
/// `<git-dir>/kitty/ref-writers.flock`): while it is held, no ref lock file counts as stale.
pub fn live_ref_writer(repo: &Repo) -> std::fs::File {
    let dir = repo.path(".git/kitty");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("ref-writers.flock"))
        .expect("open");
    file.lock_shared().expect("shared lock");
    file
}

/// The `git kitty ...` command lines in a command's hints: a hint that is one, or the
/// backticked ones inside a hint.
pub fn hinted_commands(stderr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for hint in stderr.lines().filter_map(|l| l.strip_prefix("hint: ")) {
        if hint.starts_with("git kitty ") {
            out.push(hint.to_owned());
        }
        for (i, part) in hint.split('`').enumerate() {
            if i % 2 == 1 && part.starts_with("git kitty ") {
                out.push(part.to_owned());
            }
        }
    }
    out
}

/// `line` split as a POSIX shell splits words (single and double quotes, backslashes).
pub fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, ' ') => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (None, '\\') => {
                word.extend(chars.next());
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => word.extend(chars.next()),
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// A hinted command must parse: the flags it names exist, the required ones are there.
#[track_caller]
pub fn assert_hint_parses(hint: &str, stderr: &str) {
    use clap::Parser;
    // A trailing, unquoted `...` stands for the rest of the user's command line.
    let words = shell_words(hint.strip_suffix(" ...").unwrap_or(hint));
    // `git kitty X ...` as git runs it: `git-kitty X ...`.
    let args: Vec<&str> = std::iter::once("git-kitty")
        .chain(words.iter().skip(2).map(String::as_str))
        .collect();
    if let Err(e) = git_kitty::cmd::Cli::try_parse_from(&args)
        && e.exit_code() != 0
    {
        panic!("the hint `{hint}` is not a command git kitty accepts:\n{e}\n--- stderr\n{stderr}");
    }
}

/// The sections of a cache file under `.git/kitty/` (`<version>\n`, then per section
/// `<name>\t<len>\t<hash>\n`, its bytes and `\n`): each name and where its bytes are.
pub fn cache_sections(bytes: &[u8]) -> Vec<(String, std::ops::Range<usize>)> {
    let mut at = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut sections = Vec::new();
    while at < bytes.len() {
        let eol = at + bytes[at..].iter().position(|b| *b == b'\n').unwrap();
        let header = String::from_utf8(bytes[at..eol].to_vec()).unwrap();
        let fields: Vec<&str> = header.split('\t').collect();
        let start = eol + 1;
        let end = start + fields[1].parse::<usize>().unwrap();
        sections.push((fields[0].to_owned(), start..end));
        at = end + 1;
    }
    sections
}
