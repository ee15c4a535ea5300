//! Validated names: work package ids and feature slugs.
//!
//! Both become parts of ref names (`refs/kitty/wp/<feature>/<WP>`), branch names
//! (`<feature>-<WP>`) and paths (`.worktrees/<feature>-<WP>`), so they are checked once, at the
//! edge, and carried as types afterwards: nothing unchecked can reach git or the filesystem.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A work package id such as `WP01`: `WP` followed by 1 to 6 digits.
///
/// User input is case-insensitive (`wp3` is `WP3`); the spelling of the plan is kept because
/// `WP3` and `WP03` are different names on disk, but they compare by number.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WpId(String);

impl TryFrom<String> for WpId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<WpId> for String {
    fn from(id: WpId) -> String {
        id.0
    }
}

impl WpId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `s` as [`WpId::from_str`] spells it (trimmed, upper case), borrowed when it already is
    /// (event logs name WPs tens of thousands of times, nearly always so); `None` when it is
    /// not a WP id. [`WpId::from_canonical`] makes the id.
    pub fn canonical(s: &str) -> Option<Cow<'_, str>> {
        let t = s.trim();
        let b = t.as_bytes();
        let valid = (3..=8).contains(&b.len())
            && b[..2].eq_ignore_ascii_case(b"WP")
            && b[2..].iter().all(u8::is_ascii_digit);
        match valid {
            false => None,
            true if &b[..2] == b"WP" => Some(Cow::Borrowed(t)),
            true => Some(Cow::Owned(t.to_ascii_uppercase())),
        }
    }

    /// The id of text [`WpId::canonical`] gave.
    pub fn from_canonical(canonical: Cow<'_, str>) -> WpId {
        debug_assert!(WpId::canonical(&canonical).is_some_and(|c| c == canonical));
        WpId(canonical.into_owned())
    }

    /// The numeric part, used for ordering (`WP2` < `WP10`) and loose matching.
    pub fn number(&self) -> u32 {
        self.0[2..].parse().unwrap_or(u32::MAX)
    }

    /// The id at the start of a WP file name (`WP02-api.md` -> `WP02`), if there is one.
    pub fn from_file_name(name: &str) -> Option<WpId> {
        let rest = name.strip_prefix("WP")?;
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        // `WP01a.md` is not WP01's file: the number must end at a separator.
        match rest.as_bytes().get(digits) {
            None | Some(b'-' | b'.' | b'_') => WpId::from_str(&name[..2 + digits]).ok(),
            Some(_) => None,
        }
    }
}

impl FromStr for WpId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        let digits = upper.strip_prefix("WP").unwrap_or("");
        if !digits.is_empty() && digits.len() <= 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(WpId(upper))
        } else {
            Err(format!(
                "`{}` is not a work package id (expected `WP` and digits, like `WP01`)",
                crate::model::excerpt(s)
            ))
        }
    }
}

impl Ord for WpId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.number()
            .cmp(&other.number())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for WpId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for WpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A feature folder name under `kitty-specs/`, such as `001-auth`.
///
/// `[A-Za-z0-9][A-Za-z0-9._-]*`, at most 100 bytes, and nothing git refuses in a ref component
/// (`..`, a trailing `.` or `.lock`). It can never start with `-`, so it is never read as an
/// option, and never contains `/`, so it can never leave the folder it names.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FeatureSlug(String);

impl TryFrom<String> for FeatureSlug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<FeatureSlug> for String {
    fn from(slug: FeatureSlug) -> String {
        slug.0
    }
}

impl FeatureSlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for FeatureSlug {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| {
            Err(format!(
                "`{}` is not a safe feature name: {why}",
                crate::model::excerpt(s)
            ))
        };
        let Some(first) = s.bytes().next() else {
            return bad("it is empty");
        };
        if !first.is_ascii_alphanumeric() {
            return bad("it must start with an ASCII letter or digit");
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        {
            return bad(&format!(
                "{c:?} is not allowed (only ASCII letters, digits, `.`, `_`, `-`)"
            ));
        }
        if s.len() > 100 {
            return bad("it is longer than 100 characters");
        }
        if s.contains("..") || s.ends_with('.') || s.ends_with(".lock") {
            return bad("git refuses `..`, a trailing `.` and a trailing `.lock` in ref names");
        }
        Ok(FeatureSlug(s.to_owned()))
    }
}

impl fmt::Display for FeatureSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `<feature>-<WP>`: the one branch a WP's work goes on. Derived from the WP's own id, never
/// read from state: a branch name recorded in a state ref is only ever compared with this.
pub fn wp_branch(feature: &FeatureSlug, wp: &WpId) -> String {
    format!("{feature}-{wp}")
}

/// `.worktrees/<feature>-<WP>`: where a WP's worktree is made, relative to the main worktree
/// (derived like [`wp_branch`]).
pub fn wp_worktree(feature: &FeatureSlug, wp: &WpId) -> String {
    format!(".worktrees/{}", wp_branch(feature, wp))
}

/// Whether `name` is a branch name git accepts (`git check-ref-format --branch` rules) that
/// cannot be read as an option. Used for branch names that come from files
/// (`merge_target_branch`) or config (`kitty.targetBranch`) before they reach git.
pub fn is_safe_branch_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('-')
        && name != "@"
        && !name.contains("..")
        && !name.contains("@{")
        && !name.contains("//")
        && !name.ends_with('/')
        && !name.ends_with('.')
        && !name
            .chars()
            .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
        && name
            .split('/')
            .all(|part| !part.starts_with('.') && !part.ends_with(".lock"))
}

/// Cache encoding (`util::codec`): the id as text, checked again when read.
impl crate::util::codec::Encode for WpId {
    fn encode(&self, w: &mut crate::util::codec::Writer) {
        w.str(&self.0);
    }
}

impl crate::util::codec::Decode for WpId {
    fn decode(r: &mut crate::util::codec::Reader) -> Option<Self> {
        r.str()?.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wp_ids_parse_case_insensitively_and_sort_by_number() {
        let mut ids: Vec<WpId> = ["wp10", "WP2", "WP01"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        ids.sort();
        let names: Vec<&str> = ids.iter().map(WpId::as_str).collect();
        assert_eq!(names, ["WP01", "WP2", "WP10"]);
    }

    #[test]
    fn canonical_spelling_is_the_one_parsing_gives() {
        let inputs = [
            "WP01",
            "wp01",
            "Wp7",
            " WP02 ",
            "WP",
            "WP1234567",
            "WP123456",
            "WPx1",
            "WP-1",
            "XP01",
            "WP01a",
            "",
            "\u{a0}WP03",
            "wp0\n",
            "WP٣",
        ];
        for s in inputs {
            let parsed = s.parse::<WpId>().ok();
            let canonical = WpId::canonical(s);
            assert_eq!(
                canonical.as_deref(),
                parsed.as_ref().map(WpId::as_str),
                "{s:?}"
            );
            if let Some(c) = canonical {
                assert_eq!(matches!(c, Cow::Borrowed(_)), s.trim().starts_with("WP"));
                assert_eq!(Some(WpId::from_canonical(c)), parsed);
            }
        }
    }

    #[test]
    fn wp_ids_refuse_anything_that_could_escape() {
        for bad in [
            "",
            "WP",
            "WP1a",
            "01",
            "WP-1",
            "WP01/..",
            "--WP01",
            "WP1234567",
            "WP 1",
        ] {
            assert!(bad.parse::<WpId>().is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn wp_id_from_file_name() {
        assert_eq!(
            WpId::from_file_name("WP03-api-layer.md").unwrap().as_str(),
            "WP03"
        );
        assert_eq!(WpId::from_file_name("WP7.md").unwrap().as_str(), "WP7");
        assert!(WpId::from_file_name("README.md").is_none());
        assert!(WpId::from_file_name("WPx.md").is_none());
        assert!(WpId::from_file_name("WP01a-x.md").is_none());
    }

    #[test]
    fn branch_names() {
        for good in [
            "main",
            "feat/verification-trust-3115",
            "release-1.2",
            "kitty/mission-x",
        ] {
            assert!(is_safe_branch_name(good), "{good:?} refused");
        }
        for bad in [
            "",
            "-b",
            "--upload-pack=x",
            "a..b",
            "a b",
            "a~1",
            "x.lock",
            "a/.b",
            "a//b",
            "a/",
            "@",
            "a@{1}",
            "a:b",
        ] {
            assert!(!is_safe_branch_name(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn feature_slugs() {
        for good in ["001-auth", "cli-widen-mode-01KPXFGJ", "a", "v1.2_x"] {
            assert!(good.parse::<FeatureSlug>().is_ok(), "{good:?} refused");
        }
        for bad in [
            "",
            "-x",
            ".hidden",
            "a/b",
            "a..b",
            "x.lock",
            "x.",
            "a b",
            "é",
            "a\\b",
            "a:b",
            &"x".repeat(101),
        ] {
            assert!(bad.parse::<FeatureSlug>().is_err(), "{bad:?} accepted");
        }
    }
}
