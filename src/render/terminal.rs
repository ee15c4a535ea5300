//! What may reach a terminal. Text for people is assembled from our own words and from data
//! (titles, notes, reasons, agent names, file names, messages of git): data can carry control
//! characters, and a terminal acts on them (an `ESC ] 0 ;` sequence sets its title, `ESC [ 2
//! J` clears it, a bidirectional override reorders what is shown, a carriage return overwrites
//! a line).
//!
//! So nothing is escaped where data is inserted, which would be easy to forget: **the output
//! boundary** (`ui::Ui`: results, narration, warnings, errors) passes every byte it writes
//! through [`for_terminal`], which shows control characters escaped as git's
//! `core.quotePath` does (`\033`, `\a`, `\t`, `\r`, octal bytes for C1 and bidi controls).
//! Line feeds stay: they are the layout. JSON is not text for a terminal: it goes out exact,
//! with these characters as JSON escapes (`ui::Ui::out_json`).
//!
//! Our own colours survive the boundary because [`crate::render::Paint`] never writes `ESC`:
//! it writes [`MARK`] (a Unicode noncharacter) in its place. The boundary turns `MARK` back
//! into `ESC` only where it starts an SGR sequence (`[` digits and `;` then `m`: colours and
//! bold, nothing that moves the cursor or talks to the terminal), and only on a stream with
//! colours on (dropping the sequence elsewhere); any other `MARK` is escaped like a control
//! character. An `ESC` in data is therefore always shown escaped. The one thing data could do
//! is spell `MARK [ 31 m` with a noncharacter itself, which at worst colours text.

use std::borrow::Cow;

/// Written by `Paint` instead of `ESC`; see the module documentation.
pub const MARK: char = '\u{FDD0}';

/// Whether a terminal could act on `c` (or it is [`MARK`]): it is shown escaped. The line
/// feed is not: it is the layout.
pub fn needs_escape(c: char) -> bool {
    match c {
        '\n' => false,
        c if c.is_control() => true, // C0, DEL, C1
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}' | MARK => true,
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

/// `c` as git's `core.quotePath` shows it: C escapes where C has one, else the octal value of
/// each of its UTF-8 bytes.
fn push_escaped(out: &mut String, c: char) {
    let short = match c {
        '\x07' => Some("\\a"),
        '\x08' => Some("\\b"),
        '\t' => Some("\\t"),
        '\x0b' => Some("\\v"),
        '\x0c' => Some("\\f"),
        '\r' => Some("\\r"),
        _ => None,
    };
    if let Some(s) = short {
        out.push_str(s);
        return;
    }
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("\\{b:03o}"));
    }
}

/// `s` with every character a terminal could act on shown escaped (line feeds kept). For a
/// renderer that measures widths: the boundary leaves text escaped this way as it is.
pub fn quote(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The length in bytes of an SGR sequence's rest (`[1;31m`) at the start of `s`, if it is one.
fn sgr_len(s: &str) -> Option<usize> {
    let body = s.strip_prefix('[')?;
    let end = body.find(|c: char| !c.is_ascii_digit() && c != ';')?;
    (body.as_bytes()[end] == b'm').then_some(end + 2)
}

/// Text as it may be written to a terminal (or a file a terminal will show): our colours as
/// `ESC` sequences when `colors`, dropped otherwise; everything else a terminal would act on,
/// escaped. See the module documentation.
pub fn for_terminal(text: &str, colors: bool) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c == MARK
            && let Some(len) = sgr_len(rest)
        {
            if colors {
                out.push('\x1b');
                out.push_str(&rest[..len]);
            }
            rest = &rest[len..];
        } else if needs_escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_as_git_quotes_them() {
        assert_eq!(quote("plain, ünïcode, 日本"), "plain, ünïcode, 日本");
        assert_eq!(quote("a\x1b]0;x\x07b"), "a\\033]0;x\\ab");
        assert_eq!(quote("t\tr\rn\nz\0"), "t\\tr\\rn\nz\\000");
        assert_eq!(quote("del\x7f c1\u{9b}"), "del\\177 c1\\302\\233");
        assert_eq!(
            quote("\u{202e}rtl\u{2066}"),
            "\\342\\200\\256rtl\\342\\201\\246"
        );
        assert_eq!(quote("\\033 stays"), "\\033 stays");
    }

    #[test]
    fn only_our_colours_survive_the_boundary() {
        let ours = format!("{MARK}[31mred{MARK}[39m");
        assert_eq!(for_terminal(&ours, true), "\x1b[31mred\x1b[39m");
        assert_eq!(for_terminal(&ours, false), "red");
        // An escape in data is never ours, whatever follows it.
        assert_eq!(for_terminal("\x1b[31mred", true), "\\033[31mred");
        // A mark that starts no colour is escaped like any control.
        assert_eq!(
            for_terminal(&format!("{MARK}]0;x"), true),
            "\\357\\267\\220]0;x"
        );
        assert_eq!(
            for_terminal(&format!("{MARK}[2J"), true),
            "\\357\\267\\220[2J"
        );
        assert_eq!(for_terminal("line\nnext\n", true), "line\nnext\n");
    }
}
