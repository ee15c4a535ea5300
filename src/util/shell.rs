//! Words for command lines that git kitty prints as hints, so they run as printed.

/// `word` as one shell word: as it is when it is plain, else in single quotes.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@+/:=,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn plain_words_stay_and_others_are_quoted() {
        assert_eq!(quote("claude"), "claude");
        assert_eq!(quote("codex-1.2@host"), "codex-1.2@host");
        assert_eq!(quote("Jane Doe"), "'Jane Doe'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }
}
