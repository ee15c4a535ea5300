//! The calls that move a WP or add to its history: `start-implementation`, `start-review`,
//! `transition`, `append-history`. Each is one of git kitty's own workflows with the
//! orchestrator's policy recorded on the event.

use serde::Serialize;
use serde_json::Value;

use super::reads::to_value;
use super::{ApiError, ErrorCode, Mission, Transition, api_lane, internal, policy};
use crate::error::{Error, ErrorKind};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::state::schema::{EventKind, Policy, WpState};
use crate::state::store::{self, Appended};
use crate::workflow::implement::{self, Implemented};
use crate::workflow::lane::{self, Move, Provenance};

#[derive(Serialize)]
struct Started {
    mission_slug: String,
    wp_id: String,
    from_lane: &'static str,
    to_lane: &'static str,
    /// Absolute path of the WP's worktree (made by this call, or already there).
    workspace_path: String,
    prompt_path: String,
    policy_metadata_recorded: bool,
    /// The WP already was in progress by this actor: nothing was claimed again.
    no_op: bool,
    branch: String,
}

/// `start-implementation`: planned (or claimed) -> in_progress with its branch and worktree,
/// as `git kitty implement` does (the dependency gate first). The same actor again gets its
/// worktree back (`no_op`).
pub(super) fn start_implementation(
    m: &Mission<'_>,
    typed_wp: &str,
    actor: &str,
    raw_policy: Option<&str>,
) -> Result<Value, ApiError> {
    let policy = policy::required(raw_policy, "start-implementation")?;
    let actor = super::actor(actor)?;
    let wp = m.wp(typed_wp)?;
    let current = current_state(m, &wp)?;
    check_holder(m, &wp, &current, &actor)?;
    if !matches!(
        current.lane,
        Lane::Planned | Lane::Claimed | Lane::InProgress
    ) {
        return Err(rejected(format!(
            "{wp} is {}: start-implementation starts planned work",
            api_lane(current.lane)
        )));
    }
    let remote = sync_remote(m, &actor)?;
    let (states, _) =
        m.ws.read_states(Some(&[m.feature]))
            .map_err(|e| internal(&e))?;
    let provenance = Provenance {
        policy: Some(policy),
        ..Default::default()
    };
    let req = implement::Request {
        feature: m.feature,
        wp: wp.clone(),
        bases: Vec::new(),
        actor: actor.clone(),
        force: false,
        reason: None,
        remote,
        provenance: provenance.clone(),
    };
    let done = implement::implement(m.ws, &states, &req)
        .map_err(|e| implement_error(m, &wp, &actor, &e))?;
    let mut written = !done.reused;
    if done.lane == Lane::Claimed {
        // Claimed earlier with `lane claimed`: the work starts now.
        written |= move_to(m, &wp, Lane::InProgress, &actor, provenance)?;
    }
    to_value(started(m, &wp, &current, &done, written))
}

fn started(
    m: &Mission<'_>,
    wp: &WpId,
    before: &WpState,
    done: &Implemented,
    written: bool,
) -> Started {
    Started {
        mission_slug: m.slug().to_owned(),
        wp_id: wp.to_string(),
        from_lane: api_lane(before.lane),
        to_lane: Lane::InProgress.as_str(),
        workspace_path: done.worktree.display().to_string(),
        prompt_path: m.prompt_path(wp),
        policy_metadata_recorded: written,
        no_op: !written,
        branch: done.branch.clone(),
    }
}

/// With `kitty.syncClaims`, claims are confirmed with the remote, as for `git kitty implement`.
fn sync_remote(m: &Mission<'_>, actor: &str) -> Result<Option<String>, ApiError> {
    if !crate::sync::claims_synced(&m.ws.repo, false) {
        return Ok(None);
    }
    let fail = |e: Error| ApiError::from_error(ErrorCode::LaneAllocationFailed, &e);
    let remote = crate::sync::remote_name(&m.ws.repo, None).map_err(fail)?;
    crate::sync::refresh(m.ws, &remote, &m.feature.slug, actor).map_err(fail)?;
    Ok(Some(remote))
}

/// `implement` refused or failed: who holds it, the gate, or the branch and worktree.
fn implement_error(m: &Mission<'_>, wp: &WpId, actor: &str, e: &Error) -> ApiError {
    let details = e.details.as_ref();
    if let Some(holder) = details.and_then(|d| d["holder"].as_str()) {
        return claimed(m, wp, holder, actor);
    }
    match e.kind {
        ErrorKind::Refused if details.is_some_and(|d| d.get("unmet").is_some()) => {
            let unmet: Vec<String> = details
                .and_then(|d| d["unmet"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|u| u["wp"].as_str().map(str::to_owned))
                .collect();
            ApiError::from_error(ErrorCode::DependenciesNotSatisfied, e)
                .with("mission_slug", m.slug())
                .with("wp_id", wp.as_str())
                .with("unsatisfied_dependencies", unmet)
        }
        ErrorKind::Refused | ErrorKind::Usage => {
            ApiError::from_error(ErrorCode::TransitionRejected, e)
        }
        _ => ApiError::from_error(ErrorCode::LaneAllocationFailed, e),
    }
}

/// The WP's state now (what the plan says before its first event).
fn current_state(m: &Mission<'_>, wp: &WpId) -> Result<WpState, ApiError> {
    Ok(store::read(&m.ws.repo, &m.feature.slug, wp)
        .map_err(|e| internal(&e))?
        .map(|t| t.state)
        .unwrap_or_else(|| m.ws.initial_state(m.feature, wp)))
}

/// Another actor holds the WP: `WP_ALREADY_CLAIMED`.
fn check_holder(m: &Mission<'_>, wp: &WpId, state: &WpState, actor: &str) -> Result<(), ApiError> {
    match state.holder() {
        Some(holder) if holder != actor => Err(claimed(m, wp, holder, actor)),
        _ => Ok(()),
    }
}

fn claimed(m: &Mission<'_>, wp: &WpId, holder: &str, actor: &str) -> ApiError {
    ApiError::new(
        ErrorCode::WpAlreadyClaimed,
        format!("{wp} is already claimed by {holder}"),
    )
    .with("mission_slug", m.slug())
    .with("wp_id", wp.as_str())
    .with("claimed_by", holder)
    .with("requesting_actor", actor)
}

fn rejected(message: String) -> ApiError {
    ApiError::new(ErrorCode::TransitionRejected, message)
}

/// Move `wp` to `to` through `git kitty lane`'s workflow; whether an event was written.
fn move_to(
    m: &Mission<'_>,
    wp: &WpId,
    to: Lane,
    actor: &str,
    provenance: Provenance,
) -> Result<bool, ApiError> {
    let mv = Move {
        feature: m.feature,
        wp,
        to,
        actor,
        note: None,
        force: false,
        reason: None,
        sync: false,
        provenance,
    };
    let moved = lane::move_wp(m.ws, &mv).map_err(|e| move_error(&e))?;
    Ok(matches!(moved.outcome, Appended::Written(_)))
}

/// A move the lane rules refused is `TRANSITION_REJECTED` (with who holds the WP, when that
/// is why); anything else failed underneath.
fn move_error(e: &Error) -> ApiError {
    match e.kind {
        ErrorKind::Refused | ErrorKind::Usage => {
            ApiError::from_error(ErrorCode::TransitionRejected, e)
        }
        _ => internal(e),
    }
}

#[derive(Serialize)]
struct Reviewing {
    mission_slug: String,
    wp_id: String,
    from_lane: &'static str,
    to_lane: &'static str,
    prompt_path: String,
    policy_metadata_recorded: bool,
    no_op: bool,
}

/// `start-review`: for_review -> in_review, the actor becoming the reviewer (who may be the
/// implementer: the client runs everything as one actor).
pub(super) fn start_review(
    m: &Mission<'_>,
    typed_wp: &str,
    actor: &str,
    raw_policy: Option<&str>,
    review_ref: Option<&str>,
) -> Result<Value, ApiError> {
    let policy = policy::required(raw_policy, "start-review")?;
    let actor = super::actor(actor)?;
    let wp = m.wp(typed_wp)?;
    let current = current_state(m, &wp)?;
    check_holder(m, &wp, &current, &actor)?;
    if !matches!(current.lane, Lane::ForReview | Lane::InReview) {
        return Err(rejected(format!(
            "{wp} is {}: start-review takes a WP that is for_review",
            api_lane(current.lane)
        )));
    }
    let provenance = Provenance {
        policy: Some(policy),
        review_ref: review_ref.map(str::to_owned),
        evidence: None,
    };
    let written = move_to(m, &wp, Lane::InReview, &actor, provenance)?;
    to_value(Reviewing {
        mission_slug: m.slug().to_owned(),
        wp_id: wp.to_string(),
        from_lane: api_lane(current.lane),
        to_lane: Lane::InReview.as_str(),
        prompt_path: m.prompt_path(&wp),
        policy_metadata_recorded: written,
        no_op: !written,
    })
}

#[derive(Serialize)]
struct Moved {
    mission_slug: String,
    wp_id: String,
    from_lane: &'static str,
    to_lane: &'static str,
    policy_metadata_recorded: bool,
    /// Whether anything was written (false: the WP already was there).
    changed: bool,
    /// The move needed `--force` (outside the transition table, or someone else's WP).
    forced: bool,
}

/// What a `transition` asks for, checked before anything is read.
struct Asked {
    to: Lane,
    policy: Option<Policy>,
    evidence: Option<Value>,
    review_ref: Option<String>,
    note: Option<String>,
}

/// `transition --to LANE`: one move by git kitty's rules. `done` (and `approved`) record the
/// review's acceptance, git kitty's `approved`; `--force` forces only what the rules refuse.
pub(super) fn transition(m: &Mission<'_>, t: &Transition) -> Result<Value, ApiError> {
    let asked = check_transition(t)?;
    let actor = super::actor(&t.actor)?;
    let wp = m.wp(&t.wp)?;
    let current = current_state(m, &wp)?;
    let to = match asked.to {
        Lane::Done => Lane::Approved,
        other => other,
    };
    let accepted = matches!(current.lane, Lane::Approved | Lane::Done);
    let recorded = asked.policy.is_some();
    let mut mv = Move {
        feature: m.feature,
        wp: &wp,
        to,
        actor: &actor,
        note: asked.note,
        force: false,
        reason: None,
        sync: false,
        provenance: Provenance {
            policy: asked.policy,
            review_ref: asked.review_ref,
            evidence: asked.evidence,
        },
    };
    let (outcome, forced) = if to == Lane::Approved && accepted {
        (None, false) // accepted already (or landed): nothing to record
    } else {
        match lane::move_wp(m.ws, &mv) {
            Ok(moved) => (Some(moved.outcome), false),
            Err(e) if t.force && e.kind == ErrorKind::Refused => {
                mv.force = true;
                mv.reason = Some(
                    mv.note
                        .clone()
                        .unwrap_or_else(|| "forced through git kitty orchestrator-api".to_owned()),
                );
                let moved = lane::move_wp(m.ws, &mv).map_err(|e| move_error(&e))?;
                (Some(moved.outcome), true)
            }
            Err(e) => return Err(move_error(&e)),
        }
    };
    let changed = matches!(outcome, Some(Appended::Written(_)));
    to_value(Moved {
        mission_slug: m.slug().to_owned(),
        wp_id: wp.to_string(),
        from_lane: api_lane(current.lane),
        to_lane: api_lane(to),
        policy_metadata_recorded: recorded && changed,
        changed,
        forced,
    })
}

/// The lane, policy and JSON payloads of a transition, checked.
fn check_transition(t: &Transition) -> Result<Asked, ApiError> {
    let to: Lane =
        t.to.parse()
            .map_err(|why: String| ApiError::new(ErrorCode::UsageError, format!("--to: {why}")))?;
    let policy = if policy::required_for(to) {
        Some(policy::required(
            t.policy.as_deref(),
            &format!("a move to {to}"),
        )?)
    } else {
        policy::optional(t.policy.as_deref())?
    };
    let mut evidence = serde_json::Map::new();
    if let Some(raw) = &t.evidence_json {
        evidence.insert("evidence".into(), json_object(raw, "--evidence-json")?);
    }
    let mut review_ref = t.review_ref.clone().filter(|r| !r.trim().is_empty());
    let mut note = t.note.clone().filter(|n| !n.trim().is_empty());
    if let Some(raw) = &t.review_result_json {
        let result = review_result(raw, to)?;
        review_ref = review_ref.or_else(|| result["reference"].as_str().map(str::to_owned));
        if note.is_none() && result["verdict"] == "changes_requested" {
            note = Some(format!(
                "changes requested by {}",
                result["reviewer"].as_str().unwrap_or("the reviewer")
            ));
        }
        evidence.insert("review_result".into(), result);
    }
    Ok(Asked {
        to,
        policy,
        evidence: (!evidence.is_empty()).then(|| evidence.into()),
        review_ref,
        note,
    })
}

fn json_object(raw: &str, flag: &str) -> Result<Value, ApiError> {
    match serde_json::from_str::<Value>(raw) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(ApiError::new(
            ErrorCode::UsageError,
            format!("{flag} must be a JSON object"),
        )),
        Err(e) => Err(ApiError::new(
            ErrorCode::UsageError,
            format!("{flag} is not valid JSON: {e}"),
        )),
    }
}

/// `--review-result-json`: `{"reviewer", "verdict", "reference"}` (non-empty strings; the
/// verdict `approved` or `changes_requested`, and agreeing with the move).
fn review_result(raw: &str, to: Lane) -> Result<Value, ApiError> {
    let usage = |m: &str| ApiError::new(ErrorCode::UsageError, format!("--review-result-json {m}"));
    let v = json_object(raw, "--review-result-json")?;
    for key in ["reviewer", "verdict", "reference"] {
        if v[key].as_str().is_none_or(|s| s.trim().is_empty()) {
            return Err(usage(&format!("needs a non-empty `{key}` string")));
        }
    }
    let fits = match v["verdict"].as_str() {
        Some("approved") => matches!(to, Lane::Done | Lane::Approved),
        Some("changes_requested") => {
            matches!(to, Lane::InProgress | Lane::Planned | Lane::Blocked)
        }
        _ => return Err(usage("verdict must be `approved` or `changes_requested`")),
    };
    if !fits {
        return Err(rejected(format!(
            "a review verdict `{}` does not fit a move to {to}",
            v["verdict"].as_str().unwrap_or_default()
        )));
    }
    Ok(v)
}

#[derive(Serialize)]
struct HistoryEntry {
    mission_slug: String,
    wp_id: String,
    /// The id of the note event in the WP's history (`git kitty log`).
    history_entry_id: String,
}

/// `append-history`: a note in the WP's history (`git kitty note`); the lane is unchanged and
/// nothing is written to the WP's file.
pub(super) fn append_history(
    m: &Mission<'_>,
    typed_wp: &str,
    actor: &str,
    note: &str,
) -> Result<Value, ApiError> {
    let actor = super::actor(actor)?;
    let wp = m.wp(typed_wp)?;
    if note.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::UsageError, "the note is empty"));
    }
    let initial = || m.ws.initial_state(m.feature, &wp);
    let outcome = store::append(&m.ws.repo, &m.feature.slug, &wp, &initial, &mut |_| {
        let mut event = store::draft(EventKind::Note, &actor);
        event.note = Some(note.trim().to_owned());
        Ok(Some(event))
    })
    .map_err(|e| internal(&e))?;
    let id = match outcome {
        Appended::Written(tip) => tip.event.id,
        Appended::Unchanged(_) => String::new(),
    };
    to_value(HistoryEntry {
        mission_slug: m.slug().to_owned(),
        wp_id: wp.to_string(),
        history_entry_id: id,
    })
}
