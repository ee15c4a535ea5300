//! `git kitty orchestrator-api` as its own binary: runs `git-kitty orchestrator-api`; see `git_kitty::cli::exec_main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::exec_main("orchestrator-api")
}
