//! One work package file: from bytes to a [`WorkPackage`] and the problems found on the way.
//!
//! Real files are messy (see `fixtures/messy`), so reading is lenient where meaning is clear
//! (`dependencies:` empty, a flow list or a block list; `doing` for `in_progress`) and strict,
//! with file and line, where a guess could mislead (an id that disagrees with the file name).

use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::frontmatter::{self, Node, SplitError, Value};
use super::ids::{WpId, is_safe_branch_name};
use super::lane::Lane;
use super::problem::{Code, Problem};

/// A work package as the plan describes it. Runtime state (lane in refs, claims) is elsewhere.
/// (Serialisable for the plan cache, not part of any documented output.)
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkPackage {
    pub id: WpId,
    pub title: String,
    /// Valid dependency ids in file order, without repeats, each with its line.
    pub dependency_lines: Vec<(WpId, usize)>,
    /// The frontmatter `lane`, if it names a known lane.
    pub lane: Option<Lane>,
    pub lane_line: Option<usize>,
    /// Line of `work_package_id`, when present.
    #[serde(default)]
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
    #[serde(default)]
    pub broken: bool,
    /// The file has errors (`git kitty check`): such a WP is never ready to start.
    #[serde(default)]
    pub has_errors: bool,
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
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            problems.push(
                Problem::new(Code::UnreadableFile, "the file is not valid UTF-8")
                    .at(path, Some(line)),
            );
            return stand_in(path, file_name, file_id);
        }
    };
    let split = match frontmatter::split(text) {
        Ok(s) => s,
        Err(SplitError::Missing) => {
            problems.push(
                Problem::new(
                    Code::MissingFrontmatter,
                    "no YAML frontmatter: the file must start with a `---` line",
                )
                .at(path, Some(1)),
            );
            return stand_in(path, file_name, file_id);
        }
        Err(SplitError::Unclosed) => {
            problems.push(
                Problem::new(
                    Code::MissingFrontmatter,
                    "the frontmatter opened on line 1 is never closed by a `---` line",
                )
                .at(path, Some(1)),
            );
            return stand_in(path, file_name, file_id);
        }
    };
    let fields = match frontmatter::read_fields(&split) {
        Ok(f) => f,
        Err(e) => {
            problems.push(
                Problem::new(
                    Code::MalformedYaml,
                    format!("malformed YAML (column {}): {}", e.column, e.message),
                )
                .at(path, Some(e.line)),
            );
            return stand_in(path, file_name, file_id);
        }
    };
    if let Some(line) = fields.not_a_mapping {
        problems.push(
            Problem::new(
                Code::MalformedYaml,
                "the frontmatter must be a mapping of `key: value` lines",
            )
            .at(path, Some(line)),
        );
        return stand_in(path, file_name, file_id);
    }
    for (key, line) in &fields.duplicate_keys {
        problems.push(
            Problem::new(Code::DuplicateKey, format!("`{key}` is set more than once"))
                .at(path, Some(*line)),
        );
    }

    let id = read_id(path, fields.get("work_package_id"), file_id, problems)?;
    let id_line = fields.get("work_package_id").map(|n| n.line);
    let mut field_problem = |node: &Node, msg: String| {
        problems.push(Problem::new(Code::MalformedField, msg).at(path, Some(node.line)));
    };

    let title = match fields.get("title") {
        Some(n) => match &n.value {
            Value::Scalar(s) => s.trim().to_owned(),
            Value::Null => String::new(),
            _ => {
                field_problem(n, format!("`title` must be a text, not {}", n.kind()));
                String::new()
            }
        },
        None => String::new(),
    };
    let title = if title.is_empty() {
        title_from_file_name(file_name)
    } else {
        title
    };

    let mut dependency_lines: Vec<(WpId, usize)> = Vec::new();
    if let Some(n) = fields.get("dependencies") {
        let items: Vec<(String, usize)> = match &n.value {
            Value::Null => Vec::new(),
            // `dependencies: WP01` or `dependencies: "WP01, WP02"`: unambiguous, accepted.
            Value::Scalar(s) => s
                .split([',', ' '])
                .filter(|p| !p.trim().is_empty())
                .map(|p| (p.to_owned(), n.line))
                .collect(),
            Value::Seq(seq) => seq
                .iter()
                .filter_map(|item| match item.as_scalar() {
                    Some(s) => Some((s.to_owned(), item.line)),
                    None => {
                        field_problem(
                            item,
                            format!(
                                "each dependency must be a WP id like `WP01`, not {}",
                                item.kind()
                            ),
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                field_problem(
                    n,
                    format!("`dependencies` must be a list of WP ids, not {}", n.kind()),
                );
                Vec::new()
            }
        };
        for (raw, line) in items {
            match WpId::from_str(&raw) {
                Ok(dep) if !dependency_lines.iter().any(|(d, _)| *d == dep) => {
                    dependency_lines.push((dep, line))
                }
                Ok(_) => {}
                Err(why) => problems.push(
                    Problem::new(Code::MalformedField, format!("in `dependencies`: {why}"))
                        .at(path, Some(line)),
                ),
            }
        }
    }

    let (lane, lane_line) = match fields.get("lane") {
        Some(n) => match &n.value {
            Value::Null => (None, Some(n.line)),
            Value::Scalar(s) => match Lane::from_str(s) {
                Ok(l) => (Some(l), Some(n.line)),
                Err(why) => {
                    problems.push(Problem::new(Code::UnknownLane, why).at(path, Some(n.line)));
                    (None, Some(n.line))
                }
            },
            _ => {
                problems.push(
                    Problem::new(
                        Code::UnknownLane,
                        format!("`lane` must be a lane name, not {}", n.kind()),
                    )
                    .at(path, Some(n.line)),
                );
                (None, Some(n.line))
            }
        },
        None => (None, None),
    };

    let text_field = |key: &str| -> Option<String> {
        fields
            .get(key)
            .and_then(Node::as_scalar)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let mut branch_field = |key: &str| -> Option<String> {
        let node = fields.get(key)?;
        let value = match &node.value {
            Value::Null => return None,
            Value::Scalar(s) => s.trim().to_owned(),
            _ => {
                problems.push(
                    Problem::new(
                        Code::MalformedField,
                        format!("`{key}` must be a branch name, not {}", node.kind()),
                    )
                    .at(path, Some(node.line)),
                );
                return None;
            }
        };
        if is_safe_branch_name(&value) {
            Some(value)
        } else {
            problems.push(
                Problem::new(
                    Code::UnsafeName,
                    format!(
                        "`{key}: {}` is not a safe branch name",
                        value.escape_debug()
                    ),
                )
                .at(path, Some(node.line)),
            );
            None
        }
    };
    let planning_base_branch = branch_field("planning_base_branch");
    let merge_target_branch = branch_field("merge_target_branch");

    let subtasks = match fields.get("subtasks").map(|n| &n.value) {
        Some(Value::Seq(items)) => items.len(),
        _ => 0,
    };

    Some(WorkPackage {
        id,
        title,
        dependency_lines,
        lane,
        lane_line,
        id_line,
        agent: text_field("agent").or_else(|| text_field("assignee")),
        subtasks,
        phase: text_field("phase"),
        review_status: text_field("review_status"),
        reviewed_by: text_field("reviewed_by"),
        planning_base_branch,
        merge_target_branch,
        file: path.to_owned(),
        broken: false,
        has_errors: false,
    })
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
}
