//! `.git/info/exclude`: paths kept out of `git status` in every worktree of a clone, without a
//! commit (`.worktrees/`, the agent command files of `git kitty agents install`). Edited under
//! a file lock: several git kitty processes may add lines at once.

use std::io::{Read, Seek, Write};

use super::Repo;
use crate::error::{Error, Result};

impl Repo {
    /// Add each of `lines` (patterns, one per line) that is not there yet, under `comment`.
    pub fn exclude_add(&self, lines: &[String], comment: &str) -> Result<()> {
        self.edit_exclude(&mut |text| {
            let missing: Vec<&String> = lines
                .iter()
                .filter(|l| !text.lines().any(|have| have.trim() == l.as_str()))
                .collect();
            if missing.is_empty() {
                return None;
            }
            let mut out = text.to_owned();
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!("# {comment}\n"));
            for l in missing {
                out.push_str(l);
                out.push('\n');
            }
            Some(out)
        })
    }

    /// Remove each of `lines`, and `comment` lines left with nothing under them.
    pub fn exclude_remove(&self, lines: &[String], comment: &str) -> Result<()> {
        self.edit_exclude(&mut |text| {
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| !lines.iter().any(|r| r == l.trim()))
                .collect();
            let heading = format!("# {comment}");
            let mut out = String::new();
            for (i, l) in kept.iter().enumerate() {
                let orphan = *l == heading
                    && kept
                        .get(i + 1)
                        .is_none_or(|next| next.starts_with('#') || next.trim().is_empty());
                if !orphan {
                    out.push_str(l);
                    out.push('\n');
                }
            }
            (out != text).then_some(out)
        })
    }

    /// Rewrite the exclude file with `edit` (which returns `None` for "unchanged"), locked.
    fn edit_exclude(&self, edit: &mut dyn FnMut(&str) -> Option<String>) -> Result<()> {
        let info = self.common_dir().join("info");
        std::fs::create_dir_all(&info)
            .map_err(|e| Error::failed("cannot create .git/info").cause(e))?;
        let path = info.join("exclude");
        let fail =
            |e: std::io::Error| Error::failed(format!("cannot update {}", path.display())).cause(e);
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(fail)?;
        file.lock().map_err(fail)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(fail)?;
        if let Some(new) = edit(&text) {
            file.set_len(0).map_err(fail)?;
            file.seek(std::io::SeekFrom::Start(0)).map_err(fail)?;
            file.write_all(new.as_bytes()).map_err(fail)?;
        }
        Ok(())
    }
}
