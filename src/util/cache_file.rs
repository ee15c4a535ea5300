//! Files under `<git-common-dir>/kitty/` that only make things faster (the plan and state
//! caches): read if usable, replaced atomically, never a reason to fail.
//!
//! Each cache is **one file** with a section per feature, so reading the whole plan costs one
//! `open` and reading one feature decodes only its section:
//!
//! ```text
//! <version>\n
//! <feature>\t<length>\t<hash>\n<length bytes>\n      one record per feature, by name
//! ```
//!
//! The hash ([`content_hash`] of the bytes, in hex) makes a damaged section unusable rather
//! than wrong.
//!
//! A section's bytes are whatever its cache writes (compact binary for the plan, JSON for
//! state).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::parallel::in_parallel;

/// `KITTY_NO_CACHE=1` turns every cache off (for benchmarks and bug reports).
pub fn disabled() -> bool {
    std::env::var_os("KITTY_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0")
}

/// Replace `dir/name` with `bytes`: written to a temporary file in the same directory, then
/// renamed over, so readers see the old file or the new one, never half of one, and
/// concurrent writers cannot interleave. Failures (read-only clone, full disk) are ignored:
/// the cache is only an optimisation.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) {
    replace_with(dir, name, &|out| out.write_all(bytes));
}

/// [`replace`] with what `write` writes (through a buffer).
fn replace_with(dir: &Path, name: &str, write: &dyn Fn(&mut dyn Write) -> io::Result<()>) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let tmp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        super::time::system_now_nanos()
    ));
    let written = std::fs::File::create(&tmp).and_then(|file| {
        let mut out = io::BufWriter::with_capacity(64 * 1024, file);
        write(&mut out)?;
        out.flush()
    });
    if written.is_err() || std::fs::rename(&tmp, dir.join(name)).is_err() {
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

/// A 64-bit hash of file contents, 32 bytes at a time in four independent lanes (they run
/// side by side in the CPU, several times the speed of one chain; a warm run hashes the whole
/// plan cache, 1.8 MB on a real-shaped plan): it tells whether the start of a file is still
/// what was read before. Not cryptographic, and not used where a forged collision could do
/// more than show a wrong lane from the user's own files.
pub fn content_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let word = |c: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        u64::from_le_bytes(w)
    };
    let seed = bytes.len() as u64 ^ 0x6b69_7474_7963_6163;
    let mut lanes = [seed, seed ^ K, seed.rotate_left(17), seed.rotate_left(41)];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, c) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            *lane = mix(*lane, word(c));
        }
    }
    let mut h = lanes.iter().fold(seed, |h, lane| mix(h, *lane));
    let mut words = blocks.remainder().chunks_exact(8);
    for c in &mut words {
        h = mix(h, word(c));
    }
    for &b in words.remainder() {
        h = mix(h, u64::from(b));
    }
    h ^ (h >> 32)
}

/// A cache file of sections, as read (nothing decoded yet).
pub struct Sections {
    /// `None`: caching is off (`KITTY_NO_CACHE`); nothing is read or written.
    path: Option<PathBuf>,
    version: String,
    bytes: Vec<u8>,
    /// Each sound section's bytes, and their hash as written in its header.
    index: HashMap<String, (Range<usize>, u64)>,
}

impl Sections {
    /// Read `<common_dir>/kitty/<name>`; a missing, unreadable or other-version file is empty.
    pub fn open(common_dir: &Path, name: &str, version: String) -> Sections {
        let path = (!disabled()).then(|| common_dir.join("kitty").join(name));
        let bytes = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .unwrap_or_default();
        let mut index = HashMap::new();
        if let Some(rest) = bytes.strip_prefix(version.as_bytes())
            && rest.first() == Some(&b'\n')
        {
            let mut at = version.len() + 1;
            while let Some((name, range, hash, sound)) = record(&bytes, at) {
                at = range.end + 1;
                // A damaged section is as good as none: its feature is read again.
                if sound {
                    index.insert(name, (range, hash));
                }
            }
        }
        Sections {
            path,
            version,
            bytes,
            index,
        }
    }

    pub fn enabled(&self) -> bool {
        self.path.is_some()
    }

    /// The names of the sections in the file.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// The raw JSON of a section.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.index.get(name).map(|(r, _)| &self.bytes[r.clone()])
    }

    /// The [`content_hash`] of a section's bytes: a key for what is computed from them.
    pub fn hash(&self, name: &str) -> Option<u64> {
        self.index.get(name).map(|(_, hash)| *hash)
    }

    /// Decode the sections of `names` with `parse` (in parallel); an undecodable section is
    /// left out.
    pub fn decode<E: Send>(
        &self,
        names: &[&str],
        parse: &(dyn Fn(&[u8]) -> Option<E> + Sync),
    ) -> HashMap<String, E> {
        let decoded = in_parallel(names, &|name: &&str| parse(self.get(name)?));
        names
            .iter()
            .zip(decoded)
            .filter_map(|(n, d)| Some(((*n).to_owned(), d?)))
            .collect()
    }

    /// Write the file again: `changed` sections replaced (`None`: removed), the others kept
    /// as they were if `keep` says so. Atomic; failures are ignored.
    pub fn save(&self, changed: Vec<(String, Option<Vec<u8>>)>, keep: &dyn Fn(&str) -> bool) {
        let Some(path) = &self.path else {
            return;
        };
        let mut out_sections: BTreeMap<&str, &[u8]> = self
            .index
            .iter()
            .filter(|(name, _)| keep(name))
            .map(|(name, (r, _))| (name.as_str(), &self.bytes[r.clone()]))
            .collect();
        for (name, section) in &changed {
            match section {
                // A name that could break the record format is not cached.
                Some(section) if !name.contains(['\t', '\n']) => {
                    out_sections.insert(name, section);
                }
                _ => {
                    out_sections.remove(name.as_str());
                }
            }
        }
        // Written as it is laid out: a copy of the whole file in memory would cost as many
        // fresh pages as the file has (a first run writes megabytes).
        let write = |out: &mut dyn Write| -> io::Result<()> {
            writeln!(out, "{}", self.version)?;
            for (name, section) in &out_sections {
                let hash = content_hash(section);
                writeln!(out, "{name}\t{}\t{hash:x}", section.len())?;
                out.write_all(section)?;
                out.write_all(b"\n")?;
            }
            Ok(())
        };
        if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
            replace_with(dir, &name.to_string_lossy(), &write);
            // Earlier versions kept a folder of files per cache: nothing reads them now.
            for legacy in ["plan-cache", "state-cache"] {
                let _ = std::fs::remove_dir_all(dir.join(legacy));
            }
        }
    }
}

/// The record at `at`: `<name>\t<length>\t<hash>\n<bytes>\n`, its name, the range of its
/// bytes, its hash, and whether they hash as written (`None` past the last record or when the
/// framing itself is damaged).
fn record(bytes: &[u8], at: usize) -> Option<(String, Range<usize>, u64, bool)> {
    let rest = bytes.get(at..)?;
    let eol = rest.iter().position(|b| *b == b'\n')?;
    let header = std::str::from_utf8(&rest[..eol]).ok()?;
    let mut fields = header.split('\t');
    let (name, len, hash) = (fields.next()?, fields.next()?, fields.next()?);
    let len: usize = len.parse().ok()?;
    let hash = u64::from_str_radix(hash, 16).ok()?;
    let start = at + eol + 1;
    let end = start.checked_add(len)?;
    if fields.next().is_some() || bytes.get(end) != Some(&b'\n') {
        return None;
    }
    let sound = content_hash(&bytes[start..end]) == hash;
    Some((name.to_owned(), start..end, hash, sound))
}

/// A cache of entries per feature, each section a map from a key (a WP id) to an entry (as
/// JSON), decoded for the features asked for. Entries are cloned out: for small caches.
pub struct PerFeature<E> {
    file: Sections,
    features: HashMap<String, HashMap<String, E>>,
    dirty: Vec<String>,
}

impl<E: Serialize + DeserializeOwned + Send> PerFeature<E> {
    /// Load the sections of `features` from `<common_dir>/kitty/<name>`.
    pub fn open(common_dir: &Path, name: &str, version: String, features: &[&str]) -> Self {
        let file = Sections::open(common_dir, name, version);
        let features = file.decode(features, &|raw: &[u8]| serde_json::from_slice(raw).ok());
        PerFeature {
            file,
            features,
            dirty: Vec::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.file.enabled()
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

    /// Write the file if a feature changed. Failures are ignored.
    pub fn save(self) {
        if self.dirty.is_empty() {
            return;
        }
        let changed = self
            .dirty
            .iter()
            .map(|f| {
                let json = self
                    .features
                    .get(f)
                    .filter(|e| !e.is_empty())
                    .and_then(|e| serde_json::to_vec(e).ok());
                (f.clone(), json)
            })
            .collect();
        self.file.save(changed, &|_| true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_round_trip_and_survive_damage() {
        let dir = tempfile::tempdir().unwrap();
        let v = || "test 1".to_owned();
        let json = |raw: &[u8]| serde_json::from_slice::<Vec<u32>>(raw).ok();
        let file = Sections::open(dir.path(), "c", v());
        file.save(
            vec![
                ("b".into(), Some(b"[2]".to_vec())),
                ("a".into(), Some(b"[1]\n\t".to_vec())),
                ("bad\tname".into(), Some(b"[3]".to_vec())),
            ],
            &|_| true,
        );
        let text = std::fs::read_to_string(dir.path().join("kitty/c")).unwrap();
        let (ha, hb) = (content_hash(b"[1]\n\t"), content_hash(b"[2]"));
        assert_eq!(
            text,
            format!("test 1\na\t5\t{ha:x}\n[1]\n\t\nb\t3\t{hb:x}\n[2]\n")
        );
        let file = Sections::open(dir.path(), "c", v());
        assert_eq!(file.get("a"), Some(&b"[1]\n\t"[..]));
        let got = file.decode(&["a", "b", "z"], &json);
        assert_eq!(got.len(), 2);
        assert_eq!(got["b"], [2]);
        // Replace one, drop one through `keep`, keep the rest as they were.
        file.save(vec![("a".into(), Some(b"[9]".to_vec()))], &|n| n != "b");
        let file = Sections::open(dir.path(), "c", v());
        assert_eq!(file.get("a"), Some(&b"[9]"[..]));
        assert_eq!(file.get("b"), None);
        // Another version, or garbage: empty.
        assert_eq!(
            Sections::open(dir.path(), "c", "test 2".into()).get("a"),
            None
        );
        let h = content_hash(b"[1]");
        for garbage in [
            format!("test 1\na\t9\t{h:x}\n[1]\n"),
            "test 1\na\tx\n".to_owned(),
            format!("test 1\na\t3\t{h:x}\n[2]\n"),
        ] {
            std::fs::write(dir.path().join("kitty/c"), &garbage).unwrap();
            let file = Sections::open(dir.path(), "c", v());
            assert!(file.decode(&["a"], &json).is_empty(), "{garbage:?}");
        }
        // One damaged section leaves the others usable.
        let text = format!("test 1\na\t3\t{h:x}\n[1]\nb\t2\t0\n[3\n");
        std::fs::write(dir.path().join("kitty/c"), text).unwrap();
        let file = Sections::open(dir.path(), "c", v());
        assert_eq!(
            file.decode(&["a", "b"], &json).keys().collect::<Vec<_>>(),
            ["a"]
        );
    }

    #[test]
    fn content_hash_sees_every_byte() {
        // Whole 32-byte blocks (four lanes), then whole words, then single bytes.
        let a: Vec<u8> = (0..75u8).map(|i| b'0' + i % 43).collect();
        for i in 0..a.len() {
            let mut b = a.clone();
            b[i] ^= 1;
            assert_ne!(content_hash(&a), content_hash(&b), "byte {i}");
        }
        for len in 0..a.len() {
            assert_ne!(content_hash(&a), content_hash(&a[..len]), "length {len}");
        }
        // Words swapped between lanes, or blocks swapped: another hash.
        let mut swapped = a.clone();
        swapped[..16].rotate_left(8);
        assert_ne!(content_hash(&a), content_hash(&swapped));
        let mut blocks = a[..64].to_vec();
        blocks.rotate_left(32);
        assert_ne!(content_hash(&a[..64]), content_hash(&blocks));
    }
}
