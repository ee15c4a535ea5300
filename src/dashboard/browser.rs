//! `dashboard --open`: hand the page's address to the user's browser.
//!
//! The one process git kitty starts that is not git (docs/architecture.md): `$BROWSER` when
//! set (a program, given the URL as its argument, no shell), else the desktop's opener.

use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// Start the browser on `url` and return without waiting for it.
pub fn open(url: &str) -> Result<()> {
    let program = std::env::var("BROWSER")
        .ok()
        .and_then(|b| b.split(':').next().map(str::to_owned))
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".into()
            } else {
                "xdg-open".into()
            }
        });
    let mut child = Command::new(&program)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            Error::failed(format!("cannot start `{program}` to open the page"))
                .cause(e)
                .hint(format!("open {url} in a browser, or set BROWSER"))
        })?;
    // Reap it whenever it exits (openers exit at once; a browser may run on).
    let _ = std::thread::Builder::new()
        .name("kitty-browser".into())
        .spawn(move || child.wait());
    Ok(())
}
