//! `merge --push`: share a landing with the remote in the order a server that guards review
//! accepts. Its `pre-receive` lets a WP's work reach a target only when the WP's state, as the
//! push leaves it, is approved (or done), and takes a done state only once the work is on a
//! target. So the approvals go out first ([`before`]), then each target that moved, then the
//! done states and the rest ([`after`]); last, the landed WPs' branches are deleted there as
//! `merge` deleted them here.

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::git::remote::{Lease, RefPushed};
use crate::model::ids::{FeatureSlug, WpId, wp_branch};
use crate::model::lane::Lane;
use crate::state::relation::tracking_prefix;
use crate::state::store;
use crate::workspace::Workspace;
use crate::workspace::branches::remote_branch_ref;

use super::merge::Outcome;

/// What `merge --push` sent.
#[derive(Debug, Serialize)]
pub struct Published {
    pub remote: String,
    /// The target branches pushed, in the order they were.
    pub targets: Vec<String>,
    /// Landed WPs' branches deleted on the remote (as `merge` deleted them here).
    pub deleted_branches: Vec<String>,
    /// Landed WPs' branches left on the remote, with why (it has commits this clone lacks,
    /// or it refused).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_branches: Vec<KeptBranch>,
}

#[derive(Debug, Serialize)]
pub struct KeptBranch {
    pub branch: String,
    pub reason: String,
}

/// Before landing: send the state that is not on the remote yet (the approvals among it), so
/// that the remote takes the work that follows.
pub fn before(ws: &Workspace, remote: &str, actor: &str, feature: &FeatureSlug) -> Result<()> {
    crate::sync::push(ws, remote, actor, Some(feature))
        .map(drop)
        .map_err(|e| with_unpushed_landings(ws, remote, e.cause("nothing was landed")))
}

/// `e`, a refused state push, with the way to share landings made here that the remote has
/// not seen ([`unpushed_landings`]), when there are any.
pub fn with_unpushed_landings(ws: &Workspace, remote: &str, e: Error) -> Error {
    if e.kind != ErrorKind::Refused {
        return e;
    }
    match unpushed_landings(ws, remote) {
        Some(hint) => e.hint_first(hint),
        None => e,
    }
}

/// WPs done here whose state on `remote` (as last fetched) is not: landed by a `git kitty
/// merge` without `--push`. A server guarding review takes their done state only with their
/// work on a target, and the work only with an approval it may not have seen: one push of
/// both is what it takes. That push, as a hint.
pub fn unpushed_landings(ws: &Workspace, remote: &str) -> Option<String> {
    let (mut wps, mut targets, mut refs) = (Vec::new(), Vec::new(), Vec::new());
    for feature in &ws.plan.features {
        for wp in &feature.wps {
            let Ok(Some(tip)) = store::read(&ws.repo, &feature.slug, &wp.id) else {
                continue;
            };
            let tracking = format!("{}{}/{}", tracking_prefix(remote), feature.slug, wp.id);
            let done_there = ws
                .repo
                .ref_tip(&tracking)
                .ok()
                .flatten()
                .and_then(|id| ws.repo.read_commit(id).ok())
                .and_then(|c| store::decode(&c).ok())
                .is_some_and(|(_, s)| s.lane == Lane::Done);
            if tip.state.lane != Lane::Done || done_there {
                continue;
            }
            let Ok((target, _)) = super::base::target_branch(ws, feature, Some(&wp.id)) else {
                continue;
            };
            if !targets.contains(&target) {
                targets.push(target);
            }
            wps.push(match ws.plan.features.len() {
                1 => wp.id.to_string(),
                _ => format!("{}/{}", feature.slug, wp.id),
            });
            refs.push(store::ref_name(&feature.slug, &wp.id));
        }
    }
    if refs.is_empty() {
        return None;
    }
    let remote = crate::util::shell::quote(remote);
    Some(format!(
        "{} landed here and {} not done on {remote} yet: `git push {remote} {} {}` sends the work \
         with its state, as a server guarding review takes them; then `git kitty sync {remote}`",
        wps.join(", "),
        if wps.len() == 1 { "is" } else { "are" },
        targets.join(" "),
        refs.join(" ")
    ))
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
    let (deleted_branches, kept_branches) = delete_landed_branches(ws, remote, feature, outcome)?;
    Ok(Published {
        remote: remote.to_owned(),
        targets,
        deleted_branches,
        kept_branches,
    })
}

/// Delete on the remote the branch of each WP whose local branch `merge` deleted, each with a
/// lease on the copy last fetched: a branch someone pushed more work to since is kept.
fn delete_landed_branches(
    ws: &Workspace,
    remote: &str,
    feature: &FeatureSlug,
    outcome: &Outcome,
) -> Result<(Vec<String>, Vec<KeptBranch>)> {
    let mut leases = Vec::new();
    for m in outcome.merged.iter().filter(|m| m.deleted_branch) {
        let Ok(wp) = m.wp.parse::<WpId>() else {
            continue;
        };
        let branch = wp_branch(feature, &wp);
        let tracking = remote_branch_ref(remote, &branch);
        if let Some(seen) = ws.repo.ref_tip(&tracking)? {
            leases.push((branch, tracking, seen));
        }
    }
    let pushes: Vec<Lease> = leases
        .iter()
        .map(|(branch, _, seen)| Lease {
            name: format!("refs/heads/{branch}"),
            expected: Some(*seen),
            new: crate::git::null_oid(),
        })
        .collect();
    let results = ws.repo.push_leases_each(remote, &pushes)?;
    let (mut deleted, mut kept) = (Vec::new(), Vec::new());
    for ((branch, tracking, seen), result) in leases.into_iter().zip(results) {
        match result {
            RefPushed::Accepted => {
                ws.repo.cas_ref_or_delete(&tracking, seen, None)?;
                deleted.push(branch);
            }
            RefPushed::Stale => kept.push(KeptBranch {
                branch,
                reason: format!("{remote}'s copy has commits this clone has not fetched"),
            }),
            RefPushed::Declined(said) => kept.push(KeptBranch {
                branch,
                reason: said,
            }),
        }
    }
    Ok((deleted, kept))
}
