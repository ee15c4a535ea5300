//! The calls that only read: `contract-version`, `mission-state`, `list-ready`,
//! `resolve-workspace`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{
    API_LANES, ApiError, CONTRACT_VERSION, ErrorCode, MIN_PROVIDER_VERSION, Mission, api_lane,
    internal,
};
use crate::model::lane::Lane;
use crate::workflow::base::worktree_rel;

#[derive(Serialize)]
struct ContractVersion {
    api_version: &'static str,
    min_supported_provider_version: &'static str,
}

/// `contract-version [--provider-version V]`: this host's contract; a provider older than
/// [`MIN_PROVIDER_VERSION`] (or not a version) is `CONTRACT_VERSION_MISMATCH`.
pub(super) fn contract_version(provider: Option<&str>) -> Result<Value, ApiError> {
    if let Some(given) = provider {
        let mismatch = |why: String| {
            ApiError::new(ErrorCode::ContractVersionMismatch, why)
                .with("provider_version", given)
                .with("min_supported_provider_version", MIN_PROVIDER_VERSION)
                .with("api_version", CONTRACT_VERSION)
        };
        let Some(version) = parse_version(given) else {
            return Err(mismatch(format!(
                "provider version `{}` is not a version (like 0.1.2)",
                given.escape_debug()
            )));
        };
        if version < parse_version(MIN_PROVIDER_VERSION).unwrap_or_default() {
            return Err(mismatch(format!(
                "provider version {given} is below the minimum {MIN_PROVIDER_VERSION}"
            )));
        }
    }
    to_value(ContractVersion {
        api_version: CONTRACT_VERSION,
        min_supported_provider_version: MIN_PROVIDER_VERSION,
    })
}

/// `1.2.3` (also `1.2`, `1`, and a pre-release or build suffix after `-`/`+`, ignored) as
/// numbers.
fn parse_version(s: &str) -> Option<Vec<u64>> {
    let core = s.trim().split(['-', '+']).next()?;
    let core = core.strip_prefix('v').unwrap_or(core);
    let mut parts: Vec<u64> = core
        .split('.')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    parts.resize(4, 0);
    Some(parts)
}

#[derive(Serialize)]
struct MissionState {
    mission_slug: String,
    /// WPs per lane, for every lane of the contract.
    summary: BTreeMap<&'static str, usize>,
    work_packages: Vec<WpEntry>,
}

#[derive(Serialize)]
struct WpEntry {
    wp_id: String,
    lane: &'static str,
    dependencies: Vec<String>,
    /// Who wrote the WP's last event (`null` before any).
    last_actor: Option<String>,
    /// git kitty's own lane (`approved` shows as `done` in `lane`).
    kitty_lane: Lane,
    /// Landed on the target branch (git kitty's `done`).
    merged: bool,
}

/// `mission-state --mission M`: every WP's lane, dependencies and last actor.
pub(super) fn mission_state(m: &Mission<'_>) -> Result<Value, ApiError> {
    let (states, _) =
        m.ws.read_states(Some(&[m.feature]))
            .map_err(|e| internal(&e))?;
    let lanes = m.ws.lanes(m.feature, &states);
    let mut summary: BTreeMap<&'static str, usize> =
        API_LANES.iter().map(|l| (l.as_str(), 0)).collect();
    let mut work_packages = Vec::with_capacity(m.feature.wps.len());
    for (wp, info) in m.feature.wps.iter().zip(&lanes) {
        let lane = api_lane(info.lane);
        *summary.entry(lane).or_default() += 1;
        let tip = states.get(&(m.feature.slug.clone(), wp.id.clone()));
        work_packages.push(WpEntry {
            wp_id: wp.id.to_string(),
            lane,
            dependencies: wp.dependencies().map(|d| d.to_string()).collect(),
            last_actor: tip.map(|t| t.event.actor.clone()),
            kitty_lane: info.lane,
            merged: info.lane == Lane::Done,
        });
    }
    to_value(MissionState {
        mission_slug: m.slug().to_owned(),
        summary,
        work_packages,
    })
}

#[derive(Serialize)]
struct ListReady {
    mission_slug: String,
    ready_work_packages: Vec<ReadyEntry>,
}

#[derive(Serialize)]
struct ReadyEntry {
    wp_id: String,
    lane: &'static str,
    dependencies_satisfied: bool,
    /// The dependency to start from, as Spec Kitty names it (git kitty computes the base
    /// itself: one dependency's branch, or a merge of several).
    recommended_base: Option<String>,
}

/// `list-ready --mission M`: planned WPs whose dependencies are all approved or done, the one
/// that unblocks the most work first (the board's `ready`).
pub(super) fn list_ready(m: &Mission<'_>) -> Result<Value, ApiError> {
    let snapshot = crate::board::read(m.ws, vec![m.feature], false).map_err(|e| internal(&e))?;
    let board = &snapshot.board.features[0];
    let ready = board
        .ready
        .iter()
        .map(|id| ReadyEntry {
            wp_id: id.clone(),
            lane: Lane::Planned.as_str(),
            dependencies_satisfied: true,
            recommended_base: board
                .work_packages
                .iter()
                .find(|w| &w.id == id)
                .and_then(|w| w.dependencies.last().cloned()),
        })
        .collect();
    to_value(ListReady {
        mission_slug: m.slug().to_owned(),
        ready_work_packages: ready,
    })
}

#[derive(Serialize)]
struct Workspace {
    mission_slug: String,
    wp_id: String,
    /// Absolute: where the WP's worktree is (or will be, once started).
    workspace_path: String,
    prompt_path: String,
    /// The WP's branch (`<feature>-<WP>`).
    branch: String,
    /// Whether the worktree is there now.
    exists: bool,
}

/// `resolve-workspace --mission M --wp W`: where a WP's worktree is, changing nothing.
pub(super) fn resolve_workspace(m: &Mission<'_>, typed: &str) -> Result<Value, ApiError> {
    let wp = m.wp(typed)?;
    let tip =
        crate::state::store::read(&m.ws.repo, &m.feature.slug, &wp).map_err(|e| internal(&e))?;
    let main = m.ws.repo.main_workdir().unwrap_or(&m.ws.plan_root);
    let rel = tip
        .as_ref()
        .and_then(|t| t.state.worktree.clone())
        .unwrap_or_else(|| worktree_rel(m.feature, &wp));
    let branch = tip
        .and_then(|t| t.state.branch)
        .unwrap_or_else(|| crate::workflow::base::branch_name(m.feature, &wp));
    let path = main.join(rel);
    to_value(Workspace {
        mission_slug: m.slug().to_owned(),
        wp_id: wp.to_string(),
        exists: path.is_dir(),
        workspace_path: path.display().to_string(),
        prompt_path: m.prompt_path(&wp),
        branch,
    })
}

pub(super) fn to_value(data: impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(data).map_err(|e| {
        ApiError::new(
            ErrorCode::InternalError,
            format!("cannot encode the answer: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        assert!(parse_version("0.10.0") > parse_version("0.9.9"));
        assert_eq!(parse_version("1.2"), parse_version("1.2.0"));
        assert_eq!(parse_version("v0.1.2-rc1"), parse_version("0.1.2"));
        assert_eq!(parse_version("abc"), None);
        assert_eq!(parse_version(""), None);
        assert!(contract_version(Some("0.1.2")).is_ok());
        assert!(contract_version(None).is_ok());
        let old = contract_version(Some("0.0.9")).unwrap_err();
        assert_eq!(old.code, ErrorCode::ContractVersionMismatch);
        assert_eq!(old.data["min_supported_provider_version"], "0.1.0");
        assert_eq!(
            contract_version(Some("new")).unwrap_err().code,
            ErrorCode::ContractVersionMismatch
        );
    }
}
