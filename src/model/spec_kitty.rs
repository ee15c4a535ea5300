//! Spec Kitty's own lane log, `kitty-specs/<feature>/status.events.jsonl`.
//!
//! Since Spec Kitty 2.x this file, not the frontmatter, is where its lanes live. git kitty reads
//! it the way Spec Kitty reduces it to `status.json`: lane-transition events only (lines with
//! `wp_id` and `to_lane`; annotations and mission events are other shapes), deduplicated by
//! `event_id`, ordered by `at` then `event_id`, the last `to_lane` of each WP wins.

use std::collections::HashMap;
use std::str::FromStr;

use serde::Deserialize;

use super::ids::WpId;
use super::lane::Lane;
use super::problem::{Code, Problem};
use crate::util::time::parse_rfc3339;

/// What the log says about one WP.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplayedLane {
    pub lane: Lane,
    pub actor: Option<String>,
    /// When the last transition happened (nanoseconds since the epoch), if `at` parsed.
    pub at: Option<i128>,
}

#[derive(Deserialize)]
struct Line {
    event_id: Option<String>,
    wp_id: Option<String>,
    to_lane: Option<String>,
    at: Option<String>,
    actor: Option<serde_json::Value>,
}

/// Replay `text` (the whole file). `path` is used in the problems.
pub fn replay(path: &str, text: &str) -> (HashMap<WpId, ReplayedLane>, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut transitions: Vec<(i128, String, WpId, Lane, Option<String>, String)> = Vec::new();
    let mut seen_ids = std::collections::HashSet::new();
    for (n, raw) in text.lines().enumerate() {
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let warn = |msg: String| Problem::new(Code::MalformedEvent, msg).at(path, Some(n + 1));
        let line: Line = match serde_json::from_str(raw) {
            Ok(l) => l,
            Err(e) => {
                problems.push(warn(format!("not a JSON event, skipped: {e}")));
                continue;
            }
        };
        let (Some(wp), Some(to)) = (line.wp_id, line.to_lane) else {
            continue; // annotation or mission event: not a lane change
        };
        if let Some(id) = &line.event_id
            && !seen_ids.insert(id.clone())
        {
            continue;
        }
        let Ok(wp) = WpId::from_str(&wp) else {
            problems.push(warn(format!("`wp_id` {wp:?} is not a WP id, skipped")));
            continue;
        };
        let Ok(lane) = Lane::from_str(&to) else {
            problems.push(warn(format!("`to_lane` {to:?} is not a lane, skipped")));
            continue;
        };
        let at_text = line.at.unwrap_or_default();
        // Events without a readable time sort first, as Spec Kitty's string sort would put ''.
        let at = parse_rfc3339(&at_text).unwrap_or(i128::MIN);
        let actor = line.actor.and_then(|a| match a {
            serde_json::Value::String(s) => Some(s),
            _ => None,
        });
        transitions.push((
            at,
            line.event_id.unwrap_or_default(),
            wp,
            lane,
            actor,
            at_text,
        ));
    }
    transitions.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut lanes = HashMap::new();
    for (at, _, wp, lane, actor, _) in transitions {
        lanes.insert(
            wp,
            ReplayedLane {
                lane,
                actor,
                at: (at != i128::MIN).then_some(at),
            },
        );
    }
    (lanes, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(map: &HashMap<WpId, ReplayedLane>, id: &str) -> Lane {
        map[&id.parse::<WpId>().unwrap()].lane
    }

    #[test]
    fn orders_by_time_not_by_line_and_dedups_by_event_id() {
        let text = r#"
{"event_id":"B","wp_id":"WP01","to_lane":"for_review","at":"2026-01-01T10:00:00+00:00","actor":"x"}
{"event_id":"A","wp_id":"WP01","to_lane":"in_progress","at":"2026-01-01T09:00:00Z"}
{"event_id":"C","wp_id":"WP02","to_lane":"claimed","at":"2026-01-01T09:00:00Z"}
{"event_id":"C","wp_id":"WP02","to_lane":"done","at":"2026-01-01T11:00:00Z"}
{"event_id":"D","wp_id":"WP01","kind":"annotation","delta":{}}
{"aggregate_type":"Mission","event_id":"E","payload":{}}
"#;
        let (lanes, problems) = replay("s.jsonl", text);
        assert!(problems.is_empty());
        assert_eq!(lane(&lanes, "WP01"), Lane::ForReview);
        assert_eq!(lane(&lanes, "WP02"), Lane::Claimed);
        let wp1 = &lanes[&"WP01".parse::<WpId>().unwrap()];
        assert_eq!(wp1.actor.as_deref(), Some("x"));
    }

    #[test]
    fn same_time_ties_break_on_event_id() {
        let text = r#"{"event_id":"02","wp_id":"WP01","to_lane":"done","at":"2026-01-01T09:00:00Z"}
{"event_id":"01","wp_id":"WP01","to_lane":"planned","at":"2026-01-01T09:00:00Z"}"#;
        assert_eq!(lane(&replay("s", text).0, "WP01"), Lane::Done);
    }

    #[test]
    fn bad_lines_are_warnings_not_failures() {
        let (lanes, problems) = replay(
            "s",
            "{oops\n{\"event_id\":\"1\",\"wp_id\":\"WP01\",\"to_lane\":\"nowhere\"}\n{\"event_id\":\"2\",\"wp_id\":\"WP01\",\"to_lane\":\"doing\"}\n",
        );
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].line, Some(1));
        assert_eq!(lane(&lanes, "WP01"), Lane::InProgress);
    }
}
