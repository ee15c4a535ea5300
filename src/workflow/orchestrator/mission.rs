//! The mission-wide calls: `accept-mission` (a check) and `merge-mission` (`git kitty merge`
//! of every WP, after a dry run that must land them all).

use serde::Serialize;
use serde_json::Value;

use super::reads::to_value;
use super::{ApiError, ErrorCode, Mission, api_lane, internal};
use crate::model::lane::Lane;
use crate::workflow::merge::{self, Outcome, Request, Strategy};

#[derive(Serialize)]
struct Accepted {
    mission_slug: String,
    accepted: bool,
    mode: &'static str,
    accepted_at: String,
    accepted_wps: Vec<String>,
    /// Reviewed, waiting for `merge-mission`.
    approved_wps: Vec<String>,
    /// Landed on the target branch already.
    done_wps: Vec<String>,
    merge_pending_wps: Vec<String>,
}

/// `accept-mission`: every WP (canceled ones aside) approved or done, else
/// `MISSION_NOT_READY` with the ones that are not. git kitty keeps no acceptance record: the
/// review events already say who accepted each WP.
pub(super) fn accept(m: &Mission<'_>, actor: &str) -> Result<Value, ApiError> {
    super::actor(actor)?;
    let (states, _) =
        m.ws.read_states(Some(&[m.feature]))
            .map_err(|e| internal(&e))?;
    let lanes = m.ws.lanes(m.feature, &states);
    let (mut approved, mut done, mut incomplete) = (Vec::new(), Vec::new(), Vec::new());
    for (wp, info) in m.feature.wps.iter().zip(&lanes) {
        let id = wp.id.to_string();
        match info.lane {
            Lane::Approved => approved.push(id),
            Lane::Done => done.push(id),
            Lane::Canceled => {}
            other => incomplete.push(serde_json::json!({"wp_id": id, "lane": api_lane(other)})),
        }
    }
    if !incomplete.is_empty() {
        let ids: Vec<&str> = incomplete
            .iter()
            .filter_map(|w| w["wp_id"].as_str())
            .collect();
        return Err(ApiError::new(
            ErrorCode::MissionNotReady,
            format!(
                "{} has {} work package(s) not approved or done: {}",
                m.slug(),
                ids.len(),
                ids.join(", ")
            ),
        )
        .with("mission_slug", m.slug())
        .with("incomplete_wps", &ids)
        .with("work_packages", &incomplete));
    }
    to_value(Accepted {
        mission_slug: m.slug().to_owned(),
        accepted: true,
        mode: "orchestrator",
        accepted_at: crate::util::time::format_rfc3339_nanos(crate::util::time::now_nanos()),
        accepted_wps: approved.iter().chain(&done).cloned().collect(),
        merge_pending_wps: approved.clone(),
        approved_wps: approved,
        done_wps: done,
    })
}

#[derive(Serialize)]
struct Merged {
    mission_slug: String,
    merged: bool,
    target_branch: String,
    strategy: Strategy,
    /// In landing order (dependencies first).
    merged_wps: Vec<String>,
    /// Every landed WP's worktree was removed.
    worktree_removed: bool,
    /// The landing commit of each WP.
    commits: Vec<Value>,
    pushed: bool,
}

/// `merge-mission`: `git kitty merge` of the whole mission. A dry run first: when any WP
/// would not land (not approved, a conflict, another target than `--target`) nothing is
/// changed and the answer is `PREFLIGHT_FAILED` with every reason.
pub(super) fn merge(
    m: &Mission<'_>,
    target: Option<&str>,
    strategy: &str,
    push: bool,
) -> Result<Value, ApiError> {
    let strategy = match strategy {
        "merge" => Strategy::Merge,
        "squash" => Strategy::Squash,
        other => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedStrategy,
                format!(
                    "strategy `{}` is not supported: git kitty lands each WP with `merge` or `squash` (it never rebases WP branches)",
                    other.escape_debug()
                ),
            )
            .with("strategy", other)
            .with("supported", ["merge", "squash"]));
        }
    };
    let actor =
        m.ws.actor(None)
            .unwrap_or_else(|_| "orchestrator-api".to_owned());
    let (states, _) =
        m.ws.read_states(Some(&[m.feature]))
            .map_err(|e| internal(&e))?;
    let mut req = Request {
        feature: m.feature,
        wps: Vec::new(),
        dry_run: true,
        strategy,
        keep_worktrees: false,
        keep_branches: false,
        actor,
    };
    let preview = merge::merge(m.ws, &states, &req)
        .map_err(|e| ApiError::from_error(ErrorCode::PreflightFailed, &e))?;
    let target_branch = preflight(m, &states, &preview, target)?;
    // A server guarding review takes the work only once it has the approvals: they go first.
    let remote = match push {
        true => Some(push_approvals(m, &req.actor)?),
        false => None,
    };
    let (states, _) =
        m.ws.read_states(Some(&[m.feature]))
            .map_err(|e| internal(&e))?;
    req.dry_run = false;
    let outcome = merge::merge(m.ws, &states, &req).map_err(|e| {
        let landed = e.details.as_ref().map(|d| d["merged"].clone());
        ApiError::from_error(ErrorCode::MergeFailed, &e)
            .with("mission_slug", m.slug())
            .with("merged_wps", landed_ids(landed.as_ref()))
    })?;
    // A conflict the preflight did not see (the target moved in between): the rest landed.
    if let Some(e) = outcome.conflict_error() {
        let landed: Vec<&str> = outcome.merged.iter().map(|l| l.wp.as_str()).collect();
        return Err(ApiError::from_error(ErrorCode::MergeFailed, &e)
            .with("mission_slug", m.slug())
            .with("merged_wps", landed));
    }
    let pushed = match &remote {
        Some(remote) => push_target(m, remote, &req.actor, &outcome)?,
        None => false,
    };
    to_value(Merged {
        mission_slug: m.slug().to_owned(),
        merged: true,
        target_branch,
        strategy,
        merged_wps: outcome.merged.iter().map(|l| l.wp.clone()).collect(),
        worktree_removed: outcome.merged.iter().all(|l| l.removed_worktree),
        commits: outcome
            .merged
            .iter()
            .map(|l| serde_json::json!({"wp_id": l.wp, "commit": l.commit}))
            .collect(),
        pushed,
    })
}

/// Every reason the dry run found not to land the whole mission, as one error; else the
/// target branch.
fn preflight(
    m: &Mission<'_>,
    states: &crate::workspace::States,
    preview: &Outcome,
    target: Option<&str>,
) -> Result<String, ApiError> {
    let lanes = m.ws.lanes(m.feature, states);
    let mut errors: Vec<String> = preview
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.wp, s.reason))
        .collect();
    for (wp, info) in m.feature.wps.iter().zip(&lanes) {
        let listed = preview.skipped.iter().any(|s| s.wp == wp.id.as_str());
        if !matches!(info.lane, Lane::Approved | Lane::Done | Lane::Canceled) && !listed {
            errors.push(format!("{}: not approved ({})", wp.id, info.lane));
        }
    }
    for c in &preview.conflicts {
        errors.push(format!(
            "{}: conflicts with {}: {}",
            c.wp,
            c.target,
            c.paths.join(", ")
        ));
    }
    let resolved = crate::workflow::base::target_branch(m.ws, m.feature, None)
        .map(|(name, _)| name)
        .map_err(|e| ApiError::from_error(ErrorCode::PreflightFailed, &e))?;
    if let Some(wanted) = target {
        for l in preview.merged.iter().filter(|l| l.target != wanted) {
            errors.push(format!(
                "{}: lands on {}, not on --target {wanted} (set merge_target_branch in its file, or kitty.targetBranch)",
                l.wp, l.target
            ));
        }
        if preview.merged.is_empty() && resolved != wanted {
            errors.push(format!(
                "the mission's target branch is {resolved}, not --target {wanted}"
            ));
        }
    }
    if errors.is_empty() {
        return Ok(preview
            .merged
            .first()
            .map_or(resolved, |l| l.target.clone()));
    }
    Err(ApiError::new(
        ErrorCode::PreflightFailed,
        format!(
            "{} cannot land as a whole; nothing was merged: {}",
            m.slug(),
            errors.join("; ")
        ),
    )
    .with("mission_slug", m.slug())
    .with("target_branch", target.unwrap_or(&resolved))
    .with("errors", &errors))
}

fn landed_ids(merged: Option<&Value>) -> Vec<String> {
    merged
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|l| l["wp"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// `--push`: the target branch, then the mission's state refs, to the remote (`kitty.remote`,
/// else `origin`).
fn push_failed(m: &Mission<'_>, e: &crate::error::Error, landed: &[String]) -> ApiError {
    ApiError::from_error(ErrorCode::PushFailed, e)
        .with("mission_slug", m.slug())
        .with("merged_wps", landed)
}

/// Send the state the remote lacks (the approvals) before landing; the remote's name.
fn push_approvals(m: &Mission<'_>, actor: &str) -> Result<String, ApiError> {
    let remote = crate::sync::remote_name(&m.ws.repo, None).map_err(|e| push_failed(m, &e, &[]))?;
    crate::workflow::publish::before(m.ws, &remote, actor, &m.feature.slug)
        .map_err(|e| push_failed(m, &e, &[]))?;
    Ok(remote)
}

/// After landing: each target that moved, then the state saying what landed.
fn push_target(
    m: &Mission<'_>,
    remote: &str,
    actor: &str,
    outcome: &Outcome,
) -> Result<bool, ApiError> {
    let landed: Vec<String> = outcome.merged.iter().map(|l| l.wp.clone()).collect();
    crate::workflow::publish::after(m.ws, remote, actor, &m.feature.slug, outcome)
        .map_err(|e| push_failed(m, &e, &landed))?;
    Ok(true)
}
