//! The man pages in man/man1/ are generated from the clap definitions and must stay current:
//! git turns `git kitty --help` into `man git-kitty`, so they are part of the product.
//! Regenerate with `UPDATE_MAN=1 cargo test --test cli man_pages`.

use std::path::{Path, PathBuf};

fn man_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man/man1")
}

/// One page: clap_mangen's, with a SYNOPSIS that keeps argument names
/// (`[-f|--feature FEATURE]`, where clap_mangen writes `[-f|--feature]`).
fn render(cmd: clap::Command) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf).unwrap();
    let page = String::from_utf8(buf).unwrap();
    let start = page.find(".SH SYNOPSIS\n").unwrap();
    let end = start + page[start + 1..].find("\n.SH ").unwrap() + 2;
    format!("{}{}{}", &page[..start], synopsis(&cmd), &page[end..]).into_bytes()
}

/// `.SH SYNOPSIS` in roff: the command, each option with its value name, then the
/// positional arguments as clap's own usage line shows them.
fn synopsis(cmd: &clap::Command) -> String {
    let roff = |t: &str| t.replace('\\', "\\e").replace('-', "\\-");
    let bin = cmd.get_bin_name().unwrap_or(cmd.get_name()).to_owned();
    let mut line = format!("\\fB{}\\fR", roff(&bin));
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        let mut names = Vec::new();
        if let Some(s) = arg.get_short() {
            names.push(format!("\\fB\\-{s}\\fR"));
        }
        if let Some(l) = arg.get_long() {
            names.push(format!("\\fB\\-\\-{}\\fR", roff(l)));
        }
        let value = match arg.get_value_names() {
            Some([v, ..]) if arg.get_action().takes_values() => format!(" \\fI{}\\fR", roff(v)),
            _ => String::new(),
        };
        line.push_str(&format!(" [{}{value}]", names.join("|")));
    }
    let usage = cmd.clone().render_usage().to_string();
    let positionals = usage
        .lines()
        .next()
        .unwrap_or_default()
        .split_once("[OPTIONS]")
        .map_or("", |(_, rest)| rest.trim());
    let positionals = positionals.replace("<COMMAND>", "<COMMAND> [ARGS]");
    if !positionals.is_empty() {
        line.push_str(&format!(" \\fI{}\\fR", roff(&positionals)));
    }
    format!(".SH SYNOPSIS\n{line}\n")
}

fn pages() -> Vec<(String, Vec<u8>)> {
    let mut root = git_kitty::cli::command();
    root.build();
    let mut out = vec![("git-kitty.1".to_owned(), render(root.clone()))];
    for sub in root.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        // clap wants 'static names; leaking a few bytes in a test is fine.
        let name: &'static str = format!("git-kitty-{}", sub.get_name()).leak();
        let page = sub
            .clone()
            .name(name)
            .display_name(name)
            .bin_name(format!("git kitty {}", sub.get_name()));
        out.push((format!("{name}.1"), render(page)));
    }
    out
}

#[test]
fn man_pages_are_current() {
    let dir = man_dir();
    let pages = pages();
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "1") {
                std::fs::remove_file(p).unwrap();
            }
        }
        for (name, bytes) in &pages {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        return;
    }
    for (name, bytes) in &pages {
        let committed = std::fs::read(dir.join(name)).unwrap_or_default();
        assert!(
            committed == *bytes,
            "man/man1/{name} is stale or missing: run `UPDATE_MAN=1 cargo test --test cli man_pages`"
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".1"))
        .collect();
    names.sort();
    let mut expected: Vec<String> = pages.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(
        names, expected,
        "man/man1/ holds pages for commands that do not exist"
    );
}

#[test]
fn every_command_binary_has_a_man_page_and_help() {
    let bins = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin")).unwrap();
    for entry in bins {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let name = file.trim_end_matches(".rs");
        let page = man_dir().join(format!("{name}.1"));
        assert!(page.exists(), "no man page for {name}");
        let text = std::fs::read_to_string(&page).unwrap();
        assert!(text.contains(".TH"), "{name}.1 is not a man page");
        // And the binary itself answers --help with the same command's usage.
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin(name))
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} --help failed");
        let usage = match name.strip_prefix("git-kitty-") {
            Some(sub) => format!("Usage: git kitty {sub}"),
            None => "Usage: git kitty".to_owned(),
        };
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains(&usage), "{name} --help lacks {usage:?}");
    }
}

#[test]
fn help_shows_exit_codes() {
    let repo = crate::common::Repo::new();
    repo.kitty(&["--help"])
        .ok()
        .stdout_has("Exit status:")
        .stdout_has("3  nothing ready to start");
}

/// The README's MANPATH line, run from the repository's top folder as it says, makes `man`
/// find every page (so `git kitty --help`, which git turns into `man git-kitty`, opens it).
#[test]
fn the_readme_manpath_line_makes_man_find_the_pages() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.starts_with("export MANPATH="))
        .expect("README has an `export MANPATH=` line");
    if std::process::Command::new("man")
        .arg("-w")
        .arg("man")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "`man` is missing in CI: .ci/run installs man-db"
        );
        eprintln!("skipped: no `man` on this machine");
        return;
    }
    for page in ["git-kitty", "git-kitty-lane", "git-kitty-status"] {
        let script = format!("{line}\nman -w {page}");
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(root)
            .output()
            .unwrap();
        let found = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && found.trim().ends_with(&format!("man/man1/{page}.1")),
            "man -w {page} after the README's line: {found}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn completions_complete_commands_and_flags_in_bash() {
    let repo = crate::common::Repo::new();
    let script = repo.kitty(&["completions", "bash"]).ok().stdout.clone();
    let file = repo.sandbox.path().join("git-kitty.bash");
    std::fs::write(&file, script).unwrap();
    // `git-kitty lane --ag<TAB>`, and `git kitty st<TAB>` through git's `_git_kitty` hook.
    let probe = format!(
        "source '{}'\n\
         COMP_WORDS=(git-kitty lane --ag); COMP_CWORD=2; _git__kitty git-kitty --ag lane\n\
         echo \"direct: ${{COMPREPLY[*]}}\"\n\
         words=(git kitty st); cword=2; COMPREPLY=(); _git_kitty\n\
         echo \"git: ${{COMPREPLY[*]}}\"",
        file.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(&probe)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("direct: --agent\n"), "{text}");
    assert!(text.contains("git: status\n"), "{text}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let script = repo.kitty(&["completions", shell]).ok().stdout.clone();
        assert!(script.contains("implement"), "{shell}: {script}");
    }
    repo.kitty(&["completions", "tcsh"])
        .code(2)
        .stderr_has("invalid value 'tcsh'");
}
