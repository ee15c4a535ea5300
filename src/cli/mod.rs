//! Start-up: argv, global flags, colours, output and error rendering.
//!
//! `git-kitty` (run by git as `git kitty <command>`) calls [`main`]. Each `git-kitty-<command>`
//! binary calls [`exec_main`], which replaces it with `git-kitty <command> ...`: both
//! spellings go through one parser and one `match`, and cannot drift apart.

mod exec;

pub use exec::exec_main;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cmd::Command;
use crate::error::{EXIT_CODES_HELP, Error};
use crate::ui::{ColorChoice, Ctx, Ui};

const ABOUT: &str = "Run many coding agents on one git repository, safely";

const LONG_ABOUT: &str = "\
Run many coding agents (or people) on one git repository, safely.

A feature is planned as work packages (WPs): markdown files with YAML frontmatter in
kitty-specs/<feature>/tasks/WP01-name.md, as Spec Kitty writes them. git kitty reads that plan,
checks it, and shows the board: which WPs are in which lane, who works on what, what is ready
to start and what waits on what.

All state lives in the repository: the plan in committed files, lanes and claims in refs under
refs/kitty/. No server, no database, no daemon.";

#[derive(Parser, Debug)]
#[command(
    name = "git-kitty",
    bin_name = "git kitty",
    display_name = "git-kitty",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_long_help = EXIT_CODES_HELP,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Run as if started in PATH (like `git -C`)
    #[arg(short = 'C', global = true, value_name = "PATH")]
    pub dir: Option<PathBuf>,

    /// When to use colours: auto (a terminal without NO_COLOR), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// The clap command tree, for man pages and completion generators.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Run git kitty with this process's arguments, `subcommand` inserted first when given.
pub fn main(subcommand: Option<&str>) -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.is_empty() {
        args.push("git-kitty".into());
    }
    if let Some(sub) = subcommand {
        args.insert(1, sub.into());
    }
    let wants_json = args.iter().any(|a| a == "--json");
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            // A usage error still answers in JSON when JSON was asked for.
            if wants_json && code != 0 {
                let mut ui = Ui::new(ColorChoice::Never);
                ui.json = true;
                let rendered = e.to_string();
                let message = rendered
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .trim_start_matches("error: ")
                    .to_owned();
                ui.render_json_error(&Error::usage(message));
                ui.flush();
            }
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let mut ui = Ui::new(cli.color);
    let cwd = match start_dir(cli.dir.as_deref()) {
        Ok(d) => d,
        Err(e) => {
            ui.render_error(&e);
            return ExitCode::from(e.exit_code());
        }
    };
    let mut ctx = Ctx { ui, cwd };
    let code = match crate::cmd::run(cli.command, &mut ctx) {
        Ok(code) => code,
        Err(e) => {
            ctx.ui.render_error(&e);
            e.exit_code()
        }
    };
    ctx.ui.flush();
    ExitCode::from(code)
}

fn start_dir(dir: Option<&std::path::Path>) -> Result<PathBuf, Error> {
    let here = std::env::current_dir()
        .map_err(|e| Error::usage("cannot read the current directory").cause(e))?;
    let Some(dir) = dir else {
        return Ok(here);
    };
    let target = here.join(dir);
    // Like `git -C`: relative paths in GIT_DIR and the like now resolve from there.
    std::env::set_current_dir(&target)
        .map_err(|e| Error::usage(format!("cannot run in {}", dir.display())).cause(e))?;
    Ok(target)
}
