//! `git kitty completions` as its own binary: runs `git-kitty completions`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("completions")
}
