//! The man pages in man/ are generated from the clap definitions and must stay current:
//! git turns `git kitty --help` into `man git-kitty`, so they are part of the product.
//! Regenerate with `UPDATE_MAN=1 cargo test --test cli man_pages`.

use std::path::Path;

fn pages() -> Vec<(String, Vec<u8>)> {
    let mut root = git_kitty::cli::command();
    root.build();
    let mut out = Vec::new();
    let mut buf = Vec::new();
    clap_mangen::Man::new(root.clone())
        .render(&mut buf)
        .unwrap();
    out.push(("git-kitty.1".to_owned(), buf));
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
        let mut buf = Vec::new();
        clap_mangen::Man::new(page).render(&mut buf).unwrap();
        out.push((format!("{name}.1"), buf));
    }
    out
}

#[test]
fn man_pages_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
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
            "man/{name} is stale or missing: run `UPDATE_MAN=1 cargo test --test cli man_pages`"
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
        "man/ holds pages for commands that do not exist"
    );
}

#[test]
fn every_command_binary_has_a_man_page_and_help() {
    let bins = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/bin")).unwrap();
    for entry in bins {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        let name = file.trim_end_matches(".rs");
        let page = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("man/{name}.1"));
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
