//! `merge`: land approved WPs on their target branch, one merge each, dependencies first.
//!
//! Each merge is computed with `git merge-tree` (no working tree) and written as a commit that
//! carries the WP's `Kitty-WP:` trailer. The target branch then moves to it: by a fast-forward
//! `git merge --ff-only` in the worktree where it is checked out (so that checkout follows),
//! or by a compare-and-swap of the ref when it is checked out nowhere. A WP whose merge
//! conflicts is skipped with everything that depends on it; the rest still lands, and the
//! outcome lists the conflicts (the command then exits 4).
//!
//! A run has two halves. [`plan`] decides what lands, in which order, onto which commit, and
//! what is skipped and why, on target tips that move in memory only: it moves no ref and
//! touches no state, index or worktree. [`execute`] carries a plan out. `--dry-run` reports
//! the plan ([`Plan::preview`]); a real run carries out that same plan, so the two agree on
//! what lands, what conflicts and what is refused (a dirty target checkout included).

use serde::Serialize;

use super::base::{self, branch_name};
use super::place;
use crate::error::{Error, ErrorKind, Result};
use crate::git::history::{LANDED_TRAILER, TrailerCommit, WP_TRAILER};
use crate::git::{Cas, NewCommit, Oid, TreeMerge};
use crate::model::graph::Graph;
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::model::wp::WorkPackage;
use crate::state::schema::EventKind;
use crate::state::store;
use crate::workspace::{States, Workspace};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// A merge commit per WP: the WP's commits keep their history.
    Merge,
    /// One new commit per WP holding all its changes.
    Squash,
}

pub struct Request<'a> {
    pub feature: &'a Feature,
    /// The WPs asked for (empty: every approved WP of the feature).
    pub wps: Vec<WpId>,
    pub dry_run: bool,
    pub strategy: Strategy,
    pub keep_worktrees: bool,
    pub keep_branches: bool,
    pub actor: String,
}

#[derive(Debug, Serialize)]
pub struct Landed {
    pub wp: String,
    pub target: String,
    /// The commit the target branch moved to (in a dry run: the one it would move to).
    pub commit: String,
    pub removed_worktree: bool,
    pub deleted_branch: bool,
    /// Notes for people: a worktree kept because it had changes, and the like.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Skipped {
    pub wp: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Conflict {
    pub wp: String,
    pub target: String,
    pub paths: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub feature: String,
    pub strategy: Strategy,
    pub dry_run: bool,
    /// In landing order.
    pub merged: Vec<Landed>,
    pub skipped: Vec<Skipped>,
    /// Every WP skipped because its merge conflicts (its dependents are in `skipped`). A dry
    /// run predicts exactly these; the command exits 4 when there is any.
    pub conflicts: Vec<Conflict>,
    /// With `--push`: the remote and the targets sent to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<super::publish::Published>,
}

/// Plan the run, then report the plan (dry run) or carry it out.
pub fn merge(ws: &Workspace, states: &States, req: &Request<'_>) -> Result<Outcome> {
    let lanes: Vec<Lane> = ws
        .lanes(req.feature, states)
        .iter()
        .map(|l| l.lane)
        .collect();
    let mut probe = RepoProbe {
        ws,
        req,
        states,
        landed: Default::default(),
    };
    let plan = plan(req, &lanes, &mut probe)?;
    if req.dry_run {
        plan.preview(req)
    } else {
        execute(ws, req, plan)
    }
}

impl Outcome {
    fn empty(req: &Request<'_>) -> Outcome {
        Outcome {
            feature: req.feature.slug.to_string(),
            strategy: req.strategy,
            dry_run: req.dry_run,
            merged: Vec::new(),
            skipped: Vec::new(),
            conflicts: Vec::new(),
            pushed: None,
        }
    }
}

// ---- the plan ---------------------------------------------------------------------------

/// What a run lands, in which order, and what it skips and why.
#[derive(Debug, Default)]
pub struct Plan {
    /// In landing order, with each predicted conflict where it was found.
    pub steps: Vec<Step>,
    pub skipped: Vec<Skipped>,
    /// Planning stopped on this error (a missing target branch, a dirty target checkout, a
    /// failing git): a real run still lands the steps before it, then fails with it.
    pub stopped: Option<Error>,
}

#[derive(Debug)]
pub enum Step {
    Land(Landing),
    /// The WP's merge conflicts: it is skipped (with its dependents), the run goes on.
    Conflict {
        conflict: Conflict,
        branch: String,
    },
}

/// One WP landing on its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landing {
    pub wp: WpId,
    pub target: String,
    pub branch: String,
    pub branch_tip: Oid,
    /// The target's tip before this WP lands.
    pub onto: Oid,
    /// The commit that lands it; `None` when the branch is already in the target (merged by
    /// hand): there is nothing to merge, the WP is only recorded as landed.
    pub commit: Option<Oid>,
}

impl Landing {
    /// Where the target is once this WP has landed.
    pub fn lands_at(&self) -> Oid {
        self.commit.unwrap_or(self.onto)
    }

    /// The report of this landing before anything is carried out.
    fn landed(&self) -> Landed {
        let notes = match self.commit {
            Some(_) => Vec::new(),
            None => vec![format!("already on {}: no new commit", self.target)],
        };
        Landed {
            wp: self.wp.to_string(),
            target: self.target.clone(),
            commit: self.lands_at().to_string(),
            removed_worktree: false,
            deleted_branch: false,
            notes,
        }
    }
}

/// A commit that lands a WP: its merge (or squash) onto the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandingCommit {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
}

/// What planning asks of the repository. Reads, except that merges are computed for real
/// (`git merge-tree` writes their trees) and each landing commit is written as an object that
/// no ref points at: the next WP's merge is computed on top of it. Nothing a user sees changes.
pub trait Probe {
    /// The WP's target branch and its tip.
    fn target(&mut self, wp: &WpId) -> Result<(String, Oid)>;
    fn branch_tip(&mut self, branch: &str) -> Result<Option<Oid>>;
    /// The commits reachable from `tip` and not from `target`, with their trailers.
    fn commits_between(&mut self, target: Oid, tip: Oid) -> Result<Vec<TrailerCommit>>;
    fn is_ancestor(&mut self, ancestor: Oid, descendant: Oid) -> Result<bool>;
    /// Refuse when `target` is checked out with uncommitted changes (a real run moves it).
    fn clean_checkout(&mut self, target: &str) -> Result<()>;
    fn merge_trees(&mut self, ours: Oid, theirs: Oid) -> Result<TreeMerge>;
    /// How many commits `tip` has beyond `base` (0 when they cannot be counted).
    fn count_between(&mut self, base: Oid, tip: Oid) -> usize;
    fn write_commit(&mut self, commit: &LandingCommit) -> Result<Oid>;
    /// Why the WP's state cannot be acted on (it names a branch or worktree that is not the
    /// WP's own), if it cannot.
    fn untrusted(&mut self, wp: &WpId) -> Option<String>;
    /// Whether the target at `tip` has work of `wp` (a commit with its trailer): what the hooks
    /// count as landed, whatever a lane says.
    fn on_target(&mut self, tip: Oid, wp: &WpId) -> Result<bool>;
}

/// Plan a run: the asked WPs (all approved ones when none is named) in dependency order, each
/// decided on its target's tip as the plan has moved it so far. A WP that does not exist is an
/// error; an error while deciding a WP ends the plan there ([`Plan::stopped`]).
pub fn plan(req: &Request<'_>, lanes: &[Lane], probe: &mut dyn Probe) -> Result<Plan> {
    let feature = req.feature;
    for w in &req.wps {
        if feature.index_of(w).is_none() {
            return Err(Error::usage(format!(
                "no work package {w} in feature {}",
                feature.slug
            )));
        }
    }
    let mut planner = Planner {
        req,
        lanes,
        graph: feature.graph(),
        tips: Vec::new(),
        landing: Vec::new(),
        held_back: Vec::new(),
        checked_checkouts: Vec::new(),
        plan: Plan::default(),
    };
    let (order, _) = planner.graph.order();
    for i in order {
        let id = &feature.wps[i].id;
        if !req.wps.is_empty() && !req.wps.iter().any(|w| w.number() == id.number()) {
            continue;
        }
        if let Err(e) = planner.consider(i, probe) {
            planner.plan.stopped = Some(e);
            break;
        }
    }
    Ok(planner.plan)
}

/// The state of [`plan`] as it walks the WPs.
struct Planner<'r, 'a> {
    req: &'r Request<'a>,
    lanes: &'r [Lane],
    graph: Graph,
    /// Where each target branch is, as the plan moves it.
    tips: Vec<(String, Oid)>,
    /// WPs the plan lands, by index.
    landing: Vec<usize>,
    /// WPs it does not land, with why (what their dependents are told they wait on).
    held_back: Vec<(usize, String)>,
    /// Target checkouts already found clean (a real run moves them).
    checked_checkouts: Vec<String>,
    plan: Plan,
}

impl Planner<'_, '_> {
    /// Decide WP `i`: skip it, or land it (or find its conflict).
    fn consider(&mut self, i: usize, probe: &mut dyn Probe) -> Result<()> {
        let req = self.req;
        let wp = &req.feature.wps[i];
        let lane = self.lanes[i];
        if lane == Lane::Done {
            // Only worth a word when it was asked for by name.
            if !req.wps.is_empty() {
                self.plan.skipped.push(skipped(wp, "already done".into()));
            }
            return Ok(());
        }
        if lane != Lane::Approved {
            // Planned work goes unmentioned unless named: only work under way is news.
            let listed = !req.wps.is_empty()
                || matches!(
                    lane,
                    Lane::ForReview | Lane::InReview | Lane::InProgress | Lane::Claimed
                );
            self.hold_back(i, format!("not approved ({lane})"), listed);
            return Ok(());
        }
        if let Some(why) = probe.untrusted(&wp.id) {
            self.hold_back(i, why, true);
            return Ok(());
        }
        let (target, tip) = probe.target(&wp.id)?;
        let onto = self.tip_of(&target, tip);
        // A dependency done by its lane alone (a WP file, a state) has not landed: the hooks
        // would refuse this WP after it.
        let mut unlanded = Vec::new();
        for &d in self.graph.deps(i) {
            let dep = &req.feature.wps[d].id;
            if self.lanes[d] == Lane::Done
                && !self.landing.contains(&d)
                && !probe.on_target(tip, dep)?
            {
                let why = format!(
                    "done, but no commit on {target} carries its work: if it landed from another clone, `git pull --ff-only` where {target} is checked out brings it; work landed before git kitty needs a commit with `Kitty-Landed: {}/{dep}`",
                    req.feature.slug
                );
                unlanded.push((d, why));
            }
        }
        if let Some(waits) = self.waits(i, &unlanded) {
            self.hold_back(i, format!("waits on unmerged {waits}"), true);
            return Ok(());
        }
        let branch = branch_name(req.feature, &wp.id);
        let Some(branch_tip) = probe.branch_tip(&branch)? else {
            let reason = format!("no branch {branch} (implemented without git kitty?)");
            self.hold_back(i, reason, true);
            return Ok(());
        };
        let carried = probe.commits_between(onto, branch_tip)?;
        if let Some(foreign) = foreign_work(req.feature, &self.graph, i, &carried) {
            self.hold_back(i, foreign, true);
            return Ok(());
        }
        let landing = Landing {
            wp: wp.id.clone(),
            target,
            branch,
            branch_tip,
            onto,
            commit: None,
        };
        if probe.is_ancestor(branch_tip, onto)? {
            // Already on the target (merged by hand): nothing to merge, just record it.
            self.land(i, landing);
            return Ok(());
        }
        self.merge(i, landing, probe)
    }

    /// Merge WP `i`'s branch onto its target's tip: a landing commit, or a conflict.
    fn merge(&mut self, i: usize, mut landing: Landing, probe: &mut dyn Probe) -> Result<()> {
        let req = self.req;
        // The target's checkout moves with it, so it must be clean. A dry run looks too: it
        // reports what the real run would do, refusal included.
        if !self.checked_checkouts.contains(&landing.target) {
            probe.clean_checkout(&landing.target)?;
            self.checked_checkouts.push(landing.target.clone());
        }
        let tree = match probe.merge_trees(landing.onto, landing.branch_tip)? {
            TreeMerge::Clean(tree) => tree,
            TreeMerge::Conflict(paths) => {
                self.held_back.push((i, "conflicts".into()));
                let conflict = Conflict {
                    wp: landing.wp.to_string(),
                    target: landing.target,
                    paths,
                };
                self.plan.steps.push(Step::Conflict {
                    conflict,
                    branch: landing.branch,
                });
                return Ok(());
            }
        };
        let commits = match req.strategy {
            Strategy::Merge => 0,
            Strategy::Squash => probe.count_between(landing.onto, landing.branch_tip),
        };
        let wp = &req.feature.wps[i];
        let commit = probe.write_commit(&landing_commit(req, wp, &landing, tree, commits))?;
        landing.commit = Some(commit);
        if let Some(t) = self.tips.iter_mut().find(|(t, _)| *t == landing.target) {
            t.1 = commit;
        }
        self.land(i, landing);
        Ok(())
    }

    fn land(&mut self, i: usize, landing: Landing) {
        self.landing.push(i);
        self.plan.steps.push(Step::Land(landing));
    }

    /// Skip WP `i` (listed in the plan when `listed`); its dependents wait on it for `reason`.
    fn hold_back(&mut self, i: usize, reason: String, listed: bool) {
        if listed {
            let skip = skipped(&self.req.feature.wps[i], reason.clone());
            self.plan.skipped.push(skip);
        }
        self.held_back.push((i, reason));
    }

    /// The target's tip as the plan has moved it (`tip`, the branch's, when first seen).
    fn tip_of(&mut self, target: &str, tip: Oid) -> Oid {
        match self.tips.iter().find(|(name, _)| name == target) {
            Some((_, moved)) => *moved,
            None => {
                self.tips.push((target.to_owned(), tip));
                tip
            }
        }
    }

    /// The dependencies of WP `i` that are neither done (and landed: `unlanded` are the done
    /// ones that are not, with why) nor landing earlier in this plan, each with why
    /// (`WP01 (not approved (in_progress))`); `None` when there are none.
    fn waits(&self, i: usize, unlanded: &[(usize, String)]) -> Option<String> {
        let waits: Vec<String> = self
            .graph
            .deps(i)
            .iter()
            .filter(|&&d| {
                let done = self.lanes[d] == Lane::Done && !unlanded.iter().any(|(u, _)| *u == d);
                !done && !self.landing.contains(&d)
            })
            .map(|&d| {
                let why = unlanded
                    .iter()
                    .chain(&self.held_back)
                    .find(|(h, _)| *h == d)
                    .map_or_else(|| self.lanes[d].to_string(), |(_, r)| r.clone());
                format!("{} ({why})", self.req.feature.wps[d].id)
            })
            .collect();
        (!waits.is_empty()).then(|| waits.join(", "))
    }
}

fn skipped(wp: &WorkPackage, reason: String) -> Skipped {
    Skipped {
        wp: wp.id.to_string(),
        reason,
    }
}

/// Commits on the WP's branch (beyond the target: `carried`) that name another WP, other than
/// one it depends on: landing them would land that WP's work out of its turn.
fn foreign_work(
    feature: &Feature,
    graph: &Graph,
    start: usize,
    carried: &[TrailerCommit],
) -> Option<String> {
    // The WP itself and everything it depends on, directly or not: a stacked branch carries
    // its dependencies' work (already landed, or landing before it).
    let mut allowed: Vec<u32> = vec![feature.wps[start].id.number()];
    let mut stack = vec![start];
    while let Some(i) = stack.pop() {
        for &d in graph.deps(i) {
            let n = feature.wps[d].id.number();
            if !allowed.contains(&n) {
                allowed.push(n);
                stack.push(d);
            }
        }
    }
    for c in carried {
        for value in &c.wps {
            let other = value
                .split_once('/')
                .filter(|(f, _)| *f == feature.slug.as_str())
                .and_then(|(_, w)| w.parse::<WpId>().ok());
            match other {
                Some(o) if allowed.contains(&o.number()) => {}
                Some(o) => {
                    return Some(format!(
                        "its branch carries {o}'s work (commit {}): land it with {o}, or move it off this branch",
                        &c.id.to_string()[..7]
                    ));
                }
                None => {
                    return Some(format!(
                        "its branch carries a commit of {value} (commit {})",
                        &c.id.to_string()[..7]
                    ));
                }
            }
        }
    }
    None
}

/// The commit that lands `wp`: a merge of its branch, or one squashed commit (of `commits`).
fn landing_commit(
    req: &Request<'_>,
    wp: &WorkPackage,
    landing: &Landing,
    tree: Oid,
    commits: usize,
) -> LandingCommit {
    let (id, title, branch, slug) = (&wp.id, &wp.title, &landing.branch, &req.feature.slug);
    let (parents, message) = match req.strategy {
        Strategy::Merge => (
            vec![landing.onto, landing.branch_tip],
            format!(
                "Merge {id}: {title} ({branch})\n\n{WP_TRAILER}: {slug}/{id}\n{LANDED_TRAILER}: {slug}/{id}\n"
            ),
        ),
        Strategy::Squash => (
            vec![landing.onto],
            format!(
                "{id}: {title}\n\nSquash of {commits} commit{} from {branch}.\n\n{WP_TRAILER}: {slug}/{id}\n{LANDED_TRAILER}: {slug}/{id}\n",
                if commits == 1 { "" } else { "s" },
            ),
        ),
    };
    LandingCommit {
        tree,
        parents,
        message,
    }
}

impl Plan {
    /// What a dry run reports: the plan as it stands, nothing carried out.
    pub fn preview(self, req: &Request<'_>) -> Result<Outcome> {
        if let Some(e) = self.stopped {
            return Err(e);
        }
        let mut outcome = Outcome::empty(req);
        for step in self.steps {
            match step {
                Step::Land(landing) => outcome.merged.push(landing.landed()),
                Step::Conflict { conflict, .. } => outcome.conflicts.push(conflict),
            }
        }
        outcome.skipped = self.skipped;
        Ok(outcome)
    }
}

/// The repository, as [`plan`] asks it.
struct RepoProbe<'r, 'a> {
    ws: &'r Workspace,
    req: &'r Request<'a>,
    states: &'r States,
    /// The WPs with work on a target, by target tip (read once each).
    landed: std::collections::HashMap<Oid, std::collections::HashSet<super::landing::Key>>,
}

impl Probe for RepoProbe<'_, '_> {
    fn target(&mut self, wp: &WpId) -> Result<(String, Oid)> {
        base::target_branch(self.ws, self.req.feature, Some(wp))
    }

    fn branch_tip(&mut self, branch: &str) -> Result<Option<Oid>> {
        self.ws.branch_oid_anywhere(branch)
    }

    fn commits_between(&mut self, target: Oid, tip: Oid) -> Result<Vec<TrailerCommit>> {
        self.ws.repo.trailer_commits(&[tip], &[target])
    }

    fn is_ancestor(&mut self, ancestor: Oid, descendant: Oid) -> Result<bool> {
        self.ws.repo.is_ancestor(ancestor, descendant)
    }

    fn clean_checkout(&mut self, target: &str) -> Result<()> {
        clean_checkout(self.ws, target)
    }

    fn merge_trees(&mut self, ours: Oid, theirs: Oid) -> Result<TreeMerge> {
        self.ws.repo.merge_trees(ours, theirs)
    }

    fn count_between(&mut self, base: Oid, tip: Oid) -> usize {
        self.ws.repo.count_between(base, tip).unwrap_or(0)
    }

    fn on_target(&mut self, tip: Oid, wp: &WpId) -> Result<bool> {
        if !self.landed.contains_key(&tip) {
            let keys = super::landing::landed_on(&self.ws.repo.history(), &[tip])?;
            self.landed.insert(tip, keys);
        }
        let key = super::landing::Key {
            feature: self.req.feature.slug.to_string(),
            number: wp.number(),
        };
        Ok(self.landed.get(&tip).is_some_and(|k| k.contains(&key)))
    }

    fn untrusted(&mut self, wp: &WpId) -> Option<String> {
        let feature = self.req.feature;
        let tip = self.states.get(&(feature.slug.clone(), wp.clone()))?;
        let names = place::foreign(feature, wp, &tip.state)?;
        Some(format!(
            "its state names {names}, not its own: {}",
            place::repair_hint(feature, wp)
        ))
    }

    fn write_commit(&mut self, commit: &LandingCommit) -> Result<Oid> {
        let repo = &self.ws.repo;
        repo.write_commit(NewCommit {
            tree: Some(commit.tree),
            parents: &commit.parents,
            message: &commit.message,
            headers: &[],
            author_name: &self.req.actor,
            author_email: &repo
                .config_string("user.email")
                .unwrap_or_else(|| "kitty@localhost".into()),
            time_secs: (crate::util::time::now_nanos() / 1_000_000_000) as i64,
        })
    }
}

// ---- carrying it out --------------------------------------------------------------------

/// Carry out a plan, WP by WP: move the target, mark the WP done, clean up after it. A
/// conflicting WP is passed over (the plan already holds back what depends on it) and listed
/// in the outcome; after the last step, the error planning stopped on, if any.
pub fn execute(ws: &Workspace, req: &Request<'_>, plan: Plan) -> Result<Outcome> {
    let mut outcome = Outcome::empty(req);
    for step in plan.steps {
        match step {
            Step::Land(landing) => {
                let landed = carry_out(ws, req, &landing, &outcome.merged)?;
                outcome.merged.push(landed);
            }
            Step::Conflict { conflict, .. } => outcome.conflicts.push(conflict),
        }
    }
    if let Some(e) = plan.stopped {
        return Err(e);
    }
    outcome.skipped = plan.skipped;
    Ok(outcome)
}

/// Land one WP: move its target (unless already there), then [`finish`].
fn carry_out(
    ws: &Workspace,
    req: &Request<'_>,
    landing: &Landing,
    earlier: &[Landed],
) -> Result<Landed> {
    let mut landed = landing.landed();
    if let Some(commit) = landing.commit
        && let Err(e) = move_target(ws, &landing.target, landing.onto, commit)
    {
        let earlier: Vec<&str> = earlier.iter().map(|m| m.wp.as_str()).collect();
        return Err(if earlier.is_empty() {
            e
        } else {
            e.cause(format!("landed before this: {}", earlier.join(", ")))
        });
    }
    finish(ws, req, landing, &mut landed)?;
    Ok(landed)
}

/// The target branch's checkout, if any, must be clean: it is fast-forwarded in place.
fn clean_checkout(ws: &Workspace, target: &str) -> Result<()> {
    for w in ws.repo.worktrees()? {
        if w.branch.as_deref() == Some(target) && w.path.exists() {
            let changes = ws.repo.tracked_changes(&w.path)?;
            if !changes.is_empty() {
                let shown: Vec<&str> = changes.iter().take(10).map(String::as_str).collect();
                return Err(Error::refused(format!(
                    "{target} is checked out in {} with uncommitted changes: {}",
                    w.path.display(),
                    shown.join(", ")
                ))
                .hint("commit or stash them, then run this again: landing moves that checkout"));
            }
        }
    }
    Ok(())
}

/// Move `target` from `old` to `new` (a descendant of `old`).
fn move_target(ws: &Workspace, target: &str, old: Oid, new: Oid) -> Result<()> {
    let checkout = ws
        .repo
        .worktrees()?
        .into_iter()
        .find(|w| w.branch.as_deref() == Some(target) && w.path.exists());
    match checkout {
        Some(w) => {
            // Fast-forward where it is checked out, so files and index follow the branch.
            ws.repo.fast_forward(&w.path, new).map_err(|e| {
                Error::failed(format!("could not move {target} in {}", w.path.display()))
                    .cause(e.causes.join("\n"))
            })
        }
        None => match ws.repo.cas_ref(
            &format!("refs/heads/{target}"),
            Some(old),
            new,
            "git kitty merge",
        )? {
            Cas::Done => Ok(()),
            Cas::Raced => Err(Error::refused(format!(
                "{target} moved while git kitty was merging into it"
            ))
            .hint("run `git kitty merge` again")),
        },
    }
}

/// After a WP landed: mark it done, remove its worktree and branch unless kept.
fn finish(ws: &Workspace, req: &Request<'_>, l: &Landing, landed: &mut Landed) -> Result<()> {
    let (feature, wp, branch) = (req.feature, &l.wp, l.branch.as_str());
    let initial = || ws.initial_state(feature, wp);
    let short = &l.lands_at().to_string()[..7];
    store::append(&ws.repo, &feature.slug, wp, &initial, &mut |state| {
        let mut e = store::draft(EventKind::Lane, &req.actor);
        e.from = Some(state.lane);
        e.to = Some(Lane::Done);
        e.note = Some(format!("merged into {} as {short}", l.target));
        Ok(Some(e))
    })?;
    if !req.keep_worktrees {
        remove_worktree(ws, branch, landed)?;
    }
    let worktree_gone = landed.removed_worktree
        || !ws
            .repo
            .worktrees()?
            .iter()
            .any(|w| w.branch.as_deref() == Some(branch));
    if !req.keep_branches
        && worktree_gone
        && ws.repo.delete_branch(branch, l.branch_tip)? == Cas::Done
    {
        landed.deleted_branch = true;
    }
    if landed.removed_worktree || landed.deleted_branch {
        store::append(&ws.repo, &feature.slug, wp, &initial, &mut |_| {
            let mut e = store::draft(EventKind::Release, &req.actor);
            if !landed.deleted_branch {
                e.branch = Some(branch.to_owned());
            }
            Ok(Some(e))
        })?;
    }
    Ok(())
}

/// Remove the worktree of a landed WP's `branch`, unless git kitty runs inside it or it has
/// uncommitted changes (then a note says it was kept).
fn remove_worktree(ws: &Workspace, branch: &str, landed: &mut Landed) -> Result<()> {
    let Some(w) = ws
        .repo
        .worktrees()?
        .into_iter()
        .find(|w| w.branch.as_deref() == Some(branch))
    else {
        return Ok(());
    };
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
    let (here, there) = (canonical(&ws.cwd), canonical(&w.path));
    if ws.repo.main_workdir().map(canonical).as_ref() == Some(&there) {
        // Only WP worktrees are removed (`place`), never the main one.
        landed.notes.push(format!(
            "{branch} is checked out in the main worktree {}: left as it is",
            w.path.display()
        ));
    } else if here.starts_with(&there) {
        landed.notes.push(format!(
            "worktree {} kept: git kitty runs inside it (`git worktree remove` it later)",
            w.path.display()
        ));
    } else if ws.repo.worktree_changes(&w.path)?.is_empty() {
        ws.repo.remove_worktree(&w.path, false)?;
        landed.removed_worktree = true;
    } else {
        landed.notes.push(format!(
            "worktree {} kept: it has uncommitted changes",
            w.path.display()
        ));
    }
    Ok(())
}

impl Outcome {
    /// What the conflicts mean for people, as the error the command reports after printing the
    /// outcome (exit 4); `None` without conflicts. One message, one hint per conflict.
    pub fn conflict_error(&self) -> Option<Error> {
        let first = self.conflicts.first()?;
        let would = if self.dry_run {
            "would conflict"
        } else {
            "conflicts"
        };
        let mut message = format!("{} {would} with {}", first.wp, first.target);
        if self.conflicts.len() > 1 {
            let rest: Vec<&str> = self.conflicts[1..].iter().map(|c| c.wp.as_str()).collect();
            message = format!("{message} (and {})", rest.join(", "));
        }
        let mut err = Error::new(ErrorKind::Conflict, message);
        let landed: Vec<&str> = self.merged.iter().map(|m| m.wp.as_str()).collect();
        if !landed.is_empty() {
            let verb = if self.dry_run { "would land" } else { "landed" };
            err = err.cause(format!("{verb} all the same: {}", landed.join(", ")));
        }
        for c in &self.conflicts {
            let shown: Vec<&str> = c.paths.iter().take(20).map(String::as_str).collect();
            err = err.cause(format!("{}: {}", c.wp, shown.join(", ")));
        }
        for c in &self.conflicts {
            let branch = format!("{}-{}", self.feature, c.wp);
            err = err.hint(format!(
                "{} is unchanged by {}. {branch} needs {}'s latest work: `git kitty lane {} in_progress -f {} --note \"conflicts with {}\"`, then in its worktree `git merge {}`, resolve, commit, and have it reviewed again",
                c.target, c.wp, c.target, c.wp, self.feature, c.target, c.target
            ));
        }
        Some(err)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::model::plan::{FeatureListing, Plan as Specs};

    /// A feature `001-x` of WPs `(id, title, dependencies)`.
    fn feature(spec: &[(&str, &str, &[&str])]) -> Feature {
        let mut listing = FeatureListing::new("001-x");
        let mut files = HashMap::new();
        for (id, title, deps) in spec {
            let path = format!("tasks/{id}-x.md");
            listing.add_file(&path);
            files.insert(
                format!("kitty-specs/001-x/{path}"),
                format!(
                    "---\nwork_package_id: {id}\ntitle: {title}\ndependencies: [{}]\n---\n",
                    deps.join(", ")
                ),
            );
        }
        let mut specs = Specs::load(vec![listing], &|p: &str| Ok(files[p].clone().into_bytes()));
        specs.features.remove(0)
    }

    /// The commit id numbered `n` (`00…0n` in hex).
    fn numbered(n: u32) -> Oid {
        crate::git::parse_oid(&format!("{n:040x}")).unwrap()
    }

    const MAIN: u32 = 1;

    /// An in-memory repository: `main` at `numbered(MAIN)`, a branch `001-x-WPnn` at `numbered(nn * 10)`
    /// for each WP listed, merges clean unless listed, commits written as `numbered(1000 + n)`.
    #[derive(Default)]
    struct Fake {
        branches: HashMap<String, Oid>,
        /// (ancestor, descendant) pairs beyond a commit being its own ancestor.
        ancestors: Vec<(Oid, Oid)>,
        /// Branch tips whose merge conflicts, with the paths.
        conflicts: HashMap<Oid, Vec<String>>,
        /// What each branch tip carries beyond the target.
        carried: HashMap<Oid, Vec<TrailerCommit>>,
        dirty: bool,
        squashed: usize,
        checked: Vec<String>,
        merged: Vec<(Oid, Oid)>,
        written: Vec<LandingCommit>,
        /// Done WPs whose work is not on the target.
        not_on_target: Vec<u32>,
    }

    impl Fake {
        fn with_branches(wps: &[u32]) -> Fake {
            let mut fake = Fake::default();
            for n in wps {
                fake.branches
                    .insert(format!("001-x-WP{n:02}"), numbered(n * 10));
            }
            fake
        }
    }

    impl Probe for Fake {
        fn target(&mut self, _: &WpId) -> Result<(String, Oid)> {
            Ok(("main".into(), numbered(MAIN)))
        }
        fn branch_tip(&mut self, branch: &str) -> Result<Option<Oid>> {
            Ok(self.branches.get(branch).copied())
        }
        fn commits_between(&mut self, _: Oid, tip: Oid) -> Result<Vec<TrailerCommit>> {
            Ok(self.carried.get(&tip).cloned().unwrap_or_default())
        }
        fn is_ancestor(&mut self, ancestor: Oid, descendant: Oid) -> Result<bool> {
            Ok(ancestor == descendant || self.ancestors.contains(&(ancestor, descendant)))
        }
        fn clean_checkout(&mut self, target: &str) -> Result<()> {
            self.checked.push(target.to_owned());
            match self.dirty {
                true => Err(Error::refused(format!("{target} is dirty"))),
                false => Ok(()),
            }
        }
        fn merge_trees(&mut self, ours: Oid, theirs: Oid) -> Result<TreeMerge> {
            self.merged.push((ours, theirs));
            Ok(match self.conflicts.get(&theirs) {
                Some(paths) => TreeMerge::Conflict(paths.clone()),
                None => TreeMerge::Clean(numbered(500)),
            })
        }
        fn count_between(&mut self, _: Oid, _: Oid) -> usize {
            self.squashed
        }
        fn write_commit(&mut self, commit: &LandingCommit) -> Result<Oid> {
            self.written.push(commit.clone());
            Ok(numbered(1000 + self.written.len() as u32))
        }
        fn untrusted(&mut self, _: &WpId) -> Option<String> {
            None
        }
        fn on_target(&mut self, _: Oid, wp: &WpId) -> Result<bool> {
            Ok(!self.not_on_target.contains(&wp.number()))
        }
    }

    fn request<'a>(feature: &'a Feature, wps: &[&str], dry_run: bool) -> Request<'a> {
        Request {
            feature,
            wps: wps.iter().map(|w| w.parse().unwrap()).collect(),
            dry_run,
            strategy: Strategy::Merge,
            keep_worktrees: false,
            keep_branches: false,
            actor: "lander".into(),
        }
    }

    /// `(wp, onto, commit)` of each landing, `(wp, paths)` of each conflict.
    fn landings(plan: &Plan) -> Vec<(String, Oid, Option<Oid>)> {
        plan.steps
            .iter()
            .filter_map(|s| match s {
                Step::Land(l) => Some((l.wp.to_string(), l.onto, l.commit)),
                Step::Conflict { .. } => None,
            })
            .collect()
    }

    fn skips(plan: &Plan) -> Vec<(String, String)> {
        plan.skipped
            .iter()
            .map(|s| (s.wp.clone(), s.reason.clone()))
            .collect()
    }

    fn diamond() -> Feature {
        feature(&[
            ("WP01", "Schema", &[]),
            ("WP02", "Backend", &["WP01"]),
            ("WP03", "Frontend", &["WP01"]),
            ("WP04", "Integration", &["WP02", "WP03"]),
        ])
    }

    #[test]
    fn a_diamond_lands_dependencies_first_each_onto_the_one_before() {
        let f = diamond();
        let mut fake = Fake::with_branches(&[1, 2, 3, 4]);
        let plan = plan(&request(&f, &[], true), &[Lane::Approved; 4], &mut fake).unwrap();
        assert_eq!(
            landings(&plan),
            [
                ("WP01".into(), numbered(MAIN), Some(numbered(1001))),
                ("WP02".into(), numbered(1001), Some(numbered(1002))),
                ("WP03".into(), numbered(1002), Some(numbered(1003))),
                ("WP04".into(), numbered(1003), Some(numbered(1004))),
            ]
        );
        assert!(plan.skipped.is_empty() && plan.stopped.is_none());
        assert_eq!(
            fake.written[0],
            LandingCommit {
                tree: numbered(500),
                parents: vec![numbered(MAIN), numbered(10)],
                message: "Merge WP01: Schema (001-x-WP01)\n\n\
                          Kitty-WP: 001-x/WP01\nKitty-Landed: 001-x/WP01\n"
                    .into(),
            }
        );
        assert_eq!(fake.written[3].parents, [numbered(1003), numbered(40)]);
        // A dry run looks at the target's checkout as the real run does, once.
        assert_eq!(fake.checked, ["main"]);
    }

    #[test]
    fn unapproved_work_holds_back_its_dependents_and_says_why() {
        let f = feature(&[
            ("WP01", "Core", &[]),
            ("WP02", "Api", &["WP01"]),
            ("WP03", "Cli", &["WP01"]),
        ]);
        let lanes = [Lane::InProgress, Lane::Approved, Lane::Planned];
        let mut fake = Fake::with_branches(&[1, 2]);
        let plan = plan(&request(&f, &[], true), &lanes, &mut fake).unwrap();
        assert!(plan.steps.is_empty());
        // WP03 is only planned: not news unless named.
        assert_eq!(
            skips(&plan),
            [
                ("WP01".into(), "not approved (in_progress)".into()),
                (
                    "WP02".into(),
                    "waits on unmerged WP01 (not approved (in_progress))".into()
                ),
            ]
        );
        let preview = plan.preview(&request(&f, &[], true)).unwrap();
        assert!(preview.merged.is_empty() && preview.dry_run);
        assert_eq!(preview.skipped.len(), 2);
    }

    #[test]
    fn a_dependency_done_by_its_lane_alone_is_waited_on() {
        let f = diamond();
        let lanes = [Lane::Done, Lane::Approved, Lane::Approved, Lane::Planned];
        let mut fake = Fake::with_branches(&[2, 3]);
        fake.not_on_target.push(1);
        let plan = plan(&request(&f, &[], true), &lanes, &mut fake).unwrap();
        assert!(landings(&plan).is_empty());
        assert_eq!(
            skips(&plan)[0],
            (
                "WP02".into(),
                "waits on unmerged WP01 (done, but no commit on main carries its work: if it landed from another clone, `git pull --ff-only` where main is checked out brings it; work landed before git kitty needs a commit with `Kitty-Landed: 001-x/WP01`)".into()
            )
        );
    }

    #[test]
    fn named_wps_only_a_done_one_said_so_an_unknown_one_refused() {
        let f = diamond();
        let lanes = [Lane::Done, Lane::Approved, Lane::Approved, Lane::Planned];
        let mut fake = Fake::with_branches(&[2, 3]);
        let plan = plan(&request(&f, &["WP01", "WP3"], true), &lanes, &mut fake).unwrap();
        assert_eq!(skips(&plan), [("WP01".into(), "already done".into())]);
        assert_eq!(
            landings(&plan),
            [("WP03".into(), numbered(MAIN), Some(numbered(1001)))]
        );
        let err = super::plan(&request(&f, &["WP09"], true), &lanes, &mut fake).unwrap_err();
        assert_eq!(err.message, "no work package WP09 in feature 001-x");
    }

    #[test]
    fn a_conflict_is_planned_in_place_and_what_depends_on_it_waits() {
        let f = feature(&[
            ("WP01", "One", &[]),
            ("WP02", "Two", &[]),
            ("WP03", "Three", &["WP02"]),
            ("WP04", "Four", &[]),
        ]);
        let mut fake = Fake::with_branches(&[1, 2, 3, 4]);
        fake.conflicts
            .insert(numbered(20), vec!["shared.txt".into()]);
        let plan = plan(&request(&f, &[], false), &[Lane::Approved; 4], &mut fake).unwrap();
        let kinds: Vec<String> = plan
            .steps
            .iter()
            .map(|s| match s {
                Step::Land(l) => format!("land {}", l.wp),
                Step::Conflict { conflict, branch } => {
                    format!("conflict {} {branch} {:?}", conflict.wp, conflict.paths)
                }
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "land WP01",
                "conflict WP02 001-x-WP02 [\"shared.txt\"]",
                "land WP04"
            ]
        );
        // WP04 goes onto WP01's landing: nothing of WP02.
        assert_eq!(landings(&plan)[1].1, numbered(1001));
        assert_eq!(
            skips(&plan),
            [("WP03".into(), "waits on unmerged WP02 (conflicts)".into())]
        );
        // A real run checks the target's checkout once, before its first merge.
        assert_eq!(fake.checked, ["main"]);
    }

    #[test]
    fn a_branch_already_on_the_target_lands_without_a_new_commit() {
        let f = feature(&[("WP01", "One", &[])]);
        let mut fake = Fake::with_branches(&[1]);
        fake.ancestors.push((numbered(10), numbered(MAIN)));
        fake.dirty = true; // not looked at: nothing moves
        let plan = plan(&request(&f, &[], false), &[Lane::Approved], &mut fake).unwrap();
        assert_eq!(landings(&plan), [("WP01".into(), numbered(MAIN), None)]);
        assert!(fake.written.is_empty() && fake.merged.is_empty() && fake.checked.is_empty());
        let preview = plan.preview(&request(&f, &[], true)).unwrap();
        assert_eq!(preview.merged[0].commit, numbered(MAIN).to_string());
        assert_eq!(preview.merged[0].notes, ["already on main: no new commit"]);
    }

    #[test]
    fn a_dirty_target_checkout_stops_the_plan_after_what_came_before() {
        let f = feature(&[("WP01", "One", &[]), ("WP02", "Two", &[])]);
        let mut fake = Fake::with_branches(&[1, 2]);
        fake.ancestors.push((numbered(10), numbered(MAIN)));
        fake.dirty = true;
        let plan = plan(&request(&f, &[], false), &[Lane::Approved; 2], &mut fake).unwrap();
        assert_eq!(landings(&plan), [("WP01".into(), numbered(MAIN), None)]);
        assert_eq!(plan.stopped.unwrap().message, "main is dirty");
        assert!(fake.merged.is_empty());
    }

    #[test]
    fn another_wps_work_on_the_branch_holds_it_back_a_dependencys_does_not() {
        let f = feature(&[
            ("WP01", "One", &[]),
            ("WP02", "Two", &["WP01"]),
            ("WP03", "Three", &[]),
        ]);
        let carried = |n: u32, wp: &str| TrailerCommit {
            id: numbered(n),
            parents: Vec::new(),
            wps: vec![format!("001-x/{wp}")],
            landed: Vec::new(),
        };
        let mut fake = Fake::with_branches(&[1, 2, 3]);
        fake.carried.insert(numbered(20), vec![carried(21, "WP1")]);
        let mut foreign = carried(0, "WP02");
        foreign.id = crate::git::parse_oid(&format!("abcdef1{:033}", 0)).unwrap();
        fake.carried.insert(numbered(30), vec![foreign]);
        let plan = plan(&request(&f, &[], true), &[Lane::Approved; 3], &mut fake).unwrap();
        let landed: Vec<String> = landings(&plan).into_iter().map(|l| l.0).collect();
        assert_eq!(landed, ["WP01", "WP02"]);
        assert_eq!(
            skips(&plan),
            [(
                "WP03".into(),
                "its branch carries WP02's work (commit abcdef1): land it with WP02, or move it off this branch".into()
            )]
        );
    }

    #[test]
    fn a_squash_is_one_commit_on_the_target_counting_the_branchs() {
        let f = feature(&[("WP01", "First", &[])]);
        let mut fake = Fake::with_branches(&[1]);
        fake.squashed = 1;
        let mut req = request(&f, &[], true);
        req.strategy = Strategy::Squash;
        plan(&req, &[Lane::Approved], &mut fake).unwrap();
        assert_eq!(fake.written[0].parents, [numbered(MAIN)]);
        assert_eq!(
            fake.written[0].message,
            "WP01: First\n\nSquash of 1 commit from 001-x-WP01.\n\n\
             Kitty-WP: 001-x/WP01\nKitty-Landed: 001-x/WP01\n"
        );
    }
}
