//! `git kitty lane` as its own binary: runs `git-kitty lane`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("lane")
}
