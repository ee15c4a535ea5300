//! `git kitty check --fix`: write the lanes git kitty's state holds back into the WP files'
//! frontmatter, for teams whose other tools read `lane:` there. One commit, only the `lane:`
//! value of each file changed, every other byte kept.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::frontmatter::with_lane;
use crate::model::lane::Lane;
use crate::state::store::States;
use crate::workspace::Workspace;

/// One WP file brought in line with its state.
#[derive(Debug, Serialize)]
pub struct LaneWritten {
    pub file: String,
    pub wp: String,
    pub from: Lane,
    pub to: Lane,
}

/// Rewrite every frontmatter `lane:` that disagrees with the WP's state ref and commit those
/// files alone in the main worktree. Refuses when one of them has uncommitted changes.
pub fn write_back_lanes(ws: &Workspace, states: &States) -> Result<Vec<LaneWritten>> {
    let mut edits = Vec::new();
    for f in &ws.plan.features {
        for wp in &f.wps {
            let (Some(declared), Some(line), Some(tip)) = (
                wp.lane,
                wp.lane_line,
                states.get(&(f.slug.clone(), wp.id.clone())),
            ) else {
                continue;
            };
            if declared != tip.state.lane {
                edits.push((
                    wp.file.clone(),
                    line,
                    wp.id.to_string(),
                    declared,
                    tip.state.lane,
                ));
            }
        }
    }
    if edits.is_empty() {
        return Ok(Vec::new());
    }
    let files: Vec<String> = edits.iter().map(|e| e.0.clone()).collect();
    let dirty: Vec<String> = ws
        .repo
        .tracked_changes(&ws.plan_root)?
        .into_iter()
        .filter(|p| files.contains(p))
        .collect();
    if !dirty.is_empty() {
        return Err(Error::refused(format!(
            "these WP files have uncommitted changes: {}",
            dirty.join(", ")
        ))
        .hint("commit or stash them, then run `git kitty check --fix` again"));
    }
    let mut written = Vec::new();
    for (file, line, wp, from, to) in edits {
        let path = ws.plan_root.join(&file);
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::failed(format!("cannot read {file}")).cause(e))?;
        let Some(new) = with_lane(&bytes, line, to.as_str()) else {
            continue;
        };
        std::fs::write(&path, new)
            .map_err(|e| Error::failed(format!("cannot write {file}")).cause(e))?;
        written.push(LaneWritten { file, wp, from, to });
    }
    if !written.is_empty() {
        let paths: Vec<String> = written.iter().map(|w| w.file.clone()).collect();
        let list: Vec<String> = written
            .iter()
            .map(|w| format!("{}: {} -> {}", w.file, w.from, w.to))
            .collect();
        let message = format!(
            "Plan: frontmatter lanes as git kitty's state has them\n\n{}\n",
            list.join("\n")
        );
        ws.repo.commit_paths(&ws.plan_root, &paths, &message)?;
    }
    Ok(written)
}
