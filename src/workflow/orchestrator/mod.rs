//! Spec Kitty's orchestrator host contract (1.5.0), served by git kitty's own workflows.
//!
//! An external orchestrator (`spec-kitty-orchestrator`) runs `spec-kitty orchestrator-api
//! <command> [flags]` and reads one JSON [`Envelope`] from stdout. With a `spec-kitty` shim
//! that runs `git kitty`, every call lands here: claims and worktrees go through
//! [`implement`](crate::workflow::implement), lane moves through [`lane`](crate::workflow::lane)
//! (the same rules, refs and compare-and-swap as `git kitty lane`), notes into the WP's
//! history, the mission merge through [`merge`](crate::workflow::merge). Nothing is written
//! to WP files.
//!
//! **Lanes.** The contract speaks Spec Kitty's lanes. They are git kitty's, with one
//! difference of meaning: for Spec Kitty a WP is `done` once its review accepted it, and the
//! mission merge comes after; for git kitty that WP is `approved`, and `done` means landed on
//! the target branch. So a move to `done` (or `approved`) records git kitty's `approved`, and
//! git kitty's `approved` and `done` are both reported as `done` (with `merged` telling them
//! apart). docs/orchestrator.md has the whole contract.

pub mod envelope;
mod mission;
pub mod policy;
mod reads;
mod writes;

use std::path::Path;

pub use envelope::{ApiError, CONTRACT_VERSION, Envelope, ErrorCode, MIN_PROVIDER_VERSION};

use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::workspace::Workspace;

/// One call of the contract, with its arguments as the client sends them.
#[derive(Debug, Clone)]
pub enum Call {
    ContractVersion {
        provider_version: Option<String>,
    },
    MissionState {
        mission: String,
    },
    ListReady {
        mission: String,
    },
    ResolveWorkspace {
        mission: String,
        wp: String,
    },
    StartImplementation {
        mission: String,
        wp: String,
        actor: String,
        policy: Option<String>,
    },
    StartReview {
        mission: String,
        wp: String,
        actor: String,
        policy: Option<String>,
        review_ref: Option<String>,
    },
    Transition(Transition),
    AppendHistory {
        mission: String,
        wp: String,
        actor: String,
        note: String,
    },
    AcceptMission {
        mission: String,
        actor: String,
    },
    MergeMission {
        mission: String,
        target: Option<String>,
        strategy: String,
        push: bool,
    },
}

/// `transition`: one lane move.
#[derive(Debug, Clone, Default)]
pub struct Transition {
    pub mission: String,
    pub wp: String,
    pub to: String,
    pub actor: String,
    pub note: Option<String>,
    pub policy: Option<String>,
    pub force: bool,
    pub review_ref: Option<String>,
    pub review_result_json: Option<String>,
    pub evidence_json: Option<String>,
    /// Spec Kitty's guards for `for_review`; git kitty checks the worktree itself.
    pub subtasks_complete: Option<bool>,
    pub implementation_evidence_present: Option<bool>,
}

impl Call {
    /// The command's name, as in `orchestrator-api.<name>`.
    pub fn name(&self) -> &'static str {
        match self {
            Call::ContractVersion { .. } => "contract-version",
            Call::MissionState { .. } => "mission-state",
            Call::ListReady { .. } => "list-ready",
            Call::ResolveWorkspace { .. } => "resolve-workspace",
            Call::StartImplementation { .. } => "start-implementation",
            Call::StartReview { .. } => "start-review",
            Call::Transition(_) => "transition",
            Call::AppendHistory { .. } => "append-history",
            Call::AcceptMission { .. } => "accept-mission",
            Call::MergeMission { .. } => "merge-mission",
        }
    }

    /// The mission (feature) the call is about, if any.
    fn mission(&self) -> Option<&str> {
        match self {
            Call::ContractVersion { .. } => None,
            Call::MissionState { mission }
            | Call::ListReady { mission }
            | Call::ResolveWorkspace { mission, .. }
            | Call::StartImplementation { mission, .. }
            | Call::StartReview { mission, .. }
            | Call::AppendHistory { mission, .. }
            | Call::AcceptMission { mission, .. }
            | Call::MergeMission { mission, .. } => Some(mission),
            Call::Transition(t) => Some(&t.mission),
        }
    }
}

/// Answer one call, run in `cwd`: the envelope to print (its exit code with it).
pub fn answer(cwd: &Path, call: &Call) -> (Envelope, u8) {
    match dispatch(cwd, call) {
        Ok(data) => (Envelope::ok(call.name(), data), 0),
        Err(err) => (Envelope::failed(call.name(), &err), err.exit_code()),
    }
}

fn dispatch(cwd: &Path, call: &Call) -> Result<serde_json::Value, ApiError> {
    let Some(mission) = call.mission() else {
        let Call::ContractVersion { provider_version } = call else {
            unreachable!("every other call names a mission")
        };
        return reads::contract_version(provider_version.as_deref());
    };
    let slug = mission_slug(mission)?;
    // Only the mission's feature is read: the others cost time and cannot matter.
    let ws = Workspace::open(cwd, Some(&slug))
        .map_err(|e| ApiError::from_error(ErrorCode::MissionNotFound, &e))?;
    let feature = ws.plan.feature(slug.as_str()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::MissionNotFound,
            format!("mission `{slug}` not found in kitty-specs/"),
        )
        .with("mission_slug", slug.as_str())
    })?;
    let m = Mission { ws: &ws, feature };
    match call {
        Call::ContractVersion { .. } => unreachable!("handled above"),
        Call::MissionState { .. } => reads::mission_state(&m),
        Call::ListReady { .. } => reads::list_ready(&m),
        Call::ResolveWorkspace { wp, .. } => reads::resolve_workspace(&m, wp),
        Call::StartImplementation {
            wp, actor, policy, ..
        } => writes::start_implementation(&m, wp, actor, policy.as_deref()),
        Call::StartReview {
            wp,
            actor,
            policy,
            review_ref,
            ..
        } => writes::start_review(&m, wp, actor, policy.as_deref(), review_ref.as_deref()),
        Call::Transition(t) => writes::transition(&m, t),
        Call::AppendHistory {
            wp, actor, note, ..
        } => writes::append_history(&m, wp, actor, note),
        Call::AcceptMission { actor, .. } => mission::accept(&m, actor),
        Call::MergeMission {
            target,
            strategy,
            push,
            ..
        } => mission::merge(&m, target.as_deref(), strategy, *push),
    }
}

/// The mission a call is about: the workspace and the feature.
struct Mission<'w> {
    ws: &'w Workspace,
    feature: &'w Feature,
}

impl Mission<'_> {
    /// A WP of the mission, as the plan spells it (`wp01` -> `WP01`).
    fn wp(&self, typed: &str) -> Result<WpId, ApiError> {
        let not_found = || {
            ApiError::new(
                ErrorCode::WpNotFound,
                format!(
                    "work package `{}` not found in {}",
                    typed.escape_debug(),
                    self.feature.slug
                ),
            )
            .with("mission_slug", self.feature.slug.as_str())
            .with("wp_id", typed)
        };
        let wp: WpId = typed.parse().map_err(|_| not_found())?;
        let i = self.feature.index_of(&wp).ok_or_else(not_found)?;
        Ok(self.feature.wps[i].id.clone())
    }

    /// The absolute path of a WP's file: the prompt an agent works from.
    fn prompt_path(&self, wp: &WpId) -> String {
        let file = self.feature.wp(wp).map_or("", |w| w.file.as_str());
        self.ws.plan_root.join(file).display().to_string()
    }

    fn slug(&self) -> &str {
        self.feature.slug.as_str()
    }
}

fn mission_slug(typed: &str) -> Result<FeatureSlug, ApiError> {
    typed.parse().map_err(|why: String| {
        ApiError::new(
            ErrorCode::MissionNotFound,
            format!("mission `{}` not found: {why}", typed.escape_debug()),
        )
    })
}

/// A lane as the contract reports it: git kitty's `approved` (review accepted, waiting for
/// the mission merge) is Spec Kitty's `done`.
pub fn api_lane(lane: Lane) -> &'static str {
    match lane {
        Lane::Approved => Lane::Done.as_str(),
        other => other.as_str(),
    }
}

/// The lanes the contract reports, in workflow order.
pub const API_LANES: [Lane; 8] = [
    Lane::Planned,
    Lane::Claimed,
    Lane::InProgress,
    Lane::ForReview,
    Lane::InReview,
    Lane::Done,
    Lane::Blocked,
    Lane::Canceled,
];

/// The actor of a call, checked like `--agent`.
fn actor(typed: &str) -> Result<String, ApiError> {
    crate::workspace::validate_agent(typed)
        .map_err(|e| ApiError::from_error(ErrorCode::UsageError, &e))
}

fn internal(err: &crate::error::Error) -> ApiError {
    ApiError::from_error(ErrorCode::InternalError, err)
}
