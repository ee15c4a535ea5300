//! Landing order (invariant I7): a WP's commits may reach its target branch only after
//! everything it depends on is already there.
//!
//! A commit's WP is its `Kitty-WP: <feature>/<WP>` trailer (added in WP worktrees by the
//! `prepare-commit-msg` hook, and by `git kitty merge` on the commits it makes), so it is
//! known on any machine, after the branch is gone, through squash merges.
//!
//! An update of a target branch from `old` to `new` is read the way the branch was built: its
//! first-parent chain from `old` to `new`, step by step. Each step lands the commits it brings
//! (`step^1..step`); a WP landed in a step is in order only if each of its dependencies landed
//! in an earlier step or was already reachable from `old`. So `git kitty merge`'s one merge
//! commit per WP, in dependency order, passes even when pushed all at once, while a merge that
//! brings WP02 together with (or before) WP01 does not.

use std::collections::{BTreeSet, HashMap, HashSet};

use gix::ObjectId;
use serde::Serialize;

use crate::error::Result;
use crate::git::history::{History, TrailerCommit};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Plan;

/// A WP as trailers name it: its feature and number (`WP1` and `WP01` are one WP).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    feature: String,
    number: u32,
}

/// A WP that would land before one of its dependencies.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub feature: String,
    pub wp: String,
    /// Its dependencies that are not on the target branch yet.
    pub missing: Vec<String>,
    /// The commit that would land it (the merge, or the first-parent step).
    pub commit: String,
    /// An order that would work: the missing dependencies (and theirs), then the WP.
    pub order: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// Trailers that name no WP of the plan (reported, never blocking: their dependencies
    /// are unknown).
    pub warnings: Vec<String>,
}

/// Check an update of a target branch from `old` (`None`: a new branch) to `new`.
pub fn check_update(
    history: &History,
    plan: &Plan,
    old: Option<ObjectId>,
    new: ObjectId,
) -> Result<Report> {
    let exclude: Vec<ObjectId> = old.into_iter().collect();
    let incoming = history.commits(&[new], &exclude)?;
    let mut report = Report::default();
    if incoming.iter().all(|c| c.wps.is_empty()) {
        return Ok(report);
    }
    let mut landed = match old {
        Some(o) => keys_of(&history.commits(&[o], &[])?, plan, &mut report),
        None => HashSet::new(),
    };
    let by_id: HashMap<ObjectId, &TrailerCommit> = incoming.iter().map(|c| (c.id, c)).collect();
    // The first-parent chain from `new` back to `old`, oldest first: the steps of the update.
    let mut chain = Vec::new();
    let mut at = Some(new);
    while let Some(id) = at {
        let Some(c) = by_id.get(&id) else { break };
        chain.push(id);
        at = c.parents.first().copied();
    }
    chain.reverse();
    let mut included: HashSet<ObjectId> = HashSet::new();
    for step in chain {
        let mut brought = Vec::new();
        let mut stack = vec![step];
        while let Some(id) = stack.pop() {
            let Some(c) = by_id.get(&id) else { continue };
            if !included.insert(id) {
                continue;
            }
            brought.push(*c);
            stack.extend(c.parents.iter().copied());
        }
        let keys = keys_of_commits(&brought, plan, &mut report);
        judge(plan, &keys, &landed, step, &mut report);
        landed.extend(keys);
    }
    Ok(report)
}

/// Check a merge of `incoming` into `head` (the `pre-merge-commit` case): everything the merge
/// brings lands in one step.
pub fn check_merge(
    history: &History,
    plan: &Plan,
    head: ObjectId,
    incoming: &[ObjectId],
) -> Result<Report> {
    let mut report = Report::default();
    let brought = history.commits(incoming, &[head])?;
    if brought.iter().all(|c| c.wps.is_empty()) {
        return Ok(report);
    }
    let landed = keys_of(&history.commits(&[head], &[])?, plan, &mut report);
    let refs: Vec<&TrailerCommit> = brought.iter().collect();
    let keys = keys_of_commits(&refs, plan, &mut report);
    let at = incoming.first().copied().unwrap_or(head);
    judge(plan, &keys, &landed, at, &mut report);
    Ok(report)
}

/// Record a violation for each WP of `keys` with a dependency not in `landed`.
fn judge(
    plan: &Plan,
    keys: &BTreeSet<Key>,
    landed: &HashSet<Key>,
    commit: ObjectId,
    report: &mut Report,
) {
    for key in keys {
        let missing: Vec<Key> = deps(plan, key)
            .into_iter()
            .filter(|d| !landed.contains(d))
            .collect();
        if missing.is_empty() {
            continue;
        }
        report.violations.push(Violation {
            feature: key.feature.clone(),
            wp: name(plan, key),
            missing: missing.iter().map(|d| name(plan, d)).collect(),
            commit: commit.to_string(),
            order: order(plan, key, landed),
        });
    }
}

fn keys_of(commits: &[TrailerCommit], plan: &Plan, report: &mut Report) -> HashSet<Key> {
    let refs: Vec<&TrailerCommit> = commits.iter().collect();
    keys_of_commits(&refs, plan, report).into_iter().collect()
}

/// The WPs named by the commits' trailers. Values that are not `<feature>/<WP>` of the plan
/// become warnings.
fn keys_of_commits(commits: &[&TrailerCommit], plan: &Plan, report: &mut Report) -> BTreeSet<Key> {
    let mut keys = BTreeSet::new();
    for c in commits {
        for value in &c.wps {
            let parsed = value.split_once('/').and_then(|(f, w)| {
                let f: FeatureSlug = f.trim().parse().ok()?;
                let w: WpId = w.trim().parse().ok()?;
                Some((f, w))
            });
            let short = &c.id.to_string()[..7];
            match parsed {
                Some((f, w))
                    if plan
                        .feature(f.as_str())
                        .is_some_and(|feat| feat.index_of(&w).is_some()) =>
                {
                    keys.insert(Key {
                        feature: f.to_string(),
                        number: w.number(),
                    });
                }
                Some((f, w)) => {
                    let warning = format!(
                        "commit {short} names {f}/{w}, which is not in the plan: its order is not checked"
                    );
                    if !report.warnings.contains(&warning) {
                        report.warnings.push(warning);
                    }
                }
                None => {
                    let warning = format!(
                        "commit {short} has a `Kitty-WP: {value}` trailer that is not `<feature>/<WP>`"
                    );
                    if !report.warnings.contains(&warning) {
                        report.warnings.push(warning);
                    }
                }
            }
        }
    }
    keys
}

fn deps(plan: &Plan, key: &Key) -> Vec<Key> {
    let Some(f) = plan.feature(&key.feature) else {
        return Vec::new();
    };
    let Some(wp) = f.wps.iter().find(|w| w.id.number() == key.number) else {
        return Vec::new();
    };
    wp.dependencies()
        .map(|d| Key {
            feature: key.feature.clone(),
            number: d.number(),
        })
        .collect()
}

/// The plan's spelling of a WP id.
fn name(plan: &Plan, key: &Key) -> String {
    plan.feature(&key.feature)
        .and_then(|f| f.wps.iter().find(|w| w.id.number() == key.number))
        .map_or_else(|| format!("WP{:02}", key.number), |w| w.id.to_string())
}

/// The WPs to land, dependencies first, so that `key` can land: every dependency (direct or
/// not) not yet landed, then `key`.
fn order(plan: &Plan, key: &Key, landed: &HashSet<Key>) -> Vec<String> {
    let Some(f) = plan.feature(&key.feature) else {
        return vec![name(plan, key)];
    };
    let mut wanted: HashSet<Key> = HashSet::from([key.clone()]);
    let mut stack = vec![key.clone()];
    while let Some(k) = stack.pop() {
        for d in deps(plan, &k) {
            if !landed.contains(&d) && wanted.insert(d.clone()) {
                stack.push(d);
            }
        }
    }
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

/// The branches that finished work lands on: `kitty.targetBranch`, the main worktree's (or a
/// bare repository's HEAD) branch, and every feature's and WP's declared target.
pub fn target_branches(
    plan: &Plan,
    configured: Option<String>,
    head: Option<String>,
) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = configured.into_iter().chain(head).collect();
    for f in &plan.features {
        out.extend(f.target_branch.clone());
        for w in &f.wps {
            out.extend(w.merge_target_branch.clone());
        }
    }
    out
}

/// The refusal for people: which WP, which dependency, the order that would work.
pub fn describe(v: &Violation, target: &str) -> (String, String) {
    let missing = v.missing.join(", ");
    let verb = if v.missing.len() == 1 { "is" } else { "are" };
    let message = format!(
        "refusing to land {}/{} on {target}: it depends on {missing}, which {verb} not on {target} yet",
        v.feature, v.wp
    );
    let order = match v.order.as_slice() {
        [] | [_] => v.wp.clone(),
        [init @ .., last] => format!("{}, then {last}", init.join(", ")),
    };
    (
        message,
        format!(
            "land them in this order: {order} (`git kitty merge -f {}` does it)",
            v.feature
        ),
    )
}
