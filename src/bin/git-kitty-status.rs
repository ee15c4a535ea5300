//! `git kitty status` as its own binary: runs `git-kitty status`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("status")
}
