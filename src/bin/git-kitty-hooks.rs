//! `git kitty hooks` as its own binary: runs `git-kitty hooks`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("hooks")
}
