//! `git kitty <command>`: git runs this binary for `git kitty`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::main(None)
}
