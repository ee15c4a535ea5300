//! `git kitty abandon` as its own binary: runs `git-kitty abandon`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("abandon")
}
