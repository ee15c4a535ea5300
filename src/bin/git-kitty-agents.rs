//! `git kitty agents` as its own binary: runs `git-kitty agents`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("agents")
}
