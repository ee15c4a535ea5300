//! What a command writes to: stdout for results (and `--json`), stderr for narration, errors
//! rendered for people or as JSON; colours decided once per stream.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::ValueEnum;

use crate::error::Error;
use crate::render::{Paint, json, terminal};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn enabled(self, stream_is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                let force = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| v != "0");
                let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
                !no_color && (force || (stream_is_terminal && !dumb))
            }
        }
    }
}

/// What a command gets besides its arguments.
pub struct Ctx {
    pub ui: Ui,
    /// The directory the command runs in (after `-C`).
    pub cwd: PathBuf,
}

/// stdout for results, stderr for narration.
pub struct Ui {
    out: io::BufWriter<io::Stdout>,
    /// Colours for stdout.
    pub paint: Paint,
    /// Colours for stderr.
    pub err_paint: Paint,
    /// The command answers in JSON: errors are reported as a JSON document on stdout too.
    pub json: bool,
    broken_pipe: bool,
}

impl Ui {
    pub fn new(color: ColorChoice) -> Ui {
        Ui {
            out: io::BufWriter::with_capacity(64 * 1024, io::stdout()),
            paint: Paint {
                enabled: color.enabled(io::stdout().is_terminal()),
            },
            err_paint: Paint {
                enabled: color.enabled(io::stderr().is_terminal()),
            },
            json: false,
            broken_pipe: false,
        }
    }

    /// Write a result to stdout, made safe for a terminal (`render::terminal`: control
    /// characters from data escaped, our colours kept). A closed pipe (`| head`) stops output
    /// quietly.
    pub fn out(&mut self, text: &str) {
        let safe = terminal::for_terminal(text, self.paint.enabled);
        self.write_out(safe.as_bytes());
    }

    fn write_out(&mut self, bytes: &[u8]) {
        if self.broken_pipe {
            return;
        }
        if let Err(e) = self.out.write_all(bytes) {
            self.broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        }
    }

    /// Write a JSON document (pretty, one trailing newline) to stdout: the data exactly, every
    /// character a terminal could act on written as a JSON escape (`\u001b`), never raw.
    ///
    /// Written straight to the buffered stdout (a board is megabytes at thousands of WPs):
    /// encoding a value of plain data cannot fail, so no document is held whole first.
    pub fn out_json<T: serde::Serialize>(&mut self, value: &T) {
        if self.broken_pipe {
            return;
        }
        let mut ser =
            serde_json::Serializer::with_formatter(&mut self.out, json::TerminalSafe::default());
        let written = value
            .serialize(&mut ser)
            .and_then(|()| self.out.write_all(b"\n").map_err(serde_json::Error::io));
        if let Err(e) = written {
            match e.io_error_kind() {
                Some(kind) => self.broken_pipe = kind == io::ErrorKind::BrokenPipe,
                None => {
                    let bytes = serde_json::to_vec(&serde_json::json!({
                        "error": { "message": format!("cannot encode output: {e}") }
                    }))
                    .unwrap_or_default();
                    self.write_out(&bytes);
                    self.write_out(b"\n");
                }
            }
        }
    }

    /// Write a JSON document that `write` lays out itself (from parts written earlier by
    /// [`json::TerminalSafe`], see `render::status_json`), and its trailing newline.
    pub fn out_json_document(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) {
        if self.broken_pipe {
            return;
        }
        if let Err(e) = write(&mut self.out).and_then(|()| self.out.write_all(b"\n")) {
            self.broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        }
    }

    /// Narration on stderr, unbuffered so it interleaves with progress; made safe for a
    /// terminal as [`Ui::out`] is.
    pub fn note(&mut self, text: &str) {
        self.flush();
        let safe = terminal::for_terminal(text, self.err_paint.enabled);
        let _ = writeln!(io::stderr(), "{safe}");
    }

    /// `warning: ...` on stderr.
    pub fn warn(&mut self, text: &str) {
        let label = self.err_paint.yellow("warning:");
        self.note(&format!("{label} {text}"));
    }

    pub fn flush(&mut self) {
        if !self.broken_pipe
            && let Err(e) = self.out.flush()
        {
            self.broken_pipe = e.kind() == io::ErrorKind::BrokenPipe;
        }
    }

    pub fn render_json_error(&mut self, err: &Error) {
        self.out_json(&serde_json::json!({
            "error": {
                "kind": err.kind,
                "exit_code": err.exit_code(),
                "message": err.message,
                "causes": err.causes,
                "hints": err.hints,
                "details": err.details,
            }
        }));
    }

    pub fn render_error(&mut self, err: &Error) {
        if self.json {
            self.render_json_error(err);
        }
        self.flush();
        let p = self.err_paint;
        let mut text = format!("{} {}\n", p.red("error:"), err.message);
        for c in &err.causes {
            for (i, line) in c.lines().enumerate() {
                let label = if i == 0 { "caused by:" } else { "          " };
                text.push_str(&format!("{} {line}\n", p.dim(label)));
            }
        }
        for h in &err.hints {
            text.push_str(&format!("{} {h}\n", p.green("hint:")));
        }
        let safe = terminal::for_terminal(&text, p.enabled);
        let _ = io::stderr().write_all(safe.as_bytes());
    }
}
