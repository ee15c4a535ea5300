//! The one error type: a kind (which decides the exit code), a message, the causes and hints.
//!
//! Every message should name the next action; hints carry the exact command that would work.
//! The exit codes are part of the interface (man pages, docs/json.md):
//!
//! | code | kind          | meaning                                                        |
//! |------|---------------|----------------------------------------------------------------|
//! | 0    |               | success                                                        |
//! | 1    | `Refused`     | a rule refused: gate, claimed by another agent, lane move, order|
//! |      |               | (also `pull`/`push`/`sync` that found a claim made here lost)  |
//! | 2    | `Usage`       | usage or bad input: unknown WP, bad name, not a repository     |
//! | 3    | `NothingReady`| `next` found nothing ready to start                            |
//! | 4    | `Conflict`    | a merge or rebase stopped on conflicting changes, or `merge`   |
//! |      |               | skipped conflicting WPs (and landed the rest)                  |
//! | 5    | `Unreachable` | the remote could not be reached; local state is unchanged      |
//! | 6    | `Failed`      | git, the filesystem or a state object failed                   |

use std::fmt;

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Refused,
    Usage,
    NothingReady,
    Conflict,
    Unreachable,
    Failed,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Refused => 1,
            ErrorKind::Usage => 2,
            ErrorKind::NothingReady => 3,
            ErrorKind::Conflict => 4,
            ErrorKind::Unreachable => 5,
            ErrorKind::Failed => 6,
        }
    }
}

/// The exit-code table as a literal, so command help texts can `concat!` it.
#[macro_export]
macro_rules! exit_codes_help {
    () => {
        "\
Exit status:
  0  success
  1  refused by a rule (dependency gate, claimed by another agent, lane move, merge order),
     or `check` found errors
  2  usage or bad input (unknown work package, unsafe name, not in a git repository)
  3  nothing ready to start (`next`)
  4  stopped on a conflict (restack, multi-dependency base), or `merge` skipped
     conflicting work packages (and landed the rest)
  5  remote unreachable (local state left unchanged)
  6  git, the filesystem or a state object failed"
    };
}

/// The exit-code table, for `--help` texts and man pages.
pub const EXIT_CODES_HELP: &str = exit_codes_help!();

/// Boxed: errors are rare and `Result<T, Error>` stays one pointer wide on the happy path.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct Error(Box<ErrorData>);

#[derive(Debug, Clone, Serialize)]
pub struct ErrorData {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
    /// Machine-readable details for `--json` (who holds a claim, which paths conflict...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error(Box::new(ErrorData {
            kind,
            message: message.into(),
            causes: Vec::new(),
            hints: Vec::new(),
            details: None,
        }))
    }

    pub fn refused(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Refused, message)
    }

    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Usage, message)
    }

    pub fn failed(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Failed, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Error {
        self.0.hints.push(hint.into());
        self
    }

    /// Each hint rewritten by `f` (a caller that knows more than the one that failed, such as
    /// how the command line must name the WP).
    pub fn map_hints(mut self, f: impl Fn(&str) -> String) -> Error {
        for h in &mut self.0.hints {
            *h = f(h);
        }
        self
    }

    /// A hint shown before the others: the most likely way out.
    pub fn hint_first(mut self, hint: impl Into<String>) -> Error {
        self.0.hints.insert(0, hint.into());
        self
    }

    /// Who holds the WP, when the error is a refusal because another agent holds it.
    pub fn holder(&self) -> Option<&str> {
        self.0.details.as_ref()?.get("holder")?.as_str()
    }

    pub fn cause(mut self, cause: impl fmt::Display) -> Error {
        let text = cause.to_string();
        let text = text.trim();
        if !text.is_empty() {
            self.0.causes.push(text.to_owned());
        }
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Error {
        self.0.details = Some(details);
        self
    }

    pub fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorData;

    fn deref(&self) -> &ErrorData {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Wrap a lower-level failure with what was being done: `.context("reading WP01's state")`.
pub trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::failed(what()).cause(e))
    }
}
