//! Joining divergent histories of one WP: the events only one side has are replayed, in one
//! deterministic order, on top of the other side's state, each re-checked by the lane rules.
//!
//! `store::join` uses the remote's recorded state as the base and replays the local-only
//! events: the remote is the arbiter, so what it accepted first is never undone by an event
//! that reaches it later, whatever its clock says. The order is the Lamport clock, then the
//! time, then the event id: the same on every machine, whatever order the events arrive in.
//! An event the rules refuse (a second claim; a move from a lane the WP no longer has) stays
//! in the history, is listed as rejected in the merge event, and has no effect; once rejected
//! it stays rejected in later merges, so replay is order-independent and idempotent
//! (property-tested below).

use std::collections::HashSet;

use super::rules::{self, Rejection};
use super::schema::{Event, EventKind, WpState};
use crate::util::time::parse_rfc3339;

/// The result of a replay.
#[derive(Debug, Clone)]
pub struct Replay {
    pub state: WpState,
    /// Events refused in this replay (not refused before), with why.
    pub rejected: Vec<(Event, Rejection)>,
    /// How many events took effect.
    pub applied: usize,
}

/// Replay `events` (any order, duplicates allowed) on top of `base`. Merge events are
/// skipped; `already_rejected` are ids earlier merges refused.
pub fn replay(base: &WpState, events: &[Event], already_rejected: &HashSet<String>) -> Replay {
    let mut sorted: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind != EventKind::Merge)
        .collect();
    sorted.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    sorted.dedup_by(|a, b| a.id == b.id);
    let mut state = base.clone();
    let mut rejected = Vec::new();
    let mut applied = 0;
    for e in sorted {
        if already_rejected.contains(&e.id) {
            continue;
        }
        match rules::apply(&state, e) {
            Ok(next) => {
                state = next;
                applied += 1;
            }
            Err(why) => rejected.push((e.clone(), why)),
        }
    }
    Replay {
        state,
        rejected,
        applied,
    }
}

/// What joining two histories of a WP leads to ([`join`]).
#[derive(Debug, Clone)]
pub struct Joining {
    /// The state after the join, its clock set (its time is the merge event's).
    pub state: WpState,
    /// The merge event's Lamport clock: one more than every event of both sides.
    pub lamport: u64,
    /// Events of the local side this join refuses (not refused by an earlier join).
    pub rejected: Vec<(Event, Rejection)>,
}

/// Join a WP's histories: the remote's tip (`remote_event`, recording `remote`) is the
/// arbiter; `local_only` are the events only the local side has (merge events among them
/// carry what earlier joins refused). `store::join` writes the result; the server's check of a
/// pushed merge computes it again and compares.
pub fn join(remote_event: &Event, remote: &WpState, local_only: &[Event]) -> Joining {
    let mut max_lamport = remote_event.lamport.max(remote.lamport);
    let mut events = Vec::new();
    let mut already_rejected = HashSet::new();
    for e in local_only {
        max_lamport = max_lamport.max(e.lamport);
        if e.kind == EventKind::Merge {
            already_rejected.extend(e.rejected.iter().cloned());
        } else {
            events.push(e.clone());
        }
    }
    let result = replay(remote, &events, &already_rejected);
    let mut state = result.state;
    state.lamport = max_lamport + 1;
    Joining {
        lamport: state.lamport,
        state,
        rejected: result.rejected,
    }
}

fn order_key(e: &Event) -> (u64, i128, &str) {
    (
        e.lamport,
        parse_rfc3339(&e.at).unwrap_or(i128::MIN),
        e.id.as_str(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::lane::Lane;
    use crate::state::schema::SCHEMA;

    fn initial() -> WpState {
        WpState::initial(
            "001-a".parse().unwrap(),
            "WP01".parse().unwrap(),
            Lane::Planned,
            None,
        )
    }

    fn event(
        id: &str,
        lamport: u64,
        actor: &str,
        kind: EventKind,
        from: Option<Lane>,
        to: Option<Lane>,
    ) -> Event {
        Event {
            v: SCHEMA,
            id: id.into(),
            kind,
            actor: actor.into(),
            at: format!("2026-01-01T00:00:{:02}Z", lamport % 60),
            lamport,
            from,
            to,
            note: (kind == EventKind::Note).then(|| format!("note {id}")),
            forced: false,
            reason: None,
            agent: (to == Some(Lane::Claimed)).then(|| actor.to_owned()),
            branch: None,
            worktree: None,
            base: None,
            rejected: Vec::new(),
            policy: None,
            review_ref: None,
            evidence: None,
            replaces: None,
        }
    }

    #[test]
    fn two_offline_claims_one_wins_deterministically() {
        // Both machines claimed WP01 at clock 1; "a-…" sorts before "b-…".
        let a = event(
            "a-1",
            1,
            "alice",
            EventKind::Lane,
            Some(Lane::Planned),
            Some(Lane::Claimed),
        );
        let b = event(
            "b-1",
            1,
            "bob",
            EventKind::Lane,
            Some(Lane::Planned),
            Some(Lane::Claimed),
        );
        let b2 = event(
            "b-2",
            2,
            "bob",
            EventKind::Lane,
            Some(Lane::Claimed),
            Some(Lane::InProgress),
        );
        let none = HashSet::new();
        let r = replay(&initial(), &[b.clone(), b2.clone(), a.clone()], &none);
        assert_eq!(r.state.holder(), Some("alice"));
        let rejected: Vec<&str> = r.rejected.iter().map(|(e, _)| e.id.as_str()).collect();
        assert_eq!(rejected, ["b-1", "b-2"]);
        assert_eq!(r.rejected[0].1.message("WP01"), "WP01 is claimed by alice");
        // Once rejected, always rejected: even if a later replay would now accept it.
        let done: HashSet<String> = ["b-1".to_string(), "b-2".to_string()].into();
        let again = replay(&initial(), &[a.clone(), b.clone(), b2.clone()], &done);
        assert_eq!(again.state, r.state);
        assert!(again.rejected.is_empty());
        // Had bob's claim reached the remote first, its state is the base: alice's loses.
        let remote = replay(&initial(), &[b, b2], &none).state;
        let joined = replay(&remote, &[a], &none);
        assert_eq!(joined.state.holder(), Some("bob"));
        assert_eq!(joined.state.events, 2, "counts only what took effect");
        assert_eq!(joined.rejected.len(), 1);
    }

    /// A small deterministic generator (xorshift), so the property test needs no crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Random plausible histories from two or three "machines".
    fn random_events(rng: &mut Rng) -> Vec<Event> {
        let lanes = Lane::ALL;
        let mut out = Vec::new();
        let machines = 2 + rng.below(2);
        for m in 0..machines {
            let mut lamport = rng.below(3);
            let mut lane = Lane::Planned;
            for k in 0..(1 + rng.below(6)) {
                lamport += 1 + rng.below(2);
                let actor = format!("agent-{m}");
                let id = format!("m{m}-{k}-{}", rng.below(1000));
                let e = if rng.below(4) == 0 {
                    event(&id, lamport, &actor, EventKind::Note, None, None)
                } else {
                    let next = lane.allowed_next();
                    let to = if next.is_empty() {
                        lanes[rng.below(lanes.len() as u64) as usize]
                    } else {
                        next[rng.below(next.len() as u64) as usize]
                    };
                    let mut e = event(&id, lamport, &actor, EventKind::Lane, Some(lane), Some(to));
                    e.note = Some("why".into());
                    e.forced = next.is_empty();
                    lane = to;
                    e
                };
                out.push(e);
            }
        }
        out
    }

    #[test]
    fn replay_is_order_independent_and_idempotent() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..500 {
            let events = random_events(&mut rng);
            let reference = replay(&initial(), &events, &HashSet::new());
            // Any interleaving of the same events (with repeats) gives the same state.
            for _ in 0..5 {
                let mut shuffled = events.clone();
                for i in (1..shuffled.len()).rev() {
                    let j = rng.below(i as u64 + 1) as usize;
                    shuffled.swap(i, j);
                }
                if rng.below(2) == 0 {
                    let dup = shuffled[rng.below(shuffled.len() as u64) as usize].clone();
                    shuffled.push(dup);
                }
                let r = replay(&initial(), &shuffled, &HashSet::new());
                assert_eq!(
                    r.state, reference.state,
                    "order changed the result: {events:#?}"
                );
                let ids = |r: &Replay| {
                    r.rejected
                        .iter()
                        .map(|(e, _)| e.id.clone())
                        .collect::<Vec<_>>()
                };
                assert_eq!(ids(&r), ids(&reference));
            }
            // Merging again, with what was rejected, changes nothing.
            let done: HashSet<String> = reference
                .rejected
                .iter()
                .map(|(e, _)| e.id.clone())
                .collect();
            let twice = replay(&initial(), &events, &done);
            assert_eq!(twice.state, reference.state);
            assert!(twice.rejected.is_empty());
        }
    }
}
