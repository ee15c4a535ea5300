//! Landing order (invariant I7): a WP's commits may reach its target branch only after
//! everything it depends on is already there.
//!
//! A commit's WP is its `Kitty-WP: <feature>/<WP>` trailer (added in WP worktrees by the
//! commit hooks, carried into hand-made squash commits, and written by `git kitty merge`), so
//! it is known on any machine, after the branch is gone. `git kitty merge` also marks the
//! commit that lands a WP with `Kitty-Landed: <feature>/<WP>`.
//!
//! An update of a target branch to `new` is read the way the branch was built: its
//! first-parent chain, step by step. A step brings the commits reachable from it and not from
//! its first parent.
//! - A landing mark (`Kitty-Landed: W`) brought by a step is in order when W's dependencies
//!   are reachable from the mark's own first parent: that is how `git kitty merge` made it,
//!   and it stays checkable when those landings arrive together (a `git pull` merge, a first
//!   push to a new remote).
//! - Any other commit of W brought by a step, not covered by a landing mark of W in that
//!   step, is in order when W's dependencies are reachable from the step's first parent: a
//!   `git merge` that brings WP02 together with (or before) WP01 is refused.
//!
//! What counts is landed work and nothing else: a dependency is landed when a commit of it
//! (a `Kitty-WP` or `Kitty-Landed` trailer) is reachable in the new history, so a force-push
//! that drops one is caught; a lane in a WP file or in a state ref never counts. The
//! dependencies are the plan's as it was **before** the update ([`Rules::plan`]); a WP whose
//! dependencies the update changes may not land in it ([`Kind::Replanned`]: plan edits land
//! alone, and show in the branch's history). With `kitty.requireTrailer`, a commit that names
//! no WP may change nothing outside `kitty-specs/` ([`Kind::NoTrailer`]).
//!
//! Review (`kitty.landing.requireReview`, on unless set to false): a WP's work lands only
//! when its lane is `approved` (or `done`: `git kitty merge` marks it so after landing it).
//! History cannot say that, so the check names every WP an update lands ([`Report::lands`])
//! and [`require_review`] asks the caller for each one's lane: a clone reads its state refs, a
//! server the state refs as they will be after the push ([`Kind::NotApproved`]).
//!
//! Each rule is a [`Kind`] of [`Violation`] and, where it needs more than history, a field of
//! [`Rules`] (or, for review, a lane the caller supplies).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::error::Result;
use crate::git::Oid;
use crate::git::history::{History, TrailerCommit};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::lane::Lane;
use crate::model::plan::Plan;

/// A WP as trailers name it: its feature and number (`WP1` and `WP01` are one WP).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub feature: String,
    pub number: u32,
}

impl Key {
    /// `<feature>/<WP>` as a trailer names it, if it is one.
    pub fn parse(value: &str) -> Option<Key> {
        let (f, w) = value.split_once('/')?;
        let f: FeatureSlug = f.trim().parse().ok()?;
        let w: WpId = w.trim().parse().ok()?;
        Some(Key {
            feature: f.to_string(),
            number: w.number(),
        })
    }
}

/// Which rule an update breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// It lands a WP whose dependencies it also changes in the plan.
    Replanned,
    /// It lands a WP before one of its dependencies.
    Dependency,
    /// It lands a WP that is not approved (`kitty.landing.requireReview`).
    NotApproved,
    /// A commit names no WP and changes files outside `kitty-specs/` (`kitty.requireTrailer`).
    NoTrailer,
}

/// A WP that would land out of order, or a commit that may not land.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub kind: Kind,
    /// The WP (empty for `no_trailer`).
    pub feature: String,
    pub wp: String,
    /// Its dependencies that are not on the target branch yet.
    pub missing: Vec<String>,
    /// The commit that would land it.
    pub commit: String,
    /// An order that would work: the missing dependencies (and theirs), then the WP.
    pub order: Vec<String>,
    /// `replanned`: its dependencies before and after the update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replanned: Option<Replanned>,
    /// `no_trailer`: the paths it changes outside `kitty-specs/` (the first few).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// `not_approved`: the WP's lane where the check ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lane: Option<Lane>,
}

/// A WP's dependencies before and after an update (`None`: not in that plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replanned {
    pub before: Option<Vec<String>>,
    pub after: Option<Vec<String>>,
    /// The commit just before the work, when the update brings it: pushed alone first, it
    /// takes the plan change (if that comes first) without the work.
    pub push_first: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// Trailers that name no WP of the plan (reported, never blocking).
    pub warnings: Vec<String>,
    /// Every WP of the plan the update lands, with the first commit that lands it: what
    /// [`require_review`] asks about.
    #[serde(skip)]
    pub lands: Vec<(Key, Oid)>,
}

/// What the check needs besides history.
pub struct Rules<'a> {
    /// The plan whose dependency edges count: the target's plan before the update (for a merge
    /// being made in a clone, the clone's plan).
    pub plan: &'a Plan,
    /// The plan after the update, when it brings one: a WP whose dependencies differ between
    /// the two may not land in the same update.
    pub after: Option<&'a Plan>,
    /// Commits that name no WP of the plan may not change files outside `kitty-specs/`.
    pub require_trailer: bool,
}

impl<'a> Rules<'a> {
    /// The rules for an update of a target branch: the plan before it and after it. `before`
    /// is `None` for a new branch (judged by the plan it brings) and for an update that does
    /// not change the plan.
    pub fn for_update(before: Option<&'a Plan>, after: &'a Plan, require_trailer: bool) -> Self {
        Rules {
            plan: before.unwrap_or(after),
            after: before.map(|_| after),
            require_trailer,
        }
    }

    /// The plans a WP may be named in.
    fn plans(&self) -> impl Iterator<Item = &'a Plan> + '_ {
        std::iter::once(self.plan).chain(self.after)
    }
}

/// The commits of a history, by id, with their WPs resolved against the plan.
struct Dag {
    nodes: HashMap<Oid, Node>,
}

struct Node {
    parents: Vec<Oid>,
    wps: Vec<Key>,
    landed: Vec<Key>,
}

impl Dag {
    fn load(commits: Vec<TrailerCommit>, rules: &Rules<'_>, report: &mut Report) -> Dag {
        let mut nodes = HashMap::with_capacity(commits.len());
        for c in commits {
            let short = c.id.to_string()[..7].to_owned();
            let wps = keys(&c.wps, &short, rules, report);
            let landed = keys(&c.landed, &short, rules, report);
            nodes.insert(
                c.id,
                Node {
                    parents: c.parents,
                    wps,
                    landed,
                },
            );
        }
        Dag { nodes }
    }

    /// Every WP with a commit reachable from `from` (inclusive).
    fn landed_from(&self, from: Oid, memo: &mut HashMap<Oid, HashSet<Key>>) -> HashSet<Key> {
        if let Some(done) = memo.get(&from) {
            return done.clone();
        }
        let mut seen = HashSet::new();
        let mut out = HashSet::new();
        let mut stack = vec![from];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            if let Some(n) = self.nodes.get(&id) {
                out.extend(n.wps.iter().cloned());
                out.extend(n.landed.iter().cloned());
                stack.extend(n.parents.iter().copied());
            }
        }
        memo.insert(from, out.clone());
        out
    }

    /// Ids reachable from `from`.
    fn reachable(&self, from: &[Oid]) -> HashSet<Oid> {
        let mut seen = HashSet::new();
        let mut stack: Vec<Oid> = from.to_vec();
        while let Some(id) = stack.pop() {
            if seen.insert(id)
                && let Some(n) = self.nodes.get(&id)
            {
                stack.extend(n.parents.iter().copied());
            }
        }
        seen
    }
}

/// One first-parent step of an update, as judged.
struct Step<'s> {
    id: Oid,
    first_parent: Option<Oid>,
    /// The commits it brings.
    brought: &'s [Oid],
    /// Its first parent, when that commit is new in the update too.
    push_first: Option<Oid>,
}

/// A WP's dependencies before and after an update (`None`: not in that plan).
type DepsChange = (Option<Vec<String>>, Option<Vec<String>>);

/// What judging needs as it goes: the rules, the WPs whose plan entry changes, a memo.
struct Judge<'r, 'a> {
    rules: &'r Rules<'a>,
    replanned: HashMap<Key, DepsChange>,
    memo: HashMap<Oid, HashSet<Key>>,
}

/// Check an update of a target branch from `old` (`None`: a new branch) to `new`.
pub fn check_update(
    history: &History,
    rules: &Rules<'_>,
    old: Option<Oid>,
    new: Oid,
) -> Result<Report> {
    let mut report = Report::default();
    let commits = history.commits(&[new], &[])?;
    if !rules.require_trailer
        && commits
            .iter()
            .all(|c| c.wps.is_empty() && c.landed.is_empty())
    {
        return Ok(report);
    }
    let dag = Dag::load(commits, rules, &mut report);
    let before: HashSet<Oid> = old.map_or_else(HashSet::new, |o| dag.reachable(&[o]));
    // The first-parent chain from `new` back to what the branch had, oldest first.
    let mut chain = Vec::new();
    let mut at = Some(new);
    while let Some(id) = at {
        if before.contains(&id) {
            break;
        }
        let Some(n) = dag.nodes.get(&id) else { break };
        chain.push(id);
        at = n.parents.first().copied();
    }
    chain.reverse();
    let mut judge = Judge::new(rules);
    let mut included = before.clone();
    let mut unnamed = Vec::new();
    for id in chain {
        let first_parent = dag.nodes.get(&id).and_then(|n| n.parents.first().copied());
        let brought = bring(&dag, &[id], &mut included);
        unnamed.extend(brought.iter().filter(|c| dag.nodes[*c].wps.is_empty()));
        let step = Step {
            id,
            first_parent,
            brought: &brought,
            push_first: first_parent.filter(|p| !before.contains(p)),
        };
        judge.step(&dag, &step, &mut report);
    }
    if rules.require_trailer {
        unnamed_work(history, &unnamed, &mut report)?;
    }
    report.violations.sort_by_key(|v| v.kind);
    Ok(report)
}

/// Check a merge of `incoming` into `head` (the `pre-merge-commit` case, and a merge or squash
/// being committed): everything the merge brings is one step on top of `head`.
pub fn check_merge(
    history: &History,
    rules: &Rules<'_>,
    head: Oid,
    incoming: &[Oid],
) -> Result<Report> {
    let mut report = Report::default();
    let mut tips = vec![head];
    tips.extend_from_slice(incoming);
    let commits = history.commits(&tips, &[])?;
    if commits
        .iter()
        .all(|c| c.wps.is_empty() && c.landed.is_empty())
    {
        return Ok(report);
    }
    let dag = Dag::load(commits, rules, &mut report);
    let mut included = dag.reachable(&[head]);
    let brought = bring(&dag, incoming, &mut included);
    let step = Step {
        id: incoming.first().copied().unwrap_or(head),
        first_parent: Some(head),
        brought: &brought,
        push_first: None,
    };
    Judge::new(rules).step(&dag, &step, &mut report);
    report.violations.sort_by_key(|v| v.kind);
    Ok(report)
}

/// The commits reachable from `tips` not yet `included` (and mark them included).
fn bring(dag: &Dag, tips: &[Oid], included: &mut HashSet<Oid>) -> Vec<Oid> {
    let mut out = Vec::new();
    let mut stack = tips.to_vec();
    while let Some(id) = stack.pop() {
        if !included.insert(id) {
            continue;
        }
        if let Some(n) = dag.nodes.get(&id) {
            out.push(id);
            stack.extend(n.parents.iter().copied());
        }
    }
    out
}

/// The first few paths outside `kitty-specs/` among `paths` (as git quotes them).
fn outside_plan(paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .filter(|p| !p.trim_start_matches('"').starts_with("kitty-specs/"))
        .take(5)
        .cloned()
        .collect()
}

/// Under `kitty.requireTrailer`: each of `unnamed` (commits naming no WP of the plan) that
/// changes files outside `kitty-specs/` is a violation.
fn unnamed_work(history: &History, unnamed: &[Oid], report: &mut Report) -> Result<()> {
    for (id, paths) in unnamed.iter().zip(history.changed_paths(unnamed)?) {
        let outside = outside_plan(&paths);
        if outside.is_empty() {
            continue;
        }
        report.violations.push(Violation {
            kind: Kind::NoTrailer,
            feature: String::new(),
            wp: String::new(),
            missing: Vec::new(),
            commit: id.to_string(),
            order: Vec::new(),
            replanned: None,
            paths: outside,
            lane: None,
        });
    }
    Ok(())
}

impl<'r, 'a> Judge<'r, 'a> {
    fn new(rules: &'r Rules<'a>) -> Self {
        Judge {
            rules,
            replanned: rules
                .after
                .map(|after| replanned(rules.plan, after))
                .unwrap_or_default(),
            memo: HashMap::new(),
        }
    }

    /// Judge the commits one step brings (see the module docs).
    fn step(&mut self, dag: &Dag, step: &Step<'_>, report: &mut Report) {
        let brought_set: HashSet<Oid> = step.brought.iter().copied().collect();
        // Landing marks first: each is judged against its own first parent.
        let mut covered: HashMap<Key, HashSet<Oid>> = HashMap::new();
        for id in step.brought {
            let n = &dag.nodes[id];
            for w in &n.landed {
                let base = n
                    .parents
                    .first()
                    .map(|p| dag.landed_from(*p, &mut self.memo))
                    .unwrap_or_default();
                self.check(w, &base, *id, step.push_first, report);
                // The WP's own commits inside this mark's history are accounted for by it.
                let mine: HashSet<Oid> = dag
                    .reachable(&[*id])
                    .intersection(&brought_set)
                    .copied()
                    .collect();
                covered.entry(w.clone()).or_default().extend(mine);
            }
        }
        let base = step
            .first_parent
            .map(|p| dag.landed_from(p, &mut self.memo))
            .unwrap_or_default();
        let mut judged = BTreeSet::new();
        for id in step.brought {
            for w in &dag.nodes[id].wps {
                if covered.get(w).is_some_and(|c| c.contains(id)) || !judged.insert(w.clone()) {
                    continue;
                }
                self.check(w, &base, step.id, step.push_first, report);
            }
        }
    }

    /// Record a violation if `w` lands with its plan entry changed, or before a dependency
    /// (one not in `landed`).
    fn check(
        &self,
        w: &Key,
        landed: &HashSet<Key>,
        at: Oid,
        push_first: Option<Oid>,
        report: &mut Report,
    ) {
        let rules = self.rules;
        if !report.lands.iter().any(|(k, _)| k == w) {
            report.lands.push((w.clone(), at));
        }
        let mut found = Vec::new();
        if let Some((before, after)) = self.replanned.get(w) {
            found.push(Violation {
                replanned: Some(Replanned {
                    before: before.clone(),
                    after: after.clone(),
                    push_first: push_first.map(|p| p.to_string()),
                }),
                ..violation(Kind::Replanned, rules, w, at)
            });
        }
        let missing: Vec<Key> = deps(rules, w)
            .into_iter()
            .filter(|d| !landed.contains(d))
            .collect();
        if !missing.is_empty() {
            found.push(Violation {
                missing: missing.iter().map(|d| name(rules, d)).collect(),
                order: order(rules, w, landed),
                ..violation(Kind::Dependency, rules, w, at)
            });
        }
        for v in found {
            if !report
                .violations
                .iter()
                .any(|o| o.kind == v.kind && o.feature == v.feature && o.wp == v.wp)
            {
                report.violations.push(v);
            }
        }
    }
}

/// A violation of `kind` by `w` at commit `at`, its other fields empty.
fn violation(kind: Kind, rules: &Rules<'_>, w: &Key, at: Oid) -> Violation {
    Violation {
        kind,
        feature: w.feature.clone(),
        wp: name(rules, w),
        missing: Vec::new(),
        commit: at.to_string(),
        order: Vec::new(),
        replanned: None,
        paths: Vec::new(),
        lane: None,
    }
}

/// Whether a lane lets a WP's work land under `kitty.landing.requireReview`: approved, or done
/// (what `git kitty merge` makes of an approved WP once it has landed).
pub fn reviewed(lane: Lane) -> bool {
    matches!(lane, Lane::Approved | Lane::Done)
}

/// The review rule: each WP the update lands ([`Report::lands`]) whose lane (`lane_of`; `None`
/// for a WP whose lane does not count, such as work already accepted upstream) is not
/// [`reviewed`] is a [`Kind::NotApproved`] violation.
pub fn require_review(
    report: &mut Report,
    rules: &Rules<'_>,
    lane_of: &mut dyn FnMut(&Key) -> Result<Option<Lane>>,
) -> Result<()> {
    for (key, at) in report.lands.clone() {
        let Some(lane) = lane_of(&key)? else { continue };
        if !reviewed(lane) {
            report.violations.push(Violation {
                lane: Some(lane),
                ..violation(Kind::NotApproved, rules, &key, at)
            });
        }
    }
    report.violations.sort_by_key(|v| v.kind);
    Ok(())
}

/// The lane a WP of `plan` has by the plan alone (Spec Kitty's log, else its file): for a WP
/// with no state ref.
pub fn plan_lane(plan: &Plan, key: &Key) -> Lane {
    plan.feature(&key.feature)
        .and_then(|f| {
            let w = f.wps.iter().find(|w| w.id.number() == key.number)?;
            Some(crate::state::lane_info::LaneInfo::from_plan(f, w).lane)
        })
        .unwrap_or(Lane::Planned)
}

/// The WPs whose dependencies differ between `before` and `after` (added and removed WPs
/// included), with their dependencies in each.
fn replanned(before: &Plan, after: &Plan) -> HashMap<Key, DepsChange> {
    let entries = |plan: &Plan| {
        let mut out: HashMap<Key, (BTreeSet<u32>, Vec<String>)> = HashMap::new();
        for f in &plan.features {
            for w in &f.wps {
                let key = Key {
                    feature: f.slug.to_string(),
                    number: w.id.number(),
                };
                let numbers = w.dependencies().map(WpId::number).collect();
                let names = w.dependencies().map(ToString::to_string).collect();
                out.entry(key).or_insert((numbers, names));
            }
        }
        out
    };
    let (b, a) = (entries(before), entries(after));
    let mut out = HashMap::new();
    for key in b.keys().chain(a.keys()) {
        let (was, now) = (b.get(key), a.get(key));
        if was.map(|e| &e.0) != now.map(|e| &e.0) {
            out.insert(
                key.clone(),
                (was.map(|e| e.1.clone()), now.map(|e| e.1.clone())),
            );
        }
    }
    out
}

/// Trailer values to keys of the plans; anything else becomes a warning.
fn keys(values: &[String], short: &str, rules: &Rules<'_>, report: &mut Report) -> Vec<Key> {
    let mut out = Vec::new();
    for value in values {
        let parsed = value.split_once('/').and_then(|(f, w)| {
            let f: FeatureSlug = f.trim().parse().ok()?;
            let w: WpId = w.trim().parse().ok()?;
            Some((f, w))
        });
        let warning = match parsed {
            Some((f, w))
                if rules.plans().any(|p| {
                    p.feature(f.as_str())
                        .is_some_and(|feat| feat.index_of(&w).is_some())
                }) =>
            {
                out.push(Key {
                    feature: f.to_string(),
                    number: w.number(),
                });
                continue;
            }
            Some((f, w)) => format!(
                "commit {short} names {f}/{w}, which is not in the plan: its order is not checked"
            ),
            None => format!(
                "commit {short} has a `Kitty-WP: {value}` trailer that is not `<feature>/<WP>`"
            ),
        };
        if !report.warnings.contains(&warning) {
            report.warnings.push(warning);
        }
    }
    out
}

/// The dependencies of `key` in the plan that counts.
fn deps(rules: &Rules<'_>, key: &Key) -> Vec<Key> {
    let Some(wp) = rules
        .plan
        .feature(&key.feature)
        .and_then(|f| f.wps.iter().find(|w| w.id.number() == key.number))
    else {
        return Vec::new();
    };
    let mut out: Vec<Key> = Vec::new();
    for d in wp.dependencies() {
        let k = Key {
            feature: key.feature.clone(),
            number: d.number(),
        };
        if !out.contains(&k) {
            out.push(k);
        }
    }
    out
}

/// The plan's spelling of a WP id.
fn name(rules: &Rules<'_>, key: &Key) -> String {
    rules
        .plans()
        .find_map(|p| {
            p.feature(&key.feature)?
                .wps
                .iter()
                .find(|w| w.id.number() == key.number)
        })
        .map_or_else(|| format!("WP{:02}", key.number), |w| w.id.to_string())
}

/// The WPs to land, dependencies first, so that `key` can land.
fn order(rules: &Rules<'_>, key: &Key, landed: &HashSet<Key>) -> Vec<String> {
    let mut wanted: HashSet<Key> = HashSet::from([key.clone()]);
    let mut stack = vec![key.clone()];
    while let Some(k) = stack.pop() {
        for d in deps(rules, &k) {
            if !landed.contains(&d) && wanted.insert(d.clone()) {
                stack.push(d);
            }
        }
    }
    let Some(f) = rules.plan.feature(&key.feature) else {
        return vec![name(rules, key)];
    };
    let (sorted, _) = f.graph().order();
    sorted
        .into_iter()
        .map(|i| &f.wps[i].id)
        .filter(|id| {
            wanted.contains(&Key {
                feature: key.feature.clone(),
                number: id.number(),
            })
        })
        .map(ToString::to_string)
        .collect()
}

/// Every WP with work on the branches at `tips`: a commit reachable from them with its
/// `Kitty-WP` or `Kitty-Landed` trailer. What a state that says `done` is held to.
pub fn landed_on(history: &History, tips: &[Oid]) -> Result<HashSet<Key>> {
    Ok(history
        .commits(tips, &[])?
        .iter()
        .flat_map(|c| c.wps.iter().chain(&c.landed))
        .filter_map(|v| Key::parse(v))
        .collect())
}

/// The branches that finished work lands on: every feature's and WP's declared target, and
/// each of `fallbacks` (where work lands when nothing is declared: a clone's
/// `kitty.targetBranch`, its remote's default branch and its main worktree's branch; a
/// server's `kitty.targetBranch` and HEAD). Every branch `git kitty merge` may pick is in it.
pub fn target_branches(
    plan: &Plan,
    fallbacks: impl IntoIterator<Item = Option<String>>,
) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = fallbacks.into_iter().flatten().collect();
    for f in &plan.features {
        out.extend(f.target_branch.clone());
        for w in &f.wps {
            out.extend(w.merge_target_branch.clone());
        }
    }
    out
}

/// The refusal for people: what and why, and the way that works.
pub fn describe(v: &Violation, target: &str) -> (String, String) {
    let what = format!("refusing to land {}/{} on {target}", v.feature, v.wp);
    match v.kind {
        Kind::Dependency => {
            let missing = v.missing.join(", ");
            let verb = if v.missing.len() == 1 { "is" } else { "are" };
            let order = match v.order.as_slice() {
                [] | [_] => v.wp.clone(),
                [init @ .., last] => format!("{}, then {last}", init.join(", ")),
            };
            (
                format!("{what}: it depends on {missing}, which {verb} not on {target} yet"),
                format!(
                    "land them in this order: {order} (`git kitty merge -f {}` does it)",
                    v.feature
                ),
            )
        }
        Kind::Replanned => {
            let r = v.replanned.clone().unwrap_or(Replanned {
                before: None,
                after: None,
                push_first: None,
            });
            let deps = |d: &Option<Vec<String>>| match d {
                None => "not in the plan".to_owned(),
                Some(list) if list.is_empty() => "none".to_owned(),
                Some(list) => list.join(", "),
            };
            let how = match &r.push_first {
                Some(c) => format!("`git push <remote> {c}:{target}` first"),
                None => "push it on its own first (on this branch it comes after the work)".into(),
            };
            (
                format!(
                    "{what}: this push also changes its dependencies in the plan ({} before, {} after)",
                    deps(&r.before),
                    deps(&r.after)
                ),
                format!("a plan change lands alone, before the work it concerns: {how}"),
            )
        }
        Kind::NotApproved => {
            let lane = v.lane.unwrap_or(Lane::Planned);
            let (wp, f) = (&v.wp, &v.feature);
            let review = match lane {
                Lane::ForReview | Lane::InReview => format!("a reviewer approves it (`git kitty lane {wp} approved -f {f}`)"),
                _ => format!("`git kitty lane {wp} for_review -f {f}`, a reviewer approves it (`git kitty lane {wp} approved -f {f}`)"),
            };
            (
                format!("{what}: it is {lane}, not approved (kitty.landing.requireReview)"),
                format!("land reviewed work with git kitty: {review}, then `git kitty merge -f {f}`"),
            )
        }
        Kind::NoTrailer => (
            format!(
                "refusing commit {} on {target}: it has no `Kitty-WP` trailer naming a work package of the plan and changes files outside kitty-specs/ ({})",
                v.commit.get(..7).unwrap_or(&v.commit),
                v.paths.join(", ")
            ),
            "commits on this branch name their work package (kitty.requireTrailer): commit in the WP's worktree (its hook adds `Kitty-WP: <feature>/<WP>`); a squash merge carries a `Kitty-WP: <feature>/<WP>` trailer for each WP it squashes".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::git::Oid;
    use crate::model::plan::FeatureListing;

    /// Feature `001-x`: WP01; WP02 on WP01; WP03 on WP01 and WP02.
    fn plan() -> Plan {
        let mut listing = FeatureListing::new("001-x");
        let mut files = HashMap::new();
        for (id, deps) in [("WP01", ""), ("WP02", "WP01"), ("WP03", "WP01, WP02")] {
            let path = format!("tasks/{id}-x.md");
            listing.add_file(&path);
            files.insert(
                format!("kitty-specs/001-x/{path}"),
                format!("---\nwork_package_id: {id}\ndependencies: [{deps}]\n---\n"),
            );
        }
        Plan::load(vec![listing], &|p: &str| Ok(files[p].clone().into_bytes()))
    }

    /// A commit id whose short form is `n` in hex (`0000004`).
    fn oid(n: u32) -> Oid {
        crate::git::parse_oid(&format!("{n:07x}{}", "0".repeat(33))).unwrap()
    }

    fn commit(n: u32, parents: &[u32], wps: &[&str], landed: &[&str]) -> TrailerCommit {
        let named = |v: &[&str]| v.iter().map(|w| format!("001-x/{w}")).collect();
        TrailerCommit {
            id: oid(n),
            parents: parents.iter().map(|p| oid(*p)).collect(),
            wps: named(wps),
            landed: named(landed),
        }
    }

    /// The rules of a clone with `plan`.
    fn rules(plan: &Plan) -> Rules<'_> {
        Rules {
            plan,
            after: None,
            require_trailer: false,
        }
    }

    /// Judge `step` (first parent `first_parent`) on a history whose target had `old`, the
    /// plan before the update `before` and after it `after`.
    fn judge_with(
        commits: Vec<TrailerCommit>,
        (before, after): (&Plan, Option<&Plan>),
        old: u32,
        step: u32,
        first_parent: u32,
    ) -> Report {
        let rules = Rules {
            plan: before,
            after,
            require_trailer: false,
        };
        let mut report = Report::default();
        let dag = Dag::load(commits, &rules, &mut report);
        let mut included = dag.reachable(&[oid(old)]);
        let brought = bring(&dag, &[oid(step)], &mut included);
        let step = Step {
            id: oid(step),
            first_parent: Some(oid(first_parent)),
            brought: &brought,
            push_first: Some(oid(first_parent)),
        };
        Judge::new(&rules).step(&dag, &step, &mut report);
        report.violations.sort_by_key(|v| v.kind);
        report
    }

    fn judge(commits: Vec<TrailerCommit>, old: u32, step: u32, first_parent: u32) -> Report {
        judge_with(commits, (&plan(), None), old, step, first_parent)
    }

    /// 1: the target. 2: WP01's commit, 3: WP02's on top of it (a stacked branch).
    fn stacked() -> Vec<TrailerCommit> {
        vec![
            commit(1, &[], &[], &[]),
            commit(2, &[1], &["WP01"], &[]),
            commit(3, &[2], &["WP02"], &[]),
        ]
    }

    #[test]
    fn one_merge_bringing_a_wp_with_its_dependency_is_out_of_order() {
        let mut commits = stacked();
        commits.push(commit(4, &[1, 3], &[], &[]));
        let report = judge(commits, 1, 4, 1);
        let found: Vec<(&str, &[String], &str, &[String])> = report
            .violations
            .iter()
            .map(|v| {
                (
                    v.wp.as_str(),
                    &v.missing[..],
                    v.commit.as_str(),
                    &v.order[..],
                )
            })
            .collect();
        let commit4 = oid(4).to_string();
        assert_eq!(
            found,
            [(
                "WP02",
                &["WP01".to_owned()][..],
                commit4.as_str(),
                &["WP01".to_owned(), "WP02".to_owned()][..]
            )]
        );
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn a_dependency_counts_only_once_its_work_is_on_the_target() {
        // WP02's own branch, without WP01's work (6); a mark that WP01 landed before git
        // kitty (5) lets it land after it.
        let mut commits = vec![
            commit(1, &[], &[], &[]),
            commit(6, &[1], &["WP02"], &[]),
            commit(7, &[1, 6], &[], &[]),
        ];
        let report = judge(commits.clone(), 1, 7, 1);
        assert_eq!(report.violations.len(), 1);
        assert_eq!(report.violations[0].missing, ["WP01"]);
        commits.push(commit(5, &[1], &[], &["WP01"]));
        commits.push(commit(8, &[5, 6], &[], &[]));
        assert!(judge(commits, 1, 8, 5).violations.is_empty());
    }

    #[test]
    fn a_wp_whose_dependencies_the_update_changes_does_not_land_in_it() {
        // The plan after the update: WP02 depends on nothing, WP04 is new.
        let mut listing = FeatureListing::new("001-x");
        let mut files = HashMap::new();
        for (id, deps) in [
            ("WP01", ""),
            ("WP02", ""),
            ("WP03", "WP01, WP02"),
            ("WP04", ""),
        ] {
            let path = format!("tasks/{id}-x.md");
            listing.add_file(&path);
            files.insert(
                format!("kitty-specs/001-x/{path}"),
                format!("---\nwork_package_id: {id}\ndependencies: [{deps}]\n---\n"),
            );
        }
        let after = Plan::load(vec![listing], &|p: &str| Ok(files[p].clone().into_bytes()));
        let before = plan();
        let commits = vec![
            commit(1, &[], &[], &[]),
            commit(2, &[1], &["WP01"], &[]),
            commit(6, &[1], &["WP02"], &[]),
            commit(7, &[2, 6], &[], &[]),
            commit(8, &[1], &["WP04"], &[]),
            commit(9, &[7, 8], &[], &[]),
        ];
        // WP01 landed before (2); WP02 lands in 7: its dependencies changed (WP01 -> none).
        let report = judge_with(commits.clone(), (&before, Some(&after)), 2, 7, 2);
        let found: Vec<(Kind, &str, Option<Replanned>)> = report
            .violations
            .iter()
            .map(|v| (v.kind, v.wp.as_str(), v.replanned.clone()))
            .collect();
        assert_eq!(
            found,
            [(
                Kind::Replanned,
                "WP02",
                Some(Replanned {
                    before: Some(vec!["WP01".into()]),
                    after: Some(vec![]),
                    push_first: Some(oid(2).to_string()),
                })
            )]
        );
        // WP04 is new in the plan: it lands alone after the plan that has it.
        let report = judge_with(commits.clone(), (&before, Some(&after)), 7, 9, 7);
        assert_eq!(report.violations[0].kind, Kind::Replanned);
        assert_eq!(
            report.violations[0].replanned.as_ref().unwrap().before,
            None
        );
        // Judged with the new plan as the one before: nothing changes, both land.
        assert!(
            judge_with(commits, (&after, None), 2, 9, 7)
                .violations
                .is_empty()
        );
    }

    #[test]
    fn landing_marks_arriving_together_are_each_judged_on_their_own_first_parent() {
        // git kitty merge landed WP01 (5) then WP02 (6); a pull brings both at once (7).
        let mut commits = stacked();
        commits.push(commit(5, &[1, 2], &["WP01"], &["WP01"]));
        commits.push(commit(6, &[5, 3], &["WP02"], &["WP02"]));
        commits.push(commit(7, &[1, 6], &[], &[]));
        let in_order = judge(commits.clone(), 1, 7, 1);
        assert!(in_order.violations.is_empty(), "{:?}", in_order.violations);

        // A landing mark of WP02 made straight on the target is out of order, even when
        // WP01's landing arrives in the same step.
        commits.push(commit(8, &[1, 3], &["WP02"], &["WP02"]));
        commits.push(commit(9, &[1, 8, 5], &[], &[]));
        let report = judge(commits, 1, 9, 1);
        assert_eq!(report.violations.len(), 1);
        assert_eq!(report.violations[0].wp, "WP02");
        assert_eq!(report.violations[0].commit, oid(8).to_string());
    }

    #[test]
    fn trailers_outside_the_plan_are_warnings() {
        let plan = plan();
        let rules = rules(&plan);
        let mut report = Report::default();
        let mut odd = commit(4, &[], &["WP09"], &[]);
        odd.wps.push("nonsense".into());
        Dag::load(vec![odd], &rules, &mut report);
        assert_eq!(
            report.warnings,
            [
                "commit 0000004 names 001-x/WP09, which is not in the plan: its order is not checked",
                "commit 0000004 has a `Kitty-WP: nonsense` trailer that is not `<feature>/<WP>`",
            ]
        );
    }

    #[test]
    fn the_refusal_names_the_missing_work_and_the_order_that_works() {
        let v = Violation {
            missing: vec!["WP01".into(), "WP02".into()],
            order: vec!["WP01".into(), "WP02".into(), "WP03".into()],
            ..violation(
                Kind::Dependency,
                &rules(&plan()),
                &Key::parse("001-x/WP03").unwrap(),
                oid(4),
            )
        };
        let (message, hint) = describe(&v, "main");
        assert_eq!(
            message,
            "refusing to land 001-x/WP03 on main: it depends on WP01, WP02, which are not on main yet"
        );
        assert_eq!(
            hint,
            "land them in this order: WP01, WP02, then WP03 (`git kitty merge -f 001-x` does it)"
        );
    }

    #[test]
    fn review_names_each_landed_wp_whose_lane_is_not_approved_or_done() {
        let mut commits = stacked();
        commits.push(commit(5, &[1, 2], &["WP01"], &["WP01"]));
        commits.push(commit(6, &[5, 3], &[], &[]));
        let plan = plan();
        let mut report = judge(commits, 5, 6, 5);
        // The step judged lands WP02 (WP01 was on the target already).
        let landed: Vec<&str> = report
            .lands
            .iter()
            .map(|(k, _)| k.feature.as_str())
            .collect();
        assert_eq!(landed, ["001-x"]);
        assert_eq!(report.lands[0].0.number, 2);
        let mut asked = Vec::new();
        require_review(&mut report, &rules(&plan), &mut |k| {
            asked.push(k.number);
            Ok(Some(Lane::InProgress))
        })
        .unwrap();
        assert_eq!(asked, [2]);
        let v = &report.violations[0];
        assert_eq!(
            (v.kind, v.wp.as_str(), v.lane),
            (Kind::NotApproved, "WP02", Some(Lane::InProgress))
        );
        let (message, hint) = describe(v, "main");
        assert_eq!(
            message,
            "refusing to land 001-x/WP02 on main: it is in_progress, not approved (kitty.landing.requireReview)"
        );
        assert!(
            hint.starts_with(
                "land reviewed work with git kitty: `git kitty lane WP02 for_review -f 001-x`"
            ),
            "{hint}"
        );
        // Approved, done, or not asked about (`None`): no violation.
        for lane in [Some(Lane::Approved), Some(Lane::Done), None] {
            let mut report = judge(stacked(), 1, 3, 2);
            require_review(&mut report, &rules(&plan), &mut |_| Ok(lane)).unwrap();
            assert!(
                report
                    .violations
                    .iter()
                    .all(|v| v.kind != Kind::NotApproved)
            );
        }
    }

    /// Run git in `dir` without any user or system configuration; stdout, trimmed.
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    #[test]
    fn an_update_is_read_along_its_first_parent_chain() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["commit", "-q", "--allow-empty", "-m", "base"]);
        let base = git(d, &["rev-parse", "HEAD"]);
        git(d, &["checkout", "-q", "-b", "wp01"]);
        git(
            d,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "one\n\nKitty-WP: 001-x/WP01",
            ],
        );
        git(d, &["checkout", "-q", "-b", "wp02"]);
        git(
            d,
            &[
                "commit",
                "-q",
                "--allow-empty",
                "-m",
                "two\n\nKitty-WP: 001-x/WP02",
            ],
        );
        git(d, &["checkout", "-q", "main"]);
        git(d, &["merge", "-q", "--no-ff", "-m", "two", "wp02"]);
        let at_once = git(d, &["rev-parse", "HEAD"]);
        git(d, &["reset", "-q", "--hard", &base]);
        git(d, &["merge", "-q", "--no-ff", "-m", "one", "wp01"]);
        git(d, &["merge", "-q", "--no-ff", "-m", "two", "wp02"]);
        let in_order = git(d, &["rev-parse", "HEAD"]);
        let wp02 = git(d, &["rev-parse", "wp02"]);

        let repo = crate::git::Repo::discover(d).unwrap();
        let history = repo.history();
        let plan = plan();
        let rules = rules(&plan);
        let id = |hex: &str| crate::git::parse_oid(hex).unwrap();
        let check = |old: Option<&str>, new: &str| {
            let report = check_update(&history, &rules, old.map(id), id(new)).unwrap();
            report
                .violations
                .iter()
                .map(|v| format!("{} {:?} {}", v.wp, v.missing, v.commit))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            check(Some(&base), &at_once),
            [format!("WP02 [\"WP01\"] {at_once}")]
        );
        assert!(check(Some(&base), &in_order).is_empty());
        // A new branch: everything it has is checked.
        assert!(check(None, &in_order).is_empty());
        assert_eq!(check(None, &at_once).len(), 1);
        // The pre-merge-commit case: merging WP02's branch into the target before WP01.
        let merge = check_merge(&history, &rules, id(&base), &[id(&wp02)]).unwrap();
        assert_eq!(merge.violations.len(), 1);
        assert_eq!(merge.violations[0].commit, wp02);
    }
}
