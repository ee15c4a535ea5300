//! The five fields git kitty reads from one line of Spec Kitty's `status.events.jsonl`, read
//! without serde for the lines that are plainly valid JSON.
//!
//! A real log is megabytes of JSON lines whose other fields (`evidence`, `delta`, `payload`,
//! ...) are only skipped; a general deserialiser spends ~30 instructions a byte doing that.
//! This scanner checks the JSON grammar and picks out `event_id`, `wp_id`, `to_lane`, `at`
//! and `actor` in one pass. It answers only when it is certain serde_json would give the
//! same: a line with an escape in a string, a number it might find out of range, a repeated
//! known field, a known field of another type, deep nesting or anything else unusual gets
//! `None`, and the caller asks serde_json (which then also words the error).

/// The fields of one line, borrowed from it. `actor` is its text when it is a string.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    pub event_id: Option<&'a str>,
    pub wp_id: Option<&'a str>,
    pub to_lane: Option<&'a str>,
    pub at: Option<&'a str>,
    pub actor: Option<&'a str>,
}

/// The fields of `line` (already trimmed), when it is one JSON object serde_json would read
/// the same way; `None` when in doubt.
pub fn read(line: &str) -> Option<Fields<'_>> {
    let mut s = Scan {
        b: line.as_bytes(),
        text: line,
        i: 0,
    };
    let fields = s.object()?;
    s.ws();
    (s.i == s.b.len()).then_some(fields)
}

/// [`read`] for the first line of `text`, found while it is read: its fields when it is one
/// object with nothing around it but JSON whitespace, and its length with the `\n` that ends
/// it. `None` when in doubt (the caller splits the line off and reads it again).
pub fn read_first_line(text: &str) -> Option<(Fields<'_>, usize)> {
    let mut s = Scan {
        b: text.as_bytes(),
        text,
        i: 0,
    };
    let fields = s.object()?;
    s.ws();
    match s.peek() {
        None => Some((fields, s.i)),
        Some(b'\n') => Some((fields, s.i + 1)),
        Some(_) => None,
    }
}

/// Deeper than this, serde_json's recursion limit (128) is in view: let it decide.
const MAX_DEPTH: usize = 64;

/// A value as far as the known fields care (a string as the range of its bytes).
enum Value {
    Str(std::ops::Range<usize>),
    Null,
    Other,
}

struct Scan<'a> {
    b: &'a [u8],
    text: &'a str,
    i: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// JSON's whitespace but `\n`: a line's object never reaches into the next line.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.i += 1;
        }
    }

    /// The top-level object, with its known fields.
    fn object(&mut self) -> Option<Fields<'a>> {
        let mut f = Fields::default();
        let mut seen = [false; 5];
        self.ws();
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(f);
        }
        loop {
            self.ws();
            let key = self.string_span()?;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let key = &self.b[key];
            let known = [&b"event_id"[..], b"wp_id", b"to_lane", b"at", b"actor"]
                .iter()
                .position(|k| *k == key);
            let value = self.value(1)?;
            if let Some(k) = known {
                if std::mem::replace(&mut seen[k], true) {
                    return None; // a repeated field: serde's error
                }
                let text = match value {
                    Value::Str(v) => Some(self.text.get(v)?),
                    Value::Null => None,
                    // `actor` may be anything; the others are strings or serde's error.
                    Value::Other if k == 4 => None,
                    Value::Other => return None,
                };
                let slot = match k {
                    0 => &mut f.event_id,
                    1 => &mut f.wp_id,
                    2 => &mut f.to_lane,
                    3 => &mut f.at,
                    _ => &mut f.actor,
                };
                *slot = text;
            }
            self.ws();
            if self.eat(b'}').is_some() {
                return Some(f);
            }
            self.eat(b',')?;
        }
    }

    /// A string without escapes or control characters (else `None`), as the range of its
    /// bytes; the scan is past it. Only the values of known fields are made `&str` (which
    /// checks both ends for character boundaries), not the ~30 other strings of a line.
    fn string_span(&mut self) -> Option<std::ops::Range<usize>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut j = start;
        // Eight bytes at a time: the first special byte of a word is exact (see `special`),
        // so it ends the string if it is the quote and fails it otherwise. The last few
        // bytes of the line, byte by byte.
        while let Some(chunk) = self.b.get(j..j + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let found = special(u64::from_le_bytes(word));
            if found != 0 {
                j += found.trailing_zeros() as usize / 8;
                break;
            }
            j += 8;
        }
        loop {
            match *self.b.get(j)? {
                b'"' => break,
                b'\\' => return None,
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
        self.i = j + 1;
        Some(start..j)
    }

    /// Any value, checked; nested values up to [`MAX_DEPTH`].
    fn value(&mut self, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'"' => self.string_span().map(Value::Str),
            b'{' => {
                self.i += 1;
                self.members(depth, b'}', true)?;
                Some(Value::Other)
            }
            b'[' => {
                self.i += 1;
                self.members(depth, b']', false)?;
                Some(Value::Other)
            }
            b't' => self.literal(b"true").map(|()| Value::Other),
            b'f' => self.literal(b"false").map(|()| Value::Other),
            b'n' => self.literal(b"null").map(|()| Value::Null),
            b'-' | b'0'..=b'9' => self.number().map(|()| Value::Other),
            _ => None,
        }
    }

    /// The members of an object (`keyed`) or the items of an array, up to `end`.
    fn members(&mut self, depth: usize, end: u8, keyed: bool) -> Option<()> {
        self.ws();
        if self.eat(end).is_some() {
            return Some(());
        }
        loop {
            self.ws();
            if keyed {
                self.string_span()?;
                self.ws();
                self.eat(b':')?;
                self.ws();
            }
            self.value(depth + 1)?;
            self.ws();
            if self.eat(end).is_some() {
                return Some(());
            }
            self.eat(b',')?;
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?` with at most 15 digits: exact in an f64, never out of
    /// range. Exponents and longer numbers are left to serde_json.
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let _ = self.eat(b'-');
        let int = self.digits();
        if int == 0 || (int > 1 && self.b[self.i - int] == b'0') {
            return None;
        }
        let mut count = int;
        if self.eat(b'.').is_some() {
            let frac = self.digits();
            if frac == 0 {
                return None;
            }
            count += frac;
        }
        let next = self.peek();
        if count > 15 || matches!(next, Some(b'e' | b'E' | b'0'..=b'9' | b'.')) {
            return None;
        }
        (self.i > start).then_some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }
}

/// The high bit of each byte of `word` that is `"`, `\\` or below 0x20, and perhaps of bytes
/// after such a byte (a borrow can carry into them); the lowest bit set is always exact, so
/// `trailing_zeros() / 8` is the first special byte.
fn special(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let quote = word ^ (ONES * u64::from(b'"'));
    let slash = word ^ (ONES * u64::from(b'\\'));
    below(quote, 1) | below(slash, 1) | below(word, 0x20)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// What serde_json makes of a line, as the reader of `status.events.jsonl` asks it.
    #[derive(serde::Deserialize)]
    struct Serde<'a> {
        #[serde(borrow)]
        event_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        wp_id: Option<Cow<'a, str>>,
        #[serde(borrow)]
        to_lane: Option<Cow<'a, str>>,
        #[serde(borrow)]
        at: Option<Cow<'a, str>>,
        actor: Option<serde_json::Value>,
    }

    /// Whenever the scanner answers, serde_json reads the line and finds the same fields.
    fn agrees(line: &str) -> bool {
        let Some(quick) = read(line) else {
            return false;
        };
        let full: Serde = match serde_json::from_str(line) {
            Ok(f) => f,
            Err(e) => panic!("the scanner accepted {line:?}, serde_json did not: {e}"),
        };
        let actor = full.actor.as_ref().and_then(|a| a.as_str());
        assert_eq!(quick.event_id, full.event_id.as_deref(), "{line}");
        assert_eq!(quick.wp_id, full.wp_id.as_deref(), "{line}");
        assert_eq!(quick.to_lane, full.to_lane.as_deref(), "{line}");
        assert_eq!(quick.at, full.at.as_deref(), "{line}");
        assert_eq!(quick.actor, actor, "{line}");
        true
    }

    const LINES: &[&str] = &[
        r#"{"actor": "finalize-tasks", "at": "2026-04-23T15:59:33.799603+00:00", "event_id": "01KPXH2TD7FQHYC2SKV26NSD6M", "evidence": null, "execution_mode": "worktree", "force": true, "from_lane": "planned", "mission_id": "01KPXFGJXXCV25X3T9DWGME5V1", "policy_metadata": null, "reason": "canonical bootstrap", "review_ref": null, "review_result": null, "to_lane": "planned", "wp_id": "WP01"}"#,
        r#"{"actor": {"model": null, "profile": null, "role": "reviewer", "tool": "user"}, "at": "2026-08-01T13:00:04.142202+00:00", "delta": {"shell_pid": 192528, "f": -0.5, "l": [1, [2, {}], []], "t": true, "n": false}, "event_id": "01KYYPJ15EEEEFTP7394VPM65Q", "kind": "annotation", "wp_id": "WP13"}"#,
        r#"{"aggregate_id": "01KYVYWMEMY8HB2PW08C34VKWQ", "event_type": "MissionCreated", "payload": {"created_at": "2026-07-31T11:27:56.884763+00:00", "wp_count": 0}, "schema_version": "5.0.0"}"#,
        r#"{"event_id":"1","wp_id":"WP01","to_lane":"done","actor":[1,2],"at":null}"#,
        r#"{"event_id":null,"wp_id":"WP01","to_lane":"done","unknown":1,"unknown":2}"#,
        r#"{}"#,
        r#"{ "a" : [ ] , "b" : { } }"#,
        r#"{"x": 0, "y": -0, "z": 1.25, "w": 123456789012345}"#,
        r#"{"x": "ünï", "actor": "ő"}"#,
    ];

    /// Lines the scanner must leave to serde_json (invalid, or valid in ways it does not
    /// read): escapes, exponents, long numbers, repeated or mistyped known fields, arrays at
    /// the top, trailing text, control characters, deep nesting.
    const DOUBTS: &[&str] = &[
        r#"{"wp_id":"WP\u0030\u0037"}"#,
        r#"{"x":"a\"b"}"#,
        r#"{"x":1e5}"#,
        r#"{"x":1234567890123456}"#,
        r#"{"x":01}"#,
        r#"{"x":1.}"#,
        r#"{"x":-}"#,
        r#"{"x":.5}"#,
        r#"{"wp_id":"WP01","wp_id":"WP02"}"#,
        r#"{"event_id":4}"#,
        r#"{"at":true}"#,
        r#"["1","WP01","done"]"#,
        r#"{"a":1} x"#,
        r#"{"a":1,}"#,
        r#"{"a" 1}"#,
        r#"{"a":tru}"#,
        r#"{"a":nul}"#,
        "{\"a\":\"tab\there\"}",
        r#"{oops"#,
        "",
    ];

    #[test]
    fn the_first_special_byte_is_found_exactly() {
        for pos in 0..8 {
            for c in (0u8..0x20).chain([b'"', b'\\']) {
                let mut w = *b"abcdefgh";
                w[pos] = c;
                // Special bytes after it change nothing.
                for later in pos + 1..8 {
                    let mut v = w;
                    v[later] = b'"';
                    let found = special(u64::from_le_bytes(v));
                    assert_eq!(found.trailing_zeros() as usize / 8, pos, "{c} at {pos}");
                }
                let found = special(u64::from_le_bytes(w));
                assert_eq!(found.trailing_zeros() as usize / 8, pos, "{c} at {pos}");
            }
        }
        assert_eq!(special(u64::from_le_bytes(*b"plain ok")), 0);
        assert_eq!(
            special(u64::from_le_bytes("é—ü!".as_bytes().try_into().unwrap())),
            0
        );
        assert_eq!(
            special(u64::from_le_bytes([
                0xff, 0x80, 0xc3, 0xa9, 0x7f, 0x21, 0x23, 0x5b
            ])),
            0
        );
    }

    #[test]
    fn answers_only_what_serde_json_would_answer() {
        for line in LINES {
            assert!(
                agrees(line),
                "the scanner left a plain line to serde: {line}"
            );
        }
        for line in DOUBTS {
            assert_eq!(read(line), None, "{line}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert_eq!(read(&deep), None);
    }

    /// Every cut, doubled and dropped byte of the sample lines: the scanner either leaves the
    /// line to serde_json or agrees with it.
    #[test]
    fn mutated_lines_never_disagree_with_serde_json() {
        let mut answered = 0;
        for line in LINES.iter().chain(DOUBTS) {
            let bytes = line.as_bytes();
            for i in 0..=bytes.len() {
                let mut variants = vec![bytes[..i].to_vec()];
                if i < bytes.len() {
                    let mut dropped = bytes.to_vec();
                    dropped.remove(i);
                    let mut doubled = bytes.to_vec();
                    doubled.insert(i, bytes[i]);
                    variants.extend([dropped, doubled]);
                    for c in [
                        b'"', b'\\', b',', b':', b'{', b'}', b'[', b']', b'0', b'e', b' ',
                    ] {
                        let mut swapped = bytes.to_vec();
                        swapped[i] = c;
                        variants.push(swapped);
                    }
                }
                for v in variants {
                    if let Ok(text) = std::str::from_utf8(&v)
                        && agrees(text)
                    {
                        answered += 1;
                    }
                }
            }
        }
        assert!(answered > 1000, "{answered}");
    }
}
