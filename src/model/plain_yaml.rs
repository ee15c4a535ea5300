//! The frontmatter of a WP file read line by line, when it is plain: the shape Spec Kitty
//! writes (`key: value` lines, block lists of scalars or of one-level mappings, flow lists of
//! ids, quoted scalars). A YAML parser costs ~150 instructions a byte, most of it on fields
//! git kitty skips (`history`, `owned_files`, ...); this reader is an order of magnitude
//! cheaper, and it is what makes reading a cold plan of thousands of WPs fast.
//!
//! It answers only for text it is certain the YAML parser reads the same way, with the same
//! values and lines: anything else (comments, blank lines, tabs, CRs, anchors, tags, block
//! scalars, escapes, multi-line scalars, deeper nesting, flow mappings, odd characters) gets
//! `None` and the caller runs the parser, which also words any error. A test checks it
//! against the parser on real-looking files and on thousands of mutations of them.

use super::frontmatter::{Fields, Node, Split, Value, is_null};

/// `text.split('\n')`, with `memchr`'s vector search (std's goes two words at a time: ~3 %
/// of a cold read of 2,537 frontmatters).
fn split_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::with_capacity(64);
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()) {
        lines.push(&text[start..end]);
        start = end + 1;
    }
    lines.push(&text[start..]);
    lines
}

/// The known fields of `split`, or `None` when the text is not plain enough to be sure.
pub fn read(split: &Split<'_>) -> Option<Fields> {
    let text = split.yaml;
    // Counted, not searched: a loop with no early exit runs on vectors.
    let odd = text
        .bytes()
        .filter(|b| *b != b'\n' && !(b' '..=b'~').contains(b))
        .count();
    let clean = odd == 0 || text.chars().all(plain_char);
    if !clean {
        return None;
    }
    let lines: Vec<&str> = match text.strip_suffix('\n') {
        Some(body) => split_lines(body),
        None if text.is_empty() => Vec::new(),
        None => return None,
    };
    let first = split.first_line;
    let mut fields = Fields::default();
    let mut seen = Seen::default();
    let mut at = 0;
    while at < lines.len() {
        let line_no = first + at;
        let (key, rest) = key_value(lines[at])?;
        if !seen.insert(key) {
            fields.duplicate_keys.push((key.to_owned(), line_no));
        }
        let known = known_field(key);
        let (node, next) = if rest.is_empty() {
            open_value(&lines, at + 1, first, known.is_some())?
        } else {
            (inline(rest, line_no, known.is_some())?, at + 1)
        };
        if let Some(known) = known {
            fields.entries.push((known, node));
        }
        at = next;
    }
    Some(fields)
}

/// The keys of a frontmatter seen so far. A key is compared with the others only when one
/// of them has its length and ends (a few dozen keys each: a search of all of them per key
/// was a tenth of the reader's time).
#[derive(Default)]
struct Seen<'a> {
    keys: Vec<&'a str>,
    /// Bit `h % 64` is set when a key with that [`Seen::sketch`] was seen.
    sketches: u64,
}

impl<'a> Seen<'a> {
    fn sketch(key: &str) -> u32 {
        let b = key.as_bytes();
        let ends = b
            .first()
            .zip(b.last())
            .map_or(0, |(f, l)| u32::from(*f) * 7 + u32::from(*l));
        (key.len() as u32).wrapping_mul(31).wrapping_add(ends) % 64
    }

    /// Whether `key` is new.
    fn insert(&mut self, key: &'a str) -> bool {
        let bit = 1u64 << Self::sketch(key);
        if self.sketches & bit != 0 && self.keys.contains(&key) {
            return false;
        }
        self.sketches |= bit;
        self.keys.push(key);
        true
    }
}

/// `key` as one of [`KNOWN_FIELDS`], if it is one (a `match`: by length, then bytes).
fn known_field(key: &str) -> Option<&'static str> {
    let known = match key {
        "work_package_id" => "work_package_id",
        "title" => "title",
        "dependencies" => "dependencies",
        "lane" => "lane",
        "subtasks" => "subtasks",
        "phase" => "phase",
        "assignee" => "assignee",
        "agent" => "agent",
        "shell_pid" => "shell_pid",
        "review_status" => "review_status",
        "reviewed_by" => "reviewed_by",
        "planning_base_branch" => "planning_base_branch",
        "merge_target_branch" => "merge_target_branch",
        _ => return None,
    };
    Some(known)
}

/// Characters the parser takes as they are in every context (printable, and no line
/// separators of YAML 1.1).
fn plain_char(c: char) -> bool {
    matches!(c, '\n' | ' '..='~')
        || (c >= '\u{a0}'
            && !matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
            ))
}

/// `key:` or `key: value` at the start of `line`: the key and what follows `: ` (empty when
/// the line ends at the colon).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let end = line
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))?;
    let key = &line[..end];
    let first = key.bytes().next()?;
    if !(first.is_ascii_alphanumeric() || first == b'_') {
        return None;
    }
    let rest = line[end..].strip_prefix(':')?;
    if rest.is_empty() {
        return Some((key, ""));
    }
    let value = rest.strip_prefix(' ')?;
    if value.is_empty() || value.starts_with(' ') {
        return None;
    }
    Some((key, value))
}

/// A value written on its key's line: a quoted or plain scalar, or a flow list of plain
/// items. Built only when `keep` (a known field); else only checked.
fn inline(text: &str, line: usize, keep: bool) -> Option<Node> {
    let value = if let Some(list) = text.strip_prefix('[') {
        Value::Seq(flow_list(list.strip_suffix(']')?, line, keep)?)
    } else {
        scalar(text, keep)?
    };
    Some(Node { value, line })
}

/// A scalar: `'single'` (`''` for a quote), `"double"` without escapes, or plain. Its text
/// is kept only when `keep` (else a null stands in: the caller drops it).
fn scalar(text: &str, keep: bool) -> Option<Value> {
    let owned = |s: &str| {
        if keep {
            Value::Scalar(s.to_owned())
        } else {
            Value::Null
        }
    };
    if let Some(inner) = text.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        // Quotes inside come in pairs (`''` is one quote).
        if !inner.contains('\'') {
            return Some(owned(inner));
        }
        if inner.replace("''", "").contains('\'') {
            return None;
        }
        return Some(owned(&inner.replace("''", "'")));
    }
    if let Some(inner) = text.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        if inner.contains(['"', '\\']) {
            return None;
        }
        return Some(owned(inner));
    }
    if !plain(text) {
        return None;
    }
    Some(if is_null(text) {
        Value::Null
    } else {
        owned(text)
    })
}

/// A plain scalar in block context that means itself: no indicator first, no `: ` or ` #`,
/// no trailing `:` or space.
fn plain(text: &str) -> bool {
    let b = text.as_bytes();
    let Some(first) = b.first() else {
        return false;
    };
    // `: ` and ` #` found from their rarer byte, in one pass.
    let stops = memchr::memchr2_iter(b':', b'#', b).any(|i| match b[i] {
        b':' => b.get(i + 1) == Some(&b' '),
        _ => i > 0 && b[i - 1] == b' ',
    });
    !matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    ) && !stops
        && !text.ends_with([':', ' '])
}

/// The items of `a, b, c` (the inside of `[...]`): plain words of id and path characters.
fn flow_list(inside: &str, line: usize, keep: bool) -> Option<Vec<Node>> {
    if inside.is_empty() {
        return Some(Vec::new());
    }
    inside
        .split(',')
        .map(|item| {
            let item = item.strip_prefix(' ').unwrap_or(item);
            let word = !item.is_empty()
                && item
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'/'))
                && item
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphanumeric());
            word.then(|| Node {
                value: if is_null(item) || !keep {
                    Value::Null
                } else {
                    Value::Scalar(item.to_owned())
                },
                line,
            })
        })
        .collect()
}

/// The value of `key:` whose line ends at the colon, from line `at` (0-based): nothing (the
/// next line is a key), or a block list at indent 0 or 2. Returns the node and the next line.
fn open_value(lines: &[&str], at: usize, first: usize, keep: bool) -> Option<(Node, usize)> {
    // Nothing (the end, or the next key): null, on the key's line.
    let nothing = Node {
        value: Value::Null,
        line: first + at - 1,
    };
    let Some(next) = lines.get(at) else {
        return Some((nothing, at));
    };
    let indent = if next.starts_with("- ") {
        0
    } else if next.starts_with("  - ") {
        2
    } else {
        key_value(next)?;
        return Some((nothing, at));
    };
    let mut items = Vec::new();
    let mut i = at;
    let dash = &"  - "[2 - indent..];
    let inner = &"    "[..indent + 2];
    while let Some(item) = lines.get(i).and_then(|l| l.strip_prefix(dash)) {
        let line = first + i;
        i += 1;
        match key_value(item) {
            Some((_, rest)) => {
                item_value(rest)?;
                // A one-level mapping: `  key: value` lines under the dash.
                while let Some(more) = lines.get(i).and_then(|l| l.strip_prefix(inner)) {
                    let (_, rest) = key_value(more)?;
                    item_value(rest)?;
                    i += 1;
                }
                items.push(Node {
                    value: Value::Map,
                    line,
                });
            }
            None => items.push(Node {
                value: scalar(item, keep)?,
                line,
            }),
        }
    }
    // What follows the list is the next key, or the end.
    if let Some(after) = lines.get(i) {
        key_value(after)?;
    }
    Some((
        Node {
            value: Value::Seq(items),
            line: first + at,
        },
        i,
    ))
}

/// A value inside a list item's mapping: a scalar or a flow list on the same line.
fn item_value(rest: &str) -> Option<()> {
    if rest.is_empty() {
        return None;
    }
    inline(rest, 0, false).map(|_| ())
}

#[cfg(test)]
mod tests {

    #[test]
    fn lines_split_as_str_split_does() {
        for text in ["", "a", "a\n", "\n", "a\nb", "a\n\nb\n", "é\nü"] {
            assert_eq!(
                split_lines(text),
                text.split('\n').collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    use super::*;
    use crate::model::frontmatter::{parse_fields, split};

    /// When this reader answers, the parser reads the same fields, values and lines.
    fn agrees(text: &str) -> bool {
        let Ok(split) = split(text) else {
            return false;
        };
        let Some(plain) = read(&split) else {
            return false;
        };
        match parse_fields(&split) {
            Ok(parsed) => assert_eq!(plain, parsed, "{text}"),
            Err(e) => panic!("read plainly, but the parser refuses it ({e:?}):\n{text}"),
        }
        true
    }

    const FILES: &[&str] = &[
        "---\nwork_package_id: WP04\ntitle: Planning Workflow Refactoring\ndependencies: [WP01, WP03]\nsubtasks:\n- T022\n- T023\nphase: Phase 1 - Core Implementation\nhistory:\n- timestamp: '2026-01-07T00:00:00Z'\n  lane: planned\n  agent: system\n  shell_pid: ''\n  action: Prompt generated via /spec-kitty.tasks\nauthoritative_surface: ''\nexecution_mode: code_change\nowned_files:\n- kitty-specs/###-feature-name/**\n- src/specify_cli/cli/commands/agent/feature.py#L281\nwp_code: WP04\n---\n# Body\n",
        "---\nwork_package_id: WP06\ntitle: Charter Integration\ndependencies:\n- WP01\n- WP02\nrequirement_refs:\n- C-001\n- FR-001\nplanning_base_branch: main\nmerge_target_branch: main\nbranch_strategy: Planning artifacts for this feature were generated on main. During /spec-kitty.implement this WP may branch from a dependency-specific base.\nsubtasks:\n- T026\nagent: \"claude:sonnet-4-7:python-reviewer:reviewer\"\nshell_pid: \"77306\"\nhistory:\n- date: '2026-04-23T15:43:52Z'\n  event: created\nagent_profile: python-implementer\ntags: []\n---\n",
        "---\nwork_package_id: WP13\ntitle: 'The shard proof: 13 enumerated node-ids under a shard, quoting the job'\ndependencies:\n  - WP03\n  - WP05\nlane: doing\nreview_status: ''\nreviewed_by: null\ncreated_at: '2026-07-31T12:00:00+00:00'\nhistory: []\nsubtasks: [T040, T041]\nowned_files:\n  - scripts/verify_shard_3115.sh\nnote: It's the one — with ü and 'quotes' inside\n---\n",
        "---\nwork_package_id: WP01\nlane: planned\nx: 1\nlane: done\nempty:\nlast: ~\n---\n",
        "---\n---\n",
        "---\nwork_package_id: WP01\ndependencies:\ntitle: x\n---\n",
        "---\nwork_package_id: WP01\ndependencies:\n---\n",
    ];

    #[test]
    fn known_fields_and_seen_keys_are_found() {
        use crate::model::frontmatter::KNOWN_FIELDS;
        for key in KNOWN_FIELDS {
            assert_eq!(known_field(key), Some(*key));
            assert_eq!(known_field(&format!("{key}s")), None);
            assert_eq!(known_field(&key[1..]), None);
        }
        assert_eq!(known_field("history"), None);
        let mut seen = Seen::default();
        let keys = ["a", "b", "ab", "ba", "lane", "lone", "title", "x"];
        for key in keys {
            assert!(seen.insert(key), "{key}");
        }
        for key in keys {
            assert!(!seen.insert(key), "{key}");
        }
    }

    #[test]
    fn plain_files_are_read_as_the_parser_reads_them() {
        for text in FILES {
            assert!(agrees(text), "left to the parser:\n{text}");
        }
        for fixture in fixture_files() {
            agrees(&fixture);
        }
    }

    /// Every WP file under `fixtures/`.
    pub fn fixture_files() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "md") {
                    out.extend(std::fs::read_to_string(&p).ok());
                }
            }
        }
        let mut out = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
            &mut out,
        );
        out
    }

    /// Every line dropped, doubled, indented or cut, and characters that change the meaning
    /// of YAML put in every place: the reader leaves the text to the parser or agrees with it.
    #[test]
    fn mutated_frontmatters_never_disagree_with_the_parser() {
        let mut answered = 0;
        let mut texts: Vec<String> = FILES.iter().map(|s| (*s).to_owned()).collect();
        texts.extend(fixture_files());
        for text in &texts {
            let Some((front, _)) = text.split_once("\n---\n") else {
                continue;
            };
            let lines: Vec<&str> = front.lines().collect();
            for i in 1..lines.len() {
                let mut variants: Vec<Vec<String>> = Vec::new();
                let own = |f: &dyn Fn(&mut Vec<String>)| {
                    let mut v: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
                    f(&mut v);
                    v
                };
                variants.push(own(&|v| {
                    v.remove(i);
                }));
                variants.push(own(&|v| v.insert(i, v[i].clone())));
                variants.push(own(&|v| v[i].insert(0, ' ')));
                variants.push(own(&|v| v[i].insert_str(0, "  ")));
                variants.push(own(&|v| v[i] = v[i].trim_start().to_owned()));
                variants.push(own(&|v| v[i].push(' ')));
                variants.push(own(&|v| v[i].push(':')));
                // Up to a dozen places in the line, its ends included.
                let step = lines[i].len() / 12 + 1;
                for k in (0..=lines[i].len()).step_by(step) {
                    if !lines[i].is_char_boundary(k) {
                        continue;
                    }
                    variants.push(own(&|v| v[i].truncate(k)));
                    for c in [
                        "#", " #", ":", ": ", "'", "\"", "-", "- ", "[", "]", "{", "&", "*", "!",
                        "|", ">", "?", ",", "\\", "%", "@", "`", "~",
                    ] {
                        variants.push(own(&|v| v[i].insert_str(k, c)));
                    }
                }
                for v in variants {
                    let text = format!("{}\n---\n", v.join("\n"));
                    if agrees(&text) {
                        answered += 1;
                    }
                }
            }
        }
        assert!(answered > 2000, "{answered}");
    }
}
