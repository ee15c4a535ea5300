//! Turning results into text for people, and into the JSON machines get (docs/json.md).

pub mod board;
pub mod graph;
pub mod json;
pub mod status_json;
pub mod terminal;

use owo_colors::Style;
use unicode_width::UnicodeWidthStr;

use crate::model::lane::Lane;

/// Colours on or off, decided once (`--color`, `NO_COLOR`, terminal or not).
///
/// Styled text carries [`terminal::MARK`] where a terminal wants `ESC`: the output boundary
/// (`ui`) turns it into `ESC` for our colour codes, and shows any `ESC` that came with data
/// escaped (`terminal` explains why).
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    pub enabled: bool,
}

impl Paint {
    pub fn style(&self, text: &str, style: Style) -> String {
        if self.enabled {
            let mark = |code: String| code.replace('\x1b', &terminal::MARK.to_string());
            format!(
                "{}{text}{}",
                mark(style.prefix_formatter().to_string()),
                mark(style.suffix_formatter().to_string())
            )
        } else {
            text.to_owned()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.style(text, Style::new().bold())
    }

    pub fn dim(&self, text: &str) -> String {
        self.style(text, Style::new().dimmed())
    }

    pub fn red(&self, text: &str) -> String {
        self.style(text, Style::new().red())
    }

    pub fn yellow(&self, text: &str) -> String {
        self.style(text, Style::new().yellow())
    }

    pub fn green(&self, text: &str) -> String {
        self.style(text, Style::new().green())
    }

    pub fn lane(&self, lane: Lane, text: &str) -> String {
        let style = match lane {
            Lane::Planned => Style::new(),
            Lane::Claimed | Lane::InProgress => Style::new().cyan(),
            Lane::ForReview | Lane::InReview => Style::new().magenta(),
            Lane::Approved => Style::new().blue(),
            Lane::Done => Style::new().green(),
            Lane::Blocked => Style::new().red(),
            Lane::Canceled => Style::new().dimmed(),
        };
        self.style(text, style)
    }
}

/// Display width of `s` in terminal columns (printable ASCII, nearly all a board shows, is
/// one column a byte).
pub fn width(s: &str) -> usize {
    if printable_ascii(s) {
        s.len()
    } else {
        UnicodeWidthStr::width(s)
    }
}

fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// `s` cut to at most `max` columns, with `…` when cut. Widths are measured on the text
/// built so far, not summed per character: emoji sequences (`⚠️`) are wider than the sum
/// of their parts.
pub fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    if printable_ascii(s) {
        return format!("{}…", &s[..max.saturating_sub(1)]);
    }
    let mut out = String::new();
    for c in s.chars() {
        out.push(c);
        if width(&out) + 1 > max {
            out.pop();
            break;
        }
    }
    out.push('…');
    out
}

/// `s` followed by spaces up to `w` columns (colour codes do not count: pass plain text).
pub fn pad(s: &str, w: usize) -> String {
    let n = w.saturating_sub(width(s));
    format!("{s}{}", " ".repeat(n))
}

/// A one-line field from a file (a title, a name) for a table: control characters (escape
/// sequences, tabs, line breaks) and bidi controls become spaces, so it can neither break
/// the layout nor throw its width off. (The output boundary would show them escaped, wider.)
pub fn clean(s: &str) -> String {
    let odd = |c: char| c.is_control() || terminal::needs_escape(c);
    if !s.chars().any(odd) {
        return s.to_owned();
    }
    s.chars().map(|c| if odd(c) { ' ' } else { c }).collect()
}

/// The width to lay out for: `COLUMNS` if set, else the terminal's, else 100.
pub fn output_width() -> usize {
    if let Some(n) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return n;
    }
    match terminal_size::terminal_size_of(std::io::stdout()) {
        Some((terminal_size::Width(w), _)) => usize::from(w),
        None => 100,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_counts_columns() {
        assert_eq!(truncate("Integration tests", 8), "Integra…");
        assert_eq!(truncate("short", 8), "short");
        assert_eq!(width(&truncate("日本語のタイトル", 7)), 7);
        assert_eq!(pad("ab", 4), "ab  ");
        let emoji = truncate("⚠️ Security: rotate all the API keys", 18);
        assert!(width(&emoji) <= 18, "{emoji:?} is {} wide", width(&emoji));
        assert_eq!(clean("a\tb\x1b[31mc\n"), "a b [31mc ");
        assert_eq!(clean("rtl\u{202e}x\u{9b}"), "rtl x ");
    }

    #[test]
    fn printable_ascii_takes_the_short_way_to_the_same_answer() {
        let slow = |s: &str, max: usize| {
            let mut out = String::new();
            for c in s.chars() {
                out.push(c);
                if UnicodeWidthStr::width(out.as_str()) + 1 > max {
                    out.pop();
                    break;
                }
            }
            out + "…"
        };
        let title = "Widen Pending State (JSONL Sidecar) ~ {x}";
        assert_eq!(width(title), UnicodeWidthStr::width(title));
        for max in 0..title.len() {
            assert_eq!(truncate(title, max), slow(title, max), "{max}");
        }
        // Not printable ASCII: the general way (a tab, a control byte, a wide character).
        assert_eq!(width("a\tb"), UnicodeWidthStr::width("a\tb"));
        assert_eq!(width("日本"), 4);
    }
}
