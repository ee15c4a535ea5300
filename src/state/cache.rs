//! A cache of decoded state commits, keyed by commit id.
//!
//! A state ref's tip is an immutable commit, so "ref still points at commit C" means "the
//! cached decode of C is still right": there is no invalidation to get wrong. The cache saves
//! reading thousands of loose objects (one open, read and inflate each) on every `status`;
//! see docs/performance.md. One file, `<git-common-dir>/kitty/state.cache`, with a section
//! per feature (`util::cache_file`), written atomically; any problem with it (missing,
//! corrupt, other version, read-only repository) means reading the objects.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::schema::{Event, SCHEMA, WpState};
use crate::git::{Oid, parse_oid};
use crate::util::cache_file::PerFeature;

/// A fingerprint of the code that decodes what is cached (see the plan cache).
const CODE: u64 = crate::util::cache_file::fingerprint(&[
    include_bytes!("cache.rs"),
    include_bytes!("../util/cache_file.rs"),
    include_bytes!("schema.rs"),
    include_bytes!("../model/lane.rs"),
    include_bytes!("../model/ids.rs"),
]);

fn version() -> String {
    format!(
        "state-cache 2, schema {SCHEMA}, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Serialize, Deserialize)]
struct Entry {
    commit: String,
    event: Event,
    state: WpState,
}

pub struct StateCache(PerFeature<Entry>);

impl StateCache {
    /// Open the cache files of `features`. `KITTY_NO_CACHE=1` disables it.
    pub fn open(common_dir: &Path, features: &[&str]) -> StateCache {
        StateCache(PerFeature::open(
            common_dir,
            "state.cache",
            version(),
            features,
        ))
    }

    /// The decoded event and state of `commit`, if cached for this WP.
    pub fn get(&self, feature: &str, wp: &str, commit: Oid) -> Option<(Event, WpState)> {
        let entry = self.0.get(feature, wp)?;
        let cached = parse_oid(&entry.commit)?;
        (cached == commit).then(|| (entry.event.clone(), entry.state.clone()))
    }

    pub fn put(&mut self, feature: &str, wp: &str, commit: Oid, event: &Event, state: &WpState) {
        if !self.0.enabled() {
            return;
        }
        let entry = Entry {
            commit: commit.to_string(),
            event: event.clone(),
            state: state.clone(),
        };
        self.0.insert(feature, wp, entry);
    }

    /// Forget WPs of `feature` that no longer have a ref.
    pub fn retain(&mut self, feature: &str, present: &[&str]) {
        self.0.retain(feature, |k| present.contains(&k));
    }

    /// Write the features that changed (temp file, then rename). Failures are ignored.
    pub fn save(self) {
        self.0.save();
    }
}
