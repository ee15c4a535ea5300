//! Listing the plan's files in a working tree, with one `stat` per file read: the stamps
//! the plan cache compares are taken here, and nothing else of a feature folder is looked at
//! than `tasks/`, `status.events.jsonl` and `meta.json`.

use std::io;
use std::path::Path;

use super::plan_cache::Stamp;
use crate::model::plan::{FeatureListing, SPECS_DIR, is_wp_file_name};
use crate::model::problem::{Code, Problem};
use crate::util::parallel::in_parallel;

/// The plan's files as found on disk.
pub struct Listed {
    pub listings: Vec<FeatureListing>,
    pub problems: Vec<Problem>,
    /// The stamps of each listing's files, in [`FeatureListing::files`] order.
    pub stamps: Vec<Vec<Option<Stamp>>>,
    /// Every folder under `kitty-specs/`, listed or not (for "did you mean" hints).
    pub feature_names: Vec<String>,
}

/// List `kitty-specs/*/` under `root` (only the feature `only` when given): WP files in
/// `tasks/`, Spec Kitty's event log and meta file. Only regular files count: a symlink could
/// point outside the repository.
pub fn list(root: &Path, only: Option<&str>) -> Listed {
    let mut problems = Vec::new();
    let specs = root.join(SPECS_DIR);
    if std::fs::symlink_metadata(&specs).is_ok_and(|m| m.file_type().is_symlink()) {
        problems.push(ignored_symlink(SPECS_DIR));
    }
    let feature_names = match problems.is_empty() {
        true => feature_names(&specs, &mut problems),
        false => Vec::new(),
    };
    let wanted: Vec<&String> = feature_names
        .iter()
        .filter(|n| only.is_none_or(|o| o == n.as_str()))
        .collect();
    let mut listed = Listed {
        listings: Vec::with_capacity(wanted.len()),
        problems: if only.is_some() { Vec::new() } else { problems },
        stamps: Vec::with_capacity(wanted.len()),
        feature_names: Vec::new(),
    };
    for (listing, problems, stamps) in in_parallel(&wanted, &|name: &&String| {
        let mut problems = Vec::new();
        let (listing, stamps) = list_feature(&specs, name, &mut problems);
        (listing, problems, stamps)
    }) {
        listed.listings.push(listing);
        listed.problems.extend(problems);
        listed.stamps.push(stamps);
    }
    listed.feature_names = feature_names;
    listed
}

/// The feature folders in `specs`, sorted; hidden entries and files are skipped, symlinks
/// reported.
fn feature_names(specs: &Path, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(specs) {
        Ok(entries) => entries
            .filter_map(|e| {
                let e = e.ok()?;
                let name = e.file_name().to_string_lossy().into_owned();
                let kind = e.file_type().ok()?;
                if name.starts_with('.') || !kind.is_dir() {
                    if kind.is_symlink() {
                        problems.push(ignored_symlink(&format!("{SPECS_DIR}/{name}")));
                    }
                    return None;
                }
                Some(name)
            })
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            problems.push(
                Problem::new(Code::UnreadableFile, format!("cannot list features: {e}"))
                    .at(SPECS_DIR, None),
            );
            Vec::new()
        }
    };
    names.sort();
    names
}

/// The files git kitty reads in one feature folder, and their stamps in
/// [`FeatureListing::files`] order.
fn list_feature(
    specs: &Path,
    name: &str,
    problems: &mut Vec<Problem>,
) -> (FeatureListing, Vec<Option<Stamp>>) {
    let mut listing = FeatureListing::new(name);
    let dir = specs.join(name);
    let mut extra = Vec::new();
    for rel in ["status.events.jsonl", "meta.json"] {
        if let Some(stamp) = Stamp::of_regular_file(&dir.join(rel)) {
            listing.add_file(rel);
            extra.push(Some(stamp));
        }
    }
    let tasks = dir.join("tasks");
    // read_dir would follow a symlink: look first.
    if std::fs::symlink_metadata(&tasks).is_ok_and(|m| m.file_type().is_symlink()) {
        problems.push(ignored_symlink(&format!("{}/tasks", listing.dir)));
        return (listing, extra);
    }
    let Ok(entries) = std::fs::read_dir(&tasks) else {
        return (listing, extra);
    };
    let mut files: Vec<(String, Option<Stamp>)> = entries
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let kind = e.file_type().ok()?;
            if kind.is_symlink() && name.starts_with("WP") {
                problems.push(ignored_symlink(&format!("{}/tasks/{name}", listing.dir)));
            }
            // Only WP files are read, so only they are stamped.
            let stamp = (kind.is_file() && is_wp_file_name(&name)).then(|| Stamp::of(&e.path()));
            kind.is_file().then_some((name, stamp.flatten()))
        })
        .collect();
    files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut stamps = Vec::with_capacity(files.len() + extra.len());
    for (f, stamp) in files {
        if add_task_file(&mut listing, &f, problems) {
            stamps.push(stamp);
        }
    }
    stamps.extend(extra);
    (listing, stamps)
}

/// Add `tasks/<file>` to the listing (true when it is a WP file); a file that looks meant as
/// a WP but is not read as one is reported, so a misnamed WP does not silently vanish from
/// the board.
fn add_task_file(listing: &mut FeatureListing, file: &str, problems: &mut Vec<Problem>) -> bool {
    if is_wp_file_name(file) {
        listing
            .wp_files
            .push(format!("{}/tasks/{file}", listing.dir));
        return true;
    }
    if looks_like_a_wp_file(file) {
        problems.push(
            Problem::new(
                Code::IgnoredEntry,
                format!(
                    "`{file}` looks like a work package but is not read: WP files are named `WP<digits>-<name>.md`"
                ),
            )
            .at(&format!("{}/tasks/{file}", listing.dir), None)
            .in_feature(&listing.name),
        );
    }
    false
}

/// `wp01-x.md`, `WP02-x.MD`: probably meant as a WP file, but not one.
fn looks_like_a_wp_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("wp") && lower.ends_with(".md")
}

fn ignored_symlink(path: &str) -> Problem {
    Problem::new(
        Code::IgnoredEntry,
        "a symbolic link is not followed: plan files must live in the repository",
    )
    .at(path, None)
}

/// Read the plan committed in `commit` (for a bare repository: the server hook reads the plan
/// that comes with the push).
pub fn plan_at(
    history: &crate::git::history::History,
    commit: crate::git::Oid,
) -> crate::error::Result<crate::model::plan::Plan> {
    use std::collections::HashMap;
    let files = history.files_under(commit, SPECS_DIR)?;
    let mut listings: Vec<FeatureListing> = Vec::new();
    let mut wanted = Vec::new();
    for path in &files {
        let Some(rest) = path.strip_prefix(&format!("{SPECS_DIR}/")) else {
            continue;
        };
        let Some((name, rel)) = rest.split_once('/') else {
            continue;
        };
        if !listings.iter().any(|l| l.name == name) {
            listings.push(FeatureListing::new(name));
        }
        if let Some(l) = listings.iter_mut().find(|l| l.name == name)
            && l.add_file(rel)
        {
            wanted.push(path.clone());
        }
    }
    let contents: HashMap<String, Vec<u8>> = wanted
        .iter()
        .cloned()
        .zip(history.read_files(Some(commit), &wanted)?)
        .filter_map(|(p, c)| Some((p, c?)))
        .collect();
    Ok(crate::model::plan::Plan::load(listings, &|p: &str| {
        contents
            .get(p)
            .cloned()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }))
}
