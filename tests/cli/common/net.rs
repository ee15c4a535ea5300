//! A bare remote over `file://` with git kitty's server hook, in one sandbox: clones of it as
//! several machines (`Net`), or one repository's `origin` (`origin`). Every test that needs a
//! server makes it here, so every push in the tests is judged by the server hook.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Repo, Run};

/// An empty bare repository `name` (HEAD `main`) in `repo`'s sandbox, with git kitty's server
/// hook: its path, and what the hook's install printed (it succeeded).
pub fn hooked_bare(repo: &Repo, name: &str) -> (PathBuf, Run) {
    let bare = repo.sandbox.path().join(name);
    repo.git(&["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
    let installed = repo.kitty_in(&bare, &["hooks", "install", "--server"]);
    installed.ok();
    (bare, installed)
}

/// `bare` as `repo`'s `origin`, over `file://`.
pub fn add_origin(repo: &Repo, bare: &Path) {
    repo.git(&["remote", "add", "origin", &url(bare)]);
}

/// A hooked bare server `name` as `origin` of `repo`, with `main` pushed: its path.
pub fn origin(repo: &Repo, name: &str) -> PathBuf {
    let (bare, _) = hooked_bare(repo, name);
    add_origin(repo, &bare);
    repo.git(&["push", "-q", "origin", "main"]);
    bare
}

/// `file://<path>`.
pub fn url(bare: &Path) -> String {
    format!("file://{}", bare.display())
}

/// A bare remote seeded with a fixture (with git kitty's server hook), and clones of it.
pub struct Net {
    pub seed: Repo,
    pub remote: PathBuf,
}

impl Net {
    pub fn new(fixture: &str) -> Net {
        Net::seeded(Repo::with_fixture(fixture))
    }

    /// A bare remote cloned from `seed` (every ref it has), with the server hook. `seed` is
    /// not connected to it: the clones are the machines.
    pub fn seeded(seed: Repo) -> Net {
        let remote = seed.sandbox.path().join("remote.git");
        seed.git(&[
            "clone",
            "-q",
            "--bare",
            seed.root.to_str().unwrap(),
            remote.to_str().unwrap(),
        ]);
        seed.kitty_in(&remote, &["hooks", "install", "--server"])
            .ok();
        Net { seed, remote }
    }

    pub fn url(&self) -> String {
        url(&self.remote)
    }

    /// Clone the remote as `name` (a machine).
    pub fn clone(&self, name: &str) -> PathBuf {
        let dir = self.seed.sandbox.path().join(name);
        self.seed
            .git(&["clone", "-q", &self.url(), dir.to_str().unwrap()]);
        dir
    }

    /// `git-kitty <args>` in `dir` as `agent`.
    pub fn kitty(&self, dir: &Path, agent: &str, args: &[&str]) -> Run {
        let mut cmd = self.seed.kitty_command(dir, args);
        cmd.env("KITTY_AGENT", agent);
        Run::new(cmd.output().unwrap(), &self.seed.root)
    }

    /// A path a command printed (normalised to `$SANDBOX/...`), as a real path.
    pub fn printed_path(&self, stdout: &str) -> PathBuf {
        PathBuf::from(
            stdout
                .trim()
                .replace("$SANDBOX", &self.seed.sandbox.path().display().to_string()),
        )
    }

    /// A path as commands print it (`$SANDBOX/...`).
    pub fn shown(&self, path: &Path) -> String {
        path.display()
            .to_string()
            .replace(&self.seed.sandbox.path().display().to_string(), "$SANDBOX")
    }

    /// git in `dir`; panics on failure; stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.seed.git_in(dir, args)
    }

    /// Where `name` points in the remote (`None`: no such ref).
    pub fn remote_ref(&self, name: &str) -> Option<String> {
        self.local_ref(&self.remote, name)
    }

    /// Where `name` points in clone `dir` (or any repository; `None`: no such ref).
    pub fn local_ref(&self, dir: &Path, name: &str) -> Option<String> {
        let out = self
            .seed
            .command_in("git", dir)
            .args(["rev-parse", "--verify", "--quiet", name])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Lanes and holders of every WP, as `status --json` shows them.
    pub fn board(&self, dir: &Path) -> Vec<(String, String, String)> {
        let status = self
            .kitty(dir, "reader", &["status", "--json", "--all"])
            .ok()
            .json();
        let mut out = Vec::new();
        for f in status["features"].as_array().unwrap() {
            for w in f["work_packages"].as_array().unwrap() {
                out.push((
                    w["id"].as_str().unwrap().to_owned(),
                    w["lane"].as_str().unwrap().to_owned(),
                    w["agent"].as_str().unwrap_or("-").to_owned(),
                ));
            }
        }
        out
    }

    /// The ids of every event (merges aside) in a clone's histories.
    pub fn event_ids(&self, dir: &Path) -> BTreeSet<String> {
        let log = self.kitty(dir, "reader", &["log", "--json"]).ok().json();
        log["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] != "merge")
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Commit `file` with `content` in worktree `wt`; the new tip.
    pub fn commit(&self, wt: &Path, file: &str, content: &str) -> String {
        std::fs::write(wt.join(file), content).unwrap();
        self.git(wt, &["add", "--", file]);
        self.git(wt, &["commit", "-q", "-m", &format!("add {file}")]);
        self.git(wt, &["rev-parse", "HEAD"]).trim().to_owned()
    }
}
