//! Splitting a WP file into its YAML frontmatter and body, and reading the known fields.
//!
//! The whole frontmatter goes through a real YAML parser (so malformed YAML anywhere in it is
//! reported), but only the fields git kitty uses are turned into values: the dozens of other
//! fields real Spec Kitty files carry are walked over as parser events, without allocating.
//! That keeps `git kitty status` on 2,500 WPs within its time budget (docs/performance.md):
//! a serde deserialiser over the same parser costs about twice as much per file.

use granit_parser::{Event, Parser, ScalarStyle};

/// The fields git kitty reads. Everything else in a frontmatter is kept on disk and ignored.
pub const KNOWN_FIELDS: &[&str] = &[
    "work_package_id",
    "title",
    "dependencies",
    "lane",
    "subtasks",
    "phase",
    "assignee",
    "agent",
    "shell_pid",
    "review_status",
    "reviewed_by",
    "planning_base_branch",
    "merge_target_branch",
];

/// A WP file cut at its `---` fences.
#[derive(Debug)]
pub struct Split<'a> {
    pub yaml: &'a str,
    /// 1-based line number of the first YAML line in the file (the line after the fence).
    pub first_line: usize,
    pub body: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SplitError {
    /// The file does not start with a `---` line.
    Missing,
    /// The opening `---` has no closing `---`.
    Unclosed,
}

/// Cut `text` (already decoded, BOM removed) into frontmatter and body.
/// Accepts `\n` and `\r\n` line ends and trailing blanks on the fence lines.
pub fn split(text: &str) -> Result<Split<'_>, SplitError> {
    // `split_inclusive('\n')` with `memchr`'s vector search (std's is slower, and this runs
    // over every frontmatter of a cold read).
    let mut from = 0;
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut lines = std::iter::from_fn(|| {
        let end = ends.next().map_or(text.len(), |i| i + 1);
        let line = &text[from..end];
        from = end;
        (!line.is_empty()).then_some(line)
    });
    let first = lines.next().ok_or(SplitError::Missing)?;
    if first.trim_end() != "---" {
        return Err(SplitError::Missing);
    }
    let start = first.len();
    let mut offset = start;
    for line in lines {
        if line.trim_end() == "---" {
            return Ok(Split {
                yaml: &text[start..offset],
                first_line: 2,
                body: &text[offset + line.len()..],
            });
        }
        offset += line.len();
    }
    Err(SplitError::Unclosed)
}

/// How many bytes at the start of `bytes` (a WP file, or only its first bytes) hold its
/// frontmatter: through the closing `---` line, the one [`split`] finds (a leading BOM
/// counted). `None` when the file has no frontmatter or `bytes` does not close it.
///
/// The rest is the body, the agent's prompt: git kitty never reads it, so a plan read costs
/// the frontmatters (~7 % of the bytes of Spec Kitty's WP files), not the prompts. A fence
/// line that ends `bytes` without a `\n` may go on past them: the caller decides.
pub fn head_len(bytes: &[u8]) -> Option<usize> {
    let start = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    let is_fence = |line: &[u8]| {
        line.starts_with(b"---") && std::str::from_utf8(line).is_ok_and(|l| l.trim_end() == "---")
    };
    let mut from = start;
    let ends = memchr::memchr_iter(b'\n', &bytes[start..]).map(|i| start + i + 1);
    for end in ends.chain(std::iter::once(bytes.len())) {
        let line = &bytes[from..end];
        if from == start {
            if !is_fence(line) {
                return None;
            }
        } else if is_fence(line) {
            return Some(end);
        }
        if end == bytes.len() {
            return None;
        }
        from = end;
    }
    None
}

/// The byte order mark some editors put first; it is not part of the text.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A value read from one of the known fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Scalar(String),
    Seq(Vec<Node>),
    /// A mapping; its content is not needed by any known field, so it is not kept.
    Map,
    /// `*alias`: aliases are not followed (the anchor may sit in a field that was skipped).
    Alias,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based line in the file.
    pub line: usize,
}

impl Node {
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing",
            Value::Scalar(_) => "a text",
            Value::Seq(_) => "a list",
            Value::Map => "a mapping",
            Value::Alias => "an alias",
        }
    }
}

/// The known fields of one frontmatter, in file order, each with its line.
#[derive(Debug, Default, PartialEq)]
pub struct Fields {
    pub entries: Vec<(&'static str, Node)>,
    /// Top-level keys that appear more than once: (key, line of the repeat).
    pub duplicate_keys: Vec<(String, usize)>,
    /// The frontmatter is not a mapping at all (a list, a bare string): its line.
    pub not_a_mapping: Option<usize>,
}

impl Fields {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, n)| n)
    }
}

/// Malformed YAML: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parse `split.yaml` and extract the known fields: line by line when it is plain
/// (`plain_yaml`), else with the YAML parser.
pub fn read_fields(split: &Split<'_>) -> Result<Fields, YamlError> {
    match super::plain_yaml::read(split) {
        Some(fields) => Ok(fields),
        None => parse_fields(split),
    }
}

/// [`read_fields`] with the YAML parser, whatever the text.
pub fn parse_fields(split: &Split<'_>) -> Result<Fields, YamlError> {
    let offset = split.first_line - 1;
    let mut events = Events {
        parser: Parser::new_from_str(split.yaml),
        offset,
    };
    let mut fields = Fields::default();
    let mut seen_keys: Vec<String> = Vec::new();
    let mut documents = 0;
    loop {
        let (event, line) = events.next()?;
        match event {
            Event::StreamEnd => return Ok(fields),
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError {
                        line,
                        column: 1,
                        message: "a second YAML document (`---`) inside the frontmatter".into(),
                    });
                }
            }
            Event::DocumentEnd | Event::StreamStart => {}
            Event::MappingStart(..) => read_top_mapping(&mut events, &mut fields, &mut seen_keys)?,
            Event::Scalar(ref v, ScalarStyle::Plain, ..) if is_null(v) => {}
            _ => {
                events.skip(event)?;
                fields.not_a_mapping = Some(line);
            }
        }
    }
}

fn read_top_mapping(
    events: &mut Events<'_>,
    fields: &mut Fields,
    seen_keys: &mut Vec<String>,
) -> Result<(), YamlError> {
    loop {
        let (key_event, key_line) = events.next()?;
        let key = match key_event {
            Event::MappingEnd => return Ok(()),
            Event::Scalar(key, ..) => key,
            other => {
                // A complex key (`? [a, b]`): legal YAML, never a known field.
                events.skip(other)?;
                let (value, _) = events.next()?;
                events.skip(value)?;
                continue;
            }
        };
        if seen_keys.iter().any(|k| *k == key) {
            fields.duplicate_keys.push((key.to_string(), key_line));
        } else {
            seen_keys.push(key.to_string());
        }
        let (value, value_line) = events.next()?;
        match KNOWN_FIELDS.iter().find(|k| **k == key) {
            Some(known) => {
                let node = events.node(value, value_line)?;
                fields.entries.push((known, node));
            }
            None => events.skip(value)?,
        }
    }
}

struct Events<'a> {
    parser: Parser<'a, granit_parser::StrInput<'a>>,
    offset: usize,
}

impl<'a> Events<'a> {
    fn next(&mut self) -> Result<(Event<'a>, usize), YamlError> {
        match self.parser.next() {
            Some(Ok((event, span))) => Ok((event, span.start.line() + self.offset)),
            Some(Err(e)) => Err(YamlError {
                line: e.marker().line() + self.offset,
                column: e.marker().col() + 1,
                message: e.info(),
            }),
            None => Ok((Event::StreamEnd, 0)),
        }
    }

    /// Build the value that starts with `first`.
    fn node(&mut self, first: Event<'a>, line: usize) -> Result<Node, YamlError> {
        let value = match first {
            Event::Scalar(v, style, ..) => {
                if style == ScalarStyle::Plain && is_null(&v) {
                    Value::Null
                } else {
                    Value::Scalar(v.into_owned())
                }
            }
            Event::SequenceStart(..) => {
                let mut items = Vec::new();
                loop {
                    let (event, line) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, line)?);
                }
                Value::Seq(items)
            }
            Event::MappingStart(..) => {
                self.skip(first)?;
                Value::Map
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => Value::Alias,
            _ => Value::Null,
        };
        Ok(Node { value, line })
    }

    /// Walk over the node that starts with `first` without building it.
    fn skip(&mut self, first: Event<'a>) -> Result<(), YamlError> {
        let mut depth = match first {
            Event::SequenceStart(..) | Event::MappingStart(..) => 1usize,
            _ => return Ok(()),
        };
        while depth > 0 {
            match self.next()?.0 {
                Event::SequenceStart(..) | Event::MappingStart(..) => depth += 1,
                Event::SequenceEnd | Event::MappingEnd => depth -= 1,
                Event::StreamEnd => break,
                _ => {}
            }
        }
        Ok(())
    }
}

/// YAML 1.2 core schema nulls (plain style only: `'null'` is a string).
pub fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

/// `bytes` (a WP file) with the value of the `lane:` key on line `line` (1-based) replaced by
/// `lane`, every other byte kept: quotes, comments, CRLF. `None` when that line is not a
/// plain `lane:` entry.
pub fn with_lane(bytes: &[u8], line: usize, lane: &str) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum::<usize>();
    let rest = &text[start..];
    let end = start + rest.find('\n').map_or(rest.len(), |i| i);
    let row = text[start..end].trim_end_matches('\r');
    let value_at = row.strip_prefix("lane:")?.len();
    let value = &row[row.len() - value_at..];
    let lead = value.len() - value.trim_start().len();
    let token = value.trim_start();
    // The scalar: quoted ("planned" / 'planned') or plain up to a comment.
    let (quote, body_len) = match token.chars().next() {
        Some(q @ ('"' | '\'')) => (Some(q), token[1..].find(q)? + 2),
        _ => (None, token.find(" #").unwrap_or(token.trim_end().len())),
    };
    let replaced = match quote {
        Some(q) => format!("{q}{lane}{q}"),
        None => lane.to_owned(),
    };
    let value_start = start + "lane:".len() + lead;
    let mut out = Vec::with_capacity(bytes.len() + lane.len());
    out.extend_from_slice(&bytes[..value_start]);
    out.extend_from_slice(replaced.as_bytes());
    out.extend_from_slice(&bytes[value_start + body_len..]);
    Some(out)
}

#[cfg(test)]
mod lane_rewrite_tests {
    use super::with_lane;

    #[test]
    fn only_the_lane_value_changes() {
        let file = b"---\r\nwork_package_id: WP01\r\nlane: \"planned\"  # mirror\r\nagent: x\r\n---\r\nbody lane: planned\r\n";
        let out = with_lane(file, 3, "for_review").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "---\r\nwork_package_id: WP01\r\nlane: \"for_review\"  # mirror\r\nagent: x\r\n---\r\nbody lane: planned\r\n"
        );
        let plain = b"---\nlane: doing # old\n---\n";
        assert_eq!(
            with_lane(plain, 2, "done").unwrap(),
            b"---\nlane: done # old\n---\n"
        );
        assert_eq!(
            with_lane(b"---\nlane: 'x'\n", 2, "done").unwrap(),
            b"---\nlane: 'done'\n"
        );
        assert_eq!(
            with_lane(b"---\nlane:planned\n", 2, "done").unwrap(),
            b"---\nlane:done\n"
        );
        // Not a lane line, or a line past the end: nothing to do.
        assert_eq!(with_lane(plain, 1, "done"), None);
        assert_eq!(with_lane(plain, 9, "done"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Result<Fields, YamlError> {
        read_fields(&split(text).unwrap())
    }

    /// `head_len` cuts where `split` does, on whole files and on any first bytes of them
    /// (a read of the file's start) whose fence line is complete.
    #[test]
    fn head_len_ends_where_split_finds_the_body() {
        let files = [
            "---\nlane: doing\n---\n# Body\n---\n",
            "---\r\nlane: doing\r\n---  \r\nbody",
            "---\nlane: x\n---",
            "---\n---\n",
            "--- \t\nhistory:\n- at: '---'\n  x: ----\n---\u{85}\nbody ---\n",
            "---\nlane: x\n----\n--- x\n -- -\n",
            "---\nlane: x\n",
            "# no fence\n---\n---\n",
            "----\n---\n",
            "\n---\n---\n",
            "",
            "---",
            "---\n",
            "---\nü: ő\n---\nü\n",
        ];
        for file in files {
            let expected = split(file).ok().map(|s| file.len() - s.body.len());
            assert_eq!(head_len(file.as_bytes()), expected, "{file:?}");
            let with_bom = [BOM, file.as_bytes()].concat();
            assert_eq!(head_len(&with_bom), expected.map(|n| n + 3), "{file:?}");
            for cut in 0..file.len() {
                let start = &file.as_bytes()[..cut];
                match head_len(start) {
                    Some(end) if end < cut || start.ends_with(b"\n") => {
                        assert_eq!(Some(end), expected, "{file:?} cut at {cut}");
                    }
                    _ => {}
                }
            }
        }
        // Bytes that are not UTF-8 past the fence do not matter; on a fence line they make
        // it no fence.
        assert_eq!(head_len(b"---\na: 1\n---\n\xff\xfe"), Some(13));
        assert_eq!(head_len(b"---\na: 1\n---\xff\n"), None);
    }

    #[test]
    fn split_handles_crlf_and_keeps_the_body() {
        let s = split("---\r\nlane: doing\r\n---\r\n# Body\r\n").unwrap();
        assert_eq!(s.yaml, "lane: doing\r\n");
        assert_eq!(s.body, "# Body\r\n");
        assert_eq!(split("# no fence\n").unwrap_err(), SplitError::Missing);
        assert_eq!(split("---\nlane: x\n").unwrap_err(), SplitError::Unclosed);
        assert_eq!(split("").unwrap_err(), SplitError::Missing);
    }

    #[test]
    fn reads_known_fields_with_lines_and_skips_the_rest() {
        let f = fields(
            "---\nwork_package_id: WP02\nhistory:\n- timestamp: '2025'\n  lane: planned\n  nested: {a: [1, 2]}\ntitle: 'API: layer'\ndependencies:\n- WP01\n- \"WP03\"\nlane:\n---\n",
        )
        .unwrap();
        assert_eq!(f.get("work_package_id").unwrap().as_scalar(), Some("WP02"));
        assert_eq!(f.get("title").unwrap().as_scalar(), Some("API: layer"));
        assert_eq!(f.get("title").unwrap().line, 7);
        let Value::Seq(deps) = &f.get("dependencies").unwrap().value else {
            panic!("not a list")
        };
        assert_eq!(deps[1].as_scalar(), Some("WP03"));
        assert_eq!(deps[1].line, 10);
        assert_eq!(f.get("lane").unwrap().value, Value::Null);
        assert!(f.get("history").is_none());
    }

    #[test]
    fn flow_lists_quoted_null_and_empty_frontmatter() {
        let f = fields("---\ndependencies: [WP01, WP02]\nlane: 'null'\n---\n").unwrap();
        assert!(matches!(&f.get("dependencies").unwrap().value, Value::Seq(v) if v.len() == 2));
        assert_eq!(f.get("lane").unwrap().as_scalar(), Some("null"));
        assert!(fields("---\n---\n").unwrap().entries.is_empty());
    }

    #[test]
    fn malformed_yaml_anywhere_is_an_error_with_its_line() {
        let err =
            fields("---\nwork_package_id: WP01\nowned_files: [a, b\ntitle: x\n---\n").unwrap_err();
        assert!(err.line >= 3, "{err:?}");
        let err = fields("---\nwork_package_id: WP01\n  bad indent: x\n---\n").unwrap_err();
        assert_eq!(err.line, 3, "{err:?}");
    }

    #[test]
    fn duplicates_and_non_mappings_are_reported() {
        let f = fields("---\nlane: planned\nx: 1\nlane: done\n---\n").unwrap();
        assert_eq!(f.duplicate_keys, vec![("lane".to_string(), 4)]);
        let f = fields("---\n- a\n- b\n---\n").unwrap();
        assert_eq!(f.not_a_mapping, Some(2));
    }
}
