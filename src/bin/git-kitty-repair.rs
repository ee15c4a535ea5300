//! `git kitty repair` as its own binary: runs `git-kitty repair`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("repair")
}
