//! A cache of what the plan's files say, keyed by file stat, like git's index.
//!
//! Parsing is nearly all the cost of reading a plan (docs/performance.md): the YAML of each WP
//! file, Spec Kitty's event logs (megabytes of JSON lines in a real repository) and
//! `meta.json`. A plan changes a few files at a time, so what each file says is kept in
//! `<git-common-dir>/kitty/plan.cache`, one section per feature (`util::cache_file`). An entry
//! is used only when the file's size, mtime, ctime and inode are unchanged. Racy writes (a
//! file changed twice within the timestamp granularity) are avoided as git does: a file
//! modified less than two seconds before it was read is never stored.
//!
//! An event log that only grew (same inode, larger, its old bytes unchanged: checked by a hash
//! of them) is not replayed again: the cached replay goes on with the new lines
//! (`spec_kitty::Replay::continue_with`), which gives what a full replay gives.
//!
//! The cache is disposable: unreadable, from another version, or unwritable (a read-only
//! clone) simply means reading the files again.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::plan::{FileJob, FileRead};
use crate::model::spec_kitty::Replay;
use crate::util::cache_file::Sections;
use crate::util::hash::FxHashMap;

/// A fingerprint of the code that produces what is cached: any change to it (a new build
/// that parses differently) makes older cache files unusable.
const CODE: u64 = crate::util::cache_file::fingerprint(&[
    include_bytes!("plan_cache.rs"),
    include_bytes!("../util/cache_file.rs"),
    include_bytes!("../model/frontmatter.rs"),
    include_bytes!("../model/wp.rs"),
    include_bytes!("../model/plan.rs"),
    include_bytes!("../model/spec_kitty.rs"),
    include_bytes!("../model/ids.rs"),
    include_bytes!("../model/lane.rs"),
    include_bytes!("../model/problem.rs"),
    include_bytes!("../util/time.rs"),
]);

const FILE: &str = "plan.cache";

fn version() -> String {
    format!(
        "plan-cache 2, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How recently a file may have changed and still be cached (racy-git protection).
const SETTLE_NANOS: i128 = 2_000_000_000;

/// Written as an array (`[size, mtime, ctime, ino]`), read back by the derived `Deserialize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub struct Stamp {
    size: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
}

impl Serialize for Stamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.size, self.mtime, self.ctime, self.ino).serialize(s)
    }
}

impl Stamp {
    pub fn of(path: &Path) -> Option<Stamp> {
        std::fs::symlink_metadata(path)
            .ok()
            .map(|m| Stamp::from(&m))
    }

    /// The stamp of `path` when it is a regular file (not a symlink, not a folder).
    pub fn of_regular_file(path: &Path) -> Option<Stamp> {
        let m = std::fs::symlink_metadata(path).ok()?;
        m.is_file().then(|| Stamp::from(&m))
    }

    fn from(m: &std::fs::Metadata) -> Stamp {
        Stamp {
            size: m.size(),
            mtime: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
            ino: m.ino(),
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Changed long enough before `now` to be cached (see the module docs).
    fn settled(&self, now: i128) -> bool {
        now - self.mtime >= SETTLE_NANOS && now - self.ctime >= SETTLE_NANOS
    }
}

/// One cached file: its stamp, the length and hash of the bytes read (event logs, to go on
/// from them), what it says. A section is an array of `[path, stamp, hash, read]`.
type Entry = (Stamp, Option<Hashed>, FileRead);

/// The length of the bytes read and their [`content_hash`](crate::util::cache_file::content_hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashed {
    pub len: u64,
    pub hash: u64,
}

/// A section: the entries of one feature's files, by repository-relative path.
type Section = FxHashMap<String, Entry>;

/// Where a cached event log can go on from: the bytes read then, and their replay.
pub struct Prefix {
    pub read: Hashed,
    pub replay: Replay,
}

/// The cached entries of the features being read.
pub struct PlanCache {
    file: Sections,
    sections: HashMap<String, Section>,
}

impl PlanCache {
    /// Open the cache under `common_dir` and decode the sections of `features`.
    /// `KITTY_NO_CACHE=1` disables it.
    pub fn open(common_dir: &Path, features: &[&str]) -> PlanCache {
        let file = Sections::open(common_dir, FILE, version());
        let sections = file.decode::<Vec<(String, Stamp, Option<Hashed>, FileRead)>>(features);
        PlanCache {
            file,
            sections: sections
                .into_iter()
                .map(|(f, entries)| {
                    let entries = entries.into_iter().map(|(p, s, h, r)| (p, (s, h, r)));
                    (f, entries.collect())
                })
                .collect(),
        }
    }

    /// The cached read of a file whose stamp has not changed (moved out of the cache).
    pub fn take(&mut self, job: &FileJob, stamp: Stamp) -> Option<(FileRead, Option<Hashed>)> {
        let section = self.sections.get_mut(job.feature)?;
        if section.get(job.path)?.0 != stamp {
            return None;
        }
        section.remove(job.path).map(|(_, hash, read)| (read, hash))
    }

    /// The cached replay of an event log that may only have grown since: same inode, larger.
    /// The caller checks the old bytes against [`Prefix::read`].
    pub fn take_prefix(&mut self, job: &FileJob, stamp: Stamp) -> Option<Prefix> {
        let section = self.sections.get_mut(job.feature)?;
        let (old, ..) = section.get(job.path)?;
        if old.ino != stamp.ino || old.size >= stamp.size {
            return None;
        }
        match section.remove(job.path)? {
            (_, Some(read), FileRead::Events(replay)) => Some(Prefix { read, replay }),
            _ => None,
        }
    }

    /// Write the sections that changed. `reads` holds, for each job of `jobs`, what was read,
    /// its stamp, the hash of its bytes (event logs) and whether it came from the cache.
    /// `complete`: every feature was read, so the sections of features that are gone are
    /// dropped. Failures are ignored.
    pub fn save(self, jobs: &[FileJob], reads: &[Loaded], complete: bool) {
        if !self.file.enabled() {
            return;
        }
        let now = crate::util::time::system_now_nanos();
        let mut stored: HashMap<&str, Vec<EntryRef>> = HashMap::new();
        let mut dirty: Vec<&str> = Vec::new();
        for (job, loaded) in jobs.iter().zip(reads) {
            let Some(stamp) = loaded.stamp.filter(|s| loaded.cached || s.settled(now)) else {
                continue;
            };
            if !loaded.cached && !dirty.contains(&job.feature) {
                dirty.push(job.feature);
            }
            let entry = (job.path, stamp, loaded.hash, &loaded.read);
            stored.entry(job.feature).or_default().push(entry);
        }
        // Entries left in a section were not used: their files changed or are gone.
        for (feature, left) in &self.sections {
            if !left.is_empty() && !dirty.contains(&feature.as_str()) {
                dirty.push(feature);
            }
        }
        let listed: HashSet<&str> = jobs.iter().map(|j| j.feature).collect();
        let dropped = complete && self.file.names().any(|n| !listed.contains(n));
        if dirty.is_empty() && !dropped {
            return;
        }
        let changed = dirty
            .iter()
            .map(|f| {
                let json = stored.get(f).and_then(|e| serde_json::to_vec(e).ok());
                ((*f).to_owned(), json)
            })
            .collect();
        self.file
            .save(changed, &|name| !complete || listed.contains(&name));
    }
}

/// What one job gave, as [`PlanCache::save`] needs it.
pub struct Loaded {
    pub read: FileRead,
    pub stamp: Option<Stamp>,
    pub hash: Option<Hashed>,
    /// Taken from the cache unchanged.
    pub cached: bool,
}

/// An entry as written: `[path, stamp, hash, read]`.
type EntryRef<'a> = (&'a str, Stamp, Option<Hashed>, &'a FileRead);
