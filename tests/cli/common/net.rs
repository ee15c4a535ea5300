//! A bare remote over `file://` and clones of it in one sandbox: several machines.

use std::path::{Path, PathBuf};

use super::{Repo, Run};

/// A bare remote seeded with a fixture (with git kitty's server hook), and clones of it.
pub struct Net {
    pub seed: Repo,
    pub remote: PathBuf,
}

impl Net {
    pub fn new(fixture: &str) -> Net {
        let seed = Repo::with_fixture(fixture);
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
        format!("file://{}", self.remote.display())
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
        let out = self
            .seed
            .command_in("git", &self.remote)
            .args(["rev-parse", "--verify", "--quiet", name])
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Where `name` points in clone `dir` (`None`: no such ref).
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

    /// Commit `file` with `content` in worktree `wt`; the new tip.
    pub fn commit(&self, wt: &Path, file: &str, content: &str) -> String {
        std::fs::write(wt.join(file), content).unwrap();
        self.git(wt, &["add", "--", file]);
        self.git(wt, &["commit", "-q", "-m", &format!("add {file}")]);
        self.git(wt, &["rev-parse", "HEAD"]).trim().to_owned()
    }
}
