//! Running the `git` binary, for what gix cannot do (worktrees, push, fetch, merges that touch
//! a working tree, rebase).
//!
//! Never through a shell; user-derived revisions go after `--end-of-options` and paths after
//! `--`; output is parsed from machine formats. The environment variables that would redirect
//! git to another repository or index are removed, so a hook's `GIT_DIR`/`GIT_INDEX_FILE`
//! cannot leak into a command aimed at another worktree.

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
            // Merges and rebases run by git kitty must never open an editor.
            .env("GIT_EDITOR", "true")
            .env("GIT_MERGE_AUTOEDIT", "no")
            .env("GIT_SEQUENCE_EDITOR", "true")
            .stdin(Stdio::null());
        Git {
            cmd,
            shown: vec!["git".into()],
        }
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
    pub fn output(mut self) -> Result<Output> {
        let shown = self.command_line();
        let out = self
            .cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| {
                Error::failed(format!("could not run `{shown}`"))
                    .cause(e)
                    .hint("git kitty needs the `git` binary on PATH")
            })?;
        Ok(Output {
            success: out.status.success(),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
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
