//! The single-command binaries (`git-kitty-status`, `git-kitty-lane`, ...): each replaces
//! itself with the `git-kitty` binary beside it, the command name inserted, so
//! `git kitty-lane WP01` runs exactly `git kitty lane WP01`: one parser, one `match`, nothing
//! that can drift.
//!
//! This code uses std alone, and nothing else of the library reaches it: the linker keeps
//! only what a binary calls (`--gc-sections`), so these binaries hold no git, YAML or JSON
//! code and weigh a few hundred KB instead of megabytes (docs/performance.md). For the same
//! reason there is no in-process fallback: it would link everything. A binary copied away
//! from its `git-kitty` runs the one on `PATH`.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The main of `git-kitty-<command>`: exec `git-kitty <command> <args...>`. Returns only
/// when that cannot be run (exit 6, with the error on stderr, or stdout under `--json`).
pub fn exec_main(command: &str) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.join("git-kitty")))
        .filter(|p| p.is_file());
    let program = beside.unwrap_or_else(|| PathBuf::from("git-kitty"));
    let err = Command::new(&program)
        .arg0("git-kitty")
        .arg(command)
        .args(&args)
        .exec();
    let message = format!(
        "git-kitty-{command} runs `git-kitty`, which is neither beside it nor on PATH ({err})"
    );
    let hint = "install git kitty again: `cargo install --path <source>` puts every binary in one directory";
    if args.iter().any(|a| a == "--json") {
        let json = format!(
            "{{\n  \"error\": {{\n    \"kind\": \"failed\",\n    \"exit_code\": 6,\n    \"message\": {},\n    \"causes\": [],\n    \"hints\": [\n      {}\n    ],\n    \"details\": null\n  }}\n}}\n",
            json_string(&message),
            json_string(hint)
        );
        let _ = std::io::stdout().write_all(json.as_bytes());
    }
    let _ = writeln!(std::io::stderr(), "error: {message}\nhint: {hint}");
    ExitCode::from(6)
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
