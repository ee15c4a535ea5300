//! `git kitty repair` as its own binary; see `git_kitty::cli::main`.
fn main() -> std::process::ExitCode {
    git_kitty::cli::main(Some("repair"))
}
