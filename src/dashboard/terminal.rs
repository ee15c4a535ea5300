//! `git kitty status --watch`: the terminal board, redrawn in place whenever the board's
//! inputs change (the same file watcher as the dashboard, never a timer), with what just moved
//! marked. `q` or Ctrl-C quits; the terminal is restored however the loop ends.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGWINCH};
use signal_hook::iterator::Signals;

use super::watch;
use crate::board::{self, Board};
use crate::error::{Error, Result};
use crate::model::ids::FeatureSlug;
use crate::render::Paint;
use crate::render::board::{Marked, render_marked};
use crate::util::time::{format_rfc3339, now_nanos};
use crate::workspace::Workspace;

/// What to watch and how to draw it.
pub struct Request<'a> {
    pub cwd: &'a Path,
    /// `--feature`: only this feature.
    pub feature: Option<&'a FeatureSlug>,
    /// `--all`: every feature, even inside a WP's worktree.
    pub all: bool,
    pub paint: Paint,
}

/// Why the loop wakes up.
enum Wake {
    Changed,
    Key(u8),
    Resized,
    Quit,
}

/// Draw the board and redraw it on every change until `q`, Ctrl-C or a signal to stop.
pub fn watch(request: &Request) -> Result<()> {
    if !std::io::stdout().is_terminal() {
        return Err(Error::usage(
            "`status --watch` redraws the board in a terminal, and stdout is not one",
        )
        .hint("`git kitty status` prints the board once; `git kitty dashboard` serves it live"));
    }
    // Unknown features and the like are refused before the screen is taken over.
    let ws = Workspace::open(request.cwd, request.feature)?;
    ws.shown_features(request.feature, request.all)?;
    let (tx, rx) = mpsc::channel();
    let changed = tx.clone();
    watch::start(watch::Targets::of(&ws), move || {
        let _ = changed.send(Wake::Changed);
    })?;
    drop(ws);
    listen_to_signals(tx.clone())?;
    let _screen = Screen::take(tx)?;
    let mut view = View {
        request,
        board: None,
        marked: Marked::new(),
        moved: Vec::new(),
    };
    view.refresh()?;
    view.draw();
    while let Ok(wake) = rx.recv() {
        match wake {
            Wake::Changed => {
                // Coalesce what queued up meanwhile: one redraw is enough.
                if view.refresh()? {
                    view.draw();
                }
            }
            Wake::Resized => view.draw(),
            Wake::Key(b'q' | b'Q' | 3 | 4) | Wake::Quit => break,
            Wake::Key(_) => {}
        }
    }
    Ok(())
}

/// SIGINT, SIGTERM and SIGHUP stop; SIGWINCH redraws at the new size.
fn listen_to_signals(tx: mpsc::Sender<Wake>) -> Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGWINCH])
        .map_err(|e| Error::failed("cannot handle signals").cause(e))?;
    std::thread::Builder::new()
        .name("kitty-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                let wake = if signal == SIGWINCH {
                    Wake::Resized
                } else {
                    Wake::Quit
                };
                if tx.send(wake).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| Error::failed("cannot handle signals").cause(e))?;
    Ok(())
}

/// The board on screen and what moved to make it.
struct View<'a> {
    request: &'a Request<'a>,
    board: Option<Board>,
    marked: Marked,
    /// `001-auth/WP02 in_progress -> for_review`, for the header.
    moved: Vec<String>,
}

impl View<'_> {
    /// Read the board again; whether it changed.
    fn refresh(&mut self) -> Result<bool> {
        let ws = Workspace::open(self.request.cwd, self.request.feature)?;
        let (features, every) = ws.shown_features(self.request.feature, self.request.all)?;
        let board = board::read_with_remote(&ws, features, every)?.board;
        let same = self
            .board
            .as_ref()
            .is_some_and(|old| serde_json::to_value(old).ok() == serde_json::to_value(&board).ok());
        if same {
            return Ok(false);
        }
        if let Some(old) = &self.board {
            (self.marked, self.moved) = moves(old, &board);
        }
        self.board = Some(board);
        Ok(true)
    }

    fn draw(&self) {
        let Some(board) = &self.board else { return };
        let p = self.request.paint;
        let now = now_nanos();
        let clock = format_rfc3339(now);
        let clock = clock.get(11..19).unwrap_or(&clock);
        let mut text = format!(
            "{}  {}\n",
            p.bold("git kitty status --watch"),
            p.dim(&format!("updated {clock} UTC · q quits"))
        );
        if self.moved.is_empty() {
            text.push('\n');
        } else {
            text.push_str(&format!("» {}\n", self.moved.join(", ")));
        }
        text.push('\n');
        let width = crate::render::output_width();
        text.push_str(&render_marked(board, p, width, now, &self.marked));
        paint_screen(&text);
    }
}

/// The WPs whose lane, agent or reviewer differ between two boards (or that are new).
fn moves(old: &Board, new: &Board) -> (Marked, Vec<String>) {
    let mut marked = Marked::new();
    let mut moved = Vec::new();
    for f in &new.features {
        let before = old.features.iter().find(|o| o.slug == f.slug);
        for w in &f.work_packages {
            let was = before.and_then(|o| o.work_packages.iter().find(|v| v.id == w.id));
            let what = match was {
                None => "new".to_owned(),
                Some(v) if v.lane != w.lane => format!("{} -> {}", v.lane, w.lane),
                Some(v) if v.agent != w.agent || v.reviewer != w.reviewer => {
                    let who = w.reviewer.as_ref().or(w.agent.as_ref());
                    format!("now {}", who.map_or("nobody", String::as_str))
                }
                Some(_) => continue,
            };
            moved.push(format!("{}/{} {what}", f.slug, w.id));
            marked.insert((f.slug.clone(), w.id.clone()));
        }
    }
    (marked, moved)
}

/// Draw `text` from the top left, line by line, clearing what the previous frame left, and
/// no further than the screen's last line (writing past it would scroll the frame away).
fn paint_screen(text: &str) {
    let rows = terminal_size::terminal_size_of(std::io::stdout())
        .map_or(usize::MAX, |(_, h)| usize::from(h.0));
    let lines: Vec<&str> = text.lines().collect();
    let mut frame = String::from("\x1b[H");
    let fits = lines.len() < rows;
    let shown = if fits {
        lines.len()
    } else {
        rows.saturating_sub(1)
    };
    for line in &lines[..shown] {
        frame.push_str(line);
        frame.push_str("\x1b[K\r\n");
    }
    if !fits {
        frame.push_str(&format!(
            "… {} more lines: a taller terminal shows them\x1b[K",
            lines.len() - shown
        ));
    }
    frame.push_str("\x1b[J");
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(frame.as_bytes());
    let _ = out.flush();
}

/// The terminal taken over: the alternate screen, no cursor, keys read one by one without
/// echo (Ctrl-C arrives as a key). Dropping it gives everything back.
struct Screen {
    saved: Option<rustix::termios::Termios>,
}

impl Screen {
    fn take(keys: mpsc::Sender<Wake>) -> Result<Screen> {
        let stdin = std::io::stdin();
        let saved = if stdin.is_terminal() {
            use rustix::termios::{LocalModes, OptionalActions, SpecialCodeIndex};
            let saved = rustix::termios::tcgetattr(&stdin)
                .map_err(|e| Error::failed("cannot read the terminal's settings").cause(e))?;
            let mut raw = saved.clone();
            raw.local_modes
                .remove(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG);
            raw.special_codes[SpecialCodeIndex::VMIN] = 1;
            raw.special_codes[SpecialCodeIndex::VTIME] = 0;
            rustix::termios::tcsetattr(&stdin, OptionalActions::Now, &raw)
                .map_err(|e| Error::failed("cannot set up the terminal").cause(e))?;
            Some(saved)
        } else {
            None
        };
        std::thread::Builder::new()
            .name("kitty-keys".into())
            .spawn(move || {
                let mut byte = [0u8; 1];
                while let Ok(1) = std::io::stdin().read(&mut byte) {
                    if keys.send(Wake::Key(byte[0])).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::failed("cannot read keys").cause(e))?;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");
        let _ = out.flush();
        Ok(Screen { saved })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(b"\x1b[?25h\x1b[?1049l");
        let _ = out.flush();
        if let Some(saved) = &self.saved {
            let _ = rustix::termios::tcsetattr(
                std::io::stdin(),
                rustix::termios::OptionalActions::Now,
                saved,
            );
        }
    }
}
