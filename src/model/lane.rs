//! Lanes and the one table of allowed moves between them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a work package stands. The order of the variants is the order of the workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lane {
    Planned,
    Claimed,
    InProgress,
    ForReview,
    InReview,
    Approved,
    Done,
    Blocked,
    Canceled,
}

use Lane::*;

impl Lane {
    pub const ALL: [Lane; 9] = [
        Planned, Claimed, InProgress, ForReview, InReview, Approved, Done, Blocked, Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Planned => "planned",
            Claimed => "claimed",
            InProgress => "in_progress",
            ForReview => "for_review",
            InReview => "in_review",
            Approved => "approved",
            Done => "done",
            Blocked => "blocked",
            Canceled => "canceled",
        }
    }

    /// `done` and `canceled` are left only with `--force`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Done | Canceled)
    }

    /// Dependencies in these lanes no longer hold anything back.
    pub fn satisfies_dependency(self) -> bool {
        matches!(self, Approved | Done)
    }

    /// The lanes that a move from `self` may reach without `--force`.
    ///
    /// This is the single definition of the workflow; `git kitty lane --help` prints it.
    pub fn allowed_next(self) -> &'static [Lane] {
        match self {
            Planned => &[Claimed, InProgress, Blocked, Canceled],
            Claimed => &[InProgress, Planned, Blocked, Canceled],
            InProgress => &[ForReview, Planned, Blocked, Canceled],
            ForReview => &[InReview, Approved, InProgress, Blocked, Canceled],
            InReview => &[Approved, InProgress, Planned, ForReview, Blocked, Canceled],
            Approved => &[Done, InProgress, Canceled],
            // Unblocking resumes the work; review starts again from in_progress.
            Blocked => &[Planned, Claimed, InProgress, Canceled],
            Done | Canceled => &[],
        }
    }

    pub fn can_move_to(self, to: Lane) -> bool {
        self.allowed_next().contains(&to)
    }

    /// The lane's weight in the weighted progress figure (docs/json.md).
    pub fn progress_weight(self) -> f64 {
        match self {
            Planned | Blocked | Canceled => 0.0,
            Claimed => 0.1,
            InProgress => 0.3,
            ForReview => 0.6,
            InReview => 0.7,
            Approved => 0.9,
            Done => 1.0,
        }
    }

    /// The transition table as text, for `--help` and the man page.
    pub fn table_text() -> String {
        let mut out = String::new();
        for lane in Lane::ALL {
            let next: Vec<&str> = lane.allowed_next().iter().map(|l| l.as_str()).collect();
            let next = if next.is_empty() {
                "(terminal: only with --force)".to_owned()
            } else {
                next.join(", ")
            };
            out.push_str(&format!("  {:<12} -> {next}\n", lane.as_str()));
        }
        out
    }
}

impl FromStr for Lane {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The usual spelling, without allocating (event logs hold tens of thousands).
        if let Some(lane) = Lane::ALL.into_iter().find(|l| l.as_str() == s) {
            return Ok(lane);
        }
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        match norm.as_str() {
            "doing" => return Ok(InProgress),
            "cancelled" => return Ok(Canceled),
            _ => {}
        }
        Lane::ALL
            .into_iter()
            .find(|l| l.as_str() == norm)
            .ok_or_else(|| {
                let names: Vec<&str> = Lane::ALL.iter().map(|l| l.as_str()).collect();
                format!(
                    "`{}` is not a lane (one of: {}; `doing` means in_progress)",
                    crate::model::excerpt(s),
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Lane {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cache encoding (`util::codec`): the index in [`Lane::ALL`].
impl crate::util::codec::Encode for Lane {
    fn encode(&self, w: &mut crate::util::codec::Writer) {
        let index = Lane::ALL.iter().position(|l| l == self).unwrap_or(0);
        w.bytes.push(index as u8);
    }
}

impl crate::util::codec::Decode for Lane {
    fn decode(r: &mut crate::util::codec::Reader) -> Option<Self> {
        Lane::ALL.get(usize::from(r.byte()?)).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_spellings() {
        assert_eq!("doing".parse::<Lane>().unwrap(), InProgress);
        assert_eq!("For-Review".parse::<Lane>().unwrap(), ForReview);
        assert_eq!("cancelled".parse::<Lane>().unwrap(), Canceled);
        assert!("finished".parse::<Lane>().is_err());
        for lane in Lane::ALL {
            assert_eq!(lane.as_str().parse::<Lane>().unwrap(), lane);
        }
    }

    #[test]
    fn terminal_lanes_have_no_exit_and_no_lane_moves_to_itself() {
        for lane in Lane::ALL {
            assert_eq!(lane.is_terminal(), lane.allowed_next().is_empty());
            assert!(!lane.can_move_to(lane), "{lane} -> {lane}");
        }
    }

    #[test]
    fn every_lane_is_reachable_from_planned() {
        let mut seen = vec![Planned];
        let mut i = 0;
        while i < seen.len() {
            for &n in seen[i].allowed_next() {
                if !seen.contains(&n) {
                    seen.push(n);
                }
            }
            i += 1;
        }
        assert_eq!(seen.len(), Lane::ALL.len());
    }
}
