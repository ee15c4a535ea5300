//! Failures of the filesystem under a repository, classified by kind: a permanent one
//! (permission denied, read-only filesystem, no space) is reported at once with the path and
//! its permissions; retrying it would only write objects for nothing.

use std::io::ErrorKind;
use std::path::Path;

use crate::error::Error;

/// The first `std::io::Error` in `err`'s chain of sources whose kind no retry can fix.
pub(crate) fn permanent_io_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a std::io::Error> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && is_permanent(io.kind())
        {
            return Some(io);
        }
        current = e.source();
    }
    None
}

/// Kinds a retry cannot fix: only a person changing the filesystem can.
pub(crate) fn is_permanent(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::PermissionDenied
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::StorageFull
            | ErrorKind::QuotaExceeded
            | ErrorKind::FileTooLarge
            | ErrorKind::NotADirectory
    )
}

/// `cannot write <what>: permission denied on <dir> (mode 0555, owner uid 0)`: the nearest
/// existing directory of `path` (where the lock or object file would have been made) and its
/// permissions.
pub(crate) fn refused_write(what: &str, path: &Path, io: &std::io::Error) -> Error {
    use std::os::unix::fs::MetadataExt;
    let reason = match io.kind() {
        ErrorKind::PermissionDenied => "permission denied",
        ErrorKind::ReadOnlyFilesystem => "read-only file system",
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => "no space left",
        ErrorKind::FileTooLarge => "file too large",
        _ => "not a directory",
    };
    let dir = path
        .ancestors()
        .skip(1)
        .find(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_dir()))
        .unwrap_or(path);
    let place = match std::fs::metadata(dir) {
        Ok(m) => format!(
            "{} (mode {:04o}, owner uid {})",
            dir.display(),
            m.mode() & 0o7777,
            m.uid()
        ),
        Err(_) => dir.display().to_string(),
    };
    let hint = match io.kind() {
        ErrorKind::PermissionDenied => {
            "nothing was changed; make it writable for the user running git kitty, then run the command again"
        }
        ErrorKind::ReadOnlyFilesystem => {
            "nothing was changed; git kitty needs the repository on a writable file system"
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            "nothing was changed; free some space, then run the command again"
        }
        _ => "nothing was changed; a file stands where git expects a directory: move it away",
    };
    Error::failed(format!("cannot write {what}: {reason} on {place}"))
        .cause(io)
        .hint(hint)
}
