//! The domain, without I/O: ids, lanes and their transitions, WP files, the plan and its
//! dependency graph. Everything here is a pure function of its input, so it is unit-tested.

pub mod event_line;
pub mod frontmatter;
pub mod graph;
pub mod ids;
pub mod lane;
pub mod plain_yaml;
pub mod plan;
pub mod problem;
pub mod spec_kitty;
pub mod wp;

/// A value from a file as a message quotes it: escaped (`escape_debug`) and cut to at most
/// 60 characters, so a megabyte-long field cannot make a one-line problem a megabyte long.
pub fn excerpt(value: &str) -> String {
    const MAX: usize = 60;
    let mut out: String = value.escape_debug().take(MAX).collect();
    if value.escape_debug().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn excerpts_are_escaped_and_short() {
        assert_eq!(super::excerpt("a\tb"), "a\\tb");
        let long = "x".repeat(100_000);
        assert_eq!(super::excerpt(&long), format!("{}…", "x".repeat(60)));
        assert_eq!(super::excerpt(&"y".repeat(60)), "y".repeat(60));
    }
}
