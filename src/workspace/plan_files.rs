//! Listing the plan's files in a working tree, with one `stat` per file read: the stamps
//! the plan cache compares are taken here, and nothing else of a feature folder is looked at
//! than `tasks/`, `status.events.jsonl` and `meta.json`.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use rustix::fs::{AtFlags, FileType, RawDir};

use super::plan_cache::Stamp;
use crate::model::plan::{FeatureListing, SPECS_DIR, is_wp_file_name};
use crate::model::problem::{Code, Problem};
use crate::util::cache_file::Sections;
use crate::util::codec::{Reader, Writer};
use crate::util::parallel::in_parallel;

/// The plan's files as found on disk.
pub struct Listed {
    pub listings: Vec<FeatureListing>,
    pub problems: Vec<Problem>,
    /// The stamps of each listing's files, in [`FeatureListing::files`] order (`None`: not
    /// stamped here, or gone).
    pub stamps: Vec<Vec<Option<Stamp>>>,
    /// Every folder under `kitty-specs/`, listed or not (for "did you mean" hints).
    pub feature_names: Vec<String>,
}

/// List `kitty-specs/*/` under `root` (only the feature `only` when given): WP files in
/// `tasks/`, Spec Kitty's event log and meta file. Only regular files count: a symlink could
/// point outside the repository.
///
/// Folders are opened without following symlinks (`O_NOFOLLOW`) and files stamped relative
/// to them: one `stat` per file read and an `open`, a listing and a `close` per `tasks/`
/// folder, no separate symlink check (docs/performance.md).
///
/// `stamped(feature)`: whether the WP files of a feature are stamped here (the plan cache has
/// a section to compare them with). Those of the others get no stamp: they are read anyway,
/// and stamped through the handle they are read from (one path walk instead of two).
pub fn list(
    root: &Path,
    cache_dir: &Path,
    only: Option<&str>,
    stamped: &(dyn Fn(&str) -> bool + Sync),
) -> Listed {
    let mut problems = Vec::new();
    let specs = match open_dir(rustix::fs::CWD, &root.join(SPECS_DIR)) {
        Ok(fd) => Some(fd),
        Err(Opened::Symlink) => {
            problems.push(ignored_symlink(SPECS_DIR));
            None
        }
        Err(Opened::Missing) => None,
        Err(Opened::Failed(e)) => {
            problems.push(
                Problem::new(Code::UnreadableFile, format!("cannot list features: {e}"))
                    .at(SPECS_DIR, None),
            );
            None
        }
    };
    let feature_names = match &specs {
        Some(fd) => feature_names(fd, &mut problems),
        None => Vec::new(),
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
    if let Some(specs) = &specs {
        let cache = Sections::open(cache_dir, LISTING_CACHE, listing_cache_version());
        let now = crate::util::time::system_now_nanos();
        let mut changed = Vec::new();
        for (name, (listing, problems, stamps), fresh) in wanted
            .iter()
            .zip(in_parallel(&wanted, &|name: &&String| {
                let mut problems = Vec::new();
                let (listing, stamps, fresh) = list_feature(
                    specs,
                    name,
                    cache.get(name),
                    now,
                    cache.enabled(),
                    stamped(name),
                    &mut problems,
                );
                ((listing, problems, stamps), fresh)
            }))
            .map(|(name, (listed, fresh))| (name, listed, fresh))
        {
            listed.listings.push(listing);
            listed.problems.extend(problems);
            listed.stamps.push(stamps);
            if let Some(fresh) = fresh {
                changed.push(((*name).clone(), fresh));
            }
        }
        let present: std::collections::HashSet<&str> =
            feature_names.iter().map(String::as_str).collect();
        let gone = only.is_none() && cache.names().any(|n| !present.contains(n));
        if !changed.is_empty() || gone {
            // Written while the plan is read (a first run lists every feature afresh).
            let present: std::collections::HashSet<String> =
                present.into_iter().map(str::to_owned).collect();
            let all = only.is_none();
            crate::util::background::run(move || {
                cache.save(changed, &|n| !all || present.contains(n));
            });
        }
    }
    listed.feature_names = feature_names;
    listed
}

/// Why a folder could not be opened.
enum Opened {
    /// It is a symbolic link (not followed).
    Symlink,
    /// It does not exist, or is not a folder.
    Missing,
    Failed(io::Error),
}

/// Open the folder `path` (relative to `dir`) for listing, not following a symlink.
fn open_dir(dir: impl AsFd + Copy, path: &Path) -> Result<OwnedFd, Opened> {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags, statat};
    use rustix::io::Errno;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, path, flags, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::NOENT) => Err(Opened::Missing),
        // A symlink (ELOOP, or ENOTDIR with O_DIRECTORY) or a file: look (rare).
        Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
            match statat(dir, path, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                    Err(Opened::Symlink)
                }
                Ok(_) => Err(Opened::Failed(e.into())),
                Err(_) => Err(Opened::Missing),
            }
        }
        Err(e) => Err(Opened::Failed(e.into())),
    }
}

/// Each entry of the open folder `dir` (`.` and `..` skipped): its name (lossily UTF-8 with
/// `lossy`, else names that are not UTF-8 are skipped) and its type (from the listing; a
/// `stat` only when the file system does not say).
fn entries(dir: &OwnedFd, lossy: bool, each: &mut dyn FnMut(String, FileType)) {
    let mut buf = [MaybeUninit::<u8>::uninit(); 16 * 1024];
    let mut iter = RawDir::new(dir, &mut buf);
    while let Some(Ok(entry)) = iter.next() {
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        let name = match std::str::from_utf8(name) {
            Ok(name) => name.to_owned(),
            Err(_) if lossy => String::from_utf8_lossy(name).into_owned(),
            Err(_) => continue,
        };
        let kind = match entry.file_type() {
            FileType::Unknown => rustix::fs::statat(dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
                .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode)),
            kind => kind,
        };
        each(name, kind);
    }
}

/// The feature folders in `specs`, sorted; hidden entries and files are skipped, symlinks
/// reported.
fn feature_names(specs: &OwnedFd, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut names = Vec::new();
    entries(specs, true, &mut |name, kind| {
        if name.starts_with('.') || kind != FileType::Directory {
            if kind == FileType::Symlink {
                problems.push(ignored_symlink(&format!("{SPECS_DIR}/{name}")));
            }
            return;
        }
        names.push(name);
    });
    names.sort();
    names
}

/// The files git kitty reads in one feature folder, and their stamps in
/// [`FeatureListing::files`] order. `tasks/` is listed again only when its stamp differs from
/// the one `cached` was listed at (a folder's mtime changes whenever an entry is added,
/// removed or renamed, as git's untracked cache relies on); a fresh listing comes back
/// encoded for the cache (`None`: nothing to store; `keeps`: a cache keeps listings).
fn list_feature(
    specs: &OwnedFd,
    name: &str,
    cached: Option<&[u8]>,
    now: i128,
    keeps: bool,
    stamp_wps: bool,
    problems: &mut Vec<Problem>,
) -> (FeatureListing, Vec<Option<Stamp>>, Fresh) {
    let mut listing = FeatureListing::new(name);
    let mut extra = Vec::new();
    for rel in ["status.events.jsonl", "meta.json"] {
        if let Some((stamp, FileType::RegularFile)) = Stamp::at(specs, &format!("{name}/{rel}")) {
            listing.add_file(rel);
            extra.push(Some(stamp));
        }
    }
    let tasks_path = format!("{name}/tasks");
    let tasks = Tasks {
        specs,
        path: &tasks_path,
        dir: &listing.dir,
    };
    let (entries, fresh) = match cached {
        // Nothing to compare with: the folder is opened straight away, and stamped through
        // its handle (one path walk, not two) when a cache will keep the stamp.
        None => {
            let (entries, stamp) = tasks.list(keeps, problems);
            let fresh = stamp.map(|s| s.settled(now).then(|| encode_tasks(s, &entries)));
            (entries, fresh)
        }
        Some(cached) => match Stamp::at(specs, &tasks_path) {
            Some((_, FileType::Symlink)) => {
                problems.push(ignored_symlink(&format!("{}/tasks", listing.dir)));
                (Vec::new(), Some(None))
            }
            Some((stamp, FileType::Directory)) => match decode_tasks(Some(cached), stamp) {
                Some(entries) => (entries, None),
                None => {
                    let (entries, _) = tasks.list(false, problems);
                    let keep = stamp.settled(now).then(|| encode_tasks(stamp, &entries));
                    (entries, Some(keep))
                }
            },
            _ => (Vec::new(), Some(None)),
        },
    };
    let mut stamps = Vec::with_capacity(entries.len() + extra.len());
    for (file, symlink) in entries {
        if symlink {
            problems.push(ignored_symlink(&format!("{}/tasks/{file}", listing.dir)));
        } else if add_task_file(&mut listing, &file, problems) {
            // Only WP files are read, so only they are stamped.
            stamps.push(
                stamp_wps
                    .then(|| Stamp::at(specs, &format!("{tasks_path}/{file}")))
                    .flatten()
                    .map(|(s, _)| s),
            );
        }
    }
    stamps.extend(extra);
    (listing, stamps, fresh)
}

/// What a feature's listing changes in the cache: `None` nothing; `Some(None)` its section
/// goes (no `tasks/`, or listed too soon after a change to be trusted); `Some(Some(bytes))`
/// the new section.
type Fresh = Option<Option<Vec<u8>>>;

/// A feature's `tasks/` folder: `path` under `specs`, `dir` the feature's folder as problems
/// name it.
struct Tasks<'a> {
    specs: &'a OwnedFd,
    path: &'a str,
    dir: &'a str,
}

impl Tasks<'_> {
    /// The entries that matter, sorted by name: regular files named like WP files (or
    /// nearly: they are reported), and symlinks named `WP*` (`true`: reported, not read);
    /// with `stamped`, the folder's stamp too (`None`: there is no folder).
    fn list(
        &self,
        stamped: bool,
        problems: &mut Vec<Problem>,
    ) -> (Vec<(String, bool)>, Option<Stamp>) {
        let tasks = match open_dir(self.specs, Path::new(self.path)) {
            Ok(fd) => fd,
            Err(Opened::Symlink) => {
                problems.push(ignored_symlink(&format!("{}/tasks", self.dir)));
                return (Vec::new(), None);
            }
            Err(_) => return (Vec::new(), None),
        };
        let stamp = stamped
            .then(|| Stamp::of_open(&tasks))
            .flatten()
            .map(|(s, _)| s);
        (entries_that_matter(&tasks), stamp)
    }
}

/// See [`Tasks::list`].
fn entries_that_matter(tasks: &OwnedFd) -> Vec<(String, bool)> {
    let mut files = Vec::new();
    entries(tasks, false, &mut |name, kind| {
        let symlink = kind == FileType::Symlink && name.starts_with("WP");
        let file = kind == FileType::RegularFile
            && (is_wp_file_name(&name) || looks_like_a_wp_file(&name));
        if symlink || file {
            files.push((name, symlink));
        }
    });
    files.sort_unstable();
    files
}

/// The cache of `tasks/` listings: one section per feature, the folder's stamp and its
/// entries as [`Tasks::list`] gives them.
const LISTING_CACHE: &str = "listing.cache";

fn listing_cache_version() -> String {
    const CODE: u64 = crate::util::cache_file::fingerprint(&[
        include_bytes!("plan_files.rs"),
        include_bytes!("plan_cache.rs"),
        include_bytes!("../util/codec.rs"),
        include_bytes!("../model/plan.rs"),
    ]);
    format!(
        "listing-cache 1, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

fn encode_tasks(stamp: Stamp, entries: &[(String, bool)]) -> Vec<u8> {
    let mut w = Writer::default();
    w.put(&stamp);
    w.put(entries);
    w.bytes
}

/// The cached entries of `tasks/` when they were listed at `stamp`.
fn decode_tasks(bytes: Option<&[u8]>, stamp: Stamp) -> Option<Vec<(String, bool)>> {
    let mut r = Reader::new(bytes?);
    if r.get::<Stamp>()? != stamp {
        return None;
    }
    let entries = r.get()?;
    r.is_done().then_some(entries)
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
