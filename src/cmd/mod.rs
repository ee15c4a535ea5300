//! One file per command: its arguments (the doc comments are its `--help`) and its `run`.
//!
//! One exhaustive `enum Command` and one `match`: a new command that is not wired in does not
//! compile.

pub mod check;
pub mod status;

use clap::Subcommand;

use crate::cli::Ctx;
use crate::error::Result;

#[derive(Subcommand, Debug)]
pub enum Command {
    Status(status::Args),
    Check(check::Args),
}

/// Run a parsed command; the result is the exit code (errors carry their own).
pub fn run(command: Command, ctx: &mut Ctx) -> Result<u8> {
    match command {
        Command::Status(args) => status::run(args, ctx),
        Command::Check(args) => check::run(args, ctx),
    }
}
