//! `git kitty restack` as its own binary: runs `git-kitty restack`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("restack")
}
