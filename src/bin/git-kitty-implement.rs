//! `git kitty implement` as its own binary: runs `git-kitty implement`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("implement")
}
