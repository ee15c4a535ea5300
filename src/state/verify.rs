//! Whether a WP's history is one git kitty could have written.
//!
//! Every commit must be a state commit of this WP (the empty tree, both headers, a schema this
//! build reads) that names no branch or worktree but the WP's own, and must record exactly the
//! state its event leads to: `rules::apply` on its parent's state; for a merge of two
//! histories, the join `store::join` makes (`replay::join`, computed again); for a first event,
//! the state before any event. A state that says `done` also needs the WP's work on a target
//! branch (the caller says whether it is: only `git kitty merge` moves a WP there, once its
//! work has landed).
//!
//! The server's pre-receive checks each commit a push brings ([`check_new`]); `git kitty
//! repair` judges whole histories ([`judge`]) to find where a damaged one stops being sound.
//! Commits are read through [`Commits`]: in a hook through `git` (a push's objects are in
//! quarantine), in a clone through gix ([`RepoCommits`]).

use std::collections::{HashMap, HashSet};

use super::replay;
use super::rules::{self, Rejection};
use super::schema::{EVENT_HEADER, Event, EventKind, STATE_HEADER, WpState};
use super::store::{self, Unusable};
use crate::error::Result;
use crate::git::{CommitData, Oid, Repo};
use crate::model::ids::{FeatureSlug, WpId, wp_branch, wp_worktree};
use crate::model::lane::Lane;

/// Where verification reads commits.
pub trait Commits {
    /// The commit `id`; `None` when it is missing or not a commit.
    fn commit(&mut self, id: Oid) -> Result<Option<CommitData>>;
    /// The commits reachable from `tip` and not from `not`, parents first.
    fn only_in(&mut self, tip: Oid, not: Option<Oid>) -> Result<Vec<Oid>>;
}

/// [`Commits`] of a repository opened with gix.
pub struct RepoCommits<'r> {
    repo: &'r Repo,
    cache: HashMap<Oid, Option<CommitData>>,
}

impl<'r> RepoCommits<'r> {
    pub fn new(repo: &'r Repo) -> RepoCommits<'r> {
        RepoCommits {
            repo,
            cache: HashMap::new(),
        }
    }
}

impl Commits for RepoCommits<'_> {
    fn commit(&mut self, id: Oid) -> Result<Option<CommitData>> {
        if let Some(c) = self.cache.get(&id) {
            return Ok(c.clone());
        }
        let c = self.repo.read_commit(id).ok();
        self.cache.insert(id, c.clone());
        Ok(c)
    }

    fn only_in(&mut self, tip: Oid, not: Option<Oid>) -> Result<Vec<Oid>> {
        let mut excluded = HashSet::new();
        if let Some(n) = not {
            let mut stack = vec![n];
            while let Some(id) = stack.pop() {
                if excluded.insert(id)
                    && let Some(c) = self.commit(id)?
                {
                    stack.extend(c.parents);
                }
            }
        }
        // Depth first, each commit after its parents.
        let mut out = Vec::new();
        let mut done = excluded;
        let mut stack = vec![(tip, false)];
        while let Some((id, parents_done)) = stack.pop() {
            if parents_done {
                out.push(id);
                continue;
            }
            if !done.insert(id) {
                continue;
            }
            stack.push((id, true));
            if let Some(c) = self.commit(id)? {
                stack.extend(c.parents.iter().rev().map(|p| (*p, false)));
            }
        }
        Ok(out)
    }
}

/// What is wrong with a commit of a WP's history.
#[derive(Debug, Clone, PartialEq)]
pub enum Flaw {
    /// Missing, or a blob, a tree or a tag rather than a commit.
    NotACommit,
    /// A commit without git kitty's headers: an ordinary commit.
    NotState,
    /// Not a state commit of this WP, or one written by a newer git kitty.
    Unusable(Unusable),
    /// A tree that is not the empty tree.
    Files,
    /// A branch or worktree other than the WP's own.
    Names(Vec<String>),
    /// Parents that do not fit the event: a merge of histories has two, any other event one
    /// at most.
    Shape,
    /// The lane rules refuse the event on the state before it.
    Refused(Rejection),
    /// The recorded state is not what the event leads to: the first field that differs.
    Differs {
        field: String,
        recorded: String,
        expected: String,
    },
    /// It records `done`, and no target branch has the WP's work.
    NotLanded,
    /// One of its parents is flawed, or is not a state of this WP.
    Builds { on: Oid, why: Box<Flaw> },
}

impl Flaw {
    /// For people: what is wrong, completing "commit 1a2b3c4 ...".
    pub fn describe(&self, feature: &FeatureSlug, wp: &WpId) -> String {
        match self {
            Flaw::NotACommit => "is not a commit".into(),
            Flaw::NotState => format!(
                "is not a state of {wp}: it has no `{EVENT_HEADER}` and `{STATE_HEADER}` headers (an ordinary commit)"
            ),
            Flaw::Unusable(why) => format!("is not a state of {wp}: {why}"),
            Flaw::Files => "has files: a state commit's tree is the empty tree".into(),
            Flaw::Names(names) => format!(
                "names {}: {wp}'s own are branch {} and worktree {}",
                names.join(" and "),
                wp_branch(feature, wp),
                wp_worktree(feature, wp)
            ),
            Flaw::Shape => "has parents that do not fit its event (a merge of histories has two, any other event one at most)".into(),
            Flaw::Refused(r) => format!("records an event the lane rules refuse: {}", r.message(wp.as_str())),
            Flaw::Differs {
                field,
                recorded,
                expected,
            } => format!(
                "records a state its event does not lead to: {field} {recorded}, where the lane rules give {expected}"
            ),
            Flaw::NotLanded => format!(
                "records {wp} as done, but no target branch has its work (a commit with `Kitty-WP: {feature}/{wp}`): only `git kitty merge` moves a WP to done, once its work has landed"
            ),
            Flaw::Builds { on, why } => format!(
                "builds on commit {}, which {}",
                short(*on),
                why.describe(feature, wp)
            ),
        }
    }

    /// Whether this is another version's state rather than damage.
    pub fn is_newer(&self) -> bool {
        match self {
            Flaw::Unusable(Unusable::Newer(_)) => true,
            Flaw::Builds { why, .. } => why.is_newer(),
            _ => false,
        }
    }
}

/// A flawed commit.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub commit: Oid,
    pub flaw: Flaw,
}

impl Finding {
    /// `commit 1a2b3c4 records a state ...`.
    pub fn describe(&self, feature: &FeatureSlug, wp: &WpId) -> String {
        let what = if self.flaw == Flaw::NotACommit {
            "object"
        } else {
            "commit"
        };
        format!(
            "{what} {} {}",
            short(self.commit),
            self.flaw.describe(feature, wp)
        )
    }
}

fn short(id: Oid) -> String {
    id.to_string()[..7].to_owned()
}

/// The WP a history belongs to, and whether its work is on a target branch (asked only when
/// a commit records `done`, at most once).
pub struct Subject<'a> {
    pub feature: &'a FeatureSlug,
    pub wp: &'a WpId,
    pub landed: &'a mut dyn FnMut() -> Result<bool>,
}

/// What the commits of a sound update record that the caller acts on.
#[derive(Debug, Default)]
pub struct Facts {
    /// Objects a repair note names as replaced.
    pub replaces: Vec<String>,
}

/// Check `new` (parents first): the commits an update brings to the WP's ref. Parents outside
/// `new` are the ref's history the caller already holds; they must be states of this WP.
/// Stops at the first flaw.
pub fn check_new(
    src: &mut dyn Commits,
    subject: &mut Subject<'_>,
    new: &[Oid],
) -> Result<std::result::Result<Facts, Finding>> {
    let mut examiner = Examiner::default();
    let mut facts = Facts::default();
    for id in new {
        match examiner.one(src, subject, *id)? {
            Err(flaw) => {
                return Ok(Err(Finding { commit: *id, flaw }));
            }
            Ok(event) => facts.replaces.extend(event.replaces),
        }
    }
    Ok(Ok(facts))
}

/// A whole history, judged.
#[derive(Debug)]
pub struct Judgement {
    /// The first flaw found (parents first); `None`: the history is sound.
    pub flaw: Option<Finding>,
    /// The newest sound commit on the first-parent chain from the tip (the tip when sound).
    pub sound: Option<Oid>,
}

/// Judge the whole history of `tip`, every commit of it.
pub fn judge(src: &mut dyn Commits, subject: &mut Subject<'_>, tip: Oid) -> Result<Judgement> {
    if src.commit(tip)?.is_none() {
        return Ok(Judgement {
            flaw: Some(Finding {
                commit: tip,
                flaw: Flaw::NotACommit,
            }),
            sound: None,
        });
    }
    let mut examiner = Examiner::default();
    let mut first = None;
    for id in src.only_in(tip, None)? {
        if let Err(flaw) = examiner.one(src, subject, id)?
            && first.is_none()
        {
            first = Some(Finding { commit: id, flaw });
        }
    }
    let mut at = Some(tip);
    while let Some(id) = at {
        if examiner.states.contains_key(&id) {
            break;
        }
        at = src.commit(id)?.and_then(|c| c.parents.first().copied());
    }
    Ok(Judgement {
        flaw: first,
        sound: at,
    })
}

/// Checks commits one by one, parents first, remembering what it found.
#[derive(Default)]
struct Examiner {
    /// Sound commits: their event and the state after it.
    states: HashMap<Oid, (Event, WpState)>,
    flawed: HashMap<Oid, Flaw>,
    /// Whether the WP's work is on a target, once asked.
    landed: Option<bool>,
}

impl Examiner {
    /// Check one commit whose parents were checked before (or are outside what is checked).
    fn one(
        &mut self,
        src: &mut dyn Commits,
        subject: &mut Subject<'_>,
        id: Oid,
    ) -> Result<std::result::Result<Event, Flaw>> {
        let result = match src.commit(id)? {
            None => Err(Flaw::NotACommit),
            Some(commit) => self.commit(src, subject, &commit)?,
        };
        Ok(match result {
            Ok((event, state)) => {
                self.states.insert(id, (event.clone(), state));
                Ok(event)
            }
            Err(flaw) => {
                self.flawed.insert(id, flaw.clone());
                Err(flaw)
            }
        })
    }

    fn commit(
        &mut self,
        src: &mut dyn Commits,
        subject: &mut Subject<'_>,
        commit: &CommitData,
    ) -> Result<std::result::Result<(Event, WpState), Flaw>> {
        let (feature, wp) = (subject.feature, subject.wp);
        if commit.header(EVENT_HEADER).is_none() && commit.header(STATE_HEADER).is_none() {
            return Ok(Err(Flaw::NotState));
        }
        let (event, state) = match store::decode_for(commit, feature, wp) {
            Ok(decoded) => decoded,
            Err(why) => return Ok(Err(Flaw::Unusable(why))),
        };
        if commit.tree != crate::git::empty_tree() {
            return Ok(Err(Flaw::Files));
        }
        let foreign = foreign_names(feature, wp, &event, &state);
        if !foreign.is_empty() {
            return Ok(Err(Flaw::Names(foreign)));
        }
        let expected = match (commit.parents.as_slice(), event.kind) {
            ([local, remote], EventKind::Merge) => {
                match self.joined(src, subject, *local, *remote, &event)? {
                    Ok(s) => s,
                    Err(flaw) => return Ok(Err(flaw)),
                }
            }
            (_, EventKind::Merge) | ([_, _, ..], _) => return Ok(Err(Flaw::Shape)),
            ([parent], _) => match self.parent(src, subject, *parent)? {
                Ok((_, before)) => match rules::apply(&before, &event) {
                    Ok(s) => s,
                    Err(r) => return Ok(Err(Flaw::Refused(r))),
                },
                Err(flaw) => return Ok(Err(flaw)),
            },
            ([], _) => match first_event(&event, &state) {
                Ok(s) => s,
                Err(flaw) => return Ok(Err(flaw)),
            },
        };
        if let Some(flaw) = difference(&state, &expected) {
            return Ok(Err(flaw));
        }
        if state.lane == Lane::Done && !self.landed(subject)? {
            return Ok(Err(Flaw::NotLanded));
        }
        Ok(Ok((event, state)))
    }

    fn landed(&mut self, subject: &mut Subject<'_>) -> Result<bool> {
        if self.landed.is_none() {
            self.landed = Some((subject.landed)()?);
        }
        Ok(self.landed == Some(true))
    }

    /// A parent's event and state: checked here before, or already held by the caller.
    fn parent(
        &mut self,
        src: &mut dyn Commits,
        subject: &Subject<'_>,
        id: Oid,
    ) -> Result<std::result::Result<(Event, WpState), Flaw>> {
        if let Some(known) = self.states.get(&id) {
            return Ok(Ok(known.clone()));
        }
        let builds = |why: Flaw| Flaw::Builds {
            on: id,
            why: Box::new(why),
        };
        if let Some(flaw) = self.flawed.get(&id) {
            return Ok(Err(builds(flaw.clone())));
        }
        Ok(match src.commit(id)? {
            None => Err(builds(Flaw::NotACommit)),
            Some(c) => match store::decode_for(&c, subject.feature, subject.wp) {
                Ok(decoded) => {
                    self.states.insert(id, decoded.clone());
                    Ok(decoded)
                }
                Err(why) => Err(builds(Flaw::Unusable(why))),
            },
        })
    }

    /// The state a merge of `local` and `remote` leads to, as `store::join` computes it.
    fn joined(
        &mut self,
        src: &mut dyn Commits,
        subject: &Subject<'_>,
        local: Oid,
        remote: Oid,
        event: &Event,
    ) -> Result<std::result::Result<WpState, Flaw>> {
        let (remote_event, remote_state) = match self.parent(src, subject, remote)? {
            Ok(p) => p,
            Err(flaw) => return Ok(Err(flaw)),
        };
        if let Err(flaw) = self.parent(src, subject, local)? {
            return Ok(Err(flaw));
        }
        let mut local_only = Vec::new();
        for id in src.only_in(local, Some(remote))? {
            match self.parent(src, subject, id)? {
                Ok((e, _)) => local_only.push(e),
                Err(flaw) => return Ok(Err(flaw)),
            }
        }
        let joining = replay::join(&remote_event, &remote_state, &local_only);
        let rejected: Vec<String> = joining.rejected.iter().map(|(e, _)| e.id.clone()).collect();
        if event.rejected != rejected {
            return Ok(Err(Flaw::Differs {
                field: "rejected events".into(),
                recorded: format!("[{}]", event.rejected.join(", ")),
                expected: format!("[{}]", rejected.join(", ")),
            }));
        }
        if event.lamport != joining.lamport {
            return Ok(Err(Flaw::Differs {
                field: "the event's clock".into(),
                recorded: event.lamport.to_string(),
                expected: joining.lamport.to_string(),
            }));
        }
        let mut state = joining.state;
        state.updated_at = event.at.clone();
        Ok(Ok(state))
    }
}

/// The state a first event leads to, from the state before any event: what the client's plan
/// said (its lane and, for a claimed lane, its agent). The server cannot know that plan (it
/// may not have been pushed yet), so it takes the lane the event names as its start; a state
/// that says `done` is still held to landed work.
fn first_event(event: &Event, state: &WpState) -> std::result::Result<WpState, Flaw> {
    let lane = event.from.unwrap_or(state.lane);
    let mut first = None;
    for agent in [state.agent.clone(), None] {
        let initial = WpState::initial(state.feature.clone(), state.wp.clone(), lane, agent);
        let after = rules::apply(&initial, event);
        if after.as_ref() == Ok(state) {
            return Ok(state.clone());
        }
        first.get_or_insert(after);
    }
    match first {
        Some(Ok(s)) => Ok(s),
        Some(Err(r)) => Err(Flaw::Refused(r)),
        None => Err(Flaw::Shape),
    }
}

/// Branches and worktrees an event or state names that are not the WP's own (a dependency in
/// a base must name that dependency's own branch).
fn foreign_names(feature: &FeatureSlug, wp: &WpId, event: &Event, state: &WpState) -> Vec<String> {
    let (branch, worktree) = (wp_branch(feature, wp), wp_worktree(feature, wp));
    let mut out = Vec::new();
    let mut note = |what: String| {
        if !out.contains(&what) {
            out.push(what);
        }
    };
    for b in [&event.branch, &state.branch].into_iter().flatten() {
        if *b != branch {
            note(format!("branch {}", b.escape_debug()));
        }
    }
    for w in [&event.worktree, &state.worktree].into_iter().flatten() {
        if *w != worktree {
            note(format!("worktree {}", w.escape_debug()));
        }
    }
    for base in [&event.base, &state.base].into_iter().flatten() {
        for d in &base.dependencies {
            let own =
                d.wp.parse::<WpId>()
                    .is_ok_and(|dep| d.branch == wp_branch(feature, &dep));
            if !own {
                note(format!(
                    "branch {} for dependency {}",
                    d.branch.escape_debug(),
                    d.wp.escape_debug()
                ));
            }
        }
    }
    out
}

/// The first field in which `recorded` differs from `expected`, as a flaw.
fn difference(recorded: &WpState, expected: &WpState) -> Option<Flaw> {
    if recorded == expected {
        return None;
    }
    let as_map = |s: &WpState| match serde_json::to_value(s) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (r, e) = (as_map(recorded), as_map(expected));
    let field = e
        .iter()
        .find(|(k, v)| r.get(*k) != Some(*v))
        .map(|(k, _)| k.clone())
        .unwrap_or_else(|| "state".into());
    let show = |m: &serde_json::Map<String, serde_json::Value>| {
        m.get(&field)
            .map_or_else(|| "nothing".into(), ToString::to_string)
    };
    Some(Flaw::Differs {
        recorded: show(&r),
        expected: show(&e),
        field,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::schema::SCHEMA;

    /// Commits held in memory.
    #[derive(Default)]
    struct Mem(HashMap<Oid, CommitData>);

    impl Commits for Mem {
        fn commit(&mut self, id: Oid) -> Result<Option<CommitData>> {
            Ok(self.0.get(&id).cloned())
        }
        fn only_in(&mut self, tip: Oid, not: Option<Oid>) -> Result<Vec<Oid>> {
            let reach = |from: Option<Oid>, map: &HashMap<Oid, CommitData>| {
                let mut seen = HashSet::new();
                let mut stack: Vec<Oid> = from.into_iter().collect();
                while let Some(id) = stack.pop() {
                    if seen.insert(id)
                        && let Some(c) = map.get(&id)
                    {
                        stack.extend(c.parents.iter().copied());
                    }
                }
                seen
            };
            let excluded = reach(not, &self.0);
            let mut ids: Vec<Oid> = reach(Some(tip), &self.0)
                .into_iter()
                .filter(|i| !excluded.contains(i))
                .collect();
            // Numbered ids: a parent always has a smaller number.
            ids.sort();
            Ok(ids)
        }
    }

    fn oid(n: u32) -> Oid {
        crate::git::parse_oid(&format!("{n:08x}{}", "0".repeat(32))).unwrap()
    }

    fn ids() -> (FeatureSlug, WpId) {
        ("001-x".parse().unwrap(), "WP01".parse().unwrap())
    }

    fn event(kind: EventKind, actor: &str, lamport: u64, from: Lane, to: Option<Lane>) -> Event {
        let mut e = store::draft(kind, actor);
        e.v = SCHEMA;
        e.id = format!("e{lamport}-{actor}");
        e.at = format!("2026-01-01T00:00:{lamport:02}Z");
        e.lamport = lamport;
        e.from = Some(from);
        e.to = to;
        e
    }

    impl Mem {
        fn put(&mut self, n: u32, parents: &[u32], event: &Event, state: &WpState) -> Oid {
            let id = oid(n);
            self.0.insert(
                id,
                CommitData {
                    id,
                    tree: crate::git::empty_tree(),
                    parents: parents.iter().map(|p| oid(*p)).collect(),
                    message: String::new(),
                    headers: vec![
                        ("kitty-event".into(), serde_json::to_string(event).unwrap()),
                        ("kitty-state".into(), serde_json::to_string(state).unwrap()),
                    ],
                    time_secs: 0,
                },
            );
            id
        }
    }

    fn planned() -> WpState {
        let (f, w) = ids();
        WpState::initial(f, w, Lane::Planned, None)
    }

    fn run(mem: &mut Mem, new: &[u32], landed: bool) -> std::result::Result<Facts, Finding> {
        let (f, w) = ids();
        let mut asked = || Ok(landed);
        let mut subject = Subject {
            feature: &f,
            wp: &w,
            landed: &mut asked,
        };
        let new: Vec<Oid> = new.iter().map(|n| oid(*n)).collect();
        check_new(mem, &mut subject, &new).unwrap()
    }

    #[test]
    fn honest_events_and_joins_pass() {
        let mut mem = Mem::default();
        let claim = event(
            EventKind::Lane,
            "alice",
            1,
            Lane::Planned,
            Some(Lane::Claimed),
        );
        let s1 = rules::apply(&planned(), &claim).unwrap();
        mem.put(1, &[], &claim, &s1);
        let start = event(
            EventKind::Lane,
            "alice",
            2,
            Lane::Claimed,
            Some(Lane::InProgress),
        );
        let s2 = rules::apply(&s1, &start).unwrap();
        mem.put(2, &[1], &start, &s2);
        // Offline, bob claimed too: his join with alice's history rejects it.
        let bobs = event(
            EventKind::Lane,
            "bob",
            1,
            Lane::Planned,
            Some(Lane::Claimed),
        );
        let b1 = rules::apply(&planned(), &bobs).unwrap();
        mem.put(3, &[], &bobs, &b1);
        let joining = replay::join(&start, &s2, std::slice::from_ref(&bobs));
        let mut merge = event(
            EventKind::Merge,
            "bob",
            joining.lamport,
            Lane::Planned,
            None,
        );
        merge.from = None;
        merge.rejected = vec![bobs.id.clone()];
        let mut joined = joining.state;
        joined.updated_at = merge.at.clone();
        mem.put(4, &[3, 2], &merge, &joined);
        assert!(run(&mut mem, &[1, 2, 3, 4], false).is_ok());

        // The same join claiming bob's claim was not rejected is caught.
        merge.rejected.clear();
        mem.put(5, &[3, 2], &merge, &joined);
        let found = run(&mut mem, &[5], false).unwrap_err();
        assert_eq!(found.commit, oid(5));
        assert!(matches!(found.flaw, Flaw::Differs { .. }), "{found:?}");
    }

    #[test]
    fn a_state_its_event_does_not_lead_to_is_a_flaw() {
        let mut mem = Mem::default();
        let note = {
            let mut e = event(EventKind::Note, "eve", 1, Lane::Planned, None);
            e.from = None;
            e
        };
        let honest = rules::apply(&planned(), &note).unwrap();
        mem.put(1, &[], &note, &honest);
        let mut forged = honest.clone();
        forged.lane = Lane::Done;
        let mut note2 = note.clone();
        note2.lamport = 2;
        mem.put(2, &[1], &note2, &forged);
        let found = run(&mut mem, &[2], true).unwrap_err();
        let (f, w) = ids();
        assert_eq!(
            found.describe(&f, &w),
            "commit 0000000 records a state its event does not lead to: lane \"done\", where the lane rules give \"planned\""
        );
    }

    #[test]
    fn done_needs_landed_work_and_names_must_be_the_wps_own() {
        let mut mem = Mem::default();
        let done = event(EventKind::Lane, "eve", 1, Lane::Approved, Some(Lane::Done));
        let (f, w) = ids();
        let s = rules::apply(
            &WpState::initial(f.clone(), w.clone(), Lane::Approved, None),
            &done,
        )
        .unwrap();
        mem.put(1, &[], &done, &s);
        assert_eq!(
            run(&mut mem, &[1], false).unwrap_err().flaw,
            Flaw::NotLanded
        );
        assert!(run(&mut mem, &[1], true).is_ok());

        let mut claim = event(
            EventKind::Implement,
            "eve",
            1,
            Lane::Planned,
            Some(Lane::InProgress),
        );
        claim.branch = Some("001-x-WP02".into());
        claim.worktree = Some(".worktrees/001-x-WP02".into());
        let s = rules::apply(&planned(), &claim).unwrap();
        mem.put(2, &[], &claim, &s);
        let found = run(&mut mem, &[2], true).unwrap_err();
        assert_eq!(
            found.flaw.describe(&f, &w),
            "names branch 001-x-WP02 and worktree .worktrees/001-x-WP02: WP01's own are branch 001-x-WP01 and worktree .worktrees/001-x-WP01"
        );
    }

    #[test]
    fn judging_finds_the_newest_sound_commit() {
        let mut mem = Mem::default();
        let note = |n: u64| {
            let mut e = event(EventKind::Note, "a", n, Lane::Planned, None);
            e.from = None;
            e
        };
        let s1 = rules::apply(&planned(), &note(1)).unwrap();
        mem.put(1, &[], &note(1), &s1);
        let s2 = rules::apply(&s1, &note(2)).unwrap();
        mem.put(2, &[1], &note(2), &s2);
        let mut bad = rules::apply(&s2, &note(3)).unwrap();
        bad.agent = Some("mallory".into());
        mem.put(3, &[2], &note(3), &bad);
        let s4 = rules::apply(&bad, &note(4)).unwrap();
        mem.put(4, &[3], &note(4), &s4);
        let (f, w) = ids();
        let mut asked = || Ok(false);
        let mut subject = Subject {
            feature: &f,
            wp: &w,
            landed: &mut asked,
        };
        let j = judge(&mut mem, &mut subject, oid(4)).unwrap();
        assert_eq!(j.flaw.as_ref().map(|f| f.commit), Some(oid(3)));
        assert_eq!(j.sound, Some(oid(2)));
        let j = judge(&mut mem, &mut subject, oid(9)).unwrap();
        assert_eq!(j.flaw.map(|f| f.flaw), Some(Flaw::NotACommit));
        assert_eq!(j.sound, None);
    }
}
