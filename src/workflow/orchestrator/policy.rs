//! The `--policy` object an orchestrator sends with every run-affecting call: parsed,
//! checked as Spec Kitty's host checks it, and then recorded with the event it allows.

use serde_json::Value;

use super::envelope::{ApiError, ErrorCode};
use crate::model::lane::Lane;
use crate::state::schema::Policy;

/// Agent flags that switch off an agent's own safety prompts or sandbox: a policy that
/// declares one of them is refused.
pub const BANNED_FLAGS: [&str; 4] = [
    "--full-auto",
    "--yolo",
    "--dangerously-bypass-approvals-and-sandbox",
    "--dangerously-skip-permissions",
];

/// Words that make a value look like a secret (matched anywhere, any case).
const SECRET_WORDS: [&str; 5] = ["token", "secret", "key", "password", "credential"];

const STRING_FIELDS: [&str; 6] = [
    "orchestrator_id",
    "orchestrator_version",
    "agent_family",
    "approval_mode",
    "sandbox_mode",
    "network_mode",
];

/// Moves into these lanes affect a run: they need a policy.
pub fn required_for(to: Lane) -> bool {
    matches!(
        to,
        Lane::Claimed | Lane::InProgress | Lane::ForReview | Lane::InReview | Lane::Approved
    )
}

/// The policy of a call that needs one: missing is `POLICY_METADATA_REQUIRED`, anything
/// wrong with it `POLICY_VALIDATION_FAILED`.
pub fn required(raw: Option<&str>, what: &str) -> Result<Policy, ApiError> {
    match raw.filter(|r| !r.trim().is_empty()) {
        Some(raw) => parse(raw),
        None => Err(ApiError::new(
            ErrorCode::PolicyMetadataRequired,
            format!("--policy is required for {what}"),
        )),
    }
}

/// The policy of a call where it is optional: checked all the same when given.
pub fn optional(raw: Option<&str>) -> Result<Option<Policy>, ApiError> {
    raw.filter(|r| !r.trim().is_empty()).map(parse).transpose()
}

/// Parse and check a policy: a JSON object with the seven required fields (six strings and
/// `dangerous_flags`, a list of strings without a banned flag), `tool_restrictions` a string
/// or null, and no string anywhere in it that looks like a secret.
pub fn parse(raw: &str) -> Result<Policy, ApiError> {
    let invalid = |msg: String| ApiError::new(ErrorCode::PolicyValidationFailed, msg);
    let value: Value = serde_json::from_str(raw)
        .map_err(|e| invalid(format!("--policy is not valid JSON: {e}")))?;
    let Value::Object(map) = &value else {
        return Err(invalid("--policy must be a JSON object".into()));
    };
    for field in STRING_FIELDS.iter().chain(&["dangerous_flags"]) {
        if !map.contains_key(*field) {
            return Err(invalid(format!(
                "--policy is missing the required field `{field}`"
            )));
        }
    }
    let mut strings = Vec::new();
    for field in STRING_FIELDS {
        match &map[field] {
            Value::String(s) => strings.push(s.clone()),
            _ => {
                return Err(invalid(format!(
                    "--policy field `{field}` must be a string"
                )));
            }
        }
    }
    let flags = dangerous_flags(&map["dangerous_flags"]).map_err(invalid)?;
    let tool_restrictions = match map.get("tool_restrictions") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(invalid(
                "--policy field `tool_restrictions` must be a string or null".into(),
            ));
        }
    };
    for (key, v) in map {
        if let Some(path) = secret_like(key, v) {
            return Err(invalid(format!(
                "--policy field `{path}` looks like a secret (it contains one of: {}); never pass secrets in --policy",
                SECRET_WORDS.join(", ")
            )));
        }
    }
    let [id, version, family, approval, sandbox, network] =
        <[String; 6]>::try_from(strings).map_err(|_| invalid("--policy is incomplete".into()))?;
    Ok(Policy {
        orchestrator_id: id,
        orchestrator_version: version,
        agent_family: family,
        approval_mode: approval,
        sandbox_mode: sandbox,
        network_mode: network,
        dangerous_flags: flags,
        tool_restrictions,
    })
}

fn dangerous_flags(value: &Value) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err("--policy field `dangerous_flags` must be a list".into());
    };
    let mut flags = Vec::with_capacity(items.len());
    for item in items {
        let Value::String(flag) = item else {
            return Err("--policy field `dangerous_flags` must hold strings only".into());
        };
        if BANNED_FLAGS.contains(&flag.as_str()) {
            return Err(format!(
                "--policy declares the banned flag `{flag}`: git kitty does not drive agents that run without their safety checks"
            ));
        }
        flags.push(flag.clone());
    }
    Ok(flags)
}

/// The path (`field`, `field.sub`, `field[2]`) of the first string under `value` that looks
/// like a secret. The value itself is never repeated: it may be one.
fn secret_like(path: &str, value: &Value) -> Option<String> {
    match value {
        Value::String(s) => {
            let lower = s.to_lowercase();
            SECRET_WORDS
                .iter()
                .any(|w| lower.contains(w))
                .then(|| path.to_owned())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| secret_like(&format!("{path}[{i}]"), v)),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| secret_like(&format!("{path}.{k}"), v)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(extra: &str) -> String {
        format!(
            r#"{{"orchestrator_id":"spec-kitty-orchestrator","orchestrator_version":"0.1.2","agent_family":"claude","approval_mode":"full_auto","sandbox_mode":"workspace_write","network_mode":"none","dangerous_flags":[]{extra}}}"#
        )
    }

    fn code(raw: &str) -> ErrorCode {
        parse(raw).unwrap_err().code
    }

    #[test]
    fn the_clients_default_policy_passes() {
        let p = parse(&policy(r#","tool_restrictions":null"#)).unwrap();
        assert_eq!(p.orchestrator_id, "spec-kitty-orchestrator");
        assert_eq!(p.agent_family, "claude");
        assert!(p.dangerous_flags.is_empty() && p.tool_restrictions.is_none());
        let p = parse(&policy(r#","tool_restrictions":"Read,Edit""#)).unwrap();
        assert_eq!(p.tool_restrictions.as_deref(), Some("Read,Edit"));
    }

    #[test]
    fn shape_errors() {
        assert_eq!(code("{"), ErrorCode::PolicyValidationFailed);
        assert_eq!(code("[]"), ErrorCode::PolicyValidationFailed);
        let missing = parse(r#"{"orchestrator_id":"x"}"#).unwrap_err();
        assert!(
            missing.message.contains("orchestrator_version"),
            "{}",
            missing.message
        );
        let not_string = policy("").replace(r#""claude""#, "7");
        assert_eq!(code(&not_string), ErrorCode::PolicyValidationFailed);
        let not_list = policy("").replace(r#""dangerous_flags":[]"#, r#""dangerous_flags":"x""#);
        assert_eq!(code(&not_list), ErrorCode::PolicyValidationFailed);
        assert_eq!(
            code(&policy(r#","tool_restrictions":3"#)),
            ErrorCode::PolicyValidationFailed
        );
        assert_eq!(
            required(None, "x").unwrap_err().code,
            ErrorCode::PolicyMetadataRequired
        );
        assert_eq!(
            required(Some(" "), "x").unwrap_err().code,
            ErrorCode::PolicyMetadataRequired
        );
        assert_eq!(optional(None).unwrap(), None);
    }

    #[test]
    fn banned_flags_are_refused_and_others_kept() {
        for flag in BANNED_FLAGS {
            let raw = policy("").replace(
                r#""dangerous_flags":[]"#,
                &format!(r#""dangerous_flags":["--verbose","{flag}"]"#),
            );
            let err = parse(&raw).unwrap_err();
            assert_eq!(err.code, ErrorCode::PolicyValidationFailed);
            assert!(err.message.contains(flag), "{}", err.message);
        }
        let raw = policy("").replace(
            r#""dangerous_flags":[]"#,
            r#""dangerous_flags":["--no-sandbox-prompt"]"#,
        );
        assert_eq!(
            parse(&raw).unwrap().dangerous_flags,
            ["--no-sandbox-prompt"]
        );
    }

    #[test]
    fn secret_looking_values_are_refused_at_any_depth_without_echoing_them() {
        for (extra, path) in [
            (r#","note":"my API_KEY=abc""#, "note"),
            (
                r#","nested":{"deep":["ok","Bearer TOKEN xyz"]}"#,
                "nested.deep[1]",
            ),
            (r#","x":{"password":"hunter2"}"#, ""),
            (r#","creds":"CredentialStore""#, "creds"),
        ] {
            let raw = policy(extra);
            if path.is_empty() {
                // Keys are names, not values: only values are checked.
                assert!(parse(&raw).is_ok(), "{raw}");
                continue;
            }
            let err = parse(&raw).unwrap_err();
            assert_eq!(err.code, ErrorCode::PolicyValidationFailed, "{raw}");
            assert!(
                err.message.contains(&format!("`{path}`")),
                "{}",
                err.message
            );
            assert!(!err.message.contains("abc") && !err.message.contains("xyz"));
        }
        let raw = policy("").replace("spec-kitty-orchestrator", "secret-bot");
        assert_eq!(code(&raw), ErrorCode::PolicyValidationFailed);
    }

    #[test]
    fn which_moves_need_a_policy() {
        let needs: Vec<Lane> = Lane::ALL.into_iter().filter(|l| required_for(*l)).collect();
        assert_eq!(
            needs,
            [
                Lane::Claimed,
                Lane::InProgress,
                Lane::ForReview,
                Lane::InReview,
                Lane::Approved
            ]
        );
    }
}
