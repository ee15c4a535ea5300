//! The state store: one ref per WP, `refs/kitty/wp/<feature>/<WP>`, pointing at a chain of
//! event commits. Every write is a compare-and-swap on that ref.
//!
//! Refs are shared by every worktree of a clone at once, and writing one touches no branch,
//! index or working tree: a lane change never dirties anything and never conflicts in a merge.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::cache::StateCache;
use super::rules::{self, Rejection};
use super::schema::{self, Event, SCHEMA, WpState};
use crate::error::{Error, ErrorKind, Result};
use crate::git::Oid;
use crate::git::{Cas, CommitData, LockFile, NewCommit, Repo};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::problem::{Code, Problem};
use crate::util::time;

pub const PREFIX: &str = "refs/kitty/wp/";

/// How long a writer keeps retrying a ref that other writers keep moving.
const RETRY_FOR: Duration = Duration::from_secs(30);

/// `KITTY_RETRY_SECS` shortens the retry window (tests of a stuck lock).
fn retry_for() -> Duration {
    std::env::var("KITTY_RETRY_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(RETRY_FOR, Duration::from_secs)
}

pub fn ref_name(feature: &FeatureSlug, wp: &WpId) -> String {
    format!("{PREFIX}{feature}/{wp}")
}

/// Every WP's state tip, by feature and WP.
pub type States = HashMap<(FeatureSlug, WpId), Tip>;

/// A WP's current tip: the commit, the event it records and the state after it.
#[derive(Clone, Debug)]
pub struct Tip {
    pub commit: Oid,
    pub event: Event,
    pub state: WpState,
}

/// Why a commit cannot serve as a WP's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// Written by a newer git kitty (this schema version): another version's live state, read
    /// by upgrading, never deleted.
    Newer(u64),
    /// Not a readable state commit of this WP; the reason, for people.
    Damaged(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::Newer(v) => write!(
                f,
                "it was written by a newer git kitty (state schema v{v}; this one reads up to v{SCHEMA})"
            ),
            Unusable::Damaged(why) => f.write_str(why),
        }
    }
}

/// Decode a state commit.
pub fn decode(commit: &CommitData) -> std::result::Result<(Event, WpState), Unusable> {
    let damaged = |why: String| Unusable::Damaged(why);
    let header = |name: &str| {
        commit.header(name).ok_or_else(|| {
            damaged(format!(
                "commit {} has no `{name}` header: not a git kitty state commit",
                commit.id
            ))
        })
    };
    let state_json = header(schema::STATE_HEADER)?;
    let event_json = header(schema::EVENT_HEADER)?;
    for json in [state_json, event_json] {
        match schema::version_of(json) {
            Some(v) if v > u64::from(SCHEMA) => return Err(Unusable::Newer(v)),
            Some(_) => {}
            None => {
                return Err(damaged(format!(
                    "commit {} holds unreadable state",
                    commit.id
                )));
            }
        }
    }
    let state: WpState = serde_json::from_str(state_json)
        .map_err(|e| damaged(format!("commit {} holds unreadable state: {e}", commit.id)))?;
    let event: Event = serde_json::from_str(event_json).map_err(|e| {
        damaged(format!(
            "commit {} holds an unreadable event: {e}",
            commit.id
        ))
    })?;
    Ok((event, state))
}

/// [`decode`], and the state must be `feature`/`wp`'s: a ref pointed at another WP's state
/// is damage, not a history to use.
pub fn decode_for(
    commit: &CommitData,
    feature: &FeatureSlug,
    wp: &WpId,
) -> std::result::Result<(Event, WpState), Unusable> {
    let (event, state) = decode(commit)?;
    if state.feature != *feature || state.wp != *wp {
        return Err(Unusable::Damaged(format!(
            "it holds the state of {}/{}",
            state.feature, state.wp
        )));
    }
    Ok((event, state))
}

/// Read one WP's tip. A ref that cannot be read is an error naming the ref and the way out.
pub fn read(repo: &Repo, feature: &FeatureSlug, wp: &WpId) -> Result<Option<Tip>> {
    let name = ref_name(feature, wp);
    let Some(id) = repo.ref_tip(&name)? else {
        return Ok(None);
    };
    let unreadable = |why: Unusable| {
        Error::failed(format!(
            "cannot use the state of {feature}/{wp} in {name}: {why}"
        ))
        .hint(way_out(&name, &why))
    };
    let commit = repo
        .read_commit(id)
        .map_err(|e| unreadable(Unusable::Damaged(e.message.clone())))?;
    let (event, state) = decode_for(&commit, feature, wp).map_err(unreadable)?;
    Ok(Some(Tip {
        commit: id,
        event,
        state,
    }))
}

/// Every WP's tip under `refs/kitty/wp/` (only `features`' when given). Tips already decoded
/// before come from the state cache; the others are read in parallel. Refs that are not git
/// kitty's (bad names, foreign objects, newer schema) are reported as problems and skipped:
/// they never take the board down.
pub fn read_all(repo: &Repo, features: Option<&[&FeatureSlug]>) -> Result<(States, Vec<Problem>)> {
    let refs = match features {
        None => repo.refs_under(PREFIX)?,
        Some(list) => {
            let mut all = Vec::new();
            for f in list {
                all.extend(repo.refs_under(&format!("{PREFIX}{f}/"))?);
            }
            all
        }
    };
    let mut problems = Vec::new();
    let mut jobs: Vec<(FeatureSlug, WpId, String, Oid)> = Vec::with_capacity(refs.len());
    for (name, id) in refs {
        match (parse_ref_name(&name), id) {
            (Some((f, w)), Some(id)) => jobs.push((f, w, name, id)),
            _ => problems.push(bad_ref(
                &name,
                &Unusable::Damaged("not a `refs/kitty/wp/<feature>/<WP>` state ref".into()),
            )),
        }
    }

    let mut slugs: Vec<String> = jobs.iter().map(|j| j.0.to_string()).collect();
    slugs.dedup();
    let slug_refs: Vec<&str> = slugs.iter().map(String::as_str).collect();
    let mut cache = StateCache::open(repo.common_dir(), &slug_refs);
    let mut tips = HashMap::with_capacity(jobs.len());
    let mut misses = Vec::new();
    for job in jobs {
        match cache.get(job.0.as_str(), job.1.as_str(), job.3) {
            Some((event, state)) => {
                tips.insert(
                    (job.0, job.1),
                    Tip {
                        commit: job.3,
                        event,
                        state,
                    },
                );
            }
            None => misses.push(job),
        }
    }
    let ids: Vec<Oid> = misses.iter().map(|j| j.3).collect();
    for ((f, w, name, id), commit) in misses.into_iter().zip(repo.read_commits(&ids)) {
        let decoded = commit
            .map_err(|e| Unusable::Damaged(e.message.clone()))
            .and_then(|c| decode_for(&c, &f, &w));
        match decoded {
            Ok((event, state)) => {
                cache.put(f.as_str(), w.as_str(), id, &event, &state);
                tips.insert(
                    (f, w),
                    Tip {
                        commit: id,
                        event,
                        state,
                    },
                );
            }
            Err(why) => problems.push(bad_ref(&name, &why)),
        }
    }
    for slug in &slugs {
        let present: Vec<&str> = tips
            .keys()
            .filter(|(f, _)| f.as_str() == slug)
            .map(|(_, w)| w.as_str())
            .collect();
        cache.retain(slug, &present);
    }
    cache.save();
    Ok((tips, problems))
}

/// `refs/kitty/wp/<feature>/<WP>` -> (feature, WP), exactly (no extra components, the WP
/// spelled as a valid id).
pub fn parse_ref_name(name: &str) -> Option<(FeatureSlug, WpId)> {
    parse_wp_path(name.strip_prefix(PREFIX)?)
}

/// `<feature>/<WP>` (a state ref's name below its namespace, local or tracking) -> (feature,
/// WP), exactly.
pub fn parse_wp_path(rel: &str) -> Option<(FeatureSlug, WpId)> {
    let (f, w) = rel.split_once('/')?;
    let wp: WpId = w.parse().ok()?;
    (wp.as_str() == w).then_some(())?;
    Some((f.parse().ok()?, wp))
}

fn bad_ref(name: &str, why: &Unusable) -> Problem {
    let problem = Problem::new(
        Code::BadStateRef,
        format!(
            "{why}; the WP is not ready until this is fixed ({})",
            way_out(name, why)
        ),
    )
    .at(name, None);
    // Attribute it to its feature and WP when the name says which, so `-f` views show it
    // and the board can hold the WP back.
    let rest = &name[PREFIX.len().min(name.len())..];
    let problem = match rest.split_once('/') {
        Some((f, _)) if f.parse::<FeatureSlug>().is_ok() => problem.in_feature(f),
        _ => problem,
    };
    match parse_ref_name(name) {
        Some((_, w)) => problem.for_wp(w.as_str()),
        None => problem,
    }
}

/// What to do about an unusable state ref. A newer schema is another version's real state:
/// upgrade, never delete. A damaged state ref is repaired (`git kitty repair`); a ref outside
/// the schema is not state and can be removed (`--no-deref`: a symbolic ref itself, not the
/// branch it points to).
fn way_out(name: &str, why: &Unusable) -> String {
    if let Unusable::Newer(_) = why {
        "upgrade git kitty to read it; do not delete it: it is another version's live state".into()
    } else if let Some((f, w)) = parse_ref_name(name) {
        format!(
            "inspect it with `git log {name}`; `git kitty repair {w} -f {f}` replaces it with a sound history (here and on the remote)"
        )
    } else {
        format!(
            "it is not state: `git update-ref --no-deref -d {name}` removes it (a server takes its deletion too)"
        )
    }
}

/// What an [`append`] did.
#[derive(Debug)]
pub enum Appended {
    /// The event was written; the new tip.
    Written(Box<Tip>),
    /// Nothing to write (the builder said so); the current state.
    Unchanged(Box<WpState>),
}

/// The part of an event the caller decides; [`append`] stamps id, time, clock and version.
pub type Draft = Event;

/// Append an event to a WP's history by compare-and-swap, retrying on races.
///
/// `initial` is the state before the first event (from the plan). `build` sees the current
/// state and returns the event to write (`None`: nothing to do) or an error (a refusal it
/// decided itself). The event is then checked by the lane rules; a rejection becomes a
/// `refused` error. When another writer moved the ref first, everything is read and decided
/// again: the caller's checks always see the state they are writing on top of.
pub fn append(
    repo: &Repo,
    feature: &FeatureSlug,
    wp: &WpId,
    initial: &dyn Fn() -> WpState,
    build: &mut dyn FnMut(&WpState) -> Result<Option<Draft>>,
) -> Result<Appended> {
    let name = ref_name(feature, wp);
    let started = Instant::now();
    let mut attempt: u32 = 0;
    // The last decision: the tip it was made on, and the commit written for it. While the
    // tip stays the same (a lock held by a slow or dead writer), the same commit is offered
    // again: one object per decision, not one per attempt.
    let mut decided: Option<(Option<Oid>, Tip)> = None;
    loop {
        attempt += 1;
        let tip = read(repo, feature, wp)?;
        let old = tip.as_ref().map(|t| t.commit);
        let proposal = match decided.take() {
            Some((on, proposal)) if on == old => proposal,
            _ => {
                let state = tip.as_ref().map_or_else(initial, |t| t.state.clone());
                let Some(mut event) = build(&state)? else {
                    return Ok(Appended::Unchanged(Box::new(state)));
                };
                stamp(&mut event, &state);
                let new_state = rules::apply(&state, &event).map_err(|r| refusal(&r, wp))?;
                let parents: Vec<Oid> = old.into_iter().collect();
                Tip {
                    commit: write(repo, &event, &new_state, &parents)?,
                    event,
                    state: new_state,
                }
            }
        };
        let message = schema::message(&proposal.event, wp);
        match repo.cas_ref(&name, old, proposal.commit, &message)? {
            Cas::Done => return Ok(Appended::Written(Box::new(proposal))),
            Cas::Raced if started.elapsed() < retry_for() => {
                // Someone else wrote first (or holds the lock): back off a little (more each
                // time), then decide again on their state. A lock file left by a writer that
                // died is removed once it is certainly stale (`git::locks`).
                decided = Some((old, proposal));
                let cleared = [name.as_str(), "packed-refs"]
                    .map(|n| repo.clear_stale_ref_lock(n) == LockFile::Removed);
                if !cleared.contains(&true) {
                    let jitter = u64::from(std::process::id() % 7) + u64::from(attempt.min(20));
                    std::thread::sleep(Duration::from_millis(jitter));
                }
            }
            Cas::Raced => {
                let lock = repo.common_dir().join(format!("{name}.lock"));
                let err = Error::failed(format!(
                    "gave up writing {name} after {attempt} attempts: other writers kept moving it"
                ));
                return Err(if lock.exists() {
                    err.cause(format!("{} exists", lock.display())).hint(format!(
                        "if no git kitty or git process is running, a crashed one left it: `rm {}`",
                        lock.display()
                    ))
                } else {
                    err.hint("try again")
                });
            }
        }
    }
}

/// Write a state commit (no ref is touched). Public for the history merge of `pull`.
pub fn write(repo: &Repo, event: &Event, state: &WpState, parents: &[Oid]) -> Result<Oid> {
    let event_json = serde_json::to_string(event)
        .map_err(|e| Error::failed("cannot encode an event").cause(e))?;
    let state_json = serde_json::to_string(state)
        .map_err(|e| Error::failed("cannot encode a state").cause(e))?;
    let author = sanitize_name(&event.actor);
    let email = repo
        .config_string("user.email")
        .filter(|e| !e.contains(['<', '>', '\n']))
        .unwrap_or_else(|| "kitty@localhost".to_owned());
    let time_secs = time::parse_rfc3339(&event.at).map_or(0, |n| (n / 1_000_000_000) as i64);
    repo.write_commit(NewCommit {
        tree: None,
        parents,
        message: &schema::message(event, &state.wp),
        headers: &[
            (schema::EVENT_HEADER, event_json),
            (schema::STATE_HEADER, state_json),
        ],
        author_name: &author,
        author_email: &email,
        time_secs,
    })
}

/// Fill in what every event carries: version, a unique id, the time, the Lamport clock.
pub fn stamp(event: &mut Event, state: &WpState) {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    event.v = SCHEMA;
    // Unique even for two identical moves in one nanosecond: pid and a counter. (gix treats a
    // ref already at the new value as a successful compare-and-swap, so events must differ.)
    event.id = format!(
        "{:x}-{:x}-{n:x}",
        time::system_now_nanos(),
        std::process::id()
    );
    let now = time::now_nanos();
    event.at = time::format_rfc3339_nanos(now);
    event.lamport = state.lamport + 1;
}

/// An empty event of `kind` by `actor`, for [`append`] to stamp.
pub fn draft(kind: schema::EventKind, actor: &str) -> Draft {
    Event {
        v: SCHEMA,
        id: String::new(),
        kind,
        actor: actor.to_owned(),
        at: String::new(),
        lamport: 0,
        from: None,
        to: None,
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

/// A rule's rejection as an error with the command that would work.
fn refusal(r: &Rejection, wp: &WpId) -> Error {
    let err = Error::refused(r.message(wp.as_str()));
    match r {
        Rejection::Held { holder, lane } => err
            .details(serde_json::json!({ "holder": holder, "lane": lane }))
            .hint(format!(
                "ask {holder}, or take it over with `git kitty lane {wp} <lane> --force --reason \"...\"`"
            )),
        Rejection::NotAllowed { from, .. } => {
            let next: Vec<&str> = from.allowed_next().iter().map(|l| l.as_str()).collect();
            let err = if next.is_empty() {
                err
            } else {
                err.hint(format!("from {from} a WP can move to: {}", next.join(", ")))
            };
            err.hint("`--force --reason \"...\"` moves it anyway, recorded as forced")
        }
        Rejection::NeedsNote { to, .. } => err.hint(format!(
            "git kitty lane {wp} {to} --note \"what needs to change\""
        )),
        Rejection::Stale { .. } | Rejection::SameLane { .. } => err,
    }
}

/// Make an agent name safe as a commit author name (git refuses `<`, `>` and newlines).
fn sanitize_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '<' || c == '>' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if cleaned.trim().is_empty() {
        "unknown".to_owned()
    } else {
        cleaned
    }
}

/// The whole history of one WP, newest first (merges included: every commit reachable).
pub fn history(repo: &Repo, feature: &FeatureSlug, wp: &WpId) -> Result<Vec<(CommitData, Event)>> {
    let Some(tip) = repo.ref_tip(&ref_name(feature, wp))? else {
        return Ok(Vec::new());
    };
    history_from(repo, feature, wp, tip, &std::collections::HashSet::new())
}

/// The events of one WP's history from `tip` down, newest first, without walking past the
/// commits in `known` (a reader that already has them: only what is new is read).
pub fn history_from(
    repo: &Repo,
    feature: &FeatureSlug,
    wp: &WpId,
    tip: Oid,
    known: &std::collections::HashSet<Oid>,
) -> Result<Vec<(CommitData, Event)>> {
    if known.contains(&tip) {
        return Ok(Vec::new());
    }
    let mut seen = std::collections::HashSet::from([tip]);
    let mut queue = vec![tip];
    let mut out = Vec::new();
    while let Some(id) = queue.pop() {
        let commit = repo.read_commit(id)?;
        for p in &commit.parents {
            if !known.contains(p) && seen.insert(*p) {
                queue.push(*p);
            }
        }
        let event = decode(&commit)
            .map_err(|why| {
                Error::new(
                    ErrorKind::Failed,
                    format!("cannot read the history of {feature}/{wp}: {why}"),
                )
            })?
            .0;
        out.push((commit, event));
    }
    sort_newest_first(&mut out);
    Ok(out)
}

/// Newest first: by Lamport clock, then time, then id (a total, deterministic order).
pub fn sort_newest_first(events: &mut [(CommitData, Event)]) {
    events.sort_by(|(_, a), (_, b)| {
        (b.lamport, time::parse_rfc3339(&b.at), &b.id).cmp(&(
            a.lamport,
            time::parse_rfc3339(&a.at),
            &a.id,
        ))
    });
}

/// What [`join`] did to a WP whose local and remote histories diverged.
#[derive(Debug)]
pub struct Joined {
    /// The merge commit (both histories are its ancestors).
    pub commit: Oid,
    pub state: WpState,
    /// Events this join refused, with the reason for people.
    pub rejected: Vec<(Event, String)>,
}

/// Join two histories of one WP: a merge commit with both tips as parents. Its state is the
/// remote's, with the events only the local side has replayed on top (`replay::join`): the
/// remote is the arbiter. Writes the commit; the caller moves the ref.
pub fn join(
    repo: &Repo,
    local: Oid,
    remote: Oid,
    feature: &FeatureSlug,
    wp: &WpId,
    actor: &str,
) -> Result<Joined> {
    let unreadable =
        |why: Unusable| Error::failed(format!("cannot join the histories of {wp}: {why}"));
    // Everything the remote has: its events are settled, its recorded state is the base.
    let remote_commit = repo.read_commit(remote)?;
    let (remote_event, base) = decode_for(&remote_commit, feature, wp).map_err(unreadable)?;
    // The local-only events (merges among them carry what earlier joins refused).
    let mut commits = super::verify::RepoCommits::new(repo);
    let mut local_only = Vec::new();
    for id in super::verify::Commits::only_in(&mut commits, local, Some(remote))? {
        let commit = repo.read_commit(id)?;
        local_only.push(decode(&commit).map_err(unreadable)?.0);
    }
    let result = super::replay::join(&remote_event, &base, &local_only);
    let mut state = result.state;
    let mut event = draft(schema::EventKind::Merge, actor);
    stamp(&mut event, &state);
    event.lamport = result.lamport;
    event.rejected = result.rejected.iter().map(|(e, _)| e.id.clone()).collect();
    if !result.rejected.is_empty() {
        let lines: Vec<String> = result
            .rejected
            .iter()
            .map(|(e, why)| {
                format!(
                    "rejected {}'s {}: {}",
                    e.actor,
                    describe(e),
                    why.message(wp.as_str())
                )
            })
            .collect();
        event.note = Some(lines.join("\n"));
    }
    state.updated_at = event.at.clone();
    let commit = write(repo, &event, &state, &[local, remote])?;
    Ok(Joined {
        commit,
        state,
        rejected: result
            .rejected
            .into_iter()
            .map(|(e, why)| {
                let text = why.message(wp.as_str());
                (e, text)
            })
            .collect(),
    })
}

/// `claim (planned -> claimed)`, `note`: an event in a few words.
pub fn describe(e: &Event) -> String {
    match (e.kind, e.from, e.to) {
        (schema::EventKind::Note, ..) => "note".into(),
        (_, Some(f), Some(t))
            if matches!(
                t,
                crate::model::lane::Lane::Claimed | crate::model::lane::Lane::InProgress
            ) && f != t =>
        {
            format!("claim ({f} -> {t})")
        }
        (_, Some(f), Some(t)) => format!("move {f} -> {t}"),
        (k, ..) => format!("{k:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::Oid;
    use crate::model::lane::Lane;
    use crate::state::schema::EventKind;

    /// A new, empty repository in a temporary directory.
    fn repo() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("git")
            .args(["init", "-q"])
            .arg(dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let repo = Repo::discover(dir.path()).unwrap();
        (dir, repo)
    }

    fn planned() -> WpState {
        WpState::initial(
            "001-x".parse().unwrap(),
            "WP01".parse().unwrap(),
            Lane::Planned,
            None,
        )
    }

    /// Write `actor`'s move to `to` on top of `parent` (whose state is `before`): the commit,
    /// the state after it, and the event.
    fn move_to(
        repo: &Repo,
        parent: Option<(Oid, &WpState)>,
        actor: &str,
        kind: EventKind,
        to: Option<Lane>,
    ) -> (Oid, WpState, Event) {
        let initial = planned();
        let before = parent.map_or(&initial, |(_, s)| s);
        let mut e = draft(kind, actor);
        e.from = Some(before.lane);
        e.to = to;
        stamp(&mut e, before);
        let after = rules::apply(before, &e).unwrap();
        let parents: Vec<Oid> = parent.map(|(c, _)| c).into_iter().collect();
        let commit = write(repo, &e, &after, &parents).unwrap();
        (commit, after, e)
    }

    fn ids() -> (FeatureSlug, WpId) {
        ("001-x".parse().unwrap(), "WP01".parse().unwrap())
    }

    #[test]
    fn join_keeps_the_remotes_claim_and_rejects_the_one_that_came_later() {
        let (_dir, repo) = repo();
        let (f, w) = ids();
        let claim = Some(Lane::Claimed);
        let (local, _, bobs) = move_to(&repo, None, "bob", EventKind::Lane, claim);
        let (remote, _, _) = move_to(&repo, None, "alice", EventKind::Lane, claim);

        let joined = join(&repo, local, remote, &f, &w, "bob").unwrap();
        assert_eq!(joined.state.lane, Lane::Claimed);
        assert_eq!(joined.state.agent.as_deref(), Some("alice"));
        assert_eq!(joined.state.lamport, 2);
        let rejected: Vec<(&str, &str)> = joined
            .rejected
            .iter()
            .map(|(e, why)| (e.id.as_str(), why.as_str()))
            .collect();
        assert_eq!(rejected, [(bobs.id.as_str(), "WP01 is claimed by alice")]);

        let commit = repo.read_commit(joined.commit).unwrap();
        assert_eq!(commit.parents, [local, remote]);
        let (event, state) = decode_for(&commit, &f, &w).unwrap();
        assert_eq!(state, joined.state);
        assert_eq!(event.kind, EventKind::Merge);
        assert_eq!(event.actor, "bob");
        assert_eq!(event.rejected, [bobs.id.as_str()]);
        assert_eq!(
            event.note.as_deref(),
            Some("rejected bob's claim (planned -> claimed): WP01 is claimed by alice")
        );
    }

    #[test]
    fn join_replays_local_events_on_the_remote_state_and_keeps_old_rejections_settled() {
        let (_dir, repo) = repo();
        let (f, w) = ids();
        let claim = Some(Lane::Claimed);
        let (bob, _, _) = move_to(&repo, None, "bob", EventKind::Lane, claim);
        let (r1, claimed, _) = move_to(&repo, None, "alice", EventKind::Lane, claim);
        let merged = join(&repo, bob, r1, &f, &w, "bob").unwrap();
        // Meanwhile on the remote alice starts; here bob leaves a note after the merge.
        let progress = Some(Lane::InProgress);
        let (r2, started, _) = move_to(
            &repo,
            Some((r1, &claimed)),
            "alice",
            EventKind::Lane,
            progress,
        );
        let at_merge = (merged.commit, &merged.state);
        let (local, _, _) = move_to(&repo, Some(at_merge), "bob", EventKind::Note, None);

        let joined = join(&repo, local, r2, &f, &w, "bob").unwrap();
        // Bob's claim was refused by the first merge: not judged (nor listed) again.
        assert!(joined.rejected.is_empty(), "{:?}", joined.rejected);
        assert_eq!(joined.state.lane, Lane::InProgress);
        assert_eq!(joined.state.agent.as_deref(), Some("alice"));
        // Alice's two events, and bob's note replayed on top.
        assert_eq!(joined.state.events, started.events + 1);
        assert_eq!(joined.state.lamport, 4);
        let commit = repo.read_commit(joined.commit).unwrap();
        assert_eq!(commit.parents, [local, r2]);
        assert_eq!(decode(&commit).unwrap().0.note, None);

        // What join writes is what the server's check computes again: the whole history,
        // both joins included, is sound.
        let mut src = super::super::verify::RepoCommits::new(&repo);
        let mut landed = || Ok(false);
        let mut subject = super::super::verify::Subject {
            feature: &f,
            wp: &w,
            landed: &mut landed,
        };
        let judged = super::super::verify::judge(&mut src, &mut subject, joined.commit).unwrap();
        assert_eq!(judged.flaw, None);
        assert_eq!(judged.sound, Some(joined.commit));
    }
}
