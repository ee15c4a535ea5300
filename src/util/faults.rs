//! Fault injection for tests of "nothing lost on failure": `KITTY_TEST_FAIL=<point>` makes the
//! named point fail. Points are listed in docs/architecture.md.
//!
//! Compiled only into debug builds (`debug_assertions`), which is what `cargo test` runs the
//! integration tests against: a release binary does not read the variable at all, so an
//! environment that happens to set it cannot make an installed git kitty abort.

/// Whether `point` is named in `value` (the variable's value, comma-separated points).
#[cfg(debug_assertions)]
fn armed_in(value: Option<&str>, point: &str) -> bool {
    value.is_some_and(|v| v.split(',').any(|p| p == point))
}

#[cfg(not(debug_assertions))]
fn armed_in(_value: Option<&str>, _point: &str) -> bool {
    false
}

fn armed(point: &str) -> bool {
    #[cfg(debug_assertions)]
    let value = std::env::var("KITTY_TEST_FAIL").ok();
    #[cfg(not(debug_assertions))]
    let value: Option<String> = None;
    armed_in(value.as_deref(), point)
}

/// Simulate a crash at `point`: the process dies on the spot, as with `kill -9`, skipping
/// every cleanup.
pub fn hit(point: &str) {
    if armed(point) {
        std::process::abort();
    }
}

/// Simulate a failing step at `point`: an error the caller must recover from.
pub fn fail(point: &str) -> crate::error::Result<()> {
    if armed(point) {
        Err(crate::error::Error::failed(format!(
            "injected failure at {point}"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    /// In a release build (`cargo test --release --lib faults`) no point is ever armed.
    #[test]
    fn points_are_armed_only_in_debug_builds() {
        let value = Some("implement:worktree,implement:after-claim");
        assert_eq!(
            super::armed_in(value, "implement:after-claim"),
            cfg!(debug_assertions)
        );
        assert!(!super::armed_in(value, "implement"));
        assert!(!super::armed_in(None, "implement:worktree"));
    }
}
