//! `git kitty check` as its own binary: runs `git-kitty check`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("check")
}
