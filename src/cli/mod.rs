//! Start-up: argv, global flags, colours, output and error rendering.
//!
//! `git-kitty` (run by git as `git kitty <command>`) calls [`main`]. Each `git-kitty-<command>`
//! binary calls [`exec_main`], which replaces it with `git-kitty <command> ...`: both
//! spellings go through one parser and one `match`, and cannot drift apart.

mod exec;

pub use exec::exec_main;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cmd::Cli;
use crate::error::Error;
use crate::ui::{ColorChoice, Ctx, Ui};

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
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = u8::try_from(e.exit_code()).unwrap_or(2);
            // The orchestrator API answers every call with an envelope, refusals by clap too.
            if code != 0 && subcommand_of(&args[1..]) == Some("orchestrator-api") {
                return ExitCode::from(crate::cmd::orchestrator_api::usage_error(&args[1..], &e));
            }
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
            print_clap_message(&e);
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
    // A cache still being written (the answer went out first): finished, never cut off.
    crate::util::background::wait();
    ExitCode::from(code)
}

/// Print clap's help, version or usage error. An error's closing "try '--help'" is pointed at
/// `-h`: `git kitty --help` is turned by git into `man git-kitty`, which is not installed
/// everywhere, while `-h` always reaches git kitty.
fn print_clap_message(e: &clap::Error) {
    use clap::error::ErrorKind as K;
    if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion) || e.exit_code() == 0 {
        let _ = e.print();
        return;
    }
    let text = e.render().to_string();
    let command = text
        .lines()
        .find_map(|l| l.strip_prefix("Usage: "))
        .map(|usage| {
            usage
                .split(' ')
                .take_while(|w| !w.starts_with(['[', '<', '-']))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "git kitty".to_owned());
    let text = text.replace(
        "For more information, try '--help'.",
        &format!("For more information, try '{command} -h'."),
    );
    let _ = io::stderr().write_all(text.as_bytes());
}

/// The subcommand of a command line (argv without the program): the first argument that is
/// not a global flag (`-C <path>`, `--color <when>`) or its value.
fn subcommand_of(args: &[OsString]) -> Option<&str> {
    let mut iter = args.iter().filter_map(|a| a.to_str());
    while let Some(arg) = iter.next() {
        match arg {
            "-C" | "--color" => {
                iter.next();
            }
            a if a.starts_with("--color=") || (a.starts_with("-C") && a.len() > 2) => {}
            a => return Some(a),
        }
    }
    None
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
