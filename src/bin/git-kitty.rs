//! `git kitty <command>`: git runs this binary for `git kitty`.

/// mimalloc instead of glibc's malloc, here only: every command runs in this binary (the
/// `git-kitty-<command>` ones exec it, and stay small without it). A warm `status --json` on
/// 2,537 WPs took 2,400 page faults and ~18 % of its time in glibc's `malloc`/`free`; with
/// mimalloc, ~200 and 20 % less CPU (docs/performance.md, fourth round).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    git_kitty::cli::main(None)
}
