//! What each hook does when git runs it (through the shim's `git-kitty hook <name>`). The
//! client's hooks are here; the server's `pre-receive` is `receive`.

mod lost;
mod receive;

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::git::history::WP_TRAILER;
use crate::git::hook_env;
use crate::git::{Oid, parse_oid};
use crate::model::lane::Lane;
use crate::model::plan::is_wp_file_name;
use crate::model::problem::Severity;
use crate::state::store;
use crate::ui::Ui;
use crate::workflow::landing::{self, Report, Rules};
use crate::workspace::Workspace;

/// Run hook `name` with git's arguments. Ok(0) lets git go on.
pub fn run(name: &str, args: &[String], ui: &mut Ui, cwd: &Path) -> Result<u8> {
    match name {
        "prepare-commit-msg" => prepare_commit_msg(args, cwd),
        "commit-msg" => commit_msg(args, cwd),
        "pre-commit" => pre_commit(cwd, ui),
        "pre-merge-commit" => pre_merge_commit(cwd, ui),
        "pre-push" => pre_push(cwd, ui),
        "reference-transaction" => reference_transaction(args, cwd, ui),
        "pre-receive" => receive::pre_receive(ui),
        other => Err(Error::usage(format!("git kitty has no `{other}` hook")).hint(
            "hooks: prepare-commit-msg, commit-msg, pre-commit, pre-merge-commit, pre-push, reference-transaction, pre-receive",
        )),
    }
}

const CLIENT_BYPASS: &str = "this is a client-side check: `--no-verify` skips it (a server with git kitty's pre-receive hook still refuses the push)";
const LOCAL_BYPASS: &str = "this is a client-side check: `--no-verify` skips it";

/// Whether a commit message has anything besides comments and blank lines.
fn has_content(text: &str) -> bool {
    text.lines()
        .any(|l| !l.trim().is_empty() && !l.starts_with('#'))
}

/// Add `Kitty-WP: <feature>/<WP>` to commits made in a WP's worktree, when the message has
/// content (an interactive commit gets it in `commit-msg`, after editing, so an empty
/// message still aborts). A squash commit being made from `git merge --squash` gets the
/// trailers of the commits it squashes, so it keeps their identity.
fn prepare_commit_msg(args: &[String], cwd: &Path) -> Result<u8> {
    let Some(file) = args.first() else {
        return Err(Error::usage("prepare-commit-msg needs the message file"));
    };
    let text = std::fs::read_to_string(cwd.join(file)).unwrap_or_default();
    let mut trailers = Vec::new();
    if args.get(1).map(String::as_str) == Some("squash") {
        // SQUASH_MSG quotes each squashed commit's message, indented.
        for line in text.lines() {
            if let Some(v) = line.trim_start().strip_prefix(&format!("{WP_TRAILER}:")) {
                let v = v.trim().to_owned();
                if !v.is_empty() && !trailers.contains(&v) {
                    trailers.push(v);
                }
            }
        }
    }
    if has_content(&text)
        && let Some(own) = own_wp(cwd)?
        && !trailers.contains(&own)
    {
        trailers.push(own);
    }
    hook_env::add_wp_trailers(file, &trailers)?;
    Ok(0)
}

/// After the message was edited: add the WP's trailer if it is still missing.
fn commit_msg(args: &[String], cwd: &Path) -> Result<u8> {
    let Some(file) = args.first() else {
        return Err(Error::usage("commit-msg needs the message file"));
    };
    let text = std::fs::read_to_string(cwd.join(file)).unwrap_or_default();
    if has_content(&text)
        && let Some(own) = own_wp(cwd)?
    {
        hook_env::add_wp_trailers(file, &[own])?;
    }
    Ok(0)
}

/// `<feature>/<WP>` when running in a WP's worktree.
fn own_wp(cwd: &Path) -> Result<Option<String>> {
    let ws = Workspace::open(cwd, None)?;
    Ok(ws.implied_wp().map(|(f, wp)| format!("{}/{wp}", f.slug)))
}

/// In a WP's worktree, commits belong to work in progress held by this agent; anywhere,
/// staged WP files must pass `git kitty check`'s file checks; on a target branch, finishing
/// a merge or a squash is held to the landing order.
fn pre_commit(cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let ws = Workspace::open(cwd, None)?;
    if let Some((feature, wp)) = ws.implied_wp() {
        lost::refuse_commit(&ws, feature, &wp)?;
        let state = store::read(&ws.repo, &feature.slug, &wp)?
            .map(|t| t.state)
            .unwrap_or_else(|| ws.initial_state(feature, &wp));
        if !matches!(state.lane, Lane::Claimed | Lane::InProgress) {
            return Err(Error::refused(format!(
                "{wp} is {}: commits here belong to work in progress",
                state.lane
            ))
            .hint(format!(
                "to change it again: `git kitty lane {wp} in_progress --note \"why\"`{}",
                if state.lane == Lane::Planned {
                    " (or `git kitty implement`)"
                } else {
                    ""
                }
            ))
            .hint(LOCAL_BYPASS));
        }
        let actor = ws.actor(None)?;
        if let Some(holder) = state.holder()
            && holder != actor
        {
            let agent = crate::util::shell::quote(holder);
            let wp_arg = ws.wp_arg(feature, &wp);
            return Err(Error::refused(format!("{wp} is claimed by {holder}, not by {actor}"))
                .hint(format!("if you are {holder}: `KITTY_AGENT={agent} git commit ...`, or unset KITTY_AGENT here (inside the WP's worktree the agent is the WP's)"))
                .hint(format!("to take it over: `git kitty lane {wp_arg} in_progress --agent {} --force --reason \"why\"`", crate::util::shell::quote(&actor)))
                .hint(LOCAL_BYPASS));
        }
    }
    check_staged_plan(ui)?;
    check_pending_merge(&ws, cwd, ui)
}

/// Staged WP files, as they will be committed (the index git gave the hook).
fn check_staged_plan(ui: &mut Ui) -> Result<()> {
    let paths: Vec<String> = hook_env::staged_paths_under("kitty-specs")?
        .into_iter()
        .filter(|p| {
            let parts: Vec<&str> = p.split('/').collect();
            parts.len() == 4
                && parts[0] == "kitty-specs"
                && parts[2] == "tasks"
                && is_wp_file_name(parts[3])
        })
        .collect();
    let contents = hook_env::history().read_files(None, &paths)?;
    let mut errors = Vec::new();
    for (path, bytes) in paths.iter().zip(contents) {
        let Some(bytes) = bytes else { continue };
        let (_, problems) = crate::model::wp::parse(path, &bytes);
        errors.extend(
            problems
                .into_iter()
                .filter(|p| p.severity == Severity::Error),
        );
    }
    if errors.is_empty() {
        return Ok(());
    }
    let p = ui.err_paint;
    let mut err = Error::refused(format!(
        "staged work package files have {} problem{}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    ));
    for problem in &errors {
        err = err.cause(crate::render::board::problem_line(problem, p));
    }
    Err(err
        .hint("fix them and `git add` again (`git kitty check` shows the plan's problems)")
        .hint(LOCAL_BYPASS))
}

/// A merge finished with `git commit` (after a conflict or `--no-commit`) runs `pre-commit`,
/// not `pre-merge-commit`; so does the commit after `git merge --squash`. Check those here.
fn check_pending_merge(ws: &Workspace, cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let Some(branch) = ws.repo.current_branch() else {
        return Ok(0);
    };
    if !targets(ws).contains(&branch) {
        return Ok(0);
    }
    let mut incoming = hook_env::ids_in_git_dir_file(cwd, "MERGE_HEAD")?;
    // SQUASH_MSG names each squashed commit on a `commit <id>` line.
    let squash = hook_env::git_dir_file(cwd, "SQUASH_MSG")?;
    for line in squash.lines() {
        if let Some(id) = line
            .strip_prefix("commit ")
            .and_then(|h| parse_oid(h.trim()))
            && !incoming.contains(&id)
        {
            incoming.push(id);
        }
    }
    if incoming.is_empty() {
        return Ok(0);
    }
    let history = hook_env::history();
    let Some(head) = history.resolve("HEAD")? else {
        return Ok(0);
    };
    let rules = clone_rules(ws);
    let mut report = landing::check_merge(&history, &rules, head, &incoming)?;
    client_review(ws, &history, &mut report, &rules)?;
    let undo = if squash.is_empty() {
        "nothing is committed: `git merge --abort` takes the merge back out"
    } else {
        "nothing is committed: `git reset --merge` takes the squashed changes back out"
    };
    verdict(&report, &branch, ui, &[undo.into(), CLIENT_BYPASS.into()])
}

/// The rules in a clone: its plan's dependencies count (the server holds a push to the plan
/// it had before, and to `kitty.requireTrailer`).
fn clone_rules(ws: &Workspace) -> Rules<'_> {
    Rules {
        plan: &ws.plan,
        after: None,
        require_trailer: false,
    }
}

/// `git merge` into a target branch: refuse when it brings a WP before its dependencies.
fn pre_merge_commit(cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let ws = Workspace::open(cwd, None)?;
    let Some(branch) = ws.repo.current_branch() else {
        return Ok(0);
    };
    if !targets(&ws).contains(&branch) {
        return Ok(0);
    }
    let history = hook_env::history();
    let Some(head) = history.resolve("HEAD")? else {
        return Ok(0);
    };
    // What is being merged: git does not write MERGE_HEAD before this hook, but it names each
    // merged commit in a `GITHEAD_<id>` variable (for conflict labels).
    let mut incoming: Vec<Oid> = std::env::vars()
        .filter_map(|(k, _)| k.strip_prefix("GITHEAD_").and_then(parse_oid))
        .collect();
    for id in hook_env::ids_in_git_dir_file(cwd, "MERGE_HEAD")? {
        if !incoming.contains(&id) {
            incoming.push(id);
        }
    }
    if incoming.is_empty() {
        return Ok(0);
    }
    let rules = clone_rules(&ws);
    let mut report = landing::check_merge(&history, &rules, head, &incoming)?;
    client_review(&ws, &history, &mut report, &rules)?;
    let undo = "the merge stopped before its commit: `git merge --abort` takes it back out";
    verdict(&report, &branch, ui, &[undo.into(), CLIENT_BYPASS.into()])
}

/// `git push` of a target branch: the same order check, before anything leaves.
fn pre_push(cwd: &Path, ui: &mut Ui) -> Result<u8> {
    let ws = Workspace::open(cwd, None)?;
    let targets = targets(&ws);
    let history = hook_env::history();
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::failed("cannot read the pre-push input").cause(e))?;
    for line in input.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [_, local, remote_ref, remote] = fields[..] else {
            continue;
        };
        let Some(branch) = remote_ref.strip_prefix("refs/heads/") else {
            continue;
        };
        let (Some(new), old) = (oid(local), oid(remote)) else {
            continue; // a deletion
        };
        if !targets.contains(branch) {
            continue;
        }
        // As the server will judge it: by the plan the remote's branch has (when that commit
        // is here; else the plan pushed), and no plan change landing with its work.
        let old = old.filter(|o| history.has(*o));
        let after = crate::workspace::plan_files::plan_at(&history, new)?;
        let before = match old {
            Some(o) => Some(crate::workspace::plan_files::plan_at(&history, o)?),
            None => None,
        };
        let rules = Rules::for_update(before.as_ref(), &after, false);
        let mut report = landing::check_update(&history, &rules, old, new)?;
        client_review(&ws, &history, &mut report, &rules)?;
        let undo = match old {
            Some(o) => {
                let short = |id: Oid| id.to_string()[..7].to_owned();
                let way = match before_first_refused(&history, o, new, &report)? {
                    Some((before, step)) => format!(
                        "`git reset --keep {}` on {branch} ({branch} before {}, the first commit refused)",
                        short(before),
                        short(step)
                    ),
                    None => format!(
                        "`git reset --keep {}` on {branch} (the remote's {branch})",
                        short(o)
                    ),
                };
                format!("nothing was pushed; to take the work back off {branch} here: {way}")
            }
            None => "nothing was pushed".to_owned(),
        };
        verdict(&report, branch, ui, &[undo, CLIENT_BYPASS.into()])?;
    }
    Ok(0)
}

/// Where a target branch was just before the first step (along its first-parent chain from
/// `old` to `new`) that `report` refuses, and that step: the way back that keeps every commit
/// before it (the remote's tip would drop this clone's own unpushed commits too). `None` when
/// nothing refused is on that chain.
fn before_first_refused(
    history: &crate::git::history::History,
    old: Oid,
    new: Oid,
    report: &Report,
) -> Result<Option<(Oid, Oid)>> {
    let refused: Vec<Oid> = report
        .violations
        .iter()
        .filter_map(|v| parse_oid(&v.commit))
        .collect();
    let commits = history.commits(&[new], &[old])?;
    let first_parent = |id: Oid| {
        commits
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.parents.first().copied())
    };
    // Newest first: the last refused step met is the first one made.
    let (mut step, mut found) = (Some(new), None);
    while let Some(id) = step
        && id != old
    {
        let parent = first_parent(id);
        if refused.contains(&id) {
            found = parent.map(|p| (p, id));
        }
        step = parent;
    }
    Ok(found)
}

/// `reference-transaction`, in the `prepared` state: a target branch may move only to where
/// landing order and review allow. This is the one hook a fast-forward (`git merge --ff-only`,
/// `git pull`, `git reset`, `git update-ref`) runs, so it is what holds a fast-forward of
/// unreviewed work. Refusing here aborts the whole transaction: the branch does not move.
/// State refs and other branches are not looked at (the shell block already skips
/// transactions with no branch in them); a branch update that brings no commit naming a WP
/// costs one `git log` of what it brings.
fn reference_transaction(args: &[String], cwd: &Path, ui: &mut Ui) -> Result<u8> {
    if args.first().map(String::as_str) != Some("prepared") {
        return Ok(0);
    }
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| Error::failed("cannot read the reference-transaction input").cause(e))?;
    let updates: Vec<(Option<Oid>, Oid, &str)> = input
        .lines()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [old, new, name] => Some((oid(old), oid(new)?, name.strip_prefix("refs/heads/")?)),
                _ => None,
            },
        )
        .collect();
    // A WP's own branch (`<feature>-WPnn`, what every commit in a WP worktree moves) is never
    // a target: decided from its name, without reading the plan.
    let updates: Vec<_> = updates
        .into_iter()
        .filter(|(_, _, branch)| !is_wp_branch(branch))
        .collect();
    if updates.is_empty() {
        return Ok(0);
    }
    let ws = Workspace::open(cwd, None)?;
    let targets = targets(&ws);
    let history = hook_env::history();
    for (old, new, branch) in updates {
        if !targets.contains(branch) {
            continue;
        }
        let brought = history.commits(&[new], old.as_slice())?;
        if brought
            .iter()
            .all(|c| c.wps.is_empty() && c.landed.is_empty())
        {
            continue;
        }
        let rules = clone_rules(&ws);
        let mut report = landing::check_update(&history, &rules, old, new)?;
        client_review(&ws, &history, &mut report, &rules)?;
        // A refused fast-forward has already checked the files out: they go back with
        // `git reset --merge` (which keeps unrelated changes); a merge commit refused here
        // (`--no-verify` skipped pre-merge-commit) leaves a merge in progress.
        let undo = if hook_env::ids_in_git_dir_file(cwd, "MERGE_HEAD")?.is_empty() {
            format!(
                "{branch} did not move; if a `git merge` or `git pull` changed the files, `git reset --merge` puts them back as {branch} has them"
            )
        } else {
            format!("{branch} did not move: `git merge --abort` takes the merge back out")
        };
        verdict(&report, branch, ui, &[undo, REF_BYPASS.into()])?;
    }
    Ok(0)
}

/// Whether `branch` is named as a WP's branch is: `<feature>-<WP>`.
fn is_wp_branch(branch: &str) -> bool {
    branch.rsplit_once('-').is_some_and(|(feature, wp)| {
        wp.parse::<crate::model::ids::WpId>().is_ok()
            && feature.parse::<crate::model::ids::FeatureSlug>().is_ok()
    })
}

const REF_BYPASS: &str = "this is a client-side check: `git -c core.hooksPath=/dev/null ...` skips it, `git config kitty.landing.requireReview false` turns the review rule off (a server with git kitty's pre-receive hook still refuses the push)";

/// The review rule in a clone (`kitty.landing.requireReview`, on by default): each WP the
/// update lands must be approved or done by this clone's state (else its plan). Work that is
/// already on a remote's copy of a target branch was accepted there: it is not judged again
/// (a `git pull` brings work this clone's state may not know about yet).
fn client_review(
    ws: &Workspace,
    history: &crate::git::history::History,
    report: &mut Report,
    rules: &Rules<'_>,
) -> Result<()> {
    if report.lands.is_empty() || ws.repo.config_bool("kitty.landing.requireReview") == Some(false)
    {
        return Ok(());
    }
    let mut upstream: Option<std::collections::HashSet<landing::Key>> = None;
    let mut lane_of = |key: &landing::Key| -> Result<Option<Lane>> {
        let lane = local_lane(ws, rules, key)?;
        if landing::reviewed(lane) {
            return Ok(Some(lane));
        }
        let upstream = match &mut upstream {
            Some(u) => u,
            None => upstream.insert(upstream_landed(ws, history)?),
        };
        Ok((!upstream.contains(key)).then_some(lane))
    };
    landing::require_review(report, rules, &mut lane_of)
}

/// A WP's lane in this clone: its state ref's, else its plan's.
fn local_lane(ws: &Workspace, rules: &Rules<'_>, key: &landing::Key) -> Result<Lane> {
    let found = ws.plan.feature(&key.feature).and_then(|f| {
        let w = f.wps.iter().find(|w| w.id.number() == key.number)?;
        Some((f, &w.id))
    });
    let Some((feature, wp)) = found else {
        return Ok(landing::plan_lane(rules.plan, key));
    };
    Ok(match store::read(&ws.repo, &feature.slug, wp)? {
        Some(tip) => tip.state.lane,
        None => ws.initial_state(feature, wp).lane,
    })
}

/// The WPs with work on a remote-tracking copy of a target branch (`refs/remotes/*/<target>`).
fn upstream_landed(
    ws: &Workspace,
    history: &crate::git::history::History,
) -> Result<std::collections::HashSet<landing::Key>> {
    let targets = targets(ws);
    let tips: Vec<Oid> = ws
        .repo
        .refs_under("refs/remotes/")?
        .into_iter()
        .filter(|(name, _)| {
            name.strip_prefix("refs/remotes/")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(_, branch)| targets.contains(branch))
        })
        .filter_map(|(_, id)| id)
        .collect();
    landing::landed_on(history, &tips)
}

/// The target branches of a clone: every branch `git kitty merge` may land on
/// (`workflow::base::target_branch`'s choices), whichever applies.
fn targets(ws: &Workspace) -> std::collections::BTreeSet<String> {
    landing::target_branches(
        &ws.plan,
        [
            ws.repo.config_string("kitty.targetBranch"),
            crate::workflow::base::remote_default(ws),
            ws.repo.main_branch(),
        ],
    )
}

/// Print warnings; turn violations into the refusal: what is wrong, the way that works, then
/// `after` (how to get out of what git was doing, whether the check can be skipped).
fn verdict(report: &Report, target: &str, ui: &mut Ui, after: &[String]) -> Result<u8> {
    for w in &report.warnings {
        ui.warn(w);
    }
    let Some(first) = report.violations.first() else {
        return Ok(0);
    };
    let (message, order) = landing::describe(first, target);
    let mut err = Error::refused(message).hint(order);
    for other in &report.violations[1..] {
        err = err.cause(landing::describe(other, target).0);
    }
    for h in after {
        err = err.hint(h);
    }
    Err(err.details(serde_json::json!({ "violations": report.violations })))
}

fn oid(hex: &str) -> Option<Oid> {
    parse_oid(hex).filter(|id| !id.is_null())
}
