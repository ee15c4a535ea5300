//! Problems found in the plan or the state: what `git kitty check` reports and what the board
//! lists under itself. Stable codes, so scripts can match on them (docs/json.md).

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The plan is wrong: `check` exits 1.
    Error,
    /// Probably a mistake, not fatal: `check --strict` exits 1.
    Warning,
    /// Information: nothing to fix (a frontmatter lane left behind by the state).
    Info,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    UnreadableFile,
    MissingFrontmatter,
    MalformedYaml,
    DuplicateKey,
    MissingId,
    MalformedId,
    IdMismatch,
    DuplicateId,
    MalformedField,
    UnknownDependency,
    SelfDependency,
    DependencyCycle,
    UnknownLane,
    UnsafeName,
    IgnoredEntry,
    QuotedList,
    MalformedEvent,
    LaneDrift,
    LaneEdited,
    BadStateRef,
    MissingWorktree,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::UnreadableFile => "unreadable-file",
            Code::MissingFrontmatter => "missing-frontmatter",
            Code::MalformedYaml => "malformed-yaml",
            Code::DuplicateKey => "duplicate-key",
            Code::MissingId => "missing-id",
            Code::MalformedId => "malformed-id",
            Code::IdMismatch => "id-mismatch",
            Code::DuplicateId => "duplicate-id",
            Code::MalformedField => "malformed-field",
            Code::UnknownDependency => "unknown-dependency",
            Code::SelfDependency => "self-dependency",
            Code::DependencyCycle => "dependency-cycle",
            Code::UnknownLane => "unknown-lane",
            Code::UnsafeName => "unsafe-name",
            Code::IgnoredEntry => "ignored-entry",
            Code::QuotedList => "quoted-list",
            Code::MalformedEvent => "malformed-event",
            Code::LaneDrift => "lane-drift",
            Code::LaneEdited => "lane-edited",
            Code::BadStateRef => "bad-state-ref",
            Code::MissingWorktree => "missing-worktree",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::IgnoredEntry
            | Code::QuotedList
            | Code::MalformedEvent
            | Code::LaneEdited
            | Code::BadStateRef
            | Code::MissingWorktree => Severity::Warning,
            Code::LaneDrift => Severity::Info,
            _ => Severity::Error,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Repository-relative path with `/` separators (or a ref name for state problems).
    pub file: Option<String>,
    pub line: Option<usize>,
    pub feature: Option<String>,
    pub wp: Option<String>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Problem {
        Problem {
            code,
            severity: code.severity(),
            message: message.into(),
            file: None,
            line: None,
            feature: None,
            wp: None,
        }
    }

    pub fn at(mut self, file: &str, line: Option<usize>) -> Problem {
        self.file = Some(file.to_owned());
        self.line = line;
        self
    }

    pub fn in_feature(mut self, feature: &str) -> Problem {
        self.feature = Some(feature.to_owned());
        self
    }

    pub fn for_wp(mut self, wp: &str) -> Problem {
        self.wp = Some(wp.to_owned());
        self
    }

    /// `path:line` (or the path alone) for people.
    pub fn location(&self) -> Option<String> {
        match (&self.file, self.line) {
            (Some(f), Some(l)) => Some(format!("{f}:{l}")),
            (Some(f), None) => Some(f.clone()),
            _ => None,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = self.location() {
            write!(f, "{loc}: ")?;
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        write!(f, "{sev}[{}]: {}", self.code.as_str(), self.message)
    }
}

/// Sort for stable output: by file, line, then code.
pub fn sort(problems: &mut [Problem]) {
    problems.sort_by(|a, b| {
        (&a.file, a.line, a.code, &a.message).cmp(&(&b.file, b.line, b.code, &b.message))
    });
}
/// Cache encoding (`util::codec`): problems are few (broken files, odd log lines), so they
/// travel as their JSON.
impl crate::util::codec::Encode for Problem {
    fn encode(&self, w: &mut crate::util::codec::Writer) {
        w.str(&serde_json::to_string(self).unwrap_or_default());
    }
}

impl crate::util::codec::Decode for Problem {
    fn decode(r: &mut crate::util::codec::Reader) -> Option<Self> {
        serde_json::from_str(r.str()?).ok()
    }
}
