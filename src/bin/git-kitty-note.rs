//! `git kitty note` as its own binary: runs `git-kitty note`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("note")
}
