//! A cache of parsed WP files, keyed by file stat, like git's index.
//!
//! YAML parsing is nearly all the cost of reading a plan (docs/performance.md), and a plan
//! changes a few files at a time, so each feature's parsed files are kept in
//! `<git-common-dir>/kitty/plan-cache/<feature>.json`. An entry is used only when the file's
//! size, mtime, ctime and inode are unchanged. Racy writes (a file changed twice within the
//! timestamp granularity) are avoided as git does: a file modified less than two seconds
//! before it was read is never stored. The cache is disposable: unreadable, from another
//! version, or unwritable (a read-only clone) simply means parsing again.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::model::plan::Parsed;
use crate::model::problem::Problem;
use crate::model::wp::WorkPackage;
use crate::util::cache_file::PerFeature;

/// A fingerprint of the code that produces what is cached: any change to it (a new build
/// that parses differently) makes older cache files unusable.
const CODE: u64 = crate::util::cache_file::fingerprint(&[
    include_bytes!("plan_cache.rs"),
    include_bytes!("../util/cache_file.rs"),
    include_bytes!("../model/frontmatter.rs"),
    include_bytes!("../model/wp.rs"),
    include_bytes!("../model/ids.rs"),
    include_bytes!("../model/lane.rs"),
    include_bytes!("../model/problem.rs"),
]);

fn version() -> String {
    format!(
        "plan-cache 1, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How recently a file may have changed and still be cached (racy-git protection).
const SETTLE_NANOS: i128 = 2_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    size: u64,
    mtime: i128,
    ctime: i128,
    ino: u64,
}

impl Stamp {
    pub fn of(path: &Path) -> Option<Stamp> {
        let m = std::fs::symlink_metadata(path).ok()?;
        Some(Stamp {
            size: m.size(),
            mtime: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
            ctime: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
            ino: m.ino(),
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    wp: Option<WorkPackage>,
    problems: Vec<Problem>,
}

/// The cached entries of the features being read, and what changed.
pub struct PlanCache(PerFeature<Entry>);

impl PlanCache {
    /// Open the cache under `common_dir` for `features`. `KITTY_NO_CACHE=1` disables it.
    pub fn open(common_dir: &Path, features: &[&str]) -> PlanCache {
        PlanCache(PerFeature::open(
            common_dir,
            "plan-cache",
            version(),
            features,
        ))
    }

    /// The cached parse of `rel` (in `feature`) if the file has not changed.
    pub fn get(&self, feature: &str, rel: &str, stamp: Option<Stamp>) -> Option<Parsed> {
        let entry = self.0.get(feature, rel)?;
        (Some(entry.stamp) == stamp).then(|| (entry.wp.clone(), entry.problems.clone()))
    }

    /// Remember a fresh parse, if the file has settled (see the module docs).
    pub fn put(
        &mut self,
        feature: &str,
        rel: &str,
        stamp: Option<Stamp>,
        parsed: &Parsed,
        now: i128,
    ) {
        let Some(stamp) = stamp.filter(|_| self.0.enabled()) else {
            return;
        };
        if now - stamp.mtime < SETTLE_NANOS || now - stamp.ctime < SETTLE_NANOS {
            return;
        }
        let entry = Entry {
            stamp,
            wp: parsed.0.clone(),
            problems: parsed.1.clone(),
        };
        self.0.insert(feature, rel, entry);
    }

    /// Forget entries of `feature` whose files are gone.
    pub fn retain(&mut self, feature: &str, present: &[String]) {
        self.0.retain(feature, |k| present.iter().any(|p| p == k));
    }

    /// Write the features that changed: a temp file renamed into place, so readers never
    /// see half a file and concurrent writers cannot corrupt it. Failures are ignored.
    pub fn save(self) {
        self.0.save();
    }
}
