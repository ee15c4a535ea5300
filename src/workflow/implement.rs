//! `implement`: claim a WP and give it a branch and a worktree, all or nothing.
//!
//! Order matters for "no claim without a worktree, no worktree without a claim" (I4):
//! 1. everything that can be checked is checked, and the base is computed (objects only);
//! 2. the claim is one compare-and-swap of the WP's ref, recording branch, worktree and base:
//!    of several agents racing, one wins and the others stop here with nothing created;
//! 3. `git worktree add -b` creates branch and worktree; if that fails, the claim is released
//!    by a new event and the branch (if any) deleted.
//!
//! A process killed between 2 and 3 leaves a claim whose worktree is missing: `status` shows
//! it, and the same agent running `implement` again creates the worktree (step "recover").

use std::path::PathBuf;

use serde::Serialize;

use super::base::{self, branch_name, worktree_rel};
use crate::error::{Error, ErrorKind, Result};
use crate::git::{Oid, parse_oid};
use crate::model::ids::WpId;
use crate::model::lane::Lane;
use crate::model::plan::Feature;
use crate::state::schema::{Base, EventKind, WpState};
use crate::state::store::{self, Appended};
use crate::util::faults;
use crate::workspace::{States, Workspace};

pub struct Request<'a> {
    pub feature: &'a Feature,
    pub wp: WpId,
    /// Dependencies named with `--base`: unfinished work to stack on.
    pub bases: Vec<WpId>,
    pub actor: String,
    /// Start although dependencies are not done (recorded as forced).
    pub force: bool,
    pub reason: Option<String>,
    /// Confirm the claim on this remote before making the worktree (`--sync`): the caller
    /// has pulled the feature's state from it first.
    pub remote: Option<String>,
    /// What an orchestrator attaches to the claim (`orchestrator-api start-implementation`).
    pub provenance: super::lane::Provenance,
}

/// What `implement` did, as shown to people and in `--json`.
#[derive(Debug, Serialize)]
pub struct Implemented {
    pub wp: String,
    pub feature: String,
    pub branch: String,
    /// Absolute path of the worktree.
    pub worktree: PathBuf,
    pub base: Base,
    pub lane: Lane,
    pub agent: String,
    /// The WP was already claimed by this agent: nothing new was claimed.
    pub reused: bool,
    /// The worktree was missing (deleted by hand, or an interrupted run) and was made again.
    pub recreated: bool,
    /// The WP's file: the prompt to work from.
    pub prompt: String,
    /// The claim overrode the dependency gate.
    pub forced: bool,
    /// The review feedback waiting for whoever picks the WP up again (see `git kitty log`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feedback: Option<String>,
    /// Things worth knowing that did not stop anything.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Where a WP's work goes: its branch, and its worktree.
struct Place {
    branch: String,
    /// The worktree relative to the main worktree, as the state records it.
    rel: String,
    abs: PathBuf,
}

pub fn implement(ws: &Workspace, states: &States, req: &Request<'_>) -> Result<Implemented> {
    let feature = req.feature;
    let wp = &req.wp;
    let main = ws.repo.main_workdir().ok_or_else(|| {
        Error::usage("the main repository is bare: there is no main worktree to put .worktrees/ in")
    })?;
    let rel = worktree_rel(feature, wp);
    let place = Place {
        branch: branch_name(feature, wp),
        abs: main.join(&rel),
        rel,
    };
    let plan_wp = feature
        .wp(wp)
        .ok_or_else(|| Error::usage(format!("no work package {wp} in feature {}", feature.slug)))?;
    if let Some(remote) = &req.remote {
        crate::sync::check_remote_state(ws, remote, &feature.slug, wp)?;
    }
    let current = store::read(&ws.repo, &feature.slug, wp)?
        .map(|t| t.state)
        .unwrap_or_else(|| ws.initial_state(feature, wp));

    check_lane(wp, &current, &req.actor)?;
    // Already ours: hand back the worktree (making it again if it went missing), once the
    // remote confirmed the claim, if it must.
    if current.agent.as_deref() == Some(req.actor.as_str())
        && current.branch.as_deref() == Some(place.branch.as_str())
    {
        confirm(ws, req, wp, &place.branch, None)?;
        return reuse(ws, req, &current, &place);
    }
    plan_committed(ws, feature, req.force)?;
    let forced_gate = gate(ws, feature, wp, states, req)?;
    let (base, adopt) = start_from(ws, req, &current, &place)?;
    let base_commit = parse_oid(&base.commit)
        .ok_or_else(|| Error::failed(format!("`{}` is not an object id", base.commit)))?;

    // The claim: one compare-and-swap. Whoever loses a race stops here, having created nothing.
    let state = match claim(ws, req, &place, &base, forced_gate)? {
        Appended::Written(tip) => {
            // Across machines the remote decides: no worktree until it took the claim.
            confirm(ws, req, wp, &place.branch, Some(tip.commit))?;
            tip.state
        }
        Appended::Unchanged(state) => {
            confirm(ws, req, wp, &place.branch, None)?;
            return reuse(ws, req, &state, &place);
        }
    };
    faults::hit("implement:after-claim");

    ensure_excluded(ws)?;
    if let Err(err) = make_worktree(ws, &place, adopt, base_commit) {
        let created = (!adopt).then_some(base_commit);
        return Err(roll_back(ws, req, &place, created, err));
    }
    Ok(Implemented {
        wp: wp.to_string(),
        feature: feature.slug.to_string(),
        branch: place.branch,
        worktree: place.abs,
        base,
        lane: state.lane,
        agent: req.actor.clone(),
        reused: false,
        recreated: false,
        prompt: plan_wp.file.clone(),
        forced: forced_gate,
        feedback: state.feedback.clone(),
        warnings: trailer_hook(ws),
    })
}

/// The base the WP's branch starts from, and whether that branch is adopted: a branch git
/// kitty made for an earlier claim (released, or sent back to planned) is taken over with its
/// work and its recorded base; anything else in the way is refused, never overwritten.
fn start_from(
    ws: &Workspace,
    req: &Request<'_>,
    current: &WpState,
    place: &Place,
) -> Result<(Base, bool)> {
    let adopt = current.branch.as_deref() == Some(place.branch.as_str())
        && ws.repo.branch_tip(&place.branch)?.is_some();
    if let (Some(base), true) = (&current.base, adopt) {
        return Ok((base.clone(), adopt));
    }
    if let Err(in_the_way) = preflight(ws, &place.branch, &place.abs) {
        // Another agent may have claimed it (and made the branch) since we read the state:
        // then that is the answer, not the branch.
        if let Some(tip) = store::read(&ws.repo, &req.feature.slug, &req.wp)? {
            check_lane(&req.wp, &tip.state, &req.actor)?;
        }
        return Err(in_the_way);
    }
    let base = base::compute(ws, req.feature, &req.wp, &req.actor)?;
    Ok((base, adopt))
}

/// Claim the WP for `req.actor`: an `implement` event recording lane, agent, branch, worktree
/// and base (`Unchanged` when our own concurrent run got there first).
fn claim(
    ws: &Workspace,
    req: &Request<'_>,
    place: &Place,
    base: &Base,
    forced_gate: bool,
) -> Result<Appended> {
    let (feature, wp) = (req.feature, &req.wp);
    let initial = || ws.initial_state(feature, wp);
    store::append(&ws.repo, &feature.slug, wp, &initial, &mut |state| {
        if state.agent.as_deref() == Some(req.actor.as_str())
            && state.branch.as_deref() == Some(place.branch.as_str())
        {
            return Ok(None); // our own concurrent run got there first
        }
        let mut e = store::draft(EventKind::Implement, &req.actor);
        e.from = Some(state.lane);
        e.to = Some(Lane::InProgress);
        e.agent = Some(req.actor.clone());
        e.branch = Some(place.branch.clone());
        e.worktree = Some(place.rel.clone());
        e.base = Some(base.clone());
        req.provenance.stamp(&mut e);
        if forced_gate {
            e.forced = true;
            e.reason = Some(
                req.reason
                    .clone()
                    .unwrap_or_else(|| "dependency gate overridden with --force".into()),
            );
        }
        Ok(Some(e))
    })
}

/// Make the worktree: with a new branch at `base`, or for the adopted branch (unless it is
/// checked out there already).
fn make_worktree(ws: &Workspace, place: &Place, adopt: bool, base: Oid) -> Result<()> {
    faults::fail("implement:worktree")?;
    if !adopt {
        ws.repo
            .add_worktree_with_branch(&place.abs, &place.branch, base)
    } else if registered(ws, &place.branch, &place.abs)? {
        Ok(())
    } else {
        ws.repo.add_worktree_for_branch(&place.abs, &place.branch)
    }
}

/// With a remote to confirm claims (`--sync`), the claim counts once the remote has it.
/// `written`: the claim this run made (undone if the remote cannot confirm it).
fn confirm(
    ws: &Workspace,
    req: &Request<'_>,
    wp: &WpId,
    branch: &str,
    written: Option<Oid>,
) -> Result<()> {
    let Some(remote) = &req.remote else {
        return Ok(());
    };
    let actor = req.actor.as_str();
    let ours = |s: &WpState| {
        s.agent.as_deref() == Some(actor)
            && s.branch.as_deref() == Some(branch)
            && s.holder().is_none_or(|h| h == actor)
    };
    let confirm = crate::sync::Confirm {
        remote,
        feature: &req.feature.slug,
        wp,
        actor,
        ours: &ours,
        written,
        again: format!("git kitty implement {wp} --sync"),
    };
    crate::sync::confirm(ws, &confirm)
}

/// Only planned work is started; work held by someone else is theirs.
fn check_lane(wp: &WpId, state: &WpState, actor: &str) -> Result<()> {
    if let Some(holder) = state.holder()
        && holder != actor
    {
        return Err(Error::refused(format!("{wp} is claimed by {holder}"))
            .details(serde_json::json!({ "holder": holder, "lane": state.lane }))
            .hint(format!(
                "`git kitty next` finds work that is free; or ask {holder}"
            )));
    }
    match state.lane {
        Lane::Planned | Lane::Claimed | Lane::Blocked => Ok(()),
        Lane::InProgress => Ok(()),
        other => {
            let err = Error::refused(format!("{wp} is {other}: implement starts planned work"));
            // What works in that lane first: reviewing work for review, landing approved work.
            let err = match other {
                Lane::ForReview => err.hint(format!("`git kitty review {wp}` reviews it")),
                Lane::Approved => err.hint(format!("`git kitty merge {wp}` lands it")),
                _ => err,
            };
            Err(err.hint(format!(
                "to reopen it: `git kitty lane {wp} in_progress --force --reason \"...\"`"
            )))
        }
    }
}

/// The dependency gate: every dependency approved or done, or named with `--base` and with a
/// branch to stack on. Returns whether `--force` was needed.
fn gate(
    ws: &Workspace,
    feature: &Feature,
    wp: &WpId,
    states: &States,
    req: &Request<'_>,
) -> Result<bool> {
    let plan_wp = feature.wp(wp).expect("checked by the caller");
    let deps: Vec<&WpId> = plan_wp.dependencies().collect();
    for b in &req.bases {
        if !deps.iter().any(|d| d.number() == b.number()) {
            let list: Vec<&str> = deps.iter().map(|d| d.as_str()).collect();
            return Err(
                Error::usage(format!("--base {b}: {b} is not a dependency of {wp}")).hint(
                    if list.is_empty() {
                        format!("{wp} has no dependencies: it starts from the target branch")
                    } else {
                        format!("{wp} depends on {}", list.join(", "))
                    },
                ),
            );
        }
    }
    let lanes = ws.lanes(feature, states);
    // Per unmet dependency: its id, lane, whether it has a branch, and who holds it.
    let mut unmet: Vec<(String, Lane, bool, Option<String>)> = Vec::new();
    for dep in deps {
        let lane = feature
            .index_of(dep)
            .map_or(Lane::Planned, |i| lanes[i].lane);
        let has_branch = ws
            .branch_oid_anywhere(&branch_name(feature, dep))?
            .is_some();
        let stacked = req.bases.iter().any(|b| b.number() == dep.number());
        if stacked && !has_branch {
            return Err(Error::refused(format!(
                "--base {dep}: {dep} has no branch to stack on yet"
            ))
            .hint(format!("start it first: `git kitty implement {dep}`")));
        }
        if !lane.satisfies_dependency() && !stacked {
            let holder = match states.get(&(feature.slug.clone(), dep.clone())) {
                Some(tip) => tip.state.holder().map(str::to_owned),
                None => ws.initial_state(feature, dep).holder().map(str::to_owned),
            };
            unmet.push((dep.to_string(), lane, has_branch, holder));
        }
    }
    if unmet.is_empty() {
        return Ok(false);
    }
    if req.force {
        return Ok(true);
    }
    let listed: Vec<String> = unmet
        .iter()
        .map(|(d, l, ..)| format!("{d} ({l})"))
        .collect();
    let mut err = Error::refused(format!(
        "{wp} depends on work that is not approved or done: {}",
        listed.join(", ")
    ))
    .details(serde_json::json!({
        "unmet": unmet.iter().map(|(d, l, b, _)| serde_json::json!({"wp": d, "lane": l, "has_branch": b})).collect::<Vec<_>>()
    }));
    if unmet.iter().all(|(_, _, b, _)| *b) {
        let flags: Vec<String> = unmet.iter().map(|(d, ..)| format!("--base {d}")).collect();
        err = err.hint(format!(
            "stack on their unfinished work: `git kitty implement {wp} {}`",
            flags.join(" ")
        ));
    }
    for (d, _, has_branch, holder) in &unmet {
        if *has_branch {
            continue;
        }
        // Held by someone else, it is theirs to start: the command names them, as the board's
        // does (run by anyone else, it is refused).
        err = err.hint(match holder {
            Some(h) if *h != req.actor => format!(
                "{d} is held by {h} and not started; acting for {h}: `git kitty implement {d} --agent {}`",
                crate::util::shell::quote(h)
            ),
            _ => format!("{d} has not been started: `git kitty implement {d}`"),
        });
    }
    Err(err.hint(format!(
        "or start anyway: `git kitty implement {wp} --force --reason \"...\"`"
    )))
}

/// Refuse to take over a branch or a path that is not ours: never overwrite.
fn preflight(ws: &Workspace, branch: &str, abs: &std::path::Path) -> Result<()> {
    if ws.repo.branch_tip(branch)?.is_some() {
        return Err(Error::refused(format!(
            "a branch `{branch}` already exists, and git kitty did not make it for this claim"
        ))
        .hint(format!(
            "keep it under another name: `git branch -m {branch} {branch}-old`"
        )));
    }
    if std::fs::symlink_metadata(abs).is_ok() {
        return Err(Error::refused(format!("{} already exists", abs.display()))
            .hint("move it away; git kitty never writes into a directory it did not make"));
    }
    Ok(())
}

/// The WP is already claimed by this agent with its branch: return its worktree, making it
/// again if it is missing.
fn reuse(ws: &Workspace, req: &Request<'_>, state: &WpState, place: &Place) -> Result<Implemented> {
    let (feature, wp) = (req.feature, &req.wp);
    let (branch, abs) = (place.branch.as_str(), place.abs.as_path());
    let base = state
        .base
        .clone()
        .ok_or_else(|| Error::failed(format!("{wp}'s state has a branch but no base")))?;
    let mut recreated = false;
    if !registered(ws, branch, abs)? {
        clear_half_made(ws, abs)?;
        // `git worktree add` makes the directory before git knows of it: killed in between,
        // it leaves it empty (or with a `.git` file pointing nowhere).
        if !ws.repo.remove_orphaned_worktree_dir(abs) {
            return Err(Error::refused(format!(
                "{} exists but is not {wp}'s worktree",
                abs.display()
            ))
            .hint("move it away, then run this again"));
        }
        ensure_excluded(ws)?;
        match ws.repo.branch_tip(branch)? {
            Some(_) => ws.repo.add_worktree_for_branch(abs, branch)?,
            None => {
                // The remote's copy, when another machine pushed the work; else the base.
                let start = match ws.branch_tip_anywhere(branch)? {
                    Some((tip, _)) => tip,
                    None => parse_oid(&base.commit).ok_or_else(|| {
                        Error::failed(format!("`{}` is not an object id", base.commit))
                    })?,
                };
                ws.repo.add_worktree_with_branch(abs, branch, start)?
            }
        }
        recreated = true;
    }
    Ok(Implemented {
        wp: wp.to_string(),
        feature: feature.slug.to_string(),
        branch: branch.to_owned(),
        worktree: abs.to_path_buf(),
        base,
        lane: state.lane,
        agent: req.actor.clone(),
        reused: true,
        recreated,
        prompt: feature.wp(wp).map(|w| w.file.clone()).unwrap_or_default(),
        forced: false,
        feedback: state.feedback.clone(),
        warnings: trailer_hook(ws),
    })
}

/// Undo a claim whose worktree could not be made, and say what happened.
fn roll_back(
    ws: &Workspace,
    req: &Request<'_>,
    place: &Place,
    created_at: Option<Oid>,
    cause: Error,
) -> Error {
    let (feature, wp, actor) = (req.feature, &req.wp, req.actor.as_str());
    let (branch, abs) = (place.branch.as_str(), &place.abs);
    // `git worktree add` can fail after making the worktree (a failing post-checkout hook, an
    // interrupted checkout): remove whatever it left, then the branch if this run made it
    // and nothing was committed on it.
    if created_at.is_some()
        && ws
            .repo
            .worktrees()
            .is_ok_and(|list| list.iter().any(|w| same_path(&w.path, abs)))
    {
        let _ = ws.repo.remove_worktree(abs, true);
    }
    if let (Some(base), Ok(Some(tip))) = (created_at, ws.repo.branch_tip(branch))
        && tip == base
    {
        let _ = ws.repo.delete_branch(branch, tip);
    }
    let initial = || ws.initial_state(feature, wp);
    let released = store::append(&ws.repo, &feature.slug, wp, &initial, &mut |state| {
        if state.agent.as_deref() != Some(actor) {
            return Ok(None);
        }
        let mut e = store::draft(EventKind::Release, actor);
        e.to = Some(Lane::Planned);
        e.note = Some(format!(
            "implement failed, claim released: {}",
            cause.message
        ));
        if created_at.is_none() {
            e.branch = Some(branch.to_owned()); // adopted, not created: it stays
        }
        Ok(Some(e))
    });
    let mut err = Error::new(
        ErrorKind::Failed,
        format!("could not create {wp}'s worktree; the claim was released"),
    );
    for c in std::iter::once(cause.message.clone()).chain(cause.causes.iter().cloned()) {
        err = err.cause(c);
    }
    if let Err(e) = released {
        err = err.hint(format!(
            "releasing the claim failed too ({}): `git kitty lane {wp} planned` releases it",
            e.message
        ));
    }
    err.hint(format!(
        "fix the cause, then `git kitty implement {wp}` again"
    ))
}

/// `.worktrees/` is listed in `.git/info/exclude`, so the main worktree's `git status` stays
/// clean. Added once (several agents may run this at once: the file is edited under a lock).
pub(crate) fn ensure_excluded(ws: &Workspace) -> Result<()> {
    ws.repo.exclude_add(
        &["/.worktrees/".to_owned()],
        "git kitty: one worktree per work package",
    )
}

/// Make sure commits in WP worktrees get their `Kitty-WP:` trailer: install the
/// `prepare-commit-msg` block (next to any hook the user has). Never fatal.
pub(crate) fn trailer_hook(ws: &Workspace) -> Vec<String> {
    let dir = ws.repo.main_workdir().unwrap_or(&ws.plan_root);
    let result = crate::hooks::hooks_dir(dir)
        .and_then(|hooks| crate::hooks::install(&hooks, crate::hooks::TRAILER_HOOKS, false));
    match result {
        Ok(_) => Vec::new(),
        Err(e) => vec![format!(
            "commits in this worktree will not get a Kitty-WP trailer: {}",
            e.message
        )],
    }
}

/// Whether `abs` is a complete, live worktree with `branch` checked out.
fn registered(ws: &Workspace, branch: &str, abs: &std::path::Path) -> Result<bool> {
    Ok(ws
        .repo
        .worktrees()?
        .iter()
        .any(|w| w.is_usable() && w.branch.as_deref() == Some(branch) && same_path(&w.path, abs)))
}

/// Remove what an interrupted `git worktree add` left at `abs` (a worktree git still has
/// locked as "initializing", or registered but gone), so it can be made again.
fn clear_half_made(ws: &Workspace, abs: &std::path::Path) -> Result<()> {
    let stale = ws
        .repo
        .worktrees()?
        .into_iter()
        .any(|w| same_path(&w.path, abs) && !w.is_usable());
    if stale {
        ws.repo.remove_half_made_worktree(abs)?;
    }
    Ok(())
}

/// The WP's feature must be committed in the main worktree: the new worktree is checked out
/// from commits, so an uncommitted plan (a new WP file, edited dependencies) would not be in
/// it. `--force` goes ahead anyway.
fn plan_committed(ws: &Workspace, feature: &Feature, force: bool) -> Result<()> {
    let Some(main) = ws.repo.main_workdir() else {
        return Ok(());
    };
    if force {
        return Ok(());
    }
    let changes = ws.repo.changes_under(main, &feature.dir)?;
    if changes.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = changes.iter().take(10).map(String::as_str).collect();
    Err(Error::refused(format!(
        "the plan of {} has uncommitted changes in the main worktree: {}",
        feature.slug,
        shown.join(", ")
    ))
    .hint(format!(
        "commit them first (`git add {0} && git commit`), so the WP's worktree has them; or `--force`",
        feature.dir
    )))
}

fn same_path(a: &std::path::Path, b: &std::path::Path) -> bool {
    let canon = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(a) == canon(b)
}
