//! Whether a WP's recorded base has gone stale: the branches of its dependencies moved on
//! since it was started (`git kitty restack` brings it up to date).

use crate::git::{Oid, Repo, parse_oid};
use crate::state::schema::Base;

/// A dependency whose branch moved since the base was recorded.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Stale {
    pub wp: String,
    /// Commits the dependency's branch gained (`None`: it was rewritten, e.g. rebased).
    pub moved: Option<usize>,
}

/// The dependencies of a WP that moved past the base recorded for it. `tip_of` finds a
/// dependency's branch: the local one, else the remote's copy (a dependency worked on another
/// machine moves there).
pub fn staleness(repo: &Repo, base: &Base, tip_of: impl Fn(&str) -> Option<Oid>) -> Vec<Stale> {
    let mut out = Vec::new();
    for d in &base.dependencies {
        let Some(recorded) = parse_oid(&d.commit) else {
            continue;
        };
        let Some(tip) = tip_of(&d.branch) else {
            continue;
        };
        if tip == recorded {
            continue;
        }
        let moved = match repo.is_ancestor(recorded, tip) {
            Ok(true) => repo.count_between(recorded, tip).ok(),
            _ => None,
        };
        out.push(Stale {
            wp: d.wp.clone(),
            moved,
        });
    }
    out
}

/// `WP01 moved 2 commits`, `WP01 was rewritten`.
pub fn describe_stale(s: &Stale) -> String {
    match s.moved {
        Some(1) => format!("{} moved 1 commit", s.wp),
        Some(n) => format!("{} moved {n} commits", s.wp),
        None => format!("{} was rewritten", s.wp),
    }
}
