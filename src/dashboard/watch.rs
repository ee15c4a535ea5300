//! Noticing that the board may have changed, without polling: inotify (through `notify`) on
//! the refs git kitty's state lives in and on the plan's files, each burst of file events
//! coalesced into one wake-up.
//!
//! A `git kitty lane` writes a lock file, renames it over the ref and appends to a reflog;
//! `git kitty pull` rewrites dozens of refs at once. Whoever is woken recomputes the whole
//! board once per burst, so a burst costs one recomputation however many files it touched.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::{RecursiveMode, Watcher as _};

use crate::error::{Error, Result};
use crate::model::plan::SPECS_DIR;
use crate::workspace::Workspace;

/// A burst ends after this long without a relevant event...
const QUIET: Duration = Duration::from_millis(15);
/// ...or this long after it started, whichever comes first.
const MAX_WAIT: Duration = Duration::from_millis(150);

/// What to watch.
#[derive(Debug, Clone)]
pub struct Targets {
    /// Directories watched with everything under them. One that does not exist yet is
    /// watched through its nearest existing parent until it appears.
    pub trees: Vec<PathBuf>,
    /// Files watched through their directory.
    pub files: Vec<PathBuf>,
    /// Only events on these paths, or under them, count.
    pub relevant: Vec<PathBuf>,
}

impl Targets {
    /// The inputs of a workspace's board: the state refs (loose and packed, in the common
    /// directory every worktree shares), the branches staleness is measured on, the remote's
    /// tracked state, the markers of lost claims, the note of remotes fetched from, and the
    /// plan in the main worktree.
    pub fn of(ws: &Workspace) -> Targets {
        let refs = ws.repo.state_ref_paths();
        let plan = ws.plan_root.join(SPECS_DIR);
        let fetched = crate::state::relation::fetched_note(&ws.repo);
        let mut relevant = refs.namespaces.clone();
        relevant.extend([refs.packed.clone(), plan.clone(), fetched.clone()]);
        Targets {
            trees: vec![refs.loose_root, plan],
            files: vec![refs.packed, fetched],
            relevant,
        }
    }

    fn is_relevant(&self, path: &Path) -> bool {
        self.relevant.iter().any(|r| path.starts_with(r))
    }
}

/// Watch `targets` from a thread of its own and call `on_change` once per burst of relevant
/// events, for as long as the process runs. Returns once the watches are in place: a change
/// made after this returns is noticed.
pub fn start(targets: Targets, mut on_change: impl FnMut() + Send + 'static) -> Result<()> {
    let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // An error event (a queue overflow) may hide a change: treat it as one.
        let paths = event.map_or_else(|_| vec![PathBuf::new()], |e| e.paths);
        let _ = tx.send(paths);
    })
    .map_err(cannot_watch)?;
    let mut armed = Armed {
        watcher,
        watched: Vec::new(),
    };
    armed.arm(&targets)?;
    std::thread::Builder::new()
        .name("kitty-watch".into())
        .spawn(move || {
            while let Some(()) = next_burst(&rx, &targets) {
                // A tree that appeared (kitty-specs/ made after start) is watched from now on.
                let _ = armed.arm(&targets);
                on_change();
            }
        })
        .map_err(|e| Error::failed("cannot start the file watcher").cause(e))?;
    Ok(())
}

/// Wait for a relevant event, then for the burst it starts to end. `None` once the watcher
/// is gone.
fn next_burst(rx: &mpsc::Receiver<Vec<PathBuf>>, targets: &Targets) -> Option<()> {
    let counts = |paths: &[PathBuf]| {
        paths
            .iter()
            .any(|p| p.as_os_str().is_empty() || targets.is_relevant(p))
    };
    loop {
        if counts(&rx.recv().ok()?) {
            break;
        }
    }
    let start = Instant::now();
    let mut quiet_until = start + QUIET;
    loop {
        let deadline = quiet_until.min(start + MAX_WAIT);
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return Some(());
        };
        match rx.recv_timeout(left) {
            Ok(paths) if counts(&paths) => quiet_until = Instant::now() + QUIET,
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) => return Some(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

/// The watcher and what it watches now.
struct Armed {
    watcher: notify::RecommendedWatcher,
    watched: Vec<(PathBuf, RecursiveMode)>,
}

impl Armed {
    /// Watch what `targets` needs now: each tree that exists, recursively; the nearest
    /// existing parent of one that does not; the directory of each file.
    fn arm(&mut self, targets: &Targets) -> Result<()> {
        let mut wanted: Vec<(PathBuf, RecursiveMode)> = Vec::new();
        let mut want = |path: &Path, mode| {
            if !wanted.iter().any(|(p, m)| p == path && *m == mode) {
                wanted.push((path.to_path_buf(), mode));
            }
        };
        for tree in &targets.trees {
            if tree.is_dir() {
                want(tree, RecursiveMode::Recursive);
            } else if let Some(parent) = tree.ancestors().skip(1).find(|p| p.is_dir()) {
                want(parent, RecursiveMode::NonRecursive);
            }
        }
        for file in &targets.files {
            if let Some(dir) = file.parent() {
                // Files live in git's own directories (the common dir, its `kitty/`): make the
                // latter if need be rather than watch a parent where every cache write counts.
                let _ = std::fs::create_dir_all(dir);
                want(dir, RecursiveMode::NonRecursive);
            }
        }
        for old in std::mem::take(&mut self.watched) {
            if wanted.contains(&old) {
                self.watched.push(old);
            } else {
                // Gone with its directory, or replaced by a recursive watch: either is fine.
                let _ = self.watcher.unwatch(&old.0);
            }
        }
        for want in wanted {
            if self.watched.contains(&want) {
                continue;
            }
            self.watcher
                .watch(&want.0, want.1)
                .map_err(|e| cannot_watch(e).hint(format!("is {} readable?", want.0.display())))?;
            self.watched.push(want);
        }
        Ok(())
    }
}

fn cannot_watch(e: notify::Error) -> Error {
    let err = Error::failed("cannot watch the repository for changes").cause(&e);
    if matches!(e.kind, notify::ErrorKind::MaxFilesWatch) {
        err.hint("the system's inotify limit is reached: raise fs.inotify.max_user_watches")
    } else {
        err
    }
}
