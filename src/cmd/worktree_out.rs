//! What `implement`, `next` and `review` share: each makes (or finds) a worktree for someone
//! and reports it the same way: a summary on stderr and the worktree's path alone on stdout,
//! so `dir=$(git kitty implement WP01) && cd "$dir"` works and fails safe (nothing on stdout
//! on an error); with `--json`, the outcome as one document instead.

use std::path::Path;

use serde::Serialize;

use crate::render::Paint;
use crate::ui::Ui;
use crate::workspace::Workspace;

/// The worktree as a summary's `cd` names it, so that the command works where it is run:
/// relative to the current directory when below it (from the main worktree's top,
/// `.worktrees/<feature>-WP02`), else in full (from another worktree, or a folder inside
/// one); quoted for the shell when it needs to be.
pub fn shown(ws: &Workspace, worktree: &Path) -> String {
    let path = match worktree.strip_prefix(&ws.cwd) {
        Ok(below) if !below.as_os_str().is_empty() => below,
        _ => worktree,
    };
    crate::util::shell::quote(&path.display().to_string())
}

/// Print an outcome: with `json`, `done` as the document; else the `summary` (its lines,
/// painted with the paint it is given) on stderr, then `worktree` as the last line on stdout.
pub fn print<T: Serialize>(
    ui: &mut Ui,
    json: bool,
    done: &T,
    worktree: &Path,
    summary: impl FnOnce(Paint) -> String,
) {
    if json {
        ui.out_json(done);
        return;
    }
    // The summary is narration (stderr); the result is the path (stdout), so
    // `dir=$(git kitty next) && cd "$dir"` works and fails safe when nothing is ready.
    let text = summary(ui.paint);
    ui.note(text.trim_end());
    ui.out(&format!("{}\n", worktree.display()));
}
