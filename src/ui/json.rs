//! JSON for `--json`: pretty-printed, and safe to show on a terminal without changing the
//! data. serde_json escapes C0 control characters already; this formatter also writes DEL,
//! C1 controls, bidirectional overrides and isolates (and `render::terminal::MARK`) as
//! `\uXXXX` escapes, which every JSON parser reads back as the same characters.

use std::io::{self, Write};

use serde_json::ser::{Formatter, PrettyFormatter};

/// `PrettyFormatter` (two-space indent), with the extra escapes.
#[derive(Default)]
pub struct TerminalSafe {
    pretty: PrettyFormatter<'static>,
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0 never reaches here escaped-free; DEL and C1 do
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
        || c == crate::render::terminal::MARK
}

impl Formatter for TerminalSafe {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Nearly all of a document is printable ASCII: nothing to look at char by char
        // (serde_json has escaped C0 already; DEL and everything escaped here is >= 0x7f).
        if fragment.bytes().all(|b| b < 0x7f) {
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
        self.pretty.begin_array(writer)
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array(writer)
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(writer, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(writer)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object(writer)
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object(writer)
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(writer, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(writer)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(writer)
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
}
