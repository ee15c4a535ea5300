//! `git kitty sync` as its own binary: runs `git-kitty sync`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("sync")
}
