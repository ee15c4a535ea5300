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
//! "Reachable" is always counted in the new history, so a force-push that drops a dependency
//! is caught. A dependency also counts as landed when the plan or its state says it is done
//! (work finished before git kitty, or landed without trailers).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::error::Result;
use crate::git::Oid;
use crate::git::history::{History, TrailerCommit};
use crate::model::ids::{FeatureSlug, WpId};
use crate::model::plan::Plan;

/// A WP as trailers name it: its feature and number (`WP1` and `WP01` are one WP).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub feature: String,
    pub number: u32,
}

/// A WP that would land before one of its dependencies.
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub feature: String,
    pub wp: String,
    /// Its dependencies that are not on the target branch yet.
    pub missing: Vec<String>,
    /// The commit that would land it.
    pub commit: String,
    /// An order that would work: the missing dependencies (and theirs), then the WP.
    pub order: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// Trailers that name no WP of the plan (reported, never blocking).
    pub warnings: Vec<String>,
}

/// What the check needs besides history: dependencies, and which WPs are done anyway.
pub struct Rules<'a> {
    /// Plans whose dependency edges all count (the server uses the plan before and after the
    /// push, so a push cannot drop an edge and the WP it guards at once).
    pub plans: Vec<&'a Plan>,
    /// Whether a WP is done whatever its trailers say (its state or the plan say so).
    pub done: &'a dyn Fn(&Key) -> bool,
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

/// Check an update of a target branch from `old` (`None`: a new branch) to `new`.
pub fn check_update(
    history: &History,
    rules: &Rules<'_>,
    old: Option<Oid>,
    new: Oid,
) -> Result<Report> {
    let mut report = Report::default();
    let commits = history.commits(&[new], &[])?;
    if commits
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
    let mut included = before;
    let mut memo = HashMap::new();
    for step in chain {
        let first_parent = dag
            .nodes
            .get(&step)
            .and_then(|n| n.parents.first().copied());
        let brought = bring(&dag, &[step], &mut included);
        judge_step(
            &dag,
            rules,
            &brought,
            first_parent,
            step,
            &mut memo,
            &mut report,
        );
    }
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
    let mut memo = HashMap::new();
    let at = incoming.first().copied().unwrap_or(head);
    judge_step(
        &dag,
        rules,
        &brought,
        Some(head),
        at,
        &mut memo,
        &mut report,
    );
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

/// Judge the commits one step brings (see the module docs).
fn judge_step(
    dag: &Dag,
    rules: &Rules<'_>,
    brought: &[Oid],
    first_parent: Option<Oid>,
    step: Oid,
    memo: &mut HashMap<Oid, HashSet<Key>>,
    report: &mut Report,
) {
    let brought_set: HashSet<Oid> = brought.iter().copied().collect();
    // Landing marks first: each is judged against its own first parent.
    let mut covered: HashMap<Key, HashSet<Oid>> = HashMap::new();
    for id in brought {
        let n = &dag.nodes[id];
        for w in &n.landed {
            let base = n
                .parents
                .first()
                .map(|p| dag.landed_from(*p, memo))
                .unwrap_or_default();
            check(rules, w, &base, *id, report);
            // The WP's own commits inside this mark's history are accounted for by it.
            let mine: HashSet<Oid> = dag
                .reachable(&[*id])
                .intersection(&brought_set)
                .copied()
                .collect();
            covered.entry(w.clone()).or_default().extend(mine);
        }
    }
    let base = first_parent
        .map(|p| dag.landed_from(p, memo))
        .unwrap_or_default();
    let mut judged = BTreeSet::new();
    for id in brought {
        for w in &dag.nodes[id].wps {
            if covered.get(w).is_some_and(|c| c.contains(id)) || !judged.insert(w.clone()) {
                continue;
            }
            check(rules, w, &base, step, report);
        }
    }
}

/// Record a violation if `w` has a dependency neither in `landed` nor done.
fn check(rules: &Rules<'_>, w: &Key, landed: &HashSet<Key>, at: Oid, report: &mut Report) {
    let missing: Vec<Key> = deps(rules, w)
        .into_iter()
        .filter(|d| !landed.contains(d) && !(rules.done)(d))
        .collect();
    if missing.is_empty() {
        return;
    }
    let v = Violation {
        feature: w.feature.clone(),
        wp: name(rules, w),
        missing: missing.iter().map(|d| name(rules, d)).collect(),
        commit: at.to_string(),
        order: order(rules, w, landed),
    };
    if !report
        .violations
        .iter()
        .any(|o| o.feature == v.feature && o.wp == v.wp)
    {
        report.violations.push(v);
    }
}

/// Trailer values to keys of the plan; anything else becomes a warning.
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
                if rules.plans.iter().any(|p| {
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

/// The dependencies of `key` in any of the plans.
fn deps(rules: &Rules<'_>, key: &Key) -> Vec<Key> {
    let mut out: Vec<Key> = Vec::new();
    for plan in &rules.plans {
        let Some(f) = plan.feature(&key.feature) else {
            continue;
        };
        let Some(wp) = f.wps.iter().find(|w| w.id.number() == key.number) else {
            continue;
        };
        for d in wp.dependencies() {
            let k = Key {
                feature: key.feature.clone(),
                number: d.number(),
            };
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

/// The plan's spelling of a WP id.
fn name(rules: &Rules<'_>, key: &Key) -> String {
    rules
        .plans
        .iter()
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
            if !landed.contains(&d) && !(rules.done)(&d) && wanted.insert(d.clone()) {
                stack.push(d);
            }
        }
    }
    let Some(f) = rules.plans.iter().find_map(|p| p.feature(&key.feature)) else {
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

/// Whether the plan says a WP is done (Spec Kitty's event log, or its frontmatter lane).
pub fn done_in_plan(plan: &Plan, key: &Key) -> bool {
    plan.feature(&key.feature)
        .and_then(|f| {
            let wp = f.wps.iter().find(|w| w.id.number() == key.number)?;
            Some(
                crate::state::lane_info::LaneInfo::from_plan(f, wp).lane
                    == crate::model::lane::Lane::Done,
            )
        })
        .unwrap_or(false)
}

/// Whether the state commit text (`git cat-file commit`) records lane `done`.
pub fn done_in_state_text(text: &str) -> bool {
    text.lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| l.strip_prefix(&format!("{} ", crate::state::schema::STATE_HEADER)))
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok())
        .is_some_and(|v| v["lane"] == "done")
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

    /// Judge `step` (first parent `first_parent`) on a history whose target had `old`.
    fn judge(
        commits: Vec<TrailerCommit>,
        done: &dyn Fn(&Key) -> bool,
        old: u32,
        step: u32,
        first_parent: u32,
    ) -> Report {
        let plan = plan();
        let rules = Rules {
            plans: vec![&plan],
            done,
        };
        let mut report = Report::default();
        let dag = Dag::load(commits, &rules, &mut report);
        let mut included = dag.reachable(&[oid(old)]);
        let brought = bring(&dag, &[oid(step)], &mut included);
        let mut memo = HashMap::new();
        let at = oid(step);
        judge_step(
            &dag,
            &rules,
            &brought,
            Some(oid(first_parent)),
            at,
            &mut memo,
            &mut report,
        );
        report
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
        let report = judge(commits, &|_| false, 1, 4, 1);
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
    fn a_dependency_done_anyway_counts_as_landed() {
        let mut commits = stacked();
        commits.push(commit(4, &[1, 3], &[], &[]));
        let done = |k: &Key| k.number == 1;
        assert!(judge(commits, &done, 1, 4, 1).violations.is_empty());
    }

    #[test]
    fn landing_marks_arriving_together_are_each_judged_on_their_own_first_parent() {
        // git kitty merge landed WP01 (5) then WP02 (6); a pull brings both at once (7).
        let mut commits = stacked();
        commits.push(commit(5, &[1, 2], &["WP01"], &["WP01"]));
        commits.push(commit(6, &[5, 3], &["WP02"], &["WP02"]));
        commits.push(commit(7, &[1, 6], &[], &[]));
        let in_order = judge(commits.clone(), &|_| false, 1, 7, 1);
        assert!(in_order.violations.is_empty(), "{:?}", in_order.violations);

        // A landing mark of WP02 made straight on the target is out of order, even when
        // WP01's landing arrives in the same step.
        commits.push(commit(8, &[1, 3], &["WP02"], &["WP02"]));
        commits.push(commit(9, &[1, 8, 5], &[], &[]));
        let report = judge(commits, &|_| false, 1, 9, 1);
        assert_eq!(report.violations.len(), 1);
        assert_eq!(report.violations[0].wp, "WP02");
        assert_eq!(report.violations[0].commit, oid(8).to_string());
    }

    #[test]
    fn trailers_outside_the_plan_are_warnings() {
        let plan = plan();
        let rules = Rules {
            plans: vec![&plan],
            done: &|_| false,
        };
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
            feature: "001-x".into(),
            wp: "WP03".into(),
            missing: vec!["WP01".into(), "WP02".into()],
            commit: oid(4).to_string(),
            order: vec!["WP01".into(), "WP02".into(), "WP03".into()],
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
        let rules = Rules {
            plans: vec![&plan],
            done: &|_| false,
        };
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
