//! One work package file: from bytes to a [`WorkPackage`] and the problems found on the way.
//!
//! Real files are messy (see `fixtures/messy`), so reading is lenient where meaning is clear
//! (`dependencies:` empty, a flow list or a block list; `doing` for `in_progress`) and strict,
//! with file and line, where a guess could mislead (an id that disagrees with the file name).

use std::str::FromStr;

use super::frontmatter::{self, Node, SplitError, Value};
use super::ids::{WpId, is_safe_branch_name};
use super::lane::Lane;
use super::problem::{Code, Problem};
use crate::util::codec::{Decode, Encode, Reader, Writer};

/// A work package as the plan describes it. Runtime state (lane in refs, claims) is elsewhere.
/// (Encoded for the plan cache, `util::codec`; not part of any documented output.)
#[derive(Clone, Debug)]
pub struct WorkPackage {
    pub id: WpId,
    pub title: String,
    /// Valid dependency ids in file order, without repeats, each with its line.
    pub dependency_lines: Vec<(WpId, usize)>,
    /// The frontmatter `lane`, if it names a known lane.
    pub lane: Option<Lane>,
    pub lane_line: Option<usize>,
    /// Line of `work_package_id`, when present.
    pub id_line: Option<usize>,
    pub agent: Option<String>,
    pub subtasks: usize,
    pub phase: Option<String>,
    pub review_status: Option<String>,
    pub reviewed_by: Option<String>,
    pub planning_base_branch: Option<String>,
    pub merge_target_branch: Option<String>,
    /// Repository-relative path of the file, `/`-separated.
    pub file: String,
    /// The file could not be read as a WP at all (no frontmatter, malformed YAML): this is a
    /// stand-in named after the file, so dependents and the board still know the WP exists.
    pub broken: bool,
    /// The file has errors (`git kitty check`): such a WP is never ready to start.
    pub has_errors: bool,
}

impl Encode for WorkPackage {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.id);
        w.put(&self.title);
        w.put(&self.dependency_lines);
        w.put(&self.lane);
        w.put(&self.lane_line);
        w.put(&self.id_line);
        w.put(&self.agent);
        w.put(&self.subtasks);
        w.put(&self.phase);
        w.put(&self.review_status);
        w.put(&self.reviewed_by);
        w.put(&self.planning_base_branch);
        w.put(&self.merge_target_branch);
        w.put(&self.file);
        w.put(&self.broken);
        w.put(&self.has_errors);
    }
}

impl Decode for WorkPackage {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some(WorkPackage {
            id: r.get()?,
            title: r.get()?,
            dependency_lines: r.get()?,
            lane: r.get()?,
            lane_line: r.get()?,
            id_line: r.get()?,
            agent: r.get()?,
            subtasks: r.get()?,
            phase: r.get()?,
            review_status: r.get()?,
            reviewed_by: r.get()?,
            planning_base_branch: r.get()?,
            merge_target_branch: r.get()?,
            file: r.get()?,
            broken: r.get()?,
            has_errors: r.get()?,
        })
    }
}

impl WorkPackage {
    pub fn dependencies(&self) -> impl Iterator<Item = &WpId> {
        self.dependency_lines.iter().map(|(id, _)| id)
    }
}

/// Read one WP file. `path` is repository-relative; its file name gives the expected id.
/// Returns the WP when one could be identified (even with problems) and every problem found.
pub fn parse(path: &str, bytes: &[u8]) -> (Option<WorkPackage>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut wp = parse_inner(path, bytes, &mut problems);
    if let Some(wp) = &mut wp {
        wp.has_errors = problems
            .iter()
            .any(|p| p.severity == crate::model::problem::Severity::Error);
    }
    for p in &mut problems {
        if p.file.is_none() {
            p.file = Some(path.to_owned());
        }
        if let (None, Some(wp)) = (&p.wp, &wp) {
            p.wp = Some(wp.id.to_string());
        }
    }
    (wp, problems)
}

fn parse_inner(path: &str, bytes: &[u8], problems: &mut Vec<Problem>) -> Option<WorkPackage> {
    let file_name = path.rsplit('/').next().unwrap_or(path);
    let file_id = WpId::from_file_name(file_name);
    let fields = match read_frontmatter(path, bytes) {
        Ok(fields) => fields,
        Err(problem) => {
            problems.push(problem);
            return stand_in(path, file_name, file_id);
        }
    };
    for (key, line) in &fields.duplicate_keys {
        problems.push(
            Problem::new(Code::DuplicateKey, format!("`{key}` is set more than once"))
                .at(path, Some(*line)),
        );
    }

    let id = read_id(path, fields.get("work_package_id"), file_id, problems)?;
    // The order of these reads is the order of the problems they report.
    let mut read = FieldReader {
        path,
        fields: &fields,
        problems,
    };
    let title = read
        .title()
        .unwrap_or_else(|| title_from_file_name(file_name));
    let dependency_lines = read.dependencies();
    let (lane, lane_line) = read.lane();
    let planning_base_branch = read.branch("planning_base_branch");
    let merge_target_branch = read.branch("merge_target_branch");

    Some(WorkPackage {
        id,
        title,
        dependency_lines,
        lane,
        lane_line,
        id_line: fields.get("work_package_id").map(|n| n.line),
        agent: read.text("agent").or_else(|| read.text("assignee")),
        subtasks: read.subtasks(),
        phase: read.text("phase"),
        review_status: read.text("review_status"),
        reviewed_by: read.text("reviewed_by"),
        planning_base_branch,
        merge_target_branch,
        file: path.to_owned(),
        broken: false,
        has_errors: false,
    })
}

/// The known fields of a WP file, or the one problem that keeps it from being read as a WP at
/// all (a frontmatter that is not UTF-8, no or unclosed frontmatter, malformed YAML, not a
/// mapping).
fn read_frontmatter(path: &str, bytes: &[u8]) -> Result<frontmatter::Fields, Problem> {
    // Only the frontmatter is read: what follows is the agent's prompt, free text that no
    // field comes from (and that Spec Kitty, not git kitty, reads).
    let head = frontmatter::head_len(bytes);
    let bytes = &bytes[..head.unwrap_or(bytes.len())];
    let bytes = bytes.strip_prefix(frontmatter::BOM).unwrap_or(bytes);
    let text = crate::util::utf8::str_of(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        let what = if head.is_some() {
            "frontmatter"
        } else {
            "file"
        };
        Problem::new(
            Code::UnreadableFile,
            format!("the {what} is not valid UTF-8"),
        )
        .at(path, Some(line))
    })?;
    let split = frontmatter::split(text).map_err(|e| {
        let message = match e {
            SplitError::Missing => "no YAML frontmatter: the file must start with a `---` line",
            SplitError::Unclosed => {
                "the frontmatter opened on line 1 is never closed by a `---` line"
            }
        };
        Problem::new(Code::MissingFrontmatter, message).at(path, Some(1))
    })?;
    let fields = frontmatter::read_fields(&split).map_err(|e| {
        Problem::new(
            Code::MalformedYaml,
            format!("malformed YAML (column {}): {}", e.column, e.message),
        )
        .at(path, Some(e.line))
    })?;
    if let Some(line) = fields.not_a_mapping {
        return Err(Problem::new(
            Code::MalformedYaml,
            "the frontmatter must be a mapping of `key: value` lines",
        )
        .at(path, Some(line)));
    }
    Ok(fields)
}

/// Reads the known fields one at a time, each recording its own problems against the file.
struct FieldReader<'a> {
    path: &'a str,
    fields: &'a frontmatter::Fields,
    problems: &'a mut Vec<Problem>,
}

impl FieldReader<'_> {
    fn problem(&mut self, code: Code, line: usize, message: impl Into<String>) {
        self.problems
            .push(Problem::new(code, message).at(self.path, Some(line)));
    }

    /// `title`, trimmed; `None` when missing, empty or not a text (the caller falls back to
    /// the file name).
    fn title(&mut self) -> Option<String> {
        let n = self.fields.get("title")?;
        let title = match &n.value {
            Value::Scalar(s) => s.trim().to_owned(),
            Value::Null => String::new(),
            _ => {
                let message = format!("`title` must be a text, not {}", n.kind());
                self.problem(Code::MalformedField, n.line, message);
                String::new()
            }
        };
        Some(title).filter(|t| !t.is_empty())
    }

    /// `dependencies`: the valid ids in file order, without repeats, each with its line.
    fn dependencies(&mut self) -> Vec<(WpId, usize)> {
        let Some(n) = self.fields.get("dependencies") else {
            return Vec::new();
        };
        /// Invalid entries reported one by one; beyond that, one line says how many more
        /// (a field of ten thousand words is one mistake, not ten thousand problems).
        const SHOWN: usize = 10;
        let items = self.dependency_items(n);
        let mut valid = Vec::with_capacity(items.len());
        let mut invalid = 0;
        for (raw, line) in items {
            match WpId::from_str(&raw) {
                Ok(dep) => valid.push((dep, line)),
                Err(why) => {
                    invalid += 1;
                    if invalid <= SHOWN {
                        let message = format!("in `dependencies`: {why}");
                        self.problem(Code::MalformedField, line, message);
                    }
                }
            }
        }
        if invalid > SHOWN {
            let message = format!(
                "in `dependencies`: {} more entries are not work package ids",
                invalid - SHOWN
            );
            self.problem(Code::MalformedField, n.line, message);
        }
        first_occurrences(valid)
    }

    /// The raw entries of `dependencies` with their lines. Lenient where meaning is clear:
    /// `dependencies: WP01` or `dependencies: "WP01, WP02"` are accepted as lists; a list
    /// written as a string (`"[]"`, `""`, `"[WP01]"`, as some Spec Kitty files have it) is
    /// read as that list, with a warning.
    fn dependency_items(&mut self, n: &Node) -> Vec<(String, usize)> {
        match &n.value {
            Value::Null => Vec::new(),
            Value::Scalar(s) => self.quoted_list(s, n),
            Value::Seq(seq) => seq
                .iter()
                .filter_map(|item| match item.as_scalar() {
                    Some(s) => Some((s.to_owned(), item.line)),
                    None => {
                        let message = format!(
                            "each dependency must be a WP id like `WP01`, not {}",
                            item.kind()
                        );
                        self.problem(Code::MalformedField, item.line, message);
                        None
                    }
                })
                .collect(),
            _ => {
                let message = format!("`dependencies` must be a list of WP ids, not {}", n.kind());
                self.problem(Code::MalformedField, n.line, message);
                Vec::new()
            }
        }
    }

    /// The entries of `dependencies` given as one scalar. `WP01, WP02` is an accepted
    /// shorthand; a quoted YAML list (`"[WP01]"`, `"[]"`) or a quoted empty string is most
    /// likely a list written as text by mistake: read as meant, and said.
    fn quoted_list(&mut self, text: &str, n: &Node) -> Vec<(String, usize)> {
        let trimmed = text.trim();
        let inner = trimmed.strip_prefix('[').and_then(|t| t.strip_suffix(']'));
        // An empty scalar is always a quoted one: `dependencies:` alone is null.
        if inner.is_some() || trimmed.is_empty() {
            let meant = match inner.map(str::trim) {
                Some("") | None => "no dependencies; write `dependencies: []`".to_owned(),
                Some(list) => format!("the list [{list}]; write it without quotes"),
            };
            self.problem(
                Code::QuotedList,
                n.line,
                format!("`dependencies` is the string \"{trimmed}\", read as {meant}"),
            );
        }
        inner
            .unwrap_or(trimmed)
            .split([',', ' '])
            .filter(|p| !p.trim().is_empty())
            .map(|p| (p.trim().to_owned(), n.line))
            .collect()
    }

    /// `lane` and its line: the line is kept even when the lane is unknown, so `git kitty
    /// check` can point at it.
    fn lane(&mut self) -> (Option<Lane>, Option<usize>) {
        let Some(n) = self.fields.get("lane") else {
            return (None, None);
        };
        let lane = match &n.value {
            Value::Null => None,
            Value::Scalar(s) => match Lane::from_str(s) {
                Ok(l) => Some(l),
                Err(why) => {
                    self.problem(Code::UnknownLane, n.line, why);
                    None
                }
            },
            _ => {
                let message = format!("`lane` must be a lane name, not {}", n.kind());
                self.problem(Code::UnknownLane, n.line, message);
                None
            }
        };
        (lane, Some(n.line))
    }

    /// A branch name field: refused unless safe to hand to git.
    fn branch(&mut self, key: &str) -> Option<String> {
        let node = self.fields.get(key)?;
        let value = match &node.value {
            Value::Null => return None,
            Value::Scalar(s) => s.trim().to_owned(),
            _ => {
                let message = format!("`{key}` must be a branch name, not {}", node.kind());
                self.problem(Code::MalformedField, node.line, message);
                return None;
            }
        };
        if is_safe_branch_name(&value) {
            Some(value)
        } else {
            let message = format!(
                "`{key}: {}` is not a safe branch name",
                crate::model::excerpt(&value)
            );
            self.problem(Code::UnsafeName, node.line, message);
            None
        }
    }

    /// A free-text field, trimmed; anything but non-empty text counts as absent.
    fn text(&self, key: &str) -> Option<String> {
        self.fields
            .get(key)
            .and_then(Node::as_scalar)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// How many `subtasks` the list holds (anything else counts as none).
    fn subtasks(&self) -> usize {
        match self.fields.get("subtasks").map(|n| &n.value) {
            Some(Value::Seq(items)) => items.len(),
            _ => 0,
        }
    }
}

/// The first occurrence of each id, in the original order. Linear (a set of the ids seen):
/// a file listing tens of thousands of dependencies must not take seconds to read.
fn first_occurrences(deps: Vec<(WpId, usize)>) -> Vec<(WpId, usize)> {
    let keep: Vec<bool> = {
        let mut seen: std::collections::HashSet<&str> =
            std::collections::HashSet::with_capacity(deps.len());
        deps.iter()
            .map(|(id, _)| seen.insert(id.as_str()))
            .collect()
    };
    deps.into_iter()
        .zip(keep)
        .filter_map(|(dep, keep)| keep.then_some(dep))
        .collect()
}

/// The WP a broken file stands for, known only by its file name (nothing, without an id
/// in the name).
fn stand_in(path: &str, file_name: &str, file_id: Option<WpId>) -> Option<WorkPackage> {
    Some(WorkPackage {
        id: file_id?,
        title: title_from_file_name(file_name),
        dependency_lines: Vec::new(),
        lane: None,
        lane_line: None,
        id_line: None,
        agent: None,
        subtasks: 0,
        phase: None,
        review_status: None,
        reviewed_by: None,
        planning_base_branch: None,
        merge_target_branch: None,
        file: path.to_owned(),
        broken: true,
        has_errors: true,
    })
}

/// The WP id: `work_package_id`, checked against the file name; the file name's id stands in
/// when the field is missing or malformed, so the WP still shows on the board.
fn read_id(
    path: &str,
    node: Option<&Node>,
    file_id: Option<WpId>,
    problems: &mut Vec<Problem>,
) -> Option<WpId> {
    let declared = match node {
        None => {
            problems.push(
                Problem::new(Code::MissingId, "no `work_package_id` in the frontmatter")
                    .at(path, Some(1)),
            );
            None
        }
        Some(n) => match n.as_scalar().map(WpId::from_str) {
            Some(Ok(id)) => Some((id, n.line)),
            Some(Err(why)) => {
                problems.push(
                    Problem::new(Code::MalformedId, format!("`work_package_id`: {why}"))
                        .at(path, Some(n.line)),
                );
                None
            }
            None => {
                problems.push(
                    Problem::new(
                        Code::MalformedId,
                        format!("`work_package_id` must be a WP id, not {}", n.kind()),
                    )
                    .at(path, Some(n.line)),
                );
                None
            }
        },
    };
    match (declared, file_id) {
        (Some((id, line)), Some(file_id)) => {
            if id.as_str() != file_id.as_str() {
                problems.push(
                    Problem::new(
                        Code::IdMismatch,
                        format!(
                            "`work_package_id: {id}` disagrees with the file name, which says {file_id}"
                        ),
                    )
                    .at(path, Some(line)),
                );
            }
            Some(id)
        }
        (Some((id, _)), None) => Some(id),
        (None, file_id) => file_id,
    }
}

/// `WP02-api-layer.md` -> `api layer`: a title for a WP whose frontmatter has none.
fn title_from_file_name(name: &str) -> String {
    let stem = name.strip_suffix(".md").unwrap_or(name);
    let rest = stem
        .trim_start_matches("WP")
        .trim_start_matches(|c: char| c.is_ascii_digit());
    rest.trim_start_matches(['-', '_', '.'])
        .replace(['-', '_'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(problems: &[Problem]) -> Vec<&'static str> {
        problems.iter().map(|p| p.code.as_str()).collect()
    }

    #[test]
    fn a_clean_file() {
        let (wp, problems) = parse(
            "kitty-specs/001-a/tasks/WP02-api.md",
            b"---\nwork_package_id: WP02\ntitle: API\ndependencies: [WP01]\nlane: doing\nagent: claude\nsubtasks: [T1, T2]\n---\nbody\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let wp = wp.unwrap();
        assert_eq!(wp.id.as_str(), "WP02");
        assert_eq!(wp.lane, Some(Lane::InProgress));
        assert_eq!(wp.agent.as_deref(), Some("claude"));
        assert_eq!(wp.subtasks, 2);
        assert_eq!(wp.dependencies().next().unwrap().as_str(), "WP01");
    }

    #[test]
    fn bom_crlf_and_missing_lane() {
        let (wp, problems) = parse(
            "t/WP01-x.md",
            b"\xEF\xBB\xBF---\r\nwork_package_id: \"WP01\"\r\ndependencies:\r\n---\r\n",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let wp = wp.unwrap();
        assert_eq!(wp.lane, None);
        assert_eq!(wp.title, "x");
    }

    #[test]
    fn id_problems_keep_the_wp_on_the_board_under_its_file_name() {
        let (wp, p) = parse("t/WP03-x.md", b"---\ntitle: x\n---\n");
        assert_eq!(codes(&p), ["missing-id"]);
        assert_eq!(wp.unwrap().id.as_str(), "WP03");

        let (wp, p) = parse("t/WP03-x.md", b"---\nwork_package_id: 3\n---\n");
        assert_eq!(codes(&p), ["malformed-id"]);
        assert_eq!(p[0].line, Some(2));
        assert_eq!(wp.unwrap().id.as_str(), "WP03");

        let (wp, p) = parse("t/WP03-x.md", b"---\nwork_package_id: WP04\n---\n");
        assert_eq!(codes(&p), ["id-mismatch"]);
        assert_eq!(wp.unwrap().id.as_str(), "WP04");
    }

    #[test]
    fn field_problems_have_lines() {
        let (_, p) = parse(
            "t/WP01.md",
            b"---\nwork_package_id: WP01\nlane: finished\ndependencies:\n- WP02\n- nope\n- {a: 1}\nmerge_target_branch: --force\n---\n",
        );
        let got: Vec<(&str, Option<usize>)> = p.iter().map(|p| (p.code.as_str(), p.line)).collect();
        assert_eq!(
            got,
            [
                ("malformed-field", Some(7)),
                ("malformed-field", Some(6)),
                ("unknown-lane", Some(3)),
                ("unsafe-name", Some(8)),
            ]
        );
    }

    #[test]
    fn broken_files_leave_a_stand_in_named_after_the_file() {
        let (wp, p) = parse("t/WP01-core-api.md", b"no frontmatter\n");
        let wp = wp.unwrap();
        assert!(wp.broken && wp.has_errors);
        assert_eq!((wp.id.as_str(), wp.title.as_str()), ("WP01", "core api"));
        assert_eq!(codes(&p), ["missing-frontmatter"]);
        let (wp, p) = parse("t/WP01.md", b"---\ntitle: [x\n---\n");
        assert!(wp.unwrap().broken);
        assert_eq!(codes(&p), ["malformed-yaml"]);
        let (wp, _) = parse("t/notes.md", b"---\ntitle: [x\n---\n");
        assert!(wp.is_none());
        let (_, p) = parse("t/WP01.md", b"---\nx: \xff\n---\n");
        assert_eq!(codes(&p), ["unreadable-file"]);
        assert_eq!(p[0].line, Some(2));
    }

    #[test]
    fn first_occurrences_keep_order_and_drop_repeats() {
        let ids = |spec: &[(&str, usize)]| -> Vec<(WpId, usize)> {
            spec.iter()
                .map(|(id, l)| (id.parse().unwrap(), *l))
                .collect()
        };
        let got = first_occurrences(ids(&[
            ("WP03", 1),
            ("WP01", 2),
            ("WP03", 3),
            ("WP02", 4),
            ("WP01", 5),
        ]));
        // The first line of each id is the one kept.
        assert_eq!(got, ids(&[("WP03", 1), ("WP01", 2), ("WP02", 4)]));
        assert!(first_occurrences(Vec::new()).is_empty());
        // Spellings are different names here; the plan matches them by number later.
        assert_eq!(
            first_occurrences(ids(&[("WP1", 1), ("WP01", 2), ("WP1", 3)])),
            ids(&[("WP1", 1), ("WP01", 2)])
        );
    }

    #[test]
    fn a_list_written_as_a_string_is_read_as_meant_with_a_warning() {
        let read = |deps: &str| {
            let text = format!("---\nwork_package_id: WP09\ndependencies: {deps}\n---\n");
            let (wp, problems) = parse("t/WP09.md", text.as_bytes());
            let ids: Vec<String> = wp
                .unwrap()
                .dependencies()
                .map(|d| d.as_str().to_owned())
                .collect();
            (ids, codes(&problems))
        };
        let none: Vec<String> = Vec::new();
        assert_eq!(read("\"[]\""), (none.clone(), vec!["quoted-list"]));
        assert_eq!(read("''"), (none.clone(), vec!["quoted-list"]));
        assert_eq!(read("\"\""), (none.clone(), vec!["quoted-list"]));
        assert_eq!(
            read("\"[WP01, WP02]\""),
            (
                vec!["WP01".to_owned(), "WP02".to_owned()],
                vec!["quoted-list"]
            )
        );
        // The shorthand without brackets stays quiet, and so does a real empty list.
        assert_eq!(read("\"WP01, WP02\"").1, Vec::<&str>::new());
        assert_eq!(read("[]"), (none, vec![]));
        // Text that is not a list is still an error.
        let mut codes = read("\"[nope]\"").1;
        codes.sort_unstable();
        assert_eq!(codes, vec!["malformed-field", "quoted-list"]);
    }

    #[test]
    fn repeated_dependencies_are_dropped_in_every_list_form() {
        let deps = |text: &str| -> Vec<(String, usize)> {
            let (wp, problems) = parse("t/WP09.md", text.as_bytes());
            assert!(problems.is_empty(), "{problems:?}");
            let wp = wp.unwrap();
            wp.dependency_lines
                .iter()
                .map(|(d, l)| (d.to_string(), *l))
                .collect()
        };
        let flow =
            deps("---\nwork_package_id: WP09\ndependencies: [WP02, WP01, WP02, WP03, WP01]\n---\n");
        let want = |l: [usize; 3]| {
            vec![
                ("WP02".to_owned(), l[0]),
                ("WP01".to_owned(), l[1]),
                ("WP03".to_owned(), l[2]),
            ]
        };
        assert_eq!(flow, want([3, 3, 3]));
        let block = deps(
            "---\nwork_package_id: WP09\ndependencies:\n- WP02\n- WP01\n- WP02\n- WP03\n- WP01\n---\n",
        );
        assert_eq!(block, want([4, 5, 7]));
        let scalar =
            deps("---\nwork_package_id: WP09\ndependencies: \"WP02, WP01 WP02,WP03\"\n---\n");
        assert_eq!(scalar, want([3, 3, 3]));
    }

    #[test]
    fn tens_of_thousands_of_dependencies_keep_their_first_occurrences() {
        let mut list: Vec<String> = Vec::new();
        for k in 0..20_000 {
            list.push(format!("WP{}", 100 + k % 7_000));
        }
        let text = format!(
            "---\nwork_package_id: WP01\ndependencies: [{}]\n---\n",
            list.join(", ")
        );
        let (wp, problems) = parse("t/WP01.md", text.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        let got: Vec<String> = wp.unwrap().dependencies().map(WpId::to_string).collect();
        let want: Vec<String> = (0..7_000).map(|k| format!("WP{}", 100 + k)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn the_cache_form_reads_back_the_same() {
        let (wp, _) = parse(
            "kitty-specs/001-a/tasks/WP02-api.md",
            b"---\nwork_package_id: WP02\ntitle: API\ndependencies: [WP01]\nlane: doing\nagent: claude\nsubtasks: [T1, T2]\nphase: one\nreview_status: ok\nreviewed_by: rev\nplanning_base_branch: dev\nmerge_target_branch: main\n---\n",
        );
        let wp = wp.unwrap();
        let mut w = Writer::default();
        w.put(&wp);
        let back: WorkPackage = Reader::new(&w.bytes).get().unwrap();
        assert_eq!(format!("{back:?}"), format!("{wp:?}"));
        for cut in 0..w.bytes.len() {
            assert!(Reader::new(&w.bytes[..cut]).get::<WorkPackage>().is_none());
        }
    }
}
