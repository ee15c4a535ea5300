//! Live views of the board: `git kitty dashboard` (a page served on the loopback interface,
//! updated over Server-Sent Events) and `git kitty status --watch` (the terminal board,
//! redrawn in place). Both wake on file events from [`watch`], never on a timer, and read
//! the board through [`crate::board::read_with_remote`], as `status` does.
//!
//! Above `ui` (the terminal view draws with `render`), below `cmd`.

pub mod browser;
mod detail;
pub mod document;
pub mod http;
pub mod server;
pub mod terminal;
pub mod watch;

use std::path::Path;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::{Error, Result};
pub use server::Ready;

/// Serve the dashboard of the repository around `cwd` on 127.0.0.1 (`port`, else the first
/// free one from 9237) until Ctrl-C (or SIGTERM, SIGHUP). `on_ready` runs once it serves.
/// Nothing is written anywhere: the page only reads.
pub fn serve(cwd: &Path, port: Option<u16>, on_ready: impl FnOnce(&Ready)) -> Result<()> {
    // Before anything is served: a Ctrl-C right after the address is printed stops cleanly.
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])
        .map_err(|e| Error::failed("cannot handle Ctrl-C").cause(e))?;
    let server = server::start(cwd, port)?;
    let ready = server.ready.clone();
    let stopper = server.serve()?;
    on_ready(&ready);
    let _ = signals.forever().next();
    stopper.stop();
    Ok(())
}
