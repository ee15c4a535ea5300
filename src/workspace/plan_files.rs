//! Listing the plan's files in a working tree.

use std::io;
use std::path::Path;

use crate::model::plan::{FeatureListing, SPECS_DIR};
use crate::model::problem::{Code, Problem};

/// List `kitty-specs/*/` under `root`: WP files in `tasks/`, Spec Kitty's event log and
/// meta file. Only regular files count: a symlink could point outside the repository.
pub fn list(root: &Path) -> (Vec<FeatureListing>, Vec<Problem>) {
    let mut problems = Vec::new();
    let specs = root.join(SPECS_DIR);
    if std::fs::symlink_metadata(&specs).is_ok_and(|m| m.file_type().is_symlink()) {
        problems.push(ignored_symlink(SPECS_DIR));
        return (Vec::new(), problems);
    }
    let listings = feature_names(&specs, &mut problems)
        .into_iter()
        .map(|name| list_feature(&specs, &name, &mut problems))
        .collect();
    (listings, problems)
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

/// The files git kitty reads in one feature folder.
fn list_feature(specs: &Path, name: &str, problems: &mut Vec<Problem>) -> FeatureListing {
    let mut listing = FeatureListing::new(name);
    let dir = specs.join(name);
    for rel in ["status.events.jsonl", "meta.json"] {
        if is_regular_file(&dir.join(rel)) {
            listing.add_file(rel);
        }
    }
    let tasks = dir.join("tasks");
    if std::fs::symlink_metadata(&tasks).is_ok_and(|m| m.file_type().is_symlink()) {
        problems.push(ignored_symlink(&format!("{}/tasks", listing.dir)));
        return listing;
    }
    if let Ok(entries) = std::fs::read_dir(&tasks) {
        let mut files: Vec<String> = entries
            .filter_map(|e| {
                let e = e.ok()?;
                let name = e.file_name().into_string().ok()?;
                let kind = e.file_type().ok()?;
                if kind.is_symlink() && name.starts_with("WP") {
                    problems.push(ignored_symlink(&format!("{}/tasks/{name}", listing.dir)));
                }
                kind.is_file().then_some(name)
            })
            .collect();
        files.sort();
        for f in files {
            add_task_file(&mut listing, &f, problems);
        }
    }
    listing
}

/// Add `tasks/<file>` to the listing; a file that looks meant as a WP but is not read as one
/// is reported, so a misnamed WP does not silently vanish from the board.
fn add_task_file(listing: &mut FeatureListing, file: &str, problems: &mut Vec<Problem>) {
    if !listing.add_file(&format!("tasks/{file}")) && looks_like_a_wp_file(file) {
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
}

/// `wp01-x.md`, `WP02-x.MD`: probably meant as a WP file, but not one.
fn looks_like_a_wp_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("wp") && lower.ends_with(".md")
}

fn is_regular_file(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file())
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
