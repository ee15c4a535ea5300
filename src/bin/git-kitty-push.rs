//! `git kitty push` as its own binary: runs `git-kitty push`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("push")
}
