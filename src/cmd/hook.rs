//! `git kitty hook <name>`: what the installed hook shims call. Not for people.

use crate::error::Result;
use crate::ui::Ctx;

/// Run one of git kitty's hooks (called by the hook shims)
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The hook git is running
    pub name: String,

    /// git's arguments to the hook
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    crate::hook_runner::run(&args.name, &args.args, &mut ctx.ui, &ctx.cwd)
}
