//! `status --json` keeps each feature's part of the document that nothing but the feature's
//! own files decides (`.git/kitty/board.cache`), and prints it as kept while that holds.

use std::path::Path;

use crate::common::{Repo, cache_sections as sections, wp};

/// Settled (files younger than two seconds are never cached), then read twice: the first run
/// stores the plan, the second takes its features whole and keeps their parts.
fn warm(repo: &Repo) {
    std::thread::sleep(std::time::Duration::from_millis(2100));
    repo.kitty(&["status", "--json"]).ok();
    repo.kitty(&["status", "--json"]).ok();
}

fn section_names(cache: &Path) -> Vec<String> {
    let bytes = std::fs::read(cache).expect("board cache written");
    sections(&bytes).into_iter().map(|(name, _)| name).collect()
}

/// Change `from` to `to` (as long) in the kept part of `feature`, its hash made right again:
/// a part that is printed as kept then shows the change.
fn tamper(cache: &Path, feature: &str, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let mut bytes = std::fs::read(cache).expect("board cache written");
    let (_, range) = sections(&bytes)
        .into_iter()
        .find(|(name, _)| name == feature)
        .unwrap_or_else(|| panic!("no part kept for {feature}"));
    // The part follows its key (binary): only the bytes of `from` are replaced.
    let at = range.start
        + bytes[range.clone()]
            .windows(from.len())
            .position(|w| w == from.as_bytes())
            .unwrap_or_else(|| panic!("{from} not in the part of {feature}"));
    bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
    let hash = git_kitty::util::cache_file::content_hash(&bytes[range.clone()]);
    let header_end = range.start - 1;
    let header_start = bytes[..header_end]
        .iter()
        .rposition(|b| *b == b'\n')
        .unwrap()
        + 1;
    let header = format!("{feature}\t{}\t{hash:x}", range.len());
    bytes.splice(header_start..header_end, header.bytes());
    std::fs::write(cache, bytes).unwrap();
}

fn title(repo: &Repo, feature: &str, id: &str) -> String {
    let status = repo.kitty(&["status", "--json"]).ok().json();
    wp(&status, feature, id)["title"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// With the caches on, `status --json` answers what it answers with them off.
fn assert_as_computed(repo: &Repo, why: &str) {
    let off = [("KITTY_NO_CACHE", Some("1"))];
    let computed = repo
        .kitty_env(&off, &["status", "--json"])
        .ok()
        .stdout
        .clone();
    assert_eq!(
        repo.kitty(&["status", "--json"]).ok().stdout,
        computed,
        "{why}"
    );
    assert_eq!(
        repo.kitty(&["status", "--json"]).ok().stdout,
        computed,
        "{why}"
    );
}

#[test]
fn a_kept_part_is_printed_only_while_nothing_but_its_files_decides_it() {
    let repo = Repo::with_fixture("example");
    let cache = repo.path(".git/kitty/board.cache");
    warm(&repo);
    assert_eq!(section_names(&cache), ["001-checkout", "002-search"]);
    assert_as_computed(&repo, "kept");

    // What is kept is what is printed.
    tamper(&cache, "002-search", "Index schema", "Index SCHEMA");
    assert_eq!(title(&repo, "002-search", "WP01"), "Index SCHEMA");

    // A remote never fetched from: every board names it, so no part kept without it is used.
    let origin = repo.path("../origin.git");
    repo.git(&["init", "-q", "--bare", origin.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", origin.to_str().unwrap()]);
    assert_eq!(title(&repo, "002-search", "WP01"), "Index schema");
    assert_as_computed(&repo, "a remote never fetched from");
    tamper(&cache, "002-search", "Index schema", "Index SCHEMA");
    assert_eq!(title(&repo, "002-search", "WP01"), "Index SCHEMA");

    // A state ref: the feature's board depends on more than its files (so do lost claims and
    // the remote's state, which only a WP with state has).
    repo.kitty(&[
        "implement",
        "WP02",
        "--feature",
        "002-search",
        "--agent",
        "a",
    ])
    .ok();
    assert_eq!(title(&repo, "002-search", "WP01"), "Index schema");
    assert_as_computed(&repo, "a state");
    assert_eq!(
        section_names(&cache),
        ["001-checkout"],
        "a part no longer used is dropped"
    );

    // One of the feature's files edited: computed again, then kept again once settled.
    tamper(&cache, "001-checkout", "Pricing rules", "Pricing RULES");
    assert_eq!(title(&repo, "001-checkout", "WP02"), "Pricing RULES");
    let file = repo.path("kitty-specs/001-checkout/tasks/WP05-receipt-emails.md");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}\nMore.\n")).unwrap();
    assert_eq!(title(&repo, "001-checkout", "WP02"), "Pricing rules");
    assert_as_computed(&repo, "a file edited");
    warm(&repo);
    tamper(&cache, "001-checkout", "Pricing rules", "Pricing RULES");
    assert_eq!(title(&repo, "001-checkout", "WP02"), "Pricing RULES");

    // A feature gone from the plan: its part goes too.
    std::fs::remove_dir_all(repo.path("kitty-specs/001-checkout")).unwrap();
    assert_as_computed(&repo, "a feature removed");
    assert!(!String::from_utf8_lossy(&std::fs::read(&cache).unwrap()).contains("001-checkout"));
}
