//! A cache of decoded state commits, keyed by commit id.
//!
//! A state ref's tip is an immutable commit, so "ref still points at commit C" means "the
//! cached decode of C is still right": there is no invalidation to get wrong. The cache saves
//! reading thousands of loose objects (one open, read and inflate each) on every `status`;
//! see docs/performance.md. One file per feature,
//! `<git-common-dir>/kitty/state-cache/<feature>.json`, written atomically; any problem with
//! it (missing, corrupt, other version, read-only repository) means reading the objects.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gix::ObjectId;
use serde::{Deserialize, Serialize};

use super::schema::{Event, SCHEMA, WpState};

/// A fingerprint of the code that decodes what is cached (see the plan cache).
const CODE: u64 = crate::util::cache_file::fingerprint(&[
    include_bytes!("cache.rs"),
    include_bytes!("schema.rs"),
    include_bytes!("../model/lane.rs"),
    include_bytes!("../model/ids.rs"),
]);

fn version() -> String {
    format!(
        "state-cache 1, git-kitty {}, {CODE:016x}",
        env!("CARGO_PKG_VERSION")
    )
}

#[derive(Serialize, Deserialize, Clone)]
struct Entry {
    commit: String,
    event: Event,
    state: WpState,
}

#[derive(Serialize, Deserialize, Default)]
struct FeatureFile {
    version: String,
    schema: u32,
    /// By WP id.
    entries: HashMap<String, Entry>,
}

pub struct StateCache {
    dir: Option<PathBuf>,
    features: HashMap<String, FeatureFile>,
    dirty: Vec<String>,
}

impl StateCache {
    /// Open the cache files of `features`. `KITTY_NO_CACHE=1` disables it.
    pub fn open(common_dir: &Path, features: &[&str]) -> StateCache {
        let dir = (!crate::util::cache_file::disabled())
            .then(|| common_dir.join("kitty").join("state-cache"));
        let version = version();
        let mut loaded = HashMap::new();
        if let Some(dir) = &dir {
            for f in features {
                let file = std::fs::read(dir.join(format!("{f}.json")))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<FeatureFile>(&b).ok())
                    .filter(|c| c.version == version && c.schema == SCHEMA)
                    .unwrap_or_default();
                loaded.insert((*f).to_owned(), file);
            }
        }
        StateCache {
            dir,
            features: loaded,
            dirty: Vec::new(),
        }
    }

    /// The decoded event and state of `commit`, if cached for this WP.
    pub fn get(&self, feature: &str, wp: &str, commit: ObjectId) -> Option<(Event, WpState)> {
        let entry = self.features.get(feature)?.entries.get(wp)?;
        let cached = ObjectId::from_hex(entry.commit.as_bytes()).ok()?;
        (cached == commit).then(|| (entry.event.clone(), entry.state.clone()))
    }

    pub fn put(
        &mut self,
        feature: &str,
        wp: &str,
        commit: ObjectId,
        event: &Event,
        state: &WpState,
    ) {
        if self.dir.is_none() {
            return;
        }
        let file = self.features.entry(feature.to_owned()).or_default();
        file.entries.insert(
            wp.to_owned(),
            Entry {
                commit: commit.to_string(),
                event: event.clone(),
                state: state.clone(),
            },
        );
        if !self.dirty.iter().any(|d| d == feature) {
            self.dirty.push(feature.to_owned());
        }
    }

    /// Forget WPs of `feature` that no longer have a ref.
    pub fn retain(&mut self, feature: &str, present: &[&str]) {
        if let Some(file) = self.features.get_mut(feature) {
            let before = file.entries.len();
            file.entries.retain(|k, _| present.contains(&k.as_str()));
            if file.entries.len() != before && !self.dirty.iter().any(|d| d == feature) {
                self.dirty.push(feature.to_owned());
            }
        }
    }

    /// Write the features that changed (temp file, then rename). Failures are ignored.
    pub fn save(self) {
        let Some(dir) = self.dir else {
            return;
        };
        for feature in &self.dirty {
            let Some(file) = self.features.get(feature) else {
                continue;
            };
            let out = FeatureFile {
                version: version(),
                schema: SCHEMA,
                entries: file.entries.clone(),
            };
            if let Ok(bytes) = serde_json::to_vec(&out) {
                crate::util::cache_file::replace(&dir, &format!("{feature}.json"), &bytes);
            }
        }
    }
}
