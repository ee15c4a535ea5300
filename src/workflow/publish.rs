//! `merge --push`: share a landing with the remote in the order a server that guards review
//! accepts. Its `pre-receive` lets a WP's work reach a target only when the WP's state, as the
//! push leaves it, is approved (or done), and takes a done state only once the work is on a
//! target. So the approvals go out first ([`before`]), then each target that moved, then the
//! done states and the rest ([`after`]).

use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::ids::FeatureSlug;
use crate::workspace::Workspace;

use super::merge::Outcome;

/// What `merge --push` sent.
#[derive(Debug, Serialize)]
pub struct Published {
    pub remote: String,
    /// The target branches pushed, in the order they were.
    pub targets: Vec<String>,
}

/// Before landing: send the state that is not on the remote yet (the approvals among it), so
/// that the remote takes the work that follows.
pub fn before(ws: &Workspace, remote: &str, actor: &str, feature: &FeatureSlug) -> Result<()> {
    crate::sync::push(ws, remote, actor, Some(feature))
        .map(drop)
        .map_err(|e| e.cause("nothing was landed"))
}

/// After landing: push each target branch that moved, then the state (landed WPs now done).
pub fn after(
    ws: &Workspace,
    remote: &str,
    actor: &str,
    feature: &FeatureSlug,
    outcome: &Outcome,
) -> Result<Published> {
    let mut targets: Vec<String> = Vec::new();
    for landed in &outcome.merged {
        if !targets.contains(&landed.target) {
            targets.push(landed.target.clone());
        }
    }
    let landed: Vec<&str> = outcome.merged.iter().map(|m| m.wp.as_str()).collect();
    for (i, target) in targets.iter().enumerate() {
        ws.repo.push_branch(remote, target).map_err(|e| {
            let pushed = &targets[..i];
            let e = e.cause(format!("landed here: {}", landed.join(", ")));
            let e = if pushed.is_empty() {
                e
            } else {
                e.cause(format!("pushed before it: {}", pushed.join(", ")))
            };
            e.hint(format!(
                "bring {target} up to date with {remote}'s (`git pull {remote} {target}`), then `git push {remote} {target}` and `git kitty push {remote}`"
            ))
        })?;
    }
    crate::sync::push(ws, remote, actor, Some(feature)).map_err(|e: Error| {
        e.cause(format!(
            "{} pushed to {remote}, but not the state that says what landed",
            targets.join(", ")
        ))
    })?;
    Ok(Published {
        remote: remote.to_owned(),
        targets,
    })
}
