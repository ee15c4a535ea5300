//! Fault injection for tests of "nothing lost on failure": `KITTY_TEST_FAIL=<point>` makes the
//! named point fail. Points are listed in docs/architecture.md; without the variable these
//! are no-ops.

fn armed(point: &str) -> bool {
    std::env::var("KITTY_TEST_FAIL").is_ok_and(|v| v.split(',').any(|p| p == point))
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
