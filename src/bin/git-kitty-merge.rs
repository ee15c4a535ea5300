//! `git kitty merge` as its own binary: runs `git-kitty merge`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("merge")
}
