//! One WP in detail, for the page's side panel: its prompt (the WP file's markdown body, which
//! the page renders), its history, its branch and worktree.

use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::error::Result;
use crate::model::frontmatter;
use crate::model::ids::{FeatureSlug, WpId};
use crate::state::activity::{self, Activity};
use crate::state::schema::WpState;
use crate::state::store;
use crate::workspace::Workspace;

/// `GET /api/wp/<feature>/<WP>` (docs/json.md).
#[derive(Serialize)]
struct Detail<'a> {
    feature: &'a str,
    id: &'a str,
    title: &'a str,
    file: &'a str,
    /// The markdown after the frontmatter.
    prompt: String,
    /// The state ref's state (lane, agent, branch, worktree, base...), when it has one.
    state: Option<WpState>,
    /// The worktree as an absolute path, when the state names one.
    worktree_path: Option<String>,
    /// Every event, newest first, as `git kitty log --json` prints them.
    history: Vec<activity::Entry<'a>>,
}

/// The detail of `feature`/`wp` as JSON, `None` when there is no such WP. Both names must be
/// spelled exactly as the plan spells them (they come from a URL).
pub fn detail(cwd: &Path, feature: &str, wp: &str) -> Result<Option<String>> {
    let (Ok(slug), Ok(id)) = (FeatureSlug::from_str(feature), WpId::from_str(wp)) else {
        return Ok(None);
    };
    if id.as_str() != wp {
        return Ok(None);
    }
    let ws = Workspace::open(cwd, Some(&slug))?;
    let Some(f) = ws.plan.feature(slug.as_str()) else {
        return Ok(None);
    };
    let Some(w) = f.wps.iter().find(|w| w.id == id) else {
        return Ok(None);
    };
    let text = std::fs::read(ws.plan_root.join(&w.file))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let prompt = match frontmatter::split(text) {
        Ok(split) => split.body.to_owned(),
        Err(_) => text.to_owned(),
    };
    let state = store::read(&ws.repo, &slug, &id)
        .ok()
        .flatten()
        .map(|t| t.state);
    let main = ws.repo.main_workdir().unwrap_or(&ws.plan_root);
    let worktree_path = state
        .as_ref()
        .and_then(|s| s.worktree.as_ref())
        .map(|rel| main.join(rel).display().to_string());
    let (history, _) = activity::read(&ws.repo, &[(slug.clone(), id.clone())]);
    let refused = activity::refused(&history);
    let entries: Vec<activity::Entry> = history
        .iter()
        .map(|a: &Activity| a.entry(&refused))
        .collect();
    let doc = Detail {
        feature: slug.as_str(),
        id: id.as_str(),
        title: &w.title,
        file: &w.file,
        prompt,
        state,
        worktree_path,
        history: entries,
    };
    Ok(Some(serde_json::to_string(&doc).unwrap_or_default()))
}
