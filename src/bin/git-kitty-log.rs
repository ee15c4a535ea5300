//! `git kitty log` as its own binary: runs `git-kitty log`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("log")
}
