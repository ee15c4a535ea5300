//! The lane rules: whether an event may apply to a state, and the state after it.
//!
//! Pure: the same function validates a move before it is written (`git kitty lane`) and
//! re-validates every event when two histories are joined (`git kitty pull`), so a move that
//! was legal on one machine but not after the other machine's events is caught the same way.

use super::schema::{Event, EventKind, ReviewStatus, SCHEMA, WpState};
use crate::model::lane::Lane;

/// Why an event cannot apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The event moves from a lane the WP is no longer in.
    Stale { expected: Lane, actual: Lane },
    /// Another agent holds the WP in its current lane.
    Held { holder: String, lane: Lane },
    /// The move is not in the transition table (and was not forced).
    NotAllowed { from: Lane, to: Lane },
    /// The WP is already in that lane.
    SameLane { lane: Lane },
    /// Sending a review back needs the feedback as a note.
    NeedsNote { from: Lane, to: Lane },
}

impl Rejection {
    pub fn message(&self, wp: &str) -> String {
        match self {
            Rejection::Stale { expected, actual } => {
                format!("{wp} is no longer {expected}: it moved to {actual} in the meantime")
            }
            Rejection::Held { holder, lane } => {
                let what = if *lane == Lane::InReview {
                    "in review by"
                } else {
                    "claimed by"
                };
                format!("{wp} is {what} {holder}")
            }
            Rejection::NotAllowed { from, to } => {
                if from.is_terminal() {
                    format!(
                        "{wp} is {from}: a {from} work package leaves its lane only with --force"
                    )
                } else {
                    format!("{wp} cannot move from {from} to {to}")
                }
            }
            Rejection::SameLane { lane } => format!("{wp} is already {lane}"),
            Rejection::NeedsNote { from, to } => format!(
                "moving {wp} from {from} back to {to} sends the review back: say why with --note"
            ),
        }
    }
}

/// Apply `event` to `state`: the state after it, or why it cannot apply.
pub fn apply(state: &WpState, event: &Event) -> Result<WpState, Rejection> {
    let mut next = state.clone();
    match event.kind {
        EventKind::Lane | EventKind::Implement => apply_move(state, event, &mut next)?,
        EventKind::Note | EventKind::Merge => {}
        // Restacks and releases record what was already done in git (a rebased branch, a
        // removed worktree): that always applies. Only their lane change is recorded against
        // a lane, and is skipped once the WP has left it.
        EventKind::Restack => {
            next.base = event.base.clone().or(next.base);
            if let Some(to) = event.to
                && stale_from(state, event).is_ok()
            {
                next.lane = to;
            }
        }
        EventKind::Release => apply_release(state, event, &mut next)?,
    }
    record_notes(state, event, &mut next);
    next.v = SCHEMA;
    next.lamport = event.lamport.max(state.lamport + 1);
    next.updated_at = event.at.clone();
    next.events = state.events + 1;
    next.forced = state.forced + u64::from(event.forced);
    Ok(next)
}

/// A lane move (`git kitty lane`, or `implement` claiming the WP): checked, then the lane,
/// holders and review status it implies.
fn apply_move(state: &WpState, event: &Event, next: &mut WpState) -> Result<(), Rejection> {
    let to = event.to.unwrap_or(state.lane);
    let from = state.lane;
    let sends_back = check_move(state, event, from, to)?;
    next.lane = to;
    let claiming = matches!(to, Lane::Claimed | Lane::InProgress);
    if claiming {
        let fresh = !matches!(from, Lane::Claimed | Lane::InProgress);
        if next.agent.is_none() || event.forced || (fresh && from == Lane::Planned) {
            next.agent = Some(event.agent.clone().unwrap_or_else(|| event.actor.clone()));
        }
    }
    match to {
        Lane::Planned => {
            next.agent = None;
            next.reviewer = None;
        }
        Lane::InReview => next.reviewer = Some(event.actor.clone()),
        Lane::Approved => {
            if from != Lane::InReview || next.reviewer.is_none() {
                next.reviewer = Some(event.actor.clone());
            }
            next.review_status = Some(ReviewStatus::Approved);
        }
        _ => {}
    }
    if sends_back {
        next.review_status = Some(ReviewStatus::HasFeedback);
        next.feedback = event.note.clone();
    } else if from == Lane::Approved && to != Lane::Done {
        // Leaving approved other than by landing withdraws the approval.
        next.review_status = None;
    }
    if to == Lane::Approved {
        next.feedback = None;
    }
    if event.kind == EventKind::Implement {
        next.branch = event.branch.clone().or(next.branch.take());
        next.worktree = event.worktree.clone().or(next.worktree.take());
        next.base = event.base.clone().or(next.base.take());
    }
    Ok(())
}

/// Whether a move from `from` to `to` may apply; if so, whether it sends a review back.
fn check_move(state: &WpState, event: &Event, from: Lane, to: Lane) -> Result<bool, Rejection> {
    // Someone else's hold is the clearer answer than a stale `from`: a second claim
    // made offline is "claimed by X", not "no longer planned".
    if !event.forced
        && let Some(holder) = state.holder()
        && holder != event.actor
    {
        return Err(Rejection::Held {
            holder: holder.to_owned(),
            lane: from,
        });
    }
    stale_from(state, event)?;
    if to == from && event.kind == EventKind::Lane {
        return Err(Rejection::SameLane { lane: to });
    }
    if to != from && !event.forced && !from.can_move_to(to) {
        return Err(Rejection::NotAllowed { from, to });
    }
    let sends_back = sends_review_back(from, to);
    if sends_back && !event.forced && event.note.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(Rejection::NeedsNote { from, to });
    }
    Ok(sends_back)
}

/// Whether a move sends a review back to the implementer: from any review lane back to the
/// work (or to planned), and from in review to blocked. It needs the feedback as a note.
pub fn sends_review_back(from: Lane, to: Lane) -> bool {
    let back = matches!(to, Lane::InProgress | Lane::Planned);
    match from {
        Lane::ForReview | Lane::Approved => back,
        Lane::InReview => back || to == Lane::Blocked,
        _ => false,
    }
}

/// Why a WP is blocked, kept while it is: the note (or forced reason) of the move into
/// blocked, whatever made it (a lane move, a restack that hit a conflict).
fn record_notes(state: &WpState, event: &Event, next: &mut WpState) {
    if next.lane != Lane::Blocked {
        next.blocked_reason = None;
    } else if state.lane != Lane::Blocked {
        next.blocked_reason = event.note.clone().or_else(|| event.reason.clone());
    }
}

/// A release (`git kitty abandon`): the worktree is gone, and the lane goes back when the
/// event still applies to it.
fn apply_release(state: &WpState, event: &Event, next: &mut WpState) -> Result<(), Rejection> {
    // Handing a WP back to planned is the holder's call (or a forced one): a release
    // made offline must not undo a claim someone else won meanwhile.
    if event.to == Some(Lane::Planned)
        && !event.forced
        && let Some(holder) = state.holder()
        && holder != event.actor
    {
        return Err(Rejection::Held {
            holder: holder.to_owned(),
            lane: state.lane,
        });
    }
    // The worktree is gone; the branch too, unless the event names it as kept.
    next.worktree = None;
    if event.branch.is_none() {
        next.branch = None;
        next.base = None;
    }
    if let Some(to) = event.to
        && stale_from(state, event).is_ok()
    {
        next.lane = to;
        if to == Lane::Planned {
            next.agent = None;
            next.reviewer = None;
        }
    }
    Ok(())
}

/// An event recorded against one lane cannot apply once the WP has left it.
fn stale_from(state: &WpState, event: &Event) -> Result<(), Rejection> {
    match event.from {
        Some(expected) if expected != state.lane => Err(Rejection::Stale {
            expected,
            actual: state.lane,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(lane: Lane, agent: Option<&str>) -> WpState {
        WpState::initial(
            "001-a".parse().unwrap(),
            "WP01".parse().unwrap(),
            lane,
            agent.map(str::to_owned),
        )
    }

    fn mv(actor: &str, from: Lane, to: Lane) -> Event {
        Event {
            v: SCHEMA,
            id: "e".into(),
            kind: EventKind::Lane,
            actor: actor.into(),
            at: "2026-01-01T00:00:00Z".into(),
            lamport: 0,
            from: Some(from),
            to: Some(to),
            note: None,
            forced: false,
            reason: None,
            agent: None,
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
    fn a_claim_sets_the_holder_and_blocks_others() {
        let s = apply(
            &state(Lane::Planned, None),
            &mv("alice", Lane::Planned, Lane::Claimed),
        )
        .unwrap();
        assert_eq!(s.holder(), Some("alice"));
        assert_eq!((s.events, s.lamport), (1, 1));
        let err = apply(&s, &mv("bob", Lane::Claimed, Lane::InProgress)).unwrap_err();
        assert_eq!(
            err,
            Rejection::Held {
                holder: "alice".into(),
                lane: Lane::Claimed
            }
        );
        assert_eq!(err.message("WP01"), "WP01 is claimed by alice");
        // A second claim by someone else is refused as held, not as a same-lane move.
        let err = apply(&s, &mv("bob", Lane::Claimed, Lane::Claimed)).unwrap_err();
        assert!(matches!(err, Rejection::Held { .. }));
        let mut forced = mv("bob", Lane::Claimed, Lane::InProgress);
        forced.forced = true;
        let s = apply(&s, &forced).unwrap();
        assert_eq!(s.holder(), Some("bob"));
        assert_eq!(s.forced, 1);
    }

    #[test]
    fn only_the_holder_releases_a_claim_and_only_from_its_lane() {
        let held = apply(
            &state(Lane::Planned, None),
            &mv("alice", Lane::Planned, Lane::Claimed),
        )
        .unwrap();
        let release = |actor: &str, from: Lane| {
            let mut e = mv(actor, from, Lane::Planned);
            e.kind = EventKind::Release;
            e
        };
        // Bob's offline abandon cannot hand back alice's claim.
        let err = apply(&held, &release("bob", Lane::Claimed)).unwrap_err();
        assert!(matches!(err, Rejection::Held { .. }), "{err:?}");
        // A release recorded while the WP was claimed, once it moved on: the worktree is
        // still gone, the lane stays.
        let mut moved = apply(&held, &mv("alice", Lane::Claimed, Lane::InProgress)).unwrap();
        moved.worktree = Some(".worktrees/001-a-WP01".into());
        let late = apply(&moved, &release("alice", Lane::Claimed)).unwrap();
        assert_eq!(
            (late.lane, late.worktree.as_deref()),
            (Lane::InProgress, None)
        );
        let freed = apply(&moved, &release("alice", Lane::InProgress)).unwrap();
        assert_eq!((freed.lane, freed.holder()), (Lane::Planned, None));
        let mut forced = release("bob", Lane::InProgress);
        forced.forced = true;
        assert_eq!(apply(&moved, &forced).unwrap().lane, Lane::Planned);
    }

    #[test]
    fn transitions_outside_the_table_need_force() {
        let s = state(Lane::Planned, None);
        assert_eq!(
            apply(&s, &mv("a", Lane::Planned, Lane::Done)).unwrap_err(),
            Rejection::NotAllowed {
                from: Lane::Planned,
                to: Lane::Done
            }
        );
        let done = state(Lane::Done, None);
        let err = apply(&done, &mv("a", Lane::Done, Lane::InProgress)).unwrap_err();
        assert!(err.message("WP01").contains("only with --force"));
        let mut forced = mv("a", Lane::Done, Lane::InProgress);
        forced.forced = true;
        assert_eq!(apply(&done, &forced).unwrap().lane, Lane::InProgress);
    }

    #[test]
    fn review_feedback_needs_a_note_and_approval_records_the_reviewer() {
        let s = apply(
            &state(Lane::ForReview, Some("alice")),
            &mv("rev", Lane::ForReview, Lane::InReview),
        )
        .unwrap();
        assert_eq!(s.holder(), Some("rev"));
        let back = mv("rev", Lane::InReview, Lane::InProgress);
        assert!(matches!(
            apply(&s, &back).unwrap_err(),
            Rejection::NeedsNote { .. }
        ));
        let mut with_note = back.clone();
        with_note.note = Some("tests missing".into());
        let after = apply(&s, &with_note).unwrap();
        assert_eq!(after.review_status, Some(ReviewStatus::HasFeedback));
        // The work goes back to its implementer.
        assert_eq!(after.holder(), Some("alice"));
        let approved = apply(&s, &mv("rev", Lane::InReview, Lane::Approved)).unwrap();
        assert_eq!(approved.reviewer.as_deref(), Some("rev"));
        assert_eq!(approved.review_status, Some(ReviewStatus::Approved));
    }

    #[test]
    fn stale_moves_and_same_lane_are_refused() {
        let s = state(Lane::InProgress, Some("a"));
        assert!(matches!(
            apply(&s, &mv("a", Lane::Planned, Lane::Claimed)).unwrap_err(),
            Rejection::Stale { .. }
        ));
        assert!(matches!(
            apply(&s, &mv("a", Lane::InProgress, Lane::InProgress)).unwrap_err(),
            Rejection::SameLane { .. }
        ));
    }

    #[test]
    fn releasing_to_planned_clears_the_holder() {
        let s = state(Lane::InProgress, Some("a"));
        let s = apply(&s, &mv("a", Lane::InProgress, Lane::Planned)).unwrap();
        assert_eq!(s.agent, None);
        assert_eq!(s.holder(), None);
    }

    fn base(commit: &str) -> crate::state::schema::Base {
        crate::state::schema::Base {
            commit: commit.into(),
            kind: crate::state::schema::BaseKind::Target,
            target_branch: Some("main".into()),
            dependencies: Vec::new(),
        }
    }

    #[test]
    fn implement_records_where_the_work_happens_and_restack_moves_the_base() {
        let mut e = mv("alice", Lane::Planned, Lane::Claimed);
        e.kind = EventKind::Implement;
        e.branch = Some("kitty/001-a-WP01".into());
        e.worktree = Some(".worktrees/001-a-WP01".into());
        e.base = Some(base("c1"));
        let s = apply(&state(Lane::Planned, None), &e).unwrap();
        assert_eq!(s.holder(), Some("alice"));
        assert_eq!(
            (s.branch.as_deref(), s.worktree.as_deref(), s.base.clone()),
            (
                Some("kitty/001-a-WP01"),
                Some(".worktrees/001-a-WP01"),
                Some(base("c1"))
            )
        );
        // Implementing again in the same lane keeps what the event does not name.
        let mut again = mv("alice", Lane::Claimed, Lane::Claimed);
        again.kind = EventKind::Implement;
        let s = apply(&s, &again).unwrap();
        assert_eq!(
            (s.lane, s.branch.as_deref(), s.base.clone()),
            (Lane::Claimed, Some("kitty/001-a-WP01"), Some(base("c1")))
        );
        // A restack always records its base; its lane change only from the lane it names.
        let mut restack = mv("alice", Lane::Planned, Lane::InProgress);
        restack.kind = EventKind::Restack;
        restack.base = Some(base("c2"));
        let r = apply(&s, &restack).unwrap();
        assert_eq!(
            (r.lane, r.base, r.events),
            (Lane::Claimed, Some(base("c2")), s.events + 1)
        );
    }

    fn noted(mut e: Event, note: &str) -> Event {
        e.note = Some(note.to_owned());
        e
    }

    #[test]
    fn every_move_back_from_review_needs_a_note_and_keeps_it_as_feedback() {
        for from in [Lane::ForReview, Lane::InReview, Lane::Approved] {
            let mut s = state(from, Some("alice"));
            s.reviewer = Some("alice".into());
            let err = apply(&s, &mv("alice", from, Lane::InProgress)).unwrap_err();
            assert_eq!(
                err,
                Rejection::NeedsNote {
                    from,
                    to: Lane::InProgress
                }
            );
            let back = apply(
                &s,
                &noted(mv("alice", from, Lane::InProgress), "add tests\nand docs"),
            )
            .unwrap();
            assert_eq!(
                back.review_status,
                Some(ReviewStatus::HasFeedback),
                "{from}"
            );
            assert_eq!(back.feedback.as_deref(), Some("add tests\nand docs"));
        }
        // Moving to blocked from for_review is not a review verdict.
        assert!(!sends_review_back(Lane::ForReview, Lane::Blocked));
        assert!(sends_review_back(Lane::InReview, Lane::Blocked));
        assert!(!sends_review_back(Lane::InProgress, Lane::Planned));
    }

    #[test]
    fn approval_clears_feedback_and_leaving_approved_withdraws_it() {
        let mut s = state(Lane::InReview, Some("alice"));
        s.reviewer = Some("rev".into());
        s.feedback = Some("old".into());
        s.review_status = Some(ReviewStatus::HasFeedback);
        let approved = apply(&s, &mv("rev", Lane::InReview, Lane::Approved)).unwrap();
        assert_eq!(approved.review_status, Some(ReviewStatus::Approved));
        assert_eq!(approved.feedback, None);
        let canceled = apply(&approved, &mv("rev", Lane::Approved, Lane::Canceled)).unwrap();
        assert_eq!(canceled.review_status, None);
        let done = apply(&approved, &mv("rev", Lane::Approved, Lane::Done)).unwrap();
        assert_eq!(done.review_status, Some(ReviewStatus::Approved));
    }

    #[test]
    fn a_blocked_wp_keeps_why_until_it_moves_on() {
        let s = state(Lane::InProgress, Some("alice"));
        let blocked = apply(
            &s,
            &noted(
                mv("alice", Lane::InProgress, Lane::Blocked),
                "waiting on API keys",
            ),
        )
        .unwrap();
        assert_eq!(
            blocked.blocked_reason.as_deref(),
            Some("waiting on API keys")
        );
        let mut forced = mv("bob", Lane::InProgress, Lane::Blocked);
        forced.forced = true;
        forced.reason = Some("infra down".into());
        assert_eq!(
            apply(&s, &forced).unwrap().blocked_reason.as_deref(),
            Some("infra down")
        );
        let unblocked = apply(&blocked, &mv("alice", Lane::Blocked, Lane::InProgress)).unwrap();
        assert_eq!(unblocked.blocked_reason, None);
    }
}
