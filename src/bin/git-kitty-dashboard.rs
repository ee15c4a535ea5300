//! `git kitty dashboard` as its own binary: runs `git-kitty dashboard`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("dashboard")
}
