//! JSON for `--json`: pretty-printed, and safe to show on a terminal without changing the
//! data. serde_json escapes C0 control characters already; this formatter also writes DEL,
//! C1 controls, bidirectional overrides and isolates (and `render::terminal::MARK`) as
//! `\uXXXX` escapes, which every JSON parser reads back as the same characters.

use std::io::{self, Write};

use serde_json::ser::Formatter;

/// `PrettyFormatter`'s output (two-space indent), with the extra escapes. The layout is
/// written here rather than delegated: each new line and its indent go out in one write
/// (serde_json's writes two bytes per level), which is a tenth of a large board's output time.
#[derive(Default)]
pub struct TerminalSafe {
    level: usize,
    has_value: bool,
}

/// A line break and enough indent for any realistic depth (deeper: written in pieces).
const BREAK: &[u8] = b"\n                                                                ";

fn line_break<W: ?Sized + Write>(writer: &mut W, level: usize) -> io::Result<()> {
    let mut spaces = level * 2;
    let first = spaces.min(BREAK.len() - 1);
    writer.write_all(&BREAK[..1 + first])?;
    spaces -= first;
    while spaces > 0 {
        let n = spaces.min(BREAK.len() - 1);
        writer.write_all(&BREAK[1..1 + n])?;
        spaces -= n;
    }
    Ok(())
}

impl TerminalSafe {
    /// For a value written on its own that goes `level` deep into a document (each level
    /// indents two more spaces): its bytes are the ones the whole document would have there.
    pub fn at_level(level: usize) -> TerminalSafe {
        TerminalSafe {
            level,
            has_value: false,
        }
    }

    fn open<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            line_break(writer, self.level)?;
        }
        writer.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        line_break(writer, self.level)
    }
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0 never reaches here escaped-free; DEL and C1 do
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
        || c == super::terminal::MARK
}

impl Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Nearly all of a document is printable ASCII: nothing to look at char by char
        // (serde_json has escaped C0 already; DEL and everything escaped here is >= 0x7f).
        if fragment.is_ascii() && !fragment.as_bytes().contains(&0x7f) {
            return writer.write_all(fragment.as_bytes());
        }
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if needs_escape(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.item(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde::Serialize;

    fn encode(value: &serde_json::Value) -> String {
        let mut bytes = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut bytes, super::TerminalSafe::default());
        value.serialize(&mut ser).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn the_same_data_with_nothing_raw() {
        let note = "a\x1b]0;x\x07b\u{7f}c\u{9b}d\u{202e}e\u{fdd0}f 日本 \u{1f600}";
        let value = serde_json::json!({ "note": note, "list": [1, {"k": []}] });
        let text = encode(&value);
        assert_eq!(
            text,
            "{\n  \"note\": \"a\\u001b]0;x\\u0007b\\u007fc\\u009bd\\u202ee\\ufdd0f 日本 \u{1f600}\",\n  \"list\": [\n    1,\n    {\n      \"k\": []\n    }\n  ]\n}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
        assert_eq!(
            text,
            serde_json::to_string_pretty(&value)
                .unwrap()
                .replace('\u{7f}', "\\u007f")
                .replace('\u{9b}', "\\u009b")
                .replace('\u{202e}', "\\u202e")
                .replace('\u{fdd0}', "\\ufdd0")
        );
    }

    #[test]
    fn laid_out_as_serde_json_pretty_prints_at_any_depth() {
        let mut value = serde_json::json!({"a": [], "b": {}, "c": [1, [2, {"d": null}]], "e": "x"});
        for i in 0..45 {
            value = if i % 2 == 0 {
                serde_json::json!({ "k": value, "n": i, "empty": {} })
            } else {
                serde_json::json!([value, i, []])
            };
        }
        let text = encode(&value);
        assert_eq!(text, serde_json::to_string_pretty(&value).unwrap());
        assert!(text.contains(&format!("\n{}", " ".repeat(80))));
    }
}
