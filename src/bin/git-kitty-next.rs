//! `git kitty next` as its own binary: runs `git-kitty next`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("next")
}
