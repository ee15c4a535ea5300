//! `git kitty init` as its own binary: runs `git-kitty init`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("init")
}
