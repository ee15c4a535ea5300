//! Running the `git` binary, for what gix cannot do (worktrees, push, fetch, merges that touch
//! a working tree, rebase).
//!
//! Never through a shell; user-derived revisions go after `--end-of-options` and paths after
//! `--`; output is parsed from machine formats. The environment variables that would redirect
//! git to another repository or index are removed, so a hook's `GIT_DIR`/`GIT_INDEX_FILE`
//! cannot leak into a command aimed at another worktree.
//!
//! Every git runs with `GIT_OPTIONAL_LOCKS=0` (`--no-optional-locks`, inherited by the gits
//! it starts): a read such as `git status` then never takes `index.lock` to refresh the
//! index on the side, so it can neither make the user's own `git add` fail ("index.lock: File
//! exists") nor leave the lock behind when killed. Writes are unaffected: the locks they need
//! are not optional.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, ErrorKind, Result};

/// Variables that point git at a repository, worktree or index other than the one named
/// with `-C`.
const REDIRECTING_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
];

/// What a finished git process said.
#[derive(Debug)]
pub struct Output {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// A git invocation being built: `Git::new(dir).args([...]).run()`.
pub struct Git {
    cmd: Command,
    shown: Vec<String>,
    input: Option<Vec<u8>>,
}

impl Git {
    /// `git -C <dir>` with a clean, predictable environment.
    pub fn new(dir: &Path) -> Git {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(dir);
        for var in REDIRECTING_VARS {
            cmd.env_remove(var);
        }
        cmd.env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            // Merges and rebases run by git kitty must never open an editor.
            .env("GIT_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no")
            .env("GIT_SEQUENCE_EDITOR", "true")
            .stdin(Stdio::null());
        Git {
            cmd,
            shown: vec!["git".into()],
            input: None,
        }
    }

    /// `git` for a hook: the environment git gave the hook is kept as it is (`GIT_DIR`,
    /// `GIT_INDEX_FILE` for a partial commit's temporary index, the object directories of a
    /// push in quarantine), and it runs where the hook runs.
    pub fn in_hook() -> Git {
        let mut cmd = Command::new("git");
        cmd.env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null());
        Git {
            cmd,
            shown: vec!["git".into()],
            input: None,
        }
    }

    /// Bytes to feed to git's stdin.
    pub fn input(mut self, bytes: Vec<u8>) -> Git {
        self.input = Some(bytes);
        self
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Git {
        self.shown.push(arg.as_ref().to_string_lossy().into_owned());
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Git
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for a in args {
            self = self.arg(a);
        }
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Git {
        self.cmd.env(key, value);
        self
    }

    /// The command as shown in error messages.
    pub fn command_line(&self) -> String {
        self.shown.join(" ")
    }

    /// Run and capture; a non-zero exit is not an error here (see [`Git::run`]).
    pub fn output(self) -> Result<Output> {
        let raw = self.output_raw()?;
        Ok(Output {
            success: raw.status.success(),
            code: raw.status.code(),
            stdout: String::from_utf8_lossy(&raw.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&raw.stderr).into_owned(),
        })
    }

    /// Run and capture stdout as bytes (`cat-file --batch` sizes count bytes).
    pub fn output_raw(mut self) -> Result<std::process::Output> {
        let shown = self.command_line();
        let spawn_failed = |e: std::io::Error| {
            Error::failed(format!("could not run `{shown}`"))
                .cause(e)
                .hint("git kitty needs the `git` binary on PATH")
        };
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let out = match self.input.take() {
            None => self.cmd.output().map_err(spawn_failed)?,
            Some(bytes) => {
                let mut child = self
                    .cmd
                    .stdin(Stdio::piped())
                    .spawn()
                    .map_err(spawn_failed)?;
                // Feed stdin from another thread: git may fill its stdout pipe before it has
                // read all of its input.
                let stdin = child.stdin.take();
                let feeder = std::thread::spawn(move || {
                    if let Some(mut stdin) = stdin {
                        use std::io::Write;
                        let _ = stdin.write_all(&bytes);
                    }
                });
                let out = child.wait_with_output().map_err(spawn_failed)?;
                let _ = feeder.join();
                out
            }
        };
        Ok(out)
    }

    /// Run; a non-zero exit becomes an error that carries git's own message.
    pub fn run(self) -> Result<String> {
        let shown = self.command_line();
        let out = self.output()?;
        if out.success {
            Ok(out.stdout)
        } else {
            Err(Error::new(ErrorKind::Failed, format!("`{shown}` failed")).cause(out.stderr))
        }
    }
}
