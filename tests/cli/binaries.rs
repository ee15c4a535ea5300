//! The single-command binaries (`git-kitty-status`, ...): each runs `git-kitty <command>`,
//! so both spellings answer alike, and none of them carries the library.

use crate::common::{Repo, bin_dir};

/// Every visible command, as `git kitty --help` lists it.
fn commands() -> Vec<String> {
    git_kitty::cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .map(|c| c.get_name().to_owned())
        .collect()
}

#[test]
fn every_command_has_its_binary_and_it_answers_as_git_kitty() {
    let repo = Repo::with_fixture("example");
    let commands = commands();
    assert!(commands.len() >= 15, "{commands:?}");
    for command in &commands {
        let bin = format!("git-kitty-{command}");
        let single = repo.bin_in(&bin, &repo.root, &["--help"]);
        single.ok();
        let multi = repo.kitty(&[command, "--help"]);
        assert_eq!(single.stdout, multi.stdout, "{bin} --help");
        assert!(
            single
                .stdout
                .contains(&format!("Usage: git kitty {command}")),
            "{bin}: {}",
            single.stdout
        );
    }
    // Errors, exit codes and --json pass through unchanged.
    let single = repo.bin_in("git-kitty-lane", &repo.root, &["WP99", "done", "--json"]);
    let multi = repo.kitty(&["lane", "WP99", "done", "--json"]);
    single.code(2);
    assert_eq!((single.stdout, single.stderr), (multi.stdout, multi.stderr));
}

/// The bytes an ELF binary loads into memory (its `PT_LOAD` segments): code and data, not
/// the debug information a test build carries for every crate it was linked with.
fn loaded_size(bytes: &[u8]) -> u64 {
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    assert_eq!(&bytes[..5], b"\x7fELF\x02", "a 64-bit ELF file");
    let (phoff, phentsize, phnum) = (u64_at(0x20) as usize, u16_at(0x36), u16_at(0x38));
    (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&ph| u32::from_le_bytes(bytes[ph..ph + 4].try_into().unwrap()) == 1)
        .map(|ph| u64_at(ph + 0x20))
        .sum()
}

/// The library (git, YAML, JSON, the commands) lives in `git-kitty` alone: a single-command
/// binary loads a small fraction of it, and none of its text is in there.
#[test]
fn single_command_binaries_carry_none_of_the_library() {
    let main = loaded_size(&std::fs::read(bin_dir().join("git-kitty")).unwrap());
    for command in commands() {
        let path = bin_dir().join(format!("git-kitty-{command}"));
        let bytes = std::fs::read(&path).unwrap();
        let size = loaded_size(&bytes);
        assert!(
            size * 5 < main,
            "{} loads {size} bytes, git-kitty {main}",
            path.display()
        );
        for needle in ["refs/kitty/wp/", "Run many coding agents", "kitty-specs"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains {needle:?}",
                path.display()
            );
        }
    }
}

/// Copied away from `git-kitty`, a single-command binary runs the one on PATH; with none
/// there it says so (exit 6), in JSON too when asked.
#[test]
fn a_single_command_binary_alone_finds_git_kitty_on_path_or_says_so() {
    let repo = Repo::with_fixture("example");
    let alone = repo.sandbox.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    let copy = alone.join("git-kitty-status");
    std::fs::copy(bin_dir().join("git-kitty-status"), &copy).unwrap();

    // The test environment has the built binaries on PATH.
    let run = |path: &str, args: &[&str]| {
        let mut cmd = repo.command_in(copy.to_str().unwrap(), &repo.root);
        cmd.env("PATH", path).args(args);
        // Another test's fork may still hold the copy's write descriptor open for a moment
        // (inherited until its exec): exec then fails with ETXTBSY. Retry briefly.
        let output = (0..100)
            .find_map(|_| match cmd.output() {
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    None
                }
                other => Some(other.unwrap()),
            })
            .expect("the copied binary stayed busy");
        crate::common::Run::new(output, &repo.root)
    };
    let on_path = run(&bin_dir().display().to_string(), &["--json"]);
    on_path.ok();
    assert_eq!(on_path.stdout, repo.kitty(&["status", "--json"]).stdout);

    let missing = run(alone.to_str().unwrap(), &[]);
    missing.code(6).stderr_has(
        "error: git-kitty-status runs `git-kitty`, which is neither beside it nor on PATH",
    );
    missing.stderr_has("hint: install git kitty again");
    let json = run(alone.to_str().unwrap(), &["--json"]);
    json.code(6);
    let doc = json.json();
    assert_eq!(doc["error"]["kind"], "failed");
    assert_eq!(doc["error"]["exit_code"], 6);
    assert!(
        doc["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("git-kitty-status runs `git-kitty`")
    );
}
