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
//! A feature none of whose files changed is not even assembled again: its section also keeps
//! the feature as assembled then (`Plan::assemble_cached`), used only when every file it was
//! assembled from is listed now, in the same order, with the same stamp. The entries of its
//! files are then not decoded at all.
//!
//! The cache is disposable: unreadable, from another version, or unwritable (a read-only
//! clone) simply means reading the files again.

use std::collections::HashMap;
use std::path::Path;

use crate::model::plan::{Assembled, FileJob, FileRead};
use crate::model::spec_kitty::Replay;
use crate::util::cache_file::Sections;
use crate::util::codec::{Decode, Encode, Reader, Writer};
use crate::util::hash::{FxHashMap, FxHashSet};
use crate::util::parallel::in_parallel;

/// A fingerprint of the code that produces what is cached: any change to it (a new build
/// that parses differently) makes older cache files unusable.
const CODE: u64 = crate::util::cache_file::fingerprint(&[
    include_bytes!("plan_cache.rs"),
    include_bytes!("../util/cache_file.rs"),
    include_bytes!("../util/codec.rs"),
    include_bytes!("../model/frontmatter.rs"),
    include_bytes!("../model/plain_yaml.rs"),
    include_bytes!("../model/event_line.rs"),
    include_bytes!("../model/graph.rs"),
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
        "plan-cache 5, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How recently a file may have changed and still be cached (racy-git protection).
const SETTLE_NANOS: i128 = 2_000_000_000;

/// Times are nanoseconds since the epoch, held in `i64` (years 1678 to 2262; others are
/// clamped) and written as `i128`: a stamp is 32 bytes instead of 64 with `i128`'s alignment,
/// and a first run keeps several arrays of one per file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    size: u64,
    mtime: i64,
    ctime: i64,
    ino: u64,
}

/// `nanos` clamped to `i64`.
fn clamped(nanos: i128) -> i64 {
    i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
}

impl Encode for Stamp {
    fn encode(&self, w: &mut Writer) {
        w.put(&self.size);
        w.put(&i128::from(self.mtime));
        w.put(&i128::from(self.ctime));
        w.put(&self.ino);
    }
}

impl Decode for Stamp {
    fn decode(r: &mut Reader) -> Option<Self> {
        Some(Stamp {
            size: r.get()?,
            mtime: clamped(r.get()?),
            ctime: clamped(r.get()?),
            ino: r.get()?,
        })
    }
}

impl Stamp {
    /// The stamp of `name` in the folder `dir` (a symlink is not followed), and its type: one `stat` relative to a folder handle, the way the listing stamps
    /// without building full paths.
    pub fn at(dir: impl rustix::fd::AsFd, name: &str) -> Option<(Stamp, rustix::fs::FileType)> {
        let st = rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).ok()?;
        Some(Stamp::of(&st))
    }

    /// The stamp of a file already open: `fstat` needs no path walk (a first run stamps
    /// the files it reads this way).
    pub fn of_open(file: impl rustix::fd::AsFd) -> Option<(Stamp, rustix::fs::FileType)> {
        Some(Stamp::of(&rustix::fs::fstat(file).ok()?))
    }

    fn of(st: &rustix::fs::Stat) -> (Stamp, rustix::fs::FileType) {
        let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
        // Through i128: the field types differ between architectures.
        let whole = |secs: i128, nanos: i128| secs * 1_000_000_000 + nanos;
        let stamp = Stamp {
            size: u64::try_from(i128::from(st.st_size)).unwrap_or(0),
            mtime: clamped(whole(i128::from(st.st_mtime), i128::from(st.st_mtime_nsec))),
            ctime: clamped(whole(i128::from(st.st_ctime), i128::from(st.st_ctime_nsec))),
            ino: u64::try_from(i128::from(st.st_ino)).unwrap_or(0),
        };
        (stamp, kind)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Changed long enough before `now` to be cached (see the module docs).
    pub(super) fn settled(&self, now: i128) -> bool {
        now - i128::from(self.mtime) >= SETTLE_NANOS && now - i128::from(self.ctime) >= SETTLE_NANOS
    }
}

/// One cached file: its stamp, the length and hash of the bytes read (event logs, to go on
/// from them), what it says.
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

/// A section as written: how many files, each one's `path, stamp, hash` (in job order); the
/// feature as assembled from them ([`Writer::raw`]: empty when not every file was stored);
/// then what each file says, or nothing (a `0` byte; else a `1` before it). The assembled
/// feature comes first so that a reader that uses it stops there, and the length lets one
/// that does not skip it.
///
/// What a WP file says is kept only beside no assembled feature (one of its files was too
/// new to store): once one of its files changes, a feature's WP files are read again, a few
/// kilobytes each (two copies of every WP were ~30 % of the cache). An event log's replay
/// is always kept: a log can be megabytes to read again, and a long one's replay goes on
/// when it only grew.
struct SectionParts {
    heads: Vec<u8>,
    reads: Vec<u8>,
}

fn encode_parts(entries: &[EntryRef], assembled_too: bool) -> SectionParts {
    let mut heads = Writer::default();
    heads.uint(entries.len() as u64);
    let mut reads = Writer::default();
    for (path, stamp, hash, read) in entries {
        heads.put(*path);
        heads.put(stamp);
        heads.put(hash);
        if assembled_too && matches!(read, FileRead::Wp(_)) {
            reads.bytes.push(0);
        } else {
            reads.bytes.push(1);
            reads.put(*read);
        }
    }
    SectionParts {
        heads: heads.bytes,
        reads: reads.bytes,
    }
}

fn join_section(parts: SectionParts, assembled: &[u8]) -> Vec<u8> {
    let mut w = Writer { bytes: parts.heads };
    w.raw(assembled);
    w.bytes.extend_from_slice(&parts.reads);
    w.bytes
}

/// A feature's section read against its jobs (written in the same order, so a walk matches
/// them without hashing or allocating paths) and their current `stamps`.
struct Decoded {
    /// Each job's entry, if any (none at all when `whole` is used).
    entries: Vec<Option<Entry>>,
    /// The feature as assembled, when every job's file is the one it was assembled from.
    whole: Option<Assembled>,
    /// The section holds more (files gone since) or is damaged: write it again.
    stale: bool,
}

fn decode_section(bytes: Option<&[u8]>, jobs: &[FileJob], stamps: &[Option<Stamp>]) -> Decoded {
    let none = || std::iter::repeat_with(|| None).take(jobs.len()).collect();
    let Some(bytes) = bytes else {
        return Decoded {
            entries: none(),
            whole: None,
            stale: false,
        };
    };
    match read_section(bytes, jobs, stamps) {
        Some(decoded) => decoded,
        None => Decoded {
            entries: none(),
            whole: None,
            stale: true,
        },
    }
}

/// [`decode_section`]; `None` when the bytes are damaged.
fn read_section(bytes: &[u8], jobs: &[FileJob], stamps: &[Option<Stamp>]) -> Option<Decoded> {
    let mut r = Reader::new(bytes);
    let count = r.usize()?;
    if count > bytes.len() {
        return None;
    }
    // Where each entry's job is (`None`: its file is gone), and whether each matches the
    // job at its own place with the stamp it has now.
    let mut places = Vec::with_capacity(count);
    let mut heads = Vec::with_capacity(count);
    let mut next = 0;
    let mut unchanged = count == jobs.len();
    for k in 0..count {
        let path = r.str()?;
        let head: (Stamp, Option<Hashed>) = (r.get()?, r.get()?);
        let place = jobs[next..].iter().position(|j| j.path == path).map(|p| {
            next += p + 1;
            next - 1
        });
        unchanged &= place == Some(k) && stamps.get(k).copied().flatten() == Some(head.0);
        places.push(place);
        heads.push(head);
    }
    let assembled = r.raw()?;
    if unchanged && !assembled.is_empty() {
        let mut a = Reader::new(assembled);
        if let Some(whole) = a.get::<Assembled>().filter(|_| a.is_done()) {
            return Some(Decoded {
                entries: std::iter::repeat_with(|| None).take(jobs.len()).collect(),
                whole: Some(whole),
                stale: false,
            });
        }
    }
    let mut entries: Vec<Option<Entry>> =
        std::iter::repeat_with(|| None).take(jobs.len()).collect();
    for (place, (stamp, hash)) in places.iter().zip(heads) {
        let read: Option<FileRead> = match r.byte()? {
            0 => None,
            1 => Some(r.get()?),
            _ => return None,
        };
        if let (Some(i), Some(read)) = (place, read) {
            entries[*i] = Some((stamp, hash, read));
        }
    }
    r.is_done().then_some(Decoded {
        entries,
        whole: None,
        stale: places.iter().any(Option::is_none),
    })
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
    /// The features (by listing) none of whose files changed, as assembled (taken out when
    /// used); their jobs have no entries and need no reading.
    whole: FxHashMap<usize, Assembled>,
    unchanged: FxHashSet<usize>,
    /// The hash of each of those features' sections ([`Self::unchanged_keys`]).
    keys: FxHashMap<usize, u64>,
    /// Features whose section must be written again even if nothing else changes: it holds
    /// files that are gone, or is damaged.
    stale: Vec<String>,
}

/// The plan cache's file under `common_dir` (read before the plan is listed: the files of a
/// feature it has no section for are stamped when they are read, not before).
pub fn file(common_dir: &Path) -> Sections {
    Sections::open(common_dir, FILE, version())
}

impl PlanCache {
    /// Open the cache from its [`file`] and decode the sections of the features of `jobs` (in
    /// parallel), against each job's current stamp. `KITTY_NO_CACHE=1` disables it.
    pub fn open(file: Sections, jobs: &[FileJob], stamps: &[Option<Stamp>]) -> PlanCache {
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
            decode_section(
                file.get(feature),
                &jobs[range.clone()],
                &stamps[range.clone()],
            )
        });
        let mut entries = Vec::with_capacity(jobs.len());
        let mut whole = FxHashMap::default();
        let mut keys = FxHashMap::default();
        let mut stale = Vec::new();
        for ((feature, range), part) in groups.iter().zip(decoded) {
            entries.extend(part.entries);
            if let Some(assembled) = part.whole {
                let listing = jobs[range.start].listing;
                whole.insert(listing, assembled);
                if let Some(hash) = file.hash(feature) {
                    keys.insert(listing, hash);
                }
            }
            if part.stale {
                stale.push((*feature).to_owned());
            }
        }
        PlanCache {
            file,
            entries,
            unchanged: whole.keys().copied().collect(),
            whole,
            keys,
            stale,
        }
    }

    /// Whether what is read now will be stored (`KITTY_NO_CACHE` unset).
    pub fn enabled(&self) -> bool {
        self.file.enabled()
    }

    /// Whether none of the files of listing `listing` changed: its feature comes whole
    /// ([`Self::take_whole`]): its files are neither read nor taken one by one.
    pub fn is_whole(&self, listing: usize) -> bool {
        self.unchanged.contains(&listing)
    }

    /// For each feature that comes whole (by listing), the hash of its section: it names the
    /// feature as assembled (its files, stamps and what they say), so what is computed from
    /// the feature alone can be cached under it (`render::status_json`).
    pub fn unchanged_keys(&self) -> &FxHashMap<usize, u64> {
        &self.keys
    }

    /// The features none of whose files changed, as assembled, by listing (moved out).
    pub fn take_whole(&mut self) -> FxHashMap<usize, Assembled> {
        std::mem::take(&mut self.whole)
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

    /// What to write: the sections that changed, their files' entries encoded now (`reads`
    /// and `meta` hold, for each job of `jobs`, what was read and how; nothing for the jobs
    /// of whole features), their assembled features added by [`Pending::assembled`] before
    /// [`Pending::save`]. `complete`: every feature was read, so the sections of features
    /// that are gone are dropped.
    pub fn pending(
        self,
        jobs: &[FileJob],
        reads: &[FileRead],
        meta: &[Loaded],
        complete: bool,
    ) -> Pending {
        let mut pending = Pending {
            sections: Vec::new(),
            wanted: FxHashSet::default(),
            assembled: FxHashMap::default(),
            keep: Vec::new(),
            complete,
            file: None,
        };
        if !self.file.enabled() {
            return pending;
        }
        let now = crate::util::time::system_now_nanos();
        let mut stored: HashMap<&str, (usize, Vec<EntryRef>, bool)> = HashMap::new();
        // The features to write again, in the order found (a set beside: a first run finds
        // every feature dirty, and a list alone was searched once per file).
        let mut dirty: Vec<&str> = Vec::new();
        let mut is_dirty: FxHashSet<&str> = FxHashSet::default();
        for feature in &self.stale {
            if is_dirty.insert(feature) {
                dirty.push(feature);
            }
        }
        for (i, (job, loaded)) in jobs.iter().zip(meta).enumerate() {
            if self.unchanged.contains(&job.listing) {
                continue;
            }
            // An entry left in the cache was not used: its file changed.
            if self.entries[i].is_some() && is_dirty.insert(job.feature) {
                dirty.push(job.feature);
            }
            let slot = stored
                .entry(job.feature)
                .or_insert_with(|| (job.listing, Vec::new(), true));
            let Some(stamp) = loaded.stamp.filter(|s| loaded.cached || s.settled(now)) else {
                slot.2 = false;
                continue;
            };
            if !loaded.cached && is_dirty.insert(job.feature) {
                dirty.push(job.feature);
            }
            slot.1.push((job.path, stamp, loaded.hash, &reads[i]));
        }
        let listed: FxHashSet<&str> = jobs.iter().map(|j| j.feature).collect();
        let dropped = complete && self.file.names().any(|n| !listed.contains(n));
        if dirty.is_empty() && !dropped {
            return pending;
        }
        // A first run encodes every file's read: on every core.
        let sections = dirty
            .iter()
            .map(|feature| stored.get(feature).filter(|(_, e, _)| !e.is_empty()))
            .collect::<Vec<_>>();
        let parts = in_parallel(&sections, &|section| {
            section.map(|(_, entries, all)| encode_parts(entries, *all))
        });
        for ((feature, section), parts) in dirty.iter().zip(&sections).zip(parts) {
            // The assembled feature only when every file is stored: else it could be used
            // with a file that changed since (one too new to be trusted, say).
            pending.sections.push(Changed {
                feature: (*feature).to_owned(),
                parts,
                listing: section.and_then(|(listing, _, all)| all.then_some(*listing)),
            });
        }
        pending.wanted = pending
            .sections
            .iter()
            .filter(|c| c.parts.is_some())
            .filter_map(|c| c.listing)
            .collect();
        pending.keep = listed.iter().map(|n| (*n).to_owned()).collect();
        pending.file = Some(self.file);
        pending
    }
}

/// A feature's section as it changes.
struct Changed {
    feature: String,
    /// `None`: the section is removed.
    parts: Option<SectionParts>,
    /// The listing whose assembled feature goes in it (`None`: not every file was stored).
    listing: Option<usize>,
}

/// The sections a run writes, waiting for their features to be assembled.
pub struct Pending {
    /// Each changed feature's section.
    sections: Vec<Changed>,
    /// The listings whose assembled feature is kept, and what it encodes to once known.
    wanted: FxHashSet<usize>,
    assembled: FxHashMap<usize, Vec<u8>>,
    /// The features listed now (with `complete`, the others' sections are dropped).
    keep: Vec<String>,
    complete: bool,
    /// `None`: nothing to write.
    file: Option<Sections>,
}

impl Pending {
    /// Whether the section of listing `listing` will keep its assembled feature.
    pub fn wants(&self, listing: usize) -> bool {
        self.file.is_some() && self.wanted.contains(&listing)
    }

    /// Keep `assembled` as listing `listing`'s feature (when [`Self::wants`] it).
    pub fn assembled(&mut self, listing: usize, assembled: &Assembled) {
        if self.wants(listing) {
            let mut w = Writer::default();
            w.put(&assembled.0);
            w.put(&assembled.1);
            self.assembled.insert(listing, w.bytes);
        }
    }

    /// Whether [`Self::save`] has anything to write.
    pub fn has_work(&self) -> bool {
        self.file.is_some()
    }

    /// Write the changed sections. Failures are ignored.
    pub fn save(self) {
        let Some(file) = self.file else {
            return;
        };
        let changed = self
            .sections
            .into_iter()
            .map(|c| {
                let assembled = c.listing.and_then(|l| self.assembled.get(&l));
                let bytes = c
                    .parts
                    .map(|parts| join_section(parts, assembled.map_or(&[][..], Vec::as_slice)));
                (c.feature, bytes)
            })
            .collect();
        let keep: FxHashSet<&str> = self.keep.iter().map(String::as_str).collect();
        file.save(changed, &|name| !self.complete || keep.contains(name));
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
