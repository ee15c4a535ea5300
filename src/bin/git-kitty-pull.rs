//! `git kitty pull` as its own binary: runs `git-kitty pull`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("pull")
}
