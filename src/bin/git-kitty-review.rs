//! `git kitty review` as its own binary: runs `git-kitty review`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("review")
}
