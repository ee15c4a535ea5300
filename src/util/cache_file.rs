//! Files under `<git-common-dir>/kitty/` that only make things faster (the plan and state
//! caches): read if usable, replaced atomically, never a reason to fail.

use std::path::Path;

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
