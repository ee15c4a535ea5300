//! `git kitty completions`: shell completion scripts, generated from the same clap definitions
//! as the parser, so they cannot drift from it.

use clap::ValueEnum;

use crate::error::Result;
use crate::ui::Ctx;

/// Print a completion script for a shell
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Print a completion script for a shell on stdout. The script completes \
`git-kitty` and each `git-kitty-<command>`; git's own completion (bash and zsh) calls \
`_git_kitty` for `git kitty`, which the bash script also defines.",
    after_long_help = "Examples:
  git kitty completions bash > ~/.local/share/bash-completion/completions/git-kitty
  git kitty completions zsh > ~/.zfunc/_git-kitty      (with fpath+=~/.zfunc in .zshrc)
  git kitty completions fish > ~/.config/fish/completions/git-kitty.fish
  git kitty completions powershell >> $PROFILE"
)]
pub struct Args {
    /// The shell
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

pub fn run(args: Args, ctx: &mut Ctx) -> Result<u8> {
    use clap_complete::Shell as S;
    let shell = match args.shell {
        Shell::Bash => S::Bash,
        Shell::Zsh => S::Zsh,
        Shell::Fish => S::Fish,
        Shell::Elvish => S::Elvish,
        Shell::Powershell => S::PowerShell,
    };
    let mut command = <super::Cli as clap::CommandFactory>::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "git-kitty", &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if let Shell::Bash = args.shell {
        // clap_complete names the per-command cases after the subcommands' bin names
        // (`git kitty lane`) but its dispatcher after the binary (`git-kitty`): make them
        // agree, then let `git kitty <TAB>` (git's `_git_kitty`) use the same function.
        script = script.replace("git__subcmd__kitty__subcmd__", "git__kitty__subcmd__");
        script.push_str(GIT_BASH_BRIDGE);
    }
    ctx.ui.out(&script);
    Ok(0)
}

/// Lets git's own bash completion (`git kitty <TAB>`, which calls `_git_kitty` with git's
/// `words`/`cword`) use the generated `_git__kitty`, as if `git-kitty` had been typed.
const GIT_BASH_BRIDGE: &str = r#"
_git_kitty() {
    local COMP_WORDS=(git-kitty "${words[@]:2}")
    local COMP_CWORD=$((cword - 1))
    local prev_word="${COMP_WORDS[COMP_CWORD - 1]}"
    _git__kitty git-kitty "${COMP_WORDS[COMP_CWORD]}" "${prev_word}"
}
"#;
