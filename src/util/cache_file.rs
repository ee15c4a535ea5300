//! Files under `<git-common-dir>/kitty/` that only make things faster (the plan and state
//! caches): read if usable, replaced atomically, never a reason to fail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// `KITTY_NO_CACHE=1` turns every cache off (for benchmarks and bug reports).
pub fn disabled() -> bool {
    std::env::var_os("KITTY_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Replace `dir/name` with `bytes`: written to a temporary file in the same directory, then
/// renamed over, so readers see the old file or the new one, never half of one, and
/// concurrent writers cannot interleave. Failures (read-only clone, full disk) are ignored:
/// the cache is only an optimisation.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        super::time::system_now_nanos()
    ));
    if std::fs::write(&tmp, bytes).is_err() || std::fs::rename(&tmp, dir.join(name)).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// FNV-1a over `parts`, usable in constants: caches key their format on a fingerprint of the
/// source files that produce what they store, so a build that parses differently never
/// trusts an older build's cache, even at the same version number.
pub const fn fingerprint(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut p = 0;
    while p < parts.len() {
        let bytes = parts[p];
        let mut i = 0;
        while i < bytes.len() {
            hash ^= bytes[i] as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        p += 1;
    }
    hash
}

/// Cache files of one kind, one per feature (`<dir>/<feature>.json`), each a map from a key
/// (a WP id, a file path) to an entry. A file written by another `version` is ignored.
pub struct PerFeature<E> {
    /// `None`: caching is off (`KITTY_NO_CACHE`); reads miss and nothing is written.
    dir: Option<PathBuf>,
    version: String,
    features: HashMap<String, HashMap<String, E>>,
    dirty: Vec<String>,
}

#[derive(Deserialize)]
struct FileIn<E> {
    version: String,
    entries: HashMap<String, E>,
}

#[derive(Serialize)]
struct FileOut<'a, E> {
    version: &'a str,
    entries: &'a HashMap<String, E>,
}

impl<E: Serialize + DeserializeOwned> PerFeature<E> {
    /// Load the files of `features` from `<common_dir>/kitty/<kind>/`.
    pub fn open(common_dir: &Path, kind: &str, version: String, features: &[&str]) -> Self {
        let dir = (!disabled()).then(|| common_dir.join("kitty").join(kind));
        let mut loaded = HashMap::new();
        if let Some(dir) = &dir {
            for f in features {
                let entries = std::fs::read(dir.join(format!("{f}.json")))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<FileIn<E>>(&b).ok())
                    .filter(|file| file.version == version)
                    .map(|file| file.entries)
                    .unwrap_or_default();
                loaded.insert((*f).to_owned(), entries);
            }
        }
        PerFeature {
            dir,
            version,
            features: loaded,
            dirty: Vec::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }

    pub fn get(&self, feature: &str, key: &str) -> Option<&E> {
        self.features.get(feature)?.get(key)
    }

    pub fn insert(&mut self, feature: &str, key: &str, entry: E) {
        if !self.enabled() {
            return;
        }
        self.features
            .entry(feature.to_owned())
            .or_default()
            .insert(key.to_owned(), entry);
        self.mark(feature);
    }

    /// Forget the entries of `feature` whose key `keep` refuses.
    pub fn retain(&mut self, feature: &str, keep: impl Fn(&str) -> bool) {
        if let Some(entries) = self.features.get_mut(feature) {
            let before = entries.len();
            entries.retain(|k, _| keep(k));
            if entries.len() != before {
                self.mark(feature);
            }
        }
    }

    fn mark(&mut self, feature: &str) {
        if !self.dirty.iter().any(|d| d == feature) {
            self.dirty.push(feature.to_owned());
        }
    }

    /// Write the features that changed, each with [`replace`]. Failures are ignored.
    pub fn save(self) {
        let Some(dir) = self.dir else {
            return;
        };
        for feature in &self.dirty {
            let Some(entries) = self.features.get(feature) else {
                continue;
            };
            let out = FileOut {
                version: &self.version,
                entries,
            };
            if let Ok(bytes) = serde_json::to_vec(&out) {
                replace(&dir, &format!("{feature}.json"), &bytes);
            }
        }
    }
}
