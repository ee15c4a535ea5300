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

use std::collections::HashMap;
use std::path::Path;

use crate::model::plan::{FileJob, FileRead};
use crate::model::spec_kitty::Replay;
use crate::util::cache_file::Sections;
use crate::util::codec::{Decode, Encode, Reader, Writer};
use crate::util::hash::FxHashSet;
use crate::util::parallel::in_parallel;

/// A fingerprint of the code that produces what is cached: any change to it (a new build
/// that parses differently) makes older cache files unusable.
const CODE: u64 = crate::util::cache_file::fingerprint(&[
    include_bytes!("plan_cache.rs"),
    include_bytes!("../util/cache_file.rs"),
    include_bytes!("../util/codec.rs"),
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
        "plan-cache 3, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How recently a file may have changed and still be cached (racy-git protection).
const SETTLE_NANOS: i128 = 2_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
}

impl Encode for Stamp {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.size);
        w.put(&self.mtime);
        w.put(&self.ctime);
        w.put(&self.ino);
    }
}

impl Decode for Stamp {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some(Stamp {
            size: r.get()?,
            mtime: r.get()?,
            ctime: r.get()?,
            ino: r.get()?,
        })
    }
}

impl Stamp {
    /// The stamp of `name` in the folder `dir` (a symlink is not followed), and its type: one `stat` relative to a folder handle, the way the listing stamps
    /// without building full paths.
    pub fn at(dir: impl rustix::fd::AsFd, name: &str) -> Option<(Stamp, rustix::fs::FileType)> {
        let st = rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
        let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
        // Through i128: the field types differ between architectures.
        let whole = |secs: i128, nanos: i128| secs * 1_000_000_000 + nanos;
        let stamp = Stamp {
            size: u64::try_from(i128::from(st.st_size)).unwrap_or(0),
            mtime: whole(i128::from(st.st_mtime), i128::from(st.st_mtime_nsec)),
            ctime: whole(i128::from(st.st_ctime), i128::from(st.st_ctime_nsec)),
            ino: u64::try_from(i128::from(st.st_ino)).unwrap_or(0),
        };
        Some((stamp, kind))
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Changed long enough before `now` to be cached (see the module docs).
    pub(super) fn settled(&self, now: i128) -> bool {
        now - self.mtime >= SETTLE_NANOS && now - self.ctime >= SETTLE_NANOS
    }
}

/// One cached file: its stamp, the length and hash of the bytes read (event logs, to go on
/// from them), what it says. A section is a sequence of `path, stamp, hash, read`.
type Entry = (Stamp, Option<Hashed>, FileRead);

/// The length of the bytes read and their [`content_hash`](crate::util::cache_file::content_hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hashed {
    pub len: u64,
    pub hash: u64,
}

impl Encode for Hashed {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.len);
        w.put(&self.hash);
    }
}

impl Decode for Hashed {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some(Hashed {
            len: r.get()?,
            hash: r.get()?,
        })
    }
}

/// A section as written: the entries in job order.
fn encode_section(entries: &[EntryRef]) -> Vec<u8> {
    let mut w = Writer::default();
    w.uint(entries.len() as u64);
    for (path, stamp, hash, read) in entries {
        w.put(*path);
        w.put(stamp);
        w.put(hash);
        w.put(*read);
    }
    w.bytes
}

/// A feature's section read against its jobs (in the same order as written, so a walk
/// matches them without hashing or allocating paths): the entry of each job, if any, and
/// whether the section holds more (files gone since) or is damaged.
fn decode_section(bytes: Option<&[u8]>, jobs: &[FileJob]) -> (Vec<Option<Entry>>, bool) {
    let mut out: Vec<Option<Entry>> = std::iter::repeat_with(|| None).take(jobs.len()).collect();
    let Some(bytes) = bytes else {
        return (out, false);
    };
    let mut r = Reader::new(bytes);
    let mut stale = false;
    let mut next = 0;
    let read_all = (|| {
        for _ in 0..r.usize()? {
            let path = r.str()?;
            let entry: Entry = (r.get()?, r.get()?, r.get()?);
            match jobs[next..].iter().position(|j| j.path == path) {
                Some(k) => {
                    out[next + k] = Some(entry);
                    next += k + 1;
                }
                None => stale = true,
            }
        }
        r.is_done().then_some(())
    })();
    if read_all.is_none() {
        out.iter_mut().for_each(|e| *e = None);
        return (out, true);
    }
    (out, stale)
}

/// Where a cached event log can go on from: the bytes read then, and their replay.
pub struct Prefix {
    pub read: Hashed,
    pub replay: Replay,
}

/// The cached entries of the files being read.
pub struct PlanCache {
    file: Sections,
    /// For each job, in job order, its cache entry (taken out when used).
    entries: Vec<Option<Entry>>,
    /// Features whose section must be written again even if nothing else changes: it holds
    /// files that are gone, or is damaged.
    stale: Vec<String>,
}

impl PlanCache {
    /// Open the cache under `common_dir` and decode the sections of the features of `jobs`
    /// (in parallel). `KITTY_NO_CACHE=1` disables it.
    pub fn open(common_dir: &Path, jobs: &[FileJob]) -> PlanCache {
        let file = Sections::open(common_dir, FILE, version());
        let mut groups: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
        for (i, job) in jobs.iter().enumerate() {
            match groups.last_mut() {
                Some((feature, range)) if *feature == job.feature => range.end = i + 1,
                _ => groups.push((job.feature, i..i + 1)),
            }
        }
        let decoded = in_parallel(&groups, &|(feature, range): &(
            &str,
            std::ops::Range<usize>,
        )| {
            decode_section(file.get(feature), &jobs[range.clone()])
        });
        let mut entries = Vec::with_capacity(jobs.len());
        let mut stale = Vec::new();
        for ((feature, _), (part, is_stale)) in groups.iter().zip(decoded) {
            entries.extend(part);
            if is_stale {
                stale.push((*feature).to_owned());
            }
        }
        PlanCache {
            file,
            entries,
            stale,
        }
    }

    /// Whether what is read now will be stored (`KITTY_NO_CACHE` unset).
    pub fn enabled(&self) -> bool {
        self.file.enabled()
    }

    /// The cached read of job `i` when its file's stamp has not changed (moved out).
    pub fn take(&mut self, i: usize, stamp: Stamp) -> Option<(FileRead, Option<Hashed>)> {
        let slot = self.entries.get_mut(i)?;
        if slot.as_ref()?.0 != stamp {
            return None;
        }
        slot.take().map(|(_, hash, read)| (read, hash))
    }

    /// The cached replay of job `i`'s event log when it may only have grown since: same
    /// inode, larger. The caller checks the old bytes against [`Prefix::read`].
    pub fn take_prefix(&mut self, i: usize, stamp: Stamp) -> Option<Prefix> {
        let slot = self.entries.get_mut(i)?;
        let (old, ..) = slot.as_ref()?;
        if old.ino != stamp.ino || old.size >= stamp.size {
            return None;
        }
        match slot.take()? {
            (_, Some(read), FileRead::Events(replay)) => Some(Prefix {
                read,
                replay: *replay,
            }),
            _ => None,
        }
    }

    /// Write the sections that changed. `reads` and `meta` hold, for each job of `jobs`,
    /// what was read and how. `complete`: every feature was read, so the sections of
    /// features that are gone are dropped. Failures are ignored.
    pub fn save(self, jobs: &[FileJob], reads: &[FileRead], meta: &[Loaded], complete: bool) {
        if !self.file.enabled() {
            return;
        }
        let now = crate::util::time::system_now_nanos();
        let mut stored: HashMap<&str, Vec<EntryRef>> = HashMap::new();
        let mut dirty: Vec<&str> = self.stale.iter().map(String::as_str).collect();
        for (i, (job, loaded)) in jobs.iter().zip(meta).enumerate() {
            // An entry left in the cache was not used: its file changed.
            if self.entries[i].is_some() && !dirty.contains(&job.feature) {
                dirty.push(job.feature);
            }
            let Some(stamp) = loaded.stamp.filter(|s| loaded.cached || s.settled(now)) else {
                continue;
            };
            if !loaded.cached && !dirty.contains(&job.feature) {
                dirty.push(job.feature);
            }
            let entry = (job.path, stamp, loaded.hash, &reads[i]);
            stored.entry(job.feature).or_default().push(entry);
        }
        let listed: FxHashSet<&str> = jobs.iter().map(|j| j.feature).collect();
        let dropped = complete && self.file.names().any(|n| !listed.contains(n));
        if dirty.is_empty() && !dropped {
            return;
        }
        let changed = dirty
            .iter()
            .map(|f| {
                let bytes = stored.get(f).map(|e| encode_section(e));
                ((*f).to_owned(), bytes)
            })
            .collect();
        self.file
            .save(changed, &|name| !complete || listed.contains(&name));
    }
}

/// How one job was read, as [`PlanCache::save`] needs it.
#[derive(Clone, Copy)]
pub struct Loaded {
    pub stamp: Option<Stamp>,
    pub hash: Option<Hashed>,
    /// Taken from the cache unchanged.
    pub cached: bool,
}

/// An entry as written: `[path, stamp, hash, read]`.
type EntryRef<'a> = (&'a str, Stamp, Option<Hashed>, &'a FileRead);
