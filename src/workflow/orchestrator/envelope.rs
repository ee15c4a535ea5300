//! The one JSON object every `orchestrator-api` call answers with, and the contract's error
//! codes.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::Error;
use crate::util::time;

/// The version of Spec Kitty's orchestrator host contract this host implements.
pub const CONTRACT_VERSION: &str = "1.5.0";
/// The oldest provider (orchestrator) version this host accepts.
pub const MIN_PROVIDER_VERSION: &str = "0.1.0";

/// The contract's machine-readable error codes (the client maps them to its exception types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Missing or unknown arguments, a malformed value (exit 2).
    UsageError,
    ContractVersionMismatch,
    MissionNotFound,
    WpNotFound,
    /// The lane rules refused the move.
    TransitionRejected,
    /// Another actor holds the WP.
    WpAlreadyClaimed,
    PolicyMetadataRequired,
    PolicyValidationFailed,
    /// `accept-mission`: a WP is not approved or done.
    MissionNotReady,
    /// `merge-mission`: something would not land; nothing was changed.
    PreflightFailed,
    DependenciesNotSatisfied,
    UnsupportedStrategy,
    /// `start-implementation`: the branch or worktree could not be made (the claim was
    /// released).
    LaneAllocationFailed,
    /// `merge-mission`: landing stopped part way (what landed is in `data.merged_wps`).
    MergeFailed,
    /// `merge-mission --push`: everything landed locally, the push failed.
    PushFailed,
    /// git, the filesystem or a state object failed.
    InternalError,
}

/// A failed call: its code, a message, and what else the client may want (`data`). Boxed:
/// failures are rare and `Result<T, ApiError>` stays one pointer wide.
#[derive(Debug, Clone)]
pub struct ApiError(Box<ApiErrorData>);

#[derive(Debug, Clone)]
pub struct ApiErrorData {
    pub code: ErrorCode,
    pub message: String,
    pub hints: Vec<String>,
    /// Extra fields of `data` besides `message` (and `hints`).
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl std::ops::Deref for ApiError {
    type Target = ApiErrorData;

    fn deref(&self) -> &ApiErrorData {
        &self.0
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(Box::new(ApiErrorData {
            code,
            message: message.into(),
            hints: Vec::new(),
            data: serde_json::Map::new(),
        }))
    }

    /// A git kitty error reported under `code`: its message, causes and hints are kept.
    pub fn from_error(code: ErrorCode, err: &Error) -> ApiError {
        let mut message = err.message.clone();
        for c in &err.causes {
            message.push_str(": ");
            message.push_str(c);
        }
        let mut api = ApiError::new(code, message);
        api.0.hints = err.hints.clone();
        if let Some(details) = &err.details {
            api = api.with("details", details.clone());
        }
        api
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> ApiError {
        self.0.data.insert(
            key.to_owned(),
            serde_json::to_value(value).unwrap_or(serde_json::Value::Null),
        );
        self
    }

    /// Usage errors exit 2, every other failure 1.
    pub fn exit_code(&self) -> u8 {
        if self.code == ErrorCode::UsageError {
            2
        } else {
            1
        }
    }
}

/// The canonical envelope: exactly these seven keys, in this order.
#[derive(Debug, Serialize)]
pub struct Envelope {
    pub contract_version: &'static str,
    /// `orchestrator-api.<command>`.
    pub command: String,
    pub timestamp: String,
    /// `corr-` and 32 hex digits, unique per answer.
    pub correlation_id: String,
    pub success: bool,
    pub error_code: Option<ErrorCode>,
    pub data: serde_json::Value,
}

impl Envelope {
    /// A successful answer of `command` with `data`.
    pub fn ok(command: &str, data: impl Serialize) -> Envelope {
        let data = serde_json::to_value(data).unwrap_or_else(|_| serde_json::json!({}));
        Envelope::new(command, true, None, data)
    }

    /// A failed answer of `command`: `data` holds `message`, `hints` and the error's fields.
    pub fn failed(command: &str, err: &ApiError) -> Envelope {
        let mut data = serde_json::Map::new();
        data.insert("message".into(), err.message.clone().into());
        if !err.hints.is_empty() {
            data.insert("hints".into(), err.hints.clone().into());
        }
        data.extend(err.data.clone());
        Envelope::new(command, false, Some(err.code), data.into())
    }

    fn new(
        command: &str,
        success: bool,
        error_code: Option<ErrorCode>,
        data: serde_json::Value,
    ) -> Envelope {
        Envelope {
            contract_version: CONTRACT_VERSION,
            command: format!("orchestrator-api.{command}"),
            timestamp: time::format_rfc3339_nanos(time::now_nanos()),
            correlation_id: correlation_id(),
            success,
            error_code,
            data,
        }
    }
}

/// `corr-` + 32 hex digits: the time in nanoseconds, the process id and a counter, so two
/// answers never share one (no randomness needed: the id only has to be unique).
fn correlation_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = time::system_now_nanos() as u64;
    format!(
        "corr-{nanos:016x}{:08x}{:08x}",
        std::process::id(),
        n as u32
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes_have_the_seven_keys_in_order() {
        let ok =
            serde_json::to_value(Envelope::ok("list-ready", serde_json::json!({"a": 1}))).unwrap();
        let keys: Vec<&str> = ok.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "contract_version",
                "command",
                "timestamp",
                "correlation_id",
                "success",
                "error_code",
                "data"
            ]
        );
        assert_eq!(ok["command"], "orchestrator-api.list-ready");
        assert_eq!(ok["error_code"], serde_json::Value::Null);
        let id = ok["correlation_id"].as_str().unwrap();
        assert_eq!(id.len(), 5 + 32);
        assert!(id[5..].chars().all(|c| c.is_ascii_hexdigit()));

        let err = ApiError::new(ErrorCode::WpAlreadyClaimed, "WP01 is claimed by a")
            .with("claimed_by", "a");
        let failed = serde_json::to_value(Envelope::failed("start-implementation", &err)).unwrap();
        assert_eq!(failed["error_code"], "WP_ALREADY_CLAIMED");
        assert_eq!(failed["data"]["message"], "WP01 is claimed by a");
        assert_eq!(failed["data"]["claimed_by"], "a");
        assert_eq!(err.exit_code(), 1);
        assert_eq!(ApiError::new(ErrorCode::UsageError, "x").exit_code(), 2);
    }

    #[test]
    fn correlation_ids_differ() {
        assert_ne!(correlation_id(), correlation_id());
    }
}
